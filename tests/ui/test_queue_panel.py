"""The queue panel shows what the queue announces: no timer polls SQLite on the GUI thread, a change made on
another thread reaches the table through a signal, and the ETA is the studio's."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt, QTimer

from studio.batch.eta import eta_text, job_eta, step_rates
from studio.batch.queue import QueueError
from studio.request.render_request import RenderRequest
from studio.service import Studio
from ui.queue_panel import QueuePanel
from ui.workers import TaskRunner


def _panel(qtbot, tmp_path: Path) -> tuple[QueuePanel, Studio, RenderRequest]:
    for name in ("a.jpg", "b.mp4"):
        (tmp_path / name).write_bytes(b"x")
    studio = Studio(renderer=object(), queue_path=tmp_path / "queue.db")
    request = RenderRequest(reference=str(tmp_path / "a.jpg"), motion=str(tmp_path / "b.mp4"), engine="warp",
                            seed=1, steps=10)
    panel = QueuePanel(TaskRunner(), studio)
    qtbot.addWidget(panel)
    return panel, studio, request


def _cells(panel: QueuePanel, column: int) -> list[str]:
    return [panel.table.item(r, column).text() for r in range(panel.table.rowCount())]


def test_nothing_polls_the_queue(qtbot, tmp_path):
    panel, _studio, _request = _panel(qtbot, tmp_path)
    polling = [t for t in panel.findChildren(QTimer) if t.isActive() and not t.isSingleShot()]
    assert polling == [], "a repeating timer reads the queue on the GUI thread"
    panel.stop()


def test_a_change_on_another_thread_reaches_the_table_with_the_studios_eta(qtbot, tmp_path):
    panel, studio, request = _panel(qtbot, tmp_path)
    queue = studio.queue
    first = queue.add(request, tmp_path / "o1.mp4")
    waiting = queue.add(request.replace(steps=5), tmp_path / "o2.mp4")

    def runner_thread() -> None:  # what the queue runner does, on its own thread
        queue.claim_next()
        queue.finish(first, seconds=20.0)  # 2 s per step

    with qtbot.waitSignal(panel.job_finished, timeout=10000) as finished:
        worker = threading.Thread(target=runner_thread)
        worker.start()
    worker.join()
    assert finished.args == [first, queue.get(first).output]
    qtbot.waitUntil(lambda: _cells(panel, 1) == ["finished", "queued"], timeout=10000)
    jobs = queue.jobs()
    expected = eta_text(job_eta(queue.get(waiting), step_rates(jobs)))
    assert expected == "0:10" and _cells(panel, 3) == ["—", expected]  # 5 steps at 2 s each

    states: list[tuple[int, str]] = []
    panel.job_state_changed.connect(lambda job_id, state: states.append((job_id, state)))
    with qtbot.waitSignal(panel.job_state_changed, timeout=10000):
        threading.Thread(target=queue.cancel, args=(waiting,)).start()
    assert states == [(waiting, "cancelled")]
    qtbot.waitUntil(lambda: _cells(panel, 1) == ["finished", "cancelled"], timeout=10000)
    panel.stop()
    queue.retry(waiting)  # after stop() the panel no longer listens
    assert not queue._listeners


def test_a_job_another_process_queues_appears_in_the_table(qtbot, tmp_path):
    """`python -m studio batch add` in a terminal: another connection to the same file, which this panel's queue
    object never hears from; the watcher notices the commit and the table shows the job."""
    panel, studio, request = _panel(qtbot, tmp_path)
    qtbot.waitUntil(lambda: _cells(panel, 1) == [], timeout=10000)
    from studio.batch.queue import JobQueue

    other_process = JobQueue(studio.queue.path)  # its own connections; nothing shared with the panel's queue
    job_id = other_process.add(request, tmp_path / "from_the_terminal.mp4")
    qtbot.waitUntil(lambda: _cells(panel, 1) == ["queued"], timeout=10000)
    assert panel.table.item(0, 0).data(Qt.ItemDataRole.UserRole) == job_id
    other_process.cancel(job_id)
    qtbot.waitUntil(lambda: _cells(panel, 1) == ["cancelled"], timeout=10000)
    panel.stop()
    assert panel._watcher is None


def test_reading_the_queue_leaves_the_gui_event_loop_running(qtbot, tmp_path, monkeypatch):
    """A slow read of the queue (a busy disk, a lock held by a runner) happens on a worker thread: while it
    lasts, the GUI thread's event loop keeps running (a timer it alone can fire lets the read finish)."""
    panel, studio, request = _panel(qtbot, tmp_path)
    studio.queue.add(request, tmp_path / "o.mp4")
    released = threading.Event()
    readers: list[bool] = []
    real_jobs = type(studio.queue).jobs

    def slow_jobs(queue, *args, **kwargs):
        readers.append(threading.current_thread() is threading.main_thread())
        # only the GUI thread's event loop can set this: on the GUI thread this read would wait it out in vain
        assert released.wait(10), "the GUI event loop did not run while the queue was read"
        return real_jobs(queue, *args, **kwargs)

    monkeypatch.setattr(type(studio.queue), "jobs", slow_jobs)
    QTimer.singleShot(0, released.set)
    with qtbot.waitSignal(panel.refreshed, timeout=20000):
        panel.refresh()
    assert readers and not any(readers), "the queue was read on the GUI thread"
    assert _cells(panel, 1) == ["queued"]
    panel.stop()


