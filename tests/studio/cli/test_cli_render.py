"""``python -m studio render`` on the tiny fixture: options reach the request, warnings, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.__main__ import main
from studio.export.exporter import probe_video
from tests.generated_media import write_astronaut_photo, write_transform_video

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_media")
    return {"photo": write_astronaut_photo(folder / "me.png", 160),
            "video": write_transform_video(folder / "moves.mp4", num_frames=5, size=96, fps=10.0, audio=True)[0]}


def test_render_command_writes_mp4_and_sidecar(tiny_fixture_dir, media, tmp_path, capsys):
    out = tmp_path / "o.mp4"
    code = main(["render", "--models", str(tiny_fixture_dir / "checkpoints"), "--reference", str(media["photo"]),
                 "--motion", str(media["video"]), "--out", str(out), "--width", "64", "--height", "96",
                 "--steps", "2", "--seed", "123", "--frames", "4", "--face-model", "none", "--tile-size", "4",
                 "--crf", "28", "--x264-preset", "veryfast", "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "zero identity embedding" in captured.err
    assert probe_video(out).frames == 4
    request = json.loads(out.with_suffix(".json").read_text())["request"]
    assert (request["seed"], request["steps"], request["max_frames"], request["export"]["crf"]) == (123, 2, 4, 28)
    assert request["face_model"] == "none" and request["motion_hash"].startswith("sha256:")


def test_render_errors_are_messages_not_tracebacks(tiny_fixture_dir, media, tmp_path):
    cmd = [sys.executable, "-m", "studio", "render", "--models", str(tmp_path / "no_weights"), "--reference",
           str(media["photo"]), "--motion", str(media["video"]), "--out", str(tmp_path / "o.mp4")]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "error: the weights folder" in result.stderr and "Traceback" not in result.stderr
    result = subprocess.run(cmd[:5] + [str(tiny_fixture_dir / "checkpoints"), "--reference", str(media["photo"]),
                                       "--motion", str(media["video"]), "--out", str(tmp_path / "o.mp4"),
                                       "--steps", "0"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "steps must be between 1 and 500, got 0" in result.stderr
    assert not (tmp_path / "o.mp4").exists()
