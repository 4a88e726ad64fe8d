"""Quick previews leave no files behind: a newer preview supersedes the older one's files, closing the window
removes the session's preview folder, and neither a preview nor a queued render adds an undo step."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from studio.export.exporter import VideoExporter
from tests.ui.conftest import wait_task


def _fake_render(request, out, report, cancel, preview=None, **_options):
    """A real (tiny) mp4 and sidecar, as a render leaves them, without a model."""
    with VideoExporter(out, 8.0, 64, 48, request.export) as exporter:
        for i in range(3):
            cancel.raise_if_cancelled()
            exporter.write(np.full((48, 64, 3), 60 * i, np.uint8))
        exporter.finish({"request": request.to_dict()})
    return SimpleNamespace(path=Path(out), engine="warp", seconds=0.0)


def _preview(qtbot, window) -> Path:
    task = window.quick_preview()
    wait_task(qtbot, task)
    assert task.outcome == "succeeded", task.error
    for running in window.runner.running():  # the result panel's load of the new preview
        wait_task(qtbot, running)
    return Path(window.last_result)


def test_previews_are_superseded_and_removed_at_close(qtbot, window, monkeypatch):
    monkeypatch.setattr(window, "render_block_reason", lambda engine=None: None)
    monkeypatch.setattr(window.studio, "render", _fake_render)
    window.project.set(seed_locked=False, undoable=False)
    window.project.clear_history()

    first = _preview(qtbot, window)
    assert first.is_file() and first.with_suffix(".json").is_file()
    folder = first.parent
    second = _preview(qtbot, window)
    assert second != first and second.is_file()
    assert not first.exists() and not first.with_suffix(".json").exists()  # superseded
    assert not window.project.can_undo(), window.project.undo_text()  # a preview is not an edit
    window.shutdown()
    assert not folder.exists()
