"""Skeleton images in the exact DWPose style StableAnimator's PoseNet was trained on (docs/model.md §13).

The pose is drawn on a black canvas whose short side is 2160 px (so line widths and dot sizes match the
training data at any output size), then resized to the output size with bilinear interpolation.
Colours are RGB as they appear in the original's saved PNGs.
"""

from __future__ import annotations

import colorsys
import math

import numpy as np

from studio.motion.types import PoseFrame

#: Drawing canvas short side, as in the original.
CANVAS_SHORT_SIDE = 2160
#: A body point is drawn when its score is at least this.
DRAW_THRESHOLD = 0.3

#: Body limbs (0-based OpenPose indices): the first 17 pairs of OpenPose's list; ear–shoulder pairs skipped.
LIMBS: tuple[tuple[int, int], ...] = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
    (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)

#: Joint colours (RGB) for the 18 body points; limb i uses colour i.
COLORS: tuple[tuple[int, int, int], ...] = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)

#: Hand edges: wrist to each finger tip, finger by finger.
HAND_EDGES: tuple[tuple[int, int], ...] = tuple(
    pair for finger in range(5) for pair in
    ((0 if k == 0 else 4 * finger + k, 4 * finger + k + 1) for k in range(4))
)
HAND_COLORS: tuple[tuple[float, ...], ...] = tuple(
    tuple(255.0 * c for c in colorsys.hsv_to_rgb(e / len(HAND_EDGES), 1.0, 1.0)) for e in range(len(HAND_EDGES))
)

LIMB_HALF_WIDTH = 4
JOINT_RADIUS = 4
HAND_THICKNESS = 2
HAND_JOINT_RADIUS = 4
FACE_RADIUS = 3
LIMB_DIM = 0.6
_EPS = 0.01


#: DWPose dims the limbs it drew with ``(canvas * 0.6).astype(uint8)`` over its whole 2160-px canvas, which took
#: longer than the pose model's run on a frame. Each limb pixel holds the colour of the last limb drawn over it
#: (no blending) and black stays black, so drawing each limb in its dimmed colour gives the same pixels.
_DIMMED = (np.arange(256) * LIMB_DIM).astype(np.uint8)


def _draw_body(canvas: np.ndarray, body: np.ndarray, width: int, height: int) -> None:
    import cv2

    ch, cw = canvas.shape[:2]
    xs = body[:, 0] / width * cw
    ys = body[:, 1] / height * ch
    scores = body[:, 2]
    for i, (a, b) in enumerate(LIMBS):
        if scores[a] < DRAW_THRESHOLD or scores[b] < DRAW_THRESHOLD:
            continue
        mx, my = (xs[a] + xs[b]) / 2, (ys[a] + ys[b]) / 2
        length = math.hypot(xs[a] - xs[b], ys[a] - ys[b])
        angle = math.degrees(math.atan2(ys[a] - ys[b], xs[a] - xs[b]))
        polygon = cv2.ellipse2Poly((int(mx), int(my)), (int(length / 2), LIMB_HALF_WIDTH), int(angle), 0, 360, 1)
        # (a score above 1 saturated the canvas at 255 before the dimming)
        color = [int(_DIMMED[min(255, int(float(c) * scores[a] * scores[b]))]) for c in COLORS[i]]
        cv2.fillConvexPoly(canvas, polygon, color)  # type: ignore[call-overload]  # cv2 stubs: ellipse2Poly's own result
    for i in range(len(body)):
        if scores[i] < DRAW_THRESHOLD:
            continue
        color = [int(float(c) * scores[i]) for c in COLORS[i]]
        cv2.circle(canvas, (int(xs[i]), int(ys[i])), JOINT_RADIUS, color, thickness=-1)


def _visible_pixels(points: np.ndarray, width: int, height: int, cw: int, ch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Canvas pixel coordinates and a 'drawn' flag (DWPose drops points under 0.3 and those at the border)."""
    px = (points[:, 0] / width * cw).astype(np.int64)
    py = (points[:, 1] / height * ch).astype(np.int64)
    drawn = (points[:, 2] >= DRAW_THRESHOLD) & (px > _EPS) & (py > _EPS)
    return px, py, drawn


def _draw_hand(canvas: np.ndarray, hand: np.ndarray, width: int, height: int) -> None:
    import cv2

    ch, cw = canvas.shape[:2]
    px, py, drawn = _visible_pixels(hand, width, height, cw, ch)
    scores = hand[:, 2]
    for e, (a, b) in enumerate(HAND_EDGES):
        if drawn[a] and drawn[b]:
            strength = int(scores[a] * scores[b] * 255) / 255.0
            color = [c * strength for c in HAND_COLORS[e]]
            cv2.line(canvas, (int(px[a]), int(py[a])), (int(px[b]), int(py[b])), color, thickness=HAND_THICKNESS)
    for i in range(len(hand)):
        if drawn[i]:
            cv2.circle(canvas, (int(px[i]), int(py[i])), HAND_JOINT_RADIUS, (0, 0, int(scores[i] * 255)), thickness=-1)


def _draw_face(canvas: np.ndarray, face: np.ndarray, width: int, height: int) -> None:
    import cv2

    ch, cw = canvas.shape[:2]
    px, py, drawn = _visible_pixels(face, width, height, cw, ch)
    for i in range(len(face)):
        if drawn[i]:
            grey = int(face[i, 2] * 255)
            cv2.circle(canvas, (int(px[i]), int(py[i])), FACE_RADIUS, (grey, grey, grey), thickness=-1)


def canvas_size(width: int, height: int) -> tuple[int, int]:
    """(canvas width, canvas height): the output size scaled so its short side is 2160 px."""
    short = min(width, height)
    ratio = CANVAS_SHORT_SIDE / short if short != CANVAS_SHORT_SIDE else 1.0
    return int(width * ratio), int(height * ratio)


def draw_pose(pose: PoseFrame | None, width: int, height: int) -> np.ndarray:
    """The skeleton of ``pose`` (in ``width``×``height`` pixels) as an RGB uint8 [height, width, 3] image."""
    import cv2

    if pose is None:
        return np.zeros((height, width, 3), dtype=np.uint8)
    cw, ch = canvas_size(width, height)
    canvas = np.zeros((ch, cw, 3), dtype=np.uint8)
    _draw_body(canvas, pose.body, width, height)
    for hand in (pose.left_hand, pose.right_hand):
        _draw_hand(canvas, hand, width, height)
    _draw_face(canvas, pose.face, width, height)
    if (cw, ch) == (width, height):
        return canvas
    return cv2.resize(canvas, (width, height), interpolation=cv2.INTER_LINEAR)
