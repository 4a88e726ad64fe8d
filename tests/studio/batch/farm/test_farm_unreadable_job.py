"""A queued job whose stored request cannot be read (it can only fail) does not stop the farm's start-up check."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from studio.batch.farm import FarmError
from studio.batch.farm.cluster import Cluster
from studio.batch.farm.runner import FarmRunner, FarmSettings
from studio.batch.queue import JobQueue
from tests.studio.batch.test_queue import base

NO_GPUS = Cluster(address="127.0.0.1:6379", owned=False, cpus=4.0, gpus=0.0)


def _spoil_request(queue: JobQueue, job_id: int) -> None:
    db = sqlite3.connect(queue.path)
    db.execute("UPDATE jobs SET request = ? WHERE id = ?", ("{not json", job_id))
    db.commit()
    db.close()


def test_the_resource_check_passes_over_a_queued_job_whose_request_cannot_be_read(tmp_path):
    queue = JobQueue(tmp_path / "queue.sqlite")
    spoiled, warp = queue.add_matrix(base(), ["a.png", "b.png"], ["m.mp4"], tmp_path / "out")
    _spoil_request(queue, spoiled)
    assert queue.get(spoiled).request is None and queue.get(spoiled).state == "queued"
    runner = FarmRunner(queue, FarmSettings(gpus_per_job=1.0))
    runner._check_resources(NO_GPUS)  # a warp job and an unreadable one: nothing needs a GPU

    diffusion = dataclasses.replace(base(), engine="diffusion", models=str(tmp_path / "models"))
    queue.add(diffusion, tmp_path / "out" / "d.mp4")
    with pytest.raises(FarmError, match="diffusion jobs but the Ray cluster"):
        runner._check_resources(NO_GPUS)  # the diffusion job behind the unreadable one is still seen
    assert queue.get(warp).state == "queued"
