"""``ui.painted_text.fitted``: text a widget paints is shortened with "…" only when it does not fit its room."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF

from ui.painted_text import ELLIPSIS, fitted


def test_one_line_is_elided_to_the_width_and_kept_whole_when_it_fits(qapp):
    metrics = QFontMetricsF(QFont())
    text = "warp preview — not model output"
    wide = QRectF(0, 0, metrics.horizontalAdvance(text) + 4, metrics.height() + 2)
    assert fitted(metrics, wide, int(Qt.AlignmentFlag.AlignLeft), text) == text
    narrow = QRectF(0, 0, metrics.horizontalAdvance(text) / 2, metrics.height() + 2)
    shown = fitted(metrics, narrow, int(Qt.AlignmentFlag.AlignLeft), text)
    assert shown.endswith(ELLIPSIS) and metrics.horizontalAdvance(shown) <= narrow.width() + 0.5


def test_wrapped_text_is_cut_to_the_lines_that_fit(qapp):
    metrics = QFontMetricsF(QFont())
    flags = int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap)
    text = "Could not decode the video: " + "the decoder stopped at a broken packet " * 6
    room = QRectF(0, 0, 150, 2 * metrics.lineSpacing() + 1)
    shown = fitted(metrics, room, flags, text)
    covers = metrics.boundingRect(room, flags, shown)
    assert shown.endswith(ELLIPSIS) and text.startswith(shown[:-1].rstrip())
    assert covers.height() <= room.height() + 0.5 and covers.width() <= room.width() + 0.5
    assert fitted(metrics, QRectF(0, 0, 150, 2), flags, text) == ""  # not even "…" fits: nothing drawn
