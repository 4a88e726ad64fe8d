"""Split the person into layers that move separately: the body, and each leg and arm drawn over it.

One smooth map for the whole person cannot swing an arm across the chest, or even close the gap between an
arm and the trunk, without squeezing the skin between them to nothing (a fold). Real arms slide over the
trunk instead, so each arm (shoulder → elbow → wrist) and each leg (hip → knee → ankle) gets its own layer,
warped by its own spline from its own bones only, and composited on top of the body layer, whose spline no
longer sees the limb's elbow/knee and wrist/ankle.

Pixels are given to a limb when their nearest bone of the reference skeleton belongs to that limb (and they
are not too far from it); the body layer keeps the rest. Where an arm moves away, the filled background
shows, as it does wherever the person has moved. A limb needs its first two keypoints in the photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from studio.warp.controls import BONES

#: Layered limbs, in drawing order (legs under arms): name → keypoint chain (shoulder/hip, elbow/knee,
#: wrist/ankle) in OpenPose-18 numbering.
LIMB_CHAINS: dict[str, tuple[int, int, int]] = {
    "right_leg": (8, 9, 10), "left_leg": (11, 12, 13), "right_arm": (2, 3, 4), "left_arm": (5, 6, 7),
}
ARM_CHAINS = {k: v for k, v in LIMB_CHAINS.items() if k.endswith("_arm")}


@dataclass
class Layer:
    name: str
    #: Positions (into the control tracker's keypoints) of the keypoints that drive this layer.
    controls: np.ndarray
    matte: np.ndarray  # float32 [H, W] in [0, 1]
    #: The photo (uint8 [H + 2·pad, W + 2·pad, 3]) and this layer's matte as alpha (uint8 [H + 2·pad, W + 2·pad]),
    #: padded (see ``_padded``); kept apart so that each is remapped straight into its own contiguous array.
    rgb: np.ndarray
    alpha: np.ndarray
    pad: int = 0


def _segment_distance(xs: np.ndarray, ys: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = b - a
    length2 = float(d @ d)
    if length2 < 1e-6:
        return np.hypot(xs - a[0], ys - a[1])
    t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / length2, 0.0, 1.0)
    return np.hypot(xs - (a[0] + t * d[0]), ys - (a[1] + t * d[1]))


#: Margin added around each layer's image, as a fraction of the photo's longer side.
PAD = 0.25


def _padded(image: np.ndarray, matte: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """The layer's image with its matte as alpha, padded by ``PAD``: the texture mirrored, the alpha repeated.

    A person cut off by the photo's edge (a torso running out of the bottom) then continues past the edge
    when the warp moves it inwards, instead of ending in a straight cut with the background showing below;
    a layer that does not touch the edge stays transparent beyond it.
    """
    alpha = np.clip(matte * 255.0 + 0.5, 0, 255).astype(np.uint8)
    pad = int(round(PAD * max(image.shape[:2])))
    rgb = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    alpha = cv2.copyMakeBorder(alpha, pad, pad, pad, pad, cv2.BORDER_REPLICATE)  # type: ignore[assignment]  # cv2 stubs type results as Mat | ndarray of any number
    return rgb, alpha, pad


def _keep_padding_near(layer: Layer, segments: list[tuple[np.ndarray, np.ndarray]], reach: float) -> None:
    """Beyond the photo's edge, keep a limb layer's repeated alpha only within ``reach`` of its bones.

    The edge's alpha repeats outwards so that a limb cut by the frame continues when it moves inwards; for a limb
    that would be a slab as wide as the margin, which a raised arm swings across the head. The sleeve continues a
    little past the edge, as a limb does, and stops there."""
    h, w = layer.matte.shape
    p = layer.pad
    if p == 0:
        return
    ys, xs = np.mgrid[-p:h + p, -p:w + p].astype(np.float32)
    near = np.min([_segment_distance(xs, ys, a, b) for a, b in segments], axis=0) < reach
    outside = np.ones(near.shape, bool)
    outside[p:p + h, p:p + w] = False
    layer.alpha[outside & ~near] = 0


def _layer(name: str, controls: np.ndarray, image: np.ndarray, matte: np.ndarray) -> Layer:
    rgb, alpha, pad = _padded(image, matte)
    return Layer(name, controls, matte, rgb, alpha, pad)


def build_layers(image: np.ndarray, matte: np.ndarray, ids: np.ndarray, points: np.ndarray,
                 layered: bool = True, confident: frozenset[int] | None = None) -> list[Layer]:
    """Layers for a reference photo. ``ids`` are the control keypoint ids (0–17 body, 18+ face) visible in
    the reference and ``points`` their (x, y). The body layer comes first, then legs, then arms (drawn on top).

    A limb gets its own layer only when its first two keypoints are in ``confident`` (all visible ones when
    None): a limb whose elbow the pose model merely guessed in the photo (hidden, or holding something)
    would otherwise tear away from the body with every wobble of that guess; it moves with the body instead.
    """
    everything = np.arange(len(ids))
    if not layered:
        return [_layer("person", everything, image, matte)]
    pos = {int(k): i for i, k in enumerate(ids)}
    h, w = matte.shape
    sure = set(pos) if confident is None else set(confident) & set(pos)
    arms = {name: chain for name, chain in LIMB_CHAINS.items() if chain[0] in sure and chain[1] in sure}
    if not arms:
        return [_layer("person", everything, image, matte)]

    # Nearest bone per pixel (only where there is a person, at half resolution: it is a coarse partition).
    scale = 0.5
    sh, sw = max(2, int(h * scale)), max(2, int(w * scale))
    ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32)
    xs, ys = (xs + 0.5) / scale - 0.5, (ys + 0.5) / scale - 0.5
    bones = [(a, b) for a, b in BONES if a in pos and b in pos]
    dist = np.stack([_segment_distance(xs, ys, points[pos[a]], points[pos[b]]) for a, b in bones])
    nearest = dist.argmin(0)
    near_d = dist.min(0)

    body_ids = set(everything.tolist())
    layers: list[Layer] = []
    claimed = np.zeros((h, w), np.float32)
    for name, chain in arms.items():
        arm_bones = [i for i, (a, b) in enumerate(bones) if a in chain and b in chain]
        upper = float(np.hypot(*(points[pos[chain[1]]] - points[pos[chain[0]]])))
        region = np.isin(nearest, arm_bones) & (near_d < 0.6 * max(upper, 1.0))
        region = cv2.resize(region.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        region &= (matte > 0.05).astype(np.uint8)
        if region.sum() < 50:
            continue
        # The limb layer is opaque over its whole region and fades out just beyond it, over the body's
        # pixels (identical at rest), so the seam is soft; the body drops the region with a hard edge, so no
        # half-transparent outline of the limb stays behind when it moves.
        k = max(3, (int(0.02 * max(h, w)) // 2) * 2 + 1)
        grown = cv2.dilate(region, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        soft = np.maximum(cv2.GaussianBlur(grown.astype(np.float32), (k, k), 0), region.astype(np.float32))
        arm_matte = (matte * soft).astype(np.float32)
        controls = np.array([pos[c] for c in chain if c in pos])
        body_ids -= {pos[c] for c in chain[1:] if c in pos}  # the body keeps the shoulder
        layer = _layer(name, controls, image, arm_matte)
        _keep_padding_near(layer, [(points[pos[bones[i][0]]], points[pos[bones[i][1]]]) for i in arm_bones],
                           0.6 * max(upper, 1.0))
        layers.append(layer)
        claimed = np.maximum(claimed, region.astype(np.float32))
    if not layers:
        return [_layer("person", everything, image, matte)]
    body_matte = (matte * (1.0 - claimed)).astype(np.float32)
    body = _layer("body", np.array(sorted(body_ids)), image, body_matte)
    return [body, *layers]
