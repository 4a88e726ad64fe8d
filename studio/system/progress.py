"""Progress reports and cooperative cancellation, shared by every long-running task.

Long work (motion extraction, rendering, export) takes a ``report`` callable and a ``CancelToken``.
It calls ``report(Progress(...))`` as it goes and ``token.raise_if_cancelled()`` between units of work,
so the GUI, the CLI progress bar and the batch queue all observe and stop work the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

#: The phases a render goes through, in order. Motion extraction uses "extract"; "interpolate" fills frames the
#: engine did not render (``render --interpolate N``, an output rate above the motion's), between decode and export.
PHASES = ("load", "extract", "encode", "denoise", "decode", "interpolate", "export")


@dataclass(frozen=True)
class Progress:
    phase: str
    current: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, max(0.0, self.current / self.total))


ProgressCallback = Callable[[Progress], None]


def ignore_progress(_progress: Progress) -> None:
    """A ``ProgressCallback`` for callers that do not want reports."""


class Cancelled(Exception):
    """Raised inside a task when its ``CancelToken`` was cancelled; the task must leave no partial output."""


class CancelToken:
    """Thread-safe flag checked by workers between units of work."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled by the user")


class RunnerToken(CancelToken):
    """A queued job's token: cancelled by a cancel asked for that job (``cancel()``), and also read as cancelled
    once its runner is told to stop (``should_stop()``, e.g. the window closing), which is not a cancel of the
    job: ``stopping`` tells the two apart, so the runner can put a stopped job back in the queue."""

    def __init__(self, should_stop: Callable[[], bool] | None = None) -> None:
        super().__init__()
        self._should_stop = should_stop

    @property
    def stopping(self) -> bool:
        return self._should_stop is not None and self._should_stop()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set() or self.stopping

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise Cancelled("cancelled by the user" if self._event.is_set() else "the runner was stopped")
