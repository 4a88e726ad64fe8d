"""Long work off the GUI thread: a ``Task`` runs one studio call on a QThread with a CancelToken.

The call receives ``report`` (studio Progress) and ``preview`` (an RGB frame) callables; both are
forwarded to the GUI thread through queued signals and throttled, so a chatty render cannot flood the
event loop. ``TaskRunner`` owns every running task, so closing the window cancels and joins them all and
no thread outlives the window (the tests check this).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from studio.errors import StudioError
from studio.system.progress import Cancelled, CancelToken, Progress

logger = logging.getLogger(__name__)

#: fn(report, preview, cancel) -> result
TaskFunction = Callable[[Callable[[Progress], None], Callable[[Any], None], CancelToken], Any]

#: Forward at most this many progress / preview reports per second to the GUI thread.
PROGRESS_RATE_S = 0.05
PREVIEW_RATE_S = 0.15

#: Every Task not yet garbage-collected (the tests check none is still running after each test).
LIVE_TASKS: weakref.WeakSet = weakref.WeakSet()


class Task(QThread):
    progressed = Signal(object)  # Progress
    previewed = Signal(object)  # np.ndarray RGB
    succeeded = Signal(object)  # the call's result
    failed = Signal(str)  # a message a person can act on
    was_cancelled = Signal()

    def __init__(self, name: str, fn: TaskFunction, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._fn = fn
        self.token = CancelToken()
        self._last_progress = 0.0
        self._last_preview = 0.0
        self.result: Any = None
        self.error: str | None = None
        self.outcome = "running"
        #: Opened by the GUI thread's event loop once the starter has connected its slots (see TaskRunner.start).
        self.go = threading.Event()
        LIVE_TASKS.add(self)

    def cancel(self) -> None:
        self.token.cancel()
        self.go.set()  # a task still waiting to begin ends at once, as cancelled

    def _report(self, progress: Progress) -> None:
        now = time.monotonic()
        final = progress.total > 0 and progress.current >= progress.total
        if final or now - self._last_progress >= PROGRESS_RATE_S:
            self._last_progress = now
            self.progressed.emit(progress)

    def _preview(self, frame: Any) -> None:
        now = time.monotonic()
        if now - self._last_preview >= PREVIEW_RATE_S:
            self._last_preview = now
            self.previewed.emit(frame)

    def run(self) -> None:  # runs on the worker thread
        self.go.wait()
        try:
            self.token.raise_if_cancelled()
            self.result = self._fn(self._report, self._preview, self.token)
        except Cancelled:
            self.outcome = "cancelled"
            self.was_cancelled.emit()
            return
        except StudioError as exc:
            self.outcome, self.error = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 - the job boundary: every failure becomes a message
            logger.error("%s failed:\n%s", self.name, traceback.format_exc())
            self.outcome, self.error = "failed", f"{type(exc).__name__}: {exc}"
        if self.error is not None:
            self.failed.emit(self.error)
        else:
            self.outcome = "succeeded"
            self.succeeded.emit(self.result)


class LatestOnly(QObject):
    """One task at a time for work where only the newest request counts (re-aligning while a slider moves): a
    request made while one runs waits, replacing any request that waited before it. ``submit(work, done)`` runs
    ``work()`` on a worker thread and ``done(result)`` on the GUI thread; a task the runner cancelled (closing)
    reports nothing and starts nothing more."""

    def __init__(self, runner: TaskRunner, name: str) -> None:
        super().__init__(runner)
        self._runner, self._name = runner, name
        self._running: Task | None = None
        self._waiting: tuple[Callable[[], Any], Callable[[Any], None]] | None = None

    def submit(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self._waiting = (work, done)
        if self._running is None:
            self._start_waiting()

    def stop(self, timeout_ms: int = 30000) -> None:
        """Drop the waiting request and wait for the running one, whose result is then not delivered (a panel
        closing: nothing of it may run after)."""
        self._waiting = None
        task = self._running
        if task is not None:
            task.cancel()
            task.wait(timeout_ms)

    def _start_waiting(self) -> None:
        if self._waiting is None:
            return
        work, done = self._waiting
        self._waiting = None
        task = self._runner.start(self._name, lambda _report, _preview, _cancel: work())
        self._running = task
        task.succeeded.connect(lambda result, t=task: None if t.token.cancelled else done(result))
        task.finished.connect(lambda t=task: self._finished(t))

    def _finished(self, task: Task) -> None:
        self._running = None
        if task.token.cancelled:  # the window is closing
            self._waiting = None
            return
        self._start_waiting()


class InOrder(QObject):
    """One task at a time for work where every request counts, in the order made (changes to the batch queue: a
    cancel then a retry of the same job must not swap). ``submit(work, done, failed)`` runs ``work()`` on a worker
    thread after the requests made before it, then ``done(result)`` on the GUI thread, or ``failed(message)`` when
    the work raised."""

    def __init__(self, runner: TaskRunner, name: str) -> None:
        super().__init__(runner)
        self._runner, self._name = runner, name
        self._running: Task | None = None
        self._waiting: deque[tuple[Callable[[], Any], Callable[[Any], None], Callable[[str], None]]] = deque()
        self._closed = False

    def submit(self, work: Callable[[], Any], done: Callable[[Any], None], failed: Callable[[str], None]) -> None:
        self._waiting.append((work, done, failed))
        if self._running is None:
            self._start_next()

    def finish(self, timeout_ms: int = 30000) -> None:
        """Closing: the running request is not cancelled but completed (a change the person asked for is made),
        then the waiting ones are done, in order, on one more worker thread (never on the GUI thread: a busy
        database must not freeze a closing window either); this waits for them up to ``timeout_ms`` each, and the
        window's shutdown joins whatever is left. Nothing is reported any more."""
        self._closed = True
        task = self._running
        if task is not None:
            task.go.set()  # (it may not have begun: its start waits for an event loop turn that may not come)
            task.wait(timeout_ms)
        if not self._waiting:
            return
        waiting, self._waiting = list(self._waiting), deque()

        def make_all() -> None:  # on the worker thread
            for work, _done, _failed in waiting:
                try:
                    work()
                except Exception:  # noqa: BLE001 - closing: said in the log; the next start shows the queue as it is
                    logger.warning("%s while closing failed:\n%s", self._name, traceback.format_exc())

        last = self._runner.start(self._name, lambda _report, _preview, _cancel: make_all())
        last.go.set()  # (no slots to wait for)
        last.wait(timeout_ms)

    def _start_next(self) -> None:
        if not self._waiting or self._closed:
            return
        work, done, failed = self._waiting.popleft()
        task = self._runner.start(self._name, lambda _report, _preview, _cancel: work())
        self._running = task
        task.succeeded.connect(lambda result: None if self._closed else done(result))
        task.failed.connect(lambda message: None if self._closed else failed(message))
        task.was_cancelled.connect(lambda: None if self._closed else failed("stopped before it was made"))
        task.finished.connect(self._finished)

    def _finished(self) -> None:
        self._running = None
        self._start_next()


