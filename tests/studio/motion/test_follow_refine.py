"""A person found again is looked at closer; the closer look may not hand the follower someone else (two-cam03).

The followed man is lost for a moment and found again by the search a step away from where he was last seen,
beside a woman standing where he was. Her upper body (a light grey shirt) shares his bare torso's coarse colour,
and nobody remembered her look: she overlapped his last place, where a pose may be a chimera of the two. The
search picks him (he looks most like himself); then the closer look at his window, where the pose model returns
her, took her as "him seen closer", and the follower followed her for the rest of the clip. The closer look now
only refines the pick: a pose apart from the pick is someone else, remembered as such.

Frames are painted and the pose model scripted (``test_follow_overlap``): the test is exact and needs no model.
"""

from __future__ import annotations

import numpy as np

from studio.motion.follow import PersonFollower
from tests.studio.motion.test_follow_overlap import (
    BACKGROUND,
    HEIGHT,
    JEANS,
    SHIRT,
    SHORTS,
    SKIN,
    WIDTH,
    Model,
    _paint,
    _pose,
)

#: Where he is first, where he is found again (a step to the right), where she stands: on his old place.
MAN_BEFORE, MAN_AFTER, WOMAN = 240.0, 360.0, 220.0
LOST = range(10, 12)  # (the search runs on the second frame he is lost)


def _frame(man_x: float, woman_x: float) -> np.ndarray:
    frame = np.full((HEIGHT, WIDTH, 3), BACKGROUND, np.uint8)
    _paint(frame, woman_x, SHIRT, JEANS)
    _paint(frame, man_x, SKIN, SHORTS)
    return frame


class Tracker(Model):
    """The tracking model: lost him for a moment; in his window, looked at afresh, it returns her."""

    def __init__(self) -> None:
        super().__init__(self.sees)
        self.calls: dict[int, int] = {}

    def sees(self, k: int) -> list:
        self.calls[k] = self.calls.get(k, 0) + 1
        if k < LOST.start:
            return [_pose(MAN_BEFORE)]
        if k in LOST and (k < LOST.stop - 1 or self.calls[k] == 1):
            return []  # lost; on the last lost frame the search finds him, then his window is looked at closer
        if k < 20:
            return [_pose(WOMAN, legs=False)]  # his window shows the model her upper body (he is turning)
        return [_pose(MAN_AFTER)]


def test_the_closer_look_at_a_found_person_does_not_take_the_woman_beside_him():
    def searcher_sees(k: int) -> list:
        return [_pose(MAN_AFTER), _pose(WOMAN, legs=False)] if k >= LOST.start else [_pose(MAN_BEFORE)]

    follower = PersonFollower(Tracker(), Model(searcher_sees), None, fps=30.0)
    follower._poses_in = lambda window, model: [p.copy() for p in model.script(follower.frame)]
    before, after = _frame(MAN_BEFORE, 60.0), _frame(MAN_AFTER, WOMAN)
    poses = [follower.step(before if k < LOST.start else after) for k in range(30)]
    followed = [(k, round(float(p.body[[8, 11], 0].mean()))) for k, p in enumerate(poses) if p is not None]
    # him before he is lost, him when found again (not her, whom his window showed) and from then on; never her
    assert (LOST.stop - 1, MAN_AFTER) in followed, followed
    assert all(x in (MAN_BEFORE, MAN_AFTER) for _, x in followed), followed
    assert [k for k, x in followed if k >= 20] == list(range(20, 30)), followed
