"""Render CLI options reach the request (HJB settings, fast decode by default, absolute paths, presets)."""

from __future__ import annotations

import pytest

from studio.__main__ import build_parser
from studio.cli.render import request_from_args
from studio.errors import InputError
from studio.request.render_request import DEFAULT_HJB


def _request(*flags: str):
    args = build_parser().parse_args(["render", "--reference", "a.png", "--motion", "b.mp4", "--out", "o.mp4", "--models", "weights", *flags])
    return request_from_args(args, args.reference, args.motion)


def test_hjb_defaults_to_fast_decode():
    assert DEFAULT_HJB.decode_mode == "fast"
    assert _request().hjb.enabled is False


def test_hjb_flags_set_every_field():
    hjb = _request("--hjb", "--hjb-mode", "exact", "--hjb-iterations", "5", "--hjb-start", "2",
                   "--hjb-end", "7", "--hjb-lr-scale", "0.5").hjb
    assert (hjb.enabled, hjb.decode_mode, hjb.iterations, hjb.start_step, hjb.end_step, hjb.lr_scale) == (
        True, "exact", 5, 2, 7, 0.5)


def test_hjb_bad_range_is_a_clear_error():
    with pytest.raises(InputError, match="start_step"):
        _request("--hjb", "--hjb-start", "9", "--hjb-end", "3")


def test_the_cli_renders_a_project_the_window_saved(tmp_path):
    from studio.project import Project

    project = Project()
    project.set({"reference": str(tmp_path / "me.jpg"), "motion": str(tmp_path / "salsa.mp4"), "steps": 7,
                 "hjb.enabled": True, "alignment.fit_frame": 3, "engine": "warp"})
    path = project.save(tmp_path / "salsa.sastudio.json")
    args = build_parser().parse_args(["render", "--request", str(path), "--out", "o.mp4"])
    request = request_from_args(args, None, None)
    assert request == project.request.replace(export={"format": request.export.format})
    assert request.alignment.fit_frame == 3 and request.hjb.enabled
    args = build_parser().parse_args(["render", "--request", str(path), "--steps", "9", "--out", "o.mp4"])
    assert request_from_args(args, None, None).steps == 9  # flags still override what the project holds


def test_a_smaller_tile_takes_the_overlap_down_unless_the_overlap_is_given():
    assert (_request("--tile-size", "3").tile_size, _request("--tile-size", "3").tile_overlap) == (3, 2)
    assert _request("--tile-size", "8").tile_overlap == 4
    with pytest.raises(InputError, match="tile_overlap must be between 0 and tile_size-1"):
        _request("--tile-size", "3", "--tile-overlap", "3")


def test_cli_records_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    request = _request()
    assert request.reference == str(tmp_path / "a.png")
    assert request.motion == str(tmp_path / "b.mp4")
    assert request.models == str(tmp_path / "weights")


def test_presets_command_lists_every_preset(capsys):
    import json

    from studio.__main__ import main
    from studio.request.presets import PRESETS

    assert main(["presets"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(PRESETS)
    assert main(["presets", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == PRESETS
    request = _request("--preset", "quality-576x1024")
    assert (request.width, request.height, request.steps) == (576, 1024, PRESETS["quality-576x1024"]["steps"])
