"""Notice changes another process makes to the queue file (a `batch run` or `batch add` in a terminal).

``JobQueue.subscribe`` hears only the changes its own object makes. ``QueueWatcher`` is a thread with one
idle SQLite connection that asks ``PRAGMA data_version`` every ``interval_s``: SQLite changes that number
whenever another connection — of any process — commits to the file. A file replaced under the same name
(moved aside and started again) is noticed by its inode and reopened. The thread only reads a number, so
whoever is told (the window's queue panel) decides what to read, and where.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

#: How often the watcher asks (a number read from an open connection: microseconds of work).
WATCH_INTERVAL_S = 0.5


class QueueWatcher:
    """Calls ``changed()`` on its own thread after each commit another connection makes to ``path``."""

    def __init__(self, path: str | Path, changed: Callable[[], None], interval_s: float = WATCH_INTERVAL_S) -> None:
        self.path = Path(path)
        self._changed = changed
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._db: sqlite3.Connection | None = None
        self._inode: int | None = None
        self._thread = threading.Thread(target=self._run, name=f"queue watch {self.path.name}", daemon=True)

    def start(self) -> QueueWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        last = self._version()
        try:
            while not self._stop.wait(self._interval_s):
                version = self._version()
                if version != last:
                    last = version
                    self._tell()
        finally:
            self._close()

    def _tell(self) -> None:
        try:
            self._changed()
        except Exception:  # noqa: BLE001 - a listener's bug must not end the watch
            log.exception("queue watch listener failed")

    def _version(self) -> tuple[int | None, int | None]:
        """(the file's inode, SQLite's data_version on this connection); None where the file is not there."""
        try:
            inode = os.stat(self.path).st_ino
        except OSError:
            self._close()
            return None, None
        try:
            if self._db is None or inode != self._inode:
                self._close()
                # never creates the file (mode=rw), and never writes: this connection only reads one number
                self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=rw", uri=True,
                                           isolation_level=None, check_same_thread=True, timeout=0.1)
                self._inode = inode
            return inode, int(self._db.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error as error:  # locked for a moment, or not a database: asked again next time
            log.debug("queue watch: %s", error)
            self._close()
            return inode, None

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
            self._inode = None
