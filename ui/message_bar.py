"""The message area under the toolbar: what to do next (no photo, no weights) and errors, in full
sentences where the person looks, with buttons for the next step. The status bar only carries short,
passing notes."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

LEVELS = ("info", "warning", "error")


class MessageBar(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("message_bar")
        self.level = "info"
        self._shown: tuple = ()
        self.label = QLabel()
        self.label.setObjectName("message_text")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss this message")
        self.close_button.clicked.connect(self.dismiss)
        self._buttons: list[QPushButton] = []
        # the text gets the whole width and the buttons a row of their own: side by side, on a laptop screen
        # the buttons squeezed the text into a tall column and were cut themselves
        text_row = QHBoxLayout()
        text_row.addWidget(self.label, 1)
        text_row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self._button_row = QHBoxLayout()
        self._button_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(text_row)
        layout.addLayout(self._button_row)
        self.hide()

    def show_message(self, text: str, level: str = "info",
                     actions: tuple[tuple[str, Callable[[], object]], ...] = ()) -> None:
        """Show ``text`` (replacing the previous message) with a button per (label, callback) action."""
        assert level in LEVELS
        shown = (text, level, tuple(label for label, _ in actions))
        if self.isVisible() and shown == self._shown:
            return  # the same message again (the window refreshes often): keep the buttons as they are
        self._shown = shown
        self.level = level
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
        prefix = {"info": "", "warning": "⚠ ", "error": "⚠ Error: "}[level]
        self.label.setText(prefix + text)
        for button in self._buttons:
            self._button_row.removeWidget(button)
            button.deleteLater()
        self._buttons = []
        for index, (label, callback) in enumerate(actions):
            button = QPushButton(label)
            button.clicked.connect(lambda _checked=False, f=callback: f())
            self._button_row.insertWidget(index, button)
            self._buttons.append(button)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def buttons(self) -> list[QPushButton]:
        return list(self._buttons)

    def dismiss(self) -> None:
        self.hide()
