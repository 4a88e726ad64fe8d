"""The parameter panel: sliders and spinboxes agree, edits are undoable, validation is inline, presets,
seed lock and dice; settings and project files persist and restore the session."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QDockWidget

from ui.parameter_specs import SPECS, default_params


def test_every_setting_has_an_editor_with_a_tooltip(window):
    panel = window.parameter_panel
    for spec in SPECS:
        editor = panel.editors[spec.name]
        assert editor.toolTip() == spec.tooltip and len(spec.tooltip) > 20


def test_slider_moves_spinbox_and_undo_redo(window):
    panel = window.parameter_panel
    slider, spin = panel.sliders["steps"], panel.editors["steps"]
    slider.setValue(500)  # halfway through 1..200
    assert spin.value() == panel.params["steps"] == 100
    spin.setValue(40)
    assert slider.value() == panel._to_slider(next(s for s in SPECS if s.name == "steps"), 40)
    assert window.undo_stack.canUndo()
    window.undo_stack.undo()
    assert panel.params["steps"] in (100, 25)  # the two quick edits may merge into one step
    while window.undo_stack.canUndo():
        window.undo_stack.undo()
    assert panel.params["steps"] == 25 and spin.value() == 25
    window.undo_stack.redo()
    assert panel.params["steps"] != 25


def test_inline_validation(window):
    panel = window.parameter_panel
    panel.set_value("min_guidance", 5.0)
    panel.set_value("max_guidance", 2.0)
    assert "min_guidance" in panel.problems()
    assert not panel.errors["min_guidance"].isHidden()
    assert "need attention" in panel.validation_label.text()
    panel.set_value("max_guidance", 6.0)
    assert "min_guidance" not in panel.problems()
    assert panel.errors["min_guidance"].isHidden()
    panel.set_value("tile_overlap", 20)
    panel.set_value("tile_size", 8)
    assert "tile_overlap" in panel.problems()


def test_presets_are_one_undo_step(window):
    panel = window.parameter_panel
    name = next(n for n in panel.presets if "576x1024" in n and "quality" in n)
    panel.apply_preset(name)
    assert (panel.params["width"], panel.params["height"]) == (576, 1024)
    window.undo_stack.undo()
    assert (panel.params["width"], panel.params["height"]) == (512, 512)


def test_seed_lock_and_dice(window):
    panel = window.parameter_panel
    seed = panel.params["seed"]
    assert panel.seed_for_render() == seed  # locked by default
    panel.seed_lock.setChecked(False)
    drawn = {panel.seed_for_render() for _ in range(5)}
    assert len(drawn) > 1 and panel.params["seed"] in drawn
    before = panel.params["seed"]
    panel.dice_button.click()
    assert panel.params["seed"] != before


def test_project_round_trip(window, qtbot, tmp_path, sample_photo, sample_video):
    from tests.ui.conftest import wait_task

    window.reference_panel.load(sample_photo)
    wait_task(qtbot, window.motion_panel.load(sample_video))
    window.parameter_panel.set_value("steps", 33)
    window.alignment_view.set_values("global", 0.05, -0.02, 1.1)
    window._alignment_changed()
    window.motion_panel.set_trim(0.5, 2.0, 2)
    window.project_path = str(tmp_path / "p.sastudio.json")
    window.save_project()
    data = json.loads((tmp_path / "p.sastudio.json").read_text())
    assert data["params"]["steps"] == 33 and data["align_method"] == "global" and data["stride"] == 2

    window.parameter_panel.load_values(default_params())
    window.alignment_view.set_values("none", 0, 0, 1)
    assert window.open_project(str(tmp_path / "p.sastudio.json"))
    wait_task(qtbot, window.runner.running()[0]) if window.runner.running() else None
    assert window.parameter_panel.params["steps"] == 33
    assert window.alignment_view.values() == ("global", pytest.approx(0.05), pytest.approx(-0.02), pytest.approx(1.1))
    assert window.motion_panel.trim() == (0.5, 2.0, 2)
    assert window.session.reference == sample_photo and window.session.motion == sample_video


def test_bad_project_file_gives_a_clear_message(window, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    assert not window.open_project(str(bad))
    assert "not a StableAnimator Studio project" in window.status_label.text()


def test_settings_recent_files_and_layout_persist(qtbot, sample_photo, _isolated_studio_home):
    from ui.main_window import MainWindow
    from ui.settings_store import settings_path

    first = MainWindow()
    qtbot.addWidget(first)
    first.reference_panel.load(sample_photo)
    first.parameter_panel.set_value("crf", 27)
    first.show()
    first.findChild(QDockWidget, "dock_settings").hide()  # a layout change the next window must restore
    first.close()
    assert settings_path().is_file()
    assert str(settings_path()).startswith(str(_isolated_studio_home))  # never the user's settings
    second = MainWindow()
    qtbot.addWidget(second)
    try:
        assert second.settings.recent("photo")[0] == sample_photo
        assert second.parameter_panel.params["crf"] == 27
        second.show()
        assert second.findChild(QDockWidget, "dock_settings").isHidden()
        assert second.findChild(QDockWidget, "dock_queue").isVisible()
        assert any(sample_photo in a.text() for a in second.recent_menu.actions())
    finally:
        second.shutdown()
