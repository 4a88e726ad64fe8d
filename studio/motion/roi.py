"""The region a single-person pose model is shown to find one given person: a turned square, from their own pose.

MediaPipe's pose landmark model works on a square region of interest (ROI) centred on the person's hip centre,
turned so the body stands upright in it, about 2.5 times the hip-to-body-edge distance a side (the rule its
tracking graph uses from one frame's landmarks to the next: centre on the hip-centre point, size twice its
distance to the body-scale point, scaled by 1.25, turned so the line between them points up). Given the region,
the model returns whoever it judges to be *the* person there; when two people overlap that may be the other.

``roi_from_poses`` rebuilds that region from the followed person's recent poses (OpenPose-18 keypoints, which
carry no body-scale point: the farthest sure joint from the hip centre stands in for it, the head's or the
feet's). ``shifted_away`` moves it away from another person overlapping them:
on the corpus's two-person clip, the region centred on the man's hips (placed by hand) returned the woman he
walked past in every frame of their overlap; moved 10-20 % of its side away from her it returned him, his hips
6-60 px (up to a fifth of his torso) further on towards the region's middle the more it was moved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.motion.types import PoseFrame

#: Joints that count for the region (score above this).
SURE = 0.5
#: OpenPose-18 hips and neck.
R_HIP, L_HIP, NECK = 8, 11, 1
#: The farthest sure joint from the hip centre lies a little inside the body's edge (joint centres: the top of
#: the head is above the eyes, the soles below the ankles): measured against MediaPipe's own body-scale point on
#: the corpus's portrait clips, 1.1–1.2 times that distance.
REACH = 1.15
#: MediaPipe's rect transformation: the square's side is 2 × 1.25 × the body radius.
SCALE = 1.25


@dataclass(frozen=True)
class Roi:
    """A square of the frame: centre, side (frame pixels) and turn (radians; 0 upright, positive clockwise on
    screen: the square's "up" then points towards +x)."""

    cx: float
    cy: float
    side: float
    angle: float = 0.0

    def to_frame(self, size: int) -> np.ndarray:
        """2×3 affine map from the pixels of the region scaled to ``size``×``size`` to frame pixels."""
        a = self.side / size
        cos, sin = np.cos(self.angle) * a, np.sin(self.angle) * a
        half = size / 2
        return np.array([[cos, -sin, self.cx - cos * half + sin * half],
                         [sin, cos, self.cy - sin * half - cos * half]], np.float64)

    def cut(self, frame: np.ndarray, size: int) -> np.ndarray:
        """The region's pixels as a ``size``×``size`` image (black past the frame's edge)."""
        import cv2

        return cv2.warpAffine(frame, self.to_frame(size), (size, size), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))

    def moved(self, dx: float, dy: float) -> Roi:
        return Roi(self.cx + dx, self.cy + dy, self.side, self.angle)


def hip_centre(pose: PoseFrame) -> np.ndarray | None:
    """Mid-hips of ``pose`` (either hip alone when only one is sure), None without a sure hip."""
    hips = pose.body[[R_HIP, L_HIP]]
    sure = hips[hips[:, 2] > SURE]
    return None if len(sure) == 0 else sure[:, :2].mean(0).astype(np.float64)


def _radius(pose: PoseFrame, centre: np.ndarray) -> float | None:
    sure = pose.body[pose.body[:, 2] > SURE, :2]
    if len(sure) < 2:
        return None
    return float(np.linalg.norm(sure - centre, axis=1).max()) * REACH


def _angle(pose: PoseFrame, centre: np.ndarray) -> float | None:
    """The turn that stands the hips-to-neck line upright, None without a sure neck or where they coincide."""
    if pose.body[NECK, 2] <= SURE:
        return None
    up = pose.body[NECK, :2] - centre
    return None if not np.any(up) else float(np.arctan2(up[0], -up[1]))


def roi_from_poses(recent: list[PoseFrame]) -> Roi | None:
    """The region of the person of ``recent`` (their last poses, oldest first): centred on the last hip centre,
    turned like the last pose, its size the median of the recent poses' (one pose spread over two people now and
    then does not blow it up). None without a sure hip and a few sure joints in the last pose.

    No motion is extrapolated: over the few frames it serves, a person moves a few hundredths of the region (at
    most 0.026 frame to frame on the corpus's 60 fps clips, 0.087 on its 30 fps wide clip's running man), while
    a velocity read off two noisy hip positions overshot by several times that."""
    if not recent:
        return None
    centre = hip_centre(recent[-1])
    if centre is None:
        return None
    radii = [r for pose in recent if (c := hip_centre(pose)) is not None and (r := _radius(pose, c)) is not None]
    if not radii:
        return None
    angle = _angle(recent[-1], centre)
    return Roi(float(centre[0]), float(centre[1]), 2 * SCALE * float(np.median(radii)), angle or 0.0)


def shifted_away(roi: Roi, other: np.ndarray, share: float) -> Roi | None:
    """``roi`` moved ``share`` of its side straight away from the point ``other`` (another person's hip centre);
    None when that point is the region's centre (no way is away)."""
    away = np.array([roi.cx, roi.cy]) - other
    length = float(np.linalg.norm(away))
    if length < 1e-6:
        return None
    step = away / length * share * roi.side
    return roi.moved(float(step[0]), float(step[1]))
