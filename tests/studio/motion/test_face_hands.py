"""Face and hands for a pose found on the person's own region (issue 19): MediaPipe's face and hand models run on
regions from the find's own landmarks (``face_hands_net``), as the holistic graph runs them on its pose.

Real frames (tests/data/README.md): ``pose2sim_two_cam03_544x960.mp4``, frames 0 and 20: the woman in a grey
T-shirt and jeans faces the camera, the man passes on her right (image right). Read by hand off frame 0: her face
spans x 110-145, y 262-304; her right hand (image left) hangs at her thigh around (125, 405), her left hand at her
hip around (174, 386). In frame 20 her right arm is raised, the hand around (62, 327), her left hand around
(183, 363). ``pose2sim_static_back_cam02_544x960.mp4``: a man in a T-pose seen from behind (no face to see), both
hands held out.

The follower is shown the real frame and a scripted tracker: it returns her pose (the landmark model's, on a
region placed by hand around her) for three frames, then nobody, so the fourth frame's pose is the one the
follower finds on her own region with the real landmark model (``landmark_net``). Before, that pose was the body
alone: no face point and no hand point scored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.motion import face_detection, face_hands_net
from studio.motion.face_hands_net import (
    FaceHandsNet,
    hand_region_from_pose,
    hand_region_from_recrop,
    transformed,
    turn,
)
from studio.motion.follow import PersonFollower
from studio.motion.landmark_net import LandmarkNet
from studio.motion.roi import Roi
from studio.motion.types import VISIBLE, PoseFrame
from tests.studio.motion.test_follow_overlap import Model

DATA = Path(__file__).resolve().parents[2] / "data"
TWO = DATA / "pose2sim_two_cam03_544x960.mp4"
BACK = DATA / "pose2sim_static_back_cam02_544x960.mp4"
#: Her region (centred on her hips, about 2.5 times her hips-to-head distance a side: ``roi``'s rule), by hand.
HER_REGION = Roi(139.0, 392.0, 400.0)
FACE_BOX = (110.0, 262.0, 145.0, 304.0)
#: A hand's points lie within a hand's length of its wrist: her hands are 15-25 px long here.
HAND_REACH = 30.0
#: OpenPose-18 wrists.
R_WRIST, L_WRIST = 4, 7


def _frames(path: Path, count: int) -> list[np.ndarray]:
    import cv2

    capture = cv2.VideoCapture(str(path))
    frames = []
    for _ in range(count):
        ok, frame = capture.read()
        assert ok, path
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


@pytest.fixture(scope="module")
def two() -> list[np.ndarray]:
    return _frames(TWO, 21)


def _found_on_own_region(frame: np.ndarray, region: Roi) -> PoseFrame:
    """The pose the follower finds on the person's own region of ``frame`` once the tracker has lost them."""
    looker = LandmarkNet()
    start = LandmarkNet().detect(frame, region)
    assert start is not None  # (the premise: the landmark model finds her there)
    tracked = Model(lambda k: [start] if k < 3 else [])
    follower = PersonFollower(tracked, tracked, None, fps=60.0, looker=looker)
    follower._poses_in = lambda window, model: [p.copy() for p in model.script(follower.frame)]
    for _ in range(3):
        assert follower.step(frame) is not None
    runs = []
    detect = looker.detect
    looker.detect = lambda *args: runs.append(1) or detect(*args)
    pose = follower.step(frame)
    assert runs and pose is not None  # found by the landmark model on her own region, not by the tracker
    looker.close()
    return pose


def _scored(points: np.ndarray) -> np.ndarray:
    return points[points[:, 2] > VISIBLE, :2]


def _assert_hand_at_wrist(hand: np.ndarray, wrist: np.ndarray, place: tuple[float, float]) -> None:
    points = _scored(hand)
    assert len(points) == 21, len(points)
    assert np.linalg.norm(points - wrist[:2], axis=1).max() < HAND_REACH, (points.round(), wrist)
    assert np.linalg.norm(points.mean(0) - place) < HAND_REACH / 2, (points.mean(0), place)


