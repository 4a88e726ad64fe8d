"""The queue survives bad rows and a bad file (probe D5–D8): an unreadable job fails alone, a corrupt database
is kept aside and replaced, a cancel of an orphaned job sticks, orphans show as interrupted, outputs are unique."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from studio.__main__ import main
from studio.batch.queue import JobQueue, QueueRunner, default_queue_path
from studio.request.render_request import REQUEST_VERSION
from studio.system.platform import DeviceLock
from tests.studio.batch.test_queue import FakeRenderer, base


def _set_request(queue: JobQueue, job_id: int, text: str) -> None:
    db = sqlite3.connect(queue.path)
    db.execute("UPDATE jobs SET request = ? WHERE id = ?", (text, job_id))
    db.commit()
    db.close()


def test_unreadable_rows_fail_alone_and_stay_cancellable(tmp_path, capsys):
    queue = JobQueue(default_queue_path())
    garbage, newer, good, spare = queue.add_matrix(base(), ["g.png", "n.png", "ok.png", "s.png"], ["m.mp4"],
                                                   tmp_path / "out")
    _set_request(queue, garbage, "{not json")
    newer_request = json.loads(queue.get(newer).request.to_json()) | {"version": REQUEST_VERSION + 1}
    _set_request(queue, newer, json.dumps(newer_request))
    _set_request(queue, spare, "{not json either")
    assert main(["batch", "status"]) == 0
    assert main(["batch", "cancel", str(spare)]) == 0 and queue.get(spare).state == "cancelled"
    capsys.readouterr()
    QueueRunner(queue, FakeRenderer()).run()
    assert queue.get(garbage).state == "failed" and "not valid JSON" in queue.get(garbage).error
    assert queue.get(newer).state == "failed" and f"version {REQUEST_VERSION + 1} is not supported" in queue.get(newer).error
    assert queue.get(good).state == "finished" and Path(queue.get(good).output).is_file()
    assert main(["batch", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["jobs"][0]["reference"] is None


def test_a_corrupt_database_is_kept_aside_and_a_fresh_one_started(tmp_path, capsys):
    path = default_queue_path()
    JobQueue(path).add(base(), tmp_path / "a.mp4")
    garbage = bytes(range(256)) * 64
    path.write_bytes(garbage)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    assert main(["batch", "status"]) == 1  # looking says so and leaves the file as it is
    err = capsys.readouterr().err
    assert "damaged" in err and "left as it is" in err and path.read_bytes() == garbage
    assert main(["batch", "cancel", "--all"]) == 0  # a writer keeps it aside and starts afresh
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "damaged" in err and "Traceback" not in err
    kept = [p for p in path.parent.iterdir() if p.name.startswith(path.name + ".corrupt-")]
    assert len(kept) == 1 and kept[0].name in err and kept[0].read_bytes() == garbage
    queue = JobQueue(path)
    assert queue.notice is None and queue.jobs() == []
    queue.add(base(), tmp_path / "b.mp4")
    assert len(queue.jobs()) == 1


def test_cancel_of_an_orphaned_running_job_sticks(tmp_path, capsys):
    queue = JobQueue(default_queue_path())
    orphan, later = queue.add_matrix(base(), ["one.png", "two.png"], ["m.mp4"], tmp_path / "out")
    queue.claim_next()  # a runner took it, then died (no one holds the device lock)
    assert main(["batch", "status"]) == 0
    assert "interrupted" in capsys.readouterr().out
    assert queue.cancel(orphan) == "cancelled"
    log = tmp_path / "rendered.txt"
    QueueRunner(queue, FakeRenderer(log=str(log))).run()
    assert queue.get(orphan).state == "cancelled" and queue.get(orphan).attempts == 1
    assert log.read_text().splitlines() == [queue.get(later).output]


def test_a_cancel_asked_of_a_live_runner_that_then_died_sticks(tmp_path):
    queue = JobQueue(default_queue_path())
    job = queue.add(base(), tmp_path / "a.mp4")
    queue.claim_next()
    lock = DeviceLock(queue.lock_path("default"))  # the runner is alive while the cancel is asked
    assert lock.try_acquire()
    assert queue.cancel(job) == "cancelling"
    lock.release()
    QueueRunner(queue, FakeRenderer()).run()  # the next runner recovers it
    assert queue.get(job).state == "cancelled" and not Path(queue.get(job).output).exists()


def test_batch_run_fails_only_for_its_own_failures(tmp_path, monkeypatch, capsys):
    import studio.render.renderer as renderer_module

    queue = JobQueue(default_queue_path())
    old = queue.add(base(), tmp_path / "old.mp4")
    queue.claim_next()
    queue.fail(old, "an earlier run's failure")
    queue.add(base(), tmp_path / "new.mp4")
    monkeypatch.setattr(renderer_module, "Renderer", FakeRenderer)
    assert main(["batch", "run", "--quiet"]) == 0
    queue.add(base().replace(reference="fail.png"), tmp_path / "bad.mp4")
    assert main(["batch", "run", "--quiet"]) == 1


@pytest.mark.parametrize("existing_file", [False, True])
def test_jobs_never_share_an_output_and_never_take_an_existing_file(tmp_path, existing_file):
    out = tmp_path / "out"
    out.mkdir()
    if existing_file:
        (out / "a__v.mp4").write_bytes(b"the user's video")
    queue = JobQueue(default_queue_path())
    first = queue.add_matrix(base(seed=1), ["a.png"], ["v.mp4"], out)
    second = queue.add_matrix(base(seed=2), ["a.png"], ["v.mp4"], out)
    names = [Path(queue.get(i).output).name for i in first + second]
    assert names == (["a__v_2.mp4", "a__v_3.mp4"] if existing_file else ["a__v.mp4", "a__v_2.mp4"])
    QueueRunner(queue, FakeRenderer()).run()
    assert all(queue.get(i).state == "finished" for i in first + second)
    if existing_file:
        assert (out / "a__v.mp4").read_bytes() == b"the user's video"
