"""The window's Export never replaces a file without asking, and never writes over one of the render's inputs."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QMessageBox

from studio.export.exporter import export_frames


def test_export_asks_before_replacing_and_refuses_an_input(window, tmp_path, monkeypatch):
    result = tmp_path / "renders" / "r.mp4"
    export_frames([np.zeros((48, 64, 3), np.uint8)] * 2, result, 8.0, sidecar={"request": {}, "output": {}})
    window.last_result = str(result)
    target = tmp_path / "mine.mp4"
    target.write_bytes(b"my video")
    answers = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: answers.pop(0))
    answers.append(QMessageBox.StandardButton.No)
    assert window.export_result_to(str(target)) is None and target.read_bytes() == b"my video"
    answers.append(QMessageBox.StandardButton.Yes)
    assert window.export_result_to(str(target)) == str(target)
    assert target.read_bytes() == result.read_bytes() and (tmp_path / "mine.json").is_file()
    assert window.export_result_to(str(result)) is None  # the result itself is an input of the copy
    assert "also an input" in window.message_bar.text() and answers == []
