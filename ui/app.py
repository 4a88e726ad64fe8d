"""Builds the QApplication and the main window."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from ui.main_window import MainWindow


def run(argv: list[str]) -> int:
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("StableAnimator Studio")
    app.setOrganizationName("StableAnimatorStudio")
    window = MainWindow()
    window.show()
    return app.exec()
