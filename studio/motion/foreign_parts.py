"""A face or hand found for the followed person that is someone else's (issue 19): refused, left absent.

Where the holistic graph lost the followed person or returned someone else, the follower finds them on their own
region with the pose landmark model and adds the face and hands the way the graph does (``face_hands_net``: the
face and hand models run on regions from the pose's own landmarks). A body found beside someone overlapping the
person may have an arm or its head on the other person; the face and hand models, run there, then find the other
person's face or hand, and the face moved the person's head points onto it (``head``). The follower knows the
other person there: the pose the tracker returned where the person is (``follow``: the tracker's someone else, or
its pose that drifted off the person's path and lost to what the look at their own region found). A part found
where that pose has its own is theirs:

- a face is the other's when it holds the other's nose and eyes (the visible ones, at least two): one face holds
  one person's eyes. On the corpus's two-person clip (tests/data ``pose2sim_two_cam03``, frame 61) the man,
  back turned, has his head behind the woman's; the face found there is hers, and her eyes and nose lie in it.
- a hand is the other's when one of the other's wrists lies within the found hand's length of its wrist, unless
  the followed person's own hand of that side lay there too in one of their last poses: a single-person model
  shown two people returns one pose spread over both, which can carry the followed person's own arm (frame 33
  of that clip: his raised right hand, the drifted pose's "left" wrist). Frame 61's hand at the woman's chest and
  frame 68's, her hand by her thigh, are refused; his raised hand on frame 33 is kept.

What this does not see: a body whose arm lies on someone the follower never saw on that frame (frame 26 of that
clip: the tracker saw nobody, and the hand found is at the woman's ankle) keeps what is found there.
"""

from __future__ import annotations

import numpy as np

from studio.motion.types import VISIBLE, PoseFrame

#: OpenPose-18 body points: the nose and eyes (the face's own points), the wrists.
NOSE, R_EYE, L_EYE = 0, 14, 15
WRISTS = {"right_hand": 4, "left_hand": 7}
#: Visible face points of the other person a face must hold to be theirs (two of nose and eyes: one face).
MIN_FACE_POINTS = 2


def _wrist_places(pose: PoseFrame) -> list[np.ndarray]:
    """Where ``pose`` has wrists: its body's wrists placed at all (a wrist the model saw poorly still lies where it
    guessed the arm ends) and its hands' wrist points."""
    places = [pose.body[w, :2] for w in WRISTS.values() if pose.body[w, 2] > 0]
    places += [hand[0, :2] for hand in (pose.left_hand, pose.right_hand) if hand[0, 2] > VISIBLE]
    return places


def face_is_others(face: np.ndarray, other: PoseFrame | None) -> bool:
    """Whether a face found for the followed person (points [N, 2] in frame pixels) holds the ``other`` person's
    visible nose and eyes (at least MIN_FACE_POINTS of them, all inside the face's box)."""
    if other is None or len(face) == 0:
        return False
    points = other.body[[NOSE, R_EYE, L_EYE]]
    points = points[points[:, 2] > VISIBLE, :2]
    if len(points) < MIN_FACE_POINTS:
        return False
    low, high = face.min(0), face.max(0)
    return bool(((points >= low) & (points <= high)).all())


def hand_is_others(side: str, hand: np.ndarray, other: PoseFrame | None, recent: list[PoseFrame]) -> bool:
    """Whether a hand found at the followed person's ``side`` wrist ("left_hand"/"right_hand"; points [21, 2] in
    frame pixels, wrist first) lies at one of the ``other`` person's wrists (within the hand's own length), where
    none of the followed person's ``recent`` poses had their hand of that side."""
    if other is None:
        return False
    wrist = hand[0]
    length = float(np.linalg.norm(hand - wrist, axis=1).max())
    if not any(float(np.linalg.norm(place - wrist)) <= length for place in _wrist_places(other)):
        return False
    own = [getattr(pose, side) for pose in recent]
    return not any(h[0, 2] > VISIBLE and float(np.linalg.norm(h[0, :2] - wrist)) <= length for h in own)


class ForeignParts:
    """The judge of one frame's found parts (``face_hands_net.FaceHandsNet.add_to``'s ``refuse``): someone else's
    face or hand, given the ``other`` person's pose there (None: nobody else known) and the followed person's
    ``recent`` poses."""

    def __init__(self, other: PoseFrame | None, recent: list[PoseFrame]) -> None:
        self.other, self.recent = other, list(recent)
        #: The parts refused (for the bench and the tests).
        self.refused: list[str] = []

    def __call__(self, part: str, points: np.ndarray) -> bool:
        foreign = (face_is_others(points, self.other) if part == "face"
                   else hand_is_others(part, points, self.other, self.recent))
        if foreign:
            self.refused.append(part)
        return foreign
