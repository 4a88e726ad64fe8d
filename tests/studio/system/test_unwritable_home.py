"""A data folder that cannot be written (read-only, full, or not a folder) and file names that are not UTF-8
(issue 25, cause 7): the render still runs and says so in one line; no "Logging error" tracebacks, no crash."""

from __future__ import annotations

import logging
import os

from studio.__main__ import main
from studio.export.exporter import probe_video
from studio.system.logs import setup_logging
from tests.studio.cli.test_bad_inputs import media, warp  # noqa: F401 - media is a fixture


def _unwritable_home(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    monkeypatch.setenv("STUDIO_HOME", str(blocker / "home"))  # every mkdir under it fails


def test_a_render_with_an_unwritable_data_folder_runs_and_says_so(media, tmp_path, monkeypatch, capsys):  # noqa: F811
    _unwritable_home(tmp_path, monkeypatch)
    assert main(warp(media, tmp_path / "o.mp4")) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Logging error" not in err
    assert "cannot write the log file" in err and probe_video(tmp_path / "o.mp4").frames == 2


def test_the_queue_in_an_unwritable_data_folder_is_one_line(media, tmp_path, monkeypatch, capsys):  # noqa: F811
    _unwritable_home(tmp_path, monkeypatch)
    assert main(["batch", "add", "--reference", str(media["photo"]), "--motion", str(media["video"]),
                 "--out-dir", str(tmp_path / "q"), "--engine", "warp"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and [line for line in err.splitlines() if line.startswith("error:")]


def test_names_that_are_not_utf8_are_logged_and_rendered(media, tmp_path, capsys):  # noqa: F811
    path = setup_logging(console=False)
    name = os.fsdecode(b"take\xff")
    logging.getLogger("studio.test").warning("rendering %s", name)
    assert main(warp(media, tmp_path / f"{name}.mp4")) == 0
    assert "Logging error" not in capsys.readouterr().err
    assert "take\\udcff" in path.read_text(encoding="utf-8")
    assert probe_video(tmp_path / f"{name}.mp4").frames == 2
