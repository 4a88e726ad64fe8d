"""The submitter's own watch on the cluster's head (no Ray needed): how long it grants a silent head, that it
stays quiet while the head answers and speaks once when it stops, and that a lost head gives the held jobs back
to the queue once, whichever thread learns of it first."""

from __future__ import annotations

import socket
import threading

import pytest

from studio.batch.farm.head_watch import (
    LONGEST_GRACE,
    RAY_GCS_TIMEOUT_DEFAULT,
    HeadWatch,
    WatchTiming,
    ray_gcs_deadline,
)
from studio.batch.farm.runner import FarmRunner, FarmSettings, HeadLost
from studio.batch.queue import JobQueue
from studio.request.render_request import RenderRequest

ENV_KEY = "RAY_gcs_rpc_server_reconnect_timeout_s"


def test_ray_deadline_is_the_shortest_of_the_cluster_setting_the_environment_and_the_default(monkeypatch):
    monkeypatch.delenv(ENV_KEY, raising=False)
    assert ray_gcs_deadline({}) == RAY_GCS_TIMEOUT_DEFAULT
    assert ray_gcs_deadline({"gcs_rpc_server_reconnect_timeout_s": 20}) == 20
    monkeypatch.setenv(ENV_KEY, "7")
    assert ray_gcs_deadline({}) == 7
    assert ray_gcs_deadline({"gcs_rpc_server_reconnect_timeout_s": 20}) == 7
    assert ray_gcs_deadline({"gcs_rpc_server_reconnect_timeout_s": 3}) == 3
    monkeypatch.setenv(ENV_KEY, "soon")  # Ray would refuse it: the others stand
    assert ray_gcs_deadline({}) == RAY_GCS_TIMEOUT_DEFAULT


@pytest.mark.parametrize("deadline", [RAY_GCS_TIMEOUT_DEFAULT, 4.0, 1.0])
def test_the_watch_speaks_with_most_of_rays_deadline_left(deadline):
    timing = WatchTiming.within(deadline)
    # a loss is told at most one dial after the grace has passed
    assert timing.grace + timing.interval <= deadline / 2
    assert timing.grace <= LONGEST_GRACE and timing.interval < timing.grace


def test_the_watch_is_quiet_while_the_head_answers_and_speaks_once_when_it_stops():
    head = socket.socket()
    head.bind(("127.0.0.1", 0))
    head.listen(8)
    port = head.getsockname()[1]
    told: list[str] = []
    lost = threading.Event()
    watch = HeadWatch("127.0.0.1", port, WatchTiming(grace=0.2, interval=0.05),
                      on_lost=lambda why: (told.append(why), lost.set()))
    watch.start()
    try:
        head.settimeout(10)
        for _ in range(8):  # eight dials answered: more than a grace period's worth
            head.accept()[0].close()
        assert not told
        head.close()  # the head is gone: its port refuses
        assert lost.wait(10), "the watch never reported the silent head"
    finally:
        watch.stop()
    assert told == [f"its head at 127.0.0.1:{port} has not answered for 0.2 s"]


def test_a_lost_head_gives_the_held_jobs_back_once_and_ends_every_later_hand_over(tmp_path):
    queue = JobQueue(tmp_path / "queue.sqlite3")
    for seed in (1, 2):
        queue.add(RenderRequest(reference="a.png", motion="b.mp4", engine="warp", seed=seed), tmp_path / f"{seed}.mp4")
    runner = FarmRunner(queue, FarmSettings(address="127.0.0.1:6379"))
    told: list[HeadLost] = []
    runner._on_head_lost = told.append
    held = queue.claim_next()
    runner._held.add(held.id)

    losses = []
    threads = [threading.Thread(target=lambda: losses.append(runner._lose_head("gone"))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(told) == 1 and all(loss is told[0] for loss in losses)
    assert "lost the connection to the Ray cluster (gone)" in str(told[0])
    assert "the queue is intact: 1 running job(s) were queued again" in str(told[0])
    assert [j.state for j in queue.jobs()] == ["queued", "queued"]
    with pytest.raises(HeadLost):  # the loop may claim or settle nothing after it
        with runner._holding():
            queue.claim_next()
    assert [j.state for j in queue.jobs()] == ["queued", "queued"]
