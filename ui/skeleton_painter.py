"""Draws a PoseFrame over a picture with QPainter (the overlay on the player and the alignment view).

The model's own DWPose-style skeleton images come from ``studio.motion.draw_pose``; this overlay only has
to be readable at any zoom, so it draws thin limbs in the same colour order straight onto the widget.
"""

from __future__ import annotations

import colorsys

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QTransform

from studio.motion.types import VISIBLE, PoseFrame

#: OpenPose-18 limbs as (from, to) body indices: neck-shoulders, arms, hips-legs, head.
LIMBS = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
    (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)
#: Hand bones: four chains of four joints from the wrist (index 0).
HAND_BONES = tuple((0 if j == 0 else f * 4 + j, f * 4 + j + 1) for f in range(5) for j in range(4))


def _limb_colour(i: int, n: int) -> QColor:
    r, g, b = colorsys.hsv_to_rgb(i / n, 1.0, 1.0)
    return QColor(int(r * 255), int(g * 255), int(b * 255))


LIMB_COLOURS = tuple(_limb_colour(i, len(LIMBS)) for i in range(len(LIMBS)))


def paint_pose(painter: QPainter, pose: PoseFrame, to_widget: QTransform, width: float = 3.0) -> None:
    """Draw ``pose`` (in image pixels) through ``to_widget`` (image → widget coordinates)."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)

    def point(p) -> QPointF:
        return to_widget.map(QPointF(float(p[0]), float(p[1])))

    body = pose.body
    for (a, b), colour in zip(LIMBS, LIMB_COLOURS, strict=True):
        if body[a, 2] > VISIBLE and body[b, 2] > VISIBLE:
            painter.setPen(QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawLine(point(body[a]), point(body[b]))
    painter.setPen(Qt.PenStyle.NoPen)
    for i, p in enumerate(body):
        if p[2] > VISIBLE:
            painter.setBrush(LIMB_COLOURS[i % len(LIMB_COLOURS)])
            painter.drawEllipse(point(p), width * 1.2, width * 1.2)
    for hand in (pose.left_hand, pose.right_hand):
        for k, (a, b) in enumerate(HAND_BONES):
            if hand[a, 2] > VISIBLE and hand[b, 2] > VISIBLE:
                painter.setPen(QPen(_limb_colour(k, len(HAND_BONES)), max(1.0, width / 2)))
                painter.drawLine(point(hand[a]), point(hand[b]))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(255, 255, 255))
    for p in pose.face:
        if p[2] > VISIBLE:
            painter.drawEllipse(point(p), 1.2, 1.2)
    painter.restore()


def paint_box(painter: QPainter, box, to_widget: QTransform, colour: QColor, label: str = "",
              dashed: bool = False) -> None:
    x0, y0, x1, y1 = (float(v) for v in box)
    rect = to_widget.mapRect(QRectF(x0, y0, x1 - x0, y1 - y0))
    painter.save()
    painter.setPen(QPen(colour, 2.0, Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(rect)
    if label:
        painter.drawText(rect.topLeft() + QPointF(3, -4), label)
    painter.restore()
