"""The one place the window calls the studio's media and motion APIs.

Thin adapters over ``studio.media.video_io`` and ``studio.motion``: they shape the core's results
for the panels (e.g. frames scaled for the player) and hold no core logic of their own.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from studio.media.video_io import VideoInfo, iter_frames, load_image, probe_video
from studio.motion import available_backends, draw_pose, extract_poses
from studio.project import Clip
from studio.request.render_request import FrameSelection
from studio.system.progress import Cancelled, CancelToken, Progress, ProgressCallback, ignore_progress

#: Core functions the panels call through this module as they are.
__all__ = ["VideoInfo", "draw_pose", "extract_motion", "find_people", "load_image", "motion_available",
           "person_at", "probe_video", "read_preview_frames"]

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


# --- motion ------------------------------------------------------------------------------------------


def motion_available() -> str | None:
    """None when pose extraction works here, else the reason (from the core's backend check)."""
    reason = available_backends().get("mediapipe", "mediapipe backend missing")
    return None if reason is None else f"The mediapipe pose backend is unusable: {reason}"


def extract_motion(
    video: str, start: float, end: float | None, stride: int, max_frames: int | None,
    report: ProgressCallback, cancel: CancelToken, person: str = "auto",
) -> Clip:
    from studio.motion.people import followed_boxes

    selection = FrameSelection(start=start, end=end, stride=stride, max_frames=max_frames)
    clip = extract_poses(video, backend="mediapipe", selection=selection, report=report, cancel=cancel,
                         person=person)
    size = (clip.info.width, clip.info.height)
    return Clip(list(clip.indices), list(clip.poses), size, float(clip.info.fps), list(clip.warnings),
                list(clip.status), followed_boxes(clip.poses, clip.status, *size), str(clip.person))


def find_people(video: str, frame_index: int) -> list:
    """The people on one source frame (``studio.motion.people.Person``: box in source pixels, score)."""
    from studio.motion.people import find_people as find

    return find(video, frame_index)


def person_at(people: list, x: float, y: float):
    """The person a click at source pixel (x, y) means, or None (``studio.motion.people.person_at``)."""
    from studio.motion.people import person_at as at

    return at(people, x, y)
