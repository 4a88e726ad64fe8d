"""The body's head points (OpenPose nose, eyes, ears) taken from the face landmarks of the same frame.

Body pose models place the head points coarsely (they see the whole person at low resolution), while the
68 face points come from a face model run on a crop of the face; drawn together in one pose image the two
disagree by several pixels. When a face is present the head points are therefore derived from it: the nose is
face point 30 (the nose tip), each eye the centre of its six eye-contour points, each ear the jaw contour
point at ear height (face points 1 and 15, the contour beside the tragus). The body model's own points stay
as the fallback for frames without a face, and its ear scores are kept (an ear turned away stays hidden).

``face_box_from_pose`` boxes the face from the same points (the motion boxes every frame's face with it; the
face package builds masks and identity on those boxes).
"""

from __future__ import annotations

from studio.motion.types import VISIBLE, PoseFrame

NOSE, R_EYE, L_EYE, R_EAR, L_EAR = 0, 14, 15, 16, 17
HEAD = [NOSE, R_EYE, L_EYE, R_EAR, L_EAR]
NOSE_TIP = 30
RIGHT_EYE = tuple(range(36, 42))
LEFT_EYE = tuple(range(42, 48))
RIGHT_EAR_CONTOUR, LEFT_EAR_CONTOUR = 1, 15
#: The face counts as present with at least this many visible points (a partial face keeps the body's head).
MIN_FACE_POINTS = 60
#: A box in pixels: x0, y0, x1, y1.
Box = tuple[float, float, float, float]


def has_face(pose: PoseFrame) -> bool:
    return int((pose.face[:, 2] > VISIBLE).sum()) >= MIN_FACE_POINTS


def head_from_face(pose: PoseFrame) -> PoseFrame:
    """``pose`` with its nose, eyes and ears moved onto its face landmarks (in place; also returned)."""
    if not has_face(pose):
        return pose
    face, body = pose.face, pose.body
    if pose.own_head is None:  # (kept: a face found to be someone else's is taken off again, ``without_face``)
        pose.own_head = body[HEAD].copy()
    body[NOSE] = (face[NOSE_TIP, 0], face[NOSE_TIP, 1], max(float(body[NOSE, 2]), float(face[NOSE_TIP, 2])))
    for joint, ring in ((R_EYE, RIGHT_EYE), (L_EYE, LEFT_EYE)):
        centre = face[list(ring), :2].mean(0)
        body[joint] = (centre[0], centre[1], max(float(body[joint, 2]), float(face[list(ring), 2].min())))
    for joint, contour in ((R_EAR, RIGHT_EAR_CONTOUR), (L_EAR, LEFT_EAR_CONTOUR)):
        body[joint, :2] = face[contour, :2]
    return pose


def without_face(pose: PoseFrame) -> PoseFrame:
    """A copy of ``pose`` with no face (every face point score 0) and the body model's own head points back
    where ``head_from_face`` had moved them onto the face."""
    out = pose.copy()
    out.face[:] = 0.0
    out.face_box = None
    if out.own_head is not None:
        out.body[HEAD] = out.own_head
        out.own_head = None
    return out


def face_box_from_pose(pose: PoseFrame | None, width: int, height: int, margin: float = 0.15) -> Box | None:
    """A face box from the face keypoints (or, lacking them, the nose/eyes/ears), clipped to the frame.

    The box spans the points plus ``margin`` of its size on every side (the forehead above the brows is
    added too, since the 68 points stop at the eyebrows).
    """
    if pose is None:
        return None
    face = pose.face[pose.face[:, 2] > VISIBLE]
    if len(face) >= 5:
        x0, y0 = face[:, :2].min(0)
        x1, y1 = face[:, :2].max(0)
        y0 -= 0.25 * (y1 - y0)  # forehead
    else:
        head = pose.body[[0, 14, 15, 16, 17]]
        head = head[head[:, 2] > VISIBLE]
        if len(head) < 2:
            return None
        x0, y0 = head[:, :2].min(0)
        x1, y1 = head[:, :2].max(0)
        size = max(x1 - x0, 1.0)
        cy = (y0 + y1) / 2
        y0, y1 = cy - 0.6 * size, cy + 0.7 * size
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    box = (max(0.0, x0 - mx), max(0.0, y0 - my), min(width - 1.0, x1 + mx), min(height - 1.0, y1 + my))
    if box[2] <= box[0] or box[3] <= box[1]:
        return None
    return (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
