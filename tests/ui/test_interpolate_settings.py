"""The window's "Render every N-th frame" and "Output FPS" settings (saved with the project, in the estimate, used
by the render) and the result timeline's marks for interpolated frames (issue 20)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from studio.errors import ModelFolderError
from studio.export.exporter import probe_video
from studio.interpolation.methods import make_interpolator
from tests.ui.conftest import wait_task
from ui.parameter_specs import SPEC_BY_NAME, SPECS
from ui.result_panel import driving_frame_of, frame_kinds


def test_render_every_nth_frame_is_a_setting_saved_with_the_project(window, tmp_path):
    editor = window.parameter_panel.editors["interpolate"]
    assert editor.toolTip() and editor.minimum() == 1
    window.parameter_panel.set_value("interpolate", 3)
    assert window.project.request.interpolate == 3
    window.project_path = str(tmp_path / "p.sastudio.json")
    window.save_project()
    assert json.loads((tmp_path / "p.sastudio.json").read_text())["request"]["interpolate"] == 3
    window.project.set(interpolate=1)
    assert window.open_project(str(tmp_path / "p.sastudio.json"))
    assert window.parameter_panel.editors["interpolate"].value() == 3


def test_the_memory_estimate_says_how_many_frames_are_rendered(window, qtbot, tiny_fixture_dir):
    label = window.memory_label
    window.project.set({"engine": "diffusion", "models": str(tiny_fixture_dir / "checkpoints"), "device": "cpu",
                        "dtype": "fp32", "width": 256, "height": 256, "tile_size": 8, "max_frames": 16,
                        "decode_chunk": 2, "hjb.enabled": False, "interpolate": 2}, undoable=False)
    qtbot.waitUntil(lambda: "needs ≈" in label.text(), timeout=120000)
    assert "renders about 9 of them and interpolates 7 frames" in label.text()  # (16 frames: no motion to probe)


def test_the_result_timeline_marks_interpolated_frames(window):
    panel = window.result_panel
    sidecar = {"engine": "warp", "interpolation": {"every": 2, "rendered_frames": [0, 2, 4, 5]}}
    assert frame_kinds(sidecar, 6) == ["rendered", "interpolated", "rendered", "interpolated", "rendered",
                                       "rendered"]
    assert frame_kinds({"engine": "warp"}, 3) == ["rendered"] * 3
    frames = [np.zeros((32, 32, 3), np.uint8)] * 6
    panel._decoded("clip.mp4", frames, sidecar)
    assert not panel.interpolated.isHidden()
    image = panel.interpolated.grab().toImage()
    second = image.pixelColor(int(image.width() * 1.5 / 6), 2)  # frame 1: interpolated, blue
    assert second.blue() > 200 and second.red() < 150
    panel._decoded("clip.mp4", frames, {"engine": "warp"})
    assert panel.interpolated.isHidden()


def test_the_output_frame_rate_is_rendered_saved_and_restored(window, qtbot, sample_photo, sample_video, tmp_path):
    """The sample dance is 12 fps; at 30 fps the preview's 4 driving frames (a third of a second) become 10 output
    frames, driving time k · 0.4: frames 0, 5 and 8 are the engine's (driving frames 0, 2 and 3), 9 holds the last
    (3.6 is past it), the other 6 are interpolated."""
    window.reference_panel.load(sample_photo)
    wait_task(qtbot, window.motion_panel.load(sample_video))
    assert window.project.request.engine == "warp"
    editor = window.parameter_panel.editors["export.fps"]
    assert "interpolated" in editor.toolTip()
    window.parameter_panel.set_value("export.fps", 30.0)
    assert window.project.request.export.fps == 30.0
    task = window.quick_preview()
    wait_task(qtbot, task, timeout=300000)
    assert task.outcome == "succeeded", task.error
    out = window.last_result
    info = probe_video(out)
    assert (info.fps, info.frames) == (30.0, 10)
    sidecar = json.loads(Path(out).with_suffix(".json").read_text())
    assert (sidecar["output"]["source_fps"], sidecar["interpolation"]["output_fps"]) == (12.0, 30.0)
    qtbot.waitUntil(lambda: window.result_panel.path == out and len(window.result_panel.frames) == 10, timeout=60000)
    assert frame_kinds(sidecar, 10) == (["rendered"] + ["interpolated"] * 4 + ["rendered"] + ["interpolated"] * 2
                                        + ["rendered"] * 2)
    assert not window.result_panel.interpolated.isHidden()
    # the pose view shows the nearest driving frame's skeleton beside each output frame
    assert driving_frame_of(sidecar, 10) == [0, 0, 1, 1, 2, 2, 2, 3, 3, 3]

    window.project_path = str(tmp_path / "p.sastudio.json")
    window.save_project()
    saved = json.loads((tmp_path / "p.sastudio.json").read_text())["request"]
    assert saved["export"]["fps"] == 30.0 and saved["version"] == 3
    window.parameter_panel.set_value("export.fps", 0.0)  # 0: the driving video's rate
    assert window.project.request.export.fps is None
    assert window.open_project(str(tmp_path / "p.sastudio.json"))
    assert window.parameter_panel.editors["export.fps"].value() == 30.0
    assert window.project.request.export.fps == 30.0


def _rife_item(window):
    editor = window.parameter_panel.editors["interpolate_method"]
    return editor, editor.findText("rife")


def test_choosing_rife_in_the_window_puts_it_in_the_render_request_and_the_project(window, tmp_path, sample_photo,
                                                                                   sample_video):
    window.project.set({"reference": sample_photo, "motion": sample_video}, undoable=False)
    models = tmp_path / "weights"
    (models / "RIFE").mkdir(parents=True)
    (models / "RIFE" / "flownet.pkl").write_bytes(b"only its presence is looked at here")
    window.set_models_dir(str(models))
    editor, rife = _rife_item(window)
    panel = window.parameter_panel
    # next to the other interpolation settings, offered with every declared choice
    assert [editor.itemText(i) for i in range(editor.count())] == ["flow", "rife", "auto"]
    names = [spec.name for spec in SPECS]
    assert names[names.index("interpolate") + 1] == "interpolate_method"  # the row under "Render every Nth"
    assert SPEC_BY_NAME["interpolate_method"].group == SPEC_BY_NAME["interpolate"].group == "Output"
    assert editor.currentText() == "flow" and editor.model().item(rife).isEnabled()
    editor.setCurrentIndex(rife)  # as a person picks it
    assert window.project.request.interpolate_method == "rife"
    assert window.render_request().interpolate_method == "rife"
    window.parameter_panel.set_value("interpolate", 2)
    assert window.render_block_reason("warp") is None and panel.problems() == {}
    window.project_path = str(tmp_path / "p.sastudio.json")
    window.save_project()
    assert json.loads((tmp_path / "p.sastudio.json").read_text())["request"]["interpolate_method"] == "rife"
    panel.set_value("interpolate_method", "flow")
    assert editor.currentText() == "flow"
    assert window.open_project(str(tmp_path / "p.sastudio.json"))
    assert editor.currentText() == "rife" and window.project.request.interpolate_method == "rife"


def test_rife_without_its_weights_is_offered_disabled_and_explained(window, tmp_path, sample_photo, sample_video):
    window.project.set({"reference": sample_photo, "motion": sample_video}, undoable=False)
    models = tmp_path / "weights"
    models.mkdir()
    window.set_models_dir(str(models))
    editor, rife = _rife_item(window)
    missing = str(models / "RIFE" / "flownet.pkl")
    assert not editor.model().item(rife).isEnabled()
    item_tip = editor.itemData(rife, Qt.ItemDataRole.ToolTipRole)
    assert missing in item_tip and "flownet.pkl there" in item_tip and "use flow" in item_tip
    assert missing in editor.toolTip() and editor.model().item(editor.findText("flow")).isEnabled()
    window.set_models_dir(None)  # no weights folder: said so
    assert "no weights folder is chosen (choose one with Models…)" in editor.itemData(rife,
                                                                                   Qt.ItemDataRole.ToolTipRole)
    window.set_models_dir(str(models))

    # a project saved on a machine with the weights: it keeps rife, and says why it cannot interpolate here
    window.project.set({"interpolate_method": "rife"}, undoable=False)
    assert editor.currentText() == "rife"
    assert window.parameter_panel.problems() == {}  # (nothing is interpolated yet: nothing to refuse)
    window.parameter_panel.set_value("interpolate", 2)
    inline = window.parameter_panel.errors["interpolate_method"]
    assert not inline.isHidden() and missing in inline.text()
    reason = window.render_block_reason("warp")
    assert reason is not None and missing in reason and "use flow or auto" in reason
    # the same words as the command line's refusal, but for how the other choice is named
    with pytest.raises(ModelFolderError) as refused:
        make_interpolator("rife", models)
    cli = str(refused.value)
    assert cli.startswith("--method rife: ") and cli.endswith("use --method flow")
    assert cli.removeprefix("--method rife: ").removesuffix("--method flow") == inline.text().removesuffix("flow or auto")
    window.parameter_panel.set_value("interpolate_method", "flow")
    assert inline.isHidden() and window.render_block_reason("warp") is None
