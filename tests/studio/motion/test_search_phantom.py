"""Two people close together in a wide shot (issue 19): the pose model, shown the whole frame, returns one pose
spread over both — a shoulder on one, the hips in the gap, a leg on the other. No person lies under that pose, so
it is refused; before, it was found first and hid the two real people that the smaller windows find there (frame
30 of the wide test clip showed nobody to pick)."""

from __future__ import annotations

import numpy as np

from studio.motion.crops import whole_frame
from studio.motion.follow import PersonFollower
from studio.motion.segmentation import support_in_frame
from studio.motion.types import PoseFrame

WIDTH, HEIGHT = 960, 540
LEFT, RIGHT = (250, 310), (430, 490)  # the two people's columns (x from, x to); they stand from y 300 to 450


def _person(x0: float, x1: float) -> PoseFrame:
    """A small upright person filling the columns x0…x1, y 300…450 (shoulders, arms, hips, legs)."""
    mid, pose = (x0 + x1) / 2, PoseFrame()
    left, right = x0 + 8, x1 - 8
    points = {1: (mid, 320), 2: (left, 320), 3: (left, 350), 4: (left, 375), 5: (right, 320), 6: (right, 350),
              7: (right, 375), 8: (mid - 8, 380), 9: (mid - 8, 415), 10: (mid - 8, 445), 11: (mid + 8, 380),
              12: (mid + 8, 415), 13: (mid + 8, 445), 0: (mid, 305)}
    for joint, (x, y) in points.items():
        pose.body[joint] = (x, y, 0.9)
    return pose


def _merged() -> PoseFrame:
    """One pose over both people: right arm on the left person, torso in the gap, left leg on the right person."""
    pose = PoseFrame()
    points = {1: (370, 320), 2: (280, 320), 3: (270, 350), 4: (265, 375), 5: (460, 320), 6: (470, 350),
              7: (475, 375), 8: (360, 380), 9: (365, 415), 10: (370, 445), 11: (380, 380), 12: (440, 415),
              13: (460, 445), 0: (370, 305)}
    for joint, (x, y) in points.items():
        pose.body[joint] = (x, y, 0.9)
    return pose


class BrightIsPerson:
    """A segmenter that calls the bright pixels a person (the frame paints the two people white on black)."""

    def mask(self, image_rgb: np.ndarray) -> np.ndarray:
        return (image_rgb.mean(axis=2) > 128).astype(np.float32)


def _frame() -> np.ndarray:
    frame = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    for x0, x1 in (LEFT, RIGHT):
        frame[295:455, x0:x1] = 255
    return frame


def _inside(pose: PoseFrame, box) -> bool:
    xs, ys = pose.body[:, 0][pose.body[:, 2] > 0], pose.body[:, 1][pose.body[:, 2] > 0]
    return bool(xs.min() >= box[0] and xs.max() <= box[2] and ys.min() >= box[1] and ys.max() <= box[3])


def test_a_pose_spread_over_two_people_does_not_hide_them():
    frame, segmenter = _frame(), BrightIsPerson()
    real = [_person(*LEFT), _person(*RIGHT)]
    phantom = _merged()
    # the premise: the segmenter sees the two people under their own poses and nobody under the merged one
    assert all(support_in_frame(segmenter, frame, p) > 0.9 for p in real)
    assert support_in_frame(segmenter, frame, phantom) < 0.5

    follower = PersonFollower(None, None, segmenter, fps=30.0)
    whole = whole_frame(WIDTH, HEIGHT)

    def poses_in(window, model):
        inside = [p for p in real if _inside(p, window.box)]
        if window == whole or len(inside) == 2:
            return [phantom.copy()]  # a window with both in it: the model sees one person spread over both
        return [p.copy() for p in inside]  # a window with one of them: that one

    follower._poses_in = poses_in
    people = follower.people_on(frame)
    centres = sorted(float(np.mean(p.body[[2, 5, 8, 11], 0])) for p in people)
    assert len(people) == 2, centres
    assert abs(centres[0] - np.mean(LEFT)) < 5 and abs(centres[1] - np.mean(RIGHT)) < 5


def test_a_real_person_found_first_still_keeps_the_place():
    """The other side of the rule: where the pose found first lies on a person, an overlapping find is the same
    person (one pose each, as before)."""
    frame, segmenter = _frame(), BrightIsPerson()
    left = _person(*LEFT)
    follower = PersonFollower(None, None, segmenter, fps=30.0)
    follower._poses_in = lambda window, model: [left.copy()]  # every window finds the same person
    people = follower.people_on(frame)
    assert len(people) == 1
