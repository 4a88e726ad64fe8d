"""A cluster lost mid-batch: the head of a `ray start` cluster on 127.0.0.1 is killed while a job runs; the
submitter (``python -m studio batch run --cluster HOST:PORT``) ends with one clear line and the queue intact.

Its own cluster, in processes of their own (killing a head must not touch the module cluster of
``test_farm_cluster.py``), bound to 127.0.0.1 like every farm test.

Ray's driver ends the process by itself (``std::_Exit(1)``: no Python runs after it) once its GCS has been gone
for ``gcs_rpc_server_reconnect_timeout_s`` (``studio/batch/farm/head_watch.py`` has the details). The second case
sets that to 4 s for the submitter: Ray's end then comes 4-5 s after the kill, before the 5 s that
``ray.shutdown()`` alone waits on a dead GCS, so a run that reports the loss only after its cleanup (as it did)
ends with exit code 1 and no message every time; reported at once, the message is out well before.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="the render farm's tests need Ray (requirements-dev.txt)")

from studio.batch.queue import JobQueue  # noqa: E402
from studio.request.render_request import RenderRequest  # noqa: E402
from tests.generated_media import write_astronaut_photo, write_transform_video  # noqa: E402

REPO = Path(__file__).resolve().parents[4]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.3)


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


#: Seconds Ray's driver lives on without its GCS in the second case (Ray's default: 60).
RAY_ENDS_SUBMITTER_AFTER = "4"


@pytest.mark.parametrize("ray_deadline", [None, RAY_ENDS_SUBMITTER_AFTER], ids=["ray-default", "ray-ends-it-soon"])
def test_a_head_killed_mid_job_ends_the_run_clearly_and_keeps_the_queue(tmp_path, ray_deadline):
    env = os.environ | {"STUDIO_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1",
                        "RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    env.pop("RAY_gcs_rpc_server_reconnect_timeout_s", None)
    submitter_env = env if ray_deadline is None else env | {"RAY_gcs_rpc_server_reconnect_timeout_s": ray_deadline}
    photo = write_astronaut_photo(tmp_path / "a.png", 160)
    video = write_transform_video(tmp_path / "long.mp4", num_frames=48, size=128, fps=8.0)[0]
    db, out = tmp_path / "queue.sqlite3", tmp_path / "out"
    queue = JobQueue(db)
    for seed in (1, 2):
        request = RenderRequest(reference=str(photo), motion=str(video), engine="warp", width=256, height=256,
                                seed=seed)
        queue.add(request, out / f"take{seed}.mp4")

    port = free_port()
    ray_cli = Path(sys.executable).with_name("ray")
    head = subprocess.Popen([str(ray_cli), "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                             "--num-cpus", "1", "--num-gpus", "0", "--include-dashboard", "false", "--block"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    submitter = None
    try:
        wait_until(lambda: reachable(port), 60, "the Ray head")
        submitter = subprocess.Popen([sys.executable, "-m", "studio", "batch", "run", "--db", str(db), "--quiet",
                                      "--cluster", f"127.0.0.1:{port}"], env=submitter_env, cwd=tmp_path,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: any(j.state == "running" for j in queue.jobs()) or submitter.poll() is not None, 120,
                   "a job to run on the cluster")
        assert submitter.poll() is None, submitter.communicate()[1][-2000:]
        os.killpg(head.pid, signal.SIGKILL)  # the head and everything it started: the cluster is gone
        _stdout, stderr = submitter.communicate(timeout=180)
    finally:
        if head.poll() is None:
            os.killpg(head.pid, signal.SIGKILL)
        head.wait(timeout=30)
        if submitter is not None and submitter.poll() is None:
            submitter.kill()

    assert submitter.returncode == 1
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "lost the connection to the Ray cluster" in lines[0], stderr[-2000:]
    assert "the queue is intact" in lines[0] and "Traceback" not in stderr
    # every job waits for the next run; nothing half-written poses as an output
    assert {j.state for j in queue.jobs()} == {"queued"}
    assert not out.exists() or not [p.name for p in out.iterdir() if not p.name.startswith(".")]
