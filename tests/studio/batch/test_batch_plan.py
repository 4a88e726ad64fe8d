"""One batch builder (``Studio.plan_batch``) for the window and ``batch add``: photos × motions × presets, each
request checked, each output named from the file-name template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.__main__ import main
from studio.batch.queue import JobQueue, default_queue_path
from studio.errors import InputError
from studio.request.render_request import RenderRequest
from studio.service import Studio

BASE = RenderRequest(reference="", motion="", engine="warp")


def test_every_photo_motion_and_preset_is_planned_and_named(tmp_path):
    planned = Studio.plan_batch(BASE, ["/p/anna.png", "/p/ben.png"], ["/m/salsa.mp4"], tmp_path,
                                presets=[None, "quality"])
    assert [(Path(j.request.reference).stem, j.preset, j.output.name) for j in planned] == [
        ("anna", None, "anna__salsa.mp4"), ("anna", "quality", "anna__salsa__quality.mp4"),
        ("ben", None, "ben__salsa.mp4"), ("ben", "quality", "ben__salsa__quality.mp4")]
    assert all(j.output.parent == tmp_path and j.request.seed is not None for j in planned)
    assert planned[1].request.steps == 30 and planned[0].request.steps == BASE.steps  # the preset applied


def test_the_template_names_jobs_with_the_seed_rendered_and_a_free_counter(tmp_path):
    (tmp_path / "anna_1.webm").write_bytes(b"an earlier take")
    base = BASE.replace(export={"format": "vp9-webm"})
    planned = Studio.plan_batch(base, ["anna.png"], ["a.mp4", "b.mp4"], tmp_path, name_template="{reference}_{counter}")
    assert [j.output.name for j in planned] == ["anna_2.webm", "anna_3.webm"]
    seeded = Studio.plan_batch(base.replace(seed=77), ["anna.png"], ["a.mp4"], tmp_path, name_template="{seed}")
    assert seeded[0].output.name == "77.webm"
    same = Studio.plan_batch(base, ["anna.png"], ["a.mp4", "a.mp4"], tmp_path)
    assert [j.output.name for j in same] == ["anna__a.webm", "anna__a_2.webm"]  # no two jobs share a name


def test_a_bad_setting_refuses_the_whole_batch_before_anything_is_queued(tmp_path):
    with pytest.raises(InputError, match="steps must be"):
        Studio.plan_batch(BASE.replace(steps=0), ["anna.png"], ["a.mp4"], tmp_path)


def test_the_cli_queues_what_the_builder_plans(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["batch", "add", "--reference", "/p/anna.png", "/p/ben.png", "--motion", "/m/salsa.mp4",
                 "--out-dir", str(out), "--engine", "warp", "--presets", "fast-preview", "quality"]) == 0
    jobs = JobQueue(default_queue_path()).jobs()
    planned = Studio.plan_batch(BASE, ["/p/anna.png", "/p/ben.png"], ["/m/salsa.mp4"], out,
                                presets=["fast-preview", "quality"])
    assert [Path(j.output).name for j in jobs] == [j.output.name for j in planned]
    assert [j.preset for j in jobs] == ["fast-preview", "quality"] * 2
    assert json.loads(jobs[0].request.to_json())["steps"] == 10
