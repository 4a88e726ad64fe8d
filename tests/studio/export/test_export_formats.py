"""Every export format: codec, pixel format, frame count, fps and audio as ffmpeg reads them back; loop count
and ping-pong of the animated images; NVENC chosen only where it works; bitrate; file-name templates."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from studio.export import formats as export_formats
from studio.errors import ExportError
from studio.export.exporter import AudioSource, export_frames, probe_video
from studio.export.formats import PNG_PATTERN, choose_encoder, video_args
from studio.request.settings import FORMATS
from studio.media.video_io import ffmpeg_header
from studio.export.output_names import expand_output_template
from studio.request.render_request import ExportOptions, RenderRequest
from tests.generated_media import write_video

FPS = 10.0  # GIF stores delays in 1/100 s and WebP in ms: 10 fps is exact in both
N = 6

# name -> (codec, pix_fmt as ffmpeg decodes it, audio kept) — written out here, not read from the table.
EXPECTED = {
    "h264-mp4": ("h264", "yuv420p", True),
    "h264-10bit-mp4": ("h264", "yuv420p10le", True),
    "h265-mp4": ("hevc", "yuv420p", True),
    "vp9-webm": ("vp9", "yuv420p", True),
    "av1-webm": ("av1", "yuv420p", True),
    "prores-mov": ("prores", "yuv422p10le", True),
    "webp": ("webp_anim", "argb", False),
    "gif": ("gif", "bgra", False),
    "png-sequence": ("png", "rgb24", False),
}


def clip(n: int = N, size: int = 64) -> list[np.ndarray]:
    frames = []
    for i in range(n):
        f = np.full((size, size, 3), 30 * i, np.uint8)
        f[:, : 8 + 8 * i] = (220, 40, 40)
        frames.append(f)
    return frames


@pytest.fixture(scope="module")
def driving(tmp_path_factory):
    folder = tmp_path_factory.mktemp("driving")
    return write_video(folder / "drive.mp4", clip(8) + clip(4), fps=FPS, audio=True)


def test_every_format_has_an_expectation():
    assert set(EXPECTED) == set(FORMATS)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_format_codec_pix_fmt_frames_fps_audio(tmp_path, driving, name):
    codec, pix_fmt, audio = EXPECTED[name]
    out = tmp_path / f"clip{FORMATS[name].extension}"
    result = export_frames(clip(), out, FPS, ExportOptions(format=name), sidecar={"seed": 1},
                           audio=AudioSource(str(driving), 0.0, N / FPS))
    assert json.loads(out.with_suffix(".json").read_text()) == {"seed": 1, "files": {"mp4": out.name}}
    if name == "png-sequence":
        assert out.is_dir() and len(list(out.glob("frame_*.png"))) == N
        target = out / PNG_PATTERN  # the frames carry no rate; the sidecar's request has it
    else:
        target = out
        assert f"{FPS:g} fps" in ffmpeg_header(out)
    info = probe_video(target)
    assert (info.video_codec, info.pix_fmt, info.frames, info.width, info.height) == (codec, pix_fmt, N, 64, 64)
    assert info.audio is audio and result.audio is audio
    assert not [p.name for p in tmp_path.iterdir() if ".partial" in p.name or p.name.endswith(".log")]


@pytest.mark.parametrize("name", ["gif", "webp"])
def test_loop_count_and_ping_pong(tmp_path, name):
    out = tmp_path / f"loop.{name}"
    export_frames(clip(), out, FPS, ExportOptions(format=name, loop=3, pingpong=True))
    image = Image.open(out)
    assert image.info["loop"] == 3
    assert image.n_frames == 2 * N - 2  # 0 1 2 3 4 5 4 3 2 1: the ends are not repeated
    levels = []
    for i in range(image.n_frames):
        image.seek(i)
        levels.append(int(np.asarray(image.convert("RGB"))[:, -1].mean() / 30 + 0.5))  # right column: 30·i
    assert levels == [0, 1, 2, 3, 4, 5, 4, 3, 2, 1]
    forever = tmp_path / f"forever.{name}"
    export_frames(clip(), forever, FPS, ExportOptions(format=name))
    assert Image.open(forever).info["loop"] == 0 and Image.open(forever).n_frames == N


def test_ping_pong_video_drops_the_audio(tmp_path, driving):
    out = tmp_path / "pp.mp4"
    result = export_frames(clip(), out, FPS, ExportOptions(pingpong=True), audio=AudioSource(str(driving), 0, 1.0))
    info = probe_video(out)
    assert info.frames == 2 * N - 2 and not info.audio and not result.audio


def test_output_suffix_must_match_the_format(tmp_path):
    with pytest.raises(ExportError, match=r"VP9 WebM .* must end in \.webm, got clip\.mp4"):
        export_frames(clip(), tmp_path / "clip.mp4", FPS, ExportOptions(format="vp9-webm"))
    with pytest.raises(ExportError, match="PNG sequence is written into a folder"):
        export_frames(clip(), tmp_path / "frames.png", FPS, ExportOptions(format="png-sequence"))
    assert list(tmp_path.iterdir()) == []


def test_request_rejects_unknown_format_encoder_loop_and_bitrate():
    request = RenderRequest(reference="a.png", motion="b.mp4", engine="warp")
    bad = request.replace(export={"format": "mkv", "encoder": "quicksync", "loop": -1, "bitrate": "fast"})
    problems = " ".join(bad.problems())
    assert "format 'mkv' is unknown" in problems and "encoder 'quicksync'" in problems
    assert "loop must be" in problems and "bitrate must look like" in problems
    assert request.replace(export={"format": "av1-webm", "bitrate": "2500k"}).problems() == []


# ------------------------------------------------------------------ encoders
@pytest.fixture
def fake_gpu(monkeypatch):
    """Pretend an NVIDIA GPU is (or is not) here and NVENC does (or does not) encode."""
    state = {"gpu": True, "works": True, "probed": []}
    monkeypatch.setattr("studio.system.platform.nvidia_gpu_present", lambda: state["gpu"])

    def works(ffmpeg, encoder):
        state["probed"].append(encoder)
        return state["works"]

    monkeypatch.setattr(export_formats, "nvenc_works", works)
    return state


def test_nvenc_used_when_a_gpu_encodes(fake_gpu):
    ffmpeg = export_formats_ffmpeg()
    assert choose_encoder(FORMATS["h264-mp4"], "auto", ffmpeg) == "h264_nvenc"
    assert choose_encoder(FORMATS["h265-mp4"], "auto", ffmpeg) == "hevc_nvenc"
    assert choose_encoder(FORMATS["h264-mp4"], "software", ffmpeg) == "libx264"
    assert choose_encoder(FORMATS["vp9-webm"], "auto", ffmpeg) == "libvpx-vp9"  # no NVENC for VP9
    args = video_args(FORMATS["h264-mp4"], ExportOptions(crf=20, preset="slow"), "h264_nvenc")
    assert args[:2] == ["-c:v", "h264_nvenc"] and "-cq" in args and args[args.index("-cq") + 1] == "20"
    assert args[args.index("-preset") + 1] == "p5"


def test_software_fallback_without_gpu_or_when_nvenc_fails(fake_gpu):
    ffmpeg = export_formats_ffmpeg()
    fake_gpu["gpu"] = False
    assert choose_encoder(FORMATS["h264-mp4"], "auto", ffmpeg) == "libx264"
    assert fake_gpu["probed"] == []  # no GPU: not even probed
    fake_gpu["gpu"], fake_gpu["works"] = True, False
    assert choose_encoder(FORMATS["av1-webm"], "auto", ffmpeg) == "libsvtav1"
    with pytest.raises(ExportError, match="NVENC encoder av1_nvenc cannot run here"):
        choose_encoder(FORMATS["av1-webm"], "nvenc", ffmpeg)
    with pytest.raises(ExportError, match="has no NVENC encoder"):
        choose_encoder(FORMATS["prores-mov"], "nvenc", ffmpeg)


def test_real_probe_on_this_machine_falls_back_cleanly(tmp_path):
    """Whatever this machine has, "auto" yields a file (NVENC where it works, else libx264)."""
    out = tmp_path / "auto.mp4"
    export_frames(clip(), out, FPS, ExportOptions(encoder="auto"))
    assert probe_video(out).video_codec == "h264"


def test_bitrate_replaces_crf():
    args = video_args(FORMATS["vp9-webm"], ExportOptions(bitrate="2M"), "libvpx-vp9")
    assert args[args.index("-b:v") + 1] == "2M" and "-crf" not in args
    args = video_args(FORMATS["h264-mp4"], ExportOptions(crf=23), "libx264")
    assert args[args.index("-crf") + 1] == "23" and "-b:v" not in args


def test_the_encoder_tune_reaches_x264_and_x265_only(tmp_path):
    for encoder, name in (("libx264", "h264-mp4"), ("libx265", "h265-mp4")):
        args = video_args(FORMATS[name], ExportOptions(tune="animation"), encoder)
        assert args[args.index("-tune") + 1] == "animation"
        assert "-tune" not in video_args(FORMATS[name], ExportOptions(), encoder)  # none: the encoder's default
    assert "-tune" not in video_args(FORMATS["vp9-webm"], ExportOptions(tune="grain"), "libvpx-vp9")
    out = tmp_path / "tuned.mp4"
    export_frames(clip(), out, FPS, ExportOptions(tune="animation"))
    assert probe_video(out).frames == N  # ffmpeg takes it


def export_formats_ffmpeg() -> str:
    from studio.media.video_io import ffmpeg_exe

    return ffmpeg_exe()


# ------------------------------------------------------------------ names
def test_template_counter_skips_taken_names(tmp_path):
    fields = {"reference": "anna", "motion": "dance", "seed": 7, "format": "gif"}
    template = tmp_path / "{reference}_{motion}_{counter:03d}.gif"
    assert expand_output_template(template, fields) == tmp_path / "anna_dance_001.gif"
    (tmp_path / "anna_dance_001.gif").write_bytes(b"")
    (tmp_path / "anna_dance_002.json").write_text("{}")  # a sidecar alone also takes the number
    assert expand_output_template(template, fields) == tmp_path / "anna_dance_003.gif"
    assert expand_output_template(tmp_path / "s{seed}.mp4", fields) == tmp_path / "s7.mp4"
    with pytest.raises(ExportError, match=r"template .* is not valid .*\{reference\}"):
        expand_output_template(tmp_path / "{nope}.mp4", fields)


def test_queue_names_and_checks_outputs_by_format(tmp_path):
    from studio.batch.queue import JobQueue, QueueError

    queue = JobQueue(tmp_path / "q.sqlite3")
    request = RenderRequest(reference="p.png", motion="m.mp4", engine="warp", export={"format": "gif"})
    queue.add(request, tmp_path / "a.gif")
    with pytest.raises(QueueError, match=r"must end in \.gif"):
        queue.add(request, tmp_path / "a.mp4")
    ids = queue.add_matrix(request, ["p.png"], ["m.mp4"], tmp_path / "out")
    assert queue.get(ids[0]).output.endswith("p__m.gif")
    frames_request = request.replace(export={"format": "png-sequence"})
    assert queue.get(queue.add(frames_request, tmp_path / "frames")).output.endswith("frames")
