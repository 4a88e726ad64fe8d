"""Where renders go: the Output folder row of the Settings dock (path, Browse…, Open), bound to the project's
``output_dir`` (saved with the project, used by Render and the queue). Unset, renders go to the default output
folder of the preferences, else the project's folder when the project is saved, else the person's Videos folder
(the order is the studio's: ``studio.preferences.Preferences.output_folder_for``)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QStandardPaths, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from studio.preferences import Preferences
from studio.project import Change, Project

#: Overrides the Videos folder as the default (the tests: they never write into a person's Videos folder).
OUTPUT_ENV = "STUDIO_OUTPUT_DIR"


def videos_folder() -> Path:
    if os.environ.get(OUTPUT_ENV):
        return Path(os.environ[OUTPUT_ENV])
    movies = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
    return Path(movies or Path.home()) / "StableAnimator Studio"


class OutputFolderRow(QWidget):
    def __init__(self, project: Project, project_path=lambda: None, preferences=Preferences,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self._project_path = project_path
        self._preferences = preferences
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("output_folder")
        self.path_edit.setToolTip("The folder new renders are written to (saved with the project).")
        self.path_edit.editingFinished.connect(self._typed)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setToolTip("Choose the folder new renders are written to.")
        self.browse_button.clicked.connect(self.browse)
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Show the output folder in the file manager.")
        self.open_button.clicked.connect(self.open_folder)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("<b>Output folder</b>"), 1)
        buttons.addWidget(self.browse_button)
        buttons.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.path_edit)
        project.subscribe(self._changed)
        self.refresh()

    def folder(self) -> Path:
        """Where the next render goes."""
        return self._preferences().output_folder_for(self.project.output_dir, self._project_path(), videos_folder())

    def refresh(self) -> None:
        self.path_edit.setText(str(self.folder()))

    def _changed(self, change: Change) -> None:
        if change.touches("output_dir"):
            self.refresh()

    def _typed(self) -> None:
        text = self.path_edit.text().strip()
        if text and Path(text) != self.folder():
            self.project.set(output_dir=text, text="Change the output folder")

    def browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", str(self.folder()))
        if folder:
            self.project.set(output_dir=folder, text="Change the output folder")

    def open_folder(self) -> bool:
        folder = self.folder()
        folder.mkdir(parents=True, exist_ok=True)
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
