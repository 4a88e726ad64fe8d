"""The warp against ground truth: the photo's own skeleton moved by a known similarity must give the photo
moved by that similarity; the photo's own pose must give the photo back; a driver with another face shape
must not reshape the face (scored by dlib's face-recognition model).

The photo is the bundled astronaut (scikit-image) at 384×384; its pose comes from the mediapipe backend and
its matte from mediapipe's selfie segmentation, as in the engine. The driving poses are exact (the photo's
pose moved by the transform), so these tests measure the warp's geometry, not a detector's noise.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from studio.warp import PersonWarper, WarpReference, WarpSettings, person_matte
from studio.warp.quality import (
    broken_share,
    masked_psnr,
    moved_pose,
    moved_truth,
    other_face_shape,
    similarity,
)
from tests.studio.warp.test_warp_support import astronaut, detect_pose

SIZE = 384
#: (rotation °, scale, shift x, shift y): small moves a driving clip makes, both ways.
MOVES = [(5, 1.0, 0, 0), (-8, 1.0, 10, -5), (0, 1.1, 0, 0), (0, 0.9, 15, 10), (3, 1.05, -20, 12),
         (0, 1.0, 25, -25), (-4, 0.95, -12, -18)]


@pytest.fixture(scope="module")
def photo():
    image = cv2.resize(astronaut(), (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    pose = detect_pose(image)
    assert pose is not None and (pose.face[:, 2] > 0.3).sum() >= 20, "the pose backend found no face points"
    matte = person_matte(image)
    return image, pose, matte, WarpReference.prepare(image, pose, matte=matte)


def test_rigid_moves_of_the_skeleton_move_the_person_rigidly(photo):
    image, pose, matte, ref = photo
    warper = PersonWarper(ref, settings=WarpSettings(smoothing=False))
    center = pose.body[1, :2]
    for angle, scale, dx, dy in MOVES:
        m = similarity(angle, scale, (dx, dy), center)
        frame = warper.warp(moved_pose(pose, m))
        expected, inside = moved_truth(image, matte, m)
        assert inside.sum() > 0.2 * SIZE * SIZE
        share = broken_share(frame, expected, inside)
        assert share <= 0.02, f"move {(angle, scale, dx, dy)}: {share:.1%} of the person has no match within 4 px"
        # The check bites: the unmoved photo fails it (so a warp that does nothing would too).
        assert broken_share(image, expected, inside) > 0.1
        # Outside the person the frame is the clean plate: no wedges at the borders.
        person_now = cv2.dilate(warper.warped_matte(warper.maps(moved_pose(pose, m))), np.ones((5, 5), np.uint8))
        background = person_now < 1e-3
        np.testing.assert_array_equal(frame[background], ref.background[background])


def test_a_slow_rigid_move_stays_whole_with_smoothing_on(photo):
    """The default settings (One-Euro smoothing of the points): a clip drifting ~2.5 px a frame."""
    image, pose, matte, ref = photo
    warper = PersonWarper(ref, fps=25.0)
    center = pose.body[1, :2]
    for i in range(10):
        t = i / 9.0
        m = similarity(4.0 * t, 1.0 + 0.05 * t, (20.0 * t, -10.0 * t), center)
        frame = warper.warp(moved_pose(pose, m))
        expected, inside = moved_truth(image, matte, m)
        share = broken_share(frame, expected, inside)
        assert share <= 0.02, f"frame {i}: {share:.1%} of the person has no match within 4 px"


def test_the_reference_pose_gives_the_photo_back(photo):
    image, pose, matte, ref = photo
    frame = PersonWarper(ref, fps=25.0).warp(pose)  # default settings, first frame
    _, inside = moved_truth(image, matte, np.eye(2, 3))
    assert masked_psnr(frame, image, inside) >= 35.0


def test_a_driver_with_another_face_shape_keeps_the_photos_face(photo):
    from studio.faces.dlib_identity import SAME_PERSON_DISTANCE, DlibFaceEmbedder, distance

    image, pose, _, ref = photo
    embed = DlibFaceEmbedder()
    reference = embed(image)
    assert reference is not None
    drivers = [other_face_shape(pose, i) for i in range(3)]

    def median_distance(settings: WarpSettings) -> float:
        warper = PersonWarper(ref, settings=settings)
        found = [embed(warper.warp(p)) for p in drivers]
        assert all(v is not None for v in found), "dlib lost the face in a warped frame"
        return float(np.median([distance(reference, v) for v in found]))

    assert median_distance(WarpSettings(smoothing=False)) <= 0.3
    # The driver is hard enough: a warp that bends the photo into the driver's face shape (one spline
    # through every point) leaves dlib's same-person ball's inner half.
    assert median_distance(WarpSettings(smoothing=False, layers=False)) > 0.3
    assert SAME_PERSON_DISTANCE == 0.6


def test_the_clean_plate_is_smooth_where_the_person_was(photo):
    image, _, matte, ref = photo
    hole = cv2.erode((matte > 0.5).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0

    def roughness(rgb: np.ndarray) -> float:
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
        return float(np.abs(cv2.Laplacian(grey, cv2.CV_32F, ksize=3))[hole].mean())

    # Measured: push-pull fill 1.6, OpenCV TELEA inpainting at full size 4.7 (streaks), the photo 57.
    assert roughness(ref.background) < 2.5
    # No white or black fill: the plate's colours come from the background around the person.
    inside = ref.background[hole].astype(int)
    assert (inside.sum(1) > 60).all() and (inside.min(1) < 245).all()
