"""studio.Studio: one render at a time through its renderer, the queue runner with a between-jobs stop
hook and job notifications (driven by a scriptable fake renderer: no torch)."""

from __future__ import annotations

import threading
from pathlib import Path

from studio.request.render_request import RenderRequest
from studio.service import Studio
from studio.system.progress import Cancelled, CancelToken


class FakeRenderer:
    """Records overlapping renders; ``gate`` holds a render until the test lets it go."""

    def __init__(self) -> None:
        self.active = 0
        self.most_at_once = 0
        self.rendered: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()
        self._lock = threading.Lock()

    def render(self, request, out, report=None, cancel=None, **_kwargs):
        with self._lock:
            self.active += 1
            self.most_at_once = max(self.most_at_once, self.active)
        self.started.set()
        try:
            while not self.gate.wait(0.01):
                if cancel is not None:
                    cancel.raise_if_cancelled()
            Path(out).write_bytes(b"mp4")
            self.rendered.append(str(out))
            return type("Result", (), {"step_seconds": None, "path": Path(out)})()
        finally:
            with self._lock:
                self.active -= 1


def _request(tmp_path: Path) -> RenderRequest:
    for name in ("a.jpg", "b.mp4"):
        (tmp_path / name).write_bytes(b"x")
    return RenderRequest(reference=str(tmp_path / "a.jpg"), motion=str(tmp_path / "b.mp4"), engine="warp", seed=1)


def test_renders_take_turns_and_a_waiting_render_can_be_cancelled(tmp_path):
    fake = FakeRenderer()
    studio = Studio(renderer=fake, queue_path=tmp_path / "queue.db")
    request = _request(tmp_path)
    fake.gate.clear()
    first = threading.Thread(target=studio.render, args=(request, tmp_path / "1.mp4"))
    first.start()
    assert fake.started.wait(10)
    waiting_token = CancelToken()
    phases = []
    says_waiting = threading.Event()
    waiting_error = []

    def report(progress) -> None:
        phases.append(progress)
        if "waiting" in progress.message:
            says_waiting.set()

    def second() -> None:
        try:
            studio.render(request, tmp_path / "2.mp4", report, waiting_token)
        except Cancelled as exc:
            waiting_error.append(exc)

    waiter = threading.Thread(target=second)
    waiter.start()
    assert says_waiting.wait(10)  # it says why nothing moves …
    assert waiter.is_alive() and fake.most_at_once == 1  # … and it does wait: the first render still holds the gate
    waiting_token.cancel()
    waiter.join(10)
    assert waiting_error and not (tmp_path / "2.mp4").exists()
    fake.gate.set()
    first.join(10)
    studio.render(request, tmp_path / "3.mp4")
    assert fake.most_at_once == 1 and len(fake.rendered) == 2


def test_run_queue_stops_between_jobs_and_tells_which_job_runs(tmp_path):
    fake = FakeRenderer()
    studio = Studio(renderer=fake, queue_path=tmp_path / "queue.db")
    request = _request(tmp_path)
    ids = [studio.queue.add(request, tmp_path / f"out{i}.mp4") for i in range(3)]
    stop = CancelToken()
    seen = []

    def on_job(job) -> None:
        seen.append(None if job is None else job.id)
        if job is not None and job.id == ids[1]:
            stop.cancel()  # asked while the second job runs: it finishes, the third waits

    assert studio.run_queue(cancel=stop, on_job=on_job) == 2
    assert seen == [ids[0], None, ids[1], None]
    assert [studio.queue.get(i).state for i in ids] == ["finished", "finished", "queued"]
    assert studio.run_queue() == 1 and studio.queue.get(ids[2]).state == "finished"


def test_each_studio_owns_its_renderer_and_queue(tmp_path):
    a = Studio(renderer=FakeRenderer(), queue_path=tmp_path / "a.db")
    b = Studio(renderer=FakeRenderer(), queue_path=tmp_path / "b.db")
    assert a.renderer is not b.renderer and a.queue.path != b.queue.path
