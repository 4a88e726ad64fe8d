"""The weight-free frame interpolator: dense optical flow both ways, occlusion-aware splatting, soft blending.

For two frames and a time ``t`` in (0, 1):

1. **Flow both ways** (OpenCV DIS on grey frames, at most ``FLOW_SIDE`` pixels on the long side: DIS's coarse-to-fine
   pyramid finds large motions at that size, and it keeps the cost far below a block-matching interpolator's).
2. **Which flow vectors to trust.** A vector of frame 0 whose end point's frame-1 vector does not lead back
   (forward/backward consistency) lands on something frame 1 no longer shows (occlusion) or is simply wrong; its
   weight decays with the mismatch.
3. **Flow at time t by forward splatting.** Every pixel of frame 0 moves ``t·F01`` and carries its vector, every pixel
   of frame 1 moves ``(1-t)·F10``; each lands bilinearly with its trust weight (and ``1-t``/``t`` for nearness in
   time). Where a foreground edge covers background, the covered background fails the consistency check, so the
   foreground's vectors win instead of averaging into a smear. Holes (no pixel landed) are filled from the
   neighbourhood by normalised convolution.
4. **Warp and blend.** Both frames are backward-warped to time ``t`` (``cv2.remap``); each pixel is blended with how
   much of each frame landed there (visibility) times nearness in time. The weights are normalised with a floor
   that falls back to the plain ``1-t``/``t`` mix, so a pixel where both weights are tiny is never darkened (the
   classic underflow pitfall: ``w0·a + w1·b`` over a vanishing ``w0 + w1``).

Known poses (optional) guide the flow around fast limbs and check the face: see :mod:`studio.interpolation.poses`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

#: Long side of the frames the flow is estimated on (bigger: slower, finer motion boundaries).
FLOW_SIDE = 640
#: A forward/backward mismatch of this many pixels (at flow resolution) halves a vector's trust.
CONSISTENCY_PX = 1.0
#: Splat density below which a pixel counts as a hole.
HOLE_DENSITY = 1e-3
#: Neighbourhood (Gaussian sigma, full-resolution pixels) over which motion and stillness are compared.
STILLNESS_SIGMA = 2.0
#: Blend-weight floor: below it the plain time mix takes over (never a division by a vanishing sum).
WEIGHT_FLOOR = 1e-3

_local = threading.local()


#: DIS preset (MEDIUM: patch search plus variational refinement).
DIS_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM


def _dis() -> cv2.DISOpticalFlow:
    """One DIS instance per thread (the object keeps per-call state)."""
    if getattr(_local, "preset", None) != DIS_PRESET:
        _local.dis, _local.preset = cv2.DISOpticalFlow_create(DIS_PRESET), DIS_PRESET
    return _local.dis


@dataclass
class FlowPair:
    """Flows between two frames at flow resolution (pixels of that resolution) and their trust weights."""

    forward: np.ndarray  # [h, w, 2] frame 0 -> frame 1
    backward: np.ndarray  # [h, w, 2] frame 1 -> frame 0
    trust0: np.ndarray  # [h, w] how much frame 0's vectors are believed
    trust1: np.ndarray
    factor: float  # full-resolution pixels per flow pixel


def _grey(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return grey if grey.shape[::-1] == size else cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def _sample(field: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``field`` at ``x + flow(x)`` (bilinear, border-replicated)."""
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(field, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _trust(flow: np.ndarray, other: np.ndarray) -> np.ndarray:
    """1 where following ``flow`` then ``other`` returns home, decaying with the distance it misses by."""
    miss = flow + _sample(other, flow)
    return 1.0 / (1.0 + (miss[..., 0] ** 2 + miss[..., 1] ** 2) / CONSISTENCY_PX**2)


def estimate_flows(frame0: np.ndarray, frame1: np.ndarray, guide=None) -> FlowPair:
    """Flows both ways between two RGB uint8 frames ``[H, W, 3]``; ``guide(forward, backward, factor)`` may correct
    them in place (pose guidance) before the trust weights are computed."""
    h, w = frame0.shape[:2]
    factor = max(1.0, max(h, w) / FLOW_SIDE)
    size = (max(8, round(w / factor)), max(8, round(h / factor)))
    g0, g1 = _grey(frame0, size), _grey(frame1, size)
    forward = _dis().calc(g0, g1, None)
    backward = _dis().calc(g1, g0, None)
    if guide is not None:
        guide(forward, backward, (w / size[0], h / size[1]))
    return FlowPair(forward, backward, _trust(forward, backward), _trust(backward, forward),
                    factor=float(np.mean((w / size[0], h / size[1]))))


def _splat(flow: np.ndarray, weight: np.ndarray, step: float, values: list[np.ndarray],
           shape: tuple[int, int]) -> tuple[list[np.ndarray], np.ndarray]:
    """Move every pixel by ``step·flow`` and land ``weight·value`` bilinearly; returns the sums and the density."""
    h, w = shape
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    x, y = gx + step * flow[..., 0], gy + step * flow[..., 1]
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0).ravel(), (y - y0).ravel()
    x0, y0 = x0.astype(np.int32).ravel(), y0.astype(np.int32).ravel()
    weight = weight.ravel()
    # the four corners of every landing point in one index/weight array (one bincount per quantity)
    index, landed = [], []
    for dx, dy, corner in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        xs, ys = x0 + dx, y0 + dy
        inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
        index.append(np.where(inside, ys * w + xs, 0))
        landed.append(corner * weight * inside)
    index, landed = np.concatenate(index), np.concatenate(landed)
    density = np.bincount(index, landed, h * w).reshape(h, w)
    sums = [np.bincount(index, landed * np.tile(v.ravel(), 4), h * w).reshape(h, w) for v in values]
    return sums, density