def test_a_pose_found_on_her_own_region_has_her_face_on_her_head_and_her_hands_at_her_wrists(two):
    pose = _found_on_own_region(two[0], HER_REGION)
    face = _scored(pose.face)
    assert len(face) == 68, len(face)  # before: none (the landmark model's pose is the body alone)
    x0, y0, x1, y1 = FACE_BOX
    assert ((face[:, 0] > x0) & (face[:, 0] < x1) & (face[:, 1] > y0) & (face[:, 1] < y1)).all(), face.round()
    _assert_hand_at_wrist(pose.right_hand, pose.body[R_WRIST], (125.0, 405.0))
    _assert_hand_at_wrist(pose.left_hand, pose.body[L_WRIST], (174.0, 386.0))
    # the head points are the face's, as on the holistic path (``head``): the nose on the face's nose tip
    np.testing.assert_allclose(pose.body[0, :2], pose.face[30, :2])


def test_a_hand_out_of_the_frame_stays_absent(two):
    # frame 20 cut left of x = 80: her raised right hand (around x 62) is out of view. The pose model still guesses
    # a right wrist inside the frame, somewhat visible, so the hand model looks there and finds no hand: it is
    # left out, not guessed. Her left hand, in view, is found.
    cut = 80
    frame = np.ascontiguousarray(two[20][:, cut:])
    pose = _found_on_own_region(frame, Roi(141.0 - cut, 397.0, 400.0))
    assert pose.body[R_WRIST, 2] >= face_hands_net.MIN_WRIST_VISIBILITY  # (the premise: the hand model was asked)
    assert (pose.right_hand[:, 2] == 0).all(), pose.right_hand
    _assert_hand_at_wrist(pose.left_hand, pose.body[L_WRIST], (183.0 - cut, 363.0))  # before: absent too
    assert len(_scored(pose.face)) == 68


def test_no_face_is_found_on_the_back_of_a_head_and_his_hands_are():
    # the pose model places a face on the back of a head, visible; the face detector finds none there (as in the
    # holistic graph), so no face is made up
    frame = _frames(BACK, 1)[0]
    pose = _found_on_own_region(frame, Roi(272.0, 411.0, 547.0))
    assert (pose.face[:, 2] == 0).all()
    assert len(_scored(pose.left_hand)) == len(_scored(pose.right_hand)) == 21  # before: none
    for hand, wrist in ((pose.left_hand, L_WRIST), (pose.right_hand, R_WRIST)):
        # (he is larger in the frame than she is)
        assert np.linalg.norm(_scored(hand) - pose.body[wrist, :2], axis=1).max() < 2 * HAND_REACH


def test_on_holistic_own_pose_the_face_and_hands_are_holistic_own(two):
    # the regions built as the graph builds them: given MediaPipe holistic's own pose landmarks, the models find
    # the face and hands holistic finds. Measured 0.02 px (face) and 0.2-0.3 px (hands) median apart (the crops
    # are resampled by OpenCV, not by MediaPipe); regions moved a tenth of their side or scaled by 1.2 put them
    # 0.7-2.4 px apart, a hand region turned the other way found no hand
    from mediapipe.python.solutions import holistic

    x0, y0 = 0, 150  # her part of the frame (holistic follows one person: her, not the man beside her)
    part = np.ascontiguousarray(two[0][y0:600, x0:300])
    with holistic.Holistic(static_image_mode=True, model_complexity=1) as graph:
        result = graph.process(part)
    height, width = part.shape[:2]

    def pixels(landmarks) -> np.ndarray:
        return np.array([(p.x * width + x0, p.y * height + y0) for p in landmarks.landmark])

    points = pixels(result.pose_landmarks)
    net = FaceHandsNet()
    mesh = net.face(two[0], points)
    assert mesh is not None and result.face_landmarks is not None
    assert np.median(np.linalg.norm(mesh - pixels(result.face_landmarks), axis=1)) < 0.5
    for ours, theirs in (((15, 17, 19), result.left_hand_landmarks), ((16, 18, 20), result.right_hand_landmarks)):
        hand = net.hand(two[0], *points[list(ours)])
        assert hand is not None and theirs is not None
        assert np.median(np.linalg.norm(hand - pixels(theirs), axis=1)) < 0.5


