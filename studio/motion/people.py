"""The people on one frame, and a person picked by pointing at them (issue 19: "click another person").

``find_people`` runs the follower's whole-frame search (the frame, then smaller windows for small figures) on
one frame and returns a box per person: the window draws them so the user can click one. The click becomes the
``person`` setting ``@F:X,Y`` (source frame F, source pixel X,Y; the CLI takes the same text), which
``resolve_pick`` turns into a ``PickedPerson``: the person whose box holds the point on frame F, their box and
their look (``appearance``: colour histograms of torso and legs), and the looks of the others there.

How the pick is followed through the clip: the follower reads the clip from its start, so at the first frame
where it finds people it takes the one dressed most like the person picked on frame F (the others' looks from
frame F go into its memory of "someone else", so none of them is taken for the picked person later), and then
keeps them as it keeps any person (box continuity, look, limb lengths). Where no candidate shows enough of
themselves to compare looks, the one nearest the picked box is taken. Tracking from F both ways would need the
frames before F again in reverse (decoded twice, or kept in memory); the look needs one extra frame decoded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from studio.errors import InputError
from studio.motion import appearance
from studio.motion.types import PoseFrame

#: ``@F:X,Y``: a person picked by a point on a frame (frame number and pixel of the source video).
PICK = re.compile(r"@(\d{1,7}):(\d{1,5}),(\d{1,5})")
#: A person's box is their keypoints' box grown by this share of its longer side on every side: keypoints are
#: joint centres, the body reaches past them (the top of the head above the eyes, the feet below the ankles).
MARGIN = 0.1
#: A point this far outside every box (share of the nearest box's longer side) picks nobody.
REACH = 0.25

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class PickSpec:
    """``@F:X,Y`` parsed: source frame ``frame``, source pixel (``x``, ``y``)."""

    frame: int
    x: int
    y: int

    @property
    def text(self) -> str:
        return f"@{self.frame}:{self.x},{self.y}"


def parse_pick(value: object) -> PickSpec | None:
    """The pick ``value`` names, or None when it is not of the form ``@F:X,Y``."""
    match = PICK.fullmatch(str(value).strip())
    return None if match is None else PickSpec(*(int(g) for g in match.groups()))


@dataclass(frozen=True)
class Person:
    """One person found on a frame: box (source pixels, x0, y0, x1, y1), mean keypoint score, pose."""

    box: Box
    score: float
    pose: PoseFrame = field(repr=False, compare=False)


def person_box(pose: PoseFrame | None, width: float = np.inf, height: float = np.inf) -> Box | None:
    """The box the window draws around ``pose`` (MARGIN around its sure keypoints, inside the frame)."""
    from studio.motion.follow import box_of

    box = None if pose is None else box_of(pose)
    if box is None:
        return None
    pad = MARGIN * max(box[2] - box[0], box[3] - box[1])
    return (max(0.0, box[0] - pad), max(0.0, box[1] - pad), min(float(width), box[2] + pad),
            min(float(height), box[3] + pad))


def followed_boxes(poses: list[PoseFrame], status: list[str], width: int, height: int) -> list[Box | None]:
    """Per frame the followed person's box, None where they were not seen (a held or empty frame)."""
    from studio.motion.presence import DETECTED

    return [person_box(p, width, height) if s == DETECTED else None for p, s in zip(poses, status, strict=True)]


def _distance(box: Box, x: float, y: float) -> float:
    """How far (x, y) lies outside ``box`` in pixels (0 inside)."""
    return float(np.hypot(max(box[0] - x, 0.0, x - box[2]), max(box[1] - y, 0.0, y - box[3])))


def person_at(people: list[Person], x: float, y: float) -> Person | None:
    """The person a click at (x, y) means: the smallest box holding the point (the one in front when boxes
    overlap), else the nearest box within REACH of its size; None when the point is near nobody."""
    inside = [p for p in people if _distance(p.box, x, y) == 0.0]
    if inside:
        return min(inside, key=lambda p: (p.box[2] - p.box[0]) * (p.box[3] - p.box[1]))
    near = [p for p in people if _distance(p.box, x, y) <= REACH * max(p.box[2] - p.box[0], p.box[3] - p.box[1])]
    return min(near, key=lambda p: _distance(p.box, x, y)) if near else None


def read_frame(video: str | Path, frame_index: int, info=None) -> np.ndarray:
    """Source frame ``frame_index`` of ``video`` (RGB uint8)."""
    from studio.media.video_io import iter_frames
    from studio.request.render_request import FrameSelection

    from_start = FrameSelection(start=frame_index / info.fps, max_frames=1) if info is not None and info.fps > 0 \
        else FrameSelection(max_frames=frame_index + 1)
    frame = None
    for index, frame in iter_frames(video, from_start, info):
        if index == frame_index:
            return frame
    if frame is None:
        raise InputError(f"{video}: frame {frame_index} could not be read")
    return frame


