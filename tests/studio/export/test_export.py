"""Export: H.264 yuv420p mp4 at the right fps with trimmed audio, extras, atomic writes, clear disk errors."""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest

from studio.errors import ExportError
from studio.export import exporter as export_mod
from studio.export.exporter import AudioSource, VideoExporter, cleanup_partials, export_frames, probe_video
from studio.request.render_request import ExportOptions
from tests.generated_media import write_video


def frames(n: int, w: int = 64, h: int = 48) -> list[np.ndarray]:
    out = []
    for i in range(n):
        f = np.zeros((h, w, 3), np.uint8)
        f[:, : (i * 7) % w] = (200, 80, 30)
        out.append(f)
    return out


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial" in p.name or p.name.endswith(".log"))


def test_mp4_has_frames_fps_codec_audio_and_sidecar(tmp_path):
    driving = write_video(tmp_path / "drive.mp4", frames(24, 96, 64), fps=12.0, audio=True)
    out = tmp_path / "out" / "clip.mp4"
    result = export_frames(frames(12), out, fps=12.0, sidecar={"seed": 9}, metadata={"seed": 9, "engine": "warp"},
                           audio=AudioSource(str(driving), start_s=0.5, duration_s=1.0))
    info = probe_video(out)
    assert (info.frames, info.fps, info.width, info.height) == (12, 12.0, 64, 48)
    assert info.video_codec == "h264" and info.pix_fmt == "yuv420p"
    assert info.audio and result.audio
    assert abs(info.duration_s - 1.0) < 0.1  # audio trimmed to the rendered range, not the whole 2 s clip
    assert json.loads(info.comment) == {"engine": "warp", "seed": 9}
    assert json.loads((tmp_path / "out" / "clip.json").read_text()) == {"seed": 9, "files": {"mp4": "clip.mp4"}}
    assert leftovers(out.parent) == []


def test_no_audio_when_disabled_or_absent(tmp_path):
    silent = write_video(tmp_path / "silent.mp4", frames(4), fps=8.0)
    r1 = export_frames(frames(4), tmp_path / "a.mp4", 8.0, audio=AudioSource(str(silent), 0, 1))
    loud = write_video(tmp_path / "loud.mp4", frames(4), fps=8.0, audio=True)
    r2 = export_frames(frames(4), tmp_path / "b.mp4", 8.0, ExportOptions(audio=False), audio=AudioSource(str(loud), 0, 1))
    assert not probe_video(r1.path).audio and not probe_video(r2.path).audio


def test_extras_side_by_side_png_gif_and_crop(tmp_path):
    out = tmp_path / "x.mp4"
    options = ExportOptions(side_by_side=True, png_sequence=True, gif=True, crf=23, preset="veryfast")
    with VideoExporter(out, 8.0, 64, 48, options, crop=(8, 0, 56, 48)) as exporter:
        for f in frames(5):
            exporter.write(f, reference=np.full_like(f, 255), pose=np.zeros_like(f))
        result = exporter.finish({"ok": True})
    assert probe_video(out).width == 48  # the pad columns were cut
    assert probe_video(result.extras["side_by_side"]).width == 144
    assert sorted(p.name for p in result.extras["png_sequence"].iterdir())[:2] == ["frame_0.png", "frame_1.png"]
    assert len(list(result.extras["png_sequence"].iterdir())) == 5
    assert result.extras["gif"].stat().st_size > 0
    assert leftovers(tmp_path) == []


def test_abort_leaves_no_file(tmp_path):
    out = tmp_path / "c.mp4"
    exporter = VideoExporter(out, 8.0, 64, 48, ExportOptions(side_by_side=True))
    with pytest.raises(RuntimeError):
        with exporter:
            exporter.write(frames(1)[0])
            raise RuntimeError("render failed midway")
    assert list(tmp_path.iterdir()) == []


def test_output_folder_that_cannot_exist_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="cannot create the output folder"):
        export_frames(frames(2), blocker / "sub" / "o.mp4", 8.0)


def test_read_only_folder_is_a_clear_error(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    # root ignores permission bits, so make the folder refuse writes the way a read-only mount does
    monkeypatch.setattr(export_mod.os, "access", lambda path, mode: False)
    with pytest.raises(ExportError, match="not writable"):
        export_frames(frames(2), folder / "o.mp4", 8.0)
    assert list(folder.iterdir()) == []


def test_unwritable_folder_is_a_clear_error(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user that ignores permissions")
        with pytest.raises(ExportError, match="not writable"):
            export_frames(frames(2), folder / "o.mp4", 8.0)
    finally:
        folder.chmod(0o700)
    assert list(folder.iterdir()) == []


def test_full_disk_before_start_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(export_mod, "_free_bytes", lambda _folder: 10)
    with pytest.raises(ExportError, match="disk .* is full"):
        export_frames(frames(2), tmp_path / "o.mp4", 8.0)
    assert list(tmp_path.iterdir()) == []


def test_disk_filling_up_while_writing_leaves_no_partial(tmp_path, monkeypatch):
    out = tmp_path / "full.mp4"
    calls = {"n": 0}
    real_write = export_mod._FfmpegPipe.write

    def write(self, frame):
        calls["n"] += 1
        if calls["n"] == 3:
            raise self._error(OSError(errno.ENOSPC, "No space left on device"))
        real_write(self, frame)

    monkeypatch.setattr(export_mod._FfmpegPipe, "write", write)
    with pytest.raises(ExportError, match="disk is full"):
        export_frames(frames(6), out, 8.0, sidecar={"a": 1})
    assert list(tmp_path.iterdir()) == []


def test_cleanup_partials_removes_leftovers_of_a_crash(tmp_path):
    out = tmp_path / "job.mp4"
    (tmp_path / ".job.partial.mp4").write_bytes(b"half")
    (tmp_path / ".job.partial.json").write_text("{")
    (tmp_path / "other.mp4").write_bytes(b"keep")
    removed = cleanup_partials(out)
    assert len(removed) == 2 and [p.name for p in tmp_path.iterdir()] == ["other.mp4"]


def test_rejects_non_mp4_and_empty(tmp_path):
    with pytest.raises(ExportError, match=r"\.mp4"):
        VideoExporter(tmp_path / "a.avi", 8, 64, 48, ExportOptions())
    with pytest.raises(ExportError, match="no frames"):
        export_frames([], tmp_path / "a.mp4", 8.0)
