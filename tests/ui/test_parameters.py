"""The parameter panel bound to the project's request: sliders and spinboxes agree, edits (typed ones too)
are undoable, validation is the request's own and shows inline, presets, seed lock and dice; settings and
project files persist, and the last project (photo, video, trim, alignment, settings) reopens on start."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from studio.project import MERGE_WINDOW_S
from tests.ui.conftest import wait_task
from ui.parameter_specs import SPEC_BY_NAME, SPECS


def test_every_setting_has_an_editor_with_a_tooltip_and_a_request_field(window):
    panel = window.parameter_panel
    for spec in SPECS:
        editor = panel.editors[spec.name]
        # (a choice that cannot run now, RIFE without its weights, adds why after the declared help)
        assert editor.toolTip().startswith(spec.tooltip) and len(spec.tooltip) > 20
        window.project.get(spec.name)  # every spec names a real request field (raises if not)


def test_slider_moves_spinbox_and_undo_redo(window):
    panel, project = window.parameter_panel, window.project
    now = [0.0]
    project._clock = lambda: now[0]  # the undo history's merge window, on a clock the test moves
    spec = SPEC_BY_NAME["steps"]
    slider, spin = panel.sliders["steps"], panel.editors["steps"]
    slider.setValue(500)  # halfway along the declared range
    halfway = round((spec.minimum + spec.maximum) / 2)
    assert spin.value() == project.request.steps == halfway
    now[0] += MERGE_WINDOW_S + 1  # a separate edit
    spin.setValue(40)
    assert slider.value() == round((40 - spec.minimum) / (spec.maximum - spec.minimum) * 1000)
    window.undo_action.trigger()
    assert project.request.steps == halfway and spin.value() == halfway
    window.undo_action.trigger()
    assert project.request.steps == 25 and spin.value() == 25 and not project.can_undo()
    window.redo_action.trigger()
    assert project.request.steps == halfway
    spin.setValue(30)
    now[0] += MERGE_WINDOW_S / 2  # edits of one setting within the merge window are one undo step
    spin.setValue(31)
    window.undo_action.trigger()
    assert project.request.steps == halfway and spin.value() == halfway


def test_ctrl_z_right_after_typing_a_value_undoes_it(qtbot, window):
    spin = window.parameter_panel.editors["steps"]
    window.activateWindow()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    spin.selectAll()
    qtbot.keyClicks(spin.lineEdit(), "40")
    assert window.project.request.steps == 25  # typed, not yet committed
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    # the typed value was committed and then undone by the window's Undo: the history knows it
    assert window.project.request.steps == 25 and spin.value() == 25
    assert window.project.can_redo() and window.project.redo_text() == "Change Steps"
    window.redo_action.trigger()
    assert window.project.request.steps == 40


def test_none_values_and_nested_fields(window):
    panel, request = window.parameter_panel, lambda: window.project.request
    panel.editors["max_frames"].setValue(0)
    assert request().max_frames is None and panel.editors["max_frames"].text() == "all"
    panel.editors["export.fps"].setValue(12.0)
    panel.editors["hjb.iterations"].setValue(6)
    assert request().export.fps == 12.0 and request().hjb.iterations == 6
    window.project.set({"export.crf": 30})
    assert panel.editors["export.crf"].value() == 30  # the editor follows the model


def test_inline_validation_uses_the_request_validator(window):
    panel = window.parameter_panel
    panel.set_value("engine", "diffusion")
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
    window.project.set(reference="/a.jpg", motion="/b.mp4", undoable=False)
    assert window.render_block_reason().startswith("Fix the settings first: tile_overlap")


def test_presets_are_one_undo_step(window):
    panel = window.parameter_panel
    name = next(n for n in panel.presets if "576x1024" in n and "quality" in n)
    panel.apply_preset(name)
    assert (window.project.request.width, window.project.request.height) == (576, 1024)
    assert panel.editors["export.crf"].value() == 15
    window.undo_action.trigger()
    assert (window.project.request.width, window.project.request.height) == (512, 512)


def test_seed_lock_and_dice(window):
    panel, project = window.parameter_panel, window.project
    seed = project.request.seed
    assert window.render_request().seed == seed  # locked by default
    panel.seed_lock.setChecked(False)
    assert project.seed_locked is False
    drawn = {window.render_request().seed for _ in range(5)}
    assert len(drawn) > 1 and project.request.seed in drawn
    before = project.request.seed
    panel.dice_button.click()
    assert project.request.seed != before and panel.editors["seed"].value() == project.request.seed


def test_project_round_trip(window, qtbot, tmp_path, sample_photo, sample_video):
    window.reference_panel.load(sample_photo)
    wait_task(qtbot, window.motion_panel.load(sample_video))
    window.parameter_panel.set_value("steps", 33)
    window.alignment_view.method.setCurrentText("global")
    window.alignment_view.offset_x.setValue(0.05)
    window.motion_panel.set_trim(0.5, 2.0, 2)
    assert window.project.request.stride == 2
    window.project_path = str(tmp_path / "p.sastudio.json")
    window.save_project()
    data = json.loads((tmp_path / "p.sastudio.json").read_text())
    assert data["request"]["steps"] == 33 and data["request"]["alignment"]["mode"] == "global"
    assert data["request"]["stride"] == 2

    window.project.set(steps=10, stride=1)
    window.alignment_view.method.setCurrentText("none")
    assert window.open_project(str(tmp_path / "p.sastudio.json"))
    for task in window.runner.running():
        wait_task(qtbot, task)
    assert window.parameter_panel.editors["steps"].value() == 33
    assert window.alignment_view.values() == ("global", pytest.approx(0.05), 0.0, 1.0)
    assert window.alignment_view.method.currentText() == "global"
    assert window.motion_panel.trim() == (0.5, 2.0, 2)
    assert window.project.request.reference == sample_photo and window.project.request.motion == sample_video


def test_settings_recent_files_layout_and_the_last_project_persist(qtbot, sample_photo, sample_video,
                                                                 _isolated_studio_home):
    from ui.main_window import MainWindow
    from ui.settings_store import settings_path

    first = MainWindow()
    qtbot.addWidget(first, before_close_func=lambda w: w.ask_nothing_on_close())
    first.reference_panel.load(sample_photo)
    wait_task(qtbot, first.motion_panel.load(sample_video))
    first.parameter_panel.set_value("export.crf", 27)
    first.motion_panel.set_trim(0.5, 3.0, 2)
    first.alignment_view.scale.setValue(1.2)
    first.show()
    first.findChild(QDockWidget, "dock_settings").hide()  # a layout change the next window must restore
    for task in first.runner.running():
        wait_task(qtbot, task)
    first.ask_choice = lambda _title, _text, _choices: "Discard"  # closing asks about the unsaved edits
    first.close()
    assert settings_path().is_file()
    assert str(settings_path()).startswith(str(_isolated_studio_home))  # never the user's settings
    second = MainWindow()
    qtbot.addWidget(second, before_close_func=lambda w: w.ask_nothing_on_close())
    try:
        assert second.settings.recent("photo")[0] == sample_photo
        r = second.project.request
        assert r.export.crf == 27 and (r.start, r.end, r.stride) == (0.5, 3.0, 2)
        assert (r.reference, r.motion) == (sample_photo, sample_video)
        assert second.alignment_view.scale.value() == pytest.approx(1.2)
        assert second.motion_panel.trim() == (0.5, 3.0, 2)
        assert second.reference_panel.path == sample_photo
        qtbot.waitUntil(lambda: second.motion_panel.path == sample_video, timeout=60000)  # (probed off the GUI thread)
        second.show()
        assert second.findChild(QDockWidget, "dock_settings").isHidden()
        assert second.findChild(QDockWidget, "dock_queue").isVisible()
        assert any(sample_photo in a.text() for a in second.recent_menu.actions())
        for task in second.runner.running():
            wait_task(qtbot, task)
    finally:
        second.shutdown()


def test_every_editor_range_is_the_validators_and_a_bad_value_marks_its_own_editor(window):
    """The window and the validator read one declaration: each number editor reaches exactly the declared
    maximum, which the validator accepts, and one past it is refused under that editor (found by its path)."""
    from studio.request.render_request import RenderRequest
    from studio.request.schema import setting_by_path

    panel, project = window.parameter_panel, window.project
    declared = setting_by_path(RenderRequest)
    project.set({"engine": "warp", "tile_size": 64}, merge=False)  # (no relation to another field in the way)
    numbers = [spec for spec in SPECS if spec.kind in ("int", "float")]
    assert {"width", "steps", "seed", "export.fps", "max_frames"} <= {spec.name for spec in numbers}
    for spec in numbers:
        setting, editor = declared[spec.name], panel.editors[spec.name]
        assert (editor.maximum(), spec.maximum) == (setting.maximum, setting.maximum), spec.name
        assert editor.minimum() == (setting.minimum if spec.none_at is None else spec.none_at), spec.name
        before = project.get(spec.name)
        project.set({spec.name: setting.maximum})
        assert spec.name not in panel.problems() and panel.errors[spec.name].isHidden(), spec.name
        past = setting.maximum + (1 if spec.kind == "int" else 1.0)
        project.set({spec.name: past})
        assert not panel.errors[spec.name].isHidden(), spec.name
        assert list(panel.problems()) == [spec.name] and str(past) in panel.problems()[spec.name], spec.name
        project.set({spec.name: before})
