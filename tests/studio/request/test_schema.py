"""The settings schema: one declaration per setting, from which validation (by field path), the CLI, the JSON
schema and the version migrations follow."""

from __future__ import annotations

import json
import math
import random

import jsonschema
import pytest

from studio.__main__ import main
from studio.cli.options import help_text
from studio.project import Project, project_schema
from studio.request.render_request import (
    MAX_SEED,
    REQUEST_VERSION,
    RenderRequest,
    random_seed,
    request_schema,
)
from studio.request.schema import SettingsError, settings_of

BASE = {"reference": "/a.png", "motion": "/b.mp4", "engine": "warp"}


@pytest.mark.parametrize("scale", [float("nan"), float("inf"), 1e300, "2", None, True])
def test_a_bad_alignment_value_is_refused_with_its_path(scale):
    with pytest.raises(SettingsError) as refused:
        RenderRequest.from_dict({**BASE, "alignment": {"scale": scale}})
    assert refused.value.paths == ["alignment.scale"]
    assert "\n" not in str(refused.value) and "alignment.scale must be" in str(refused.value)


def test_an_unknown_alignment_field_is_refused_with_its_path():
    with pytest.raises(SettingsError) as refused:
        RenderRequest.from_dict({**BASE, "alignment": {"sclae": 1.0}})
    assert refused.value.paths == ["alignment.sclae"]


def test_every_declared_number_is_checked_finite_and_in_range_by_path():
    request = RenderRequest(**BASE, tile_size=64)  # (the overlap's range reaches up to the largest tile)
    for s in settings_of(RenderRequest):
        if s.kind not in ("int", "float") or s.path.startswith("alignment."):
            continue  # (alignment is checked when made, above)
        head, _, leaf = s.path.rpartition(".")
        too_big = s.maximum + (1 if s.kind == "int" else s.maximum * 1e-6 + 1e-9)
        for bad in ([too_big, float("nan"), "3"] if s.kind == "float" else [too_big, 2.5, "3"]):
            changed = request.replace(**({head: {leaf: bad}} if head else {leaf: bad}))
            assert s.path in [p.path for p in changed.field_problems()], (s.path, bad)
        fine = request.replace(**({head: {leaf: s.maximum}} if head else {leaf: s.maximum}))
        assert s.path not in [p.path for p in fine.field_problems()], s.path


@pytest.mark.parametrize(("flag", "value", "path"), [
    ("--max-memory", "inf", "max_memory"), ("--fps", "1e-300", "export.fps"), ("--loop", "99999999999", "export.loop"),
    ("--noise-aug", "nan", "noise_aug"), ("--seed", str(2**40), "seed"), ("--steps", "0", "steps"),
])
def test_the_cli_refuses_a_bad_number_in_one_line_naming_the_field(tmp_path, capsys, flag, value, path):
    code = main(["render", "--engine", "warp", "--reference", "a.png", "--motion", "b.mp4", "--out",
                 str(tmp_path / "o.mp4"), flag, value])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "\n" not in err and "Traceback" not in err
    assert err.startswith("error: invalid render request: ") and f"{path} must be" in err


def test_a_sidecar_with_a_nan_alignment_scale_is_refused_by_the_cli(tmp_path, capsys):
    data = {"request": {**BASE, "alignment": {"scale": math.nan}}}
    sidecar = tmp_path / "old.json"
    sidecar.write_text(json.dumps(data))  # Python writes NaN, as a careless tool would
    code = main(["render", "--request", str(sidecar), "--out", str(tmp_path / "o.mp4")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "\n" not in err and "alignment.scale must be a finite number" in err


def test_cli_help_shows_every_declared_default(capsys):
    with pytest.raises(SystemExit):
        main(["render", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for s in settings_of(RenderRequest):
        if s.cli:
            assert s.cli in text and " ".join(help_text(s).replace("%%", "%").split()) in text, s.path


def test_the_one_seed_draw_stays_in_the_declared_range():
    rng = random.Random(7)
    seeds = [random_seed(rng) for _ in range(2000)]
    assert all(0 <= s <= MAX_SEED for s in seeds) and len(set(seeds)) > 1990
    project = Project()
    project.seed_locked = False
    assert 0 <= project.seed_for_render(random.Random(1)) <= MAX_SEED
    assert RenderRequest(**BASE).with_resolved_seed(random.Random(2)).problems() == []


def test_saved_requests_and_projects_match_the_derived_json_schema(tmp_path):
    request = RenderRequest(**BASE, seed=5, alignment={"mode": "global", "fit_frame": 2}, hjb={"enabled": True},
                            export={"fps": 12.5, "bitrate": "8M"})
    jsonschema.validate(json.loads(request.to_json()), request_schema())
    project = Project(request)
    jsonschema.validate(json.loads(json.dumps(project.to_dict())), project_schema())
    for bad in ({"steps": 0}, {"export": {"bitrate": "fast"}}, {"alignment": {"mode": "sideways"}}, {"colour": 1}):
        data = json.loads(request.to_json())
        for key, value in bad.items():
            data[key] = {**data[key], **value} if isinstance(value, dict) else value
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(data, request_schema())
    schema = request_schema()
    assert schema["properties"]["hjb"]["properties"]["decode_mode"]["default"] == "fast"  # the studio's default
    assert schema["properties"]["width"]["maximum"] == 4096


def test_a_version_1_sidecar_still_loads_and_a_future_one_is_refused():
    # version 1 read only the alignment keys it knew; a partial or {} alignment meant the defaults
    old = {**BASE, "version": 1, "alignment": {"mode": "global", "old_key": 3}}
    request = RenderRequest.from_dict(old)
    assert request.version == REQUEST_VERSION == 3
    assert request.alignment.mode == "global" and request.alignment.scale == 1.0
    assert RenderRequest.from_dict({**BASE, "version": 1, "alignment": {}}).alignment.mode == "bones"
    with pytest.raises(SettingsError.__mro__[1], match="version 4 is not supported"):
        RenderRequest.from_dict({**BASE, "version": 4})
    with pytest.raises(SettingsError):
        RenderRequest.from_dict({**BASE, "version": 2, "alignment": {"old_key": 3}})  # not in version 2


def test_a_version_2_output_fps_keeps_its_meaning_of_a_playback_rate():
    """Version 2's export.fps played the frames at that rate; version 3's interpolates up to it. An old sidecar
    (or project) still renders the video it made: its rate becomes export.playback_fps."""
    old = RenderRequest.from_dict({**BASE, "version": 2, "export": {"fps": 12.0, "crf": 20}})
    assert (old.export.fps, old.export.playback_fps, old.export.crf) == (None, 12.0, 20)
    unset = RenderRequest.from_dict({**BASE, "version": 2, "export": {"crf": 20}})
    assert (unset.export.fps, unset.export.playback_fps) == (None, None)
    new = RenderRequest.from_dict({**BASE, "version": 3, "export": {"fps": 12.0}})
    assert (new.export.fps, new.export.playback_fps) == (12.0, None)
    assert new.replace(export={"playback_fps": 24.0}).field_problems() == []  # (the output rate wins: prepare)
