"""The weight-free frame interpolator: dense optical flow both ways, occlusion-aware splatting, soft blending.

For two frames and a time ``t`` in (0, 1):

1. **Flow both ways** (OpenCV DIS on grey frames at half size or less, at most ``FLOW_SIDE`` pixels on the long
   side: DIS's coarse-to-fine pyramid finds large motions at that size, and it keeps the cost far below a
   block-matching interpolator's).
2. **Which flow vectors to trust.** A vector of frame 0 whose end point's frame-1 vector does not lead back
   (forward/backward consistency) lands on something frame 1 no longer shows (occlusion) or is simply wrong; its
   weight decays with the mismatch.
3. **Flow at time t by forward splatting.** Every pixel of frame 0 moves ``t·F01`` and carries its vector, every pixel
   of frame 1 moves ``(1-t)·F10``; each lands on the nearest pixel, spread by a small Gaussian, with its trust
   weight (and ``1-t``/``t`` for nearness in time). Where a foreground edge covers background, the covered background fails the consistency check, so the
   foreground's vectors win instead of averaging into a smear. Holes (no pixel landed) are filled from the
   neighbourhood by normalised convolution.
4. **Warp and blend.** Both frames are backward-warped to time ``t`` (``cv2.remap``); each pixel is blended with how
   much of each frame landed there (visibility) times nearness in time. The weights are normalised with a floor
   that falls back to the plain ``1-t``/``t`` mix, so a pixel where both weights are tiny is never darkened (the
   classic underflow pitfall: ``w0·a + w1·b`` over a vanishing ``w0 + w1``).

Known poses (optional) guide the flow around fast limbs and check the face: see :mod:`studio.interpolation.poses`.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import cv2
import numpy as np

#: Long side of the frames the flow is estimated on (bigger: slower, finer motion boundaries).
FLOW_SIDE = 640
#: The flow is estimated at this fraction of the frame size or less (DIS's patches then span twice the detail;
#: small frames lose little and the flow costs a quarter).
MIN_DOWNSCALE = 2.0
#: A forward/backward mismatch of this many pixels (at flow resolution) halves a vector's trust.
CONSISTENCY_PX = 1.0
#: Spread of a landing pixel over its neighbours (Gaussian sigma, flow pixels).
SPLAT_SIGMA = 0.6
#: Splat density below which a pixel counts as a hole.
HOLE_DENSITY = 1e-3
#: Neighbourhood (Gaussian sigma, full-resolution pixels) over which motion and stillness are compared.
STILLNESS_SIGMA = 2.0
#: Mean trust below which a pair is a scene cut (normal pairs of real clips: 0.6-0.8; across a cut: 0.0).
CUT_TRUST = 0.1
#: How far (grey levels) a filled frame's mean brightness may stray outside its two source frames'.
BRIGHTNESS_SLACK = 0.5
#: Blend-weight floor: below it the plain time mix takes over (never a division by a vanishing sum).
WEIGHT_FLOOR = 1e-3

#: DIS preset (MEDIUM: patch search plus variational refinement; FAST loses 0.5–1 dB on the bench's clips).
DIS_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM

#: Process-wide registry, one slot per thread: each thread's DIS instance, written only by ``_dis``.
_local = threading.local()


def _dis() -> cv2.DISOpticalFlow:
    """One DIS instance per thread (the object keeps per-call state)."""
    if getattr(_local, "preset", None) != DIS_PRESET:
        _local.dis, _local.preset = cv2.DISOpticalFlow.create(DIS_PRESET), DIS_PRESET
    return _local.dis


@dataclass
class FlowPair:
    """Flows between two frames at flow resolution (pixels of that resolution) and their trust weights."""

    forward: np.ndarray  # [h, w, 2] frame 0 -> frame 1
    backward: np.ndarray  # [h, w, 2] frame 1 -> frame 0
    trust0: np.ndarray  # [h, w] how much frame 0's vectors are believed
    trust1: np.ndarray


def _grey(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return grey if grey.shape[::-1] == size else cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def _sample(field: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``field`` at ``x + flow(x)`` (bilinear, border-replicated)."""
    h, w = flow.shape[:2]
    return cv2.remap(field, _pixel_grid(h, w) + flow, None, cv2.INTER_LINEAR,  # type: ignore[call-overload]  # cv2 stubs: map2 None is allowed
                     borderMode=cv2.BORDER_REPLICATE)


def _trust(flow: np.ndarray, other: np.ndarray) -> np.ndarray:
    """1 where following ``flow`` then ``other`` returns home, decaying with the distance it misses by."""
    miss = flow + _sample(other, flow)
    return 1.0 / (1.0 + (miss[..., 0] ** 2 + miss[..., 1] ** 2) / CONSISTENCY_PX**2)


