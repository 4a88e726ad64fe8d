"""The queue panel shows what the queue announces: no timer polls SQLite on the GUI thread, a change made on
another thread reaches the table through a signal, and the ETA is the studio's."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QTimer

from studio.batch.eta import eta_text, job_eta, step_rates
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
