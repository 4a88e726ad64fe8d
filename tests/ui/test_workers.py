"""Background tasks: a slot connected right after ``TaskRunner.start`` hears even a task that fails at once."""

from __future__ import annotations

from studio.errors import InputError
from ui.workers import TaskRunner


def test_a_task_that_fails_at_once_is_still_heard(qtbot):
    runner = TaskRunner()

    def fail(_report, _preview, _cancel):
        raise InputError("the photo is empty")

    task = runner.start("fails at once", fail)
    # However fast the worker thread is, it cannot run (and fail, and emit) before the event loop's next turn,
    # which comes after the slots below are connected: nothing has run yet, and nothing runs until then.
    assert not task.go.is_set() and task.outcome == "running"
    heard = []
    task.failed.connect(heard.append)
    qtbot.waitUntil(lambda: bool(heard) and not runner.running(), timeout=10000)
    assert heard == ["the photo is empty"] and task.outcome == "failed"


def test_a_task_cancelled_before_it_began_ends_as_cancelled(qtbot):
    runner = TaskRunner()
    ran = []
    task = runner.start("never runs", lambda *_: ran.append(1))
    cancelled = []
    task.was_cancelled.connect(lambda: cancelled.append(1))
    assert runner.shutdown(5000)
    qtbot.waitUntil(lambda: bool(cancelled), timeout=5000)
    assert ran == [] and task.outcome == "cancelled"


def test_a_task_asked_for_after_shutdown_never_runs_nor_outlives_the_runner(qtbot):
    """A timer that fires while the window closes (the autosave after an edit) must not start a thread that
    outlives the window: a QThread destroyed while it runs aborts the whole process."""
    runner = TaskRunner()
    assert runner.shutdown(5000)
    ran = []
    task = runner.start("too late", lambda *_: ran.append(1))
    assert task.isFinished() and task.outcome == "cancelled" and ran == [] and not runner.running()


def test_in_order_runs_every_request_one_after_another_and_finishes_them_when_closing(qtbot):
    """Changes to the queue: none is dropped, none overtakes an earlier one, each reports on the GUI thread; a
    panel closing completes what was asked without reporting it."""
    import threading

    from ui.workers import InOrder

    runner = TaskRunner()
    writes = InOrder(runner, "writes")
    ran: list[tuple[int, bool]] = []
    reported: list[tuple[object, bool]] = []

    def work(n: int):
        def run() -> int:
            ran.append((n, threading.current_thread() is threading.main_thread()))
            if n == 2:
                raise InputError("job 2 finished meanwhile")
            return n
        return run

    def report(value) -> None:
        reported.append((value, threading.current_thread() is threading.main_thread()))

    for n in (1, 2, 3):
        writes.submit(work(n), report, report)
    qtbot.waitUntil(lambda: len(reported) == 3, timeout=10000)
    assert ran == [(1, False), (2, False), (3, False)]
    assert reported == [(1, True), ("job 2 finished meanwhile", True), (3, True)]

    for n in (4, 5):
        writes.submit(work(n), report, report)
    writes.finish()  # (no event loop turn in between: 4 has not begun, 5 waits)
    assert [n for n, _ in ran[3:]] == [4, 5] and len(reported) == 3
    assert runner.shutdown(5000)
