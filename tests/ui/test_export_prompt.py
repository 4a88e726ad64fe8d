"""File → Export result converts to the format the name asks for (with a sidecar), never replaces a file the
studio did not make or another render's sidecar, asks before replacing its own export, and says why it refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from studio.export.exporter import export_frames, probe_video
from studio.export.formats import FORMATS, PNG_PATTERN, available_encoders
from studio.media.video_io import ffmpeg_exe
from tests.ui.conftest import wait_task


def _render(path, shade: int = 60) -> None:
    """A finished studio render: an mp4 with the sidecar a render writes."""
    frames = [np.full((48, 64, 3), shade + 20 * i, np.uint8) for i in range(4)]
    request = {"reference": "photo.png", "motion": "dance.mp4", "export": {"crf": 20}}
    export_frames(frames, path, 8.0, sidecar={"request": request, "engine": "warp", "output": {}})


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


#: format -> (the target's name, the codec ffmpeg decodes it as); the frame count is the source's (4).
MORE_FORMATS = {"webp": ("take.webp", "webp_anim"), "av1-webm": ("take.webm", "av1"),
                "h265-mp4": ("take.mp4", "hevc"), "png-sequence": ("take_frames", "png")}


def _missing_encoder_message(name: str) -> str:
    fmt = FORMATS[name]
    return f"has no {fmt.encoder} encoder, needed for {fmt.label}"


@pytest.mark.parametrize("name", list(MORE_FORMATS))
def test_export_to_webp_av1_h265_and_a_png_sequence_beside_an_existing_render(window, qtbot, shown_result, tmp_path,
                                                                              name):
    """Each format through the window's export (the dialog's choice passed as the seam takes it): the output
    decodes as that codec with every frame, or, where this ffmpeg lacks the encoder, the window says so."""
    target_name, codec = MORE_FORMATS[name]
    folder = tmp_path / "out"
    folder.mkdir()
    _render(folder / "my_dance.mp4", shade=10)
    record = (folder / "my_dance.json").read_bytes()
    target = folder / target_name
    task = window.export_result_to(str(target), name)
    wait_task(qtbot, task)
    if FORMATS[name].encoder not in available_encoders(ffmpeg_exe()):
        assert task.outcome == "failed" and window.message_bar.level == "error"
        assert _missing_encoder_message(name) in window.message_bar.text()
        return
    assert task.outcome == "succeeded", window.message_bar.text()
    if name == "png-sequence":
        assert target.is_dir() and len(list(target.glob("frame_*.png"))) == 4
        info = probe_video(target / PNG_PATTERN)
    else:
        info = probe_video(target)
    assert info.video_codec == codec and info.frames == 4 and (info.width, info.height) == (64, 48)
    sidecar = json.loads(target.with_suffix(".json").read_text())
    assert sidecar["files"]["mp4"] == target.name and sidecar["exported"]["format"] == name
    assert (folder / "my_dance.json").read_bytes() == record and probe_video(folder / "my_dance.mp4").frames == 4


def test_a_missing_encoder_is_said_in_the_window(window, qtbot, shown_result, tmp_path, monkeypatch):
    from studio.export import formats

    present = available_encoders(ffmpeg_exe())
    monkeypatch.setattr(formats, "available_encoders", lambda _ffmpeg: present - {"libx265"})
    task = window.export_result_to(str(tmp_path / "take.mp4"), "h265-mp4")
    wait_task(qtbot, task)
    assert task.outcome == "failed" and window.message_bar.level == "error"
    text = window.message_bar.text()
    assert _missing_encoder_message("h265-mp4") in text and "format" in text
    assert not (tmp_path / "take.mp4").exists() and not (tmp_path / "take.json").exists()


@pytest.mark.parametrize("chosen, typed, expected, codec", [
    ("h265-mp4", "take", "take.mp4", "hevc"),  # a bare name gets the chosen format's suffix
    ("h265-mp4", "take.mp4", "take.mp4", "hevc"),  # .mp4 is H.264 or H.265: the chosen filter decides
    ("av1-webm", "take.webm", "take.webm", "av1"),
    ("png-sequence", "take_frames", "take_frames", "png"),
    ("h265-mp4", "take.gif", "take.gif", "gif"),  # another suffix typed: that suffix chooses
])
def test_the_export_dialogs_chosen_format_is_the_one_written(window, qtbot, shown_result, tmp_path, monkeypatch,
                                                              chosen, typed, expected, codec):
    from PySide6.QtWidgets import QFileDialog

    offered = []

    def dialog(_parent, _title, _start, filters, **_kwargs):
        offered.extend(filters.split(";;"))
        return str(tmp_path / typed), next(f for f in offered if f.startswith(FORMATS[chosen].label))

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    wait_task(qtbot, window.export_result())
    assert len(offered) == len(FORMATS)  # every format is offered, the PNG sequence too
    target = tmp_path / expected
    info = probe_video(target / PNG_PATTERN if target.is_dir() else target)
    assert info.video_codec == codec and info.frames == 4
