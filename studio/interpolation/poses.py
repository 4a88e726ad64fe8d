"""What known poses add to the flow interpolator (the studio knows them for every frame it rendered).

* **Limbs guide the flow.** A fast forearm or shin is thin and moves far: block-based flow often loses it and
  leaves it behind (a ghost limb). Each visible limb's two keypoints say exactly how it moved; around the limb (a
  band as wide as a limb is thick), the flow is pulled towards that motion wherever the estimated flow disagrees,
  in both directions.
* **The face is checked.** Where the two frames warped to time ``t`` disagree inside the face box (a ghosted
  double face), the face is taken from the nearer frame alone, with a feathered edge, rather than blending two
  faces.

Measured on the bundled sample dance (assets/sample_motion.mp4 with its exact poses, every other frame rebuilt):
31.05 dB without the poses, 31.23 dB with them (a cross-fade: 28.78 dB).
"""

from __future__ import annotations

import cv2
import numpy as np

from studio.interpolation.flow import Intermediate
from studio.motion.types import VISIBLE, PoseFrame

#: OpenPose-18 limbs (arms, legs, shoulders, hips, neck-nose), the bones whose motion guides the flow.
LIMBS = ((2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (11, 12), (12, 13),
         (1, 2), (1, 5), (1, 8), (1, 11), (1, 0))
#: Half-width of the guided band around a limb, as a fraction of the limb's length (a forearm is ~1/4 as thick
#: as it is long).
BAND = 0.25
#: The flow is left alone where it agrees with the keypoints within this many full-resolution pixels (keypoints
#: are themselves a few pixels off; DIS is better than them where it has found the limb).
AGREE_PX = 2.0
#: Mean colour difference (0..255, per channel) between the two warped faces above which they count as ghosted.
FACE_GHOST_LEVEL = 10.0
HEAD_POINTS = (0, 14, 15, 16, 17)


def _visible(pose: PoseFrame, index: int) -> bool:
    return bool(pose.body[index, 2] > VISIBLE)


class PoseGuide:
    """Pulls the flows towards the keypoint motion around each limb visible in both frames."""

    def __init__(self, pose0: PoseFrame, pose1: PoseFrame):
        self.pose0, self.pose1 = pose0, pose1

    def __call__(self, forward: np.ndarray, backward: np.ndarray, scale: tuple[float, float]) -> None:
        sx, sy = scale
        to_flow = np.array([1 / sx, 1 / sy], dtype=np.float32)
        for a, b in LIMBS:
            if not all(_visible(p, i) for p in (self.pose0, self.pose1) for i in (a, b)):
                continue
            start0, end0 = self.pose0.body[a, :2] * to_flow, self.pose0.body[b, :2] * to_flow
            start1, end1 = self.pose1.body[a, :2] * to_flow, self.pose1.body[b, :2] * to_flow
            _pull(forward, start0, end0, start1 - start0, end1 - end0, AGREE_PX / max(sx, sy))
            _pull(backward, start1, end1, start0 - start1, end0 - end1, AGREE_PX / max(sx, sy))


def _pull(flow: np.ndarray, start: np.ndarray, end: np.ndarray, move_start: np.ndarray, move_end: np.ndarray,
          agree: float) -> None:
    """Inside a band around the segment start–end, blend ``flow`` towards the motion interpolated along it."""
    h, w = flow.shape[:2]
    length = float(np.hypot(*(end - start)))
    if length < 2:
        return
    radius = max(2.0, BAND * length)
    x0, y0 = np.floor(np.minimum(start, end) - radius).astype(int)
    x1, y1 = np.ceil(np.maximum(start, end) + radius).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1)
    if x1 <= x0 or y1 <= y0:
        return
    ys, xs = np.mgrid[y0:y1 + 1, x0:x1 + 1].astype(np.float32)
    axis = (end - start) / length
    along = np.clip(((xs - start[0]) * axis[0] + (ys - start[1]) * axis[1]) / length, 0.0, 1.0)
    dx = xs - (start[0] + along * (end[0] - start[0]))
    dy = ys - (start[1] + along * (end[1] - start[1]))
    closeness = np.exp(-(dx**2 + dy**2) / (2 * (radius / 2) ** 2))
    target = move_start[None, None] + along[..., None] * (move_end - move_start)[None, None]
    patch = flow[y0:y1 + 1, x0:x1 + 1]
    miss = np.hypot(*(patch - target).transpose(2, 0, 1))
    # nothing changes where the flow already agrees; fully guided where it misses by twice the tolerance
    weight = (closeness * np.clip(miss / agree - 1.0, 0.0, 1.0))[..., None]
    patch += weight * (target - patch)


def _face_box(pose: PoseFrame) -> np.ndarray | None:
    """(x0, y0, x1, y1) of the face: the pose's face box, else a square around the visible head points."""
    if pose.face_box is not None:
        return np.asarray(pose.face_box, dtype=np.float32)
    points = pose.body[[i for i in HEAD_POINTS if _visible(pose, i)], :2]
    if len(points) < 2:
        return None
    centre = points.mean(axis=0)
    half = max(8.0, 1.2 * float(np.ptp(points, axis=0).max()))
    return np.array([*(centre - half), *(centre + half)], dtype=np.float32)


def check_face(result: Intermediate, t: float, poses: tuple[PoseFrame, PoseFrame]) -> np.ndarray:
    """The interpolated frame (uint8, or float32 where a ghosted face was replaced by the nearer frame's warped
    face)."""
    boxes = [_face_box(p) for p in poses]
    if boxes[0] is None or boxes[1] is None:
        return result.frame
    h, w = result.frame.shape[:2]
    x0, y0, x1, y1 = (1 - t) * boxes[0] + t * boxes[1]
    x0, y0 = int(max(0, np.floor(x0))), int(max(0, np.floor(y0)))
    x1, y1 = int(min(w, np.ceil(x1))), int(min(h, np.ceil(y1)))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return result.frame
    region = (slice(y0, y1), slice(x0, x1))
    ghost = float(cv2.absdiff(result.warped0[region], result.warped1[region]).mean())
    if ghost <= FACE_GHOST_LEVEL:
        return result.frame
    nearer = (result.warped0 if t < 0.5 else result.warped1).astype(np.float32)
    mask = np.zeros((h, w), np.float32)
    mask[region] = 1.0
    feather = max(1.0, 0.1 * min(x1 - x0, y1 - y0))
    mask = cv2.GaussianBlur(mask, (0, 0), feather)[..., None]  # type: ignore[assignment]  # cv2 stubs type results as Mat | ndarray of any number
    return mask * nearer + (1 - mask) * result.frame.astype(np.float32)
