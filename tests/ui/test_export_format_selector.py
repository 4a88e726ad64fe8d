"""The window's export format selector reaches the request and the queued file names; previews stay mp4."""

from __future__ import annotations

from pathlib import Path

from ui.parameter_specs import QUICK_PREVIEW


def test_format_selector_reaches_request_and_output_name(window, sample_photo, sample_video, monkeypatch):
    panel = window.parameter_panel
    panel.set_value("engine", "warp")
    panel.set_value("export.format", "gif")
    window.project.set(reference=sample_photo, motion=sample_video, undoable=False)
    assert window.render_request().export.format == "gif"
    assert window.render_request(**QUICK_PREVIEW).export.format == "h264-mp4"  # the preview player reads mp4
    queued = []
    monkeypatch.setattr(window.queue_panel, "add_jobs", lambda jobs, batch=None: queued.extend(jobs) or [1])
    assert window.queue_render() == [1]
    request, output = queued[0]
    assert request.export.format == "gif" and Path(output).suffix == ".gif"
