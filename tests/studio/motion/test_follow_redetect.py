"""Re-detection in the window around the followed person when the tracker returns someone else (issue 19, ROI).

From the corpus's broadcast football clip: a player sprinting, big in the frame, is tracked in the whole frame
(his window would be nearly the frame, ``follow.CLOSE_UP``). Two things lost him for a frame while he was in
plain view: the tracker's track slipped (motion blur: the video-mode model returned a skeleton spread over the
grass), and, once another player bigger than him came into the frame, the single-person model shown the whole
frame returned that player instead. Each time the follower waited for its next search, two frames later; now it
looks again at once, with a fresh detection in his own window.

The frames are painted (each person one colour along their bones) and the pose model is a fake that finds the
painted figures: like a single-person model it returns the biggest figure in the image it is shown, so what it
sees depends on the window it is given, as the real model's does.
"""

from __future__ import annotations

import numpy as np
import pytest

from studio.motion.follow import PersonFollower
from studio.motion.types import PoseFrame

WIDTH, HEIGHT = 960, 540
GRASS = (60, 140, 60)
WHITE, RED = (235, 235, 235), (190, 30, 40)
#: A standing figure: joint offsets (OpenPose-18) from the hip centre, for a figure 1 unit tall (nose to ankles).
FIGURE = {0: (0, -0.6), 1: (0, -0.48), 2: (-0.1, -0.48), 3: (-0.12, -0.3), 4: (-0.13, -0.15), 5: (0.1, -0.48),
          6: (0.12, -0.3), 7: (0.13, -0.15), 8: (-0.06, 0), 9: (-0.06, 0.2), 10: (-0.06, 0.4), 11: (0.06, 0),
          12: (0.06, 0.2), 13: (0.06, 0.4), 14: (-0.02, -0.62), 15: (0.02, -0.62), 16: (-0.04, -0.61),
          17: (0.04, -0.61)}
BONES = ((2, 8), (5, 11), (2, 5), (8, 11), (1, 8), (1, 11), (8, 9), (9, 10), (11, 12), (12, 13), (2, 3), (3, 4),
         (5, 6), (6, 7), (0, 1))
#: Line thickness as a share of the figure's height (the limbs' width).
THICKNESS = 0.06


def _figure(hip_x: float, hip_y: float, tall: float) -> PoseFrame:
    pose = PoseFrame()
    for joint, (x, y) in FIGURE.items():
        pose.body[joint] = (hip_x + x * tall, hip_y + y * tall, 0.95)
    return pose


def _paint(frame: np.ndarray, pose: PoseFrame, colour, tall: float) -> None:
    import cv2

    points = pose.body[:, :2].round().astype(int)
    for a, b in BONES:
        cv2.line(frame, tuple(points[a]), tuple(points[b]), colour, max(2, int(THICKNESS * tall)))


def _frame(people: list[tuple[PoseFrame, tuple, float]]) -> np.ndarray:
    frame = np.full((HEIGHT, WIDTH, 3), GRASS, np.uint8)
    for pose, colour, tall in people:
        _paint(frame, pose, colour, tall)
    return frame


_UNIT = np.array(list(FIGURE.values()))
_SPAN = _UNIT.max(0) - _UNIT.min(0)


class FigureFinder:
    """A single-person pose model for painted frames: the biggest figure of a known colour in the image it is
    shown, its skeleton fitted to the figure's extent; ``runs`` counts its runs."""

    def __init__(self) -> None:
        self.runs = 0

    def detect(self, image: np.ndarray) -> list[PoseFrame]:
        self.runs += 1
        best = None
        for colour in (WHITE, RED):
            near = np.abs(image.astype(np.int16) - np.array(colour, np.int16)).max(axis=2) < 40
            count = int(near.sum())
            if count >= 50 and (best is None or count > best[0]):
                best = (count, near)
        if best is None:
            return []
        ys, xs = np.nonzero(best[1])
        tall = (ys.max() - ys.min()) / (_SPAN[1] + THICKNESS)  # the painted lines reach half a width past the joints
        hip_x = (xs.min() + xs.max()) / 2 - (_UNIT[:, 0].min() + _SPAN[0] / 2) * tall
        hip_y = ys.min() + THICKNESS * tall / 2 - _UNIT[:, 1].min() * tall
        return [_figure(hip_x, hip_y, tall)]

    def reset(self) -> None:
        pass


def _hips(pose: PoseFrame | None) -> np.ndarray | None:
    return None if pose is None else pose.body[[8, 11], :2].mean(0)


