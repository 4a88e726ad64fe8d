"""Pose extraction from a driving video, the reference photo's pose, and the whole motion preparation.

``extract_poses`` streams the selected frames through a backend, keeps only real people (``presence``), resets
the tracker at scene cuts, follows the main person, marks each frame detected / held / none, and caches the result under ``cache_dir("motion")`` keyed by a
hash of (video content, backend, options, frame selection), so reopening a clip is instant.
``prepare_motion`` adds the reference pose, the alignment, smoothing and the per-frame face boxes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from studio.errors import InputError, StudioError
from studio.export.atomic import write_text_atomic
from studio.media.read_ahead import ReadAheadFrames
from studio.media.video_io import VideoInfo, iter_frames, probe_video, selected_indices
from studio.motion.align import AlignmentOptions, align_poses
from studio.motion.backends import DEFAULT_BACKEND, create_backend
from studio.motion.draw import draw_pose
from studio.motion.head import face_box_from_pose
from studio.motion.people import PickedPerson, missed_pick, parse_pick, resolve_pick
from studio.motion.presence import (
    DETECTED,
    HELD,
    SceneCuts,
    drop_flickers,
    fill_gaps,
    gap_report,
    hold_frames,
    is_real_person,
)
from studio.motion.tracking import select_person
from studio.motion.types import PoseFrame
from studio.request.render_request import FrameSelection
from studio.request.settings import POSE_BACKENDS as BACKENDS  # noqa: F401 - studio.motion exports it
from studio.system.paths import cache_dir
from studio.system.progress import CancelToken, Progress, ProgressCallback, ignore_progress

CACHE_VERSION = 5  # 2: per-frame status (detected/held/none), plausibility, scene-cut resets; 3: the follower;
# 4: MediaPipe hips and shoulders in COCO's convention (landmark_convention); 5: face and hands on poses found on
# the person's own region, another person's face or hands refused (foreign_parts, facing)


def available_backends(dwpose_dir: str | Path | None = None) -> dict[str, str | None]:
    """Backend name -> None when usable here, else the reason it is not."""
    status: dict[str, str | None] = {}
    try:
        import mediapipe  # noqa: F401

        status["mediapipe"] = None
    except ImportError as error:  # pragma: no cover - pinned dependency
        status["mediapipe"] = f"mediapipe is not installed ({error})"
    if dwpose_dir is None:
        status["dwpose"] = "needs yolox_l.onnx and dw-ll_ucoco_384.onnx (give their folder)"
    else:
        from studio.motion.dwpose import find_dwpose_models

        try:
            find_dwpose_models(dwpose_dir)
            status["dwpose"] = None
        except StudioError as error:
            status["dwpose"] = str(error)
    return status


def _backend_for(first_frame: np.ndarray, backend: str, model_dir: str | Path | None):
    """The pose backend for a clip: a rendered skeleton clip (DWPose/OpenPose colours on black) is read back
    instead of being searched for people (the person detector finds nobody in it)."""
    from studio.motion.skeleton_video import SkeletonBackend, looks_like_skeleton

    if looks_like_skeleton(first_frame):
        return SkeletonBackend()
    return create_backend(backend, video=True, model_dir=model_dir)


def _follower(tracker, backend: str, model_dir: str | Path | None, person, fps: float):
    """The person follower over ``tracker`` (video mode) with an image-mode searcher and the person segmenter.

    ``person``: "auto", N, or a ``people.PickedPerson`` (the others seen beside them are remembered as others)."""
    from studio.motion.follow import PersonFollower
    from studio.motion.landmark_net import LandmarkNet
    from studio.motion.segmentation import PersonSegmenter

    # mediapipe keeps tracking state between frames, so the search windows need their own model; DWPose does not
    searcher = create_backend(backend, video=False, model_dir=model_dir) if backend == "mediapipe" else tracker
    # mediapipe's single-person model may return someone else overlapping the person: its landmark model is then
    # run on the person's own region (DWPose finds everyone in the window already)
    looker = LandmarkNet() if backend == "mediapipe" else None
    follower = PersonFollower(tracker, searcher, PersonSegmenter(), person, fps=fps, looker=looker)
    if isinstance(person, PickedPerson):
        follower.others = list(person.others)
    return follower


def _whom_to_follow(path: Path, person: str | int, info: VideoInfo, backend: str,
                    model_dir: str | Path | None) -> str | int | PickedPerson:
    """What the follower is given for ``person``: "auto" and N as they are, a pick ``@F:X,Y`` resolved on its
    frame (``people.resolve_pick``: InputError for a frame or point off the clip, or nobody there)."""
    pick = parse_pick(person)
    return person if pick is None else resolve_pick(path, pick, info, backend, model_dir)


def _opening_samples(frames: ReadAheadFrames, fps: float, total: int) -> list[tuple[int, np.ndarray]]:
    """(selected frame number, frame) of the samples over the first second that "auto" chooses by (``opening``),
    looked ahead at from the first frame: the frames up to the last sample are then handed out again, in order,
    without being decoded twice (``read_ahead``)."""
    from studio.motion.opening import sample_frames

    wanted = sample_frames(fps, total)
    return [(number, frame) for number, (_, frame) in enumerate(frames.look_ahead(max(wanted))) if number in wanted]


def parse_person(value: str | int | None) -> str | int:
    """``--person``: "auto" (the person most prominent over the first second), N ≥ 1 (the N-th person from the
    left) or "@F:X,Y" (the person at source pixel X,Y of source frame F, ``people``)."""
    if value is None or str(value).strip().lower() == "auto":
        return "auto"
    pick = parse_pick(value)
    if pick is not None:
        return pick.text
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if number < 1:
        raise InputError(f"--person must be auto, a number from 1 (the first person from the left) or @F:X,Y (the "
                         f"person at pixel X,Y of frame F), got {value!r}")
    return number


def _handed_on(pose: PoseFrame | None, model) -> PoseFrame | None:
    """``pose`` as the studio hands it on: in COCO's convention where the backend's points are not
    (``to_coco``: MediaPipe's hips and shoulders; the photo and the clip get the same)."""
    to_coco = getattr(model, "to_coco", None)
    return pose if pose is None or to_coco is None else to_coco(pose)


def detect_pose(image_rgb: np.ndarray, backend: str = DEFAULT_BACKEND, model_dir: str | Path | None = None) -> PoseFrame | None:
    """The main person's pose in one image (pixels of that image), or None when nobody is found."""
    model = create_backend(backend, video=False, model_dir=model_dir)
    try:
        return _handed_on(select_person(model.detect(np.ascontiguousarray(image_rgb)), None), model)
    finally:
        model.close()


@dataclass
class MotionClip:
    """Poses of the main person in the selected source frames (source pixels)."""

    info: VideoInfo
    backend: str
    indices: list[int]
    poses: list[PoseFrame]
    warnings: list[str] = field(default_factory=list)
    #: True for frames where nobody was found and the nearest real pose stands in (status held or none).
    held: list[bool] = field(default_factory=list)
    #: Per frame: "detected", "held" (a short gap) or "none" (a long stretch without anyone), see ``presence``.
    status: list[str] = field(default_factory=list)
    #: Who was followed: "auto" (the most prominent person) or N (the N-th from the left), see ``follow``.
    person: str | int = "auto"

    def __post_init__(self) -> None:
        if not self.status:
            self.status = [HELD if h else DETECTED for h in self.held] or [DETECTED] * len(self.poses)
        if not self.held:
            self.held = [s != DETECTED for s in self.status]

    def to_json(self) -> dict:
        return {
            "info": self.info.to_dict(), "backend": self.backend, "indices": self.indices,
            "poses": [p.to_json() for p in self.poses], "warnings": self.warnings, "held": self.held,
            "status": self.status, "person": self.person,
        }

    @classmethod
    def from_json(cls, data: dict) -> MotionClip:
        return cls(VideoInfo(**data["info"]), data["backend"], list(data["indices"]),
                   [PoseFrame.from_json(p) for p in data["poses"]], list(data["warnings"]), list(data["held"]),
                   list(data.get("status") or []), data.get("person", "auto"))


def content_hash(path: str | Path) -> str:
    """BLAKE2 of the file's bytes (or of every frame file of a folder, in order)."""
    path = Path(path)
    digest = hashlib.blake2b(digest_size=16)
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.name.encode() if path.is_dir() else b"")
        with open(file, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _cache_file(path: Path, backend: str, selection: FrameSelection, model_dir: str | Path | None,
                person: str | int = "auto") -> Path | None:
    model_key = None
    if backend == "dwpose" and model_dir is not None:
        from studio.motion.dwpose import find_dwpose_models

        model_key = [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in find_dwpose_models(model_dir)]
    key = json.dumps({"v": CACHE_VERSION, "content": content_hash(path), "backend": backend,
                      "models": model_key, "selection": selection.to_dict(),
                      "person": person}, sort_keys=True)
    try:
        folder = cache_dir("motion")
    except OSError as error:  # a read-only or full data folder: extract without a cache
        logging.getLogger(__name__).warning("the motion cache is off: %s", error)
        return None
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def extract_poses(
    video_path: str | Path,
    backend: str = DEFAULT_BACKEND,
    selection: FrameSelection | None = None,
    report: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    use_cache: bool = True,
    model_dir: str | Path | None = None,
    person: str | int = "auto",
) -> MotionClip:
    """The followed person's pose in every selected frame of ``video_path`` (source pixels).

    Frames without a real person take the nearest real pose, marked ``held`` (gaps up to half a second) or
    ``none`` (longer; a warning names the frame ranges); a clip with nobody at all raises ``InputError``. Cancelling raises ``studio.system.progress.Cancelled`` and caches nothing.
    """
    path = Path(video_path)
    selection = selection or FrameSelection()
    info = probe_video(path)
    person = parse_person(person)
    cache_file = _cache_file(path, backend, selection, model_dir, person) if use_cache else None
    if cache_file is not None and cache_file.is_file():
        try:
            clip = MotionClip.from_json(json.loads(cache_file.read_text()))
            report(Progress("extract", len(clip.poses), len(clip.poses), "motion loaded from the cache"))
            logging.getLogger(__name__).info("motion cache hit for %s: %s", path, cache_file.name)
            return clip
        except (ValueError, KeyError, TypeError):
            cache_file.unlink(missing_ok=True)  # a stale or damaged entry: extract again

    indices = selected_indices(info, selection)
    total = len(indices)
    model = None
    follower = None
    whom: str | int | PickedPerson = person  # who the follower looks for (``_whom_to_follow``)
    found: list[PoseFrame | None] = []
    read: list[int] = []
    previous = None
    cuts = SceneCuts()
    frames = ReadAheadFrames(lambda: iter_frames(path, selection, info))
    try:
        report(Progress("extract", 0, total, f"finding poses with {backend}"))
        for index, frame in frames:
            if cancel is not None:
                cancel.raise_if_cancelled()
            new_shot = cuts(frame)
            if model is None:
                model = _backend_for(frame, backend, model_dir)
                if getattr(model, "name", backend) != backend:
                    report(Progress("extract", 0, total, "a rendered skeleton clip: reading its poses back"))
                else:
                    whom = _whom_to_follow(path, person, info, backend, model_dir)
                    follower = _follower(model, backend, model_dir, whom, info.fps / max(1, selection.stride))
                    if person == "auto":
                        follower.choose_over(_opening_samples(frames, follower.fps, total))
            if follower is not None:
                if new_shot:
                    # a new shot: the person's place says nothing now, so the whole frame is searched
                    follower.scene_cut()
                if isinstance(whom, PickedPerson):
                    whom.now = index  # a picked person is chosen by place on their own frame (``people``)
                pose = follower.step(frame)
            else:
                height, width = frame.shape[:2]
                pose = select_person([c for c in model.detect(frame) if is_real_person(c, width, height)], previous)
            found.append(_handed_on(pose, model))
            read.append(index)
            previous = pose or previous
            report(Progress("extract", len(found), total, f"frame {index}"))
    finally:
        frames.close()
        parts = [model] + ([follower.searcher, follower.segmenter, follower.own_look.looker] if follower is not None else [])
        for part in dict.fromkeys(p for p in parts if p is not None):  # the searcher may be the tracker itself
            part.close()
    if not read:
        raise InputError(f"{path}: no frames could be read")
    if all(p is None for p in found):
        raise InputError(f"{path}: no person was found in any of the {len(read)} frames; choose a clip showing a person")

    max_hold = hold_frames(info.fps, selection.stride)
    poses, status = fill_gaps(drop_flickers(found, max_hold), max_hold)
    notes = []
    missed = missed_pick(whom, read, found) if isinstance(whom, PickedPerson) else None
    if missed:
        notes.append(missed)
    long_gaps = gap_report(read, status)
    if long_gaps:
        notes.append(long_gaps)
    elif HELD in status:
        notes.append(f"no person found in {status.count(HELD)} of {len(status)} frames (short gaps); "
                     "the nearest pose was held there")
    for note in notes:
        warnings.warn(f"{path}: {note}", stacklevel=2)
    held = [s != DETECTED for s in status]
    # Round like the cache file does, so a fresh extraction and a cached one return identical keypoints.
    clip = MotionClip.from_json(MotionClip(info, getattr(model, "name", backend), read, poses, notes, held, status,
                                            person).to_json())
    if cache_file is not None:
        try:
            write_text_atomic(cache_file, json.dumps(clip.to_json()))
        except OSError as error:  # the cache only saves time: a full or read-only data folder costs nothing else
            logging.getLogger(__name__).warning("the motion cache was not written: %s", error)
    return clip


@dataclass
class PreparedMotion:
    """Aligned motion ready for rendering: poses and face boxes in output pixels."""

    clip: MotionClip
    reference_pose: PoseFrame | None
    poses: list[PoseFrame]
    face_boxes: list[tuple[float, float, float, float] | None]
    width: int
    height: int
    options: AlignmentOptions
    warnings: list[str] = field(default_factory=list)

    def pose_images(self) -> Iterator[np.ndarray]:
        """The DWPose-style skeleton image of each frame (RGB uint8 [height, width, 3]), drawn on demand."""
        for pose in self.poses:
            yield draw_pose(pose, self.width, self.height)


@dataclass
class AlignedMotion:
    poses: list[PoseFrame]
    reference_pose: PoseFrame | None
    warnings: list[str]


#: Process-wide registry: the photo's detected pose per fitted image (pixels hash, shape, backend, model folder),
#: written only by ``reference_pose_on``; at most 17 entries, handed out as copies. Per process, not per object, so
#: the render and the window's alignment view, which hold no object in common, share one detection.
_REFERENCE_POSES: dict[tuple, PoseFrame | None] = {}


def reference_pose_on(fitted_rgb: np.ndarray, backend: str = DEFAULT_BACKEND,
                      model_dir: str | Path | None = None) -> PoseFrame | None:
    """The person's pose on the photo as fitted to the output size (output pixels); remembered per image.

    The render and the window's alignment view both detect on the *fitted* photo, so they align to the same
    reference pose; the small per-process memory makes the window's re-alignments instant.
    """
    image = np.ascontiguousarray(fitted_rgb)
    key = (hashlib.blake2b(image.tobytes(), digest_size=16).hexdigest(), image.shape, backend, str(model_dir))
    if key not in _REFERENCE_POSES:
        if len(_REFERENCE_POSES) > 16:
            _REFERENCE_POSES.clear()
        _REFERENCE_POSES[key] = detect_pose(image, backend, model_dir)
    pose = _REFERENCE_POSES[key]
    return None if pose is None else pose.copy()


def align_motion(
    poses: list[PoseFrame], status: list[str] | None, src_size: tuple[int, int], fps: float, fitted_rgb: np.ndarray,
    options: AlignmentOptions, backend: str = DEFAULT_BACKEND, model_dir: str | Path | None = None,
    reference_pose: PoseFrame | None = None,
) -> AlignedMotion:
    """The one alignment path (issue 12): the render, ``extract-motion`` and the window's alignment view all
    call this with the fitted photo, so what the user tunes is exactly what renders.

    ``reference_pose`` overrides the detection on ``fitted_rgb`` (output pixels).
    """
    height, width = fitted_rgb.shape[:2]
    notes: list[str] = []
    if reference_pose is None:
        reference_pose = reference_pose_on(fitted_rgb, backend, model_dir)
    if reference_pose is None and options.mode != "none":
        notes.append("no person found in the reference photo; the motion is scaled to the frame instead")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        aligned = align_poses(poses, reference_pose, src_size, (width, height), options, fps, status=status)
    notes += [str(w.message) for w in caught if str(w.message) not in " ".join(notes)]
    return AlignedMotion(aligned, reference_pose, notes)


def prepare_motion(
    video_path: str | Path,
    reference_rgb: np.ndarray,
    options: AlignmentOptions | None = None,
    backend: str = DEFAULT_BACKEND,
    selection: FrameSelection | None = None,
    report: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    use_cache: bool = True,
    model_dir: str | Path | None = None,
    reference_pose: PoseFrame | None = None,
    person: str | int = "auto",
) -> PreparedMotion:
    """Extract, align (to ``reference_rgb``, already at the output size) and box the faces of a driving clip."""
    options = options or AlignmentOptions()
    height, width = reference_rgb.shape[:2]
    clip = extract_poses(video_path, backend, selection, report, cancel, use_cache, model_dir, person)
    aligned = align_motion(clip.poses, clip.status, (clip.info.width, clip.info.height), clip.info.fps, reference_rgb,
                           options, backend, model_dir, reference_pose)
    notes = list(clip.warnings) + [n for n in aligned.warnings if n not in " ".join(clip.warnings)]
    poses, reference_pose = aligned.poses, aligned.reference_pose
    boxes = [face_box_from_pose(p, width, height) for p in poses]
    for pose, box in zip(poses, boxes, strict=True):
        pose.face_box = box
    return PreparedMotion(clip, reference_pose, poses, boxes, width, height, options, notes)
