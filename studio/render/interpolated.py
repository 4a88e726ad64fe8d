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
            report: ProgressCallback, cancel: CancelToken) -> Iterator[tuple[int, np.ndarray]]:
    """``(index, frame)`` for every output frame in order: the engine's frames at ``keys``, the interpolator's
    between them (guided by the poses of the two rendered frames around each gap)."""
    total = keys[-1] + 1 - len(keys)
    filled = 0
    previous: tuple[int, np.ndarray] | None = None
    for key, frame in zip(keys, rendered, strict=False):
        if previous is not None and key - previous[0] > 1:
            start = previous[0]
            times = [(j - start) / (key - start) for j in range(start + 1, key)]
            cancel.raise_if_cancelled()
            between = interpolator.between(previous[1], frame, times, poses=(poses[start], poses[key]))
            yield from zip(range(start + 1, key), between, strict=True)
            filled += len(times)
            report(Progress("interpolate", filled, total, f"{filled}/{total} frames filled"))
        yield key, frame
        previous = (key, frame)
