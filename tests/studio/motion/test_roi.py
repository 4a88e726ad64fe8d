"""The followed person's own region (``roi``) and the landmark model run on it (``landmark_net``), issue 19.

Geometry first (known transforms, exact), then the bundled model itself on a real frame: run through OpenCV on
the region built from MediaPipe's own pose of the man, it must find the same body MediaPipe found (the output
names and the mapping back to the frame are right), also when the frame is turned a quarter and the region with
it (the turn's sign is right). The input range is not what this tells apart: the model is robust to it (RGB in
[0, 1], MediaPipe's, put the joints 0.03 torso lengths from MediaPipe's on four frames of this clip; [-1, 1] or
BGR 0.04-0.05).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.motion.landmark_net import SIZE, LandmarkNet, body_from_landmarks, model_file
from studio.motion.roi import REACH, SCALE, Roi, hip_centre, roi_from_poses, shifted_away
from studio.motion.types import PoseFrame

BALANCE = Path(__file__).resolve().parents[2] / "data" / "pose2sim_balance_cam01_270x480.mp4"


def _standing(cx: float = 300.0, hip_y: float = 400.0) -> PoseFrame:
    """Upright, hips at (cx, hip_y); the nose is the farthest joint from the hips (200 px), the ankles 180 px."""
    pose = PoseFrame()
    points = {0: (0, -200), 1: (0, -150), 2: (-40, -150), 5: (40, -150), 3: (-50, -80), 6: (50, -80),
              8: (-25, 0), 11: (25, 0), 9: (-25, 90), 12: (25, 90), 10: (-25, 180), 13: (25, 180)}
    for joint, (x, y) in points.items():
        pose.body[joint] = (cx + x, hip_y + y, 0.9)
    return pose


def _turned(pose: PoseFrame, degrees: float, about: np.ndarray) -> PoseFrame:
    """``pose`` turned ``degrees`` clockwise on screen (y down) about the point ``about``."""
    t = np.radians(degrees)
    rotation = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    out = pose.copy()
    out.body[:, :2] = (pose.body[:, :2] - about) @ rotation.T + about
    return out


def test_a_region_maps_its_middle_and_its_top_onto_the_frame():
    roi = Roi(100.0, 200.0, 80.0, np.radians(90))  # turned a quarter clockwise: its "up" points to +x
    matrix = roi.to_frame(SIZE)
    middle = matrix @ [SIZE / 2, SIZE / 2, 1]
    top = matrix @ [SIZE / 2, 0, 1]
    np.testing.assert_allclose(middle, [100, 200], atol=1e-9)
    np.testing.assert_allclose(top, [140, 200], atol=1e-9)  # half the side (40 px) towards +x


def test_cutting_a_region_puts_a_frame_pixel_where_the_map_says():
    frame = np.zeros((300, 400, 3), np.uint8)
    frame[118:123, 248:253] = 255  # a white dot around (250, 120)
    roi = Roi(220.0, 150.0, 128.0, np.radians(30))
    image = roi.cut(frame, SIZE)
    ys, xs = np.nonzero(image[..., 0] > 128)
    centre = roi.to_frame(SIZE) @ [xs.mean(), ys.mean(), 1]
    np.testing.assert_allclose(centre, [250, 120], atol=1.0)  # a region pixel is half a frame pixel here


def test_the_region_of_an_upright_person_is_mediapipes_rule_on_their_joints():
    roi = roi_from_poses([_standing()])
    assert (roi.cx, roi.cy) == (300.0, 400.0)
    assert roi.angle == pytest.approx(0.0)
    assert roi.side == pytest.approx(2 * SCALE * REACH * 200.0)  # the nose is 200 px from the hips


def test_the_region_turns_with_a_leaning_person_and_keeps_its_size():
    upright = roi_from_poses([_standing()])
    leaning = roi_from_poses([_turned(_standing(), 35.0, np.array([300.0, 400.0]))])
    assert np.degrees(leaning.angle) == pytest.approx(35.0)
    assert leaning.side == pytest.approx(upright.side)


def test_one_pose_spread_over_two_people_does_not_blow_the_region_up():
    spread = _standing()
    spread.body[4] = (-400.0, 250.0, 0.9)  # a wrist on someone else, far off
    roi = roi_from_poses([_standing(), _standing(), spread])
    assert roi.side == pytest.approx(roi_from_poses([_standing()]).side)


def test_a_region_without_a_sure_hip_is_none():
    pose = _standing()
    pose.body[[8, 11], 2] = 0.1
    assert hip_centre(pose) is None and roi_from_poses([pose]) is None


def test_shifted_away_moves_straight_away_from_the_other_person():
    roi = Roi(300.0, 400.0, 500.0)
    moved = shifted_away(roi, np.array([200.0, 400.0]), 0.1)
    assert (moved.cx, moved.cy, moved.side) == (350.0, 400.0, 500.0)
    assert shifted_away(roi, np.array([300.0, 400.0]), 0.1) is None


def test_model_output_maps_to_openpose_order_with_visibility_and_no_points_off_the_frame():
    landmarks = np.zeros((39, 5), np.float32)
    landmarks[:, :2] = 128.0
    landmarks[:, 3] = 4.0  # a visibility logit: sigmoid(4) = 0.982
    landmarks[12] = (60.0, 90.0, 0.0, 0.0, 0.0)  # mediapipe's right shoulder = OpenPose 2, visibility 0.5
    landmarks[28] = (128.0, 256.0 * 40, 0.0, 4.0, 0.0)  # the right ankle, mapped far below the frame
    pose = body_from_landmarks(landmarks, Roi(100.0, 100.0, 256.0).to_frame(SIZE), 200, 200)
    np.testing.assert_allclose(pose.body[2], [32.0, 62.0, 0.5], atol=1e-6)  # crop (60, 90) -> frame (32, 62)
    assert pose.body[10, 2] == 0.0  # OpenPose 10, the right ankle, lies off the frame
    assert pose.body[5, 2] == pytest.approx(1 / (1 + np.exp(-4.0)), abs=1e-6)
    np.testing.assert_allclose(pose.body[1, :2], pose.body[[2, 5], :2].mean(0))  # the neck: mid-shoulders


@pytest.fixture(scope="module")
def balance_frame_and_pose():
    if model_file() is None:
        pytest.skip("mediapipe's bundled pose landmark model is not installed")
    from studio.media.video_io import iter_frames, probe_video
    from studio.motion.mediapipe_pose import MediapipeBackend
    from studio.request.render_request import FrameSelection

    frame = next(iter(iter_frames(BALANCE, FrameSelection(max_frames=1), probe_video(BALANCE))))[1]
    backend = MediapipeBackend(video=False)
    try:
        (pose,) = backend.detect(frame)
    finally:
        backend.close()
    return frame, pose


def _median_gap(a: PoseFrame, b: PoseFrame) -> float:
    sure = (a.body[:, 2] > 0.5) & (b.body[:, 2] > 0.5)
    assert sure.sum() >= 10
    return float(np.median(np.linalg.norm(a.body[sure, :2] - b.body[sure, :2], axis=1)))


def _torso(pose: PoseFrame) -> float:
    return float(np.linalg.norm(pose.body[1, :2] - pose.body[[8, 11], :2].mean(0)))


def test_the_landmark_model_on_the_persons_region_finds_the_body_mediapipe_found(balance_frame_and_pose):
    frame, holistic = balance_frame_and_pose
    net = LandmarkNet()
    found = net.detect(frame, roi_from_poses([holistic]))
    assert found is not None
    # the same model on nearly the same region: within a tenth of the torso (a wrong output or mapping puts the
    # joints a torso or more off, or finds nobody)
    assert _median_gap(found, holistic) < 0.1 * _torso(holistic)


def test_the_landmark_model_on_a_turned_frame_finds_the_body_turned(balance_frame_and_pose):
    frame, holistic = balance_frame_and_pose
    height = frame.shape[0]
    turned = np.ascontiguousarray(np.rot90(frame, k=-1))  # a quarter clockwise: (x, y) -> (height - 1 - y, x)
    expected = holistic.copy()
    expected.body[:, 0], expected.body[:, 1] = height - 1 - holistic.body[:, 1], holistic.body[:, 0]
    region = roi_from_poses([expected])
    assert np.degrees(region.angle) == pytest.approx(90.0, abs=25.0)  # he stands sideways in the turned frame
    found = LandmarkNet().detect(turned, region)
    assert found is not None
    assert _median_gap(found, expected) < 0.1 * _torso(holistic)
