"""One way for a panel to show project fields and write its edits back (``studio.project.Project`` holds them).

A panel that is not a parameter editor (the motion panel's trim, the reference panel's weights folder, the clip
limit the extraction uses) used to keep its own copy, synced by hand wherever the window remembered to. A
``Binding`` does it in one place: every project change that touches its paths (an edit, an undo, an opened
project) is shown, and the widget's edit signal writes the values back as one undo step. Showing never writes
back, so a widget that announces its own programmatic changes cannot echo them into the history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from studio.project import Change, Project

Values = dict[str, Any]


class Binding:
    def __init__(self, project: Project, paths: Sequence[str], show: Callable[[Values], None],
                 edited: Any = None, read: Callable[[], Values] | None = None, text: str | None = None) -> None:
        """``show(values)`` puts the project's values of ``paths`` into the widget; when ``edited`` (a Qt signal)
        fires, ``read()`` gives the widget's values and they become one undo step called ``text``."""
        if (edited is None) != (read is None):
            raise ValueError("an edit signal and a read function go together")
        self.project, self.paths, self._show, self._read, self._text = project, tuple(paths), show, read, text
        self._showing = False
        self._unsubscribe = project.subscribe(self._changed)
        if edited is not None:
            edited.connect(self._edited)
        self.refresh()

    def values(self) -> Values:
        return {path: self.project.get(path) for path in self.paths}

    def refresh(self) -> None:
        """Show the project's values now."""
        self._showing = True
        try:
            self._show(self.values())
        finally:
            self._showing = False

    def unbind(self) -> None:
        self._unsubscribe()

    def _changed(self, change: Change) -> None:
        if change.touches(*self.paths):
            self.refresh()

    def _edited(self, *_args: Any) -> None:
        if self._showing or self._read is None:
            return
        self.project.set(self._read(), text=self._text, merge=False)


def bind(project: Project, paths: Sequence[str], show: Callable[[Values], None], edited: Any = None,
         read: Callable[[], Values] | None = None, text: str | None = None) -> Binding:
    return Binding(project, paths, show, edited, read, text)
