"""Audio is cut or padded to the video's length, never the video to the audio's (issue 25, cause 3); a file that
holds fewer frames than were sent is never put in place; the sidecar claims audio only when it was muxed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from studio.errors import ExportError
from studio.export import exporter as export_mod
from studio.export.exporter import AudioSource, export_frames, probe_video
from studio.request.render_request import ExportOptions

FPS = 12.0


def _clip(path: Path, seconds_of_video: float, seconds_of_audio: float) -> Path:
    """A video with an audio track shorter than its picture (as phones and editors make them)."""
    count = int(seconds_of_video * FPS)
    data = b"".join(np.full((48, 64, 3), 5 * i, np.uint8).tobytes() for i in range(count))
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt",
                    "rgb24", "-s", "64x48", "-r", str(FPS), "-i", "-", "-f", "lavfi", "-i",
                    f"sine=frequency=330:duration={seconds_of_audio}", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", str(path)], input=data, check=True)
    return path


def _frames(n: int) -> list[np.ndarray]:
    return [np.full((48, 64, 3), 3 * i, np.uint8) for i in range(n)]


def test_audio_shorter_than_the_range_is_padded_and_every_frame_kept(tmp_path):
    drive = _clip(tmp_path / "drive.mp4", 3.0, 2.5)
    result = export_frames(_frames(36), tmp_path / "o.mp4", FPS, audio=AudioSource(str(drive), 0.0, 3.0))
    info = probe_video(result.path)
    assert result.frames == info.frames == 36 and info.audio and result.audio
    assert abs(info.duration_s - 3.0) <= 1.5 / FPS  # the picture's length, not the audio's 2.5 s


def test_a_range_past_the_audios_end_still_gives_the_whole_video(tmp_path):
    drive = _clip(tmp_path / "drive.mp4", 3.0, 2.5)
    result = export_frames(_frames(4), tmp_path / "o.mp4", FPS, audio=AudioSource(str(drive), 2.7, 4 / FPS))
    info = probe_video(result.path)
    assert result.frames == info.frames == 4 and result.path.stat().st_size > 1000


def test_longer_audio_is_cut_to_the_video(tmp_path):
    drive = _clip(tmp_path / "drive.mp4", 3.0, 3.0)
    result = export_frames(_frames(12), tmp_path / "o.mp4", FPS, audio=AudioSource(str(drive), 0.0, 1.0))
    assert abs(probe_video(result.path).duration_s - 1.0) <= 1.5 / FPS


def test_a_file_holding_fewer_frames_than_sent_is_never_put_in_place(tmp_path, monkeypatch):
    monkeypatch.setattr(export_mod, "count_video_frames", lambda path: 3)  # as a muxer that dropped frames
    with pytest.raises(ExportError, match="wrote 3 of the 6 frames"):
        export_frames(_frames(6), tmp_path / "o.mp4", FPS)
    assert list(tmp_path.iterdir()) == []


def test_the_frame_count_reads_the_file_itself(tmp_path):
    result = export_frames(_frames(5), tmp_path / "o.mp4", FPS)
    assert export_mod.count_video_frames(result.path) == 5
    (tmp_path / "notes.mp4").write_text("not a video")
    assert export_mod.count_video_frames(tmp_path / "notes.mp4") == 0


def test_the_sidecar_claims_audio_only_when_it_was_muxed(tmp_path):
    pytest.importorskip("mediapipe")
    from tests.generated_media import write_astronaut_photo, write_transform_video

    photo = write_astronaut_photo(tmp_path / "photo.png", 160)
    drive, _ = write_transform_video(tmp_path / "drive.mp4", num_frames=6, size=128, fps=8.0, audio=True)
    for name, extra in (("plain", []), ("loop", ["--pingpong"])):
        out = tmp_path / f"{name}.mp4"
        done = subprocess.run([sys.executable, "-m", "studio", "render", "--engine", "warp", "--width", "128",
                               "--height", "128", "--quiet", "--reference", str(photo), "--motion", str(drive),
                               "--out", str(out), *extra], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parents[3])
        assert done.returncode == 0, done.stderr
        claimed = json.loads(out.with_suffix(".json").read_text())["output"]["audio"]
        assert claimed == probe_video(out).audio == (name == "plain")


def test_no_audio_option_states_none(tmp_path):
    drive = _clip(tmp_path / "drive.mp4", 1.0, 1.0)
    result = export_frames(_frames(4), tmp_path / "o.mp4", FPS, ExportOptions(pingpong=True),
                           audio=AudioSource(str(drive), 0.0, 4 / FPS))
    assert not result.audio and not probe_video(result.path).audio and probe_video(result.path).frames == 6
