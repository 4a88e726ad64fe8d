"""Alignment of driving poses to the reference (docs/model.md §13 global fit, per-bone retargeting, none), nudge, smoothing."""

from __future__ import annotations

import numpy as np
import pytest

from studio.errors import InputError
from studio.motion import AlignmentOptions, PoseFrame, align_poses, global_fit, transform_pose
from studio.motion.align import BONES
from studio.motion.smoothing import smooth_poses

# A standing person, OpenPose-18 order, in a 200×400 frame (x, y).
REFERENCE_XY = np.array([
    [100, 60], [100, 100], [70, 100], [60, 150], [55, 200], [130, 100], [140, 150], [145, 200],
    [80, 200], [78, 280], [76, 360], [120, 200], [122, 280], [124, 360], [92, 52], [108, 52], [84, 58], [116, 58],
], dtype=np.float64)


def _pose(xy: np.ndarray, score: float = 0.9) -> PoseFrame:
    pose = PoseFrame()
    pose.body[:, :2] = xy
    pose.body[:, 2] = score
    # A face around the nose, hands at the wrists.
    ring = np.stack([np.cos(np.linspace(0, 2 * np.pi, 68)), np.sin(np.linspace(0, 2 * np.pi, 68))], 1)
    pose.face[:, :2] = xy[0] + 12 * ring
    pose.face[:, 2] = 0.8
    pose.right_hand[:, :2] = xy[4] + 8 * ring[:21]
    pose.right_hand[:, 2] = 0.7
    pose.left_hand[:, :2] = xy[7] + 8 * ring[:21]
    pose.left_hand[:, 2] = 0.7
    return pose


def _scaled(xy: np.ndarray, s: float, about: tuple[float, float]) -> np.ndarray:
    c = np.asarray(about, dtype=np.float64)
    return (xy - c) * s + c


def _driving_with_other_proportions() -> np.ndarray:
    """The reference's posture with longer arms, shorter legs and a wider torso (a different body)."""
    xy = REFERENCE_XY.copy()
    xy[[3, 4]] += [[-10, 20], [-20, 45]]
    xy[[6, 7]] += [[10, 20], [20, 45]]
    xy[[9, 10, 12, 13]] -= [[0, 20], [0, 45], [0, 20], [0, 45]]
    xy[[2, 8]] -= [12, 0]
    xy[[5, 11]] += [12, 0]
    return xy


# These tests are about the body fit: the face points stay the driver's (retargeting has its own tests).
NO_SMOOTH = dict(smoothing=False, face="driver")


def _bone_lengths(pose: PoseFrame) -> np.ndarray:
    return np.array([np.linalg.norm(pose.body[c, :2] - pose.body[p, :2]) for p, c in BONES])


def test_global_fit_recovers_the_inverse_scale():
    reference = _pose(REFERENCE_XY)
    for s, about in ((0.5, (100.0, 0.0)), (1.6, (40.0, 300.0)), (0.8, (0.0, 0.0))):
        driving = _pose(_scaled(REFERENCE_XY, s, about))
        fit = global_fit([driving], reference)
        assert fit is not None
        assert fit.scale == pytest.approx(1 / s, rel=1e-4)


def test_global_alignment_maps_a_scaled_copy_back_onto_the_reference():
    reference = _pose(REFERENCE_XY)
    # Half size about (300, 50), somewhere else in a 640×360 clip; face and hands scaled with the body.
    driving = transform_pose(reference, np.array([[0.5, 0.0, 150.0], [0.0, 0.5, 25.0]]))
    np.testing.assert_allclose(driving.body[:, :2], _scaled(REFERENCE_XY, 0.5, (300.0, 50.0)), atol=1e-4)
    (aligned,) = align_poses([driving], reference, (640, 360), (200, 400), AlignmentOptions("global", **NO_SMOOTH))
    np.testing.assert_allclose(aligned.body[:, :2], REFERENCE_XY, atol=1e-3)
    np.testing.assert_allclose(aligned.face[:, :2], reference.face[:, :2], atol=1e-3)
    np.testing.assert_allclose(aligned.right_hand[:, :2], reference.right_hand[:, :2], atol=1e-3)
    np.testing.assert_array_equal(aligned.body[:, 2], driving.body[:, 2])  # scores untouched


