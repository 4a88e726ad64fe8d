"""The queue watcher hears every commit another connection (another process) makes to the queue file, and only
those: an idle queue is not announced, and a queue file replaced under the same name is followed."""

from __future__ import annotations

import threading
from pathlib import Path

from studio.batch.queue import JobQueue
from studio.batch.queue_watch import QueueWatcher
from studio.request.render_request import RenderRequest


def _request(tmp_path: Path) -> RenderRequest:
    for name in ("a.jpg", "b.mp4"):
        (tmp_path / name).write_bytes(b"x")
    return RenderRequest(reference=str(tmp_path / "a.jpg"), motion=str(tmp_path / "b.mp4"), engine="warp", seed=1)


class Heard:
    def __init__(self) -> None:
        self.count = 0
        self.event = threading.Event()

    def __call__(self) -> None:
        self.count += 1
        self.event.set()

    def next(self, timeout_s: float = 10.0) -> bool:
        got = self.event.wait(timeout_s)
        self.event.clear()
        return got


def test_a_commit_by_another_connection_is_heard_and_an_idle_queue_is_not(tmp_path):
    path = tmp_path / "queue.db"
    request = _request(tmp_path)
    other_process = JobQueue(path)  # the file exists before the watch starts; its own connections
    heard = Heard()
    watcher = QueueWatcher(path, heard, interval_s=0.02).start()
    try:
        assert not heard.next(0.3), "nothing changed, yet a change was announced"
        job_id = other_process.add(request, tmp_path / "o.mp4")
        assert heard.next(), "the added job was not noticed"
        heard.next(0.3)  # (one change may be more than one commit)
        other_process.cancel(job_id)
        assert heard.next(), "the cancel was not noticed"
        heard.next(0.3)
        assert not heard.next(0.3), "announcements went on with nothing changing"
    finally:
        watcher.stop()
    assert not watcher.is_alive()


def test_a_queue_file_that_appears_or_is_replaced_is_followed(tmp_path):
    path = tmp_path / "queue.db"
    request = _request(tmp_path)
    heard = Heard()
    watcher = QueueWatcher(path, heard, interval_s=0.02).start()
    try:
        assert not heard.next(0.2)
        JobQueue(path).add(request, tmp_path / "o.mp4")  # the file is made by another process
        assert heard.next(), "the new queue file was not noticed"
        path.rename(tmp_path / "kept.db")  # moved aside (e.g. damaged), a new queue started in its place
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        JobQueue(path).add(request, tmp_path / "o2.mp4")
        assert heard.next(), "the replaced queue file was not followed"
    finally:
        watcher.stop()