def test_cancel_and_retry_write_the_queue_off_the_gui_thread(qtbot, tmp_path, monkeypatch):
    """Cancel and Retry change SQLite on a worker thread (a busy database never freezes the window); their buttons
    wait while the change is under way, and the table shows the job's new state after it."""
    panel, studio, request = _panel(qtbot, tmp_path)
    queue = studio.queue
    job_id = queue.add(request, tmp_path / "o.mp4")
    with qtbot.waitSignal(panel.refreshed, timeout=10000):
        panel.refresh()
    on_gui_thread: list[tuple[str, bool]] = []

    def recording(name: str):
        real = getattr(type(queue), name)

        def recorded(self, *args, **kwargs):
            on_gui_thread.append((name, threading.current_thread() is threading.main_thread()))
            return real(self, *args, **kwargs)
        return recorded

    real_get = type(queue).get  # (the test's own reads, on the GUI thread, are not the panel's)
    for name in ("cancel", "retry", "get"):
        monkeypatch.setattr(type(queue), name, recording(name))
    consumers: list[bool] = []
    monkeypatch.setattr(panel, "start_consumer", lambda: consumers.append(True))  # (no renderer here)

    panel.table.selectRow(0)
    with qtbot.waitSignal(panel.changes_written, timeout=10000):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
        # the write waits for the event loop's next turn: it is under way now, and the buttons say so
        assert not panel.cancel_button.isEnabled() and not panel.retry_button.isEnabled()
        assert not [call for call in on_gui_thread if call[0] != "get"]
    assert ("cancel", False) in on_gui_thread and real_get(queue, job_id).state == "cancelled"
    qtbot.waitUntil(lambda: _cells(panel, 1) == ["cancelled"], timeout=10000)
    assert panel.cancel_button.isEnabled() and panel.retry_button.isEnabled()
    panel.table.cellDoubleClicked.emit(0, 0)  # (opens only a finished job: the table's own copy says it is not)

    panel.table.selectRow(0)
    with qtbot.waitSignal(panel.changes_written, timeout=10000):
        qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    assert ("retry", False) in on_gui_thread and real_get(queue, job_id).state == "queued"
    assert consumers == [True]  # a retried job runs
    qtbot.waitUntil(lambda: _cells(panel, 1) == ["queued"], timeout=10000)
    assert not [call for call in on_gui_thread if call[1]], "the queue was written or read on the GUI thread"
    panel.stop()


def test_a_change_the_queue_refuses_is_said_in_the_message_bar(window, qtbot, tmp_path):
    panel = window.queue_panel
    for name in ("a.jpg", "b.mp4"):
        (tmp_path / name).write_bytes(b"x")
    request = RenderRequest(reference=str(tmp_path / "a.jpg"), motion=str(tmp_path / "b.mp4"), engine="warp")
    job_id = panel.queue.add(request, tmp_path / "o.mp4")
    panel.queue.cancel(job_id)
    with qtbot.waitSignal(panel.changes_written, timeout=10000):
        assert panel.cancel_job(job_id)
    text = window.message_bar.text()
    assert window.message_bar.level == "error"
    assert f"Could not cancel job {job_id}: job {job_id} is cancelled" in text and "only queued or running" in text
    assert panel.queue.get(job_id).state == "cancelled" and panel.cancel_button.isEnabled()


