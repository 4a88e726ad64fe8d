"""Someone else's face or hand, found for the followed person on their own region, is refused (``foreign_parts``).

The rule on made-up points: a face holding the other person's nose and eyes is theirs; a hand whose wrist lies
within the hand's length of one of the other's wrists is theirs, unless the followed person's own hand of that
side lay there a moment ago (a pose spread over both people carries the person's own arm). And the net that adds
the parts (``face_hands_net``), with its models replaced by fixed finds: a refused part stays absent and a refused
face moves no head point.
"""

from __future__ import annotations

import numpy as np

from studio.motion.face_hands_net import FaceHandsNet
from studio.motion.foreign_parts import ForeignParts, face_is_others, hand_is_others
from studio.motion.mediapipe_pose import IBUG68_FROM_MESH468
from studio.motion.types import PoseFrame

#: A face found at x 100-140, y 200-250 (its 68 points spread over that box).
FACE = np.stack(np.meshgrid(np.linspace(100, 140, 17), np.linspace(200, 250, 4)), -1).reshape(-1, 2)[:68]
#: A hand found with its wrist at (300, 400), its fingers reaching 20 px up.
HAND = np.array([[300.0, 400.0]] + [[300.0 + dx, 400.0 - dy] for dy in (5, 10, 15, 20) for dx in (-6, -2, 2, 6, 0)])


def _person(nose=(120.0, 225.0), wrists=((300.0, 400.0), (500.0, 400.0)), score=1.0) -> PoseFrame:
    """A pose with its nose and eyes around ``nose`` and its right, left wrists at ``wrists``."""
    pose = PoseFrame()
    x, y = nose
    pose.body[[0, 14, 15]] = [(x, y, score), (x - 8, y - 8, score), (x + 8, y - 8, score)]
    pose.body[4] = (*wrists[0], 0.4)  # (wrists the model saw poorly: still where it guessed the arm ends)
    pose.body[7] = (*wrists[1], 0.4)
    return pose


def test_a_face_holding_the_others_nose_and_eyes_is_theirs():
    assert face_is_others(FACE, _person())
    assert not face_is_others(FACE, _person(nose=(190.0, 225.0)))  # the other's face beside it
    assert not face_is_others(FACE, _person(score=0.1))  # the other's face points unseen: nothing says whose
    assert not face_is_others(FACE, None)  # nobody else known there


def test_a_hand_at_the_others_wrist_is_theirs_unless_the_persons_own_hand_was_just_there():
    at_wrist = _person(wrists=((309.0, 412.0), (500.0, 400.0)))  # 15 px from the found wrist: within the hand's 20
    assert hand_is_others("right_hand", HAND, at_wrist, [])
    assert hand_is_others("left_hand", HAND, at_wrist, [])  # either of the other's wrists
    assert not hand_is_others("right_hand", HAND, _person(wrists=((330.0, 400.0), (500.0, 400.0))), [])  # 30 px
    assert not hand_is_others("right_hand", HAND, None, [])
    own = PoseFrame()
    own.right_hand[0] = (295.0, 405.0, 1.0)  # the person's own right hand was here a frame ago
    assert not hand_is_others("right_hand", HAND, at_wrist, [own])
    assert hand_is_others("left_hand", HAND, at_wrist, [own])  # (their right hand says nothing of their left)


def test_a_refused_part_stays_absent_and_a_refused_face_moves_no_head_point():
    net = FaceHandsNet()
    mesh = np.tile(FACE.mean(0), (468, 1))
    mesh[list(IBUG68_FROM_MESH468)] = FACE
    net.face = lambda frame, points: mesh
    net.hand = lambda frame, wrist, pinky, index: HAND + (wrist - HAND[0])
    landmarks = np.zeros((33, 3))
    landmarks[:, :2] = (120.0, 300.0)
    landmarks[[15, 17, 19], :2] = (300.0, 400.0)  # the left wrist: at the other's right wrist
    landmarks[[16, 18, 20], :2] = (500.0, 420.0)  # the right wrist: away from the other's
    landmarks[:, 2] = 1.0
    frame = np.zeros((600, 600, 3), np.uint8)
    other = _person(wrists=((300.0, 400.0), (600.0, 100.0)))

    judge = ForeignParts(other, [])
    pose = PoseFrame()
    pose.body[0] = (123.0, 290.0, 0.9)
    net.add_to(pose, frame, landmarks, judge)
    assert judge.refused == ["face", "left_hand"]
    assert (pose.face[:, 2] == 0).all() and (pose.left_hand[:, 2] == 0).all()
    assert tuple(pose.body[0]) == (123.0, 290.0, np.float32(0.9))  # the body's own nose, not the face's
    assert (pose.right_hand[:, 2] == 1).all()  # (the hand away from the other's is kept)

    kept = PoseFrame()
    net.add_to(kept, frame, landmarks)  # nobody judging: all found parts are taken, the head moved onto the face
    assert (kept.face[:, 2] == 1).all() and (kept.left_hand[:, 2] == 1).all()
    np.testing.assert_allclose(kept.body[0, :2], kept.face[30, :2])
