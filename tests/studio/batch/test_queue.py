"""Batch queue: state machine, matrix, failures and cancel, crash safety with kill -9 — with a fake renderer.

The fake renderer writes real mp4s through the exporter (so partial files are real) but never imports torch.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from studio.batch.queue import JobQueue, QueueError, QueueRunner, RunnerBusy
from studio.errors import InputError
from studio.export.exporter import VideoExporter, probe_video
from studio.request.render_request import RenderRequest
from studio.system.progress import Progress

REPO = Path(__file__).resolve().parents[3]


class FakeRenderer:
    """Scriptable: ``frames`` per job, ``delay`` seconds per frame; a reference named ``*fail*`` raises
    InputError, ``*crash*`` raises a bug; completions are appended to ``log`` (one line per finished render)."""

    def __init__(self, frames: int = 4, delay: float = 0.0, log: str | None = None, on_frame=None):
        self.frames, self.delay, self.log, self.on_frame = frames, delay, log, on_frame

    def render(self, request, out, report, cancel):
        name = Path(request.reference).name
        if "fail" in name:
            raise InputError(f"{request.reference}: no face was found in the reference photo")
        if "crash" in name:
            raise ZeroDivisionError("division by zero")
        with VideoExporter(out, 8.0, 64, 48, request.export, metadata={"seed": request.seed}) as exporter:
            for i in range(self.frames):
                cancel.raise_if_cancelled()
                report(Progress("denoise", i + 1, self.frames))
                if self.on_frame:
                    self.on_frame(i)
                time.sleep(self.delay)
                exporter.write(np.full((48, 64, 3), (i * 40) % 255, np.uint8))
            cancel.raise_if_cancelled()
            result = exporter.finish({"request": request.to_dict()})
        if self.log:
            with open(self.log, "a") as handle:
                handle.write(f"{out}\n")
        return result


def base(**kw) -> RenderRequest:
    return RenderRequest(reference="photo.png", motion="dance.mp4", engine="warp", width=64, height=64, **kw)


def partials(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".partial" in p.name]


def test_a_batch_is_queued_whole_or_not_at_all(tmp_path, monkeypatch):
    """A planned batch goes in in one transaction: a job refused, or a write failing after the first job's row,
    leaves nothing queued (the window then says nothing was queued, and queueing again makes no duplicates)."""
    import studio.batch.queue as queue_module
    from studio.batch.plan import PlannedJob

    q = JobQueue(tmp_path / "q.db")
    good = PlannedJob(base(), tmp_path / "a.mp4")
    with pytest.raises(QueueError, match="must end in .mp4"):
        q.add_planned([good, PlannedJob(base(), tmp_path / "b.gif")])
    assert q.jobs() == []
    real_unused, named = queue_module._unused_output, []

    def second_fails(out, taken, request):
        named.append(out)
        if len(named) == 2:
            raise OSError("the disk is full")
        return real_unused(out, taken, request)

    monkeypatch.setattr(queue_module, "_unused_output", second_fails)
    with pytest.raises(OSError, match="disk is full"):
        q.add_planned([good, PlannedJob(base(), tmp_path / "b.mp4")])
    assert q.jobs() == [] and len(named) == 2
    monkeypatch.setattr(queue_module, "_unused_output", real_unused)
    ids = q.add_planned([good, good], batch="again")  # the second is numbered past the first, in one transaction
    assert [Path(q.get(i).output).name for i in ids] == ["a.mp4", "a_2.mp4"]


def test_state_machine_transitions(tmp_path):
    q = JobQueue(tmp_path / "q.db")
    job_id = q.add(base(), tmp_path / "a.mp4")
    job = q.get(job_id)
    assert job.state == "queued" and job.request.seed is not None  # the seed is fixed when queued
    with pytest.raises(QueueError, match="is queued; it cannot become finished"):
        q.finish(job_id)
    assert q.claim_next().id == job_id and q.get(job_id).state == "running"
    q.fail(job_id, "it broke")
    assert q.get(job_id).error == "it broke"
    q.retry(job_id)
    assert q.get(job_id).state == "queued" and q.get(job_id).error is None
    q.claim_next()
    q.finish(job_id, seconds=2.0)
    assert q.get(job_id).state == "finished"
    with pytest.raises(QueueError, match="only queued or running"):
        q.cancel(job_id)
    with pytest.raises(QueueError, match="no job with id 999"):
        q.get(999)


def test_matrix_queues_every_combination(tmp_path):
    q = JobQueue(tmp_path / "q.db")
    ids = q.add_matrix(base(), ["a.png", "b.png"], ["x.mp4", "y.mp4", "z.mp4"], tmp_path / "out",
                       presets=["fast-preview", "balanced"])
    jobs = q.jobs()
    assert len(ids) == 12 and len({j.output for j in jobs}) == 12
    assert {Path(j.output).name for j in jobs} >= {"a__x__fast-preview.mp4", "b__z__balanced.mp4"}
    assert {j.request.steps for j in jobs} == {10, 20}


def test_runner_goes_on_after_failures_and_records_reasons(tmp_path):
    q = JobQueue(tmp_path / "q.db")
    q.add_matrix(base(), ["ok1.png", "fail.png", "crash.png", "ok2.png"], ["m.mp4"], tmp_path / "out")
    ran = QueueRunner(q, FakeRenderer()).run()
    assert ran == 4
    states = {Path(j.request.reference).name: j for j in q.jobs()}
    assert states["ok1.png"].state == states["ok2.png"].state == "finished"
    assert states["fail.png"].state == "failed" and "no face was found" in states["fail.png"].error
    assert states["crash.png"].state == "failed" and "ZeroDivisionError" in states["crash.png"].error
    assert probe_video(states["ok2.png"].output).frames == 4
    assert q.eta_seconds() == 0.0 and q.seconds_per_step() > 0


def test_cancel_running_job_leaves_no_output_and_next_job_runs(tmp_path):
    q = JobQueue(tmp_path / "q.db")
    first, second = q.add_matrix(base(), ["one.png", "two.png"], ["m.mp4"], tmp_path / "out")

    def on_frame(i):
        if i == 1 and q.get(first).state == "running":
            q.cancel(first)

    QueueRunner(q, FakeRenderer(frames=6, on_frame=on_frame), poll_seconds=0.0).run()
    assert q.get(first).state == "cancelled" and not Path(q.get(first).output).exists()
    assert q.get(second).state == "finished" and Path(q.get(second).output).exists()
    assert partials(tmp_path) == []
    q.retry(first)
    QueueRunner(q, FakeRenderer()).run()
    assert q.get(first).state == "finished"


@pytest.mark.parametrize("job_cancelled_too", [False, True], ids=["stopped", "stopped-and-cancelled"])
def test_a_runner_stopped_mid_render_puts_its_job_back_unless_the_job_was_cancelled(tmp_path, job_cancelled_too):
    """The window closing stops its runner: the running render stops at its next check and the job waits for the
    next run, made by the runner itself (the window writes nothing); a cancel asked for the job still sticks."""
    q = JobQueue(tmp_path / "q.db")
    first, second = q.add_matrix(base(), ["one.png", "two.png"], ["m.mp4"], tmp_path / "out")
    stop = [False]

    def on_frame(i):
        if i == 1:
            stop[0] = True
            if job_cancelled_too:
                q.cancel(first)

    ran = QueueRunner(q, FakeRenderer(frames=6, on_frame=on_frame), poll_seconds=0.0).run(
        should_stop=lambda: stop[0])
    assert ran == 1 and q.get(second).state == "queued"  # the stopped runner starts nothing more
    job = q.get(first)
    assert job.state == ("cancelled" if job_cancelled_too else "queued") and not Path(job.output).exists()
    assert partials(tmp_path) == []


def test_cancel_queued_job_drops_it(tmp_path):
    q = JobQueue(tmp_path / "q.db")
    a, b = q.add_matrix(base(), ["one.png", "two.png"], ["m.mp4"], tmp_path / "out")
    assert q.cancel(b) == "cancelled"
    QueueRunner(q, FakeRenderer()).run()
    assert q.get(a).state == "finished" and q.get(b).state == "cancelled" and not Path(q.get(b).output).exists()


def test_one_runner_per_device(tmp_path):
    q = JobQueue(tmp_path / "q.db")
    first = QueueRunner(q, FakeRenderer())
    first.acquire()
    try:
        with pytest.raises(RunnerBusy, match="another batch runner"):
            QueueRunner(q, FakeRenderer()).acquire()
        QueueRunner(q, FakeRenderer(), device="gpu1").acquire()  # another device is fine
    finally:
        first.release()


def test_eta_from_measured_step_times(tmp_path):
    q = JobQueue(tmp_path / "q.db")
    done = q.add(base(steps=10), tmp_path / "a.mp4")
    q.claim_next()
    q.finish(done, seconds=20.0)  # 2 s per step
    q.add(base(steps=5), tmp_path / "b.mp4")
    q.add(base(steps=10), tmp_path / "c.mp4")
    assert q.eta_seconds() == pytest.approx(30.0)


RUNNER_SCRIPT = """
import sys
from studio.batch.queue import JobQueue, QueueRunner
from tests.studio.batch.test_queue import FakeRenderer
q = JobQueue(sys.argv[1])
QueueRunner(q, FakeRenderer(frames=int(sys.argv[3]), delay=float(sys.argv[4]), log=sys.argv[2])).run()
assert "torch" not in sys.modules, "the queue must not import torch"
print("done")
"""


def _runner(db: Path, log: Path, frames: int, delay: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", RUNNER_SCRIPT, str(db), str(log), str(frames), str(delay)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_kill_9_mid_job_then_resume_finishes_every_job_exactly_once(tmp_path):
    db, log, out = tmp_path / "q.db", tmp_path / "done.log", tmp_path / "out"
    q = JobQueue(db)
    ids = q.add_matrix(base(), ["p1.png", "p2.png", "p3.png"], ["m.mp4"], out)
    proc = _runner(db, log, frames=40, delay=0.05)
    try:
        deadline = time.monotonic() + 60
        # wait until the first job is half written: running, with a partial mp4 on disk
        while time.monotonic() < deadline:
            if q.get(ids[0]).state == "running" and partials(out) and q.get(ids[0]).progress > 0.3:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"runner never started: {proc.stderr.read() if proc.poll() is not None else ''}")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert partials(out), "the kill should have interrupted a write"
    assert q.get(ids[0]).state == "running" and not Path(q.get(ids[0]).output).exists()

    proc = _runner(db, log, frames=6, delay=0.0)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    jobs = q.jobs()
    assert [j.state for j in jobs] == ["finished"] * 3
    assert jobs[0].attempts == 2 and [j.attempts for j in jobs[1:]] == [1, 1]
    finished = log.read_text().splitlines()
    assert sorted(finished) == sorted(j.output for j in jobs)  # each exactly once
    assert partials(out) == []
    for job in jobs:
        assert probe_video(job.output).frames == 6
        assert json.loads(Path(job.output).with_suffix(".json").read_text())["request"]["seed"] == job.request.seed

    # running again redoes nothing
    proc = _runner(db, log, frames=6, delay=0.0)
    proc.communicate(timeout=60)
    assert len(log.read_text().splitlines()) == 3


def test_resume_marks_complete_output_finished_instead_of_redoing(tmp_path):
    q = JobQueue(tmp_path / "q.db")
    job_id = q.add(base(), tmp_path / "out" / "a.mp4")
    job = q.claim_next()
    FakeRenderer().render(job.request, job.output, lambda p: None, __import__("studio.system.progress").system.progress.CancelToken())
    # the process died after the rename but before recording "finished"
    log = tmp_path / "log"
    QueueRunner(q, FakeRenderer(log=str(log))).run()
    assert q.get(job_id).state == "finished" and not log.exists()
