"""The export formats as ffmpeg runs them. The table itself (the set ComfyUI's VideoHelperSuite users expect) is
``studio.request.settings.FORMATS``, beside the request setting that chooses a row.

Each row says which ffmpeg encoder, pixel format and container make the file, how quality is set, which
audio codec the container takes, and which NVENC encoder replaces the software one on an NVIDIA GPU.
``output_args`` turns a row plus the request's ``ExportOptions`` into ffmpeg output arguments;
``studio.export.exporter`` runs them. Everything here is data and pure functions, except the one-time checks of what
the bundled ffmpeg (and the GPU) can actually do.
"""

from __future__ import annotations

import functools
import logging
import re
import subprocess
from pathlib import Path
from typing import Any

from studio.errors import ExportError
from studio.request.settings import FORMATS, ExportFormat, alpha_problem

log = logging.getLogger(__name__)


#: x264/x265 speed presets map onto NVENC's p1 (fastest) … p7 (best).
_NVENC_PRESETS = {"ultrafast": "p1", "superfast": "p1", "veryfast": "p2", "faster": "p3", "fast": "p3",
                  "medium": "p4", "slow": "p5", "slower": "p6", "veryslow": "p7"}
#: The PNG sequence's file names inside its folder.
PNG_PATTERN = "frame_%05d.png"


def export_format(name: str) -> ExportFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ExportError(f"export format {name!r} is unknown; choose one of {', '.join(FORMATS)}") from None


def format_for_path(path: str | Path) -> ExportFormat | None:
    """The default format for an output's suffix (.webm → VP9, .mov → ProRes …); None when none matches."""
    suffix = Path(path).suffix.lower()
    return next((f for f in FORMATS.values() if f.extension == suffix), None)


# ------------------------------------------------------------------ what this ffmpeg and machine can do
@functools.lru_cache(maxsize=4)
def available_encoders(ffmpeg: str) -> frozenset[str]:
    result = subprocess.run([ffmpeg, "-hide_banner", "-encoders"], capture_output=True, text=True, errors="replace")
    return frozenset(re.findall(r"^\s*[VAS][\w.]{5}\s+(\S+)", result.stdout, re.MULTILINE))


@functools.lru_cache(maxsize=8)
def nvenc_works(ffmpeg: str, encoder: str) -> bool:
    """Encode one small black frame with ``encoder``: listed encoders fail without a GPU, driver or NVENC unit
    (an H100/H200 has none), so only a real encode says whether it can be used."""
    cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "color=black:s=256x256:r=1",
           "-frames:v", "1", "-c:v", encoder, "-f", "null", "-"]
    try:
        ok = subprocess.run(cmd, capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    log.info("NVENC encoder %s %s", encoder, "works" if ok else "is not usable here; using the software encoder")
    return ok


def choose_encoder(fmt: ExportFormat, preference: str, ffmpeg: str) -> str:
    """NVENC when asked (or on "auto" when an NVIDIA GPU is there and the encoder works), else the software one."""
    from studio.system.platform import nvidia_gpu_present

    if preference != "software" and fmt.nvenc:
        wanted = preference == "nvenc" or nvidia_gpu_present()
        if wanted and fmt.nvenc in available_encoders(ffmpeg) and nvenc_works(ffmpeg, fmt.nvenc):
            return fmt.nvenc
        if preference == "nvenc":
            raise ExportError(f"the NVENC encoder {fmt.nvenc} cannot run here (no NVIDIA GPU with NVENC, or no "
                              f"driver); use --encoder auto or software")
    elif preference == "nvenc":
        raise ExportError(f"{fmt.label} has no NVENC encoder; use --encoder auto or software")
    if fmt.encoder not in available_encoders(ffmpeg):
        raise ExportError(f"this ffmpeg ({ffmpeg}) has no {fmt.encoder} encoder, needed for {fmt.label}; "
                          f"install imageio-ffmpeg>=0.6 or choose another --format")
    return fmt.encoder


# ------------------------------------------------------------------ arguments
def video_args(fmt: ExportFormat, options: Any, encoder: str, alpha: bool = False) -> list[str]:
    """``-c:v … -pix_fmt …`` plus quality and the format's extras, for ``options`` (an ``ExportOptions``);
    with ``alpha`` the format's alpha-carrying pixel format (and its alpha extras)."""
    if alpha and not fmt.alpha_pix_fmt:
        raise ExportError(alpha_problem(fmt.name))
    args = ["-c:v", encoder]
    if fmt.name == "gif":
        # One palette for the whole clip (palettegen needs every frame, fine for the short clips GIFs hold).
        args = ["-vf", "split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=sierra2_4a",
                "-c:v", "gif"]
    else:
        args += ["-pix_fmt", fmt.alpha_pix_fmt if alpha and fmt.alpha_pix_fmt else fmt.pix_fmt]
    if encoder.endswith("_nvenc"):
        args += ["-preset", _NVENC_PRESETS.get(options.preset, "p4"), "-rc", "vbr"]
        args += ["-b:v", options.bitrate] if options.bitrate else ["-cq", str(options.crf), "-b:v", "0"]
    elif fmt.quality in ("crf", "crf-vpx"):
        if options.bitrate:
            args += ["-b:v", options.bitrate]
        else:
            args += ["-crf", str(options.crf)] + (["-b:v", "0"] if fmt.quality == "crf-vpx" else [])
        if encoder in ("libx264", "libx265"):
            args += ["-preset", options.preset] + (["-tune", options.tune] if options.tune != "none" else [])
        elif encoder == "libsvtav1":
            args += ["-preset", "8"]  # SVT-AV1's 0 (slowest) … 13; 8 is its quick, good-looking middle
    elif fmt.quality == "webp":
        # crf 0 (best) … 51 maps onto WebP quality 100 … 49: the same "lower is better" knob as the videos.
        args += ["-quality", str(100 - options.crf), "-lossless", "0"]
    args += list(fmt.alpha_extra if alpha and fmt.alpha_extra is not None else fmt.extra)
    if fmt.loops:
        args += ["-loop", str(options.loop)]
    return args


def audio_args(fmt: ExportFormat) -> list[str]:
    """Audio encoding for the format's container (empty when it holds no audio)."""
    if fmt.audio_codec is None:
        return []
    rate = {"aac": ["-b:a", "160k"], "libopus": ["-b:a", "128k"]}.get(fmt.audio_codec, [])
    return ["-c:a", fmt.audio_codec, *rate]


def carries_metadata(fmt: ExportFormat) -> bool:
    """mp4/mov/webm keep a comment tag (the request); images do not (the sidecar has it anyway)."""
    return fmt.muxer in ("mp4", "mov", "webm")
