"""Alignment view: the aligned skeleton over the photo as the model will see it, the method choice
(global / bones / none) and a nudge for offset and scale. 'Instant preview' shows warp-engine frames,
labelled as such, and refreshes itself shortly after the nudge or the trim changes."""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui import core
from ui.frame_view import FrameView

logger = logging.getLogger(__name__)

INSTANT_CAPTION = "Instant preview — warp engine (moves the photo; not the model's output)"


class AlignmentView(QWidget):
    alignment_changed = Signal()  # method or nudge edited by the person
    instant_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reference_out: np.ndarray | None = None
        self.matrix: np.ndarray | None = None
        self.reference_pose_out = None
        self.motion: core.Motion | None = None
        self.aligned: list = []
        self.out_size = (512, 512)
        self.fit = "crop"
        self.instant_frames: list[np.ndarray] = []
        self.view = FrameView("Load a photo and extract the motion to see the alignment.")
        self.method = QComboBox()
        self.method.addItems(list(core.ALIGN_METHODS))
        self.method.setCurrentText("bones")
        self.method.setToolTip("global: one scale and offset fitted to the whole body (the original's method). "
                               "bones: each limb rescaled to the photo's proportions. none: the raw motion.")
        self.offset_x = self._spin(-0.5, 0.5, 0.01, "Move the skeleton left/right (fraction of the width).")
        self.offset_y = self._spin(-0.5, 0.5, 0.01, "Move the skeleton up/down (fraction of the height).")
        self.scale = self._spin(0.25, 4.0, 0.02, "Scale the skeleton about its centre.")
        self.scale.setValue(1.0)
        self.method.currentTextChanged.connect(lambda _t: self._edited())
        for spin in (self.offset_x, self.offset_y, self.scale):
            spin.valueChanged.connect(lambda _v: self._edited())
        self.instant_button = QPushButton("Instant preview")
        self.instant_button.setToolTip("Animate the photo along the aligned skeleton with the warp engine "
                                       "(seconds on a CPU, no weights). This is not the model's output.")
        self.instant_button.clicked.connect(self.instant_requested)
        self.auto_instant = QCheckBox("auto")
        self.auto_instant.setToolTip("Refresh the instant preview whenever the nudge or the trim changes.")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self._auto_instant)

        grid = QGridLayout()
        grid.addWidget(QLabel("Method"), 0, 0)
        grid.addWidget(self.method, 0, 1)
        grid.addWidget(QLabel("Offset x"), 0, 2)
        grid.addWidget(self.offset_x, 0, 3)
        grid.addWidget(QLabel("Offset y"), 1, 2)
        grid.addWidget(self.offset_y, 1, 3)
        grid.addWidget(QLabel("Scale"), 1, 0)
        grid.addWidget(self.scale, 1, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.instant_button)
        buttons.addWidget(self.auto_instant)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(QLabel("<b>Alignment</b>"))
        layout.addWidget(self.view, 1)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addWidget(self.status)

    @staticmethod
    def _spin(low: float, high: float, step: float, tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setSingleStep(step)
        spin.setDecimals(3)
        spin.setToolTip(tip)
        spin.setKeyboardTracking(False)
        return spin

    # state from the window -------------------------------------------------------------------------
    def values(self) -> tuple[str, float, float, float]:
        return self.method.currentText(), self.offset_x.value(), self.offset_y.value(), self.scale.value()

    def set_values(self, method: str, offset_x: float, offset_y: float, scale: float) -> None:
        widgets = (self.method, self.offset_x, self.offset_y, self.scale)
        for w in widgets:
            w.blockSignals(True)
        self.method.setCurrentText(method)
        self.offset_x.setValue(offset_x)
        self.offset_y.setValue(offset_y)
        self.scale.setValue(scale)
        for w in widgets:
            w.blockSignals(False)
        self.realign()

    def set_reference(self, image: np.ndarray | None, pose=None, out_size: tuple[int, int] | None = None,
                      fit: str | None = None) -> None:
        """Show the photo framed exactly as the render will frame it (same size and crop/pad ``fit``)."""
        if out_size:
            self.out_size = out_size
        if fit:
            self.fit = fit
        if image is None:
            self.reference_out = self.matrix = None
        else:
            self.reference_out, self.matrix = core.fit_to_size(image, *self.out_size, mode=self.fit)
        self.reference_pose_out = None
        if pose is not None and self.matrix is not None:
            self.reference_pose_out = core.transform_pose(pose, self.matrix)
        self.instant_frames = []
        self.view.set_caption("")
        self.view.set_frame(self.reference_out)
        self.realign()

    def set_motion(self, motion: core.Motion | None) -> None:
        self.motion = motion
        self.realign()

    def realign(self) -> None:
        """Recompute the aligned skeleton (cheap: keypoint maths only, on the GUI thread)."""
        self.aligned = []
        if self.motion is not None and self.reference_out is not None:
            method, ox, oy, scale = self.values()
            try:
                self.aligned = core.align(self.motion, self.reference_out, method, ox, oy, scale)
                self.status.setText(f"{len(self.aligned)} frames aligned ({method}).")
            except Exception as exc:  # noqa: BLE001 - an alignment failure is shown, not fatal
                self.status.setText(f"Alignment failed: {exc}")
                logger.warning("alignment: %s", exc)
        self.show_index(0)

    def show_index(self, index: int) -> None:
        if self.instant_frames:
            frame = self.instant_frames[index % len(self.instant_frames)]
            self.view.set_frame(frame)
            self.view.set_caption(INSTANT_CAPTION)
        else:
            self.view.set_frame(self.reference_out)
            self.view.set_caption("")
        pose = self.aligned[index % len(self.aligned)] if self.aligned else None
        self.view.set_pose(pose, self.out_size if pose is not None else None)

    def show_source_frame(self, source_index: int) -> None:
        """Follow the motion player: show the aligned pose of that source frame."""
        if self.motion and source_index in self.motion.indices:
            self.show_index(self.motion.indices.index(source_index))

    def set_instant_frames(self, frames: list[np.ndarray]) -> None:
        self.instant_frames = list(frames)
        self.show_index(0)

    # edits -----------------------------------------------------------------------------------------
    def _edited(self) -> None:
        self.realign()
        self.alignment_changed.emit()
        self.schedule_instant()

    def schedule_instant(self) -> None:
        if self.auto_instant.isChecked():
            self._debounce.start()

    def _auto_instant(self) -> None:
        self.instant_requested.emit()
