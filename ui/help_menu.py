"""The Help menu: the guide (the README), the keyboard shortcuts (F1) and About (the versions of the studio and the
libraries it renders with, and the licences of the code and of each weight set)."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from PySide6.QtCore import QUrl, qVersion
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import QMessageBox

from studio import __version__

REPO = Path(__file__).resolve().parents[1]
GUIDE, LICENSES = REPO / "README.md", REPO / "MODEL_LICENSES.md"
ONLINE = "https://github.com/Francis-Rings/StableAnimator"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def ffmpeg_version() -> str:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_version()
    except Exception as exc:  # noqa: BLE001 - About still opens
        return f"unavailable ({exc})"


def about_text() -> str:
    rows = [("StableAnimator Studio", __version__), ("torch", _version("torch")),
            ("diffusers", _version("diffusers")), ("Qt", qVersion()), ("PySide6", _version("PySide6")),
            ("ffmpeg", ffmpeg_version())]
    versions = "".join(f"<tr><td>{name}</td><td>{version}</td></tr>" for name, version in rows)
    return (f"<h3>StableAnimator Studio {__version__}</h3><table>{versions}</table>"
            "<p>The studio's code: Apache-2.0 (LICENSE). The weights are not part of it; each set has its own "
            "licence: Stable Video Diffusion (Stability AI Community License), StableAnimator (fine-tuned from SVD; "
            "treat as research-only), insightface antelopev2 (non-commercial research only), DWPose (see its model "
            "card), mediapipe (Apache-2.0), dlib face models (public domain). Details: "
            f"<a href='{QUrl.fromLocalFile(str(LICENSES)).toString()}'>MODEL_LICENSES.md</a>.</p>")


def shortcuts_text(window) -> str:
    rows = [(a.text().replace("&", ""), a.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
            for a in window.actions() if not a.shortcut().isEmpty()]
    return "<table>" + "".join(f"<tr><td>{key}</td><td>{text}</td></tr>" for text, key in rows) + "</table>"


def build_help_menu(window) -> None:
    menu = window.menuBar().addMenu("&Help")
    window.guide_action = window._action("&Guide", lambda: open_guide(window), None,
                                         "The README: from a photo and a video to an exported clip")
    window.shortcuts_action = window._action(
        "&Keyboard shortcuts", lambda: QMessageBox.information(window, "Keyboard shortcuts", shortcuts_text(window)),
        QKeySequence.StandardKey.HelpContents)
    window.about_action = window._action("&About StableAnimator Studio",
                                         lambda: QMessageBox.about(window, "About", about_text()))
    for action in (window.guide_action, window.shortcuts_action, window.about_action):
        menu.addAction(action)


def open_guide(window) -> bool:
    target = QUrl.fromLocalFile(str(GUIDE)) if GUIDE.is_file() else QUrl(ONLINE)
    return QDesktopServices.openUrl(target)
