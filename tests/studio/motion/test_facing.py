"""A face toward the camera on a body turned away is someone else's face, refused (issue 19, ``facing``).

The measures are arithmetic on a drawn pose: the body's is its signed shoulder span over its torso length, the
face's its eyes' distance over their height above the chin, so poses are built with chosen values a margin either
side of the thresholds, upright and turned (a lying person measures as a standing one).
"""

from __future__ import annotations

import numpy as np
import pytest

from studio.motion.crops import Window, to_frame
from studio.motion.facing import BACK_TURNED, FRONTAL_FACE, body_facing, face_facing, face_turned_from_body
from studio.motion.follow import PersonFollower
from studio.motion.head import head_from_face, without_face
from studio.motion.types import PoseFrame
from tests.studio.motion.test_follow_cost import HEIGHT, WIDTH, CountingSegmenter, _standing_person

MARGIN = 0.05
TORSO = 150.0  # ``_standing_person``: shoulders at y 200, hips at y 350
CENTRE_X, EYES_Y, EYES_ABOVE_CHIN = 240.0, 132.0, 40.0


def _face(facing: float) -> np.ndarray:
    """68 face points (score 1) whose eyes lie ``facing`` × their height above the chin apart (negative: the
    person's right eye on the image's right), eye rings of 6 points each, the rest spread over the face."""
    face = np.zeros((68, 3), np.float32)
    half = facing * EYES_ABOVE_CHIN / 2
    angles = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    ring = np.stack([3 * np.cos(angles), 2 * np.sin(angles)], 1)
    face[:, :2] = np.stack([np.linspace(CENTRE_X - 25, CENTRE_X + 25, 68), np.full(68, EYES_Y + 20)], 1)
    face[36:42, :2] = ring + (CENTRE_X - half, EYES_Y)
    face[42:48, :2] = ring + (CENTRE_X + half, EYES_Y)
    face[8, :2] = (CENTRE_X, EYES_Y + EYES_ABOVE_CHIN)
    face[:, 2] = 1.0
    return face


def _person(body: float, face: float | None) -> PoseFrame:
    """The standing person with shoulders (and hips) ``body`` torso lengths apart, signed (negative: the back),
    and a face of ``face`` (None: none)."""
    pose = _standing_person(0)
    for right, left in ((2, 5), (8, 11)):
        pose.body[right, 0] = CENTRE_X - body * TORSO / 2
        pose.body[left, 0] = CENTRE_X + body * TORSO / 2
    if face is not None:
        pose.face = _face(face)
    return pose


def _turned(pose: PoseFrame, degrees: float) -> PoseFrame:
    """``pose`` rotated about the image point (240, 300) (a person lying, or upside down)."""
    out = pose.copy()
    angle = np.radians(degrees)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    for points in (out.body, out.face):
        points[:, :2] = (points[:, :2] - (240, 300)) @ rotation.T + (240, 300)
    return out


def test_the_measures_are_the_shoulder_span_over_the_torso_and_the_eyes_over_their_height():
    assert body_facing(_person(0.6, None)) == pytest.approx(0.6, abs=1e-4)
    assert body_facing(_person(-0.4, None)) == pytest.approx(-0.4, abs=1e-4)
    assert face_facing(_person(0.6, 0.5)) == pytest.approx(0.5, abs=1e-4)
    assert face_facing(_person(0.6, None)) is None


@pytest.mark.parametrize("degrees", [0, 90, 180, -135])
def test_a_frontal_face_on_a_back_is_refused_with_margins_on_both_sides(degrees):
    def turned_away(body, face):
        return face_turned_from_body(_turned(_person(body, face), degrees))

    back, side = -(BACK_TURNED + MARGIN), -(BACK_TURNED - MARGIN)
    frontal, profile = FRONTAL_FACE + MARGIN, FRONTAL_FACE - MARGIN
    assert turned_away(back, frontal)  # her face on his back
    assert not turned_away(side, frontal)  # a side view keeps its face (a sprinter's profile, face mesh frontal)
    assert not turned_away(back, profile)  # a head turned over the shoulder, in profile
    assert not turned_away(0.6, frontal)  # a dancer facing the camera
    assert not turned_away(back, None)  # nothing to judge
    # the reverse: a face seen mirrored (its right eye on the image's right) on a body facing the camera
    assert turned_away(BACK_TURNED + MARGIN, -frontal) and not turned_away(BACK_TURNED - MARGIN, -frontal)


def test_a_face_taken_off_leaves_the_body_models_own_head_points_and_no_face():
    pose = _person(-0.6, 0.6)
    window = Window(10.0, 20.0, 200.0)
    own = pose.body[[0, 14, 15, 16, 17]].copy()
    own_in_frame = to_frame(pose, window, 2.0, WIDTH, HEIGHT).body[[0, 14, 15, 16, 17]]
    head_from_face(pose)
    assert not np.allclose(pose.body[[0, 14, 15, 16, 17], :2], own[:, :2])  # moved onto the face
    # the crop windows' mapping to frame pixels moves the kept head points with the rest
    window_pose = to_frame(pose, window, 2.0, WIDTH, HEIGHT)
    bare = without_face(window_pose)
    assert (bare.face[:, 2] == 0).all() and bare.own_head is None and bare.face_box is None
    np.testing.assert_allclose(bare.body[[0, 14, 15, 16, 17]], own_in_frame)
    assert (window_pose.face[:, 2] == 1).all()  # (a copy: the pose given is left as it was)


class FacedModel:
    """Sees the standing person facing ``body`` (shoulder span over torso) with a frontal face the holistic way
    (``head_from_face`` moved the head points onto it) in the whole frame."""

    def __init__(self, body: float) -> None:
        self.body = body

    def detect(self, image: np.ndarray) -> list[PoseFrame]:
        return [head_from_face(_person(self.body, 0.6))] if image.shape[:2] == (HEIGHT, WIDTH) else []

    def reset(self) -> None:
        pass


@pytest.mark.parametrize("body", [0.6, -0.6])
def test_the_follower_keeps_a_facing_persons_face_and_refuses_one_on_a_back(body):
    model = FacedModel(body)
    follower = PersonFollower(model, model, CountingSegmenter(), fps=30.0)
    frame = np.full((HEIGHT, WIDTH, 3), (90, 120, 160), np.uint8)
    own_nose = _standing_person(0).body[0, :2]
    for k in range(5):
        pose = follower.step(frame)
        assert pose is not None
        if body > 0:
            assert (pose.face[:, 2] == 1).all() and k not in follower.refused_parts
            np.testing.assert_allclose(pose.body[0, :2], _face(0.6)[30, :2])  # the nose on the face's nose tip
        else:
            assert (pose.face[:, 2] == 0).all() and follower.refused_parts[k] == ["face"]
            np.testing.assert_allclose(pose.body[0, :2], own_nose)  # the body model's own nose
