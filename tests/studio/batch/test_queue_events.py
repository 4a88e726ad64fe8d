"""The queue announces its changes (no one polls it) and the ETA is the studio's arithmetic."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from studio.batch.eta import eta_text, job_eta, queue_eta, step_rates
from studio.batch.queue import JobChange, JobQueue, QueueRunner
from tests.studio.batch.test_queue import FakeRenderer, base


def test_every_transition_is_announced_in_order_on_the_runner_thread(tmp_path):
    q = JobQueue(tmp_path / "q.db")
    seen: list[tuple[JobChange, str]] = []
    q.subscribe(lambda change: seen.append((change, threading.current_thread().name)))
    ok, bad = q.add_matrix(base(), ["ok.png", "fail.png"], ["m.mp4"], tmp_path / "out")
    runner = threading.Thread(target=QueueRunner(q, FakeRenderer(frames=3), poll_seconds=0.0).run, name="runner")
    runner.start()
    runner.join()
    moves = [(c.job_id, c.state) for c, _ in seen if c.moved]
    assert moves == [(ok, "queued"), (bad, "queued"), (ok, "running"), (ok, "finished"),
                     (bad, "running"), (bad, "failed")]
    progress = [c for c, _ in seen if not c.moved]
    assert len(progress) == 3 and all(c.job_id == ok and c.state == "running" for c in progress)
    assert {name for c, name in seen if c.state != "queued"} == {"runner"}


def test_cancel_retry_and_unsubscribe(tmp_path):
    q = JobQueue(tmp_path / "q.db")
    seen: list[JobChange] = []
    unsubscribe = q.subscribe(seen.append)
    job = q.add(base(), tmp_path / "a.mp4")
    q.cancel(job)
    q.retry(job)
    assert [(c.state, c.moved) for c in seen] == [("queued", True), ("cancelled", True), ("queued", True)]
    unsubscribe()
    q.cancel(job)
    assert len(seen) == 3


def test_a_failing_listener_does_not_stop_the_queue(tmp_path):
    q = JobQueue(tmp_path / "q.db")

    def broken(_change):
        raise RuntimeError("listener bug")

    seen: list[JobChange] = []
    q.subscribe(broken)
    q.subscribe(seen.append)
    job = q.add(base(), tmp_path / "a.mp4")
    assert QueueRunner(q, FakeRenderer()).run() == 1
    assert q.get(job).state == "finished" and seen[-1] == JobChange(job, "finished", True)


@dataclass
class _Request:
    engine: str
    steps: int
    interpolate: int = 1


@dataclass
class _Job:
    state: str
    request: _Request | None
    progress: float = 0.0
    seconds: float | None = None
    started: float | None = None
    device: str = "default"


def test_eta_arithmetic():
    finished = [_Job("finished", _Request("warp", 10), 1.0, seconds=20.0),  # 2 s per step
                _Job("finished", _Request("warp", 20), 1.0, seconds=80.0)]  # 4 s per step
    rates = step_rates(finished)
    assert rates == {"warp": pytest.approx(3.0)}
    assert job_eta(_Job("queued", _Request("warp", 5)), rates) == pytest.approx(15.0)
    running = _Job("running", _Request("warp", 10), progress=0.25, started=1000.0)
    assert job_eta(running, rates) == pytest.approx(30.0 * 0.75)  # the measured rate
    # with a clock: 10 s for a quarter leaves 30 s, whatever the rate says
    assert job_eta(running, rates, now=1010.0) == pytest.approx(30.0)
    assert job_eta(_Job("queued", _Request("diffusion", 5)), rates) is None  # no rate for that engine yet
    assert job_eta(finished[0], rates) is None
    assert queue_eta([*finished, _Job("queued", _Request("warp", 5)), running]) == pytest.approx(15.0 + 22.5)
    assert queue_eta([*finished, _Job("queued", _Request("diffusion", 5))]) is None
    assert eta_text(None) == "—" and eta_text(125.4) == "2:05"


def test_a_job_that_renders_every_other_frame_is_estimated_at_about_half_the_work():
    """``--interpolate N``: the engine renders about every N-th frame, so a waiting job's estimate shrinks by N, and
    a finished interpolated job's time counts as that much less work when the rate is measured."""
    rates = step_rates([_Job("finished", _Request("diffusion", 10), 1.0, seconds=100.0)])  # 10 s per step
    assert job_eta(_Job("queued", _Request("diffusion", 10, interpolate=2)), rates) == pytest.approx(50.0)
    assert job_eta(_Job("queued", _Request("diffusion", 10)), rates) == pytest.approx(100.0)
    rates = step_rates([_Job("finished", _Request("diffusion", 10, interpolate=4), 1.0, seconds=25.0)])
    assert job_eta(_Job("queued", _Request("diffusion", 10)), rates) == pytest.approx(100.0)
