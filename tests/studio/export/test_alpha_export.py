"""Transparent exports: every alpha-capable format keeps the alpha, read back with the decoder; the others refuse.

The frames hold a known alpha pattern (opaque left third, a half-transparent band, transparent right third)
and colours that change per frame; each file is decoded again (ffmpeg with libvpx for VP9's alpha, PIL for
the animated WebP, PNGs as they are) and compared away from the pattern's edges, where chroma subsampling
and the codecs' filters blur across them.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from studio.errors import ExportError
from studio.export.exporter import export_frames, probe_video
from studio.media.video_io import ffmpeg_exe
from studio.request.render_request import ExportOptions
from studio.request.settings import FORMATS, alpha_formats, alpha_problem

H, W, N = 48, 96, 4
#: Alpha levels of the three bands, and the columns sampled in each (4 px clear of every edge).
LEVELS = (255, 128, 0)
COLUMNS = (slice(4, 28), slice(36, 60), slice(68, 92))


def rgba_frames() -> list[np.ndarray]:
    frames = []
    for i in range(N):
        f = np.zeros((H, W, 4), np.uint8)
        f[..., 0], f[..., 1], f[..., 2] = 60 + 40 * i, 120, 200 - 30 * i
        for level, (start, stop) in zip(LEVELS, ((0, 32), (32, 64), (64, 96)), strict=True):
            f[:, start:stop, 3] = level
        frames.append(f)
    return frames


def decode_rgba(path, fmt: str) -> np.ndarray:
    """Every frame of ``path`` as RGBA uint8 [N, H, W, 4]."""
    if fmt == "webp":
        from PIL import Image, ImageSequence

        with Image.open(path) as image:
            return np.stack([np.array(f.convert("RGBA")) for f in ImageSequence.Iterator(image)])
    if fmt == "png-sequence":
        from PIL import Image

        files = sorted(path.glob("frame_*.png"), key=lambda p: int(p.stem.split("_")[1]))
        return np.stack([np.array(Image.open(f)) for f in files])
    # ffmpeg's own VP9 decoder drops the alpha (it lives in a side stream): libvpx's reads it
    decoder = ["-c:v", "libvpx-vp9"] if fmt == "vp9-webm" else []
    raw = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *decoder, "-i", str(path),
                          "-f", "rawvideo", "-pix_fmt", "rgba", "pipe:1"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 4)


def test_the_alpha_formats_are_the_four_the_issue_names():
    assert sorted(alpha_formats()) == ["png-sequence", "prores-mov", "vp9-webm", "webp"]


@pytest.mark.parametrize("fmt", ["prores-mov", "vp9-webm", "webp", "png-sequence"])
def test_alpha_survives_the_round_trip(tmp_path, fmt):
    frames = rgba_frames()
    out = tmp_path / ("clip" + FORMATS[fmt].extension)
    result = export_frames(frames, out, fps=8, options=ExportOptions(format=fmt, crf=10))
    back = decode_rgba(result.path, fmt)
    assert len(back) == N
    # lossy codecs: alpha within a few levels; the 10-bit ProRes 4444 and the PNGs nearly exact
    tolerance = {"png-sequence": 0, "prores-mov": 2}.get(fmt, 6)
    for i in range(N):
        for level, cols in zip(LEVELS, COLUMNS, strict=True):
            alpha = back[i, 4:-4, cols, 3].astype(int)
            assert np.abs(alpha - level).max() <= tolerance, (fmt, i, level, alpha.min(), alpha.max())
        opaque = back[i, 4:-4, COLUMNS[0], :3].astype(int)
        assert np.abs(opaque - frames[i][0, 0, :3].astype(int)).max() <= 8  # colours kept where opaque


@pytest.mark.parametrize("fmt", ["prores-mov", "vp9-webm"])
def test_the_video_stream_says_it_has_alpha(tmp_path, fmt):
    out = tmp_path / ("clip" + FORMATS[fmt].extension)
    export_frames(rgba_frames(), out, fps=8, options=ExportOptions(format=fmt, crf=10))
    info = probe_video(out)
    from studio.media.video_io import ffmpeg_header

    header = ffmpeg_header(out)
    # ProRes 4444 decodes to a yuva format; VP9 marks its side stream with alpha_mode
    assert info.pix_fmt.startswith("yuva") or "alpha_mode" in header, header


@pytest.mark.parametrize("fmt", [name for name in FORMATS if name not in alpha_formats()])
def test_a_format_without_alpha_refuses_transparent_frames(tmp_path, fmt):
    out = tmp_path / ("clip" + FORMATS[fmt].extension)
    with pytest.raises(ExportError, match="no alpha channel"):
        export_frames(rgba_frames(), out, fps=8, options=ExportOptions(format=fmt))
    assert alpha_problem(fmt) is not None
    assert not out.exists()


def test_an_opaque_export_is_unchanged_by_the_alpha_support(tmp_path):
    frames = [f[..., :3].copy() for f in rgba_frames()]
    result = export_frames(frames, tmp_path / "clip.mov", fps=8, options=ExportOptions(format="prores-mov"))
    assert not probe_video(result.path).pix_fmt.startswith("yuva")
