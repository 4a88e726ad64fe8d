"""The window's "Render every N-th frame" setting (saved with the project, in the memory estimate) and the result
timeline's marks for interpolated frames (issue 20)."""

from __future__ import annotations

import json

import numpy as np

from ui.result_panel import frame_kinds


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
    assert "renders about 9 of them, the rest interpolated" in label.text()


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
