"""The person matte of each rendered frame: segmentation that agrees with the frame's skeleton, stable in time.

A rendered frame (by either engine) holds the person where its driving skeleton put them. mediapipe's selfie
segmenter (bundled with the installed mediapipe 0.10.14, no download) gives the person's probability per
pixel; the skeleton then says where a person can be and where one surely is:

- outside a zone around the skeleton (the hull of its keypoints grown by two bone lengths: hair, loose clothes,
  a held helmet or bag reach that far) the probability is cut to 0, so a person-like shape in a generated
  background does not join the matte;
- along the skeleton's bones (drawn thin) it is raised to 1, so a limb the segmenter misses (a bare arm
  against a skin-coloured wall, a drawing) is kept.

Over time, each frame's probability is averaged with its neighbours' only where they nearly agree (a
bilateral filter in time): the segmenter's edge jitter is evened out, while a limb that moved is not smeared
(where a neighbour differs by much, its weight is nearly 0). The matte is the probability's half-level set,
its enclosed holes filled, feathered by a Gaussian whose width scales with the frame (σ = 0.5 px at 512²), so
the edge is anti-aliased without a halo of the generated background around the person.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import cv2
import numpy as np

from studio.motion.types import VISIBLE, PoseFrame
from studio.warp.controls import BONES
from studio.warp.matte import _SEGMENTER_LOCK

#: Bones drawn for the zone and the core (eyes and ears excluded: the head is a disc).
_BODY_BONES = tuple(bone for bone in BONES if max(bone) <= 13)
#: How far beyond the skeleton's hull the person may reach, in bone lengths (hair, loose clothes, a held thing).
ZONE_GROWTH = 2.0
#: Feather sigma in pixels at 512 px on the longer side (scaled with the frame).
FEATHER_SIGMA_512 = 0.5
#: Weight of each neighbouring frame where it agrees fully with the frame itself (the frame's own is 0.5).
NEIGHBOUR_WEIGHT = 0.25
#: Probability difference at which a neighbour's weight has fallen to 1/e.
AGREEMENT = 0.2


def bone_scale(body: np.ndarray) -> float | None:
    """The median length of the visible body bones in pixels, None when no bone is visible."""
    pts = np.asarray(body, np.float64)
    ok = pts[:, 2] > VISIBLE
    lengths = [float(np.hypot(*(pts[a, :2] - pts[b, :2]))) for a, b in _BODY_BONES if ok[a] and ok[b]]
    return float(np.median(lengths)) if lengths else None


def _draw_skeleton(body: np.ndarray, shape: tuple[int, int], thickness: int, head_radius: int) -> np.ndarray:
    pts = np.asarray(body, np.float64)
    ok = pts[:, 2] > VISIBLE
    mask = np.zeros(shape, np.uint8)
    point = lambda k: tuple(int(round(v)) for v in pts[k, :2])  # noqa: E731
    for a, b in _BODY_BONES:
        if ok[a] and ok[b]:
            cv2.line(mask, point(a), point(b), 1, max(1, thickness))
    trunk = [k for k in (2, 5, 11, 8) if ok[k]]
    if len(trunk) >= 3:
        cv2.fillConvexPoly(mask, np.round(pts[trunk, :2]).astype(np.int32), 1)
    if ok[0]:
        cv2.circle(mask, point(0), max(1, head_radius), 1, -1)
    return mask


def _zone(pose: PoseFrame, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Where the person may be: the hull of the visible keypoints grown by ``ZONE_GROWTH`` bones, soft-edged.
    A body cut by the frame (shoulders visible, hips not) continues straight down to the frame's edge."""
    h, w = shape
    body = np.asarray(pose.body, np.float64)
    points = [body[body[:, 2] > VISIBLE, :2], np.asarray(pose.face, np.float64)[pose.face[:, 2] > VISIBLE, :2]]
    hips_seen = (body[[8, 11], 2] > VISIBLE).any()
    if not hips_seen:
        shoulders = body[[2, 5]][body[[2, 5], 2] > VISIBLE, :2]
        points.append(np.column_stack([shoulders[:, 0], np.full(len(shoulders), float(h))]))
    hull = cv2.convexHull(np.round(np.concatenate(points)).astype(np.int32))
    zone = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(zone, hull, 1)
    grow = max(2, round(ZONE_GROWTH * scale))
    zone = cv2.dilate(zone, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))  # type: ignore[assignment]  # cv2 stubs type results as Mat | ndarray of any number
    k = max(3, (grow // 2) * 2 + 1)
    return np.maximum(cv2.GaussianBlur(zone.astype(np.float32), (k, k), 0) * 2.0 - 1.0, 0.0)


def skeleton_bounds(pose: PoseFrame | None, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
    """(zone, core), float32 [H, W] each: where the person may be (1 inside, fading to 0 outside) and where
    the person surely is (the bones drawn thin). None without a visible skeleton."""
    if pose is None or not pose.has_person:
        return None
    scale = bone_scale(pose.body)
    if scale is None:
        return None
    core = _draw_skeleton(pose.body, shape, round(0.08 * scale), round(0.2 * scale)).astype(np.float32)
    return _zone(pose, shape, scale), core


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """``mask`` (bool) with every enclosed hole filled: the segmenter leaves holes where clothing looks like
    background (a white strap, a dark patch); a person has none the background could show through."""
    outside = np.pad((~mask).astype(np.uint8), 1, constant_values=1)
    flood = outside.copy()
    cv2.floodFill(flood, None, (0, 0), 2)
    return mask | (flood[1:-1, 1:-1] == 1)


def feather(probability: np.ndarray) -> np.ndarray:
    """The half-level set of ``probability``, its edge anti-aliased by a Gaussian scaled to the frame."""
    hard = fill_holes(probability >= 0.5).astype(np.float32)
    sigma = FEATHER_SIGMA_512 * max(probability.shape) / 512.0
    return cv2.GaussianBlur(hard, (0, 0), sigma) if sigma >= 0.3 else hard


class FrameMatter:
    """Person mattes for a sequence of rendered frames. Use ``run`` (or ``with`` and ``probability``)."""

    def __init__(self, model_selection: int = 0) -> None:
        self.model_selection = model_selection
        self._segmenter: Any = None  # mediapipe's SelfieSegmentation, made on first use (mediapipe is untyped)

    def __enter__(self) -> FrameMatter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._segmenter is not None:
            self._segmenter.close()
            self._segmenter = None

    def _segment(self, frame: np.ndarray) -> np.ndarray:
        if self._segmenter is None:
            import mediapipe as mp  # heavy; only needed when a background mode or the colour match asks

            with _SEGMENTER_LOCK:
                self._segmenter = mp.solutions.selfie_segmentation.SelfieSegmentation(
                    model_selection=self.model_selection)
        mask = self._segmenter.process(np.ascontiguousarray(frame)).segmentation_mask
        if mask is None:
            return np.zeros(frame.shape[:2], np.float32)
        mask = np.asarray(mask, np.float32)
        if mask.shape != frame.shape[:2]:
            mask = cv2.resize(mask, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_LINEAR)
        return np.clip(mask, 0.0, 1.0)

    def probability(self, frame: np.ndarray, pose: PoseFrame | None) -> np.ndarray:
        """The person's probability in ``frame`` (RGB uint8), bounded by ``pose``'s skeleton when it has one."""
        prob = self._segment(frame)
        bounds = skeleton_bounds(pose, frame.shape[:2])
        if bounds is not None:
            zone, core = bounds
            prob = np.maximum(prob * zone, core)
        return prob

    def run(self, items: Iterable[tuple[np.ndarray, PoseFrame | None]]) -> Iterator[np.ndarray]:
        """One matte (float32 [H, W] in [0, 1]) per (frame, pose), in order, each one frame after its frame
        arrived (the temporal filter looks one frame ahead)."""
        previous = current = None
        try:
            for frame, pose in items:
                following = self.probability(frame, pose)
                if current is not None:
                    yield feather(stabilise(current, [p for p in (previous, following) if p is not None]))
                previous, current = current, following
            if current is not None:
                yield feather(stabilise(current, [] if previous is None else [previous]))
        finally:
            self.close()


def stabilise(current: np.ndarray, neighbours: list[np.ndarray]) -> np.ndarray:
    """``current`` averaged with its ``neighbours`` where they nearly agree (a bilateral filter in time)."""
    total = current * 0.5
    weight = np.full_like(current, 0.5)
    for other in neighbours:
        w = NEIGHBOUR_WEIGHT * np.exp(-((other - current) / AGREEMENT) ** 2)
        total += w * other
        weight += w
    return total / weight
