"""Undoable parameter edits (QUndoStack): one command per change, consecutive drags of one slider merge."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QUndoCommand

_MERGE_ID = 4242
#: Edits of the same setting closer together than this (a slider drag) become one undo step.
MERGE_WINDOW_S = 0.8


class SetParameters(QUndoCommand):
    """Set one or more parameters; ``apply(values)`` pushes values into the model and the widgets."""

    def __init__(self, apply: Callable[[dict[str, Any]], None], before: dict[str, Any], after: dict[str, Any],
                 text: str, mergeable: bool = True) -> None:
        super().__init__(text)
        self._apply = apply
        self.before = dict(before)
        self.after = dict(after)
        self._mergeable = mergeable and len(after) == 1
        self._stamp = time.monotonic()

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)

    def id(self) -> int:
        return _MERGE_ID if self._mergeable else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt API
        if not isinstance(other, SetParameters) or other.after.keys() != self.after.keys():
            return False
        if other._stamp - self._stamp > MERGE_WINDOW_S:
            return False
        self.after = dict(other.after)
        self._stamp = other._stamp
        return True
