"""Left and right kept apart through time (issue 19).

Pose models decide left and right anew in every frame and, on a back view or a profile, flip an arm, a leg or
the whole body for a frame or a stretch. A person's own wrist cannot jump to where the other wrist was within
one frame, so each left/right group is assigned the way that moves its points least since the last frame:
a flip shows up as a jump that swapping undoes, while a real turn moves the points continuously and is kept.
"""

from __future__ import annotations

import numpy as np

from studio.motion.types import PoseFrame

#: Left/right pairs (OpenPose-18: person's right first), grouped so a limb flips as a whole.
GROUPS = {
    "arms": ((2, 5), (3, 6), (4, 7)),
    "legs": ((8, 11), (9, 12), (10, 13)),
    "head": ((14, 15), (16, 17)),
}
SCORE = 0.3
#: Swap only when the swapped assignment moves the points less than this fraction of the straight one and the
#: straight one jumps by more than JUMP torso lengths (small differences are noise, not a flip).
CLEARLY = 0.5
JUMP = 0.15


def _torso(body: np.ndarray) -> float:
    pts = body[[2, 5, 8, 11]]
    if (pts[:, 2] <= SCORE).any():
        return float(np.ptp(body[body[:, 2] > SCORE, :2], axis=0).max()) / 3 if (body[:, 2] > SCORE).sum() > 1 else 1.0
    return float(np.linalg.norm(pts[:2, :2].mean(0) - pts[2:, :2].mean(0)))


def _swap(pose: PoseFrame, pairs) -> None:
    for right, left in pairs:
        pose.body[[right, left]] = pose.body[[left, right]]


def recent_reference(recent: list[PoseFrame]) -> PoseFrame | None:
    """Where each joint was lately: the per-joint median of the last few kept poses (score: the lowest).

    Pose models return an occasional garbled frame (arms folded onto the chest for one frame); compared with that
    frame alone, the next, correct frame looks flipped and the flip would stick. The median of three frames
    ignores one such frame.
    """
    if not recent:
        return None
    out = recent[-1].copy()
    stack = np.stack([p.body for p in recent])
    out.body[:, :2] = np.median(stack[:, :, :2], axis=0)
    out.body[:, 2] = stack[:, :, 2].min(axis=0)
    return out


def keep_sides(pose: PoseFrame, previous: PoseFrame | None) -> tuple[PoseFrame, list[str]]:
    """``pose`` with each left/right group assigned consistently with ``previous``, and the groups swapped.

    A pose model that mistakes which way the person faces mirrors the whole body: arms and legs flip together.
    While the legs cross (or the arms pass each other) the flipped and the straight assignment of that group fit
    the last frames about equally well; such an undecided group then follows the limbs that clearly flipped,
    where taken as it came it would carry the flip into every frame after it.
    """
    if previous is None:
        return pose, []
    out = pose.copy()
    scale = max(_torso(previous.body), 1.0)
    swapped, undecided = [], []
    for name, pairs in GROUPS.items():
        straight, crossed, used = _fits(out.body, previous.body, pairs)
        if not used:
            continue
        if crossed < CLEARLY * straight and straight / (2 * used) > JUMP * scale:
            swapped.append(name)
        elif name in LIMBS and crossed * CLEARLY < straight:
            undecided.append(name)  # neither way clearly better (the straight one is not clearly better)
    if any(name in LIMBS for name in swapped):
        swapped += undecided
    for name in swapped:
        _swap(out, GROUPS[name])
        if name == "arms":
            out.left_hand, out.right_hand = out.right_hand, out.left_hand
    return out, [name for name in GROUPS if name in swapped]


#: The groups a mirrored body flips together (the head's points are too close together to say).
LIMBS = ("arms", "legs")


def _fits(body: np.ndarray, previous: np.ndarray, pairs) -> tuple[float, float, int]:
    """How far the pairs' points moved since ``previous``: taken straight, taken crossed, and the pairs used."""
    straight = crossed = 0.0
    used = 0
    for right, left in pairs:
        a, b = body[[right, left]], previous[[right, left]]
        if (a[:, 2] <= SCORE).any() or (b[:, 2] <= SCORE).any():
            continue
        straight += float(np.linalg.norm(a[0, :2] - b[0, :2]) + np.linalg.norm(a[1, :2] - b[1, :2]))
        crossed += float(np.linalg.norm(a[0, :2] - b[1, :2]) + np.linalg.norm(a[1, :2] - b[0, :2]))
        used += 1
    return straight, crossed, used
