"""The Output folder row in the Settings: the default (the Videos folder, or the saved project's folder), Browse,
Open; saved with the project and used by Render and the queue."""

from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog

from ui.output_folder import OUTPUT_ENV


def test_output_folder_is_shown_chosen_saved_and_used(window, tmp_path, sample_photo, sample_video, monkeypatch):
    row = window.output_folder_row
    assert row.isVisible() and row.path_edit.text() == os.environ[OUTPUT_ENV]  # the Videos folder by default
    chosen = tmp_path / "my renders"
    chosen.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(chosen))
    row.browse_button.click()
    assert window.project.output_dir == str(chosen) and row.path_edit.text() == str(chosen)
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    row.open_button.click()
    assert opened == [str(chosen)]
    queued = []
    monkeypatch.setattr(window.queue_panel, "add_jobs", lambda jobs, batch=None: queued.extend(jobs))
    window.project.set({"reference": sample_photo, "motion": sample_video}, undoable=False)
    assert window.queue_render() == queued and len(queued) == 1 and Path(queued[0].output).parent == chosen
    project = tmp_path / "dance.sastudio.json"
    window.project_path = str(project)
    window.save_project()
    assert json.loads(project.read_text())["output_dir"] == str(chosen)
    window.undo_action.trigger()  # back to unset: a saved project's renders go beside it
    assert window.project.output_dir is None and row.path_edit.text() == str(tmp_path)
