"""Reference panel: open or drop a photo; the detected face box (and body) is drawn over it."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui import core
from ui.frame_view import FrameView
from ui.workers import TaskRunner

logger = logging.getLogger(__name__)

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)"


class ReferencePanel(QWidget):
    #: (path, RGB image) once a photo is loaded
    reference_loaded = Signal(str, object)
    #: (face box or None, PoseFrame or None) in the photo's pixels
    reference_analyzed = Signal(object, object)
    failed = Signal(str)

    def __init__(self, runner: TaskRunner, analyse, parent: QWidget | None = None) -> None:
        """``analyse(image, models_dir)`` → (face box, pose): the studio's reference analysis."""
        super().__init__(parent)
        self.runner = runner
        self._analyse = analyse
        self.path: str | None = None
        self.image: np.ndarray | None = None
        self.face_box = None
        self.pose = None
        self.models_dir: str | None = None
        self.view = FrameView("Drop a photo here or press Ctrl+O", accept_drops=True)
        self.view.files_dropped.connect(lambda paths: self.load(paths[0]))
        self.open_button = QPushButton("Open…")
        self.open_button.setToolTip("Open the reference photo (Ctrl+O). You can also drop it on the picture.")
        self.open_button.clicked.connect(self.choose)
        self.status = QLabel("No photo loaded.")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Photo</b>"))
        top.addStretch(1)
        top.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)

    def choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open reference photo", "", IMAGE_FILTER)
        if path:
            self.load(path)

    def load(self, path: str) -> None:
        try:
            image = core.load_image(path)
        except Exception as exc:  # noqa: BLE001 - shown to the person, who picks another file
            self.status.setText(f"<span style='color:#ff7b72'>{exc}</span>")
            self.failed.emit(str(exc))
            return
        self.path, self.image, self.face_box, self.pose = str(path), image, None, None
        self.view.set_frame(image)
        self.view.set_face_box(None)
        self.view.set_pose(None)
        h, w = image.shape[:2]
        self.status.setText(f"{Path(path).name} — {w}×{h}. Looking for the face…")
        logger.info("reference photo %s (%dx%d)", path, w, h)
        self.reference_loaded.emit(self.path, image)
        self._analyze(image)

    def _analyze(self, image: np.ndarray) -> None:
        models = self.models_dir

        def work(_report, _preview, cancel):
            return self._analyse(image, models)

        task = self.runner.start("face detection", work)
        task.succeeded.connect(lambda result, img=image: self._analyzed(img, result))
        task.failed.connect(self._analysis_failed)

    def _analyzed(self, image: np.ndarray, result) -> None:
        if image is not self.image:
            return  # a newer photo was loaded meanwhile
        self.face_box, self.pose = result
        self.view.set_face_box(self.face_box)
        self.view.set_pose(self.pose)
        name = Path(self.path or "").name
        face = "face found" if self.face_box is not None else "no face found (the render will use no identity)"
        body = "body found" if self.pose is not None and self.pose.has_person else "no body found"
        self.status.setText(f"{name}: {face}; {body}.")
        self.reference_analyzed.emit(self.face_box, self.pose)

    def _analysis_failed(self, message: str) -> None:
        self.status.setText(f"<span style='color:#ffb86b'>Face detection is not available: {message}</span>")
        logger.warning("reference analysis: %s", message)
