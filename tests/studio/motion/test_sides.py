"""Left and right kept apart through time (issue 19): a flipped frame is swapped back, a real turn is kept."""

from __future__ import annotations

import numpy as np

from studio.motion.sides import keep_sides
from studio.motion.types import PoseFrame


def _standing(shift: float = 0.0) -> PoseFrame:
    pose = PoseFrame()
    # the person's right side on the image's left (facing the camera), 20 px per unit
    xy = np.array([[50, 30], [50, 50], [35, 50], [30, 70], [28, 90], [65, 50], [70, 70], [72, 90], [40, 95],
                   [40, 130], [40, 160], [60, 95], [60, 130], [60, 160], [46, 26], [54, 26], [42, 28], [58, 28]],
                  np.float32)
    pose.body[:, :2] = xy + [shift, 0]
    pose.body[:, 2] = 0.9
    pose.right_hand[:, :2] = xy[4]
    pose.right_hand[:, 2] = 1.0
    return pose


def _flipped(pose: PoseFrame, pairs) -> PoseFrame:
    out = pose.copy()
    for right, left in pairs:
        out.body[[right, left]] = out.body[[left, right]]
    return out


ARMS = ((2, 5), (3, 6), (4, 7))
LEGS = ((8, 11), (9, 12), (10, 13))


def test_a_frame_whose_arms_and_legs_flipped_is_swapped_back():
    previous = None
    out = []
    for k in range(8):
        pose = _standing(shift=k)  # walking slowly to the right
        if k in (3, 4):
            pose = _flipped(pose, ARMS + LEGS)
            pose.left_hand, pose.right_hand = pose.right_hand, pose.left_hand
        fixed, swapped = keep_sides(pose, previous)
        out.append(fixed)
        previous = fixed
        assert (sorted(swapped) == ["arms", "legs"]) == (k in (3, 4)), (k, swapped)
    for k, pose in enumerate(out):
        np.testing.assert_allclose(pose.body[:, :2], _standing(shift=k).body[:, :2])
        assert pose.right_hand[:, 2].max() == 1.0 and pose.left_hand[:, 2].max() == 0.0  # the hand went along


def test_one_leg_flipped_alone_is_swapped_back_without_touching_the_arms():
    base = _standing()
    fixed, swapped = keep_sides(_flipped(_standing(shift=1), LEGS), base)
    assert swapped == ["legs"]
    np.testing.assert_allclose(fixed.body[:, :2], _standing(shift=1).body[:, :2])


def test_a_real_turn_moves_continuously_and_is_kept():
    # The person turns round over 20 frames: their right shoulder travels from the image's left to its right.
    previous = None
    for k in range(21):
        t = k / 20
        pose = _standing()
        for right, left in ARMS + LEGS:
            xr, xl = pose.body[right, 0].copy(), pose.body[left, 0].copy()
            pose.body[right, 0] = xr + (xl - xr) * t
            pose.body[left, 0] = xl + (xr - xl) * t
        fixed, swapped = keep_sides(pose, previous)
        assert swapped == [], (k, swapped)
        previous = fixed
    # at the end the back is to the camera and the person's right is on the image's right, as reported
    assert previous.body[2, 0] > previous.body[5, 0]


def _legs(hips, knees, ankles, pose=None) -> PoseFrame:
    """``pose`` (standing by default) with the legs' x: (right, left) per hip, knee and ankle."""
    pose = _standing() if pose is None else pose.copy()
    for (right, left), (xr, xl) in zip(LEGS, (hips, knees, ankles), strict=True):
        pose.body[right, 0], pose.body[left, 0] = xr, xl
    return pose


def test_legs_crossing_while_the_whole_body_is_mirrored_follow_the_arms():
    # The legs cross (right ankle left of the left one) and are uncrossing; in this frame the pose model mirrors
    # the whole person. The arms clearly flipped; the legs, close together, fit the last frame about as well
    # flipped as straight (moved 26 px straight, 14 px crossed): they flipped with the arms, and are swapped too.
    previous = _legs((46, 54), (52, 48), (54, 46))
    now = _legs((46, 54), (49, 51), (50, 50))
    mirrored = _flipped(now, ARMS + LEGS)
    fixed, swapped = keep_sides(mirrored, previous)
    assert swapped == ["arms", "legs"]
    np.testing.assert_allclose(fixed.body[:, :2], now.body[:, :2])


def test_legs_clearly_straight_stay_when_only_the_arms_flipped():
    previous = _legs((40, 60), (40, 60), (40, 60))
    fixed, swapped = keep_sides(_flipped(_standing(shift=1), ARMS), previous)
    assert swapped == ["arms"]
    np.testing.assert_allclose(fixed.body[:, :2], _standing(shift=1).body[:, :2])
