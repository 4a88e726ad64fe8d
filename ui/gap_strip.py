"""A thin strip under a player, one cell per frame, coloured by the frame's state.

Under the motion player (issue 12): detected (clear), held (a short gap filled with the nearest pose: amber) or
none (a long stretch without anyone: red), so the gaps the extraction reported can be found and trimmed. Under
the result player (issue 20): rendered (clear) or interpolated (blue), for a ``render --interpolate`` result.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QWidget

COLOURS = {"held": QColor("#d29922"), "none": QColor("#f85149")}
INTERPOLATED_COLOURS = {"interpolated": QColor("#58a6ff")}


class GapStrip(QWidget):
    def __init__(self, parent: QWidget | None = None, colours: dict[str, QColor] | None = None,
                 plain: str = "detected",
                 tooltip: str = "Frames without a person: amber = held (short gap), red = none (trim or continue)"
                 ) -> None:
        super().__init__(parent)
        self.setFixedHeight(5)
        self.status: list[str] = []
        self.colours = COLOURS if colours is None else colours
        self.plain = plain  # the state drawn clear; a strip with only such frames hides
        self.setToolTip(tooltip)

    def set_status(self, status: list[str] | None, note: str = "") -> None:
        self.status = list(status or [])
        self.setVisible(any(s != self.plain for s in self.status))
        if note:
            self.setToolTip(note)
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's name
        if not self.status:
            return
        painter = QPainter(self)
        cell = self.width() / len(self.status)
        for i, state in enumerate(self.status):
            colour = self.colours.get(state)
            if colour is not None:
                painter.fillRect(QRectF(i * cell, 0, max(cell, 1.0), self.height()), colour)
        painter.end()
