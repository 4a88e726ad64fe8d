"""Messages that said the wrong thing, and leftovers nobody removed (issue 25, causes 7–9): long valid names, braces
in an --out folder, animated WebP, two {counter} renders at once, temporaries of killed renders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.cli.render import output_path
from studio.errors import ExportError
from studio.export.exporter import export_frames
from studio.export.exporter import probe_video as probe_output
from studio.media.video_io import iter_frames, probe_video
from studio.request.render_request import FrameSelection
from studio.export.output_names import claim_path, create_partial, expand_output_template
from studio.request.render_request import ExportOptions, RenderRequest
from tests.studio.cli.test_bad_inputs import media  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parents[3]


def _frames(n: int) -> list[np.ndarray]:
    return [np.full((32, 48, 3), 20 * i, np.uint8) for i in range(n)]


@pytest.mark.parametrize("length", [234, 245, 251])
def test_a_long_valid_name_is_written(tmp_path, length):
    out = tmp_path / ("n" * (length - 4) + ".mp4")
    assert len(out.name.encode()) == length
    result = export_frames(_frames(2), out, 8.0)
    assert result.path.is_file() and probe_output(out).frames == 2
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # and no temporary left


def test_an_extra_whose_name_would_be_too_long_is_one_clear_error(tmp_path):
    out = tmp_path / ("s" * 240 + ".mp4")  # fits; its _side_by_side.mp4 (+13) does not
    with pytest.raises(ExportError, match="bytes long and file systems allow 255"):
        export_frames(_frames(2), out, 8.0, ExportOptions(side_by_side=True))
    assert list(tmp_path.iterdir()) == []


def test_braces_in_the_out_folder_are_the_folders_own_name(tmp_path):
    request = RenderRequest(reference="a.png", motion="m.mp4", seed=7)
    out = output_path(str(tmp_path / "{2026} shoots" / "take_{counter}_{seed}.mp4"), request)
    assert out == tmp_path / "{2026} shoots" / "take_1_7.mp4"
    assert output_path(str(tmp_path / "{engine}" / "x.mp4"), request) == tmp_path / request.engine / "x.mp4"


def test_two_counter_renders_started_together_take_different_numbers(tmp_path):
    first = expand_output_template("take_{counter}.mp4", {}, folder=tmp_path, claim=True)
    second = expand_output_template("take_{counter}.mp4", {}, folder=tmp_path, claim=True)
    assert (first.name, second.name) == ("take_1.mp4", "take_2.mp4")
    export_frames(_frames(2), first, 8.0)  # the render of a claimed name releases the claim when done
    assert not claim_path(first).exists() and first.is_file()


def _dead_process_runs(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)  # it has ended when this returns


def test_temporaries_of_a_killed_render_are_cleaned_by_the_next_render_of_that_output(tmp_path):
    out = tmp_path / "o.mp4"
    _dead_process_runs(
        "from pathlib import Path; from studio.export.output_names import create_partial;"
        f"p = Path({str(out)!r}); create_partial(p); create_partial(p.with_suffix('.json'));"
        "create_partial(p.with_name('o_frames'), folder=True)")
    assert len(list(tmp_path.iterdir())) == 3
    mine = create_partial(out)  # a live render's own temporary: kept
    other = create_partial(tmp_path / "other.mp4")  # another output's: not this render's business
    export_frames(_frames(2), out, 8.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["o.mp4", mine.name, other.name])


def test_a_claim_left_by_a_killed_render_is_taken_over(tmp_path):
    _dead_process_runs("from pathlib import Path; from studio.export.output_names import claim_name;"
                       f"claim_name(Path({str(tmp_path / 'take_1.mp4')!r}))")
    assert claim_path(tmp_path / "take_1.mp4").exists()
    taken = expand_output_template("take_{counter}.mp4", {}, folder=tmp_path, claim=True)
    assert taken.name == "take_1.mp4"


def test_an_animated_webp_is_a_clip(tmp_path):
    path = tmp_path / "loop.webp"
    images = [Image.fromarray(f) for f in _frames(5)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=125, loop=0, lossless=True)
    info = probe_video(path)
    assert (info.kind, info.frame_count, info.fps) == ("animation", 5, 8.0)
    got = list(iter_frames(path, FrameSelection(start=0.25), info))
    assert [i for i, _ in got] == [2, 3, 4] and [int(f.mean()) for _, f in got] == [40, 60, 80]


def test_a_render_whose_extra_name_is_too_long_is_refused_before_it_starts(media, tmp_path, capsys):  # noqa: F811
    from studio.__main__ import main
    from tests.studio.cli.test_bad_inputs import one_error_line, warp

    out = tmp_path / ("x" * 240 + ".mp4")
    assert main(warp(media, out, "--side-by-side")) == 1
    assert "bytes long" in one_error_line(capsys) and list(tmp_path.iterdir()) == []
