"""The estimate of what interpolation adds to a render (the window's estimate line, ``render --dry-run``): frames
the engine renders, frames the interpolator fills, and the flow's time modelled from the pixels."""

from __future__ import annotations

import json

import pytest

from studio.__main__ import main
from studio.interpolation.cost import (
    FLOW_FRAME_SECONDS_PER_MEGAPIXEL,
    FLOW_PAIR_SECONDS_PER_MEGAPIXEL,
    estimate_fill,
)
from tests.generated_media import write_astronaut_photo, write_transform_video


def test_every_second_frame_fills_the_gaps_from_one_pair_each():
    fill = estimate_fill(16, 2, 512, 512)
    # rendered: 0, 2, …, 14 and the last (15); filled: 1, 3, …, 13, each in its own pair
    assert (fill.rendered, fill.filled, fill.pairs, fill.output_frames) == (9, 7, 7, 16)
    assert fill.seconds == pytest.approx(0.262144 * (7 * FLOW_PAIR_SECONDS_PER_MEGAPIXEL + 7 * FLOW_FRAME_SECONDS_PER_MEGAPIXEL))
    assert estimate_fill(16, 1, 512, 512) is None and estimate_fill(16, 1, 512, 512, 10.0, 10.0) is None


def test_an_output_rate_above_the_motions_counts_the_moments_between_frames():
    # 5 frames at 10 fps to 25 fps: 12 output frames at driving times k · 0.4; 0, 2 and 4 (twice: the last is
    # held) are driving frames, the other 8 lie two to a gap in 4 gaps
    fill = estimate_fill(5, 1, 100, 100, 10.0, 25.0)
    assert (fill.rendered, fill.output_frames, fill.filled, fill.pairs, fill.output_fps) == (5, 12, 8, 4, 25.0)
    # with every 2nd frame rendered: 10 output frames at k · 0.5; rendered 0, 2, 4 (+ the held last): 6 filled
    both = estimate_fill(5, 2, 100, 100, 10.0, 20.0)
    assert (both.rendered, both.output_frames, both.filled, both.pairs) == (3, 10, 6, 2)
    assert "renders about 3 of them and interpolates 6 frames to reach 20 fps" in both.text()


def test_dry_run_says_what_interpolation_adds(tmp_path, capsys):
    photo = write_astronaut_photo(tmp_path / "me.png", 96)
    video = write_transform_video(tmp_path / "moves.mp4", num_frames=5, size=64, fps=10.0)[0]
    code = main(["render", "--engine", "warp", "--reference", str(photo), "--motion", str(video), "--dry-run",
                 "--json", "--fps", "25", "--width", "128", "--height", "128", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    fill = json.loads(out)["interpolation"]
    assert (fill["driving_frames"], fill["output_frames"], fill["filled"], fill["output_fps"]) == (5, 12, 8, 25.0)
