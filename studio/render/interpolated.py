"""Render every N-th frame and let the interpolator fill the rest (``render --interpolate N``).

The engine's cost is per frame (a diffusion render: UNet calls per frame per step), the interpolator's a small
fraction of it, so rendering every 2nd frame roughly halves a render. Where the motion is fast the in-between
frame cannot be guessed from its neighbours, so the choice is **adaptive**: a frame whose body keypoints are more
than ``ADAPTIVE_THRESHOLD`` of the frame diagonal away from where straight-line motion between its rendered
neighbours would put them is rendered too (recursively, until every filled frame is predictable). The poses are
known for every frame, so this is decided before rendering, and the flow interpolator uses them to guide the
limbs and check the face (:mod:`studio.interpolation.poses`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator

import numpy as np

from studio.interpolation.timing import Moment
from studio.motion.types import VISIBLE, PoseFrame
from studio.render.engine import RenderInputs
from studio.system.progress import CancelToken, Progress, ProgressCallback

#: A filled frame's keypoints may stray this far (fraction of the frame diagonal) from straight-line motion
#: between its rendered neighbours; further, and it is rendered instead. 4 % is ~29 px on a 512×512 frame, about a
#: hand's width: a filled hand lands within it. (The sample dance at 256² and every 2nd frame: 3 % rendered 14 of
#: 24 frames, 4 % renders 13, the floor with the last frame.)
ADAPTIVE_THRESHOLD = 0.04


def _straight_line_miss(poses: list[PoseFrame], a: int, b: int, j: int) -> float:
    """How far (pixels) frame ``j``'s visible body points are from the straight line between frames a and b."""
    first, last, here = (poses[i].body if poses[i] is not None else None for i in (a, b, j))
    if first is None or last is None or here is None:
        return 0.0 if first is None and last is None and here is None else math.inf
    visible = (first[:, 2] > VISIBLE) & (last[:, 2] > VISIBLE) & (here[:, 2] > VISIBLE)
    if not visible.any():
        return 0.0
    t = (j - a) / (b - a)
    predicted = (1 - t) * first[visible, :2] + t * last[visible, :2]
    return float(np.hypot(*(here[visible, :2] - predicted).T).max())


def frames_to_render(poses: list[PoseFrame], every: int, width: int, height: int,
                     threshold: float = ADAPTIVE_THRESHOLD) -> list[int]:
    """Indices the engine renders: every ``every``-th frame and the last, plus any frame straight-line motion
    between its rendered neighbours would misplace by more than ``threshold`` of the diagonal."""
    count = len(poses)
    chosen = set(range(0, count, every)) | {count - 1}
    limit = threshold * math.hypot(width, height)
    keys = sorted(chosen)
    spans = list(zip(keys[:-1], keys[1:], strict=True))
    while spans:
        a, b = spans.pop()
        if b - a < 2:
            continue
        miss, worst = max((_straight_line_miss(poses, a, b, j), j) for j in range(a + 1, b))
        if miss > limit:
            chosen.add(worst)
            spans += [(a, worst), (worst, b)]
    return sorted(chosen)


def engine_inputs(inputs: RenderInputs, keys: list[int], every: int) -> RenderInputs:
    """The inputs restricted to the frames the engine renders (the rate it sees drops by about ``every``)."""
    return dataclasses.replace(
        inputs, poses=[inputs.poses[i] for i in keys], pose_images=[inputs.pose_images[i] for i in keys],
        face_boxes=[inputs.face_boxes[i] for i in keys] if inputs.face_boxes else [],
        motion_fps=None if inputs.motion_fps is None else inputs.motion_fps / every)


def fill_in(rendered: Iterator[np.ndarray], keys: list[int], poses: list[PoseFrame], interpolator,
            report: ProgressCallback, cancel: CancelToken,
            moments: list[Moment] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """``(index, frame)`` for every output frame in order. ``moments``: the moment of the driving clip each output
    frame shows (``studio.interpolation.timing.plan``, for an output rate above the motion's); None: one per
    driving frame. A moment on a rendered frame (``keys``) is that frame; any other is interpolated straight from
    the two rendered frames around it (guided by their poses), so a frame is never interpolated from an
    interpolated one. Stops early when the engine yields fewer frames than ``keys`` (the caller counts)."""
    if moments is None:
        moments = [Moment(i, 0.0) for i in range(keys[-1] + 1)]
    key_set = set(keys)
    total = sum(1 for m in moments if not (m.is_source and m.index in key_set))
    filled = 0
    pairs = zip(keys, rendered, strict=False)
    previous = next(pairs, None)
    current = next(pairs, None)
    taken = (previous is not None) + (current is not None)
    position = 0
    while previous is not None and position < len(moments):
        moment = moments[position]
        while current is not None and moment.index >= current[0]:  # the rendered pair this moment lies in
            previous, current = current, next(pairs, None)
            taken += current is not None
        if current is None and taken < len(keys):
            return  # the engine stopped short
        if current is None or (moment.is_source and moment.index == previous[0]):
            yield position, previous[1]
            position += 1
            continue
        # every moment before the next rendered frame at once: one flow estimate serves them all
        start, end = previous[0], current[0]
        times: list[float] = []
        while position + len(times) < len(moments) and moments[position + len(times)].index < end:
            later = moments[position + len(times)]
            times.append((later.index - start + later.t) / (end - start))
        cancel.raise_if_cancelled()
        between = interpolator.between(previous[1], current[1], times, poses=(poses[start], poses[end]))
        yield from zip(range(position, position + len(times)), between, strict=True)
        position += len(times)
        filled += len(times)
        report(Progress("interpolate", filled, total, f"{filled}/{total} frames filled"))


def nearest_frames(moments: list[Moment]) -> list[int]:
    """The driving frame nearest to each moment (whose pose and pose image stand for an interpolated frame)."""
    return [m.index + (1 if m.t >= 0.5 else 0) for m in moments]