def estimate_flows(frame0: np.ndarray, frame1: np.ndarray, guide=None) -> FlowPair:
    """Flows both ways between two RGB uint8 frames ``[H, W, 3]``; ``guide(forward, backward, factor)`` may correct
    them in place (pose guidance) before the trust weights are computed."""
    h, w = frame0.shape[:2]
    factor = max(MIN_DOWNSCALE, max(h, w) / FLOW_SIDE)
    size = (max(8, round(w / factor)), max(8, round(h / factor)))
    g0, g1 = _grey(frame0, size), _grey(frame1, size)
    forward = _dis().calc(g0, g1, None)  # type: ignore[call-overload]  # cv2 stubs: a None flow (no initial guess) is allowed
    backward = _dis().calc(g1, g0, None)  # type: ignore[call-overload]  # (as above)
    if guide is not None:
        guide(forward, backward, (w / size[0], h / size[1]))
    return FlowPair(forward, backward, _trust(forward, backward), _trust(backward, forward))


def _splat(flow: np.ndarray, weight: np.ndarray, step: float, values: list[np.ndarray],
           shape: tuple[int, int]) -> tuple[list[np.ndarray], np.ndarray]:
    """Move every pixel by ``step·flow`` and land ``weight·value`` on the nearest pixel, then spread each landing
    over its neighbours (a 3×3 Gaussian: close to bilinear splatting at a quarter of the indexing work); returns
    the sums and the density."""
    h, w = shape
    grid = _pixel_grid(h, w)
    target = np.rint(grid + step * flow).astype(np.int32)
    x, y = target[..., 0].ravel(), target[..., 1].ravel()
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    index = np.where(inside, y * w + x, 0)
    landed = weight.ravel() * inside

    def spread(total: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(total.reshape(h, w), (3, 3), SPLAT_SIGMA)

    density = spread(np.bincount(index, landed, h * w))
    return [spread(np.bincount(index, landed * v.ravel(), h * w)) for v in values], density


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
    # a coarse pixel averages four: a quarter of one covered pixel's density already gives it a value to pass down
    coarse = _fill_holes(small, cv2.resize(density, half, interpolation=cv2.INTER_AREA), solid / 4)
    return [own * r + (1 - own) * cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR)
            for r, c in zip(ratios, coarse, strict=True)]


