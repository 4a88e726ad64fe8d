"""RenderRequest: JSON round trip, versioning, validation messages, seeds, hashes; presets."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pipelines.hjb_config import HJBConfig
from studio.errors import InputError
from studio.request.presets import PRESETS, apply_preset, preset, preset_names
from studio.request.render_request import (
    DEFAULT_HJB,
    REQUEST_VERSION,
    ExportOptions,
    RenderRequest,
    content_hash,
)


def make(**kw) -> RenderRequest:
    return RenderRequest(reference="ref.png", motion="dance.mp4", models="/weights", **kw)


def test_round_trip_keeps_every_field():
    request = make(seed=42, width=576, height=1024, alignment={"mode": "bones", "scale": 1.1},
                   hjb=HJBConfig(enabled=True, iterations=2, decode_mode="fast"),
                   export=ExportOptions(crf=20, gif=True, fps=12.5))
    again = RenderRequest.from_json(request.to_json())
    assert again == request
    assert isinstance(again.export, ExportOptions) and again.export.fps == 12.5
    assert again.hjb.iterations == 2 and again.alignment.mode == "bones"
    assert json.loads(request.to_json())["version"] == REQUEST_VERSION


def test_hjb_settings_are_the_pipelines_type_with_the_studios_defaults():
    # one settings type from the request JSON down to the pipeline call; a partial or older "hjb" object keeps the
    # studio's fast decode rather than the pipeline's exact default
    request = RenderRequest.from_dict(make().to_dict() | {"hjb": {"enabled": True, "iterations": 5}})
    assert type(request.hjb) is HJBConfig
    assert request.hjb == dataclasses.replace(DEFAULT_HJB, enabled=True, iterations=5)
    assert request.hjb.decode_mode == "fast" and HJBConfig().decode_mode == "exact"
    assert make().replace(hjb={"lr_scale": 0.5}).hjb.lr_scale == 0.5
    problems = "\n".join(make(steps=10, hjb=HJBConfig(enabled=True, start_step=12, end_step=14)).problems())
    assert "hjb start_step (12) must be below num_inference_steps (10)" in problems
    assert make(engine="warp", steps=10, hjb=HJBConfig(enabled=True, start_step=12, end_step=14)).problems() == []


def test_tiles_are_clamped_in_one_place():
    request = make(tile_size=16, tile_overlap=4)
    assert request.with_tiles_for() is request and request.with_tiles_for(40) is request
    short = request.with_tiles_for(3)  # a 3-frame clip is one tile of 3 with an overlap below it
    assert (short.tile_size, short.tile_overlap) == (3, 2)
    assert (make(tile_size=2, tile_overlap=4).with_tiles_for().tile_overlap) == 1


def test_request_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        make().steps = 3  # type: ignore[misc]


def test_unknown_version_and_fields_are_clear_errors():
    data = make().to_dict()
    data["version"] = 99
    with pytest.raises(InputError, match="version 99 is not supported"):
        RenderRequest.from_dict(data)
    data = make().to_dict() | {"colour": "red"}
    with pytest.raises(InputError, match="unknown render request field.*colour"):
        RenderRequest.from_dict(data)
    with pytest.raises(InputError, match="not valid JSON"):
        RenderRequest.from_json("{nope")


def test_from_json_accepts_a_whole_sidecar():
    request = make(seed=3)
    sidecar = {"version": 1, "request": request.to_dict(), "identity": {}}
    assert RenderRequest.from_json(json.dumps(sidecar)) == request


def test_validation_lists_every_problem_precisely():
    bad = make(width=100, steps=0, max_guidance=1.0, tile_size=4, tile_overlap=4, engine="diffusion",
               export=ExportOptions(crf=80, preset="warp-speed"))
    problems = bad.problems()
    text = "\n".join(problems)
    assert "width must be a multiple of 8" in text and "got 100" in text
    assert "steps must be between 1 and 500, got 0" in text
    assert "max_guidance must be > 1.0" in text
    assert "tile_overlap must be between 0 and tile_size-1 (3), got 4" in text
    assert "crf must be between 0 and 51, got 80" in text
    assert "preset 'warp-speed' is unknown" in text
    with pytest.raises(InputError, match="invalid render request: .*steps"):
        bad.validate()
    assert make().problems() == []


def test_diffusion_needs_models_warp_does_not():
    assert any("weights folder" in p for p in RenderRequest(reference="a", motion="b").problems())
    assert RenderRequest(reference="a.png", motion="b", engine="warp").problems() == []


def test_seed_is_random_when_unset_and_kept_when_set():
    assert make(seed=5).with_resolved_seed().seed == 5
    seeds = {make().with_resolved_seed().seed for _ in range(5)}
    assert None not in seeds and len(seeds) > 1


def test_content_hash_of_files_and_folders(tmp_path):
    a = tmp_path / "a.bin"
    a.write_bytes(b"one")
    first = content_hash(a)
    a.write_bytes(b"two")
    assert content_hash(a) != first and first.startswith("sha256:")
    folder = tmp_path / "poses"
    folder.mkdir()
    (folder / "frame_0.png").write_bytes(b"x")
    h1 = content_hash(folder)
    (folder / "frame_1.png").write_bytes(b"y")
    assert content_hash(folder) != h1
    with pytest.raises(InputError, match="does not exist"):
        content_hash(tmp_path / "missing.png")


def test_replace_merges_partial_export():
    request = make().replace(export={"crf": 30}, steps=9)
    assert request.export.crf == 30 and request.export.preset == "medium" and request.steps == 9


def test_presets_are_partial_requests():
    assert {"fast-preview-512x512", "balanced-576x1024", "quality-512x512"} <= set(preset_names())
    request = apply_preset(make(seed=11), "quality-576x1024")
    assert (request.width, request.height, request.steps) == (576, 1024, PRESETS["quality"]["steps"])
    assert request.seed == 11 and request.reference == "ref.png"  # untouched
    fast = apply_preset(make(), "fast-preview-512x512")
    assert fast.steps < request.steps and fast.export.preset == "veryfast"
    for name in preset_names():
        apply_preset(make(), name).validate()
    preset("balanced")["steps"] = 1  # a copy: the table is not changed
    assert PRESETS["balanced"]["steps"] != 1
    with pytest.raises(InputError, match="unknown preset 'nope'"):
        preset("nope")


def test_the_followed_person_is_a_declared_request_setting():
    # issue 19: --person N|auto, saved with the request so a re-render follows the same person
    from studio.request.schema import setting_by_path

    person = setting_by_path(RenderRequest)["person"]
    assert person.default == "auto" and person.cli == "--person"
    assert person.problem("auto") is None and person.problem("2") is None
    assert person.problem("0") is not None and person.problem("two") is not None


def test_a_person_picked_on_a_frame_is_a_valid_person_and_bad_picks_are_refused():
    # issue 19: the window's "Pick person" and `--person @F:X,Y` save the click as frame F, source pixel X,Y
    from studio.request.schema import setting_by_path

    person = setting_by_path(RenderRequest)["person"]
    assert person.problem("@120:640,360") is None and person.problem("@0:0,0") is None
    for bad in ("@120:640", "@-1:2,3", "@1:2,3,4", "@x:1,2", "@1:2.5,3", "120:640,360", "@1: 2,3", "@"):
        problem = person.problem(bad)
        assert problem is not None and "person must look like" in problem.message, bad
    with pytest.raises(InputError, match="person"):
        RenderRequest(reference="a.png", motion="b.mp4", person="@1:2").validate()
