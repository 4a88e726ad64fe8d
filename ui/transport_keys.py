"""The keys a video editor has: Space play/pause, Left/Right one frame, Shift+Left/Right one second, Home/End,
J/K/L (backwards / pause / forwards). They act on the player in use: the result's when it shows frames, else the
driving video's. Window shortcuts: a focused button never takes Space (a text field or number box still does,
Qt gives an editor its own keys first)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from ui.player_bar import PlayerBar

#: (text, key, what it does to a PlayerBar)
TRANSPORT_KEYS = (
    ("Play / pause", "Space", PlayerBar.toggle),
    ("Previous frame", "Left", lambda p: p.step(-1)),
    ("Next frame", "Right", lambda p: p.step(1)),
    ("Back one second", "Shift+Left", lambda p: p.step_seconds(-1)),
    ("Forward one second", "Shift+Right", lambda p: p.step_seconds(1)),
    ("First frame", "Home", lambda p: p.go_to_end(False)),
    ("Last frame", "End", lambda p: p.go_to_end(True)),
    ("Play backwards", "J", lambda p: p.play(-1)),
    ("Pause", "K", PlayerBar.stop),
    ("Play forwards", "L", lambda p: p.play(1)),
)


def active_player(window) -> PlayerBar:
    result = window.result_panel
    return result.player if result.frames else window.motion_panel.player


def add_transport_actions(window, menu) -> list[QAction]:
    actions = []
    for text, key, act in TRANSPORT_KEYS:
        action = QAction(text, window)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda _checked=False, f=act: f(active_player(window)))
        window.addAction(action)
        menu.addAction(action)
        actions.append(action)
    return actions
