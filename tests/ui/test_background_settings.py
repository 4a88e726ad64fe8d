"""The window's Output box holds the background mode and the colour match: they reach the request, a transparent
background into a format without alpha is marked on the background's own editor, and the quick preview (an mp4)
of a transparent render shows the person over the photo's background instead of failing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.ui.conftest import wait_task
from ui.parameter_specs import SPEC_BY_NAME


def test_the_modes_are_output_settings_that_reach_the_request(window):
    panel = window.parameter_panel
    for name, choices in (("background", ("generated", "photo", "transparent")),
                          ("color_match", ("off", "reference", "first-frame"))):
        spec = SPEC_BY_NAME[name]
        assert spec.group == "Output" and spec.choices == choices
        assert name in panel.editors
    panel.set_value("background", "photo")
    panel.set_value("color_match", "reference")
    request = window.project.request
    assert (request.background, request.color_match) == ("photo", "reference")


def test_transparent_into_mp4_is_marked_on_the_background_editor(window):
    panel = window.parameter_panel
    panel.set_value("export.format", "h264-mp4")
    panel.set_value("background", "transparent")
    problems = panel.problems()
    assert "no alpha channel" in problems.get("background", ""), problems
    panel.set_value("export.format", "prores-mov")
    assert "background" not in panel.problems()


def test_quick_preview_of_a_transparent_render_is_over_the_photo(qtbot, window, sample_photo, sample_video):
    panel = window.parameter_panel
    panel.set_value("engine", "warp")
    panel.set_value("export.format", "vp9-webm")
    panel.set_value("background", "transparent")
    window.reference_panel.load(sample_photo)
    wait_task(qtbot, window.motion_panel.load(sample_video))
    assert window.render_block_reason() is None, window.render_block_reason()
    task = window.quick_preview()
    wait_task(qtbot, task, timeout=300000)
    assert task.outcome == "succeeded", task.error
    sidecar = json.loads(Path(window.last_result).with_suffix(".json").read_text())
    assert sidecar["request"]["background"] == "photo" and sidecar["request"]["export"]["format"] == "h264-mp4"
    assert window.project.request.background == "transparent"  # the project keeps what was chosen
