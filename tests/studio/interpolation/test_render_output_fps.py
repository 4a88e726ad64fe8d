"""``render --fps F`` above the motion's rate: the frames in between are interpolated and the clip keeps its
duration (issue 20). Frame count and the moment each output frame shows, the sidecar's record, ``--interpolate N``
together with it, and one clear line for what cannot be done (a rate below the motion's, one frame, a variable
frame rate, a factor of 0)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from studio.__main__ import main
from studio.export.exporter import probe_video
from studio.media.video_io import load_image
from tests.generated_media import write_astronaut_photo, write_transform_video
from tests.studio.interpolation.test_cli_interpolate import _vfr_clip

SOURCE_FPS = 10.0


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fps_media")
    return {"photo": write_astronaut_photo(folder / "me.png", 160),
            "video": write_transform_video(folder / "moves.mp4", num_frames=5, size=96, fps=SOURCE_FPS,
                                           audio=True)[0]}


def _render(capsys, media, out: Path, *args) -> tuple[int, str]:
    code = main(["render", "--engine", "warp", "--reference", str(media["photo"]), "--motion", str(media["video"]),
                 "--out", str(out), "--width", "96", "--height", "96", "--face-model", "none", "--seed", "1",
                 "--quiet", *map(str, args)])
    return code, capsys.readouterr().err


def _png_frames(folder: Path) -> list[np.ndarray]:
    return [load_image(p).astype(np.int16) for p in sorted(folder.glob("*.png"))]


@pytest.fixture(scope="module")
def source_rate(media, tmp_path_factory):
    """The same render at the motion's own rate: one PNG per driving frame."""
    out = tmp_path_factory.mktemp("source") / "frames"
    code = main(["render", "--engine", "warp", "--reference", str(media["photo"]), "--motion", str(media["video"]),
                 "--out", str(out), "--width", "96", "--height", "96", "--face-model", "none", "--seed", "1",
                 "--quiet", "--format", "png-sequence"])
    assert code == 0
    return _png_frames(out)


def _mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def test_an_output_rate_above_the_motions_fills_in_frames_and_keeps_the_duration(media, source_rate, tmp_path,
                                                                                 capsys):
    out = tmp_path / "smooth"
    code, err = _render(capsys, media, out, "--fps", 25, "--format", "png-sequence")
    assert code == 0, err
    frames = _png_frames(out)
    # 5 frames at 10 fps last 0.5 s: 12 frames at 25 fps (floor(5 · 25 / 10)); frame k shows driving time k · 0.4
    assert len(frames) == 12 == len(source_rate) * 25 // 10
    sidecar = json.loads(out.with_suffix(".json").read_text())
    record = sidecar["interpolation"]
    assert sidecar["output"]["fps"] == 25 and sidecar["output"]["source_fps"] == SOURCE_FPS
    assert sidecar["output"]["frames"] == 12 and sidecar["output"]["source_frames"] == 5
    assert (record["source_fps"], record["output_fps"], record["every"]) == (SOURCE_FPS, 25, 1)
    assert record["rendered_frames"] == [0, 1, 2, 3, 4]
    positions = [index + t for index, t in record["moments"]]
    assert positions == pytest.approx([min(k * 0.4, 4) for k in range(12)])
    # frames 0, 5 and 10 show driving frames 0, 2 and 4 (and 11 holds the last): the engine's own frames
    copies = {0: 0, 5: 2, 10: 4, 11: 4}
    assert record["interpolated_frames"] == 12 - len(copies)
    for k, i in copies.items():
        assert _mad(frames[k], source_rate[i]) == 0, k
    # frame 1 shows time 0.4 and frame 2 time 0.8 between driving frames 0 and 1: each lies between them, and the
    # later one nearer frame 1
    step = _mad(source_rate[0], source_rate[1])
    assert step > 1
    assert _mad(frames[1], source_rate[0]) < step and _mad(frames[1], source_rate[1]) < step
    assert _mad(frames[2], source_rate[1]) < _mad(frames[1], source_rate[1])
    assert sidecar["request"]["export"]["fps"] == 25


def test_render_every_second_frame_then_fill_up_to_the_output_rate(media, source_rate, tmp_path, capsys):
    out = tmp_path / "both.mp4"
    code, err = _render(capsys, media, out, "--fps", 20, "--interpolate", 2, "--crf", 0)
    assert code == 0, err
    info = probe_video(out)
    assert info.frames == 10 and info.fps == 20
    assert abs(info.duration_s - 0.5) < 0.06  # the driving clip's half second
    record = json.loads(out.with_suffix(".json").read_text())["interpolation"]
    assert record["every"] == 2 and record["output_fps"] == 20
    # every 2nd driving frame and the last are rendered (more only where a pose moves too fast to guess)
    assert {0, 2, 4} <= set(record["rendered_frames"]) and len(record["rendered_frames"]) < 5
    rendered = set(record["rendered_frames"])
    copies = [k for k, (index, t) in enumerate(record["moments"]) if t == 0 and index in rendered]
    assert record["interpolated_frames"] == 10 - len(copies)
    assert [record["moments"][k][0] for k in (0, 4, 8)] == [0, 2, 4]


def _vfr_motion(tmp_path):
    return _vfr_clip(tmp_path / "vfr.mp4")


@pytest.mark.parametrize("case", ["fps below", "fps below the strided rate", "one frame", "variable rate",
                                  "factor 0"])
