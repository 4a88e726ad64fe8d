"""Interpolate a whole video: read it, fill in frames to a higher rate, write it in any export format with its
audio, and a sidecar saying what was done. Frames stream through (two source frames in memory at a time)."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from studio.errors import InputError
from studio.export.exporter import AudioSource, VideoExporter, now_iso
from studio.interpolation.timing import plan, target_fps
from studio.media.video_io import ffmpeg_exe, iter_frames, probe_video
from studio.request.settings import ExportOptions
from studio.system.progress import ProgressCallback, ignore_progress

#: A clip whose frame intervals differ by more than this ratio (longest / shortest) has a variable frame rate.
VFR_RATIO = 1.5


@dataclass
class InterpolationResult:
    path: Path
    sidecar: Path
    frames: int
    fps: float
    source_frames: int
    source_fps: float
    interpolated: int
    method: str
    device: str
    seconds: float
    audio: bool
    extras: dict[str, Path] = field(default_factory=dict)


def check_constant_frame_rate(path: str | Path) -> None:
    """Refuse a video whose frames are not evenly spaced: the plan assumes one rate (ffmpeg's ``vfrdet``)."""
    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0", "-vf", "vfrdet", "-an",
         "-f", "null", "-"], capture_output=True, text=True, errors="replace", timeout=3600)
    found = re.findall(r"VFR:([\d.]+) \((\d+)/(\d+)\)(?: min: (\d+) max: (\d+))?", result.stderr)
    if not found:
        return
    _fraction, variable, _total, shortest, longest = found[-1]
    if int(variable) and shortest and int(longest) > VFR_RATIO * max(int(shortest), 1):
        raise InputError(
            f"{path}: the video has a variable frame rate (frame intervals from {shortest} to {longest} time units); "
            "convert it to a constant rate first, e.g. `ffmpeg -i IN -vf fps=30 OUT.mp4`")


def interpolate_video(source: str | Path, out: str | Path, *, factor: int | None = None, fps: float | None = None,
                      method: str = "auto", models: str | Path | None = None, options: ExportOptions | None = None,
                      progress: ProgressCallback = ignore_progress, overwrite: bool = False,
                      interpolator=None) -> InterpolationResult:
    """``source`` (any video or frame folder the studio reads) at ``factor``× or ``fps`` into ``out``."""
    from studio.interpolation.methods import make_interpolator

    started = time.perf_counter()
    source, out = Path(source), Path(out)
    info = probe_video(source)
    if info.kind == "image" or info.frame_count < 2:
        raise InputError(f"{source}: the clip has {info.frame_count} frame; interpolation needs at least 2 frames")
    out_fps = target_fps(info.fps, factor, fps)
    if info.kind == "video":
        check_constant_frame_rate(source)
    moments = plan(info.frame_count, info.fps, out_fps)
    interpolator = interpolator or make_interpolator(method, models)
    options = options or ExportOptions()
    audio = AudioSource(str(source), 0.0, len(moments) / out_fps) if info.kind == "video" else None
    exporter = VideoExporter(out, out_fps, info.width, info.height, options, audio=audio, overwrite=overwrite,
                             inputs=(source,), metadata={"interpolated": True, "method": interpolator.name})
    interpolated = 0
    with exporter:
        frames = iter_frames(source, info=info)
        index, current = next(frames)
        upcoming = next(frames, None)
        position = 0
        while position < len(moments):
            moment = moments[position]
            while moment.index > index and upcoming is not None:  # advance to the pair this moment lies in
                index, current = upcoming
                upcoming = next(frames, None)
            if moment.is_source or upcoming is None:
                exporter.write(current)
                position += 1
                continue
            # every moment inside this pair at once: one flow estimate serves them all
            batch: list[float] = []
            while position + len(batch) < len(moments) and moments[position + len(batch)].index == index \
                    and not moments[position + len(batch)].is_source:
                batch.append(moments[position + len(batch)].t)
            for frame in interpolator.between(current, upcoming[1], batch):
                exporter.write(frame)
            position += len(batch)
            interpolated += len(batch)
            progress_report(progress, position, len(moments))
        seconds = time.perf_counter() - started
        sidecar = {
            "kind": "interpolation", "created": now_iso(), "source": str(source.absolute()),
            "source_fps": info.fps, "source_frames": info.frame_count, "fps": out_fps, "frames": len(moments),
            "factor": factor, "requested_fps": fps, "method": interpolator.name, "device": interpolator.device,
            "interpolated_frames": interpolated, "source_frames_copied": len(moments) - interpolated,
            "moments": [[m.index, round(m.t, 6)] for m in moments], "seconds": round(seconds, 3),
            "export": dataclasses.asdict(options),
        }
        result = exporter.finish(sidecar)
    progress_report(progress, len(moments), len(moments))
    return InterpolationResult(result.path, result.sidecar, result.frames, out_fps, info.frame_count, info.fps,
                               interpolated, interpolator.name, interpolator.device, seconds, result.audio,
                               result.extras)


def progress_report(progress: ProgressCallback, done: int, total: int) -> None:
    from studio.system.progress import Progress

    progress(Progress("interpolate", done, total, f"{done}/{total} frames"))
