"""The log panel: studio and window log records, forwarded to the GUI thread by a signal."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget


class _Bridge(QObject):
    record = Signal(str)


class QtLogHandler(logging.Handler):
    """A logging handler safe to call from any thread (the signal is queued to the panel's thread)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.bridge = _Bridge()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.bridge.record.emit(self.format(record))
        except RuntimeError:  # the panel is gone (window closing)
            pass


class LogPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(5000)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.view)
        self.handler = QtLogHandler()
        self.handler.bridge.record.connect(self.append)
        for name in ("studio", "ui"):
            logging.getLogger(name).addHandler(self.handler)
            if logging.getLogger(name).level == logging.NOTSET:
                logging.getLogger(name).setLevel(logging.INFO)

    def append(self, line: str) -> None:
        self.view.appendPlainText(line)

    def text(self) -> str:
        return self.view.toPlainText()

    def detach(self) -> None:
        for name in ("studio", "ui"):
            logging.getLogger(name).removeHandler(self.handler)
