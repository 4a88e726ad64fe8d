"""Ctrl+Z (and redo) right after typing in any field of the window: the field commits what was typed first, then
the window's Undo runs. Without this a line edit takes Ctrl+Z for its own text undo: the typed value was neither
kept nor undone, and the project's history never saw it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit, QWidget


class CommitBeforeUndo(QObject):
    """An application event filter for one window (fields in other windows, e.g. a file dialog, keep theirs)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() != QEvent.Type.ShortcutOverride or not isinstance(event, QKeyEvent):
            return False
        if not (event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo)):
            return False
        if not isinstance(obj, QLineEdit) or obj.window() is not self.window:
            return False
        spin = obj.parent()
        if isinstance(spin, QAbstractSpinBox):
            spin.interpretText()
        elif obj.isModified():
            obj.setModified(False)
            obj.editingFinished.emit()  # what Enter or leaving the field does: the panel commits the text
        event.ignore()
        return True  # not accepted: the window's Undo/Redo shortcut gets the key
