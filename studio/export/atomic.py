"""Write a file atomically: a temporary file created exclusively in the same folder, then ``os.replace`` onto the
target, so a reader never sees half a file, a crash leaves the old one, and a symlink planted at the temporary name
is never followed (``mkstemp`` opens with ``O_CREAT | O_EXCL``). Every small file the studio writes goes through
``write_atomic``; renders stream into ``studio.export.output_names.create_partial`` names instead."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from studio.system.platform import usual_permissions


def write_atomic(path: str | Path, write: Callable[[IO[Any]], object], mode: str = "wb") -> Path:
    """``write(handle)`` into a fresh hidden file beside ``path``, flushed to disk, then renamed onto ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        usual_permissions(tmp)  # (mkstemp's file is private; the finished file is an ordinary one)
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    return write_atomic(path, lambda handle: handle.write(text), mode="w")
