"""The frame finishing chain's pieces: the frame matte's logic, the colour match, compositing and alpha.

The matte's logic is tested with a stand-in segmenter (a known probability map), so what is checked is the
skeleton bound, the temporal filter and the feathering, not mediapipe; one test runs the real segmenter on the
astronaut moved by a known similarity. The colour match runs on the astronaut photo (a still "clip") with a
known drift injected, so the undrifted frames are the truth.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from studio.compose.background import composite, finish_frames, with_alpha
from studio.compose.colour import ColourMatcher, delta_e
from studio.compose.frame_matte import FrameMatter, feather, fill_holes, skeleton_bounds, stabilise
from studio.motion.types import PoseFrame
from tests.generated_media import astronaut

SIZE = 128


def stick_pose(shift: float = 0.0) -> PoseFrame:
    """A standing skeleton in a 128² frame (neck at 64, 40), shifted right by ``shift`` px."""
    pose = PoseFrame()
    points = {0: (64, 24), 1: (64, 40), 2: (52, 40), 3: (48, 60), 4: (46, 80), 5: (76, 40), 6: (80, 60),
              7: (82, 80), 8: (56, 80), 9: (56, 100), 10: (56, 120), 11: (72, 80), 12: (72, 100), 13: (72, 120)}
    for k, (x, y) in points.items():
        pose.body[k] = (x + shift, y, 1.0)
    return pose


def person_probability(shift: float = 0.0) -> np.ndarray:
    prob = np.zeros((SIZE, SIZE), np.float32)
    cv2.rectangle(prob, (int(50 + shift), 20), (int(78 + shift), 122), 1.0, -1)
    return prob


class FakeSegmenter(FrameMatter):
    """``FrameMatter`` whose segmentation is given, one map per call."""

    def __init__(self, maps):
        super().__init__()
        self.maps = list(maps)

    def _segment(self, frame):
        return self.maps.pop(0)


# ----------------------------------------------------------------------------------------------- matte
def test_the_skeleton_removes_a_far_false_positive_and_keeps_a_missed_limb():
    wide = (SIZE, 3 * SIZE)  # room for "a person" more than two bone lengths (2·20 px) from the skeleton's hull
    prob = np.zeros(wide, np.float32)
    prob[:, :SIZE] = person_probability()
    prob[:, 44:50] = 0.0  # the segmenter missed the right forearm's column…
    cv2.rectangle(prob, (300, 4), (360, 60), 1.0, -1)  # …and saw "a person" far away
    matte = FakeSegmenter([prob]).probability(np.zeros((*wide, 3), np.uint8), stick_pose())
    assert matte[:, 250:].max() == 0.0  # far from the skeleton: gone
    assert matte[70, 47] == 1.0  # on the forearm's bone (48, 60)→(46, 80): kept
    assert matte[60, 64] == 1.0  # the segmented body stays


def test_without_a_skeleton_the_segmentation_is_used_as_it_is():
    prob = person_probability()
    assert skeleton_bounds(None, (SIZE, SIZE)) is None
    out = FakeSegmenter([prob]).probability(np.zeros((SIZE, SIZE, 3), np.uint8), None)
    np.testing.assert_array_equal(out, prob)


def test_edge_jitter_is_evened_out_but_a_moved_limb_is_not_smeared():
    base = person_probability()
    up, down = base.copy(), base.copy()
    edge = (slice(None), slice(78, 80))
    up[edge], down[edge] = 0.6, 0.4  # the edge's probability flickers around the half level
    steady = stabilise(down, [up, up])
    assert np.all(np.abs(steady[edge] - 0.5) < np.abs(down[edge] - 0.5))  # pulled towards its neighbours
    moved = person_probability(shift=30.0)
    kept = stabilise(base, [moved, moved])
    # where the neighbour disagrees fully (0 vs 1) its weight is 0.25·e^(−25) ≈ 0: no trace of the other place
    assert np.abs(kept - base).max() < 1e-6


def test_holes_are_filled_and_the_edge_is_feathered_narrowly():
    mask = np.zeros((SIZE, SIZE), bool)
    mask[20:100, 30:90] = True
    mask[50:60, 50:60] = False
    filled = fill_holes(mask)
    assert filled[55, 55] and not filled[10, 10]
    big = np.zeros((512, 512), np.float32)
    big[100:400, 100:300] = 1.0  # columns 100…299 inside
    soft = feather(big)
    # σ = 0.5 px at 512²: the edge pixels are anti-aliased, and 2 px out the weight is e^(−2²/(2·0.5²)) < 0.01
    assert 0.5 < soft[250, 299] < 1.0 and 0.0 < soft[250, 300] < 0.5
    assert soft[250, 301] < 0.01 and soft[250, 296] == 1.0


def test_run_yields_one_matte_per_frame_in_order():
    maps = [person_probability(shift=s) for s in (0.0, 10.0, 20.0)]
    frames = [np.zeros((SIZE, SIZE, 3), np.uint8)] * 3
    mattes = list(FakeSegmenter(maps).run(zip(frames, [stick_pose(s) for s in (0.0, 10.0, 20.0)], strict=True)))
    assert len(mattes) == 3
    for matte, shift in zip(mattes, (0.0, 10.0, 20.0), strict=True):
        assert matte[60, int(64 + shift)] == 1.0 and matte[60, int(40 + shift) - 20] == 0.0


def test_the_real_segmenter_finds_the_moved_astronaut():
    """The photo's person over the photo's own clean plate, moved by a known similarity: the matte overlaps
    the moved true mask (IoU well above what a box around the person would give)."""
    from studio.motion import detect_pose
    from studio.warp.matte import fill_background, person_matte
    from studio.warp.quality import moved_pose, similarity

    image = cv2.resize(astronaut(), (256, 256), interpolation=cv2.INTER_AREA)
    pose = detect_pose(image, backend="mediapipe")
    truth = (person_matte(image) > 0.5).astype(np.float32)
    plate = fill_background(image, truth)
    m = similarity(4.0, 0.95, (10.0, 6.0), pose.body[1, :2])
    moved = cv2.warpAffine(truth, m, (256, 256))[..., None]
    frame = np.clip(cv2.warpAffine(image, m, (256, 256)) * moved + plate * (1 - moved) + 0.5, 0, 255)
    matte = next(FrameMatter().run([(frame.astype(np.uint8), moved_pose(pose, m))]))
    inside, true = matte >= 0.5, moved[..., 0] >= 0.5
    assert (inside & true).sum() / (inside | true).sum() > 0.85


# ----------------------------------------------------------------------------------------------- colour
def drifted(image: np.ndarray, gain: float, red: float) -> np.ndarray:
    x = image.astype(np.float32) * gain
    x[..., 0] *= red
    return np.clip(x + 0.5, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def photo():
    return cv2.resize(astronaut(), (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def test_a_slow_drift_is_removed_in_first_frame_mode(photo):
    n = 12
    clip = [drifted(photo, 1.0 - 0.15 * i / (n - 1), 1.0 + 0.08 * i / (n - 1)) for i in range(n)]
    out = list(ColourMatcher(radius=2).run((f, None, None) for f in clip))
    before = np.mean([delta_e(f, photo).mean() for f in clip])
    after = np.mean([delta_e(f, photo).mean() for f in out])
    assert len(out) == n
    assert after < 0.2 * before  # at least 80 % of the drift removed


def test_a_tile_jump_is_followed_not_smeared(photo):
    clip = [photo] * 6 + [drifted(photo, 0.9, 1.05)] * 6
    out = list(ColourMatcher(radius=2).run((f, None, None) for f in clip))
    # the running median keeps the step a step: both sides come back to the photo, the frames at the step too
    errors = [delta_e(f, photo).mean() for f in out]
    jump = delta_e(clip[-1], photo).mean()
    assert max(errors) < 0.2 * jump


def test_a_static_clip_is_left_as_it_is(photo):
    out = list(ColourMatcher(radius=2).run((photo, None, None) for _ in range(5)))
    for frame in out:
        # the identity transform through Lab and back: at most one level of rounding
        assert np.abs(frame.astype(int) - photo.astype(int)).max() <= 1


def test_reference_mode_matches_the_target_not_the_first_frame(photo):
    from studio.compose.colour import ColourView

    clip = [drifted(photo, 0.85, 1.0)] * 4
    out = list(ColourMatcher(ColourView.of(photo, None, None), radius=1).run((f, None, None) for f in clip))
    assert delta_e(out[0], photo).mean() < 0.2 * delta_e(clip[0], photo).mean()


def test_the_matcher_holds_only_its_look_ahead(photo):
    pulled = []

    def source():
        for i in range(10):
            pulled.append(i)
            yield photo, None, None

    stream = ColourMatcher(radius=3).run(source())
    next(stream)
    assert len(pulled) == 3 + 1  # frame 0 leaves once frame radius arrived


# ----------------------------------------------------------------------------------------------- compositing
def test_composite_is_the_plate_where_the_matte_is_zero_and_the_frame_where_one():
    frame = np.full((4, 4, 3), 200, np.uint8)
    plate = np.full((4, 4, 3), 10, np.uint8)
    matte = np.zeros((4, 4), np.float32)
    matte[:, :2] = 1.0
    matte[:, 2] = 0.5
    out = composite(frame, matte, plate)
    assert (out[:, :2] == 200).all() and (out[:, 3] == 10).all() and (out[:, 2] == 105).all()
    rgba = with_alpha(frame, matte)
    assert rgba.shape == (4, 4, 4) and list(rgba[0, :, 3]) == [255, 255, 128, 0]


def test_generated_without_colour_match_passes_the_very_frames_through(photo):
    frames = [photo.copy() for _ in range(3)]
    out = list(finish_frames(iter(frames), [None] * 3, reference=photo, reference_pose=None))
    assert all(a is b for a, b in zip(out, frames, strict=True))


def test_photo_mode_puts_the_photo_outside_the_person(monkeypatch, photo):
    """The frames' background is noise (as a model might re-imagine it); in photo mode everything outside the
    person is the plate, identical in every frame."""
    import studio.compose.background as background

    plate = np.full_like(photo, 77)
    monkeypatch.setattr(background, "photo_layers", lambda ref, pose: (np.zeros(ref.shape[:2], np.float32), plate))
    monkeypatch.setattr(FrameMatter, "_segment", lambda self, frame: person_probability())
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, photo.shape, dtype=np.uint8) for _ in range(4)]
    out = list(finish_frames(frames, [stick_pose()] * 4, reference=photo, reference_pose=None, background="photo"))
    outside = np.ones((SIZE, SIZE), bool)
    outside[10:128, 40:90] = False  # the person's box, grown by more than the feather
    for frame in out:
        assert (frame[outside] == 77).all()
    transparent = list(finish_frames(frames, [stick_pose()] * 4, reference=photo, reference_pose=None,
                                     background="transparent"))
    assert all(f.shape == (SIZE, SIZE, 4) for f in transparent)
    assert (transparent[0][outside, 3] == 0).all() and transparent[0][60, 64, 3] == 255
    np.testing.assert_array_equal(transparent[1][..., :3], frames[1])


def test_unknown_modes_are_refused(photo):
    with pytest.raises(ValueError, match="background"):
        list(finish_frames([photo], [None], reference=photo, reference_pose=None, background="green"))
    with pytest.raises(ValueError, match="color match"):
        list(finish_frames([photo], [None], reference=photo, reference_pose=None, color_match="always"))