def people_on(frame: np.ndarray, backend: str = "mediapipe", model_dir: str | Path | None = None) -> list[Person]:
    """Every person the follower's search finds on ``frame``, most prominent first."""
    from studio.motion.backends import create_backend
    from studio.motion.follow import PersonFollower
    from studio.motion.segmentation import PersonSegmenter

    searcher = create_backend(backend, video=False, model_dir=model_dir)
    segmenter = PersonSegmenter()
    try:
        poses = PersonFollower(searcher, searcher, segmenter).people_on(frame)
    finally:
        searcher.close()
        segmenter.close()
    height, width = frame.shape[:2]
    people = []
    for pose in poses:
        box = person_box(pose, width, height)
        if box is not None:
            people.append(Person(box, float(pose.body[:, 2].mean()), pose))
    return people


def find_people(video: str | Path, frame_index: int, backend: str = "mediapipe",
                model_dir: str | Path | None = None) -> list[Person]:
    """The people on source frame ``frame_index`` of ``video`` (boxes in source pixels), most prominent first."""
    from studio.media.video_io import probe_video

    info = probe_video(video)
    return people_on(read_frame(video, frame_index, info), backend, model_dir)


@dataclass
class PickedPerson:
    """The person picked on frame ``spec.frame``: what the follower's first choice looks for (``choose``)."""

    spec: PickSpec
    box: Box
    look: dict[str, np.ndarray]
    #: The looks of the other people on that frame (the follower remembers them as "someone else").
    others: list[dict[str, np.ndarray]]
    #: The source frame the follower is on (the extraction says so before each frame).
    now: int | None = None

    def choose(self, people: list[PoseFrame], look_of) -> PoseFrame:
        """Of the people where the follower first finds someone, the one at the picked point when that is the
        picked frame itself; elsewhere the one most like the picked person (``look_of(pose)``: their look on the
        follower's frame), or the nearest to the picked box when no look can be compared."""
        if self.now == self.spec.frame:
            found = [Person(b, 0.0, p) for p in people if (b := person_box(p)) is not None]
            here = person_at(found, self.spec.x, self.spec.y)
            if here is not None:
                return here.pose
        likeness = [appearance.similarity(self.look, look_of(p)) for p in people]
        if any(value is not None for value in likeness):
            return people[int(np.argmax([-1.0 if value is None else value for value in likeness]))]
        from studio.motion.follow import box_of
        from studio.motion.opening import box_centre

        return min(people, key=lambda p: float(np.linalg.norm(box_centre(box_of(p) or self.box)
                                                              - box_centre(self.box))))


def missed_pick(pick: PickedPerson, indices: list[int], poses: list[PoseFrame | None]) -> str | None:
    """A note when the pick's own frame was extracted and the person followed there is not at the picked point
    (two people dressed alike: the look chose the wrong one at the start)."""
    spec = pick.spec
    if spec.frame not in indices:
        return None
    pose = poses[indices.index(spec.frame)]
    box = person_box(pose)
    if pose is not None and box is not None and person_at([Person(box, 0.0, pose)], spec.x, spec.y) is not None:
        return None
    return (f"--person {spec.text}: the person followed on frame {spec.frame} is not the one at {spec.x},{spec.y} "
            "(they look alike to the follower); pick them on the first frame of the clip instead")


def check_pick(spec: PickSpec, info) -> None:
    """A pick on a frame the video has, at a pixel inside it (InputError naming the setting otherwise)."""
    from studio.media.video_io import count_frames

    if not info.exact and spec.frame >= info.frame_count - 1:
        info = count_frames(info)
    if spec.frame >= info.frame_count:
        raise InputError(f"--person {spec.text}: frame {spec.frame} is beyond the clip {Path(info.path).name} "
                         f"(frames 0–{info.frame_count - 1}); pick a person on one of those frames")
    if spec.x >= info.width or spec.y >= info.height:
        raise InputError(f"--person {spec.text}: the point {spec.x},{spec.y} lies outside the "
                         f"{info.width}×{info.height} frame of {Path(info.path).name}; give a pixel inside it")


def resolve_pick(video: str | Path, spec: PickSpec, info, backend: str = "mediapipe",
                 model_dir: str | Path | None = None) -> PickedPerson:
    """The person at ``spec``'s point on its frame, with their look and the others' (InputError when nobody is
    there)."""
    check_pick(spec, info)
    frame = read_frame(video, spec.frame, info)
    people = people_on(frame, backend, model_dir)
    picked = person_at(people, spec.x, spec.y)
    if picked is None:
        where = "; ".join(f"{round(p.box[0])},{round(p.box[1])}–{round(p.box[2])},{round(p.box[3])}" for p in people)
        raise InputError(f"--person {spec.text}: no person at {spec.x},{spec.y} on frame {spec.frame}"
                         + (f" (the people there lie in the boxes {where})" if people else " (nobody was found on it)")
                         + "; give a point on a person, or --person auto")
    others = [appearance.describe(frame, p.pose) for p in people if p is not picked]
    return PickedPerson(spec, picked.box, appearance.describe(frame, picked.pose), [o for o in others if o])
