"""Whether a folder can take the studio's files: the one check behind the preferences (data and default output
folder) and the exporter (a render's output folder), so both say the same thing about the same folder.

The check does what writing will do: make the folder when it is missing, then create a file in it. The file is an
anonymous temporary one (``tempfile.TemporaryFile``: created exclusively, never through a planted symlink, gone when
closed), so the check leaves nothing behind, not even after a crash.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path


def folder_problem(folder: str | Path, what: str) -> str | None:
    """Why ``folder`` cannot take files (made if missing, then a file created in it), or None when it can.

    ``what`` names the folder's role for the message ("output folder", "data folder"); the message says what was
    wrong, which folder and what to do, as one clause an error or a sentence can carry."""
    path = Path(folder).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"cannot create the {what} {path} ({_reason(error)}); choose another folder"
    # asked first: a read-only mount or a folder without write permission answers without anything created
    if not os.access(path, os.W_OK | os.X_OK):
        return f"the {what} {path} is not writable; choose another folder or make it writable"
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        if error.errno == errno.ENOSPC:
            return full_disk(path, what)
        return f"the {what} {path} is not writable ({_reason(error)}); choose another folder or make it writable"
    return None


def full_disk(folder: Path, what: str, free_bytes: int | None = None) -> str:
    """The message for a ``what`` whose disk has no room (with the bytes left when known)."""
    left = f" ({free_bytes} bytes free)" if free_bytes is not None else ""
    return f"the disk holding the {what} {folder} is full{left}; free some space or choose another folder"


def _reason(error: OSError) -> str:
    return error.strerror or str(error)
