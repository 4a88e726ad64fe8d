"""Errors a person can act on.

Raise a ``StudioError`` (or a subclass) at a boundary — a file loader, request parsing, a model folder
check — with a message that says what was wrong, which file, and what to do. The CLI prints the message
without a traceback; the queue stores it as the job's failure reason; the window shows it.
"""

from __future__ import annotations


class StudioError(Exception):
    """Base class for user-facing errors."""


class InputError(StudioError, ValueError):
    """A photo, video, mask or other input file is missing, unreadable or unsuitable."""


class ModelFolderError(StudioError):
    """The weights folder is missing files or holds mismatched ones."""


class ExportError(StudioError):
    """The output could not be written (unwritable folder, full disk, encoder failure)."""


class OutputExists(ExportError):
    """An output (or its sidecar) is already there and overwriting was not asked for; the caller may ask the
    person and try again with overwrite (the window does), so it is told apart by type, never by its words."""

    def __init__(self, path: object, message: str) -> None:
        self.path = path
        super().__init__(message)