def test_global_fit_is_one_fit_for_the_whole_clip_keeping_the_motion():
    # Frames that walk sideways at one scale: every frame gets the same scale, the walk survives (scaled).
    reference = _pose(REFERENCE_XY)
    s = 0.5
    shifts = [0.0, 20.0, 40.0]
    frames = [_pose(_scaled(REFERENCE_XY, s, (0.0, 0.0)) + [dx, 0.0]) for dx in shifts]
    aligned = align_poses(frames, reference, (400, 400), (200, 400), AlignmentOptions("global", **NO_SMOOTH))
    neck_x = [p.body[1, 0] for p in aligned]
    np.testing.assert_allclose(np.diff(neck_x), np.diff(shifts) / s, atol=1e-3)
    for pose in aligned:
        np.testing.assert_allclose(_bone_lengths(pose), _bone_lengths(reference), rtol=1e-4)
    assert np.mean(neck_x) == pytest.approx(REFERENCE_XY[1, 0], abs=1e-3)


def test_bones_alignment_takes_the_reference_bone_lengths():
    reference = _pose(REFERENCE_XY)
    driving_xy = _scaled(_driving_with_other_proportions(), 0.7, (50.0, 20.0))
    driving = _pose(driving_xy)
    assert np.abs(_bone_lengths(driving) * (1 / 0.7) - _bone_lengths(reference)).max() > 10  # really different
    (aligned,) = align_poses([driving], reference, (300, 300), (200, 400), AlignmentOptions("bones", **NO_SMOOTH))
    np.testing.assert_allclose(_bone_lengths(aligned), _bone_lengths(reference), atol=1.0)
    # ...keeping each bone's driving direction.
    for p, c in BONES:
        d = driving.body[c, :2] - driving.body[p, :2]
        a = aligned.body[c, :2] - aligned.body[p, :2]
        cos = float(d @ a / np.linalg.norm(d) / np.linalg.norm(a))
        assert cos > 0.9999, f"bone {p}->{c} turned"


def test_bones_alignment_moves_face_and_hands_with_their_anchor():
    reference = _pose(REFERENCE_XY)
    driving = _pose(_driving_with_other_proportions())
    (aligned,) = align_poses([driving], reference, (200, 400), (200, 400), AlignmentOptions("bones", **NO_SMOOTH))
    fit = global_fit([driving], reference)
    np.testing.assert_allclose(
        aligned.face[:, :2] - aligned.body[0, :2], (driving.face[:, :2] - driving.body[0, :2]) * fit.scale, atol=1e-3
    )
    np.testing.assert_allclose(
        aligned.right_hand[:, :2] - aligned.body[4, :2],
        (driving.right_hand[:, :2] - driving.body[4, :2]) * fit.scale, atol=1e-3,
    )


def test_bones_uses_the_driving_length_times_the_fit_where_the_reference_lacks_a_bone():
    reference = _pose(REFERENCE_XY)
    reference.body[[10, 13], 2] = 0.0  # ankles hidden in the photo
    driving = _pose(_scaled(REFERENCE_XY, 0.5, (0.0, 0.0)))
    driving.body[10, 1] += 30  # a longer shin
    (aligned,) = align_poses([driving], reference, (200, 400), (200, 400), AlignmentOptions("bones", **NO_SMOOTH))
    fit = global_fit([driving], reference)
    shin = np.linalg.norm(aligned.body[10, :2] - aligned.body[9, :2])
    assert shin == pytest.approx(np.linalg.norm(driving.body[10, :2] - driving.body[9, :2]) * fit.scale, rel=1e-4)


