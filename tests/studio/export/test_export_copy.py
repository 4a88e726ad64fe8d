"""``studio.export.copy``: the name and the chosen format must agree (a suffix shared by several formats is
decided by the choice, a PNG sequence is a folder without a suffix), and a PNG-sequence export is a studio-made
folder the next export may replace when asked."""

from __future__ import annotations

import json

import numpy as np
import pytest

from studio.errors import ExportError
from studio.export import copy as copy_mod
from studio.export.copy import export_problem, export_result, studio_made
from studio.export.exporter import export_frames
from studio.request.render_request import REQUEST_VERSION, RenderRequest


def _render(path) -> None:
    export_frames([np.full((32, 32, 3), 50 * i, np.uint8) for i in range(3)], path, 8.0,
                  sidecar={"request": {}, "engine": "warp", "output": {}})


def test_the_name_must_fit_the_chosen_format(tmp_path):
    source = tmp_path / "r.mp4"
    _render(source)
    assert export_problem(source, tmp_path / "take.mp4", "h265-mp4") is None
    assert export_problem(source, tmp_path / "frames", "png-sequence") is None
    kind, why = export_problem(source, tmp_path / "take.webm", "h265-mp4")
    assert kind == "refused" and "ends in .mp4" in why
    kind, why = export_problem(source, tmp_path / "frames.png", "png-sequence")
    assert kind == "refused" and "without an extension" in why
    kind, why = export_problem(source, tmp_path / "take")  # no suffix and no format: nothing chooses
    assert kind == "refused" and "must end in one of" in why


def test_a_png_sequence_export_is_studio_made_and_replaced_only_when_asked(tmp_path):
    source = tmp_path / "r.mp4"
    _render(source)
    target = tmp_path / "frames"
    export_result(source, target, format_name="png-sequence")
    assert studio_made(target) and sorted(p.name for p in target.iterdir())[0] == "frame_00000.png"
    assert export_problem(source, target, "png-sequence")[0] == "exists"
    export_result(source, target, overwrite=True, format_name="png-sequence")
    assert len(list(target.glob("frame_*.png"))) == 3
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    assert not studio_made(mine) and export_problem(source, mine, "png-sequence")[0] == "refused"


def _old_render(path, request: dict) -> None:
    export_frames([np.full((32, 32, 3), 50 * i, np.uint8) for i in range(3)], path, 8.0,
                  sidecar={"request": request, "engine": "warp", "output": {}})


def test_an_old_renders_settings_are_read_through_the_requests_migrations(tmp_path, monkeypatch):
    """A version-2 sidecar's export.fps was the rate its frames played at; read as a version-3 field it would be
    the rate to interpolate up to. The export reads the record as every saved request is read (migrated)."""
    source = tmp_path / "r.mp4"
    _old_render(source, {"reference": "photo.png", "motion": "dance.mp4", "version": 2,
                         "export": {"fps": 12.0, "crf": 30}})
    used = []
    real = copy_mod.VideoExporter
    monkeypatch.setattr(copy_mod, "VideoExporter", lambda *a, **k: used.append(a[4]) or real(*a, **k))
    export_result(source, tmp_path / "take.mp4")
    assert (used[0].fps, used[0].playback_fps, used[0].crf, used[0].format) == (None, 12.0, 30, "h264-mp4")
    record = json.loads((tmp_path / "take.json").read_text())["request"]
    assert record["version"] == REQUEST_VERSION and RenderRequest.from_dict(record).export.playback_fps == 12.0


def test_a_record_that_cannot_be_read_is_said_not_guessed(tmp_path):
    source = tmp_path / "r.mp4"
    _old_render(source, {"reference": "photo.png", "motion": "dance.mp4", "version": 2, "export": {"crf": 99}})
    with pytest.raises(ExportError, match=r"r\.json: the render's export settings are invalid .*export\.crf"):
        export_result(source, tmp_path / "take.mp4")
    _old_render(source.with_name("new.mp4"), {"reference": "photo.png", "motion": "dance.mp4", "version": 99})
    with pytest.raises(ExportError, match=r"new\.json: .*version 99 is not supported.*update the studio"):
        export_result(source.with_name("new.mp4"), tmp_path / "take.mp4")
    assert not (tmp_path / "take.mp4").exists()
