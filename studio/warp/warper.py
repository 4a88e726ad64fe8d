"""Move the reference photo's person from its own skeleton to a driving skeleton, frame by frame.

``WarpReference`` holds what is computed once per photo (person matte, filled background, the reference
control points); ``PersonWarper`` holds one render's state (last good keypoints, the temporal filter)
and turns each driving ``PoseFrame`` into an output frame:

    driving pose → control targets (missing → last good) → One-Euro smoothing → densify along bones
    → fold-free thin-plate backward map on a coarse grid → upsample → remap photo + matte
    → composite over the filled background.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from studio.errors import InputError
from studio.motion.types import PoseFrame
from studio.warp.controls import ControlTracker, densify
from studio.warp.matte import _check_rgb, fill_background, person_matte
from studio.warp.smoothing import OneEuroFilter
from studio.warp.tps import BackwardMap, solve_backward_map, upsample_map


@dataclass
class WarpSettings:
    #: Spacing in output pixels of the grid the spline is evaluated on before upsampling.
    grid_step: int = 8
    #: Spline stiffness in normalised units (0 interpolates exactly; larger is smoother).
    regularization: float = 1e-3
    #: Temporal smoothing of the control targets (One-Euro filter); False passes them through.
    smoothing: bool = True
    #: One-Euro parameters: cutoff (Hz) at rest, and its rise per pixel/second of speed. Tuned so that
    #: still poses lose ~half their jitter while motion at 10 px/frame (25 fps) trails by < 0.5 px.
    min_cutoff: float = 3.0
    beta: float = 0.5


@dataclass
class WarpReference:
    """Per-photo data: RGB image, person matte, filled background and the reference pose."""

    image: np.ndarray  # RGB uint8 [H, W, 3]
    matte: np.ndarray  # float32 [H, W] in [0, 1]
    background: np.ndarray  # RGB uint8 [H, W, 3]
    pose: PoseFrame
    #: The photo with the matte as a 4th channel, remapped in one pass per frame.
    rgba: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.rgba is None:
            alpha = np.clip(self.matte * 255.0 + 0.5, 0, 255).astype(np.uint8)
            self.rgba = np.ascontiguousarray(np.dstack([self.image, alpha]))

    @classmethod
    def prepare(cls, image: np.ndarray, pose: PoseFrame | None, matte: np.ndarray | None = None) -> WarpReference:
        """Compute the matte (unless given) and the filled background for ``image`` and its ``pose``."""
        _check_rgb(image, "the reference photo")
        if pose is None or not pose.has_person:
            raise InputError(
                "no person was found in the reference photo, so the warp engine has nothing to move; "
                "use a photo where the person's upper body is clearly visible"
            )
        if matte is None:
            matte = person_matte(image)
        matte = np.asarray(matte, np.float32)
        if matte.shape != image.shape[:2]:
            raise InputError(f"the matte is {matte.shape} but the photo is {image.shape[:2]}")
        return cls(np.ascontiguousarray(image), matte, fill_background(image, matte), pose)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


class PersonWarper:
    """Renders one sequence of driving poses against a prepared reference. Not thread-safe; one per render."""

    def __init__(self, reference: WarpReference, fps: float = 25.0, settings: WarpSettings | None = None) -> None:
        self.reference = reference
        self.settings = settings or WarpSettings()
        try:
            self.tracker = ControlTracker(reference.pose)
        except ValueError as exc:
            raise InputError(f"the reference photo's pose cannot drive a warp: {exc}") from None
        s = self.settings
        self.filter = OneEuroFilter(fps, min_cutoff=s.min_cutoff, beta=s.beta) if s.smoothing else None
        self.last_map: BackwardMap | None = None

    def reset(self) -> None:
        self.tracker.reset()
        if self.filter is not None:
            self.filter.reset()

    def backward_map(self, pose: PoseFrame | None) -> np.ndarray:
        """Advance by one driving frame and return its full-size backward map, float32 [H, W, 2]."""
        targets = self.tracker.targets(pose)
        if self.filter is not None:
            targets = self.filter(targets)
        ref_pts, tgt_pts = densify(self.tracker.indices, self.tracker.reference, targets)
        ref = self.reference
        self.last_map = solve_backward_map(
            tgt_pts, ref_pts, ref.width, ref.height, step=self.settings.grid_step,
            regularization=self.settings.regularization, person=ref.matte,
        )
        return upsample_map(self.last_map.grid, ref.width, ref.height)

    def warp(self, pose: PoseFrame | None) -> np.ndarray:
        """Advance by one driving frame and return the composited output frame, RGB uint8 [H, W, 3]."""
        full = self.backward_map(pose)
        return self.composite(full)

    def composite(self, full_map: np.ndarray) -> np.ndarray:
        ref = self.reference
        moved = cv2.remap(ref.rgba, full_map, None, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
        alpha = moved[..., 3:4].astype(np.float32) * (1.0 / 255.0)
        out = ref.background.astype(np.float32)
        out += (moved[..., :3].astype(np.float32) - out) * alpha
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)

    def warped_matte(self, full_map: np.ndarray) -> np.ndarray:
        """The person's matte after the warp (float32 [H, W]), for callers that want it."""
        return cv2.remap(self.reference.matte, full_map, None, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
