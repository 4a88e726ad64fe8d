"""Temporal smoothing of keypoints with the One-Euro filter (Casiez et al., CHI 2012).

A low-pass filter whose cut-off rises with speed: slow jitter is removed, fast motion is not lagged.
Each coordinate of each point is filtered independently; a point that disappears (score 0) resets its filter.
"""

from __future__ import annotations

import math

import numpy as np

from studio.motion.types import PoseFrame


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Vectorised One-Euro filter over an array of values; ``min_cutoff`` in Hz, ``beta`` the speed coefficient."""

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0) -> None:
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None

    def reset(self, mask: np.ndarray | None = None) -> None:
        if mask is None or self._value is None or self._speed is None:
            self._value = self._speed = None
        else:
            self._speed[mask] = np.nan
            self._value[mask] = np.nan

    def __call__(self, value: np.ndarray, dt: float) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        if self._value is None:
            self._value, self._speed = value.copy(), np.zeros_like(value)
            return value.copy()
        assert self._speed is not None  # (set together with ``_value``)
        fresh = np.isnan(self._value)
        self._value[fresh] = value[fresh]
        self._speed[fresh] = 0.0
        speed = (value - self._value) / dt
        a_d = _alpha(self.d_cutoff, dt)
        self._speed = a_d * speed + (1 - a_d) * self._speed
        cutoff = self.min_cutoff + self.beta * np.abs(self._speed)
        a = _alpha(cutoff, dt)
        self._value = a * value + (1 - a) * self._value
        return self._value.copy()


def smooth_poses(poses: list[PoseFrame], fps: float, min_cutoff: float = 1.0, beta: float = 0.05) -> list[PoseFrame]:
    """Filter every keypoint track over time (pixels, seconds); scores and missing points are left as they are."""
    if not poses:
        return []
    dt = 1.0 / max(fps, 1e-3)
    groups = ("body", "face", "left_hand", "right_hand")
    filters = {g: OneEuroFilter(min_cutoff, beta) for g in groups}
    out = []
    for pose in poses:
        new = pose.copy()
        for group in groups:
            points = getattr(new, group)
            present = points[:, 2] > 0
            f = filters[group]
            smoothed = f(points[:, :2], dt)
            points[present, :2] = smoothed[present].astype(np.float32)
            # A missing point restarts its track when it comes back (no lag from a stale position).
            f.reset(np.repeat(~present[:, None], 2, axis=1))
        out.append(new)
    return out
