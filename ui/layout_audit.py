"""Find what a person would see as a broken layout: visible widgets drawn over each other, and text cut off (in
labels, buttons and editors, and the text widgets paint themselves: captions over pictures, placeholders, plot
labels, which they report through ``ui.painted_text``).

Used by the tests (every window state at every screen size from 1024×640 to 2560×1440, see
``tests/ui/layout_states.py``) and handy by hand: ``layout_problems(window)`` lists each problem as a sentence
naming the widgets (class, object name or text) and their geometry; ``audit_at_sizes`` resizes the window to
each size first and also reports a size the window refuses to take and a work panel squeezed to a sliver.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QRect, QRectF, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QWidget,
)


def describe(widget: QWidget) -> str:
    text = ""
    if isinstance(widget, (QLabel, QAbstractButton)):
        text = widget.text()[:30]
    name = widget.objectName()
    return f"{type(widget).__name__}({name or text!r})"


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    """The scroll area whose viewport holds ``widget``: the widget may lie outside the viewport along a
    direction the area scrolls (that is what scrolling is for), not along one it cannot scroll."""
    parent = widget.parentWidget()
    while parent is not None:
        grand = parent.parentWidget()
        if isinstance(grand, QAbstractScrollArea) and parent is grand.viewport():
            return grand
        parent = grand
    return None


def _visible_rect_in_window(widget: QWidget, window: QWidget) -> QRect:
    top_left = widget.mapTo(window, widget.rect().topLeft())
    return QRect(top_left, widget.size())


def overlaps(window: QWidget) -> list[str]:
    """Pairs of visible sibling widgets whose rectangles intersect (a layout squeezed below its minimum)."""
    problems: list[str] = []
    for parent in [window, *window.findChildren(QWidget)]:
        if not parent.isVisible() or parent.isWindow() and parent is not window:
            continue
        if isinstance(parent, (QAbstractSpinBox, QComboBox)):
            continue  # their inner line edit and buttons are theirs to place
        # a child wholly outside its parent is parked there by Qt (a dock behind a tab), not shown
        children = [c for c in parent.children() if isinstance(c, QWidget) and c.isVisible() and not c.isWindow()
                    and c.width() > 0 and c.height() > 0 and c.geometry().intersects(parent.rect())]
        for i, a in enumerate(children):
            for b in children[i + 1:]:
                shared = a.geometry().intersected(b.geometry())
                if shared.width() > 1 and shared.height() > 1:
                    problems.append(f"{describe(a)} {_rect(a.geometry())} overlaps {describe(b)} "
                                    f"{_rect(b.geometry())} in {describe(parent)}")
    return problems


def cut_text(window: QWidget) -> list[str]:
    """Visible labels, buttons and editors narrower (or shorter) than their text needs."""
    problems: list[str] = []
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or widget.isWindow():
            continue
        if isinstance(widget, QLabel):
            if not widget.text() or widget.pixmap() is not None and not widget.pixmap().isNull():
                continue
            if widget.wordWrap():
                need_h = widget.heightForWidth(widget.width())
                if need_h > widget.height() + 1:
                    problems.append(f"{describe(widget)} needs {need_h} px of height, has {widget.height()}")
                continue
            need = widget.minimumSizeHint().width()
        elif isinstance(widget, (QAbstractButton, QAbstractSpinBox, QComboBox)):
            need = widget.minimumSizeHint().width()
        else:
            continue
        if widget.width() + 1 < need:
            problems.append(f"{describe(widget)} is {widget.width()} px wide, its text needs {need}")
            continue
        area = _scroll_area_of(widget)
        if area is None:
            outer = _visible_rect_in_window(widget, window)
            clipped = outer.intersected(window.rect())
            if clipped.isEmpty():
                continue  # parked outside by Qt (e.g. the title buttons of a dock hidden behind a tab)
            if clipped.width() + 1 < outer.width() or clipped.height() + 1 < outer.height():
                problems.append(f"{describe(widget)} {_rect(outer)} runs off the window")
        elif area.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff:
            right = widget.mapTo(area.viewport(), widget.rect().topRight()).x()
            if right > area.viewport().width() + 1:
                problems.append(f"{describe(widget)} ends at x={right}, past its scroll area's "
                                f"{area.viewport().width()} px (that area does not scroll sideways)")
    return problems


def cut_painted_text(window: QWidget) -> list[str]:
    """Text a visible widget painted (``painted_texts``, see ``ui.painted_text``) that leaves the room it was given
    or the widget itself: the painter clips it there, so a person sees it cut."""
    problems: list[str] = []
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or not hasattr(widget, "painted_texts"):
            continue
        widget.grab()  # paint now, at this size (the records are the last paint's)
        bounds = QRectF(widget.rect()).adjusted(-1, -1, 1, 1)
        for painted in widget.painted_texts:
            room = painted.room.adjusted(-1, -1, 1, 1)  # (a pixel of rounding)
            if not (room.contains(painted.covers) and bounds.contains(painted.covers)):
                c, r = painted.covers, painted.room
                problems.append(f"{describe(widget)} {_rect(widget.geometry())} paints {painted.shown[:40]!r} over "
                                f"{c.width():.0f}×{c.height():.0f} px at ({c.x():.0f},{c.y():.0f}), its room is "
                                f"{r.width():.0f}×{r.height():.0f} at ({r.x():.0f},{r.y():.0f})")
    return problems


def layout_problems(window: QWidget) -> list[str]:
    return overlaps(window) + cut_text(window) + cut_painted_text(window)


#: The least room a picture (photo, video, skeleton, result) keeps: smaller, a person cannot judge it.
MIN_VIEW = (110, 80)


def parse_size(text: str) -> tuple[int, int]:
    """``"1366x768"`` → (1366, 768)."""
    width, _, height = text.lower().replace("×", "x").partition("x")
    return int(width), int(height)


def audit_at_sizes(window, sizes: list[tuple[int, int]], state: str = "") -> list[str]:
    """Resize ``window`` to each size and list what is wrong there: the size refused (the window's minimum is
    larger), widgets over each other, cut text, a picture squeezed below ``MIN_VIEW``."""
    problems: list[str] = []
    for width, height in sizes:
        window.resize(width, height)
        for _ in range(3):  # docks and splitters settle over a few passes
            QCoreApplication.processEvents()
        where = f"{state} at {width}×{height}: " if state else f"at {width}×{height}: "
        if window.size().toTuple() != (width, height):
            problems.append(f"{where}the window refuses the size and stays {window.width()}×{window.height()}")
            continue
        problems += [where + p for p in layout_problems(window)]
        for view in window.picture_views():
            if view.isVisible() and (view.width() < MIN_VIEW[0] or view.height() < MIN_VIEW[1]):
                problems.append(f"{where}{describe(view)} is squeezed to {view.width()}×{view.height()}")
    return problems


def _rect(r: QRect) -> str:
    return f"[{r.x()},{r.y()} {r.width()}×{r.height()}]"
