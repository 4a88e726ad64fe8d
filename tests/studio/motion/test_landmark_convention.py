"""MediaPipe's hips and shoulders are written in COCO's convention, where DWPose and StableAnimator's PoseNet
put them.

BlazePose's hip landmarks sit lower on the body and closer together than COCO's hip keypoints, its shoulders a
little lower. The mapping moves them in the body's own frame (along the torso and the hip line), so the
correction follows the body whichever way it lies in the image; the scores stay MediaPipe's.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from studio.motion.extract import _handed_on
from studio.motion.landmark_convention import (
    HIP_ALONG_HIP_LINE,
    HIP_ALONG_TORSO,
    SHOULDER_ALONG_TORSO,
    in_coco_convention,
)
from studio.motion.mediapipe_pose import MediapipeBackend, map_holistic

WIDTH, HEIGHT = 640, 480
#: mediapipe pose landmark indices: left/right shoulder, left/right hip.
MP_L_SHOULDER, MP_R_SHOULDER, MP_L_HIP, MP_R_HIP = 11, 12, 23, 24


def _result(points: dict[int, tuple[float, float]], visibility: float = 0.9):
    """A holistic result with body landmarks only, at ``points`` (pixels; others at the first point)."""
    anchor = points[MP_L_SHOULDER]
    marks = [SimpleNamespace(x=x / WIDTH, y=y / HEIGHT, visibility=visibility)
             for x, y in (points.get(i, anchor) for i in range(33))]
    return SimpleNamespace(pose_landmarks=SimpleNamespace(landmark=marks), face_landmarks=None,
                           left_hand_landmarks=None, right_hand_landmarks=None)


def _body(mid_hips, up, right, torso=120.0, half_hips=20.0, half_shoulders=30.0):
    """BlazePose landmarks of a body: mid-hips at ``mid_hips``, its torso along unit ``up``, right side along
    unit ``right`` (image directions)."""
    mid_hips, up, right = (np.asarray(v, float) for v in (mid_hips, up, right))
    shoulders = mid_hips + torso * up
    return {MP_R_HIP: tuple(mid_hips + half_hips * right), MP_L_HIP: tuple(mid_hips - half_hips * right),
            MP_R_SHOULDER: tuple(shoulders + half_shoulders * right),
            MP_L_SHOULDER: tuple(shoulders - half_shoulders * right)}


@pytest.mark.parametrize(("name", "up", "right"), [
    ("upright, facing the camera", (0.0, -1.0), (-1.0, 0.0)),
    ("lying, head to the right, seen from behind", (1.0, 0.0), (0.0, 1.0)),
    ("leaning 30 degrees", (np.sin(np.pi / 6), -np.cos(np.pi / 6)), (-np.cos(np.pi / 6), -np.sin(np.pi / 6))),
])
def test_hips_and_shoulders_move_in_the_body_frame(name, up, right):
    torso, half_hips = 120.0, 20.0
    marks = _body((320.0, 300.0), up, right, torso, half_hips)
    pose = in_coco_convention(map_holistic(_result(marks, visibility=0.8), WIDTH, HEIGHT))

    up, right = np.asarray(up), np.asarray(right)
    for joint, mp_index, outward in ((8, MP_R_HIP, right), (11, MP_L_HIP, -right)):
        moved = pose.body[joint, :2] - np.asarray(marks[mp_index])
        # toward the shoulders by HIP_ALONG_TORSO of the torso, out from the middle by HIP_ALONG_HIP_LINE of
        # the hip width (own hip - other hip = 2 * half_hips outward); float32 pixels: well under 0.01 px
        assert moved @ up == pytest.approx(HIP_ALONG_TORSO * torso, abs=0.01), name
        assert moved @ outward == pytest.approx(HIP_ALONG_HIP_LINE * 2 * half_hips, abs=0.01), name
        assert pose.body[joint, 2] == pytest.approx(0.8)  # the score stays MediaPipe's
    for joint, mp_index in ((2, MP_R_SHOULDER), (5, MP_L_SHOULDER)):
        np.testing.assert_allclose(pose.body[joint, :2] - marks[mp_index], SHOULDER_ALONG_TORSO * torso * up, atol=0.01)
    # the neck is the middle of the moved shoulders
    np.testing.assert_allclose(pose.body[1, :2], pose.body[[2, 5], :2].mean(0), atol=0.01)
    # COCO's hips and shoulders are higher than BlazePose's by several % of the torso: no zero correction
    assert 0.03 <= SHOULDER_ALONG_TORSO < HIP_ALONG_TORSO <= 0.2


def test_the_correction_scales_with_the_body():
    """Twice the body, twice the shift: the correction is a share of the body, not a number of pixels."""
    shifts = []
    for scale in (1.0, 2.0):
        marks = _body((320.0, 400.0), (0.0, -1.0), (-1.0, 0.0), torso=80.0 * scale, half_hips=15.0 * scale)
        pose = in_coco_convention(map_holistic(_result(marks), WIDTH, HEIGHT))
        shifts.append(pose.body[[8, 11, 2, 5], :2]
                      - np.array([marks[MP_R_HIP], marks[MP_L_HIP], marks[MP_R_SHOULDER], marks[MP_L_SHOULDER]]))
    np.testing.assert_allclose(shifts[1], 2 * shifts[0], atol=0.02)
    assert np.abs(shifts[0]).max() > 1.0  # a shift of several pixels at least (80 px torso)


def test_shoulders_stay_where_the_hips_are_only_guessed():
    """A close-up: mediapipe guesses the hips far below the frame (score 0). Its torso is a guess then, so the
    shoulders are not moved by a share of it; the unseen hips may move (they are not drawn)."""
    marks = _body((320.0, 900.0), (0.0, -1.0), (-1.0, 0.0), torso=700.0, half_hips=60.0)
    pose = in_coco_convention(map_holistic(_result(marks), WIDTH, HEIGHT))
    assert (pose.body[[8, 11], 2] == 0).all()  # outside the frame: not seen
    np.testing.assert_allclose(pose.body[2, :2], marks[MP_R_SHOULDER], atol=0.01)
    np.testing.assert_allclose(pose.body[5, :2], marks[MP_L_SHOULDER], atol=0.01)


def test_mediapipe_points_are_followed_as_they_are_and_handed_on_in_cocos_convention():
    # The follower's rules (looks by body part, drift, who is nearer) were measured on MediaPipe's own points, so
    # the backend's poses keep them; what the extractor hands on (each frame and the photo) is COCO's.
    marks = _body((320.0, 300.0), (0.0, -1.0), (-1.0, 0.0), 120.0, 20.0)
    native = map_holistic(_result(marks), WIDTH, HEIGHT)
    np.testing.assert_allclose(native.body[8, :2], marks[MP_R_HIP], atol=0.01)
    handed = _handed_on(native, MediapipeBackend)
    np.testing.assert_allclose(handed.body, in_coco_convention(native).body)
    assert handed.body[8, 1] < native.body[8, 1] - 0.03 * 120.0  # higher up the torso
    np.testing.assert_allclose(native.body[8, :2], marks[MP_R_HIP], atol=0.01)  # (a copy: the follower's is kept)
    other = SimpleNamespace(name="dwpose")  # a backend whose points are COCO's already
    assert _handed_on(native, other) is native and _handed_on(None, MediapipeBackend) is None
