"""The queue's SQLite file: what may be done to it, and what each SQLite failure means to the person at the keys.

The studio touches a file only when it is the studio's own queue: SQLite's header carries our ``application_id``
(older queues: a ``jobs`` table with our columns), or the file sits at the studio's own default path. Anything else
(a user's notes given as ``--db``, another program's database) is refused by name and left exactly as it was.

A studio queue is moved aside only when SQLite itself says the file is damaged ("file is not a database", "database
disk image is malformed", or ``PRAGMA integrity_check`` finding faults). A lock held by another program, a
read-only folder, a full disk or a newer studio's schema are not damage: each is said as it is and nothing moves.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from studio.errors import StudioError

T = TypeVar("T")

#: Written into SQLite's header (``PRAGMA application_id``) so a queue file says whose it is: "STAQ".
APPLICATION_ID = 0x53544151
#: ``PRAGMA user_version`` of the schema this studio writes; a larger one was written by a newer studio.
SCHEMA_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
#: The columns an older queue (written before the header marker) has in its ``jobs`` table.
LEGACY_COLUMNS = {"id", "state", "request", "output", "device", "created", "cancel_requested"}
#: How long a first attempt waits on another program's lock before the person is told we are waiting.
FIRST_LOCK_WAIT_S = 1.0


class QueueError(StudioError):
    """A queue operation that does not apply (unknown job, wrong state, another runner active, unusable file)."""


class QueueFileDamaged(QueueError):
    """SQLite reports the studio's own queue file corrupt (the caller may move it aside)."""


def is_corruption(error: sqlite3.Error) -> bool:
    """Only SQLite's own verdict of damage counts (a lock, a full disk or a read-only file is not damage)."""
    name = getattr(error, "sqlite_errorname", "")
    text = str(error).lower()
    return name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "not a database" in text or "malformed" in text


def explain(error: sqlite3.Error, path: Path, waited_s: float | None = None) -> QueueError:
    """One sentence for the person: what happened to the queue file ``path`` and what to do."""
    name = getattr(error, "sqlite_errorname", "")
    text = str(error).lower()
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in text:
        waited = f" for {waited_s:.0f} s" if waited_s else ""
        return QueueError(f"the queue database {path} stayed locked by another program{waited}; close whatever "
                          "holds it (another studio, a database browser) and try again")
    if name == "SQLITE_READONLY" or "readonly" in text or "read-only" in text:
        return QueueError(f"the queue database {path} cannot be written (the file or its folder is read-only); "
                          "fix the permissions or choose another --db")
    if name == "SQLITE_FULL" or "disk is full" in text:
        return QueueError(f"the disk holding the queue database {path} is full; free some space and try again")
    if name == "SQLITE_CANTOPEN" or "unable to open" in text:
        return QueueError(f"the queue database {path} cannot be opened (its folder is missing or not writable); "
                          "check the folder or choose another --db")
    if is_corruption(error):
        return QueueFileDamaged(f"the queue database {path} is damaged ({error})")
    return QueueError(f"the queue database {path} could not be used ({error})")


def header(path: Path) -> bytes | None:
    """The first 100 bytes (SQLite's header), or None when there is no file."""
    try:
        with open(path, "rb") as f:
            return f.read(100)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise QueueError(f"the queue database {path} is a folder; give a file path to --db") from None
    except OSError as error:
        raise QueueError(f"the queue database {path} cannot be read ({error.strerror}); check its permissions") \
            from None


def header_numbers(head: bytes) -> tuple[int, int]:
    """(application_id, user_version) read from SQLite's header (offsets 68 and 60, big-endian)."""
    return int.from_bytes(head[68:72], "big"), int.from_bytes(head[60:64], "big")


def read_marks(path: Path, timeout_s: float) -> tuple[int, int, bool]:
    """(application_id, user_version, whether a ``jobs`` table with our columns is there), as SQLite reads them
    (read-only; a queue in WAL mode may hold newer ones than the file's header)."""
    db = connect(path, read_only=True, timeout_s=timeout_s)
    try:
        application_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
    finally:
        db.close()
    return application_id, version, LEGACY_COLUMNS <= columns