class TaskRunner(QObject):
    """Starts tasks, keeps them alive while they run, and cancels + joins them all on shutdown."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: list[Task] = []
        self._shut_down = False

    def start(self, name: str, fn: TaskFunction) -> Task:
        task = Task(name, fn, self)
        if self._shut_down:
            # a late request (a timer that fired while the window closed): it ends at once, as cancelled, so no
            # thread outlives the window (a QThread destroyed while running aborts the process)
            task.cancel()
            task.start()
            task.wait()
            return task
        task.finished.connect(lambda t=task: self._forget(t))
        self._tasks.append(task)
        task.start()
        # A signal emitted before its slot is connected is lost, and every caller connects its slots after this
        # returns: a task that failed at once would never say so. So the work waits for the event loop's next
        # turn, which comes only after the caller's connections.
        QTimer.singleShot(0, task.go.set)
        self.busy_changed.emit(True)
        return task

    def _forget(self, task: Task) -> None:
        if task in self._tasks:
            task.wait()
            self._tasks.remove(task)
            task.setParent(None)  # Python owns it now: freed once nobody holds it
        self.busy_changed.emit(bool(self._tasks))

    def running(self) -> list[Task]:
        return [t for t in self._tasks if t.isRunning()]

    def cancel_all(self) -> None:
        for task in self._tasks:
            task.cancel()

    def shutdown(self, timeout_ms: int | None = 30000) -> bool:
        """Cancel every task and wait for its thread (``None``: for as long as it takes); True when all
        stopped in time."""
        self._shut_down = True
        self.cancel_all()
        ok = True
        for task in list(self._tasks):
            ok = (task.wait() if timeout_ms is None else task.wait(timeout_ms)) and ok
        return ok
