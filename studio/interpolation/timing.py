"""Which output frame shows which moment: the plan that turns N source frames into more at a higher rate.

Output frame ``k`` shows source time ``k · fps_in / fps_out`` (in source frames). Its integer part picks the pair
``(i, i+1)``, the rest is the time ``t`` between them (``t = 0``: source frame ``i`` itself, copied). The output keeps
the source's duration (``floor(n · fps_out / fps_in)`` frames, so the audio still fits): moments after the last
source frame hold it, as a player holds the last frame until the clip ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from studio.errors import InputError

#: Output rates are compared and planned in exact fractions: 29.97 is 30000/1001 to the reader.
_FPS_DENOMINATOR = 1001


@dataclass(frozen=True)
class Moment:
    """An output frame: source frame ``index`` (``t == 0``) or the moment ``t`` between ``index`` and ``index+1``."""

    index: int
    t: float

    @property
    def is_source(self) -> bool:
        return self.t == 0.0


def _exact(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(_FPS_DENOMINATOR)


def same_rate(a: float, b: float) -> bool:
    """Whether two frame rates are the same rate (29.97 and 30000/1001 are)."""
    return _exact(a) == _exact(b)


def target_fps(source_fps: float, factor: int | None = None, fps: float | None = None) -> float:
    """The output rate for ``--factor N`` (N × the source's) or ``--fps F``; raises ``InputError`` for a rate that
    adds no frames."""
    if (factor is None) == (fps is None):
        raise InputError("give either a factor (--factor N) or an output frame rate (--fps F), not both")
    if factor is not None:
        if int(factor) != factor or factor < 2:
            raise InputError(f"the factor must be a whole number of 2 or more (2 doubles the frame rate), "
                             f"got {factor}")
        return float(_exact(source_fps) * int(factor))
    assert fps is not None  # exactly one of the two was given (checked above)
    if not math.isfinite(fps) or fps <= 0:
        raise InputError(f"the output frame rate must be a positive number, got {fps}")
    if _exact(fps) <= _exact(source_fps):
        raise InputError(f"the output frame rate {fps:g} fps is not above the source's {source_fps:g} fps; "
                         "interpolation only adds frames (choose a higher --fps)")
    return float(fps)


def plan(source_frames: int, source_fps: float, out_fps: float) -> list[Moment]:
    """The moment each output frame shows (see the module docstring)."""
    if source_frames < 2:
        raise InputError(f"the clip has {source_frames} frame(s); interpolation needs at least 2")
    ratio = _exact(source_fps) / _exact(out_fps)
    count = math.floor(source_frames / ratio)
    moments = []
    for k in range(count):
        position = k * ratio
        index = math.floor(position)
        if index >= source_frames - 1:
            moments.append(Moment(source_frames - 1, 0.0))
        else:
            moments.append(Moment(index, float(position - index)))
    return moments
