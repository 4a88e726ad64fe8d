"""Logs a user can send: a rotating log file under the data folder, and a quiet terminal.

Both the CLI and the window call ``setup_logging``. The file (``<data folder>/logs/studio.log``, rotated at
2 MB, 3 old files kept) records the studio's own INFO lines (queue transitions, cache hits, ffmpeg command
lines, memory settings) and every library's warnings. The terminal shows only the studio's warnings unless
verbose (``-v``: INFO from everyone, ``-vv`` or ``--log-level debug``: everything).

Native libraries write to file descriptor 2 directly (mediapipe's ``W0000 … Feedback manager`` lines come from
absl's C++ logging on worker threads, which no environment variable silences), so ``native_stderr_to_file``
points descriptor 2 at ``logs/native.log`` while Python's own ``sys.stderr`` keeps writing to the terminal.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from studio.system.paths import studio_home

LOG_LEVELS = ("debug", "info", "warning", "error")
#: Loggers of the studio itself; everything else is a library and stays off the terminal unless verbose.
OWN_LOGGERS = ("studio", "pipelines", "ui", "main")
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"
MAX_BYTES = 2 * 1024 * 1024
BACKUPS = 3
_TAG = "_studio_handler"


def log_dir() -> Path:
    path = studio_home() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_file() -> Path:
    return log_dir() / "studio.log"


def terminal_level(verbosity: int = 0, level: str | None = None) -> int:
    """``--log-level`` wins; otherwise -v → INFO, -vv → DEBUG, none → WARNING."""
    if level:
        return getattr(logging, level.upper())
    return {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)


class _Terminal(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (it is swapped by ``native_stderr_to_file`` and by test capture)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class _LogFile(logging.handlers.RotatingFileHandler):
    """The log file; when it cannot be written any more (the disk filled, the folder became read-only) it stops
    quietly instead of printing a "Logging error" traceback for every line."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        logging.getLogger().removeHandler(self)


class _OwnOrAtLeast(logging.Filter):
    """Lets every studio record through, and library records from ``library_level`` up."""

    def __init__(self, library_level: int):
        super().__init__()
        self.library_level = library_level

    def filter(self, record: logging.LogRecord) -> bool:
        own = record.name.split(".", 1)[0] in OWN_LOGGERS
        return own or record.levelno >= self.library_level


def setup_logging(verbosity: int = 0, level: str | None = None, console: bool = True) -> Path:
    """Install the file handler (always) and the terminal handler (when ``console``); returns the log file.

    Calling it again replaces the handlers it installed before (tests and the window may call it twice).
    """
    shown = terminal_level(verbosity, level)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _TAG, False)]:
        root.removeHandler(handler)
        handler.close()
    path = studio_home() / "logs" / "studio.log"
    file_level = min(logging.INFO, shown)
    handlers: list[logging.Handler] = []
    try:  # a read-only or full data folder: the render still runs, with one line saying there is no log file
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = _LogFile(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8",
                                errors="backslashreplace")  # (a file name that is not UTF-8 is logged too)
    except OSError as error:
        if console and sys.stderr is not None:
            print(f"warning: cannot write the log file {path} ({error.strerror or error}); logging only to the "
                  "terminal", file=sys.stderr)
    else:
        file_handler.setLevel(file_level)
        file_handler.setFormatter(logging.Formatter(FORMAT))
        # Library INFO chatter (httpx, PIL plugins, …) would drown the studio's lines; their warnings stay.
        file_handler.addFilter(_OwnOrAtLeast(logging.WARNING if shown > logging.INFO else logging.DEBUG))
        handlers.append(file_handler)
    if console and sys.stderr is not None:  # (a windowed process on Windows has no stderr at all)
        terminal = _Terminal()
        terminal.setLevel(shown)
        terminal.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        # Without -v nothing but the studio's own warnings reaches the terminal.
        terminal.addFilter(_OwnOrAtLeast(logging.NOTSET if verbosity or level else logging.CRITICAL + 1))
        handlers.append(terminal)
    for handler in handlers:
        setattr(handler, _TAG, True)
        root.addHandler(handler)
    root.setLevel(min(file_level, shown))
    return path


def native_stderr_to_file() -> Path | None:
    """Send what native code writes to descriptor 2 into ``logs/native.log``; Python's stderr stays the terminal.

    For the CLI and window entry points only (never inside tests: it changes process-wide state). Returns the
    file, or None when descriptor 2 cannot be duplicated (e.g. a windowed process without a console).
    """
    try:
        path = log_dir() / "native.log"
        if path.is_file() and path.stat().st_size > MAX_BYTES:
            os.replace(path, path.with_name("native.log.1"))
        terminal_fd = os.dup(2)
        sink = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError:
        return None
    try:
        sys.stderr.flush()
        os.dup2(sink, 2)
    except OSError:
        os.close(terminal_fd)
        return None
    finally:
        os.close(sink)
    sys.stderr = open(terminal_fd, "w", buffering=1, encoding=getattr(sys.stderr, "encoding", None) or "utf-8",
                      errors="backslashreplace")
    return path
