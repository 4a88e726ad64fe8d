"""CLI manners and logs: defaults and choices in --help, booleans that override a --request, the format picked
from --out, --json, the rotating log file, a quiet terminal, and native stderr chatter kept off it."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.__main__ import build_parser, main
from studio.cli.options import help_text
from studio.cli.render import request_from_args
from studio.request.render_request import RenderRequest
from studio.request.schema import setting_by_path

ROOT = Path(__file__).resolve().parents[3]


def _request(*flags: str, out: str = "o.mp4"):
    args = build_parser().parse_args(["render", "--reference", "a.png", "--motion", "b.mp4", "--out", out,
                                      "--engine", "warp", *flags])
    return request_from_args(args, args.reference, args.motion)


def test_help_shows_defaults_choices_and_negatable_booleans(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["render", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    # the help is the declaration's own, default included (never written out by hand)
    width = setting_by_path(RenderRequest)["width"]
    assert f"--width WIDTH {help_text(width)}" in text and "(default: 512 px)" in text
    assert "--device {auto,cuda,mps,cpu}" in text and "--x264-preset {ultrafast," in text
    assert "--format {h264-mp4,h264-10bit-mp4,h265-mp4,vp9-webm,av1-webm,prores-mov,webp,gif,png-sequence}" in text
    assert "--hjb, --no-hjb" in text and "--audio, --no-audio" in text and "(default: on)" in text
    assert "(default: None)" not in text


def test_enum_options_reject_unknown_values(capsys):
    with pytest.raises(SystemExit) as exit_info:
        _request("--device", "gpu")
    assert exit_info.value.code == 2 and "invalid choice: 'gpu'" in capsys.readouterr().err


def test_booleans_override_a_saved_request_both_ways(tmp_path):
    saved = RenderRequest(reference="a.png", motion="b.mp4", engine="warp", cpu_offload=True,
                          hjb={"enabled": True}, export={"audio": False, "gif": True})
    path = tmp_path / "saved.json"
    path.write_text(saved.to_json())
    kept = _request("--request", str(path))
    assert (kept.hjb.enabled, kept.cpu_offload, kept.export.audio, kept.export.gif) == (True, True, False, True)
    flipped = _request("--request", str(path), "--no-hjb", "--no-cpu-offload", "--audio", "--no-gif", "--pingpong")
    assert (flipped.hjb.enabled, flipped.cpu_offload, flipped.export.audio, flipped.export.gif) == (
        False, False, True, False)
    assert flipped.export.pingpong is True


def test_format_follows_the_output_extension_unless_given():
    assert _request(out="o.webm").export.format == "vp9-webm"
    assert _request(out="o.mov").export.format == "prores-mov"
    assert _request("--format", "av1-webm", out="o.webm").export.format == "av1-webm"
    assert _request(out="o.mp4").export.format == "h264-mp4"
    assert _request("--format", "gif", "--loop", "2", out="o.gif").export.loop == 2


def test_doctor_json(tmp_path, capsys):
    assert main(["doctor", "--models", str(tmp_path / "nothing"), "--quick", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and "does not exist" in report["error"]
    (tmp_path / "empty").mkdir()
    assert main(["doctor", "--models", str(tmp_path / "empty"), "--quick", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["missing"]
    assert Path(report["studio"]["log_file"]).name == "studio.log"
    assert report["studio"]["data_folder"] == os.environ["STUDIO_HOME"]
    assert report["studio"]["encoders"]["h264-mp4"] in ("libx264", "h264_nvenc")
    assert report["studio"]["encoders"]["prores-mov"] == "prores_ks"


def test_log_file_gets_the_command_and_the_terminal_stays_quiet(capsys):
    main(["doctor", "--models", "/nonexistent", "--quick"])
    logging.getLogger("some.library").info("library chatter")
    logging.getLogger("some.library").warning("library warning")
    logging.getLogger("studio.test").warning("studio warning")
    err = capsys.readouterr().err
    assert "library" not in err and "studio warning" in err
    log = (Path(os.environ["STUDIO_HOME"]) / "logs" / "studio.log").read_text()
    assert "doctor --models /nonexistent --quick" in log
    assert "library warning" in log and "library chatter" not in log and "studio warning" in log


def test_verbose_shows_library_info(capsys):
    main(["doctor", "--models", "/nonexistent", "--quick", "-v"])
    logging.getLogger("some.library").info("library chatter")
    assert "library chatter" in capsys.readouterr().err
    main(["doctor", "--models", "/nonexistent", "--quick"])  # back to quiet for the tests that follow
    capsys.readouterr()


def test_native_stderr_goes_to_the_log_folder_not_the_terminal(tmp_path):
    """What C++ code writes to descriptor 2 (mediapipe's W0000 lines) lands in logs/native.log."""
    code = ("import os, sys; from studio.system.logs import native_stderr_to_file; native_stderr_to_file(); "
            "os.write(2, b'W0000 native chatter\\n'); print('python says hi', file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, STUDIO_HOME=str(tmp_path), PYTHONPATH=str(ROOT)))
    assert result.returncode == 0
    assert "python says hi" in result.stderr and "W0000" not in result.stderr
    assert "W0000 native chatter" in (tmp_path / "logs" / "native.log").read_text()


def test_verbose_before_or_after_any_subcommand():
    assert build_parser().parse_args(["batch", "run", "-vv"]).verbose == 2
    assert build_parser().parse_args(["-v", "presets"]).verbose == 1
    assert build_parser().parse_args(["presets"]).verbose == 0
    assert build_parser().parse_args(["doctor", "--models", "x", "--log-level", "debug"]).log_level == "debug"


def test_preset_names_are_choices(capsys):
    with pytest.raises(SystemExit):
        _request("--preset", "ultra")
    assert "invalid choice: 'ultra'" in capsys.readouterr().err


def test_extract_motion_json(tmp_path, capsys):
    from tests.generated_media import write_astronaut_photo, write_transform_video

    video, _ = write_transform_video(tmp_path / "drive.mp4", num_frames=3, size=128)
    photo = write_astronaut_photo(tmp_path / "photo.png", size=128)
    assert main(["extract-motion", str(video), "--reference", str(photo), "--out", str(tmp_path / "m"),
                 "--quiet", "--no-cache", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["frames"], summary["width"], summary["height"], summary["backend"]) == (3, 128, 128, "mediapipe")
    assert Path(summary["motion_json"]).is_file() and len(list((tmp_path / "m" / "poses").glob("*.png"))) == 3


def test_log_file_rotates(monkeypatch):
    from studio.system import logs

    monkeypatch.setattr(logs, "MAX_BYTES", 400)
    path = logs.setup_logging()
    try:
        for i in range(20):
            logging.getLogger("studio.test").info("line %d of a log that outgrows its file", i)
        rotated = sorted(p.name for p in path.parent.glob("studio.log*"))
        assert rotated == ["studio.log", "studio.log.1", "studio.log.2", "studio.log.3"]  # 3 old files kept
        assert "line 19" in path.read_text()
    finally:
        monkeypatch.undo()
        logs.setup_logging()