# ------------------------------------------------------------------------------------------- the region rules


def test_a_turn_stands_the_line_at_its_target_angle():
    centre = np.array([100.0, 100.0])
    assert turn(centre, centre + [0.0, -10.0], np.pi / 2) == pytest.approx(0.0)  # already pointing up
    assert turn(centre, centre + [10.0, 0.0], np.pi / 2) == pytest.approx(np.pi / 2)  # up points to +x: a quarter
    assert turn(centre, centre + [10.0, 0.0], 0.0) == pytest.approx(0.0)  # level eyes
    assert turn(centre, centre + [0.0, 10.0], -np.pi / 2) == pytest.approx(0.0)  # the re-crop's point below


def test_a_transform_moves_along_the_regions_own_up_then_squares_and_scales():
    upright = transformed(50.0, 60.0, 20.0, 10.0, 0.0, 2.0, -0.1)
    assert (upright.cx, upright.cy, upright.side, upright.angle) == pytest.approx((50.0, 59.0, 40.0, 0.0))
    turned = transformed(50.0, 60.0, 20.0, 10.0, np.pi / 2, 2.0, -0.1)  # its up points to +x
    assert (turned.cx, turned.cy) == pytest.approx((51.0, 60.0))


def test_the_hand_region_from_the_pose_centres_on_the_middle_finger():
    wrist, index, pinky = np.array([100.0, 200.0]), np.array([110.0, 140.0]), np.array([80.0, 140.0])
    region = hand_region_from_pose(wrist, pinky, index)
    middle = (2 * index + pinky) / 3  # (100, 140): straight above the wrist, 60 px
    assert region.angle == pytest.approx(0.0)
    assert (region.cx, region.cy) == pytest.approx((middle[0], middle[1] - 0.1 * 120.0))
    assert region.side == pytest.approx(2.7 * 120.0)
    # the re-crop's scale point lies straight below the hand's centre in the region it gives: at +x of the centre,
    # the region's down points to +x, its up to -x
    again = hand_region_from_recrop(np.array([100.0, 150.0]), np.array([130.0, 150.0]))
    assert again.angle == pytest.approx(-np.pi / 2) and again.side == pytest.approx(60.0)


def test_the_face_detector_output_is_read_at_its_anchor():
    anchors = face_detection.ANCHORS
    assert len(anchors) == 896
    np.testing.assert_allclose(anchors[[0, 1, 2]], [[1 / 32, 1 / 32]] * 2 + [[3 / 32, 1 / 32]])
    np.testing.assert_allclose(anchors[512], [1 / 16, 1 / 16])  # the 8×8 grid's first cell, six anchors
    regressors = np.zeros((896, 16))
    logits = np.full(896, -10.0)
    assert face_detection.best_face(regressors, logits) is None
    k = 512 + 6 * 9 + 2  # the anchor of cell (1, 1) of the 8×8 grid: centre (24, 24) input pixels
    regressors[k, :4] = (1.0, 2.0, 40.0, 40.0)
    regressors[k, 4:] = np.arange(12)
    logits[k] = 3.0
    score, keypoints = face_detection.best_face(regressors, logits)
    assert score == pytest.approx(1 / (1 + np.exp(-3.0)))
    np.testing.assert_allclose(keypoints, 24.0 + np.arange(12).reshape(6, 2))
    # a weaker find overlapping it is merged in, weighted by score; one far off is not
    regressors[k + 1] = regressors[k] + np.r_[np.zeros(4), np.full(12, 6.0)]
    logits[k + 1] = 0.0
    regressors[0, :4], logits[0] = (0.0, 0.0, 4.0, 4.0), 2.0
    _, merged = face_detection.best_face(regressors, logits)
    weight = (1 / (1 + np.exp(-0.0))) / (1 / (1 + np.exp(-3.0)) + 1 / (1 + np.exp(-0.0)))
    np.testing.assert_allclose(merged, 24.0 + np.arange(12).reshape(6, 2) + 6.0 * weight)
