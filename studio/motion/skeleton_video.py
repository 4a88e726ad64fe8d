"""Pose videos in (issue 12): read keypoints back from a rendered DWPose/OpenPose skeleton clip.

Many users arrive with skeletons already drawn (the original's folders of DWPose pose PNGs, ComfyUI's
DWPose/OpenPose videos): a dark background with the OpenPose limb palette, one colour per limb
(``draw.COLORS``; hues 20° apart), white face dots and thin hand lines. Such a frame is recognised by its
mostly black background plus several limbs' palette colours, and read back into the OpenPose-18 body:

* each limb's pixels are the largest connected blob of its hue (stray hand dots and crossings ignored);
* a limb is drawn as a filled ellipse from one joint to the other, so its centre is the blob's centroid and
  its half-length is 2·σ along the blob's main axis (a filled ellipse's variance along its major semi-axis
  ``a`` is ``a²/4``), which is robust to the thin tips lost to scaling and video compression;
* the ends are given to joints by walking the skeleton tree from the neck (where five limbs meet), and each
  joint is the mean of the ends that touch it.

The white face dots give the face box. Face-68 and hand points are not read back (their order cannot be
told from dots); the body's head points (nose, eyes, ears) are.
"""

from __future__ import annotations

import colorsys

import numpy as np

from studio.motion.draw import COLORS, LIMBS
from studio.motion.types import PoseFrame

#: A pixel darker than this (max channel) is background.
DARK = 40
#: At least this share of a skeleton frame is background.
MIN_DARK_SHARE = 0.8
#: Hue tolerance (OpenCV hue units, 0–179; palette hues are 10 apart).
HUE_TOLERANCE = 4
MIN_SATURATION = 90
#: Dim enough for a limb drawn at low confidence (DWPose scales a limb's colour by both joints' scores).
MIN_VALUE = 25
#: A limb blob needs this many pixels (per 512×512 frame; scaled with the frame's area).
MIN_LIMB_PIXELS = 12
#: Recognised as a skeleton frame with at least this many limbs.
MIN_LIMBS = 3

#: The OpenCV hue (0-179) of each limb colour of the palette.
_PALETTE_HUES = tuple(int(round(colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)[0] * 180)) % 180 for r, g, b in COLORS)


def _limb_blobs(frame_rgb: np.ndarray) -> dict[int, np.ndarray]:
    """Limb index -> [N, 2] pixel centres (x, y) of its largest blob of palette colour."""
    import cv2

    hsv = cv2.cvtColor(np.ascontiguousarray(frame_rgb), cv2.COLOR_RGB2HSV)
    hue, sat, val = hsv[..., 0].astype(np.int16), hsv[..., 1], hsv[..., 2]
    coloured = (sat >= MIN_SATURATION) & (val >= MIN_VALUE)
    min_pixels = max(4, int(MIN_LIMB_PIXELS * frame_rgb.shape[0] * frame_rgb.shape[1] / 512**2))
    blobs: dict[int, np.ndarray] = {}
    for limb in range(len(LIMBS)):
        target = _PALETTE_HUES[limb]
        distance = np.abs(hue - target)
        distance = np.minimum(distance, 180 - distance)
        mask = (coloured & (distance <= HUE_TOLERANCE)).astype(np.uint8)
        if int(mask.sum()) < min_pixels:
            continue
        # joined across the small breaks compression leaves in thin, dim limbs
        joined = cv2.dilate(mask, np.ones((3, 3), np.uint8))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
        if count < 2:
            continue
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        if stats[largest, cv2.CC_STAT_AREA] < min_pixels:
            continue
        ys, xs = np.nonzero((labels == largest) & (mask > 0))
        if len(xs) < min_pixels:  # the dilated blob was large, its own pixels are not
            continue
        blobs[limb] = np.stack([xs + 0.5, ys + 0.5], axis=1).astype(np.float64)  # pixel centres, corner convention
    return blobs


