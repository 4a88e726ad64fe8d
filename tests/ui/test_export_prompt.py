"""File → Export result converts to the format the name asks for (with a sidecar), never replaces a file the
studio did not make or another render's sidecar, asks before replacing its own export, and says why it refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from studio.export.exporter import export_frames
from studio.media.video_io import probe_video
from tests.ui.conftest import wait_task


def _render(path, shade: int = 60) -> None:
    """A finished studio render: an mp4 with the sidecar a render writes."""
    frames = [np.full((48, 64, 3), shade + 20 * i, np.uint8) for i in range(4)]
    export_frames(frames, path, 8.0, sidecar={"request": {"export": {"crf": 20}}, "engine": "warp", "output": {}})


@pytest.fixture
def shown_result(window, tmp_path):
    result = tmp_path / "renders" / "r.mp4"
    _render(result)
    window.last_result = str(result)
    return result


@pytest.mark.parametrize("name, codec", [("take.gif", "gif"), ("take.webm", "vp9"), ("take.mov", "prores"),
                                         ("take.mp4", "h264")])
def test_export_converts_to_the_chosen_format_beside_an_existing_render(window, qtbot, shown_result, tmp_path,
                                                                        name, codec):
    folder = tmp_path / "out"
    folder.mkdir()
    _render(folder / "my_dance.mp4", shade=10)  # an earlier render in the same folder, with its sidecar
    record = (folder / "my_dance.json").read_bytes()
    wait_task(qtbot, window.export_result_to(str(folder / name)))
    info = probe_video(folder / name)
    assert info.video_codec == codec and info.frames == 4
    sidecar = json.loads((folder / name).with_suffix(".json").read_text())
    assert sidecar["files"]["mp4"] == name and sidecar["exported"]["from"] == str(shown_result)
    assert (folder / "my_dance.json").read_bytes() == record  # the other render's record is untouched


def test_export_never_takes_another_renders_sidecar(window, shown_result, tmp_path):
    _render(tmp_path / "my_dance.mp4")
    record = (tmp_path / "my_dance.json").read_bytes()
    assert window.export_result_to(str(tmp_path / "my_dance.gif")) is None
    assert (tmp_path / "my_dance.json").read_bytes() == record and not (tmp_path / "my_dance.gif").exists()
    assert window.message_bar.level == "error" and "record of my_dance.mp4" in window.message_bar.text()


def test_export_refuses_a_file_the_studio_did_not_make(window, shown_result, tmp_path):
    mine = tmp_path / "mine.mp4"
    mine.write_bytes(b"my video")
    assert window.export_result_to(str(mine)) is None and mine.read_bytes() == b"my video"
    assert "not made by the studio" in window.message_bar.text()
    assert window.export_result_to(str(shown_result)) is None  # the result itself
    assert "the result itself" in window.message_bar.text()
    assert window.export_result_to(str(tmp_path / "noformat.xyz")) is None
    assert "must end in one of" in window.message_bar.text()


def test_export_asks_before_replacing_its_own_export(window, qtbot, shown_result, tmp_path, monkeypatch):
    target = tmp_path / "take.gif"
    wait_task(qtbot, window.export_result_to(str(target)))
    first = target.stat().st_mtime_ns
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda _parent, _title, text, *a, **k: asked.append(text)
                        or answers.pop(0))
    assert window.export_result_to(str(target)) is None and target.stat().st_mtime_ns == first
    wait_task(qtbot, window.export_result_to(str(target)))
    assert answers == [] and "already exists" in asked[0] and target.stat().st_mtime_ns != first
    assert probe_video(target).video_codec == "gif"


def test_a_failed_export_says_why_and_what_to_do(window, qtbot, shown_result, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_bytes(b"a file where the folder should be")
    task = window.export_result_to(str(blocker / "take.mp4"))
    wait_task(qtbot, task)
    assert task.outcome == "failed" and window.message_bar.level == "error"
    text = window.message_bar.text()
    assert "cannot create the output folder" in text and "Choose another folder" in text
