"""Skeleton drawing follows docs/model.md §13 (DWPose style). Expected colours come from its table, not the code."""

from __future__ import annotations

import numpy as np
import pytest

from studio.motion import PoseFrame, draw_pose

# Spec §13 colours (RGB on disk), index 0..17; limb i uses colour i, joint i uses colour i.
SPEC_COLORS = [
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
    (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
    (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
]
# Spec §13 limbs, 1-based OpenPose pairs.
SPEC_LIMBS_1BASED = [[2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12], [12, 13],
                     [13, 14], [2, 1], [1, 15], [15, 17], [1, 16], [16, 18]]

SIZE = 2160  # the drawing canvas itself: no resize, so pixels are exact

BODY_XY = np.array([
    [1080, 500], [1080, 800], [700, 800], [700, 1200], [700, 1600], [1460, 800], [1460, 1200], [1460, 1600],
    [900, 1500], [900, 1800], [900, 2100], [1260, 1500], [1260, 1800], [1260, 2100], [1000, 420], [1160, 420],
    [900, 460], [1260, 460],
], dtype=np.float32)
BODY_SCORES = np.array([0.95, 0.9, 0.8, 1.0, 0.7, 0.85, 1.0, 1.0, 0.9, 1.0, 1.0, 0.9, 1.0, 1.0, 0.9, 0.9, 0.9, 0.9],
                       dtype=np.float32)


def _pose() -> PoseFrame:
    pose = PoseFrame()
    pose.body[:, :2] = BODY_XY
    pose.body[:, 2] = BODY_SCORES
    pose.face[:, 0] = 100 + 25 * np.arange(68)  # a row of face dots along the top, away from the body
    pose.face[:, 1] = 150
    pose.face[:, 2] = 0.5
    pose.right_hand[:, 0] = 100 + 40 * np.arange(21)  # a row of hand points along the bottom left
    pose.right_hand[:, 1] = 2000
    pose.right_hand[:, 2] = 0.6
    return pose


def _px(image: np.ndarray, xy) -> np.ndarray:
    x, y = xy
    return image[int(y), int(x)].astype(int)


def _limb_index(a: int, b: int) -> int:
    return SPEC_LIMBS_1BASED.index([a + 1, b + 1])


@pytest.fixture(scope="module")
def drawn() -> np.ndarray:
    image = draw_pose(_pose(), SIZE, SIZE)
    assert image.shape == (SIZE, SIZE, 3) and image.dtype == np.uint8
    return image


@pytest.mark.parametrize("a, b", [(1, 2), (1, 5), (2, 3), (5, 6), (1, 8), (1, 11), (8, 9), (11, 12), (1, 0), (3, 4)])
def test_limb_colour_is_the_spec_colour_times_scores_dimmed(drawn, a, b):
    mid = (BODY_XY[a] + BODY_XY[b]) / 2
    expected = np.array(SPEC_COLORS[_limb_index(a, b)]) * BODY_SCORES[a] * BODY_SCORES[b] * 0.6
    np.testing.assert_allclose(_px(drawn, mid), expected, atol=1.5)


@pytest.mark.parametrize("i", [0, 1, 2, 4, 5, 7, 9, 12, 14, 17])
def test_joint_colour_is_the_index_colour_times_score_not_dimmed(drawn, i):
    expected = np.array(SPEC_COLORS[i]) * BODY_SCORES[i]
    np.testing.assert_allclose(_px(drawn, BODY_XY[i]), expected, atol=1.5)


def test_limb_width_and_joint_radius(drawn):
    # Limb 1->2 is horizontal at y=800: half-width 4 px (ellipse), black well outside it.
    mid_x = int((BODY_XY[1, 0] + BODY_XY[2, 0]) / 2)
    column = drawn[780:821, mid_x, 0]
    lit = np.flatnonzero(column > 0) + 780
    assert 795 <= lit.min() and lit.max() <= 805 and len(lit) >= 7
    # A joint at the end of a vertical limb: radius 4 around the point, nothing 7 px to either side or below.
    x, y = BODY_XY[4].astype(int)
    assert drawn[y, x + 3].any() and drawn[y, x - 3].any() and drawn[y + 3, x].any()
    assert not drawn[y, x + 7].any() and not drawn[y, x - 7].any() and not drawn[y + 7, x].any()


def test_face_dots_are_grey_by_score(drawn):
    for k in (0, 30, 67):
        x, y = 100 + 25 * k, 150
        value = _px(drawn, (x, y))
        np.testing.assert_allclose(value, [0.5 * 255] * 3, atol=1.5)
        assert not drawn[y, x + 6].any()  # radius 3


def test_hand_points_are_blue_by_score_and_edges_drawn(drawn):
    for k in (0, 4, 20):
        np.testing.assert_allclose(_px(drawn, (100 + 40 * k, 2000)), [0, 0, 0.6 * 255], atol=1.5)
    # Between joints 1 and 2 (the thumb's first edge): a coloured line, not blue-only.
    between = _px(drawn, (160, 2000))
    assert between.sum() > 0 and (between[0] > 0 or between[1] > 0)


def test_low_score_body_points_draw_nothing():
    pose = _pose()
    pose.body[3, 2] = 0.29  # the right elbow: below 0.3
    image = draw_pose(pose, SIZE, SIZE)
    for a, b in ((2, 3), (3, 4)):  # both limbs touching the elbow vanish
        assert not _px(image, (BODY_XY[a] + BODY_XY[b]) / 2).any()
    assert not _px(image, BODY_XY[3]).any()
    # ...while the rest is still drawn.
    expected = np.array(SPEC_COLORS[4]) * BODY_SCORES[4]
    np.testing.assert_allclose(_px(image, BODY_XY[4]), expected, atol=1.5)
    pose.body[3, 2] = 0.3  # at exactly 0.3 it is drawn (≥ 0.3)
    assert _px(draw_pose(pose, SIZE, SIZE), BODY_XY[3]).any()


def test_other_sizes_are_the_2160_canvas_resized_bilinearly():
    import cv2

    width, height = 512, 768  # canvas 2160 × 3240 (short side 2160)
    ratio = 2160 / 512
    small = _pose()
    for group in ("body", "face", "right_hand"):
        getattr(small, group)[:, :2] = np.round(getattr(small, group)[:, :2] / ratio)
    big = _pose()
    for group in ("body", "face", "right_hand"):
        getattr(big, group)[:, :2] = getattr(small, group)[:, :2] * ratio
    canvas = draw_pose(big, 2160, 3240)
    expected = cv2.resize(canvas, (width, height), interpolation=cv2.INTER_LINEAR)
    image = draw_pose(small, width, height)
    assert image.shape == (height, width, 3)
    # Identical up to a canvas pixel of rounding at a few shape edges (float32 coordinates).
    differs = np.abs(image.astype(int) - expected.astype(int)).max(-1) > 2
    assert differs.mean() < 0.002, f"{differs.sum()} pixels differ"
    assert image.any()
    # ...and the same amount of ink (line widths scale with the 2160 px canvas).
    lit = (image.max(-1) > 0).mean()
    assert lit == pytest.approx((expected.max(-1) > 0).mean(), rel=0.05)


def test_no_pose_is_a_black_image():
    image = draw_pose(None, 64, 48)
    assert image.shape == (48, 64, 3) and not image.any()
    assert not draw_pose(PoseFrame(), 64, 48).any()
