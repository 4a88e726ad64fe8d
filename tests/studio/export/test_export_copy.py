"""``studio.export.copy``: the name and the chosen format must agree (a suffix shared by several formats is
decided by the choice, a PNG sequence is a folder without a suffix), and a PNG-sequence export is a studio-made
folder the next export may replace when asked."""

from __future__ import annotations

import numpy as np

from studio.export.copy import export_problem, export_result, studio_made
from studio.export.exporter import export_frames


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
