"""Builds the QApplication and the main window.

Options: ``--project FILE`` opens a project, ``--samples`` loads the bundled sample photo and motion,
``--quit-after MS`` closes the window that many milliseconds after it is shown (the startup smoke test).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from studio import __version__
from studio.preferences import Preferences, use_preferred_data_folder
from studio.system.assets import ICON, THEME, asset_path
from studio.system.logs import LOG_LEVELS, native_stderr_to_file, setup_logging
from ui.main_window import MainWindow
from ui.settings_store import SettingsStore

log = logging.getLogger(__name__)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=_program_name(), description="StableAnimator Studio (the window)")
    parser.add_argument("--project", help="open this project file (.sastudio.json)")
    parser.add_argument("--samples", action="store_true", help="load the bundled sample photo and motion")
    parser.add_argument("--models", help="the weights folder (official StableAnimator layout)")
    parser.add_argument("--quit-after", type=int, metavar="MS", help="close the window MS ms after it is shown")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log to the terminal too (-v: info, -vv: debug); the log file is always kept")
    parser.add_argument("--log-level", choices=LOG_LEVELS, help="terminal and log-file level (overrides -v)")
    return parser.parse_args(argv)


def _program_name() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return name.removesuffix(".exe") if name.startswith("stableanimator") else "main.py"


def theme_stylesheet() -> str:
    """The theme with its ``@ICONS`` placeholder made the icons folder's path (a stylesheet's relative ``url()``
    would be resolved against the working directory, not the theme's folder)."""
    icons = asset_path(ICON).parent.as_posix()
    return asset_path(THEME).read_text(encoding="utf-8").replace("@ICONS", icons)


def apply_theme(app: QApplication) -> None:
    theme, icon = asset_path(THEME), asset_path(ICON)
    app.setStyleSheet(theme_stylesheet())
    app.setWindowIcon(QIcon(str(icon)))
    log.info("theme %s and icon %s applied", theme, icon)


def run(argv: list[str]) -> int:
    args = parse_args(argv[1:])
    # the preferred data folder before the log opens in it (the window checks it again and says when it is unusable)
    use_preferred_data_folder(Preferences.from_dict(SettingsStore().preferences()))
    if not (args.verbose or args.log_level):
        native_stderr_to_file()  # mediapipe's and Qt's native chatter goes to the log folder
    setup_logging(args.verbose, args.log_level)
    log.info("StableAnimator Studio %s window (Python %s on %s): %s", __version__, sys.version.split()[0],
             sys.platform, " ".join(argv[1:]))
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("StableAnimator Studio")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("StableAnimatorStudio")
    apply_theme(app)
    window = MainWindow()
    if args.models:
        window.set_models_dir(args.models)
    if args.project:
        window.open_project(args.project)
    elif args.samples:
        window.open_samples()
    window.present()
    if args.quit_after is not None:
        QTimer.singleShot(max(0, args.quit_after), window.close_without_asking)
    code = app.exec()
    window.shutdown()
    return code


def main() -> int:
    """The ``stableanimator-studio-window`` entry point (a gui script: no console window on Windows)."""
    return run(sys.argv)
