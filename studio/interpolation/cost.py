"""What interpolation adds to a render, before it runs: how many driving frames the engine renders, how many output
frames the flow interpolator fills in, and about how long that takes (for the window's estimate and ``--dry-run``).

The flow interpolator's time grows with the pixels: one flow estimate per pair of rendered frames (both ways), then a
warp and blend per filled frame. Measured with ``FlowInterpolator.between`` on a shifted photo, one thread (the
shared 2-core development machine): 256² 8 + 10 ms, 512² 47 + 57 ms, 768² 140 + 168 ms (per pair + per filled
frame). Per megapixel that is 0.12-0.24 s per pair and 0.16-0.29 s per frame, rising with the size; the constants
below take the 512² values, the size renders are made at.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from studio.interpolation.timing import Moment, plan, same_rate

#: Seconds per megapixel for one pair's flow estimate, and for each frame filled in from it (see the docstring).
FLOW_PAIR_SECONDS_PER_MEGAPIXEL = 0.18
FLOW_FRAME_SECONDS_PER_MEGAPIXEL = 0.22


@dataclass(frozen=True)
class FillEstimate:
    """The frames of a render that interpolates, counted before it runs."""

    driving_frames: int
    #: The engine's frames: every N-th driving frame and the last (the adaptive rule may add a few).
    rendered: int
    output_frames: int
    output_fps: float | None
    #: Output frames the interpolator makes, and the pairs of rendered frames it estimates flow for.
    filled: int
    pairs: int
    seconds: float

    def text(self) -> str:
        """One clause for the window's estimate line."""
        rate = f" to reach {self.output_fps:g} fps" if self.output_fps else ""
        return (f"renders about {self.rendered} of them and interpolates {self.filled} frames{rate} "
                f"(≈ {_duration(self.seconds)} on the CPU)")


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def estimate_fill(frames: int, every: int, width: int, height: int, motion_fps: float | None = None,
                  output_fps: float | None = None) -> FillEstimate | None:
    """The fill of a render of ``frames`` driving frames rendering every ``every``-th, at ``output_fps`` (None, or
    not above ``motion_fps``: one output frame per driving frame); None when nothing is interpolated."""
    resample = (output_fps is not None and motion_fps is not None and frames >= 2
                and not same_rate(output_fps, motion_fps) and output_fps > motion_fps)
    if frames < 1 or (every <= 1 and not resample):
        return None
    keys = sorted(set(range(0, frames, every)) | {frames - 1}) if every > 1 and frames > 2 else list(range(frames))
    moments = (plan(frames, motion_fps, output_fps) if resample and motion_fps and output_fps
               else [Moment(i, 0.0) for i in range(frames)])
    rendered = set(keys)
    filled_at = [m for m in moments if not (m.is_source and m.index in rendered)]
    pairs = len({_pair_of(m, keys) for m in filled_at})
    megapixels = width * height / 1e6
    seconds = megapixels * (pairs * FLOW_PAIR_SECONDS_PER_MEGAPIXEL + len(filled_at) * FLOW_FRAME_SECONDS_PER_MEGAPIXEL)
    return FillEstimate(frames, len(keys), len(moments), output_fps if resample else None, len(filled_at), pairs,
                        seconds)


def _pair_of(moment: Moment, keys: list[int]) -> int:
    """The rendered frame that starts the gap ``moment`` lies in (``keys`` sorted, starting at 0)."""
    return keys[bisect.bisect_right(keys, moment.index) - 1]


def driving_timing(request) -> tuple[int, float]:
    """How many driving frames a ``RenderRequest`` selects and their rate after the stride, from the motion's header
    (no decoding). Raises ``StudioError``/``OSError``/``ValueError`` when the motion cannot be probed."""
    from studio.media.video_io import probe_video, selected_indices

    info = probe_video(request.motion)
    frames = len(selected_indices(info, request.frame_selection()))
    return frames, info.fps / request.stride if info.kind in ("video", "animation") else info.fps


def request_fill(request, frames: int | None = None, motion_fps: float | None = None) -> FillEstimate | None:
    """``estimate_fill`` for a ``RenderRequest``: the motion probed unless ``frames`` (and its rate) are given."""
    if frames is None:
        from studio.errors import StudioError

        try:
            frames, motion_fps = driving_timing(request)
        except (StudioError, OSError, ValueError):
            frames = request.max_frames or request.tile_size  # (a motion folder: no rate to interpolate to)
    return estimate_fill(frames, request.interpolate, request.width, request.height, motion_fps, request.export.fps)
