"""Builds the QApplication and the main window.

Options: ``--project FILE`` opens a project, ``--samples`` loads the bundled sample photo and motion,
``--quit-after MS`` closes the window that many milliseconds after it is shown (the startup smoke test).
"""

from __future__ import annotations

import argparse
import logging

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from ui.main_window import ASSETS, MainWindow


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="main.py", description="StableAnimator Studio")
    parser.add_argument("--project", help="open this project file (.sastudio.json)")
    parser.add_argument("--samples", action="store_true", help="load the bundled sample photo and motion")
    parser.add_argument("--models", help="the weights folder (official StableAnimator layout)")
    parser.add_argument("--quit-after", type=int, metavar="MS", help="close the window MS ms after it is shown")
    return parser.parse_args(argv)


def apply_theme(app: QApplication) -> None:
    qss = ASSETS / "theme.qss"
    if qss.is_file():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))
    icon = ASSETS / "icons" / "app.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))


def run(argv: list[str]) -> int:
    args = parse_args(argv[1:])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("StableAnimator Studio")
    app.setOrganizationName("StableAnimatorStudio")
    apply_theme(app)
    window = MainWindow()
    if args.models:
        window.set_models_dir(args.models)
    if args.project:
        window.open_project(args.project)
    elif args.samples:
        window.open_samples()
    window.show()
    if args.quit_after is not None:
        QTimer.singleShot(max(0, args.quit_after), window.close)
    code = app.exec()
    window.shutdown()
    return code
