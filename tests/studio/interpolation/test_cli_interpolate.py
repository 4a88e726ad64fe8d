"""``python -m studio interpolate``: frame counts and rates, audio, export formats, the sidecar, both methods, and
clear one-line errors for input it cannot interpolate."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from studio.__main__ import main
from studio.export.exporter import probe_video
from tests.generated_media import _ffmpeg, write_frame_folder, write_image, write_video


def _frames(count: int, width: int = 96, height: int = 64) -> list[np.ndarray]:
    """A bright square gliding right over a gradient, 3 px per frame."""
    ys, xs = np.mgrid[0:height, 0:width]
    frames = []
    for i in range(count):
        frame = np.dstack([xs * 2, ys * 3, np.full_like(xs, 90)]).astype(np.uint8)
        frame[20:40, 10 + 3 * i:30 + 3 * i] = (250, 240, 60)
        frames.append(frame)
    return frames


@pytest.fixture
def clip(tmp_path):
    return write_video(tmp_path / "clip.mp4", _frames(6), fps=12, audio=True)


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main(["interpolate", *map(str, args), "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


def test_factor_two_doubles_the_rate_keeps_the_audio_and_says_what_was_done(clip, tmp_path, capsys):
    out = tmp_path / "smooth.mp4"
    code, stdout, _err = _run(capsys, clip, "--factor", 2, "--out", out, "--json")
    assert code == 0
    reported = json.loads(stdout)
    video = probe_video(out)
    assert video.frames == 12 and video.fps == 24 and video.audio
    assert reported["interpolated"] == 5 and reported["method"] == "flow"
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["kind"] == "interpolation" and sidecar["method"] == "flow" and sidecar["factor"] == 2
    assert sidecar["source_fps"] == 12 and sidecar["fps"] == 24 and sidecar["frames"] == 12
    # source frames at even positions, halfway moments between, the last frame held to keep the duration
    assert sidecar["moments"][:4] == [[0, 0.0], [0, 0.5], [1, 0.0], [1, 0.5]] and sidecar["moments"][-1] == [5, 0.0]


def test_a_target_rate_from_12_to_30_fps(clip, tmp_path, capsys):
    out = tmp_path / "thirty.mp4"
    assert _run(capsys, clip, "--fps", 30, "--out", out)[0] == 0
    video = probe_video(out)
    assert video.fps == 30 and video.frames == 15  # 6 frames at 12 fps last 0.5 s: 15 frames at 30 fps
    moments = json.loads(out.with_suffix(".json").read_text())["moments"]
    assert [round(t, 3) for _i, t in moments[:6]] == [0.0, 0.4, 0.8, 0.2, 0.6, 0.0]


def test_another_export_format_and_the_middle_frame_lies_between(clip, tmp_path, capsys):
    out = tmp_path / "smooth.webm"
    assert _run(capsys, clip, "--factor", 2, "--out", out)[0] == 0
    assert probe_video(out).video_codec == "vp9"
    frames = tmp_path / "frames"
    assert _run(capsys, clip, "--factor", 2, "--out", frames, "--format", "png-sequence")[0] == 0
    from studio.media.video_io import load_image

    # between source frames 0 and 1, whose square spans x = 10..29 and 13..32: centred at 21 and sharp, where a
    # cross-fade would leave 3 half-mixed columns on each side (blue 75, between the square's 60 and the
    # background's 90)
    row = load_image(frames / "frame_00001.png").astype(int)[30, :, 2]
    assert abs(np.flatnonzero(row < 75).mean() - 21.0) <= 1.0
    assert np.count_nonzero((row > 67) & (row < 83)) <= 3, row


def test_a_folder_of_frames_is_read_like_a_video(tmp_path, capsys):
    """A frame folder has no rate of its own: the studio reads it at 30 fps (studio.media.FOLDER_FPS)."""
    folder = write_frame_folder(tmp_path / "frames", _frames(3))
    out = tmp_path / "folder.mp4"
    assert _run(capsys, folder, "--factor", 3, "--out", out)[0] == 0
    video = probe_video(out)
    assert video.frames == 9 and video.fps == 90 and not video.audio


def test_rife_runs_from_the_weights_folder(clip, tmp_path, capsys):
    import torch

    from pipelines.rife_ifnet import RifeIFNet

    models = tmp_path / "models"
    (models / "RIFE").mkdir(parents=True)
    torch.save({f"module.{k}": v for k, v in RifeIFNet().state_dict().items()}, models / "RIFE" / "flownet.pkl")
    out = tmp_path / "rife.mp4"
    code, _out, err = _run(capsys, clip, "--factor", 2, "--out", out, "--method", "rife", "--models", models)
    assert code == 0, err
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["method"] == "rife" and sidecar["device"].startswith(("cpu", "cuda"))
    assert probe_video(out).frames == 12


def _vfr_clip(path):
    """10 frames 0.1 s apart, then 10 frames 0.25 s apart."""
    subprocess.run([_ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=10:duration=2",
                    "-vf", r"settb=1/1000,setpts='if(lt(N\,10)\,N*100\,1000+(N-10)*250)'", "-fps_mode",
                    "passthrough", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


@pytest.mark.parametrize("case", ["factor 0", "factor 1", "fps below", "one frame", "image", "variable rate",
                                  "rife without weights"])
def test_bad_input_is_one_clear_line(case, clip, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    args, expected = {
        "factor 0": ((clip, "--factor", 0), "factor must be a whole number of 2 or more"),
        "factor 1": ((clip, "--factor", 1), "factor must be a whole number of 2 or more"),
        "fps below": ((clip, "--fps", 10), "not above the source's 12 fps"),
        "one frame": ((write_video(tmp_path / "one.mp4", _frames(1)), "--factor", 2), "needs at least 2 frames"),
        "image": ((write_image(tmp_path / "photo.png", _frames(1)[0]), "--factor", 2), "needs at least 2 frames"),
        "variable rate": ((_vfr_clip(tmp_path / "vfr.mp4"), "--factor", 2), "variable frame rate"),
        "rife without weights": ((clip, "--factor", 2, "--method", "rife", "--models", tmp_path),
                                 "RIFE/flownet.pkl"),
    }[case]
    code, _out, err = _run(capsys, *args, "--out", out)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], err
    assert "Traceback" not in err and not out.exists() and not out.with_suffix(".json").exists()
