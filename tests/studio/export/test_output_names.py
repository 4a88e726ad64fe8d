"""Output names come from one module (studio.export.output_names), and small files are written atomically (studio.export.atomic)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from studio.export.atomic import write_atomic, write_text_atomic
from studio.export.output_names import (
    expand_output_template,
    numbered,
    output_paths,
    sidecar_path,
    template_fields,
    template_problem,
)
from studio.request.render_request import ExportOptions, RenderRequest

REPO = Path(__file__).resolve().parents[3]


def test_the_files_of_one_output():
    out = Path("/renders/take.mp4")
    assert output_paths(out, ExportOptions()) == {"mp4": out, "sidecar": Path("/renders/take.json")}
    everything = output_paths(out)
    assert everything["side_by_side"] == Path("/renders/take_side_by_side.mp4")
    assert everything["gif"] == Path("/renders/take.gif") and everything["png_sequence"] == Path("/renders/take_frames")
    assert sidecar_path("/a/b.c/clip.webm") == Path("/a/b.c/clip.json")
    assert numbered(out, 3) == Path("/renders/take_3.mp4")


def test_name_templates_and_what_is_wrong_with_them(tmp_path):
    request = RenderRequest(reference="/p/anna.jpg", motion="/m/salsa.mp4", seed=7, engine="warp")
    fields = template_fields(request)
    assert expand_output_template(tmp_path / "{reference}-{motion}-s{seed}.mp4", fields) == tmp_path / "anna-salsa-s7.mp4"
    taken = {tmp_path / "anna_1.mp4"}
    (tmp_path / "anna_2.json").write_text("{}")  # a sidecar alone also takes the number
    assert expand_output_template(tmp_path / "{reference}_{counter}.mp4", fields, taken) == tmp_path / "anna_3.mp4"
    braced = tmp_path / "{2026} shoots"  # the folder's name is not a template
    assert expand_output_template("{reference}_{counter}.mp4", fields, folder=braced) == braced / "anna_1.mp4"
    assert template_problem("{reference}__{motion}") is None and template_problem("{counter:03d}") is None
    assert "empty" in template_problem("  ")
    assert "folder separator" in template_problem("a/{reference}")
    assert "{nope}" not in template_problem("{nope}").split("it can use")[1]
    assert "is not valid" in template_problem("{reference") and "{motion}" in template_problem("{nope}")


def test_no_other_module_makes_up_an_output_name():
    # the sidecar suffix and the extras' names are spelled in studio/export/output_names.py only
    patterns = [r'with_suffix\("\.json"\)', r'"_side_by_side\.mp4"', r'"_frames"', r'stem\}_\{n\}']
    offenders = []
    for folder in ("studio", "ui"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if path.name == "output_names.py":
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.relative_to(REPO)}: {p}" for p in patterns if re.search(p, text)]
    assert offenders == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "motion.json"
    write_text_atomic(target, "old")

    def half_then_fail(handle):
        handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, half_then_fail)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["motion.json"]


def test_an_atomic_write_replaces_a_link_itself_never_its_target(tmp_path):
    source, victim = tmp_path / "render.mp4", tmp_path / "victim.mp4"
    source.write_bytes(b"new video " * 1000)
    victim.write_bytes(b"someone's video")
    link = tmp_path / "export.mp4"
    link.symlink_to(victim)
    write_atomic(link, lambda handle: handle.write(source.read_bytes()))
    assert not link.is_symlink() and link.read_bytes() == source.read_bytes()
    assert victim.read_bytes() == b"someone's video"


def test_finished_files_get_the_mode_any_new_file_gets(tmp_path):
    # mkstemp makes private 0600 files; a video, a sidecar or a project must not stay private
    import os

    import numpy as np

    from studio.export.exporter import export_frames

    old = os.umask(0o027)
    try:
        export_frames([np.zeros((48, 64, 3), np.uint8)] * 2, tmp_path / "v.mp4", 8.0,
                      ExportOptions(png_sequence=True), sidecar={"request": {}})
        write_text_atomic(tmp_path / "p.sastudio.json", "{}")
    finally:
        os.umask(old)
    for name in ("v.mp4", "v.json", "p.sastudio.json", "v_frames/frame_0.png"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o640, name
    assert (tmp_path / "v_frames").stat().st_mode & 0o777 == 0o750