def test_a_big_player_is_kept_when_a_bigger_one_fills_the_whole_frame_the_tracker_sees():
    # him ~330 px tall in a 540 px frame (tracked in the whole frame); from frame 5 a player in red, bigger,
    # comes in on the right: shown the whole frame, the single-person model returns the one in red
    tracker, searcher = FigureFinder(), FigureFinder()
    follower = PersonFollower(tracker, searcher, None, fps=30.0)
    found = []
    for k in range(20):
        him = _figure(240 + 3 * k, 300, 330)
        people = [(him, WHITE, 330)] + ([(_figure(720, 300, 420), RED, 420)] if k >= 5 else [])
        found.append(_hips(follower.step(_frame(people))))
        assert found[-1] is None or np.linalg.norm(found[-1] - _hips(him)) < 0.1 * 330, (k, found[-1])
    # before: from frame 5 every other frame was empty (the tracker took the other player until a search)
    assert all(h is not None for h in found), [k for k, h in enumerate(found) if h is None]


class PaintSegmenter:
    """Everything painted (not grass) is a person."""

    def mask(self, image_rgb: np.ndarray) -> np.ndarray:
        return (np.abs(image_rgb.astype(np.int16) - np.array(GRASS, np.int16)).max(axis=2) >= 40).astype(np.float32)

    def close(self) -> None:
        pass


class SlippingFinder(FigureFinder):
    """``slipped``: the figure's skeleton returned 0.3 of its height lower and 0.25 to the left, on the grass (a
    track slipped in motion blur: it lies where the person is, but nothing of them is under it)."""

    slipped = False

    def detect(self, image: np.ndarray) -> list[PoseFrame]:
        poses = super().detect(image)
        if self.slipped and poses:
            tall = float(np.ptp(poses[0].body[:, 1]))
            poses[0].body[:, :2] += (-0.25 * tall, 0.3 * tall)
        return poses


@pytest.mark.parametrize("tall", [330, 150])  # tracked in the whole frame, and in a window around him
def test_a_skeleton_slipped_onto_the_grass_is_refused_and_the_player_found_again_in_that_frame(tall):
    # the slipped pose is refused for its look (grass, nobody under it); the one the re-detection finds must be
    # judged on its own look, not handed the refused one's (the follower's per-frame memory of looks and support
    # was keyed by id(), and a freed pose's id goes to the next one made)
    tracker, searcher = SlippingFinder(), FigureFinder()
    follower = PersonFollower(tracker, searcher, PaintSegmenter(), fps=30.0)
    for k in range(12):
        him = _figure(240 + 3 * k, 300, tall)
        tracker.slipped = k == 6
        pose = follower.step(_frame([(him, WHITE, tall)]))
        # before: frame 6 was empty (nobody looked again until the search two frames later)
        assert pose is not None and np.linalg.norm(_hips(pose) - _hips(him)) < 0.1 * tall, k


def test_a_person_who_left_costs_one_model_run_a_frame_between_searches():
    # where the tracker sees nobody (the person left, or is hidden) there is no re-detection: the periodic search
    # looks for them, and the frames between searches cost the tracker's run alone (person-less footage stays fast)
    tracker, searcher = FigureFinder(), FigureFinder()
    follower = PersonFollower(tracker, searcher, None, fps=30.0)
    for k in range(5):
        assert follower.step(_frame([(_figure(300 + 4 * k, 320, 150), WHITE, 150)])) is not None
    empty = _frame([])
    runs = []
    for _ in range(12):
        before = tracker.runs + searcher.runs
        assert follower.step(empty) is None
        runs.append(tracker.runs + searcher.runs - before)
    searched = [k for k in range(12) if runs[k] > 1]  # the search: the whole frame and its windows
    assert len(searched) >= 2 and all(runs[k] > 10 for k in searched), runs
    assert all(runs[k] == 1 for k in range(12) if k not in searched), runs


def test_a_pose_is_judged_by_its_own_look_not_by_that_of_a_pose_freed_before_it():
    from studio.motion import appearance

    follower = PersonFollower(FigureFinder(), FigureFinder(), None, fps=30.0)
    him = _figure(240, 300, 330)
    frame = _frame([(him, WHITE, 330)])
    follower.step(frame)
    looks = []
    for hip_x in (700, 240):  # on the grass (a refused pose, then dropped), then on him
        pose = _figure(hip_x, 300, 330)  # (CPython tends to give it the id of the pose freed just before)
        looks.append(follower._look(pose))
        assert looks[-1].keys() == appearance.describe(frame, pose).keys()
        assert all(np.array_equal(looks[-1][k], v) for k, v in appearance.describe(frame, pose).items()), hip_x
        del pose
    assert appearance.similarity(looks[0], looks[1]) < 0.5  # (grass and white: the premise)
