"""Alignment view: the aligned skeleton over the photo as the model will see it, the method choice
(global / bones / none) and a nudge for offset and scale. 'Instant preview' shows warp-engine frames,
labelled as such, and refreshes itself shortly after the nudge or the trim changes."""

from __future__ import annotations

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

from studio.project import Change, Project
from studio.request.render_request import RenderRequest
from studio.request.schema import setting_by_path
from ui.frame_view import FrameView

INSTANT_CAPTION = "Instant preview — warp engine (moves the photo; not the model's output)"


#: Editor → request path (``studio.request.settings.AlignmentOptions`` fields inside ``request.alignment``); each editor's
#: choices, range and tooltip are the declaration's own.
_FIELDS = ("alignment.mode", "alignment.offset_x", "alignment.offset_y", "alignment.scale")
_DECLARED = setting_by_path(RenderRequest)


class AlignmentView(QWidget):
    """Shows ``project.prepared`` (fitted photo, aligned poses) and edits ``project.request.alignment``."""

    instant_requested = Signal()

    def __init__(self, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.instant_frames: list[np.ndarray] = []
        self._updating = False
        self.view = FrameView("Load a photo and extract the motion to see the alignment.")
        self.method = self._combo("alignment.mode")
        self.offset_x = self._spin("alignment.offset_x")
        self.offset_x.setPrefix("x ")
        self.offset_y = self._spin("alignment.offset_y")
        self.offset_y.setPrefix("y ")
        self.scale = self._spin("alignment.scale")
        self.face = self._combo("alignment.face")
        self.fit_button = QPushButton()
        self.fit_button.setCheckable(True)
        self.fit_button.setToolTip("Fit the skeleton on the frame shown on the timeline (choose one where the "
                                   "whole person faces the camera); unchecked, the aligner picks the best frame.")
        self.method.currentTextChanged.connect(lambda t: self._edited("alignment.mode", t))
        self.face.currentTextChanged.connect(lambda t: self._edited("alignment.face", t))
        self.fit_button.clicked.connect(self.project.fit_on_selection)
        for path, spin in zip(_FIELDS[1:], (self.offset_x, self.offset_y, self.scale), strict=True):
            spin.valueChanged.connect(lambda v, p=path: self._edited(p, round(v, 3)))
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
        grid.setHorizontalSpacing(4)
        grid.addWidget(QLabel("Method"), 0, 0)
        grid.addWidget(self.method, 0, 1)
        grid.addWidget(QLabel("Scale"), 0, 2)
        grid.addWidget(self.scale, 0, 3)
        grid.addWidget(QLabel("Offset"), 1, 0)
        grid.addWidget(self.offset_x, 1, 1)
        grid.addWidget(self.offset_y, 1, 3)
        grid.addWidget(QLabel("Face"), 2, 0)
        grid.addWidget(self.face, 2, 1)
        grid.addWidget(self.fit_button, 2, 2, 1, 2)
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
        project.subscribe(self._project_changed)
        self._show_values()

    @staticmethod
    def _combo(path: str) -> QComboBox:
        declared = _DECLARED[path]
        combo = QComboBox()
        combo.addItems(list(declared.choices))
        combo.setToolTip(declared.help)
        return combo

    @staticmethod
    def _spin(path: str) -> QDoubleSpinBox:
        declared = _DECLARED[path]
        spin = QDoubleSpinBox()
        spin.setRange(float(declared.minimum or 0), float(declared.maximum or 0))
        spin.setSingleStep(declared.step)
        spin.setDecimals(declared.decimals)
        spin.setToolTip(declared.help)
        spin.setKeyboardTracking(False)
        return spin

    # the project's prepared results ------------------------------------------------------------------
    @property
    def aligned(self) -> list:
        return self.project.prepared.aligned

    @property
    def reference_out(self) -> np.ndarray | None:
        return self.project.prepared.fitted

    @property
    def out_size(self) -> tuple[int, int]:
        return self.project.request.width, self.project.request.height

    @property
    def fit(self) -> str:
        return self.project.request.fit

    def values(self) -> tuple[str, float, float, float]:
        return tuple(self.project.get(p) for p in _FIELDS)  # type: ignore[return-value]

    def _project_changed(self, change: Change) -> None:
        if change.touches("alignment", "selection"):
            self._show_values()
        if change.touches("prepared", "alignment", "width", "height", "fit"):
            if change.touches("prepared", "width", "height", "fit"):
                self.instant_frames = []
            self._show_prepared()
        if change.touches("alignment", "start", "end", "stride"):
            self.schedule_instant()

    def _show_values(self) -> None:
        self._updating = True
        try:
            mode, ox, oy, scale = self.values()
            self.method.setCurrentText(str(mode))
            self.offset_x.setValue(float(ox))
            self.offset_y.setValue(float(oy))
            self.scale.setValue(float(scale))
            self.face.setCurrentText(str(self.project.get("alignment.face")))
            fit_frame = self.project.get("alignment.fit_frame")
            self.fit_button.setChecked(fit_frame is not None)
            self.fit_button.setText(f"Fitted on frame {fit_frame}" if fit_frame is not None
                                    else f"Fit on frame {self.project.selection or 0}")
        finally:
            self._updating = False

    def _show_prepared(self) -> None:
        prepared = self.project.prepared
        if prepared.align_error:
            self.status.setText(f"Alignment failed: {prepared.align_error}")
        elif prepared.aligned:
            self.status.setText(f"{len(prepared.aligned)} frames aligned ({self.values()[0]}).")
        else:
            self.status.setText("")
        self.show_index(0)

    def show_index(self, index: int) -> None:
        if self.instant_frames:
            self.view.set_frame(self.instant_frames[index % len(self.instant_frames)])
            self.view.set_caption(INSTANT_CAPTION)
        else:
            self.view.set_frame(self.reference_out)
            self.view.set_caption("")
        pose = self.aligned[index % len(self.aligned)] if self.aligned else None
        self.view.set_pose(pose, self.out_size if pose is not None else None)

    def show_source_frame(self, source_index: int) -> None:
        """Follow the motion player: show the aligned pose of that source frame."""
        clip = self.project.prepared.clip
        if clip and source_index in clip.indices:
            position = clip.indices.index(source_index)
            self.project.select(position)
            self.show_index(position)

    def set_instant_frames(self, frames: list[np.ndarray]) -> None:
        self.instant_frames = list(frames)
        self.show_index(0)

    # edits -----------------------------------------------------------------------------------------
    def _edited(self, path: str, value) -> None:
        if not self._updating:
            self.project.set({path: value}, text="Change alignment")

    def schedule_instant(self) -> None:
        if self.auto_instant.isChecked():
            self._debounce.start()

    def _auto_instant(self) -> None:
        self.instant_requested.emit()
