"""Helpers shared by the warp tests and ``bench/warp.py`` (no tests here).

Poses come from engineer C's ``studio.motion.detect_pose`` (mediapipe backend) when it exists; until then
from mediapipe pose directly, mapped onto the OpenPose-18 order the same way (neck = mid-shoulders).
"""

from __future__ import annotations

import numpy as np

from studio.motion.types import PoseFrame

# OpenPose-18 index → mediapipe pose landmark index (None: the neck, the shoulders' midpoint).
_MP_FOR_OPENPOSE = (0, None, 12, 14, 16, 11, 13, 15, 24, 26, 28, 23, 25, 27, 5, 2, 8, 7)


def _mediapipe_pose(image: np.ndarray) -> PoseFrame | None:
    import mediapipe as mp

    h, w = image.shape[:2]
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
        result = pose.process(np.ascontiguousarray(image))
    if result.pose_landmarks is None:
        return None
    lm = np.array([[p.x * w, p.y * h, p.visibility] for p in result.pose_landmarks.landmark], np.float32)
    body = np.zeros((18, 3), np.float32)
    for op, mpi in enumerate(_MP_FOR_OPENPOSE):
        if mpi is None:
            body[op, :2] = (lm[11, :2] + lm[12, :2]) / 2
            body[op, 2] = min(lm[11, 2], lm[12, 2])
        else:
            body[op] = lm[mpi]
    inside = (body[:, 0] >= 0) & (body[:, 0] < w) & (body[:, 1] >= 0) & (body[:, 1] < h)
    body[~inside, 2] = 0.0
    return PoseFrame(body=body)


def detect_pose(image: np.ndarray) -> PoseFrame | None:
    """The person's pose in ``image`` pixels (OpenPose-18 body; face points when C's backend gives them)."""
    try:
        from studio.motion import detect_pose as c_detect_pose
    except ImportError:
        return _mediapipe_pose(image)
    return c_detect_pose(image, backend="mediapipe")


def astronaut() -> np.ndarray:
    import skimage.data

    return np.ascontiguousarray(skimage.data.astronaut())


def translated(pose: PoseFrame, dx: float, dy: float) -> PoseFrame:
    """``pose`` moved by (dx, dy) pixels (scores kept)."""
    out = pose.copy()
    for arr in (out.body, out.face, out.left_hand, out.right_hand):
        arr[:, 0] += dx
        arr[:, 1] += dy
    if out.face_box is not None:
        x0, y0, x1, y1 = out.face_box
        out.face_box = (x0 + dx, y0 + dy, x1 + dx, y1 + dy)
    return out


def astronaut_on_canvas(size: int = 512, scale: float = 0.6) -> np.ndarray:
    """The astronaut shrunk onto a plain canvas (bottom centre), so her whole upper body has room to move."""
    import cv2

    small = cv2.resize(astronaut(), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.empty((size, size, 3), np.uint8)
    canvas[:] = (200, 200, 205)
    h, w = small.shape[:2]
    x0 = (size - w) // 2
    canvas[size - h:, x0:x0 + w] = small
    return canvas


def synthetic_person(size: int = 256) -> tuple[np.ndarray, np.ndarray, PoseFrame]:
    """A drawn stick person (image, matte, pose) for tests that must not depend on a detector."""
    import cv2

    img = np.zeros((size, size, 3), np.uint8)
    img[:] = np.linspace(40, 200, size, dtype=np.uint8)[None, :, None]  # a horizontal gradient background
    s = size / 256
    body = np.zeros((18, 3), np.float32)
    pts = {0: (128, 50), 1: (128, 80), 2: (100, 82), 3: (90, 120), 4: (85, 155), 5: (156, 82), 6: (166, 120),
           7: (171, 155), 8: (110, 160), 9: (108, 200), 10: (106, 240), 11: (146, 160), 12: (148, 200),
           13: (150, 240), 14: (122, 45), 15: (134, 45), 16: (115, 48), 17: (141, 48)}
    for k, (x, y) in pts.items():
        body[k] = (x * s, y * s, 1.0)
    matte = np.zeros((size, size), np.uint8)
    limbs = [(1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (8, 9), (9, 10), (11, 12), (12, 13)]
    for a, b in limbs:
        cv2.line(matte, tuple(int(v) for v in body[a, :2]), tuple(int(v) for v in body[b, :2]), 255, int(14 * s))
    cv2.fillConvexPoly(matte, body[[2, 5, 11, 8], :2].astype(np.int32), 255)
    cv2.circle(matte, tuple(int(v) for v in body[0, :2]), int(20 * s), 255, -1)
    person = np.where(matte[..., None] > 0, np.array([230, 60, 30], np.uint8), img)
    return person, matte.astype(np.float32) / 255.0, PoseFrame(body=body)
