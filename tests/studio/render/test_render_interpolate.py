"""``render --interpolate N``: which frames the engine renders (every N-th, the last, and any whose pose moves too
fast to guess), the order frames reach the video, progress for both stages, and the sidecar's record."""

from __future__ import annotations

import json

import numpy as np
import pytest

from studio.errors import InputError
from studio.export.exporter import probe_video
from studio.motion.types import PoseFrame
from studio.render.diffusion_engine import DiffusionEngine
from studio.render.interpolated import fill_in, frames_to_render
from studio.render.renderer import Renderer
from studio.system.progress import CancelToken
from tests.studio.render.test_render import Recording, media, request_for  # noqa: F401 (media is a fixture)


def _walking(count: int, jump_at: int | None = None) -> list[PoseFrame]:
    """A body drifting 2 px per frame to the right; at ``jump_at`` the right wrist flicks 60 px up."""
    poses = []
    for i in range(count):
        pose = PoseFrame()
        for k in range(18):
            pose.body[k] = (100 + 5 * k + 2 * i, 100 + 10 * k, 1.0)
        if i == jump_at:
            pose.body[4, 1] -= 60
        poses.append(pose)
    return poses


def test_every_nth_frame_and_the_last_are_rendered():
    assert frames_to_render(_walking(7), 2, 512, 512) == [0, 2, 4, 6]
    assert frames_to_render(_walking(8), 3, 512, 512) == [0, 3, 6, 7]
    assert frames_to_render(_walking(5), 1, 512, 512) == [0, 1, 2, 3, 4]


def test_a_frame_that_moves_too_fast_to_guess_is_rendered_too():
    """The wrist's 60 px flick in frame 5 is 8 % of a 512² frame's diagonal, above the 4 % threshold; steady
    drift (on a straight line) never is. Frame 6 follows: between the flicked frame 5 and frame 8 it would be
    placed 40 px too high."""
    assert frames_to_render(_walking(9, jump_at=5), 4, 512, 512) == [0, 4, 5, 6, 8]
    assert frames_to_render(_walking(9, jump_at=5), 4, 512, 512, threshold=0.1) == [0, 4, 8]


class _Midpoint:
    """A stand-in interpolator: the plain mix at each time, and a record of what it was asked."""

    calls: list = []

    def between(self, a, b, times, poses=None):
        self.calls.append((len(times), poses is not None))
        return [((1 - t) * a + t * b).astype(np.uint8) for t in times]


def test_frames_arrive_in_order_with_the_gaps_filled():
    keys = [0, 2, 3, 6]
    rendered = (np.full((2, 2, 3), 30 * k, np.uint8) for k in keys)
    reports = []
    out = list(fill_in(rendered, keys, _walking(7), _Midpoint(), reports.append, CancelToken()))
    assert [i for i, _f in out] == list(range(7))
    assert [int(f[0, 0, 0]) for _i, f in out] == [0, 30, 60, 90, 120, 150, 180]  # linear in time, exactly
    assert [(r.phase, r.current, r.total) for r in reports] == [("interpolate", 1, 3), ("interpolate", 3, 3)]


def test_interpolate_must_be_at_least_one(tiny_fixture_dir, media):  # noqa: F811
    with pytest.raises(InputError, match="interpolate must be between 1 and 8, got 0"):
        request_for(tiny_fixture_dir, media, interpolate=0).validate()


def test_render_every_second_frame_with_the_diffusion_engine(tiny_fixture_dir, media, tmp_path):  # noqa: F811
    engine = Recording(DiffusionEngine())
    reports = []
    out = tmp_path / "half.mp4"
    result = Renderer(lambda name: engine).render(
        request_for(tiny_fixture_dir, media, interpolate=2, alignment={"mode": "none"}), out, reports.append)
    sidecar = json.loads(out.with_suffix(".json").read_text())
    record = sidecar["interpolation"]
    total = probe_video(out).frames
    assert total == 6 and result.export.frames == 6
    assert record["every"] == 2 and record["rendered_frames"][:3] == [0, 2, 4] and record["rendered_frames"][-1] == 5
    assert len(engine.frames) == len(record["rendered_frames"]) == 6 - record["interpolated_frames"]
    assert sidecar["request"]["interpolate"] == 2
    phases = {r.phase for r in reports}
    assert {"denoise", "interpolate", "export"} <= phases
    assert max(r.current for r in reports if r.phase == "export") == 6