def test_changes_asked_for_just_before_closing_are_written_off_the_gui_thread(qtbot, tmp_path, monkeypatch):
    """Two cancels asked for as the window closes: the second waits behind the first, and closing makes both,
    on worker threads (a busy database must not freeze a closing window), before it returns."""
    panel, studio, request = _panel(qtbot, tmp_path)
    queue = studio.queue
    jobs = [queue.add(request, tmp_path / f"o{n}.mp4") for n in (1, 2)]
    writes: list[bool] = []
    real_cancel = type(queue).cancel

    def recorded(self, *args, **kwargs):
        writes.append(threading.current_thread() is threading.main_thread())
        return real_cancel(self, *args, **kwargs)

    monkeypatch.setattr(type(queue), "cancel", recorded)
    assert panel.cancel_job(jobs[0]) and panel.cancel_job(jobs[1])
    panel.stop()  # (no event loop turn between: the first has not begun, the second waits)
    assert [queue.get(j).state for j in jobs] == ["cancelled", "cancelled"]
    assert writes == [False, False], "a change was written on the GUI thread while closing"


def test_queueing_writes_off_the_gui_thread_and_a_cancel_asked_next_applies_to_the_new_job(qtbot, tmp_path,
                                                                                         monkeypatch):
    """Queueing a render writes SQLite on a worker thread (a busy database never freezes the window), in order
    with the changes asked for after it: a cancel asked in the same turn, before the batch is written, finds the
    new job (the queue numbers a fresh queue's first job 1); the table shows the jobs once written."""
    panel, studio, request = _panel(qtbot, tmp_path)
    queue = studio.queue
    writes: list[tuple[str, bool]] = []
    for name in ("add_planned", "cancel"):
        real = getattr(type(queue), name)

        def recorded(self, *args, _name=name, _real=real, **kwargs):
            writes.append((_name, threading.current_thread() is threading.main_thread()))
            return _real(self, *args, **kwargs)
        monkeypatch.setattr(type(queue), name, recorded)
    consumers: list[bool] = []
    monkeypatch.setattr(panel, "start_consumer", lambda: consumers.append(True))  # (no renderer here)
    planned = studio.plan_batch(request, [request.reference], [request.motion, request.motion], tmp_path)
    panel.add_jobs(planned, batch="two")
    assert writes == [], "the batch was written on the GUI thread"  # (its worker waits for the next turn)
    added: list[list[int]] = []
    panel.jobs_added.connect(added.append)
    assert panel.cancel_job(1)
    qtbot.waitUntil(lambda: len(writes) == 2 and panel.cancel_button.isEnabled(), timeout=10000)
    assert writes == [("add_planned", False), ("cancel", False)]
    assert added == [[1, 2]] and consumers == [True]  # the queue runs once the jobs are in it
    qtbot.waitUntil(lambda: _cells(panel, 1) == ["cancelled", "queued"], timeout=10000)
    assert [panel.table.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in (0, 1)] == [1, 2]
    panel.stop()


def test_a_batch_the_queue_cannot_write_is_said_and_can_be_queued_again(window, qtbot, monkeypatch, sample_photo,
                                                                        sample_video):
    """A failed write (a full disk) is said in the message bar: what failed, that nothing was queued, what to do;
    the project is unchanged and queueing again, once the disk has room, queues it."""
    queue, panel = window.queue_panel.queue, window.queue_panel
    real_add, attempts = type(queue).add_planned, []

    def full_once(self, *args, **kwargs):
        attempts.append(args)
        if len(attempts) == 1:
            raise QueueError(f"the disk holding the queue database {self.path} is full; free some space and try "
                             "again")
        return real_add(self, *args, **kwargs)

    monkeypatch.setattr(type(queue), "add_planned", full_once)
    monkeypatch.setattr(panel, "start_consumer", lambda: None)  # (the render itself is not what is tested)
    window.parameter_panel.set_value("engine", "warp")
    window.project.set(reference=sample_photo, motion=sample_video, undoable=False)
    with qtbot.waitSignal(panel.changes_written, timeout=10000):
        assert len(window.queue_render()) == 1
    text = window.message_bar.text()
    assert window.message_bar.level == "error" and "Could not queue 1 render(s): the disk holding" in text
    assert "free some space and try again. Nothing of it was queued" in text and "queue it again" in text
    assert queue.jobs() == [] and panel.cancel_button.isEnabled()
    with qtbot.waitSignal(panel.jobs_added, timeout=10000) as added:
        assert window.queue_render()
    assert [job.id for job in queue.jobs()] == added.args[0] and len(added.args[0]) == 1
    assert window.statusBar().currentMessage() == "Queued 1 render(s)."
