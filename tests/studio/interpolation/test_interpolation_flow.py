"""The weight-free interpolator on frames whose in-between frame is known exactly: a textured patch moved over a
textured background. Bounds come from what the alternatives do on the same frames (a cross-fade doubles the patch)
and from arithmetic (a convex blend of two frames cannot leave their brightness range)."""

from __future__ import annotations

import numpy as np
import pytest

from studio.interpolation.flow import blend_share, interpolate_pair, to_uint8
from studio.interpolation.methods import FlowInterpolator
from studio.interpolation.poses import PoseGuide, check_face
from studio.motion.types import PoseFrame
from tests.generated_media import astronaut


def _scene(shift_x: float, size: int = 512) -> np.ndarray:
    """The astronaut photo as background, a 96-px patch of it (her face) pasted at x = 80 + shift_x (the
    interpolator estimates flow at half this size: a 48-px patch on 256 px)."""
    import cv2

    photo = cv2.resize(astronaut(), (size, size), interpolation=cv2.INTER_AREA)
    background = cv2.GaussianBlur(photo, (0, 0), 1.0)
    patch = astronaut()[70:166, 180:276]  # 96×96
    frame = background.copy()
    shift = np.float32([[1, 0, 80 + shift_x], [0, 1, 112]])
    moved = cv2.warpAffine(patch, shift, (size, size), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(np.ones(patch.shape[:2], np.float32), shift, (size, size), flags=cv2.INTER_LINEAR)
    return (alpha[..., None] * moved + (1 - alpha[..., None]) * frame).astype(np.uint8)


def _error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b).mean())


@pytest.mark.parametrize("step", [6.0, 12.0])
def test_the_middle_frame_is_rebuilt_far_better_than_a_cross_fade(step):
    first, truth, last = _scene(0), _scene(step), _scene(2 * step)
    rebuilt = to_uint8(interpolate_pair(first, last, [0.5])[0].frame)
    cross_fade = to_uint8((first.astype(np.float32) + last) / 2)
    # the cross-fade shows two half-transparent patches; the flow result one patch in the right place
    assert _error(rebuilt, truth) < 0.4 * _error(cross_fade, truth), (_error(rebuilt, truth),
                                                                       _error(cross_fade, truth))


def test_three_times_gives_two_frames_in_order():
    first, last = _scene(0), _scene(24)
    frames = FlowInterpolator().between(first, last, [1 / 3, 2 / 3])
    for frame, shift in zip(frames, (8, 16), strict=True):
        errors = {s: _error(frame, _scene(s)) for s in (0, 8, 16, 24)}
        assert min(errors, key=errors.get) == shift, errors


def test_endpoints_are_the_frames_themselves():
    first, last = _scene(0), _scene(10)
    start, end = interpolate_pair(first, last, [0.0, 1.0])
    assert np.abs(to_uint8(start.frame).astype(int) - first).max() <= 1
    assert np.abs(to_uint8(end.frame).astype(int) - last).max() <= 1


def test_vanishing_weights_never_darken_a_pixel():
    """Weights far below float32's resolution (both frames distrusted) fall back to the time mix, not to 0."""
    tiny = np.full((4, 4), 1e-30, np.float32)
    assert np.allclose(blend_share(tiny, tiny, 0.25), 0.75, atol=1e-6)
    zero = np.zeros((4, 4), np.float32)
    assert np.allclose(blend_share(zero, zero, 0.5), 0.5)
    assert np.allclose(blend_share(np.full((4, 4), 3.0, np.float32), np.full((4, 4), 1.0, np.float32), 0.5), 0.75)


def test_no_frame_is_darker_or_brighter_than_its_neighbours():
    """Unrelated noise frames (every flow vector distrusted, every splat sparse): each output pixel is a convex
    mix of values the two frames hold, so the frame mean stays between theirs (±0.5 for the rounding)."""
    rng = np.random.default_rng(0)
    first = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    last = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8) // 2 + 64
    for frame in FlowInterpolator().between(first, last, [0.25, 0.5, 0.75]):
        low, high = sorted((first.mean(), last.mean()))
        assert low - 0.5 <= frame.mean() <= high + 0.5, (frame.mean(), low, high)


def _pose(points: dict[int, tuple[float, float]]) -> PoseFrame:
    pose = PoseFrame()
    for index, (x, y) in points.items():
        pose.body[index] = (x, y, 1.0)
    return pose


def test_a_limb_pulls_the_flow_where_it_disagrees_and_nowhere_else():
    """A forearm (elbow 3 → wrist 4) moves 20 px right; the estimated flow (all zero here) is replaced by that
    motion along the limb, untouched far from it, in both directions."""
    forward = np.zeros((100, 100, 2), np.float32)
    backward = np.zeros((100, 100, 2), np.float32)
    guide = PoseGuide(_pose({3: (20, 50), 4: (60, 50)}), _pose({3: (40, 50), 4: (80, 50)}))
    guide(forward, backward, (1.0, 1.0))
    assert np.allclose(forward[50, 40], (20, 0), atol=0.5)
    assert np.allclose(backward[50, 60], (-20, 0), atol=0.5)
    assert np.abs(forward[10, 40]).max() == 0 and np.abs(forward[50, 95]).max() == 0
    agreeing = np.zeros_like(forward)
    agreeing[..., 0] = 19.0  # within the tolerance of the keypoints' 20 px: left alone
    guide(agreeing, backward.copy(), (1.0, 1.0))
    assert np.all(agreeing[..., 0] == 19.0)


def test_a_ghosted_face_is_taken_from_the_nearer_frame():
    from studio.interpolation.flow import Intermediate

    h = w = 64
    warped0 = np.full((h, w, 3), 50, np.uint8)
    warped1 = np.full((h, w, 3), 150, np.uint8)
    result = Intermediate(frame=np.full((h, w, 3), 100, np.uint8), warped0=warped0, warped1=warped1,
                          share0=np.full((h, w), 0.5, np.float32))
    face = _pose({0: (32, 32), 14: (28, 28), 15: (36, 28)})
    out = check_face(result, 0.3, (face, face))
    assert np.allclose(out[32, 32], 50.0, atol=1.0)  # the nearer frame (t < 0.5) alone inside the face
    assert np.allclose(out[2, 2], 100.0)  # the blend elsewhere
    agreeing = Intermediate(frame=warped0.copy(), warped0=warped0, warped1=warped0, share0=result.share0)
    assert np.array_equal(to_uint8(check_face(agreeing, 0.3, (face, face))), warped0)


def test_a_scene_cut_holds_the_nearer_frame_instead_of_a_cross_fade():
    """Two unrelated pictures (the astronaut, then her photo upside down and darker): no flow vector is trusted,
    so each filled frame is exactly the nearer source frame."""
    first = _scene(0)
    last = (first[::-1, ::-1] * 0.6).astype(np.uint8)
    early, late = FlowInterpolator().between(first, last, [0.25, 0.75])
    assert np.array_equal(early, first) and np.array_equal(late, last)


def test_a_filled_frame_is_shifted_back_between_its_neighbours_brightness():
    from studio.interpolation.flow import _within_brightness

    frame = np.full((8, 8, 3), 90, np.uint8)
    assert np.array_equal(_within_brightness(frame, 85.0, 95.0), frame)  # inside: untouched
    assert abs(_within_brightness(frame, 100.0, 110.0).mean() - 99.5) <= 0.5
    assert abs(_within_brightness(frame, 60.0, 70.0).mean() - 70.5) <= 0.5
