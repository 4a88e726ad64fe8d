"""Text a widget paints itself (captions over pictures, placeholders, plot labels): drawn to fit the room it is given
and reported, so the layout audit can check painted text the way it checks labels.

A painter calls ``draw_text`` with the rectangle the text may use; it draws the text there and appends what it drew
to the widget's ``painted_texts`` list (the widget clears it at the start of each paint). ``ui.layout_audit`` reads
those records: a text whose drawn extent leaves its room, or the widget, is cut.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter


@dataclass(frozen=True)
class PaintedText:
    #: What the widget asked to show, and what was drawn (shorter, ending in "…", when it did not fit).
    text: str
    shown: str
    #: The rectangle the text was given and the one the drawn text covers, in the widget's coordinates.
    room: QRectF
    covers: QRectF

    @property
    def shortened(self) -> bool:
        return self.shown != self.text


ELLIPSIS = "…"


def fitted(metrics: QFontMetricsF, room: QRectF, flags: int, text: str) -> str:
    """``text`` as it fits in ``room``: whole when it does, else shortened to end in "…" (one line: elided to the
    width; wrapped: cut at the longest prefix whose wrapped lines fit the height). Where not even "…" fits, ""."""
    def fits(candidate: str) -> bool:
        covers = metrics.boundingRect(room, flags, candidate)
        return covers.width() <= room.width() + 0.5 and covers.height() <= room.height() + 0.5

    if fits(text):
        return text
    if not flags & Qt.TextFlag.TextWordWrap:
        shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, room.width())
        return shown if shown and fits(shown) else ""
    low, high = 0, len(text)  # the longest prefix that fits with "…" (fitting only shrinks as the prefix grows)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[:middle].rstrip() + ELLIPSIS):
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + ELLIPSIS if low else ("" if not fits(ELLIPSIS) else ELLIPSIS)


def draw_text(painter: QPainter, room: QRectF, flags: Qt.AlignmentFlag, text: str,
              record: list[PaintedText]) -> PaintedText:
    """Draw ``text`` inside ``room`` (aligned by ``flags``; ``Qt.TextFlag.TextWordWrap`` wraps it), shortened with
    "…" where it does not fit, and record it."""
    metrics = QFontMetricsF(painter.font())
    shown = fitted(metrics, room, int(flags), text)
    covers = metrics.boundingRect(room, int(flags), shown)
    painter.drawText(room, int(flags), shown)
    painted = PaintedText(text, shown, QRectF(room), covers)
    record.append(painted)
    return painted
