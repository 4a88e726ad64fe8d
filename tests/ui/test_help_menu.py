"""Help: the guide, the shortcuts (F1) and About with the versions and the licences."""

from __future__ import annotations

import imageio_ffmpeg
from PySide6.QtCore import qVersion
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox

from studio import __version__


def test_help_menu_guide_shortcuts_and_about(window, monkeypatch):
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert "Help" in menus
    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda _parent, title, text: shown.append(text))
    monkeypatch.setattr(QMessageBox, "information", lambda _parent, title, text: shown.append(text))
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: shown.append(url.toLocalFile()) or True)
    window.about_action.trigger()
    about = shown.pop()
    for version in (__version__, qVersion(), imageio_ffmpeg.get_ffmpeg_version()):
        assert version in about
    assert "torch" in about and "diffusers" in about and "Apache-2.0" in about and "antelopev2" in about
    assert window.shortcuts_action.shortcut().toString() == "F1"
    window.shortcuts_action.trigger()
    keys = shown.pop()
    assert "Space" in keys and "Play / pause" in keys and "Ctrl+R" in keys
    window.guide_action.trigger()
    assert shown.pop().endswith("README.md")