def _limb_ends(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    centre = points.mean(0)
    spread = np.cov((points - centre).T)
    values, vectors = np.linalg.eigh(spread)
    axis = vectors[:, int(np.argmax(values))]
    half = 2.0 * float(np.sqrt(max(values.max(), 0.0)))
    return centre - half * axis, centre + half * axis


def looks_like_skeleton(frame_rgb: np.ndarray) -> bool:
    """A mostly dark frame with at least a few limbs in the OpenPose palette."""
    dark_share = float((np.asarray(frame_rgb).max(axis=2) < DARK).mean())
    return dark_share >= MIN_DARK_SHARE and len(_limb_blobs(frame_rgb)) >= MIN_LIMBS


def _assign(ends: dict[int, tuple[np.ndarray, np.ndarray]]) -> dict[int, list[np.ndarray]]:
    """Joint -> the limb ends that belong to it, orienting each limb from a joint already placed.

    A limb whose nearer end is far from the joint it should share (more than a third of its length, at least
    4 px) is a stray blob (colours mixed where two limbs or a joint dot meet) and is left out.
    """
    def fits(limb: int, anchor: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        e0, e1 = ends[limb]
        near, far = (e0, e1) if np.linalg.norm(e0 - anchor) <= np.linalg.norm(e1 - anchor) else (e1, e0)
        tolerance = max(4.0, float(np.linalg.norm(e1 - e0)) / 3)
        return (near, far) if np.linalg.norm(near - anchor) <= tolerance else None

    joints: dict[int, list[np.ndarray]] = {}
    neck_limbs = [i for i, (a, _b) in enumerate(LIMBS) if a == 1 and i in ends]
    if neck_limbs:
        candidates = [e for i in neck_limbs for e in ends[i]]
        # the neck is where most neck limbs meet: the candidate end the most limbs fit, then the closest fit
        def agreement(c: np.ndarray) -> tuple[int, float]:
            distances = [min(np.linalg.norm(e - c) for e in ends[i]) for i in neck_limbs]
            close = [d for d, i in zip(distances, neck_limbs, strict=True) if fits(i, c) is not None]
            return len(close), -float(sum(close))

        joints[1] = [max(candidates, key=agreement)]
    pending = set(ends)
    while pending:
        progress = False
        for limb in sorted(pending):
            a, b = LIMBS[limb]
            for known, other in ((a, b), (b, a)):
                if known in joints:
                    pending.discard(limb)
                    progress = True
                    oriented = fits(limb, np.mean(joints[known], axis=0))
                    if oriented is not None:
                        joints[known].append(oriented[0])
                        joints.setdefault(other, []).append(oriented[1])
                    break
        if not progress:
            # a part not connected to anything placed (e.g. no neck limbs): start it from its first limb as drawn
            limb = min(pending)
            a, b = LIMBS[limb]
            joints.setdefault(a, []).append(ends[limb][0])
            joints.setdefault(b, []).append(ends[limb][1])
            pending.discard(limb)
    return joints


def _face_box(frame_rgb: np.ndarray, near: np.ndarray | None) -> tuple[float, float, float, float] | None:
    """The box around the white face dots (grey, unsaturated, bright) near the head, or None."""
    import cv2

    hsv = cv2.cvtColor(np.ascontiguousarray(frame_rgb), cv2.COLOR_RGB2HSV)
    white = (hsv[..., 1] < 60) & (hsv[..., 2] > 110)
    ys, xs = np.nonzero(white)
    if len(xs) < 10 or near is None:
        return None
    pts = np.stack([xs + 0.5, ys + 0.5], 1)
    spread = float(np.median(np.linalg.norm(pts - near, axis=1)))
    keep = np.linalg.norm(pts - near, axis=1) < 3 * max(spread, 1.0)
    pts = pts[keep]
    if len(pts) < 10:
        return None
    (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
    return float(x0), float(y0), float(x1), float(y1)


#: Joint dots are drawn at full brightness over limbs dimmed to 60 %: brighter than this is a dot.
DOT_VALUE = 180


def _refine_on_dots(frame_rgb: np.ndarray, joint: int, guess: np.ndarray, radius: float) -> np.ndarray:
    """The centroid of joint ``joint``'s own bright dot near ``guess`` (its palette colour), else ``guess``."""
    import cv2

    h, w = frame_rgb.shape[:2]
    x0, y0 = max(0, int(guess[0] - radius)), max(0, int(guess[1] - radius))
    x1, y1 = min(w, int(guess[0] + radius) + 1), min(h, int(guess[1] + radius) + 1)
    if x1 <= x0 or y1 <= y0:
        return guess
    hsv = cv2.cvtColor(np.ascontiguousarray(frame_rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2HSV)
    distance = np.abs(hsv[..., 0].astype(np.int16) - _PALETTE_HUES[joint])
    distance = np.minimum(distance, 180 - distance)
    weight = ((distance <= HUE_TOLERANCE) & (hsv[..., 1] >= MIN_SATURATION) & (hsv[..., 2] >= DOT_VALUE))
    ys, xs = np.nonzero(weight)
    if len(xs) == 0:
        return guess
    values = hsv[..., 2][ys, xs].astype(np.float64)
    return np.array([np.average(xs + 0.5, weights=values) + x0, np.average(ys + 0.5, weights=values) + y0])


def read_skeleton(frame_rgb: np.ndarray) -> PoseFrame | None:
    """The OpenPose-18 body (and face box) drawn in a skeleton frame, or None when it shows no skeleton."""
    blobs = _limb_blobs(frame_rgb)
    if not blobs:
        return None
    ends = {limb: _limb_ends(points) for limb, points in blobs.items()}
    # a joint dot is about 1/540 of the frame's short side across (4 px on DWPose's 2160 px canvas)
    radius = max(3.0, 4.0 * min(frame_rgb.shape[:2]) / 540)
    pose = PoseFrame()
    for joint, estimates in _assign(ends).items():
        x, y = _refine_on_dots(frame_rgb, joint, np.mean(estimates, axis=0), radius)
        pose.body[joint] = (x, y, 1.0)
    nose = pose.body[0, :2] if pose.body[0, 2] > 0 else None
    pose.face_box = _face_box(frame_rgb, nose)
    return pose


class SkeletonBackend:
    """Reads poses back from skeleton images instead of detecting people (see the module docstring)."""

    name = "skeleton"
    #: Its poses carry no face-68 points (so a missing face is no sign of a phantom).
    reports_faces = False

    def parameters(self) -> dict:
        return {"model": "skeleton-readback-1"}

    def detect(self, frame: np.ndarray) -> list[PoseFrame]:
        pose = read_skeleton(frame)
        return [] if pose is None else [pose]

    def close(self) -> None:
        pass
