"""Head points from the face (issue 12): the body's nose, eyes and ears agree with the face-68 points."""

from __future__ import annotations

import numpy as np
import pytest

from studio.media.video_io import fit_to_size
from studio.motion import AlignmentOptions, PoseFrame, align_motion, detect_pose, extract_poses
from studio.motion.head import head_from_face
from studio.motion.types import VISIBLE
from tests.generated_media import ASTRONAUT_FACE_BOX, astronaut, write_transform_video

SIZE = 256
#: Pure translations (pixels) of the photo, frame by frame: the nose's track is known exactly.
SHIFTS = [(0, 0), (14, -6), (28, -10), (40, -4), (30, 8), (12, 14)]


@pytest.fixture(scope="module")
def translated(tmp_path_factory):
    transforms = [(0.0, 1.0, float(dx), float(dy)) for dx, dy in SHIFTS]
    path, matrices = write_transform_video(tmp_path_factory.mktemp("head") / "shift.mp4", size=SIZE,
                                           transforms=transforms)
    return path, matrices, extract_poses(path, use_cache=False)


def _photo_nose() -> np.ndarray:
    """The astronaut's nose tip in her 512 px photo, checked against the independent Haar face box."""
    pose = detect_pose(astronaut())
    nose = pose.face[30, :2]
    x0, y0, x1, y1 = ASTRONAUT_FACE_BOX
    # The nose tip lies in the middle third of the face box horizontally and in its middle band vertically.
    assert x0 + (x1 - x0) / 3 < nose[0] < x1 - (x1 - x0) / 3 and y0 + 0.35 * (y1 - y0) < nose[1] < y1 - 0.2 * (y1 - y0)
    return nose


def test_the_nose_follows_its_known_track(translated):
    _, matrices, clip = translated
    nose = _photo_nose()
    errors = []
    for pose, m in zip(clip.poses, matrices, strict=True):
        assert pose.body[0, 2] > VISIBLE
        errors.append(float(np.linalg.norm(m[:, :2] @ nose + m[:, 2] - pose.body[0, :2])))
    # The target is 6 px median; the face-derived nose does much better (about 1 px at 256 px).
    assert np.median(errors) < 6.0, np.round(errors, 2)
    assert max(errors) < 6.0


def _nose_face_gaps(poses: list[PoseFrame]) -> list[float]:
    return [float(np.linalg.norm(p.body[0, :2] - p.face[30, :2])) for p in poses
            if p.body[0, 2] > VISIBLE and p.face[30, 2] > VISIBLE]


def test_body_nose_is_face_point_30_in_extracted_and_aligned_poses(translated):
    _, _, clip = translated
    gaps = _nose_face_gaps(clip.poses)
    assert len(gaps) == len(clip.poses) and max(gaps) < 2.0
    reference, _ = fit_to_size(astronaut(), 192, 256)
    for mode in ("global", "bones", "none"):
        for face in ("retargeted", "driver"):
            aligned = align_motion(clip.poses, clip.status, (SIZE, SIZE), clip.info.fps, reference,
                                   AlignmentOptions(mode, face=face)).poses
            gaps = _nose_face_gaps(aligned)
            assert len(gaps) == len(aligned) and max(gaps) < 2.0, (mode, face, np.round(gaps, 2))


def test_head_points_come_from_the_face_and_the_body_model_is_the_fallback():
    pose = PoseFrame()
    pose.body[:, :2] = 100.0
    pose.body[:, 2] = 0.9
    pose.body[17, 2] = 0.1  # the left ear is turned away
    rng = np.random.default_rng(0)
    pose.face[:, :2] = 50 + rng.uniform(0, 40, (68, 2))
    pose.face[:, 2] = 1.0
    before = pose.copy()
    head_from_face(pose)
    np.testing.assert_allclose(pose.body[0, :2], pose.face[30, :2])
    np.testing.assert_allclose(pose.body[14, :2], pose.face[36:42, :2].mean(0), rtol=1e-6)
    np.testing.assert_allclose(pose.body[15, :2], pose.face[42:48, :2].mean(0), rtol=1e-6)
    np.testing.assert_allclose(pose.body[[16, 17], :2], pose.face[[1, 15], :2])
    assert pose.body[17, 2] == pytest.approx(0.1)  # the ear keeps the body model's "not visible"
    np.testing.assert_array_equal(pose.body[1:14], before.body[1:14])  # the rest of the body is untouched
    # No face (or a partial one): the body model's head points stay.
    faceless = before.copy()
    faceless.face[10:, 2] = 0.0
    np.testing.assert_array_equal(head_from_face(faceless).body, before.body)
