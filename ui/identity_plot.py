"""Per-frame identity similarity under the timeline, with dips below a threshold highlighted."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.painted_text import PaintedText, draw_text

#: A frame whose similarity is this far below the clip's median counts as a dip.
DIP_MARGIN = 0.15


class IdentityPlot(QWidget):
    frame_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scores: list[float | None] = []
        self.current = -1
        self.message = "Identity similarity appears here after a render."
        #: Which model scored the curve (the studio's ``IdentityScores.label``), drawn under it.
        self.caption = "identity"
        #: The text drawn by the last paint (``ui.painted_text``: the layout audit checks it fits).
        self.painted_texts: list[PaintedText] = []
        self.setMinimumHeight(48)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Cosine similarity between the photo's face and each output frame's face. "
                        "Red marks dips: frames whose likeness drops well below the clip's median.")

    def set_scores(self, scores: list[float | None], message: str = "") -> None:
        self.scores = list(scores)
        self.message = message or ("" if scores else "No identity scores for this result.")
        self.update()

    def set_current(self, index: int) -> None:
        self.current = index
        self.update()

    def dips(self) -> list[int]:
        values = sorted(s for s in self.scores if s is not None)
        if not values:
            return []
        median = values[len(values) // 2]
        return [i for i, s in enumerate(self.scores) if s is None or s < median - DIP_MARGIN]

    def _x(self, i: int, area: QRectF) -> float:
        n = max(1, len(self.scores) - 1)
        return area.left() + area.width() * i / n

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        self.painted_texts = []
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(30, 32, 38))
        line = math.ceil(painter.fontMetrics().height())  # each label gets a whole line of the font in use
        area = QRectF(self.rect()).adjusted(34, 6, -8, -line)
        painter.setPen(QColor(110, 115, 125))
        texts = self.painted_texts
        centre = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        draw_text(painter, QRectF(0, max(0.0, area.top() - line / 2), 32, line), centre, "1.0", texts)
        draw_text(painter, QRectF(0, area.bottom() - line / 2, 32, line), centre, "0.0", texts)
        draw_text(painter, QRectF(area.left(), area.bottom(), area.width(), line), Qt.AlignmentFlag.AlignLeft,
                  self.caption, texts)
        if not self.scores:
            draw_text(painter, area, Qt.AlignmentFlag.AlignCenter, self.message, texts)
            painter.end()
            return
        dips = set(self.dips())
        band = area.width() / max(1, len(self.scores))
        for i in dips:
            x = self._x(i, area)
            painter.fillRect(QRectF(x - band / 2, area.top(), band, area.height()), QColor(200, 60, 60, 90))
        path = QPainterPath()
        started = False
        for i, s in enumerate(self.scores):
            if s is None:
                started = False
                continue
            point = QPointF(self._x(i, area), area.bottom() - area.height() * max(0.0, min(1.0, s)))
            if started:
                path.lineTo(point)
            else:
                path.moveTo(point)
                started = True
        painter.setPen(QPen(QColor(102, 204, 255), 2))
        painter.drawPath(path)
        for i in dips:
            s = self.scores[i]
            if s is not None:
                painter.setBrush(QColor(235, 80, 80))
                painter.setPen(Qt.PenStyle.NoPen)
                painter.drawEllipse(QPointF(self._x(i, area), area.bottom() - area.height() * max(0, s)), 3, 3)
        if 0 <= self.current < len(self.scores):
            painter.setPen(QPen(QColor(255, 214, 102), 1))
            x = self._x(self.current, area)
            painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
        painter.end()

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self.scores:
            area = QRectF(self.rect()).adjusted(34, 6, -8, -14)
            n = max(1, len(self.scores) - 1)
            i = round((event.position().x() - area.left()) / max(1.0, area.width()) * n)
            self.frame_clicked.emit(max(0, min(len(self.scores) - 1, i)))