def intermediate_flows(pair: FlowPair, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backward flows from time ``t`` to frame 0 and frame 1 (flow resolution) and each frame's visibility there."""
    h, w = pair.forward.shape[:2]
    # Each pixel moves on a straight line: frame 0's pixel at x passes x + t·F01 at time t, going F01 from frame 0
    # to frame 1 (frame 1's pixel, going -F10). Splat that displacement D; seen from time t, frame 0 lies -t·D
    # away and frame 1 (1-t)·D.
    (sx0, sy0), dens0 = _splat(pair.forward, pair.trust0 * (1 - t), t,
                               [pair.forward[..., 0], pair.forward[..., 1]], (h, w))
    (sx1, sy1), dens1 = _splat(pair.backward, pair.trust1 * t, 1 - t,
                               [pair.backward[..., 0], pair.backward[..., 1]], (h, w))
    dx, dy = _fill_holes([sx0 - sx1, sy0 - sy1], dens0 + dens1)
    motion = np.dstack((dx, dy)).astype(np.float32)
    flow_t0, flow_t1 = -t * motion, (1 - t) * motion
    # how much of what lands here came from each frame (smoothed: splat densities are speckled)
    vis0 = cv2.GaussianBlur(dens0 / max(1 - t, 1e-6), (0, 0), 1.0).astype(np.float32)
    vis1 = cv2.GaussianBlur(dens1 / max(t, 1e-6), (0, 0), 1.0).astype(np.float32)
    return flow_t0, flow_t1, vis0, vis1


@functools.lru_cache(maxsize=8)
def _pixel_grid(h: int, w: int) -> np.ndarray:
    """``[h, w, 2]`` pixel coordinates (x, y), memoised per size (remap's maps are the grid plus a flow; callers
    only read it)."""
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return np.dstack((gx, gy))


def warp_frame(frame: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``frame`` sampled at ``x + flow(x)`` (bilinear, border-replicated); uint8 in, uint8 out."""
    h, w = flow.shape[:2]
    return cv2.remap(frame, _pixel_grid(h, w) + flow, None, cv2.INTER_LINEAR,  # type: ignore[call-overload]  # cv2 stubs: map2 None is allowed
                     borderMode=cv2.BORDER_REPLICATE)


def blend_share(weight0: np.ndarray, weight1: np.ndarray, t: float) -> np.ndarray:
    """Frame 0's share ``w0 / (w0 + w1)`` of each pixel; where the sum is below ``WEIGHT_FLOOR`` the plain time
    share ``1-t`` is mixed in, so vanishing weights never divide into a dark (or NaN) pixel."""
    total = weight0 + weight1
    fallback = np.clip(1.0 - total / WEIGHT_FLOOR, 0.0, 1.0)
    return ((1 - fallback) * weight0 / np.maximum(total, WEIGHT_FLOOR) + fallback * (1 - t)).astype(np.float32)


def _mix(a: np.ndarray, b: np.ndarray, share_a: np.ndarray) -> np.ndarray:
    """``share_a·a + (1-share_a)·b`` per pixel (uint8 images, float32 shares summing to 1: no division by ~0)."""
    return cv2.blendLinear(a, b, share_a, 1.0 - share_a)


def _local_error(a: np.ndarray, b: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Mean absolute grey difference over a small neighbourhood, at ``size`` (single channel, float32)."""
    diff = cv2.cvtColor(cv2.absdiff(a, b), cv2.COLOR_RGB2GRAY)
    diff = cv2.resize(diff, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    return cv2.GaussianBlur(diff, (0, 0), STILLNESS_SIGMA * size[0] / a.shape[1])


def _motion_beats_stillness(frame0, frame1, warped0, warped1) -> np.ndarray:
    """Per pixel, how much to trust the motion-compensated frame over the plain cross-fade: where the two frames
    already agree without moving anything (static background, flat areas) a flow error of a fraction of a pixel
    would only blur texture, so the cross-fade wins there; where the warped pair agrees better, motion wins.
    Compared at half size (a smooth choice needs no more)."""
    h, w = frame0.shape[:2]
    half = (max(1, w // 2), max(1, h // 2))
    still = _local_error(frame0, frame1, half) ** 2
    moved = _local_error(warped0, warped1, half) ** 2
    return _upsample(still / (still + moved + 1e-3), (w, h))


@dataclass
class Intermediate:
    """One interpolated frame and its parts (full resolution)."""

    frame: np.ndarray  # [H, W, 3] uint8
    warped0: np.ndarray  # frame 0 warped to time t, uint8
    warped1: np.ndarray
    share0: np.ndarray  # [H, W] float32 weight of warped0 in the motion-compensated blend


def interpolate_pair(frame0: np.ndarray, frame1: np.ndarray, times: list[float], pair: FlowPair | None = None
                     ) -> list[Intermediate]:
    """Frames at each ``t`` in ``times`` between two RGB uint8 frames (one flow estimate serves all times)."""
    pair = pair or estimate_flows(frame0, frame1)
    h, w = frame0.shape[:2]
    fh, fw = pair.forward.shape[:2]
    to_pixels = np.array([w / fw, h / fh], dtype=np.float32)
    brightness = sorted((float(frame0.mean()), float(frame1.mean())))
    cut = max(float(pair.trust0.mean()), float(pair.trust1.mean())) < CUT_TRUST
    out = []
    for t in times:
        if cut:  # a scene cut: nothing moves from one frame into the other; the nearer one (t = 0.5 rounds up to the
            # next shot), never a cross-fade of two shots
            nearer = frame0 if t < 0.5 else frame1
            out.append(Intermediate(nearer.copy(), frame0, frame1, np.full((h, w), float(t < 0.5), np.float32)))
            continue
        flow_t0, flow_t1, vis0, vis1 = intermediate_flows(pair, t)
        warped0 = warp_frame(frame0, _upsample(flow_t0 * to_pixels, (w, h)))
        warped1 = warp_frame(frame1, _upsample(flow_t1 * to_pixels, (w, h)))
        share0 = _upsample(blend_share(vis0 * (1 - t), vis1 * t, t), (w, h))
        moved = _mix(warped0, warped1, share0)
        still = cv2.addWeighted(frame0, 1 - t, frame1, t, 0)
        frame = _mix(moved, still, _motion_beats_stillness(frame0, frame1, warped0, warped1))
        out.append(Intermediate(_within_brightness(frame, *brightness), warped0, warped1, share0))
    return out


def _within_brightness(frame: np.ndarray, low: float, high: float) -> np.ndarray:
    """The frame, shifted so its mean brightness lies between its two source frames' (±``BRIGHTNESS_SLACK``): a
    wrong flow in a large area can pull in more dark (or bright) content than either frame shows, and a frame
    flickering darker than both neighbours is the most visible interpolation fault."""
    mean = float(frame.mean())
    target = min(max(mean, low - BRIGHTNESS_SLACK), high + BRIGHTNESS_SLACK)
    if target == mean:
        return frame
    return np.clip(frame.astype(np.float32) + (target - mean) + 0.5, 0, 255).astype(np.uint8)


def _upsample(field: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return field if field.shape[1::-1] == size else cv2.resize(field, size, interpolation=cv2.INTER_LINEAR)


def to_uint8(frame: np.ndarray) -> np.ndarray:
    return frame if frame.dtype == np.uint8 else np.clip(frame + 0.5, 0, 255).astype(np.uint8)
