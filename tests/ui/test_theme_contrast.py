"""The theme's spin-box arrows and check-box frames can be found: rendered offscreen with the theme, the arrow and
indicator pixels stand out from what is behind them by at least 3:1 (WCAG 2.1's contrast for user-interface
components). Before, the base style drew near-black arrows and frames on the dark fields (1.1:1)."""

from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QSpinBox,
    QStyle,
    QStyleOptionButton,
    QStyleOptionSpinBox,
    QWidget,
)

#: WCAG 2.1 success criterion 1.4.11 (non-text contrast) for the parts of a control a person must see.
LEAST_CONTRAST = 3.0


def luminance(colour: QColor) -> float:
    """WCAG relative luminance of an sRGB colour."""
    def linear(channel: int) -> float:
        v = channel / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(colour.red()) + 0.7152 * linear(colour.green()) + 0.0722 * linear(colour.blue())


def contrast(a: QColor, b: QColor) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def colours(image: QImage, rect: QRect) -> Counter:
    return Counter(image.pixel(x, y) for y in range(rect.top(), rect.bottom() + 1)
                   for x in range(rect.left(), rect.right() + 1))


def best_contrast(image: QImage, rect: QRect, background: QColor) -> float:
    """The contrast of the pixel in ``rect`` that stands out most from ``background`` (the arrow, the frame)."""
    return max(contrast(QColor.fromRgb(pixel), background) for pixel in colours(image, rect))


@pytest.fixture
def themed(qtbot):
    from ui.app import theme_stylesheet

    host = QWidget()
    host.setStyleSheet(theme_stylesheet())
    layout = QHBoxLayout(host)
    widgets = [QSpinBox(), QDoubleSpinBox(), QCheckBox("auto"), QCheckBox("on")]
    widgets[0].setValue(50)
    widgets[1].setValue(0.5)  # both arrows can step (none is drawn as "off")
    widgets[3].setChecked(True)
    for widget in widgets:
        layout.addWidget(widget)
    qtbot.addWidget(host)
    host.resize(420, 60)
    host.show()
    qtbot.waitExposed(host)
    return host, widgets


def _grab(widget: QWidget) -> QImage:
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def test_spin_box_arrows_stand_out_from_their_buttons(themed):
    _host, widgets = themed
    for spin in widgets[:2]:
        image, option = _grab(spin), QStyleOptionSpinBox()
        spin.initStyleOption(option)
        for part in (QStyle.SubControl.SC_SpinBoxUp, QStyle.SubControl.SC_SpinBoxDown):
            rect = spin.style().subControlRect(QStyle.ComplexControl.CC_SpinBox, option, part, spin)
            assert rect.width() >= 8 and rect.height() >= 6, f"{part}: a button too small to click ({rect})"
            button = QColor.fromRgb(colours(image, rect).most_common(1)[0][0])  # the button's own fill
            assert best_contrast(image, rect, button) >= LEAST_CONTRAST, f"{type(spin).__name__} {part}"


def test_check_box_frames_stand_out_unchecked_and_checked(themed):
    _host, widgets = themed
    for box in widgets[2:]:
        image, option = _grab(box), QStyleOptionButton()
        box.initStyleOption(option)
        rect = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
        # behind the indicator: the row between the indicator and its label
        behind = QColor.fromRgb(image.pixel(rect.right() + 2, rect.center().y()))
        assert best_contrast(image, rect, behind) >= LEAST_CONTRAST, f"check box {box.text()!r} ({box.isChecked()})"
    checked = _grab(widgets[3])
    unchecked = _grab(widgets[2])
    option = QStyleOptionButton()
    widgets[3].initStyleOption(option)
    rect = widgets[3].style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, widgets[3])
    # checked and unchecked look different inside the frame (a tick on a filled box)
    assert colours(checked, rect.adjusted(3, 3, -3, -3)) != colours(unchecked, rect.adjusted(3, 3, -3, -3))