def _fill_holes(values: list[np.ndarray], density: np.ndarray, solid: float = 0.5) -> list[np.ndarray]:
    """Divide the splatted sums by their density; where less than ``solid`` landed, blend in the neighbourhood's
    ratio (normalised convolution over an area pyramid, so a hole of any size is filled in a few resizes)."""
    h, w = density.shape
    own = np.clip(density / solid, 0.0, 1.0)
    ratios = [v / np.maximum(density, HOLE_DENSITY) for v in values]
    if own.min() >= 1.0 or min(h, w) < 4:
        return ratios
    half = (max(1, w // 2), max(1, h // 2))
    small = [cv2.resize(v, half, interpolation=cv2.INTER_AREA) for v in values]
    coarse = _fill_holes(small, cv2.resize(density, half, interpolation=cv2.INTER_AREA), solid / 4)
    return [own * r + (1 - own) * cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR)
            for r, c in zip(ratios, coarse, strict=True)]


def intermediate_flows(pair: FlowPair, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backward flows from time ``t`` to frame 0 and frame 1 (flow resolution) and each frame's visibility there."""
    h, w = pair.forward.shape[:2]
    f01, f10 = pair.forward.astype(np.float64), pair.backward.astype(np.float64)
    # from frame 0: a pixel at x reaches x + t·F01; seen from there, frame 0 is -t·F01 away, frame 1 (1-t)·F01
    sums0, dens0 = _splat(pair.forward, pair.trust0 * (1 - t), t,
                          [-t * f01[..., 0], -t * f01[..., 1], (1 - t) * f01[..., 0], (1 - t) * f01[..., 1]], (h, w))
    sums1, dens1 = _splat(pair.backward, pair.trust1 * t, 1 - t,
                          [t * f10[..., 0], t * f10[..., 1], -(1 - t) * f10[..., 0], -(1 - t) * f10[..., 1]], (h, w))
    density = dens0 + dens1
    fx0, fy0, fx1, fy1 = _fill_holes([a + b for a, b in zip(sums0, sums1, strict=True)], density)
    flow_t0 = np.dstack((fx0, fy0)).astype(np.float32)
    flow_t1 = np.dstack((fx1, fy1)).astype(np.float32)
    # how much of what lands here came from each frame (smoothed: splat densities are speckled)
    vis0 = cv2.GaussianBlur(dens0 / max(1 - t, 1e-6), (0, 0), 1.0).astype(np.float32)
    vis1 = cv2.GaussianBlur(dens1 / max(t, 1e-6), (0, 0), 1.0).astype(np.float32)
    return flow_t0, flow_t1, vis0, vis1


def _upsample(field: np.ndarray, size: tuple[int, int], scale: tuple[float, float] | None = None) -> np.ndarray:
    out = field if field.shape[1::-1] == size else cv2.resize(field, size, interpolation=cv2.INTER_LINEAR)
    if scale is not None:
        out = out * np.asarray(scale, dtype=np.float32)
    return out


def warp_frame(frame: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``frame`` sampled at ``x + flow(x)`` (full resolution, bilinear, border-replicated), float32."""
    return _sample(frame.astype(np.float32), flow)


def blend(warped0: np.ndarray, warped1: np.ndarray, weight0: np.ndarray, weight1: np.ndarray, t: float) -> np.ndarray:
    """Per-pixel ``(w0·a + w1·b) / (w0 + w1)``; where the sum is below ``WEIGHT_FLOOR`` the plain time mix
    ``(1-t)·a + t·b`` is mixed in, so no pixel is darkened by vanishing weights."""
    total = weight0 + weight1
    fallback = np.clip(1.0 - total / WEIGHT_FLOOR, 0.0, 1.0)
    share0 = (1 - fallback) * weight0 / np.maximum(total, WEIGHT_FLOOR) + fallback * (1 - t)
    share0 = share0[..., None]
    return warped0 * share0 + warped1 * (1 - share0)


def _local_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute colour difference over a small neighbourhood (single channel, float32)."""
    diff = cv2.absdiff(a, b).astype(np.float32).sum(axis=2) if a.dtype == np.uint8 else np.abs(a - b).sum(axis=2)
    return cv2.GaussianBlur(diff, (0, 0), STILLNESS_SIGMA)


def _motion_beats_stillness(frame0, frame1, warped0, warped1) -> np.ndarray:
    """Per pixel, how much to trust the motion-compensated frame over the plain cross-fade: where the two frames
    already agree without moving anything (static background, flat areas) a flow error of a fraction of a pixel
    would only blur texture, so the cross-fade wins there; where the warped pair agrees better, motion wins."""
    still = _local_error(frame0, frame1) ** 2
    moved = _local_error(warped0, warped1) ** 2
    return still / (still + moved + 1e-3)


@dataclass
class Intermediate:
    """One interpolated frame and its parts (full resolution, float32)."""

    frame: np.ndarray  # [H, W, 3] in 0..255
    warped0: np.ndarray
    warped1: np.ndarray
    share0: np.ndarray  # [H, W] weight of frame 0 in the blend


def interpolate_pair(frame0: np.ndarray, frame1: np.ndarray, times: list[float], pair: FlowPair | None = None
                     ) -> list[Intermediate]:
    """Frames at each ``t`` in ``times`` between two RGB uint8 frames (one flow estimate serves all times)."""
    pair = pair or estimate_flows(frame0, frame1)
    h, w = frame0.shape[:2]
    fh, fw = pair.forward.shape[:2]
    scale = (w / fw, h / fh)
    out = []
    for t in times:
        flow_t0, flow_t1, vis0, vis1 = intermediate_flows(pair, t)
        warped0 = warp_frame(frame0, _upsample(flow_t0, (w, h), scale))
        warped1 = warp_frame(frame1, _upsample(flow_t1, (w, h), scale))
        weight0 = _upsample(vis0, (w, h)) * (1 - t)
        weight1 = _upsample(vis1, (w, h)) * t
        total = weight0 + weight1
        share0 = np.where(total > WEIGHT_FLOOR, weight0 / np.maximum(total, WEIGHT_FLOOR), 1 - t).astype(np.float32)
        frame = blend(warped0, warped1, weight0, weight1, t)
        trust_motion = _motion_beats_stillness(frame0, frame1, warped0, warped1)[..., None]
        still = (1 - t) * frame0.astype(np.float32) + t * frame1.astype(np.float32)
        frame = trust_motion * frame + (1 - trust_motion) * still
        out.append(Intermediate(frame, warped0, warped1, share0))
    return out


def to_uint8(frame: np.ndarray) -> np.ndarray:
    return np.clip(frame + 0.5, 0, 255).astype(np.uint8)
