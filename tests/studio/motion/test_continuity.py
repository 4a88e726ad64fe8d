"""A garbled tracked pose (the pose model's track slipped for a frame) is looked at afresh, not followed (issue 19).

On the corpus's balance-cam02 clip the tracked pose was, on three frames of a strong lean, a skeleton spread over
the background (legs running off the person): the reference counted each as another person, six person
switches. Real bodies change shape by 0.02–0.04 torso lengths a frame at 60 fps; those frames by 0.35–0.73.
"""

from __future__ import annotations

import numpy as np

from studio.motion.continuity import jump_limit, jumped, shape_change
from studio.motion.follow import PersonFollower
from tests.studio.motion.test_follow_cost import HEIGHT, WIDTH, CountingSegmenter, _standing_person

ARMS_AND_LEGS = ((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13))


def _garbled(dx: float = 0.0):
    """The person's pose with the legs run off to the lower left and the hips on the belly (a slipped track)."""
    pose = _standing_person(dx)
    pose.body[[8, 11], 1] -= 60
    pose.body[[9, 12], :2] += (-90, 40)
    pose.body[[10, 13], :2] += (-150, 90)
    pose.body[[3, 4], 0] -= 80
    return pose


def _mirrored(pose):
    out = pose.copy()
    for right, left in ARMS_AND_LEGS:
        out.body[[right, left]] = out.body[[left, right]]
    return out


def test_a_garbled_pose_jumps_and_a_moving_or_mirrored_body_does_not():
    before = _standing_person(0)
    assert shape_change(_standing_person(40), before) == 0.0  # running: every joint moved alike
    assert shape_change(_mirrored(_standing_person(5)), before) == 0.0  # the model's left/right, fixed later
    assert shape_change(_garbled(), before) > jump_limit(60.0)
    assert jumped(_garbled(), before, fps=60.0) and not jumped(_standing_person(40), before, fps=60.0)
    # slower clips leave more room between frames, never less than MIN_JUMP
    assert jump_limit(60.0) == jump_limit(24.0) * 0.8 == 0.2 and jump_limit(10.0) == 0.6


class SlippingTracker:
    """Sees the person in the whole frame; on ``slip_at`` its track slips (a garbled pose) unless it was reset
    just before that frame (then its person detector places the pose afresh)."""

    def __init__(self, slip_at: int) -> None:
        self.slip_at, self.was_reset = slip_at, False
        self.frame = -1

    def detect(self, image: np.ndarray) -> list:
        garbled = self.frame == self.slip_at and not self.was_reset
        self.was_reset = False
        return [_garbled(2.0 * self.frame) if garbled else _standing_person(2.0 * self.frame)]

    def reset(self) -> None:
        self.was_reset = True


def test_the_follower_looks_again_when_the_tracked_pose_jumps():
    model = SlippingTracker(slip_at=5)
    follower = PersonFollower(model, model, CountingSegmenter(), fps=60.0)
    frame = np.full((HEIGHT, WIDTH, 3), (90, 120, 160), np.uint8)
    for k in range(10):
        model.frame = k
        pose = follower.step(frame)
        assert pose is not None
        np.testing.assert_allclose(pose.body[:, :2], _standing_person(2.0 * k).body[:, :2], err_msg=f"frame {k}")
