"""The studio's main window (placeholder until the studio window lands)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("StableAnimator Studio")
        self.setCentralWidget(QLabel("StableAnimator Studio"))
        self.resize(1280, 800)
