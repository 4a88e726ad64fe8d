"""Every bad input of the probe gets one clear line and no traceback (probe D9–D12, D15, D16)."""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest
from PIL import Image

from studio.__main__ import main
from studio.errors import ExportError, InputError
from studio.export import exporter as export_mod
from studio.export.output_names import create_partial
from studio.media.video_io import load_image
from studio.request.render_request import RenderRequest, content_hash
from tests.generated_media import write_astronaut_photo, write_transform_video


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_inputs_media")
    return {"photo": write_astronaut_photo(folder / "a.png", 200),
            "video": write_transform_video(folder / "v.mp4", num_frames=4, size=128, fps=8.0)[0]}


def warp(media, out, *extra: str, reference=None, motion=None) -> list[str]:
    return ["render", "--engine", "warp", "--width", "64", "--height", "64", "--frames", "2", "--quiet",
            "--reference", str(reference or media["photo"]), "--motion", str(motion or media["video"]),
            "--out", str(out), *extra]


def one_error_line(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1, err
    return err[0]


def test_decompression_bomb_is_one_line(media, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # the 200² photo is then past the bomb limit (2×)
    assert main(warp(media, tmp_path / "o.mp4")) == 1
    assert "too large to open safely" in one_error_line(capsys)


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("steps", "2", "steps must be a whole number, got '2'"),
    ("fps", "7", "fps must be a whole number, got '7'"),
    ("seed", 1.5, "seed must be a whole number, got 1.5"),
    ("min_guidance", float("nan"), "min_guidance must be a finite number, got nan"),
    ("max_guidance", float("inf"), "max_guidance must be a finite number, got inf"),
    ("start", float("nan"), "start must be a finite number, got nan"),
    ("export", {"crf": "18"}, "export.crf must be a whole number, got '18'"),
])
def test_wrong_kinds_are_refused_when_the_request_is_built(field, value, expected):
    data = {"reference": "a.png", "motion": "v.mp4", "models": "m", field: value}
    with pytest.raises(InputError, match="invalid render request") as error:
        RenderRequest.from_dict(data).validate()
    assert expected in str(error.value)