def test_none_only_maps_the_source_frame_into_the_output():
    driving = _pose(REFERENCE_XY)
    driving.body[16, :] = 0.0  # a missing point
    (aligned,) = align_poses([driving], _pose(REFERENCE_XY * 3), (400, 200), (200, 200), AlignmentOptions("none", **NO_SMOOTH))
    # 400×200 fitted inside 200×200: scale 0.5, centred vertically (offset 50).
    expected = REFERENCE_XY * 0.5 + [0.0, 50.0]
    present = driving.body[:, 2] > 0
    np.testing.assert_allclose(aligned.body[present, :2], expected[present], atol=1e-4)
    np.testing.assert_array_equal(aligned.body[16], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(aligned.face[:, :2], driving.face[:, :2] * 0.5 + [0.0, 50.0], atol=1e-4)
    # Same size in and out: the pose is unchanged.
    (same,) = align_poses([driving], None, (200, 400), (200, 400), AlignmentOptions("none", **NO_SMOOTH))
    np.testing.assert_allclose(same.body, driving.body, atol=1e-5)


def test_no_reference_person_falls_back_to_none_with_a_warning():
    driving = _pose(REFERENCE_XY)
    with pytest.warns(UserWarning, match="could not fit"):
        (aligned,) = align_poses([driving], PoseFrame(), (200, 400), (100, 200), AlignmentOptions("bones", **NO_SMOOTH))
    np.testing.assert_allclose(aligned.body[:, :2], REFERENCE_XY * 0.5, atol=1e-4)


def test_offset_and_scale_nudge():
    driving = _pose(REFERENCE_XY)
    out = (200, 400)
    (plain,) = align_poses([driving], None, out, out, AlignmentOptions("none", **NO_SMOOTH))
    (shifted,) = align_poses([driving], None, out, out, AlignmentOptions("none", offset_x=0.1, offset_y=-0.05, **NO_SMOOTH))
    np.testing.assert_allclose(shifted.body[:, :2] - plain.body[:, :2], np.tile([20.0, -20.0], (18, 1)), atol=1e-4)
    (bigger,) = align_poses([driving], None, out, out, AlignmentOptions("none", scale=1.5, **NO_SMOOTH))
    neck = plain.body[1, :2]  # the scale is about the figure's neck
    np.testing.assert_allclose(bigger.body[:, :2] - neck, (plain.body[:, :2] - neck) * 1.5, atol=1e-3)
    np.testing.assert_allclose(bigger.face[:, :2] - neck, (plain.face[:, :2] - neck) * 1.5, atol=1e-3)


def test_options_validate_and_round_trip():
    options = AlignmentOptions("global", smoothing=False, offset_x=0.1, scale=1.2)
    assert AlignmentOptions.from_dict(options.to_dict()) == options
    with pytest.raises(InputError, match="mode"):
        AlignmentOptions("sideways")
    with pytest.raises(InputError, match="scale"):
        AlignmentOptions(scale=0)


def test_smoothing_reduces_jitter_and_follows_real_motion():
    rng = np.random.default_rng(0)
    fps = 30.0
    frames = []
    for i in range(60):
        xy = REFERENCE_XY + rng.normal(0, 2.0, REFERENCE_XY.shape)
        if i >= 30:
            xy = xy + [40.0, 0.0]  # the person steps to the side half-way
        frames.append(_pose(xy))
    smoothed = smooth_poses(frames, fps)
    raw_x = np.array([p.body[:, 0] for p in frames])
    smooth_x = np.array([p.body[:, 0] for p in smoothed])
    # Jitter over the still part (after the filter settled): much smaller.
    raw_jitter = np.abs(np.diff(raw_x[5:30], axis=0)).mean()
    smooth_jitter = np.abs(np.diff(smooth_x[5:30], axis=0)).mean()
    assert smooth_jitter < 0.5 * raw_jitter
    # The step is followed: by the end the smoothed pose is at the new place.
    assert np.abs(smooth_x[-5:].mean(0) - (REFERENCE_XY[:, 0] + 40)).max() < 2.5
    # Scores are untouched; align_poses with smoothing on smooths too.
    np.testing.assert_array_equal(smoothed[10].body[:, 2], frames[10].body[:, 2])
    aligned = align_poses(frames, None, (200, 400), (200, 400), AlignmentOptions("none", smoothing=True), fps)
    aligned_x = np.array([p.body[:, 0] for p in aligned])
    assert np.abs(np.diff(aligned_x[5:30], axis=0)).mean() < 0.5 * raw_jitter


def test_smoothing_leaves_missing_points_missing():
    frames = [_pose(REFERENCE_XY) for _ in range(4)]
    frames[2].body[4] = 0.0
    smoothed = smooth_poses(frames, 30.0)
    np.testing.assert_array_equal(smoothed[2].body[4], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(smoothed[3].body[4, :2], REFERENCE_XY[4], atol=1e-4)


def test_transform_pose_applies_the_matrix_and_keeps_missing_points():
    pose = _pose(REFERENCE_XY)
    pose.body[3] = 0.0
    pose.face_box = (10.0, 20.0, 30.0, 40.0)
    m = np.array([[2.0, 0.0, 5.0], [0.0, 2.0, -3.0]])
    out = transform_pose(pose, m)
    np.testing.assert_allclose(out.body[0, :2], REFERENCE_XY[0] * 2 + [5, -3])
    np.testing.assert_array_equal(out.body[3], [0, 0, 0])
    assert out.face_box == pytest.approx((25.0, 37.0, 65.0, 77.0))
    np.testing.assert_array_equal(pose.body[0, :2], REFERENCE_XY[0].astype(np.float32))  # input untouched
