"""The one place the window calls the studio's media, motion and face APIs.

Thin adapters over ``studio.media``, ``studio.motion`` and ``studio.faces``: they shape the core's results
for the panels (e.g. frames scaled for the player) and hold no core logic of their own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio.faces import analyze_reference
from studio.media import FrameSelection, VideoInfo, fit_to_size, iter_frames, load_image, probe_video
from studio.motion import (
    AlignmentOptions,
    PoseFrame,
    align_motion,
    available_backends,
    detect_pose,
    draw_pose,
    extract_poses,
    transform_pose,
)
from studio.progress import Cancelled, CancelToken, Progress, ProgressCallback, ignore_progress

#: Core functions the panels call through this module as they are.
__all__ = [
    "ALIGN_METHODS", "Motion", "VideoInfo", "align", "detect_reference", "draw_pose", "extract_motion",
    "fit_to_size", "load_image", "motion_available", "probe_video", "read_preview_frames", "transform_pose",
]

logger = logging.getLogger(__name__)

# --- media -------------------------------------------------------------------------------------------


def read_preview_frames(
    path: str | Path, max_side: int, max_frames: int, report: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> list[np.ndarray]:
    """Decoded frames for the window's own player, scaled so the longest side is ``max_side``.

    A failed decode is tried once more (ffmpeg can fail transiently on a heavily loaded machine); the
    first failure is logged, the second is raised."""
    try:
        return _read_preview_frames(path, max_side, max_frames, report, cancel)
    except Cancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - retried once, then raised
        logger.warning("decoding %s for playback failed (%s); trying once more", path, exc)
        return _read_preview_frames(path, max_side, max_frames, report, cancel)


def _read_preview_frames(
    path: str | Path, max_side: int, max_frames: int, report: ProgressCallback, cancel: CancelToken | None,
) -> list[np.ndarray]:
    import cv2  # imported on the decoding worker thread, not at window startup

    frames_iter = iter_frames(path)
    frames: list[np.ndarray] = []
    try:
        for _index, frame in frames_iter:
            if cancel is not None:
                cancel.raise_if_cancelled()
            h, w = frame.shape[:2]
            scale = min(1.0, max_side / max(h, w))
            if scale < 1.0:
                frame = cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
            frames.append(np.ascontiguousarray(frame))
            report(Progress("load", len(frames), max_frames, "decoding for playback"))
            if len(frames) >= max_frames:
                break
    finally:
        frames_iter.close()  # stops the decoder when the player has enough frames
    return frames


# --- motion and faces ----------------------------------------------------------------------------------


ALIGN_METHODS = ("global", "bones", "none")


def motion_available() -> str | None:
    """None when pose extraction works here, else the reason (from the core's backend check)."""
    reason = available_backends().get("mediapipe", "mediapipe backend missing")
    return None if reason is None else f"The mediapipe pose backend is unusable: {reason}"


def detect_reference(image: np.ndarray, models_dir: str | None) -> tuple[Any, PoseFrame | None]:
    """(face box or None, the reference person's pose or None), in the photo's pixels."""
    try:
        face = analyze_reference(image, models_dir=models_dir)
    except Exception:  # noqa: BLE001 - a bad weights folder must not stop the embedded face detector
        face = analyze_reference(image, models_dir=None)
    return face.box, detect_pose(image)


@dataclass
class Motion:
    """Extracted driving motion: poses in source-video pixels, one per selected frame."""

    indices: list[int]
    poses: list[PoseFrame]
    source_size: tuple[int, int]
    fps: float
    warnings: list[str]
    #: Per frame: "detected", "held" or "none" (see studio.motion.presence).
    status: list[str] | None = None


def extract_motion(
    video: str, start: float, end: float | None, stride: int, max_frames: int | None,
    report: ProgressCallback, cancel: CancelToken,
) -> Motion:
    selection = FrameSelection(start=start, end=end, stride=stride, max_frames=max_frames)
    clip = extract_poses(video, backend="mediapipe", selection=selection, report=report, cancel=cancel)
    return Motion(list(clip.indices), list(clip.poses), (clip.info.width, clip.info.height),
                  float(clip.info.fps), list(clip.warnings), list(clip.status))


def align(
    motion: Motion, reference_out: np.ndarray, method: str, offset_x: float, offset_y: float, scale: float,
) -> list[PoseFrame]:
    """The driving poses aligned to the fitted photo, in output pixels, by the render's own code path
    (``studio.motion.align_motion``); the photo's pose is detected once per fitted image, then remembered."""
    options = AlignmentOptions(mode=method, offset_x=offset_x, offset_y=offset_y, scale=scale)
    return align_motion(motion.poses, motion.status, motion.source_size, motion.fps, reference_out, options).poses
