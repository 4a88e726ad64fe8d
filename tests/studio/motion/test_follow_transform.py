"""Extracted keypoints follow a known similarity transform of the astronaut photo (mediapipe backend)."""

from __future__ import annotations

import numpy as np
import pytest

from studio.motion import AlignmentOptions, PoseFrame, extract_poses, prepare_motion
from studio.motion.types import VISIBLE
from tests.generated_media import ASTRONAUT_FACE_BOX, astronaut, write_transform_video

SIZE = 256
HEAD_AND_SHOULDERS = [0, 1, 2, 5, 14, 15, 16, 17]


@pytest.fixture(scope="module")
def moving_clip(tmp_path_factory):
    path, matrices = write_transform_video(tmp_path_factory.mktemp("video") / "moving.mp4", num_frames=6, size=SIZE)
    clip = extract_poses(path, use_cache=False)
    return path, matrices, clip


def _frame0_to_frame(matrices: list[np.ndarray], i: int) -> np.ndarray:
    """3×3 matrix from frame-0 pixels to frame-i pixels (both are similarity images of the same photo)."""
    full = [np.vstack([m, [0.0, 0.0, 1.0]]) for m in matrices]
    return full[i] @ np.linalg.inv(full[0])


def _errors(reference: np.ndarray, moved: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Distances between ``moved`` and ``reference`` mapped through ``matrix``, over points visible in both."""
    visible = (reference[:, 2] > VISIBLE) & (moved[:, 2] > VISIBLE)
    predicted = reference[:, :2] @ matrix[:2, :2].T + matrix[:2, 2]
    return np.linalg.norm(predicted - moved[:, :2], axis=1)[visible]


def test_the_transform_really_moves_the_person(moving_clip):
    # Guard against a test that passes because nothing moves: the last frame is far from the first.
    _, matrices, clip = moving_clip
    m = _frame0_to_frame(matrices, len(matrices) - 1)
    assert abs(np.linalg.det(m[:2, :2]) - 1.0) > 0.2  # scaled
    shift = np.linalg.norm(clip.poses[-1].body[1, :2] - clip.poses[0].body[1, :2])
    assert shift > 15


def test_every_frame_has_the_person_with_head_and_shoulders(moving_clip):
    _, matrices, clip = moving_clip
    assert clip.backend == "mediapipe"
    assert clip.indices == list(range(len(matrices)))
    assert not any(clip.held)
    for pose in clip.poses:
        assert isinstance(pose, PoseFrame)
        assert pose.body.shape == (18, 3) and pose.face.shape == (68, 3)
        assert (pose.body[HEAD_AND_SHOULDERS, 2] > VISIBLE).sum() >= 6
        assert (pose.face[:, 2] > VISIBLE).sum() >= 60


def test_head_and_shoulder_points_follow_the_transform(moving_clip):
    _, matrices, clip = moving_clip
    first = clip.poses[0]
    for i, pose in enumerate(clip.poses):
        matrix = _frame0_to_frame(matrices, i)
        body = _errors(first.body[HEAD_AND_SHOULDERS], pose.body[HEAD_AND_SHOULDERS], matrix)
        assert len(body) >= 6
        assert np.median(body) < 6.0, f"frame {i}: body points off by {np.round(body, 1)} px"
        face = _errors(first.face, pose.face, matrix)
        assert len(face) >= 60
        assert np.median(face) < 2.5, f"frame {i}: face points off by median {np.median(face):.2f} px"
        assert np.percentile(face, 90) < 5.0


def test_points_agree_with_the_photo_itself(moving_clip):
    # Frame 0 is the photo resized to SIZE: its face points lie inside the photo's measured face box, scaled.
    _, matrices, clip = moving_clip
    m = matrices[0]
    x0, y0 = m[:, :2] @ ASTRONAUT_FACE_BOX[:2] + m[:, 2]
    x1, y1 = m[:, :2] @ ASTRONAUT_FACE_BOX[2:] + m[:, 2]
    face = clip.poses[0].face
    face = face[face[:, 2] > VISIBLE, :2]
    centre = face.mean(0)
    assert x0 < centre[0] < x1 and y0 < centre[1] < y1
    nose = clip.poses[0].body[0, :2]
    assert x0 < nose[0] < x1 and y0 < nose[1] < y1


def test_face_boxes_contain_the_moved_face(moving_clip):
    path, matrices, _ = moving_clip
    # Output size = source size and alignment "none" without smoothing: output pixels are frame pixels.
    prepared = prepare_motion(
        path, np.zeros((SIZE, SIZE, 3), np.uint8), AlignmentOptions(mode="none", smoothing=False),
        reference_pose=PoseFrame(),
    )
    assert (prepared.width, prepared.height) == (SIZE, SIZE)
    assert len(prepared.face_boxes) == len(matrices)
    fx0, fy0, fx1, fy1 = ASTRONAUT_FACE_BOX
    # The middle of the face (eyes to mouth) in photo pixels; the Haar box is generous at its edges.
    inner = np.array([[fx0 + 0.2 * (fx1 - fx0), fy0 + 0.25 * (fy1 - fy0)], [fx1 - 0.2 * (fx1 - fx0), fy0 + 0.25 * (fy1 - fy0)],
                      [fx0 + 0.2 * (fx1 - fx0), fy1 - 0.15 * (fy1 - fy0)], [fx1 - 0.2 * (fx1 - fx0), fy1 - 0.15 * (fy1 - fy0)]])
    for i, (box, m) in enumerate(zip(prepared.face_boxes, matrices, strict=True)):
        assert box is not None, f"frame {i}: no face box"
        x0, y0, x1, y1 = box
        corners = inner @ m[:, :2].T + m[:, 2]
        assert (corners[:, 0] >= x0).all() and (corners[:, 0] <= x1).all(), f"frame {i}: {box} vs {corners}"
        assert (corners[:, 1] >= y0).all() and (corners[:, 1] <= y1).all(), f"frame {i}: {box} vs {corners}"
        # ...and the box is a face box, not the whole frame.
        face_side = (fx1 - fx0) * np.sqrt(abs(np.linalg.det(m[:, :2])))
        assert (x1 - x0) < 2.0 * face_side and (y1 - y0) < 2.0 * face_side


def test_the_photo_pose_matches_frame_zero():
    # detect_pose on the full-size photo, scaled to the video, lands on frame 0's points.
    from studio.motion import detect_pose

    pose = detect_pose(astronaut())
    assert pose is not None and pose.has_person
    face = pose.face[pose.face[:, 2] > VISIBLE, :2]
    x0, y0, x1, y1 = ASTRONAUT_FACE_BOX
    centre = face.mean(0)
    assert x0 < centre[0] < x1 and y0 < centre[1] < y1
