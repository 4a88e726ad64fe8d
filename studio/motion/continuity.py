"""A body's shape changes little from one frame to the next; a pose model's garbled pose does not follow that.

In video mode the pose model tracks the person from the previous frame's landmarks. Now and then (a strong
lean, a fast turn) that track slips and the model returns, for a frame or two, a skeleton spread over the
background: the legs running off the person, the hips on the shoulders. It lies where the person is, so it
passes the follower's place, look and silhouette checks. What gives it away is the jump in shape: relative to
the body's own motion between two frames (the median displacement of its joints, which a person running or a
panning camera adds to every joint alike), its joints move apart by a large share of the torso.

On the corpus's 60 fps clips a real body's shape changes by 0.016–0.023 torso lengths a frame (median), 0.04
at most; the garbled frames by 0.35–0.73. The limit, SHAPE_SPEED torso lengths per second with a floor of
MIN_JUMP, leaves room for fast dance at low frame rates (a forearm swinging 180° in a tenth of a second moves
one joint of twelve by about a torso length: the median over the joints barely moves).
"""

from __future__ import annotations

import numpy as np

from studio.motion.sides import GROUPS
from studio.motion.types import PoseFrame

#: The 12 limb joints (OpenPose-18: shoulders, elbows, wrists, hips, knees, ankles).
LIMB_JOINTS = (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
SCORE = 0.3
MIN_JOINTS = 6
SHAPE_SPEED = 6.0
MIN_JUMP = 0.2


def _torso(body: np.ndarray) -> float:
    return float(np.linalg.norm(body[[2, 5], :2].mean(0) - body[[8, 11], :2].mean(0)))


def shape_change(pose: PoseFrame, previous: PoseFrame) -> float | None:
    """How far ``pose``'s joints moved apart from ``previous``'s, their common motion taken away: the median over
    the joints both see, in torso lengths of ``previous``; None when too few joints are seen in both.

    Left and right may have traded places (the pose model's, on a back view; the follower swaps them back
    afterwards, ``sides``): the smallest change over the arms and legs taken straight or crossed counts.
    """
    changes = [_change(pose.body[list(order)], previous.body) for order in _ORDERS]
    known = [c for c in changes if c is not None]
    return min(known) if known else None


def _crossed(joints: tuple[int, ...], pairs: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    swap = {a: b for a, b in pairs} | {b: a for a, b in pairs}
    return tuple(swap.get(j, j) for j in joints)


_ALL = tuple(range(18))
#: The body's joints read straight, with the arms crossed, the legs crossed, or both.
_ORDERS = (_ALL, _crossed(_ALL, GROUPS["arms"]), _crossed(_ALL, GROUPS["legs"]),
           _crossed(_ALL, GROUPS["arms"] + GROUPS["legs"]))


def _change(body: np.ndarray, previous: np.ndarray) -> float | None:
    seen = (body[LIMB_JOINTS, 2] > SCORE) & (previous[LIMB_JOINTS, 2] > SCORE)
    if seen.sum() < MIN_JOINTS:
        return None
    moves = body[LIMB_JOINTS, :2][seen] - previous[LIMB_JOINTS, :2][seen]
    apart = np.linalg.norm(moves - np.median(moves, axis=0), axis=1)
    return float(np.median(apart)) / max(_torso(previous), 1.0)


def jump_limit(fps: float) -> float:
    """The largest shape change (torso lengths) a real body makes between two frames ``1/fps`` apart."""
    return max(MIN_JUMP, SHAPE_SPEED / max(fps, 1.0))


def jumped(pose: PoseFrame, previous: PoseFrame | None, fps: float) -> bool:
    """Whether ``pose`` changed shape from the previous frame's ``previous`` faster than a body can."""
    if previous is None:
        return False
    change = shape_change(pose, previous)
    return change is not None and change > jump_limit(fps)
