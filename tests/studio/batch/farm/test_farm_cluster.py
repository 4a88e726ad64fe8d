"""The render farm on a real local Ray cluster: 127.0.0.1 only, 2 CPUs, so two worker processes render at once.

One cluster serves the whole module (starting one takes ~10 s). Jobs are real renders: warp jobs at 64×64
and tiny-fixture diffusion jobs on the CPU (``gpus_per_job=0``). Faults are real too: a worker process is
killed with SIGKILL mid-job, the submitter (``python -m studio batch run --cluster``) is killed with SIGKILL
mid-batch, and a running job is cancelled. Every test ends with each job finished exactly once (or
cancelled), its files complete, and no temporary file anywhere.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the render farm's tests need Ray (requirements-dev.txt)")

from studio.batch.farm import FarmError  # noqa: E402
from studio.batch.farm.cluster import connect, gcs_address  # noqa: E402
from studio.batch.farm.runner import FarmEvent, FarmRunner, FarmSettings  # noqa: E402
from studio.batch.farm.worker import sweep_dead_job_folders  # noqa: E402
from studio.batch.queue import JobQueue  # noqa: E402
from studio.export.exporter import probe_video  # noqa: E402
from studio.request.render_request import RenderRequest  # noqa: E402
from tests.generated_media import write_astronaut_photo, write_transform_video  # noqa: E402

REPO = Path(__file__).resolve().parents[4]
#: Frames of the long driving clip: enough work (pose extraction, warp, encode) that a job is surely still
#: running when the test reacts to its first progress report (a report travels worker → board → submitter in
#: well under the time 24 frames take).
LONG_FRAMES = 24


@pytest.fixture(scope="module")
def farm(tmp_path_factory):
    """A local cluster (2 CPUs, no GPU, 127.0.0.1) whose workers keep their cache in a throwaway folder."""
    home = tmp_path_factory.mktemp("farm_home")
    patch = pytest.MonkeyPatch()
    patch.setenv("STUDIO_HOME", str(home))  # the worker processes inherit it: their cache lives under it
    patch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    patch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    cluster = connect("local", num_cpus=2, num_gpus=0)
    try:
        assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
        assert gcs_address().startswith("127.0.0.1:")
        yield {"home": home, "cache": home / "cache" / "farm", "address": gcs_address()}
    finally:
        cluster.shutdown()
        patch.undo()


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("farm_media")
    photos = [write_astronaut_photo(folder / f"photo{i}.png", size) for i, size in enumerate((160, 176, 192))]
    short = write_transform_video(folder / "short.mp4", num_frames=3, size=96, fps=8.0)[0]
    medium = write_transform_video(folder / "medium.mp4", num_frames=4, size=96, fps=8.0)[0]
    return {"photos": photos, "short": short, "medium": medium}


def long_clip(folder: Path, fps: float) -> Path:
    """A long driving clip of its own content (its own fps): the studio caches extracted motion by content,
    and a job that must still be running when the test reacts must really extract its poses."""
    return write_transform_video(folder / "long.mp4", num_frames=LONG_FRAMES, size=96, fps=fps)[0]


def warp(**kw) -> RenderRequest:
    return RenderRequest(reference="-", motion="-", engine="warp", width=64, height=64, seed=3, **kw)


def settings(**kw) -> FarmSettings:
    return FarmSettings(gpus_per_job=0, max_attempts=3, **kw)


def outputs(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def expected_files(queue: JobQueue, root: Path, states=("finished",)) -> list[str]:
    names = []
    for job in queue.jobs():
        if job.state in states:
            out = Path(job.output).relative_to(root)
            names += [out.as_posix(), out.with_suffix(".json").as_posix()]
    return sorted(names)


def assert_finished_once(queue: JobQueue, out: Path, total: int) -> None:
    jobs = queue.jobs()
    assert len(jobs) == total and {j.state for j in jobs} == {"finished"}, [(j.id, j.state, j.error) for j in jobs]
    assert outputs(out) == expected_files(queue, out)  # one mp4 + sidecar per job, nothing else (no partials)
    for job in jobs:
        side = json.loads(Path(job.output).with_suffix(".json").read_text())
        # the sidecar names the submitter's inputs (what a re-render here reads) and where the job ran
        assert side["request"]["reference"] == job.request.reference
        assert side["request"]["motion"] == job.request.motion and side["seed"] == job.request.seed
        assert side["farm"]["attempt"] == job.attempts and side["farm"]["node"]
        assert probe_video(job.output).frames == side["output"]["frames"] > 0


def no_private_folders_left(cache: Path, wait_s: float = 30.0) -> list[str]:
    """The workers' private job folders once every dead worker's folder was swept (as the next task does)."""
    deadline = time.monotonic() + wait_s
    while True:
        sweep_dead_job_folders(cache / "jobs")
        left = [p.name for p in (cache / "jobs").iterdir()]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


def test_a_batch_of_six_warp_and_diffusion_jobs_finishes_each_job_once(farm, media, tiny_fixture_dir, tmp_path):
    queue = JobQueue(tmp_path / "q.db")
    p0, p1 = media["photos"][:2]
    warp_ids = queue.add_matrix(warp(), [p0, p1], [media["short"], media["medium"]], tmp_path / "out" / "warp")
    diffusion = RenderRequest(reference="-", motion="-", engine="diffusion", models=str(tiny_fixture_dir / "checkpoints"),
                              width=64, height=96, steps=2, tile_size=4, tile_overlap=1, seed=5)
    diffusion_ids = queue.add_matrix(diffusion, [p0], [media["short"], media["medium"]], tmp_path / "out" / "diffusion")
    events: list[FarmEvent] = []
    runner = FarmRunner(queue, settings())
    counts = runner.run(events.append)

    assert counts["finished"] == 6
    assert_finished_once(queue, tmp_path / "out", 6)
    ids = warp_ids + diffusion_ids
    assert sorted(runner.dispatched) == sorted(runner.installed) == sorted(ids)  # each submitted and written once
    assert all(queue.get(i).attempts == 1 for i in ids)
    assert runner.inputs.uploads == 4  # photo0, photo1, short, medium: once each although six jobs use them
    for job_id in diffusion_ids:
        assert json.loads(Path(queue.get(job_id).output).with_suffix(".json").read_text())["engine"] == "diffusion"
    # progress was streamed for every job, phase by phase, from the worker processes
    progress = [e for e in events if e.kind == "progress"]
    assert {e.job_id for e in progress} == set(ids)
    assert {"extract", "export"} <= {e.progress.phase for e in progress}
    assert any(e.progress.phase == "denoise" and e.job_id in diffusion_ids for e in progress)
    assert all(e.pid and e.pid != os.getpid() for e in progress)
    assert len({e.pid for e in progress}) >= 2  # two worker processes shared the batch
    assert no_private_folders_left(farm["cache"]) == []


def test_a_worker_killed_mid_job_is_retried_and_every_job_finishes_once(farm, media, tmp_path):
    queue = JobQueue(tmp_path / "q.db")
    photos = media["photos"]
    ids = queue.add_matrix(warp(), photos[:2], [media["short"], media["medium"]], tmp_path / "out")
    ids += queue.add_matrix(warp(), photos[2:], [media["short"], long_clip(tmp_path, 9.0)], tmp_path / "out")
    target = ids[-1]  # photo2 × long
    killed: list[int] = []

    def kill_once(event: FarmEvent) -> None:
        if (event.kind == "progress" and event.job_id == target and not killed
                and event.progress.phase in ("extract", "denoise", "export")):
            os.kill(event.pid, signal.SIGKILL)
            killed.append(event.pid)

    events: list[FarmEvent] = []
    runner = FarmRunner(queue, settings())
    runner.run(lambda e: (events.append(e), kill_once(e)))

    assert killed, "the target job never reported progress"
    assert [e.kind for e in events if e.job_id == target and e.kind != "progress"] == [
        "dispatched", "retry", "dispatched", "finished"]
    assert_finished_once(queue, tmp_path / "out", 6)
    assert queue.get(target).attempts == 2 and all(queue.get(i).attempts == 1 for i in ids if i != target)
    assert sorted(runner.installed) == sorted(ids)  # written once each, the retried one included
    assert runner.dispatched.count(target) == 2
    assert no_private_folders_left(farm["cache"]) == []  # the killed worker's folder was swept


def test_the_submitter_killed_mid_batch_then_rerun_submits_only_unfinished_jobs(farm, media, tmp_path):
    db, out = tmp_path / "q.db", tmp_path / "out"
    queue = JobQueue(db)
    ids = queue.add_matrix(warp(), media["photos"], [media["short"], media["medium"]], out)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    submitter = subprocess.Popen(
        [sys.executable, "-m", "studio", "batch", "run", "--db", str(db), "--cluster", farm["address"],
         "--gpus-per-job", "0", "--quiet"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while True:
            counts = queue.counts()
            if counts["finished"] >= 2 and counts["running"] >= 1:
                break
            assert submitter.poll() is None, submitter.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, f"the submitter made no progress: {counts}"
            time.sleep(0.05)
        submitter.send_signal(signal.SIGKILL)
    finally:
        submitter.kill()
        submitter.wait()
        submitter.stderr.close()
    finished_before = {j.id for j in queue.jobs("finished")}
    assert queue.counts()["finished"] < 6 and queue.jobs("running")  # killed mid-batch

    rerun = FarmRunner(queue, settings(address=farm["address"]))
    rerun.run()
    assert_finished_once(queue, out, 6)
    assert not finished_before & set(rerun.dispatched)  # nothing finished was submitted again
    assert sorted(rerun.dispatched) == sorted(set(ids) - finished_before)
    assert no_private_folders_left(farm["cache"]) == []


def test_cancel_reaches_a_running_task(farm, media, tmp_path):
    queue = JobQueue(tmp_path / "q.db")
    ids = queue.add_matrix(warp(), media["photos"][:1], [long_clip(tmp_path, 11.0), media["short"]], tmp_path / "out")
    target = ids[0]
    asked: list[str] = []

    def cancel_once(event: FarmEvent) -> None:
        if event.kind == "progress" and event.job_id == target and not asked and event.progress.phase == "extract":
            asked.append(queue.cancel(target))  # as `batch cancel ID` or the panel's Cancel does

    events: list[FarmEvent] = []
    runner = FarmRunner(queue, settings())
    runner.run(lambda e: (events.append(e), cancel_once(e)))

    assert asked == ["cancelling"]  # it was running when cancelled
    job = queue.get(target)
    assert job.state == "cancelled" and job.attempts == 1
    assert [e.kind for e in events if e.job_id == target and e.kind != "progress"] == ["dispatched", "cancelled"]
    assert queue.get(ids[1]).state == "finished"
    assert outputs(tmp_path / "out") == expected_files(queue, tmp_path / "out")  # nothing of the cancelled job
    assert no_private_folders_left(farm["cache"]) == []


def test_diffusion_jobs_on_a_cluster_without_gpus_fail_clearly_and_stay_queued(farm, media, tmp_path):
    queue = JobQueue(tmp_path / "q.db")
    job_id = queue.add(RenderRequest(reference=str(media["photos"][0]), motion=str(media["short"]),
                                     engine="diffusion", models="/nowhere"), tmp_path / "out" / "a.mp4")
    with pytest.raises(FarmError, match="has no GPUs.*--gpus-per-job 0"):
        FarmRunner(queue, FarmSettings(gpus_per_job=1)).run()
    assert queue.get(job_id).state == "queued" and queue.get(job_id).attempts == 0


def test_bad_jobs_fail_with_their_reason_and_the_batch_goes_on(farm, media, tmp_path):
    queue = JobQueue(tmp_path / "q.db")
    photo, clip = str(media["photos"][0]), str(media["short"])
    no_weights = queue.add(RenderRequest(reference=photo, motion=clip, engine="diffusion", models=str(tmp_path)),
                           tmp_path / "out" / "a.mp4")
    gone = tmp_path / "gone.png"
    gone.write_bytes(b"soon gone")
    missing_input = queue.add(warp().replace(reference=str(gone), motion=clip), tmp_path / "out" / "b.mp4")
    gone.unlink()
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the output folder should be")
    unwritable = queue.add(warp().replace(reference=photo, motion=clip), blocker / "c.mp4")
    good = queue.add(warp().replace(reference=photo, motion=clip), tmp_path / "out" / "d.mp4")
    FarmRunner(queue, settings(models=str(tmp_path / "no-weights-here"))).run()

    job = queue.get(no_weights)  # checked on the worker, with the worker's path in the reason
    assert job.state == "failed" and "has no usable weights" in job.error and "no-weights-here" in job.error
    assert queue.get(missing_input).state == "failed" and "gone.png does not exist" in queue.get(missing_input).error
    assert queue.get(unwritable).state == "failed" and "cannot create the output folder" in queue.get(unwritable).error
    assert queue.get(good).state == "finished"
    assert outputs(tmp_path / "out") == ["d.json", "d.mp4"]


def test_the_queue_panels_run_on_cluster_renders_the_queue(farm, media, qtbot, tmp_path):
    from studio.service import Studio
    from ui.queue_panel import QueuePanel
    from ui.workers import TaskRunner

    panel = QueuePanel(TaskRunner(), Studio())  # its queue is STUDIO_HOME's, a fresh one per test
    qtbot.addWidget(panel)
    job_id = panel.queue.add(warp().replace(reference=str(media["photos"][0]), motion=str(media["short"])),
                             tmp_path / "out" / "panel.mp4")
    seen: list[str] = []
    task = panel.run_on_cluster(farm["address"], 0.0)
    task.progressed.connect(lambda p: seen.append(p.phase))
    qtbot.waitUntil(lambda: panel.consumer is None, timeout=120000)
    assert panel.queue.get(job_id).state == "finished" and probe_video(tmp_path / "out" / "panel.mp4").frames == 3
    assert "export" in seen  # the worker's progress reached the panel
    with qtbot.waitSignal(panel.refreshed, timeout=30000):  # (the panel reads the queue on a worker thread)
        panel.refresh()
    assert panel.table.item(0, 1).text() == "finished"
    panel.stop()
