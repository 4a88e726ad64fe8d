"""The quick previews' files: made, superseded and removed by the studio, never left behind.

A quick preview is a real render into a file (the result panel plays it, File → Export can keep it). Every
preview of a session goes into that session's own folder under ``studio_home()/previews``, created exclusively
(``tempfile.mkdtemp``), so everything inside it is the studio's: a newer preview supersedes the older ones
(their video, sidecar and extras are removed), and the folder goes when the session closes.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import tempfile
import threading
from pathlib import Path

from studio.export.output_names import output_paths
from studio.system.paths import studio_home

log = logging.getLogger(__name__)


class PreviewFiles:
    def __init__(self, root: str | Path | None = None) -> None:
        self._root = Path(root) if root is not None else None
        self._folder: Path | None = None
        self._made: list[Path] = []
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()  # previews finish on worker threads

    @property
    def folder(self) -> Path | None:
        """This session's folder (None until the first preview)."""
        return self._folder

    def next_path(self, suffix: str = ".mp4") -> Path:
        """Where the next preview renders: a new name in this session's folder (made on first use)."""
        with self._lock:
            if self._folder is None or not self._folder.is_dir():
                root = self._root or studio_home() / "previews"
                root.mkdir(parents=True, exist_ok=True)
                self._folder = Path(tempfile.mkdtemp(prefix="session-", dir=root))
            path = self._folder / f"preview_{next(self._numbers):03d}{suffix}"
            self._made.append(path)
            return path

    def supersede(self, kept: str | Path) -> list[Path]:
        """``kept`` is the preview shown now: remove every other preview of this session (and its sidecar and
        extras). Returns what was removed; a file that cannot go yet (open elsewhere) goes at :meth:`clean`."""
        kept = Path(kept)
        removed: list[Path] = []
        with self._lock:
            if kept not in self._made:
                return removed
            for path in [p for p in self._made if p != kept]:
                gone = True
                for target in output_paths(path).values():
                    gone = _remove(target, removed) and gone
                if gone:
                    self._made.remove(path)
        return removed

    def clean(self) -> None:
        """Remove this session's folder and everything in it (closing the window)."""
        with self._lock:
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
                if self._folder.exists():
                    log.warning("could not remove the preview folder %s", self._folder)
            self._folder, self._made = None, []


def _remove(target: Path, removed: list[Path]) -> bool:
    try:
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        else:
            return True
    except OSError as error:
        log.info("preview file %s stays until the window closes: %s", target, error.strerror)
        return False
    removed.append(target)
    return True
