"""The one place the window calls the studio core.

Every function here forwards to a public ``studio`` API (engineer C: media/motion/faces, D: requests,
renderer, queue, export, doctor, E: the warp engine). The core is built in parallel with the window, so
each call looks its API up when it is used; a missing API raises ``FeatureUnavailable`` with a message
the window shows as is, and the matching action stays disabled. Nothing here fakes a missing feature.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio.motion.types import PoseFrame
from studio.progress import CancelToken, ProgressCallback, ignore_progress

logger = logging.getLogger(__name__)


class FeatureUnavailable(RuntimeError):
    """A studio API this feature needs is not part of this build; the message says which."""


def _api(module: str, name: str, feature: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise FeatureUnavailable(
            f"{feature} needs {module}.{name}, which this build of the studio core does not provide ({exc})."
        ) from None


def has_api(module: str, name: str) -> bool:
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


# --- media -------------------------------------------------------------------------------------------


def load_image(path: str | Path) -> np.ndarray:
    """The photo as RGB uint8, EXIF orientation applied (studio.media.load_image)."""
    if has_api("studio.media", "load_image"):
        return _api("studio.media", "load_image", "Loading a photo")(path)
    # Displaying a picture is the window's own job; the core reader replaces this when it lands.
    import cv2

    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        from studio.errors import InputError

        raise InputError(f"could not read the photo {path}: not an image file (try a PNG or JPEG)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


@dataclass(frozen=True)
class VideoSummary:
    path: str
    fps: float
    frame_count: int
    duration: float
    width: int
    height: int


def probe_video(path: str | Path) -> VideoSummary:
    if has_api("studio.media", "probe_video"):
        info = _api("studio.media", "probe_video", "Opening a video")(path)
        return VideoSummary(str(path), float(info.fps), int(info.frame_count), float(info.duration),
                            int(info.width), int(info.height))
    import imageio.v2 as imageio

    from studio.errors import InputError

    try:
        reader = imageio.get_reader(str(path))
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad input file
        raise InputError(f"could not open the video {path}: {exc}") from None
    try:
        meta = reader.get_meta_data()
        fps = float(meta.get("fps") or 30.0)
        count = reader.count_frames()
        w, h = meta.get("size", (0, 0))
    finally:
        reader.close()
    if count <= 0:
        raise InputError(f"the video {path} has no frames")
    return VideoSummary(str(path), fps, count, count / fps, int(w), int(h))


def read_preview_frames(
    path: str | Path, max_side: int, max_frames: int, report: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> list[np.ndarray]:
    """Decoded frames for the window's own player, scaled so the longest side is ``max_side``.

    A failed decode is tried once more (ffmpeg can fail transiently on a heavily loaded machine); the
    first failure is logged, the second is raised."""
    from studio.progress import Cancelled

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
    import cv2

    from studio.progress import Progress

    if has_api("studio.media", "iter_frames"):
        frames_iter = (frame for _index, frame in _api("studio.media", "iter_frames", "Playback")(path))
    else:
        import imageio.v2 as imageio

        reader = imageio.get_reader(str(path))
        frames_iter = (np.asarray(f)[..., :3] for f in reader)
    frames: list[np.ndarray] = []
    try:
        for frame in frames_iter:
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
        close = getattr(frames_iter, "close", None)
        if close is not None:
            close()
    return frames


def fit_to_size(image: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The photo as the model sees it (D's shared crop/pad transform) and the 2x3 source→output matrix."""
    if has_api("studio.media", "fit_to_size"):
        return _api("studio.media", "fit_to_size", "Framing")(image, width, height)
    import cv2

    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    tx, ty = (width - w * scale) / 2, (height - h * scale) / 2
    matrix = np.array([[scale, 0, tx], [0, scale, ty]], dtype=np.float64)
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_AREA), matrix


# --- motion and faces ----------------------------------------------------------------------------------


ALIGN_METHODS = ("global", "bones", "none")


def motion_available() -> str | None:
    """None when pose extraction works here, else the reason."""
    if not has_api("studio.motion", "extract_poses"):
        return "Pose extraction (studio.motion.extract_poses) is not part of this build yet."
    backends = _api("studio.motion", "available_backends", "Pose extraction")()
    reason = backends.get("mediapipe", "mediapipe backend missing")
    return None if reason is None else f"The mediapipe pose backend is unusable: {reason}"


def detect_reference(image: np.ndarray, models_dir: str | None) -> tuple[Any, PoseFrame | None]:
    """(face box or None, the reference person's pose or None), in the photo's pixels."""
    analyze = _api("studio.faces", "analyze_reference", "Face detection")
    try:
        face = analyze(image, models_dir=models_dir)
    except Exception:  # noqa: BLE001 - a bad weights folder must not stop the embedded fallback
        face = analyze(image, models_dir=None)
    pose = None
    if has_api("studio.motion", "detect_pose"):
        pose = _api("studio.motion", "detect_pose", "Reference pose")(image)
    return face.box, pose


@dataclass
class Motion:
    """Extracted driving motion: poses in source-video pixels, one per selected frame."""

    indices: list[int]
    poses: list[PoseFrame]
    source_size: tuple[int, int]
    fps: float
    warnings: list[str]


def extract_motion(
    video: str, start: float, end: float | None, stride: int, max_frames: int | None,
    report: ProgressCallback, cancel: CancelToken,
) -> Motion:
    extract = _api("studio.motion", "extract_poses", "Pose extraction")
    selection_cls = _api("studio.media", "FrameSelection", "Pose extraction")
    selection = selection_cls(start=start, end=end, stride=stride, max_frames=max_frames)
    clip = extract(video, backend="mediapipe", selection=selection, report=report, cancel=cancel)
    return Motion(list(clip.indices), list(clip.poses), (clip.info.width, clip.info.height),
                  float(clip.info.fps), list(clip.warnings))


def align(
    motion: Motion, reference_pose_out: PoseFrame | None, out_size: tuple[int, int], method: str,
    offset_x: float, offset_y: float, scale: float,
) -> list[PoseFrame]:
    """The driving poses aligned to the reference, in output pixels (cheap: runs on the GUI thread)."""
    align_poses = _api("studio.motion", "align_poses", "Alignment")
    options_cls = _api("studio.motion", "AlignmentOptions", "Alignment")
    options = options_cls(mode=method, offset_x=offset_x, offset_y=offset_y, scale=scale)
    return align_poses(motion.poses, reference_pose_out, motion.source_size, out_size, options, fps=motion.fps)


def transform_pose(pose: PoseFrame, matrix: np.ndarray) -> PoseFrame:
    return _api("studio.motion", "transform_pose", "Alignment")(pose, matrix)


def draw_pose(pose: PoseFrame, width: int, height: int) -> np.ndarray:
    return _api("studio.motion", "draw_pose", "Skeleton drawing")(pose, width, height)


# --- render, queue, models ------------------------------------------------------------------------------

PreviewCallback = Callable[[np.ndarray], None]


def render_available(engine: str) -> str | None:
    """None when a render with this engine can run here, else what is missing."""
    from ui import render_bridge

    return render_bridge.render_available(engine)
