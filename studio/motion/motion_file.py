"""``motion.json``: extracted and aligned motion on disk (version 3; versions 1 and 2 still read).

    {"version": 3, "backend": "...", "person": "auto" | N | "@F:X,Y",
     "source": {"path", "fps", "width", "height", "frame_count"},
     "output": {"width", "height"},
     "frames": [{"index": i, "status": "detected" | "held" | "none",
                 "person_box": [x0, y0, x1, y1] (source pixels) | null,
                 "source": PoseFrame JSON (source pixels), "aligned": PoseFrame JSON (output pixels)}]}

Version 2 added each frame's ``status`` (issue 12): ``held`` frames fill a short gap with the nearest real pose,
``none`` frames lie in a long stretch without anyone (the nearest pose is kept so the clip stays renderable).
A version-1 frame has no status and reads as ``detected``. Version 3 added each frame's ``person_box`` (issue 19):
the followed person's box (``people.person_box``), null where they were not seen; ``person`` says who was
followed. An older file's boxes are worked out from its poses and statuses by the same rule when it is read.

``index`` is the frame's number in the source video (after trim and stride the entries can be several source
frames apart), so a render from this folder recovers the clip's timing and audio range; the pose and face
images are numbered by position (``poses/frame_0.png`` is the first entry).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.errors import InputError
from studio.export.atomic import write_text_atomic
from studio.motion.extract import PreparedMotion
from studio.motion.head import face_box_from_pose
from studio.motion.people import followed_boxes
from studio.motion.presence import DETECTED, STATUSES
from studio.motion.types import PoseFrame

VERSION = 3
READABLE_VERSIONS = (1, 2, 3)


def motion_json(prepared: PreparedMotion) -> dict:
    info = prepared.clip.info
    frames = []
    clip = prepared.clip
    boxes = followed_boxes(clip.poses, clip.status, info.width, info.height)
    for index, state, box, source, aligned in zip(clip.indices, clip.status, boxes, clip.poses, prepared.poses,
                                                   strict=True):
        source = source.copy()
        source.face_box = face_box_from_pose(source, info.width, info.height)
        frames.append({"index": int(index), "status": state,
                       "person_box": None if box is None else [round(v, 1) for v in box],
                       "source": source.to_json(), "aligned": aligned.to_json()})
    return {
        "version": VERSION,
        "backend": prepared.clip.backend,
        "person": prepared.clip.person,
        "source": {"path": str(info.path), "fps": info.fps, "width": info.width, "height": info.height,
                   "frame_count": info.frame_count},
        "output": {"width": prepared.width, "height": prepared.height},
        "frames": frames,
    }


def write_motion_json(path: str | Path, prepared: PreparedMotion) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(path, json.dumps(motion_json(prepared), indent=1))


@dataclass
class MotionFile:
    backend: str
    source: dict
    width: int
    height: int
    source_poses: list[PoseFrame]
    poses: list[PoseFrame]
    #: Per frame: "detected", "held" or "none" (version-1 files: all "detected").
    status: list[str]
    #: Each frame's number in the source video.
    indices: list[int]
    #: Per frame the followed person's box (source pixels, x0, y0, x1, y1) or None where they were not seen.
    person_boxes: list[tuple[float, float, float, float] | None]
    #: Who was followed: "auto", N or "@F:X,Y" (``studio.motion.extract.parse_person``).
    person: str | int = "auto"
    #: False when only the first entries were read (``read_motion_json``'s ``stop``).
    complete: bool = True


def _check_source(source) -> None:
    """The video the motion came from: its size in pixels, its frame rate (null for a pose folder)."""
    if not isinstance(source, dict):
        raise ValueError(f"'source' must be an object with width, height and fps, got {source!r}")
    for name in ("width", "height"):
        value = source.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"source {name} must be a whole number of pixels, got {value!r}")
    fps = source.get("fps")
    if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps)
                            or fps <= 0):
        raise ValueError(f"source fps must be a positive number or null, got {fps!r}")


#: A point may lie off the frame (a raised hand, a crop), but not this many frame sizes away: 1e30 is damage.
FAR_OUTSIDE = 64


def _check_points(pose: PoseFrame, where: str, size: int) -> None:
    limit = FAR_OUTSIDE * size
    for name in ("body", "face", "left_hand", "right_hand"):
        points = getattr(pose, name)
        if not np.isfinite(points).all():
            raise ValueError(f"{where} {name} holds a number that is not finite")
        far = np.abs(points[:, :2]).max(initial=0.0)
        if far > limit:
            raise ValueError(f"{where} {name} has a point at {far:.3g} px, far outside the {size} px frame")
    box = pose.face_box
    if box is not None and not all(math.isfinite(v) and abs(v) <= limit for v in box):
        raise ValueError(f"{where} face_box {list(box)} is not a box inside the frame")


def _person_boxes(frames: list, poses: list[PoseFrame], status: list[str], source: dict) -> list:
    """Each frame's ``person_box`` (checked), or for a file older than version 3 the boxes its poses give."""
    if not any("person_box" in f for f in frames):
        return followed_boxes(poses, status, source["width"], source["height"])
    boxes = []
    limit = FAR_OUTSIDE * max(source["width"], source["height"])
    for i, frame in enumerate(frames):
        box = frame.get("person_box")
        if box is not None and (not isinstance(box, list) or len(box) != 4 or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and abs(v) <= limit
                for v in box)):
            raise ValueError(f"frame {i} person_box must be 4 numbers (x0, y0, x1, y1) inside the frame or null, "
                             f"got {box!r}")
        boxes.append(None if box is None else tuple(float(v) for v in box))
    return boxes


