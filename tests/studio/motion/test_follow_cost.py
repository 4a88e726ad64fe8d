"""What following a person costs per frame (issue 19, speed): the person segmenter is asked when someone is found,
not on every frame they are tracked (the pose model is the one per-frame cost; each segmenter run adds ~10 %)."""

from __future__ import annotations

import numpy as np

from studio.motion.follow import PersonFollower
from studio.motion.types import PoseFrame

WIDTH, HEIGHT = 480, 640


def _standing_person(dx: float) -> PoseFrame:
    """A person ~400 px tall in the middle of the frame (no face found), moved ``dx`` px to the right."""
    pose = PoseFrame()
    points = {0: (240, 140), 1: (240, 200), 2: (200, 200), 3: (190, 270), 4: (185, 330), 5: (280, 200),
              6: (290, 270), 7: (295, 330), 8: (215, 350), 9: (215, 440), 10: (215, 530), 11: (265, 350),
              12: (265, 440), 13: (265, 530), 14: (232, 132), 15: (248, 132), 16: (224, 136), 17: (256, 136)}
    for joint, (x, y) in points.items():
        pose.body[joint] = (x + dx, y, 0.95)
    return pose


class FakeModel:
    """A pose model that sees the person at ``self.dx`` in the whole frame (the person fills the frame, so the
    follower hands it the frame itself, not a window)."""

    def __init__(self) -> None:
        self.dx = 0.0

    def detect(self, image: np.ndarray) -> list[PoseFrame]:
        return [_standing_person(self.dx)] if image.shape[:2] == (HEIGHT, WIDTH) else []

    def reset(self) -> None:
        pass


class CountingSegmenter:
    """Everyone is on the person mask; counts how often it was asked."""

    def __init__(self) -> None:
        self.calls = 0

    def mask(self, image_rgb: np.ndarray) -> np.ndarray:
        self.calls += 1
        return np.ones(image_rgb.shape[:2], np.float32)


def test_the_segmenter_is_asked_when_the_person_is_found_not_on_every_tracked_frame():
    model, segmenter = FakeModel(), CountingSegmenter()
    follower = PersonFollower(model, model, segmenter, fps=30.0)
    frame = np.full((HEIGHT, WIDTH, 3), (90, 120, 160), np.uint8)
    calls_per_frame = []
    for k in range(30):
        model.dx = 2.0 * k  # walking slowly to the right
        before = segmenter.calls
        assert follower.step(frame) is not None
        calls_per_frame.append(segmenter.calls - before)
    assert calls_per_frame[0] >= 1  # a new person counts on the segmenter's word
    assert sum(calls_per_frame[1:]) == 0, calls_per_frame  # then their limbs' lengths vouch for them
