"""``python -m studio batch``: a matrix of real renders on the tiny fixture where bad inputs fail one job each
with a clear reason and every other job still finishes."""

from __future__ import annotations

import json

import numpy as np

from studio.__main__ import main
from studio.export.exporter import probe_video
from tests.generated_media import (
    write_astronaut_photo,
    write_corrupt_video,
    write_image,
    write_transform_video,
)


def status(capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["batch", "status", "--json"]) == 0
    return json.loads(capsys.readouterr().out)["jobs"]


def test_batch_matrix_with_bad_inputs(tiny_fixture_dir, tmp_path, capsys):
    photo = write_astronaut_photo(tmp_path / "good.png", 160)
    blank = write_image(tmp_path / "wall.png", np.full((96, 96, 3), 200, np.uint8))
    corrupt_photo = tmp_path / "corrupt.png"
    corrupt_photo.write_bytes(b"not an image at all")
    video = write_transform_video(tmp_path / "dance.mp4", num_frames=4, size=96, fps=8.0)[0]
    broken = write_corrupt_video(tmp_path / "broken.mp4")
    models = str(tiny_fixture_dir / "checkpoints")
    common = ["--models", models, "--width", "64", "--height", "96", "--steps", "2", "--tile-size", "4",
              "--seed", "1", "--face-model", "auto"]
    out = tmp_path / "out"
    assert main(["batch", "add", "--reference", str(photo), str(blank), str(corrupt_photo), str(tmp_path / "gone.png"),
                 "--motion", str(video), str(broken), "--out-dir", str(out), *common]) == 0
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    assert main(["batch", "add", "--reference", str(photo), "--motion", str(video), "--out-dir",
                 str(blocker / "sub"), *common]) == 0
    jobs = status(capsys)
    assert len(jobs) == 9 and {j["state"] for j in jobs} == {"queued"}

    # cancel one queued job: it must not run
    cancelled = next(j["id"] for j in jobs if j["reference"].endswith("good.png") and j["motion"].endswith("broken.mp4"))
    assert main(["batch", "cancel", str(cancelled)]) == 0

    assert main(["batch", "run", "--quiet"]) == 1  # some jobs failed
    jobs = {j["id"]: j for j in status(capsys)}
    by = {(j["reference"].split("/")[-1], j["motion"].split("/")[-1], "sub" in j["output"]): j for j in jobs.values()}
    good = by[("good.png", "dance.mp4", False)]
    assert good["state"] == "finished" and probe_video(good["output"]).frames == 4
    assert jobs[cancelled]["state"] == "cancelled" and jobs[cancelled]["attempts"] == 0
    expected_errors = {
        ("wall.png", "dance.mp4", False): "no face was found",
        ("corrupt.png", "dance.mp4", False): "not a readable image",
        ("gone.png", "dance.mp4", False): "file not found",
        ("good.png", "dance.mp4", True): "cannot create the output folder",
    }
    for key, text in expected_errors.items():
        assert by[key]["state"] == "failed" and text in by[key]["error"], (key, by[key]["error"])
    for (ref, motion, _), job in by.items():
        if motion == "broken.mp4" and ref != "good.png":
            assert job["state"] == "failed" and job["error"]
    assert not [p for p in out.rglob("*") if ".partial" in p.name]

    # retry the cancelled one: it runs now
    capsys.readouterr()
    assert main(["batch", "retry", str(cancelled)]) == 0
    main(["batch", "run", "--quiet"])
    assert {j["id"]: j for j in status(capsys)}[cancelled]["state"] == "failed"  # broken.mp4 cannot be read