def read_motion_json(path: str | Path, stop: Callable[[dict], int | None] | None = None) -> MotionFile:
    """Load a ``motion.json`` (InputError with the reason when it is not one). ``stop(header)`` may say how many
    frame entries are needed at most (a render of 4 frames reads 4 of a million); ``MotionFile.complete`` then
    says whether the list was read to its end."""
    from studio.motion.json_stream import read_object

    path = Path(path)
    try:
        data, complete = read_object(path, "frames", stop, needs=("version", "backend", "source", "output"))
        if data.get("version") not in READABLE_VERSIONS:
            raise InputError(f"{path}: unsupported motion.json version {data.get('version')!r} "
                             f"(this studio reads {', '.join(map(str, READABLE_VERSIONS))}); extract the motion again")
        _check_source(data["source"])
        frames = data["frames"]
        if not isinstance(frames, list):
            raise ValueError("'frames' must be a list")
        status = [str(f.get("status", DETECTED)) for f in frames]
        unknown = sorted(set(status) - set(STATUSES))
        if unknown:
            raise ValueError(f"unknown frame status {unknown[0]!r}")
        width, height = int(data["output"]["width"]), int(data["output"]["height"])
        source_size = max(data["source"]["width"], data["source"]["height"])
        source_poses, poses = [], []
        for i, frame in enumerate(frames):
            source_poses.append(PoseFrame.from_json(frame["source"]))
            poses.append(PoseFrame.from_json(frame["aligned"]))
            _check_points(source_poses[-1], f"frame {i} source", source_size)
            _check_points(poses[-1], f"frame {i} aligned", max(width, height))
        boxes = _person_boxes(frames, source_poses, status, data["source"])
        return MotionFile(data["backend"], data["source"], width, height, source_poses, poses, status,
                          [int(f.get("index", i)) for i, f in enumerate(frames)], boxes, data.get("person", "auto"),
                          complete)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a valid motion.json (not UTF-8 text)") from None
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as error:
        # AttributeError: a number where an object goes
        raise InputError(f"{path}: not a valid motion.json ({error})") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a motion.json") from None
