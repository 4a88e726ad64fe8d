"""Find what a person would see as a broken layout: visible widgets drawn over each other, and text cut off.

Used by the tests (at 1024×700 and 1600×1000) and handy by hand: ``layout_problems(window)`` lists each
problem as a sentence naming the widgets (class, object name or text) and their geometry.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
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
        children = [c for c in parent.children() if isinstance(c, QWidget) and c.isVisible() and not c.isWindow()
                    and c.width() > 0 and c.height() > 0]
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


def layout_problems(window: QWidget) -> list[str]:
    return overlaps(window) + cut_text(window)


def _rect(r: QRect) -> str:
    return f"[{r.x()},{r.y()} {r.width()}×{r.height()}]"
