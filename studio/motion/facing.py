"""A face turned toward the camera on a body turned away from it is someone else's face (issue 19).

MediaPipe's holistic graph (and the face model the follower runs on the person's own region, ``face_hands_net``)
may fit the face next to the followed person's head: on the corpus's two-person clip (tests/data
``pose2sim_two_cam03``) the man walks past the woman with his back to the camera, her face frontal beside his
head, and the graph gives him her face on about twenty frames. Nobody else's pose is known there to compare with
(``foreign_parts`` needs one), but the two ways the parts face tell: a head cannot face the camera while the body
under it shows the camera its back.

Both are measured in their own frame, so a tilted, bent or lying person measures as an upright one:

- the face: its right eye to its left eye (the centres of the iBUG eye rings) across the face's up (the chin to
  the eyes' middle), over the squared length of that up. Facing the camera the person's right eye lies on the
  image's left: positive, about the eyes' distance over the eyes' height above the chin (0.4–0.6 on the corpus).
- the body: its right shoulder to its left shoulder across the torso's up (mid-hips to mid-shoulders), over the
  squared torso length: positive facing the camera, negative from behind, near 0 from the side. The pose is
  judged after ``sides.keep_sides``, whose left and right are final: a back view keeps the person's own sides
  there (on the clip above the holistic graph itself often calls the man's back view frontal; kept sides turn it
  back round). The hips are left out: BlazePose puts them close together, and they said "frontal" (up to +0.09)
  on frames where the shoulders clearly said "back".

Measured on every frame with a face of the corpus (``bench/face_facing.py --list``: the followed person, the
first 100-230 frames of each clip; whose face it is read off the frames by eye): her faces on the man's back
measured +0.39..+0.55 on bodies -0.16..-0.77 (tests/data clip: 19 faces, bodies -0.24..-0.75; two-cam03: 23 of
25, the other two on frames where the man's sides came out frontal, +0.14 and +0.33). Correct faces: bodies
+0.22..+0.77 facing the camera (jacks-two 146, rooftop-dance 202, two-cam04 100, situps-ball 200, wide-two-small
9), and a sprinter seen from the side whose profile head the face mesh covered with a frontal face (football-two
frames 33 and 35, face +0.55 on bodies -0.08 and -0.14; side views of him without a face measured -0.04..-0.26).
BACK_TURNED lies above that side view's noise: 36 of her 44 faces are refused, 5 on bodies between -0.16 and
-0.29 and the 2 on frontal sides are kept, the price of never taking a side view's own face away.

Hands have no such cue (a hand seen from either side fits a body facing either way): someone else's hands are
left to ``foreign_parts``, where their pose is known.
"""

from __future__ import annotations

import numpy as np

from studio.motion.types import VISIBLE, PoseFrame

R_SHOULDER, L_SHOULDER, R_HIP, L_HIP = 2, 5, 8, 11
RIGHT_EYE, LEFT_EYE, CHIN = slice(36, 42), slice(42, 48), 8
#: A face faces the camera from this measure up (the corpus's faces: 0.22 at a dancer's turn, 0.39 and up else).
FRONTAL_FACE = 0.3
#: A body shows the camera its back from this measure down (magnitude; a side view reached -0.26 at a 3/4 turn
#: with no face found, -0.14 with one; the man's back under her faces -0.16..-0.77).
BACK_TURNED = 0.3
#: Face points that must be visible to judge the face (a partial face is not the holistic graph's).
MIN_FACE_POINTS = 60


def _across(up: np.ndarray, side: np.ndarray) -> float:
    """``side`` across ``up`` (the z of their cross product, image y down) over ``up``'s squared length:
    positive when ``side`` points to the image's right of an upright ``up``."""
    length = float(up @ up)
    return 0.0 if length <= 1e-6 else float(up[0] * side[1] - up[1] * side[0]) / length


def face_facing(pose: PoseFrame) -> float | None:
    """How much the face faces the camera (see the module docstring), None without a face."""
    face = pose.face
    if int((face[:, 2] > VISIBLE).sum()) < MIN_FACE_POINTS:
        return None
    right, left = face[RIGHT_EYE, :2].mean(0), face[LEFT_EYE, :2].mean(0)
    return _across((right + left) / 2 - face[CHIN, :2], left - right)


def body_facing(pose: PoseFrame) -> float | None:
    """How much the body faces the camera (negative: its back; see the module docstring), None where its
    shoulders or hips are not seen."""
    body = pose.body
    if (body[[R_SHOULDER, L_SHOULDER, R_HIP, L_HIP], 2] <= VISIBLE).any():
        return None
    up = body[[R_SHOULDER, L_SHOULDER], :2].mean(0) - body[[R_HIP, L_HIP], :2].mean(0)
    return _across(up, body[L_SHOULDER, :2] - body[R_SHOULDER, :2])


def face_turned_from_body(pose: PoseFrame) -> bool:
    """Whether the pose's face faces the camera while its body turns its back (or, mirrored, the reverse):
    then the face is not this body's."""
    face, body = face_facing(pose), body_facing(pose)
    if face is None or body is None:
        return False
    return (face >= FRONTAL_FACE and body <= -BACK_TURNED) or (face <= -FRONTAL_FACE and body >= BACK_TURNED)