def _is_lock(error: sqlite3.Error) -> bool:
    return "locked" in str(error).lower() or getattr(error, "sqlite_errorname", "") in ("SQLITE_BUSY",
                                                                                        "SQLITE_LOCKED")


def with_lock_wait(action: Callable[[float], T], path: Path, lock_wait_s: float, say: Callable[[str], None]) -> T:
    """``action(timeout_s)``, first briefly; if another program holds the file, say so and wait up to
    ``lock_wait_s`` in all, then a clear error."""
    first = min(FIRST_LOCK_WAIT_S, lock_wait_s)
    try:
        return action(first)
    except sqlite3.OperationalError as error:
        if not _is_lock(error):
            raise
        if first >= lock_wait_s:
            raise explain(error, path, waited_s=lock_wait_s) from None
    say(f"the queue database {path} is locked by another program; waiting up to {lock_wait_s:.0f} s")
    try:
        return action(lock_wait_s - first)
    except sqlite3.OperationalError as error:
        if not _is_lock(error):
            raise
        raise explain(error, path, waited_s=lock_wait_s) from None


def check_ownership(path: Path, studio_owned_path: bool, lock_wait_s: float = 30.0,
                    say: Callable[[str], None] = lambda line: None) -> bool:
    """Whether ``path`` may be opened as a queue; False when there is no file yet. Raises QueueError when it is not
    the studio's, QueueFileDamaged when it is the studio's and SQLite calls it damaged, and QueueError naming the
    version when a newer studio wrote it. Only reads (the header, then SQLite read-only)."""
    head = header(path)
    if head is None:
        return False
    not_ours = (f"{path} is not a studio queue database, so it was left as it is; give --db a new file name "
                "or an existing studio queue")
    if head == b"" and studio_owned_path:
        return True  # a queue whose creation was cut off before SQLite wrote its first page
    try:
        if not head.startswith(SQLITE_MAGIC):
            raise sqlite3.DatabaseError("file is not a database")  # what SQLite itself answers for it
        application_id, version = header_numbers(head)
        has_jobs = False
        wal = Path(f"{path}-wal")
        if (wal.is_file() and wal.stat().st_size > 0) or (application_id == 0 and not studio_owned_path):
            # the header may be older than the write-ahead log, or only the tables can tell: ask SQLite (a
            # reader of a database without its log files would leave new ones, so only when needed)
            application_id, version, has_jobs = with_lock_wait(lambda t: read_marks(path, t), path,
                                                               lock_wait_s, say)
    except sqlite3.DatabaseError as error:
        if not is_corruption(error):
            raise explain(error, path) from None
        ours_by_header = head.startswith(SQLITE_MAGIC) and header_numbers(head)[0] == APPLICATION_ID
        if studio_owned_path or ours_by_header:
            raise QueueFileDamaged(f"the queue database {path} is damaged ({error})") from None
        raise QueueError(not_ours) from None
    if application_id != APPLICATION_ID and not (application_id == 0 and (studio_owned_path or has_jobs)):
        raise QueueError(not_ours)
    if version > SCHEMA_VERSION:
        raise QueueError(f"the queue database {path} was written by a newer studio (queue schema version {version}; "
                         f"this studio reads up to {SCHEMA_VERSION}); update the studio or choose another --db")
    return True


def connect(path: Path, read_only: bool, timeout_s: float) -> sqlite3.Connection:
    """A connection that never creates a file when ``read_only`` (SQLite's own ``mode=ro``)."""
    if read_only:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout_s,
                               isolation_level=None)
    return sqlite3.connect(path, timeout=timeout_s, isolation_level=None)


def probe_write_lock(path: Path, timeout_s: float) -> None:
    """Take and drop the write lock (a WAL reader is never blocked, a writer is): waits like a writer would."""
    db = connect(path, read_only=False, timeout_s=timeout_s)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("ROLLBACK")
    finally:
        db.close()


def move_aside(path: Path) -> Path:
    """Keep a damaged queue (and its journal) under a new name; never delete the user's jobs."""
    kept = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            os.replace(source, f"{kept}{suffix}")
    return kept