def test_bad_input_is_one_clear_line(case, media, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    args, expected = {
        "fps below": (("--fps", 8), "output frame rate 8 fps (--fps) is below the driving motion's 10 fps"),
        "fps below the strided rate": (("--fps", 4, "--stride", 2), "below the driving motion's 5 fps"),
        "one frame": (("--fps", 25, "--frames", 1), "needs at least 2"),
        "variable rate": (("--fps", 25, "--motion", _vfr_motion(tmp_path)), "variable frame rate"),
        "factor 0": (("--interpolate", 0), "interpolate must be between 1 and 8, got 0"),
    }[case]
    code, err = _render(capsys, media, out, *args)
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("error")]  # (warnings about the face may come)
    assert len(errors) == 1 and expected in errors[0] and "Traceback" not in err, err
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_the_motions_own_rate_interpolates_nothing(media, source_rate, tmp_path, capsys):
    out = tmp_path / "same"
    code, err = _render(capsys, media, out, "--fps", SOURCE_FPS, "--format", "png-sequence")
    assert code == 0, err
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["interpolation"] is None and sidecar["output"]["fps"] == SOURCE_FPS
    assert [_mad(a, b) for a, b in zip(_png_frames(out), source_rate, strict=True)] == [0] * 5


def test_the_queue_renders_at_the_output_rate_and_counts_the_interpolate_phase(media, tmp_path, capsys):
    from studio.batch.queue import _overall_fraction
    from studio.system.progress import Progress

    out_dir = tmp_path / "renders"
    assert main(["batch", "add", "--engine", "warp", "--reference", str(media["photo"]), "--motion",
                 str(media["video"]), "--out-dir", str(out_dir), "--width", "96", "--height", "96", "--face-model",
                 "none", "--fps", "25", "--interpolate", "2"]) == 0
    assert main(["batch", "run", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["batch", "status", "--json"]) == 0
    job = json.loads(capsys.readouterr().out)["jobs"][-1]
    assert job["state"] == "finished", job
    info = probe_video(job["output"])
    assert (info.fps, info.frames) == (25, 12)
    record = json.loads(Path(job["output"]).with_suffix(".json").read_text())["interpolation"]
    assert record["every"] == 2 and record["output_fps"] == 25
    # filling frames streams with the export (k of n filled ≈ k of n encoded): the same span of the job, the last
    assert 0.9 < _overall_fraction(Progress("interpolate", 1, 2)) == _overall_fraction(Progress("export", 1, 2)) < 1


@pytest.fixture(scope="module")
def rife_models(tmp_path_factory) -> Path:
    """A weights folder holding only RIFE/flownet.pkl: the rife-tiny fixture's file (released layout, random
    weights), unpacked from tests/data."""
    import lzma
    import shutil

    models = tmp_path_factory.mktemp("models")
    (models / "RIFE").mkdir()
    packed = Path(__file__).resolve().parents[2] / "data" / "rife-tiny" / "train_log" / "flownet.pkl.xz"
    with lzma.open(packed) as source, (models / "RIFE" / "flownet.pkl").open("wb") as out:
        shutil.copyfileobj(source, out)
    return models


def test_rife_fills_the_frames_when_its_weights_are_in_the_models_folder(media, rife_models, tmp_path, capsys):
    out = tmp_path / "rife.mp4"
    code, err = _render(capsys, media, out, "--interpolate", 2, "--fps", 20, "--method", "rife", "--models",
                        rife_models, "--device", "cpu")
    assert code == 0, err
    assert probe_video(out).frames == 10
    sidecar = json.loads(out.with_suffix(".json").read_text())
    record = sidecar["interpolation"]
    assert record["method"] == "rife" and record["device"] == "cpu (float32)" and record["output_fps"] == 20
    assert sidecar["request"]["interpolate_method"] == "rife"


def test_rife_without_its_weights_is_refused_before_the_render(media, tmp_path, capsys):
    out = tmp_path / "rife.mp4"
    code, err = _render(capsys, media, out, "--interpolate", 2, "--method", "rife", "--models", tmp_path)
    assert code == 1 and "--method rife: RIFE 4.25/4.26 needs its weights at" in err and "RIFE/flownet.pkl" in err
    assert "Traceback" not in err and not out.exists()


def test_a_version_2_request_still_plays_its_frames_at_its_rate(media, tmp_path, capsys):
    """Version 2's export.fps played the driving frames at that rate (5 frames at 5 fps: twice as long); such a
    sidecar renders that video again. An output rate given now wins (the window has no editor for the old one)."""
    old = {"version": 2, "reference": str(media["photo"]), "motion": str(media["video"]), "engine": "warp",
           "width": 96, "height": 96, "face_model": "none", "seed": 1, "export": {"fps": 5.0}}
    saved = tmp_path / "request.json"
    saved.write_text(json.dumps(old))
    out = tmp_path / "old.mp4"
    assert main(["render", "--request", str(saved), "--out", str(out), "--quiet"]) == 0
    info = probe_video(out)
    assert (info.frames, info.fps) == (5, 5)
    request = json.loads(out.with_suffix(".json").read_text())["request"]
    assert (request["version"], request["export"]["fps"], request["export"]["playback_fps"]) == (3, None, 5.0)
    now = tmp_path / "now.mp4"
    assert main(["render", "--request", str(saved), "--out", str(now), "--fps", "25", "--quiet"]) == 0
    assert (probe_video(now).frames, probe_video(now).fps) == (12, 25)