def test_string_numbers_in_a_request_file_and_nan_trim_on_the_cli(media, tmp_path, capsys):
    job = tmp_path / "req.json"
    job.write_text(json.dumps({"reference": str(media["photo"]), "motion": str(media["video"]), "engine": "warp",
                               "steps": "2", "export": {"crf": "18"}}))
    assert main(["render", "--request", str(job), "--out", str(tmp_path / "o.mp4")]) == 1
    assert "steps must be a whole number" in one_error_line(capsys)
    for flag, value in (("--start", "nan"), ("--end", "nan"), ("--start", "inf")):
        assert main(warp(media, tmp_path / "o.mp4", flag, value)) == 1
        assert "must be a finite number" in one_error_line(capsys)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_fifo_is_not_a_regular_file(media, tmp_path, capsys):
    fifo = tmp_path / "fifo.mp4"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        load_image(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        content_hash(fifo)
    assert main(warp(media, tmp_path / "o.mp4", motion=fifo)) == 1
    assert "not a regular file" in one_error_line(capsys)
    assert main(["extract-motion", str(fifo), "--reference", str(media["photo"]), "--out", str(tmp_path / "m"),
                 "--quiet"]) == 1  # at once: nothing reads the pipe
    assert "not a regular file" in one_error_line(capsys)


def test_empty_photo_says_photo(media, tmp_path, capsys):
    empty = tmp_path / "p.png"
    empty.write_bytes(b"")
    assert main(warp(media, tmp_path / "o.mp4", reference=empty)) == 1
    assert "empty (0 bytes); choose another photo" in one_error_line(capsys)


def test_malformed_motion_json_is_one_line(media, tmp_path, capsys):
    from studio.motion.types import PoseFrame

    folder = tmp_path / "mj"
    folder.mkdir()
    pose = json.dumps(PoseFrame().to_json())
    good_frames = f'"frames":[{{"index":0,"status":"none","source":{pose},"aligned":{pose}}}]'
    head = '{"version":2,"backend":"mediapipe","output":{"width":64,"height":64},' + good_frames
    for source in ('"x"', '[320, 320]', '{"width":320,"height":320,"fps":"fast"}', '{"width":320}',
                   '{"width":320,"height":320,"fps":-4}'):
        (folder / "motion.json").write_text(head + ',"source":' + source + '}')
        assert main(warp(media, tmp_path / "o.mp4", motion=folder)) == 1
        line = one_error_line(capsys)
        assert "motion.json" in line and "source" in line, line
    for text in ('{"frames":[{"source":5}],"source":{"width":320,"height":320,"fps":12}}',
                 '{"version":1,"backend":"mediapipe","output":{"width":64,"height":64},'
                 '"frames":[{"source":5,"aligned":5}],"source":{"width":320,"height":320,"fps":12}}',
                 '[1, 2]'):
        (folder / "motion.json").write_text(text)
        assert main(warp(media, tmp_path / "o.mp4", motion=folder)) == 1
        assert "motion.json" in one_error_line(capsys)


def _extract(media, out) -> list[str]:
    return ["extract-motion", str(media["video"]), "--reference", str(media["photo"]), "--out", str(out),
            "--width", "64", "--height", "64", "--quiet"]  # repeated runs in one test hit the motion cache


def test_extract_motion_on_a_full_or_read_only_disk_leaves_no_half_folder(media, tmp_path, monkeypatch, capsys):
    import studio.cli.extract_motion as extract_cli

    saves = {"n": 0}
    real_save = Image.Image.save

    def save_until_full(self, *args, **kwargs):
        saves["n"] += 1
        if saves["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", save_until_full)
    assert main(_extract(media, tmp_path / "motion")) == 1
    assert "is full" in one_error_line(capsys) and list(tmp_path.iterdir()) == []
    monkeypatch.setattr(Image.Image, "save", real_save)

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(extract_cli.tempfile, "mkdtemp", read_only)
    assert main(_extract(media, tmp_path / "motion")) == 1
    assert "Read-only file system" in one_error_line(capsys) and list(tmp_path.iterdir()) == []


def test_extract_motion_replaces_its_own_folder_but_never_a_users(media, tmp_path, capsys):
    out = tmp_path / "motion"
    assert main(_extract(media, out)) == 0
    assert main(_extract(media, out)) == 0  # an earlier extraction is replaced
    assert sorted(p.name for p in out.iterdir()) == ["faces", "motion.json", "poses"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    capsys.readouterr()
    assert main(_extract(media, mine)) == 1
    assert "did not write" in one_error_line(capsys) and (mine / "notes.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "motion"]


def test_a_full_disk_during_encoding_says_disk_full_and_names_the_output(tmp_path, monkeypatch):
    out = tmp_path / "o.mp4"
    pipe = export_mod._FfmpegPipe(64, 48, 8.0, ["-f", "mp4"], create_partial(out), final=out)
    pipe.proc.kill()  # ffmpeg gone, as when it dies of a full disk: the next write breaks the pipe
    pipe.proc.wait()
    monkeypatch.setattr(export_mod, "_free_bytes", lambda folder: 0)
    with pytest.raises(ExportError, match=f"the disk is full: could not finish writing {out}") as error:
        for _ in range(64):
            pipe.write(np.zeros((48, 64, 3), np.uint8))
    assert ".partial" not in str(error.value)
    pipe.kill()


def test_16_bit_greyscale_and_transparency(tmp_path):
    ramp = (np.arange(64 * 32, dtype=np.uint32).reshape(32, 64) * 32).astype(np.uint16)  # 0 … 65504
    Image.fromarray(ramp).save(tmp_path / "grey16.png")
    with Image.open(tmp_path / "grey16.png") as image:
        assert image.mode.startswith("I")
    loaded = load_image(tmp_path / "grey16.png")
    assert loaded.shape == (32, 64, 3) and np.abs(loaded[..., 0].astype(int) - ramp / 257).max() <= 0.5 + 1e-9
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., :3] = (200, 100, 50)
    rgba[:, 8:, 3] = 255
    rgba[:, 4:8, 3] = 128
    Image.fromarray(rgba).save(tmp_path / "alpha.png")
    loaded = load_image(tmp_path / "alpha.png")
    assert (loaded[:, :4] == 0).all()  # fully transparent: black, not the hidden colour
    assert (loaded[:, 8:] == (200, 100, 50)).all()
    assert (loaded[:, 4:8] == np.round(np.array([200, 100, 50]) * 128 / 255)).all()


def test_changed_input_of_a_sidecar_warns_and_strict_refuses(media, tmp_path, capsys):
    photo = tmp_path / "a.png"
    photo.write_bytes(media["photo"].read_bytes())
    request = RenderRequest(reference=str(photo), motion=str(media["video"]), engine="warp", width=64, height=64,
                            max_frames=2, seed=3).with_hashes()
    saved = tmp_path / "first.json"
    saved.write_text(json.dumps({"request": request.to_dict(), "output": {}}))
    Image.fromarray(np.flipud(load_image(photo))).save(photo)  # the photo changed since
    assert main(["render", "--request", str(saved), "--out", str(tmp_path / "again.mp4"), "--quiet",
                 "--strict"]) == 1
    assert "the reference" in one_error_line(capsys) and not (tmp_path / "again.mp4").exists()
    assert main(["render", "--request", str(saved), "--out", str(tmp_path / "again.mp4"), "--quiet"]) == 0
    assert "warning: the reference" in capsys.readouterr().err
