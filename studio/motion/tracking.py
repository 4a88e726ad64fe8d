"""Following one person through a clip: the main person first, then whoever overlaps them most."""

from __future__ import annotations

import numpy as np

from studio.motion.types import VISIBLE, PoseFrame


def body_box(pose: PoseFrame) -> tuple[float, float, float, float] | None:
    """Bounding box of the visible body points, or None."""
    visible = pose.body[pose.body[:, 2] > VISIBLE]
    if len(visible) == 0:
        return None
    return (float(visible[:, 0].min()), float(visible[:, 1].min()), float(visible[:, 0].max()), float(visible[:, 1].max()))


def _area(box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _iou(a, b) -> float:
    inter = _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
    union = _area(a) + _area(b) - inter
    return inter / union if union > 0 else 0.0


def _prominence(pose: PoseFrame) -> float:
    box = body_box(pose)
    if box is None:
        return 0.0
    return (_area(box) + 1.0) * float(pose.body[:, 2].mean())


def select_person(candidates: list[PoseFrame], previous: PoseFrame | None) -> PoseFrame | None:
    """The person to follow: the one overlapping ``previous`` most (nearest centre on ties), else the most prominent."""
    people = [c for c in candidates if c.has_person]
    if not people:
        return None
    if len(people) == 1:
        return people[0]
    prev_box = None if previous is None else body_box(previous)
    if prev_box is None:
        return max(people, key=_prominence)
    prev_centre = np.array([(prev_box[0] + prev_box[2]) / 2, (prev_box[1] + prev_box[3]) / 2])

    def score(pose: PoseFrame) -> tuple[float, float]:
        box = body_box(pose)
        assert box is not None  # every one of ``people`` has a visible body point
        centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
        return _iou(box, prev_box), -float(np.linalg.norm(centre - prev_centre))

    return max(people, key=score)
