"""Model-folder setup: choose the weights folder, see the doctor's findings, download the official weights."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.render.model_folder import check_models, download_models
from studio.system.progress import Progress
from ui.workers import Task, TaskRunner

logger = logging.getLogger(__name__)

HOW_TO = ("Real output needs the official StableAnimator weights (repo FrancisRing/StableAnimator on the "
          "Hugging Face hub: folders SVD/ and Animation/, optional DWPose/ and models/antelopev2/). Press "
          "Download, or run `python -m studio download --models DIR`, or copy those folders here by hand. "
          "Without weights, the motion tools and the warp engine's instant preview still work.")


def check_lines(folder: str) -> tuple[bool, list[str]]:
    """(usable, the doctor's lines) for a weights folder."""
    try:
        report = check_models(folder)
    except Exception as exc:  # noqa: BLE001 - e.g. the folder does not exist
        return False, [str(exc)]
    return bool(report.ok), list(report.lines())


class ModelsDialog(QDialog):
    """Built from the current folder; ``folder`` holds the chosen one after Accept."""

    def __init__(self, runner: TaskRunner, folder: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model weights")
        self.runner = runner
        self.folder = folder or ""
        self.download_task: Task | None = None
        self.path_edit = QLineEdit(self.folder)
        self.path_edit.setPlaceholderText("the folder holding SVD/ and Animation/ (or its parent)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("List what is missing or broken in this folder (studio doctor).")
        self.check_button.clicked.connect(self.check)
        self.download_button = QPushButton("Download")
        self.download_button.setToolTip("Fetch the official weights into this folder (needs internet).")
        self.download_button.clicked.connect(self.download)
        self.findings = QPlainTextEdit()
        self.findings.setReadOnly(True)
        intro = QLabel(HOW_TO)
        intro.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        row.addWidget(self.check_button)
        row.addWidget(self.download_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.findings, 1)
        layout.addWidget(buttons)
        self.resize(720, 420)
        if self.folder:
            self.check()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Weights folder", self.path_edit.text())
        if folder:
            self.path_edit.setText(folder)
            self.check()

    def check(self) -> bool:
        folder = self.path_edit.text().strip()
        if not folder:
            self.findings.setPlainText("Choose a folder first.")
            return False
        ok, lines = check_lines(folder)
        self.findings.setPlainText("\n".join(lines))
        return ok

    def download(self) -> Task | None:
        folder = self.path_edit.text().strip()
        if not folder:
            self.findings.setPlainText("Choose the folder to download into first.")
            return None

        def work(report, _preview, cancel):
            return download_models(folder, progress=lambda text: report(Progress("load", 0, 0, text)))

        self.findings.appendPlainText("Downloading…")
        task = self.runner.start("download weights", work)
        task.progressed.connect(lambda p: self.findings.appendPlainText(p.message))
        task.failed.connect(lambda m: self.findings.appendPlainText(f"Download failed: {m}"))
        task.succeeded.connect(lambda _r: self.check())
        self.download_task = task
        return task

    def _accept(self) -> None:
        self.folder = self.path_edit.text().strip()
        self.accept()
