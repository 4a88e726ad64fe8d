"""Move the reference photo's person from its own skeleton to a driving skeleton, frame by frame.

``WarpReference`` holds what is computed once per photo (person matte, filled background, the reference
control points, the layers and the rig); ``PersonWarper`` holds one render's state (last good keypoints, the
temporal filter) and turns each driving ``PoseFrame`` into an output frame:

    driving pose → control targets (missing → last good) → One-Euro smoothing of the *points* → per layer
    (``studio.warp.layers``): a piecewise-rigid backward map on a coarse grid (``studio.warp.parts``: the
    head as one similarity, the torso as a spline, each limb as rigid bones blended at the joint) →
    upsample → remap photo + layer matte → composite over the clean plate: body, then legs, then arms.

With ``WarpSettings(layers=False)`` the person is one piece moved by a single thin-plate spline through
every control point (the older, rubbery warp; kept for comparison).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from studio.errors import InputError
from studio.motion.smoothing import OneEuroFilter
from studio.motion.types import PoseFrame
from studio.warp.controls import ControlTracker, densify, keypoints
from studio.warp.layers import LIMB_CHAINS, Layer, build_layers
from studio.warp.matte import _check_rgb, fill_background, person_matte, skeleton_matte
from studio.warp.parts import BODY_NOISE, Rig, head_weight_field
from studio.warp.tps import BackwardMap, grid_points, person_min_det, solve_backward_map, upsample_map

#: A limb is split off as its own layer only when its root and middle joint score at least this in the photo
#: (see ``build_layers``).
CONFIDENT_LIMB = 0.5


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
    #: Piecewise-rigid parts, limbs as separate layers over the body (see ``studio.warp.parts`` and
    #: ``studio.warp.layers``); False warps the person as one piece with one spline.
    layers: bool = True
    #: Dead zone for body keypoints' deviation from the head's rigid motion, × the shoulder width
    #: (``parts.Rig.steady``; 0 follows every keypoint exactly).
    body_noise: float = BODY_NOISE


@dataclass
class WarpReference:
    """Per-photo data: RGB image, person matte, filled background and the reference pose."""

    image: np.ndarray  # RGB uint8 [H, W, 3]
    matte: np.ndarray  # float32 [H, W] in [0, 1]
    background: np.ndarray  # RGB uint8 [H, W, 3]
    pose: PoseFrame
    #: Things the user should know about this reference (e.g. the matte fell back to the skeleton).
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._layers: dict[bool, list[Layer]] = {}
        self._rig: Rig | None = None

    def layers(self, layered: bool = True) -> list[Layer]:
        """The person's layers (body first, then legs, then arms), computed once per choice."""
        if layered not in self._layers:
            pts, visible = keypoints(self.pose)
            ids = np.flatnonzero(visible)
            confident = frozenset(int(k) for k in np.flatnonzero(self.pose.body[:, 2] >= CONFIDENT_LIMB))
            self._layers[layered] = build_layers(self.image, self.matte, ids, pts[ids], layered=layered,
                                                 confident=confident)
        return self._layers[layered]

    def rig(self) -> Rig:
        """The part transforms' reference data (head weight field included), computed once."""
        if self._rig is None:
            pts, visible = keypoints(self.pose)
            ids = np.flatnonzero(visible)
            self._rig = Rig(ids, pts[ids], head_weight_field(ids, pts[ids], self.image.shape[:2]))
        return self._rig

    @classmethod
    def prepare(cls, image: np.ndarray, pose: PoseFrame | None, matte: np.ndarray | None = None) -> WarpReference:
        """Compute the matte (unless given) and the filled background for ``image`` and its ``pose``."""
        _check_rgb(image, "the reference photo")
        if pose is None or not pose.has_person:
            raise InputError(
                "no person was found in the reference photo, so the warp engine has nothing to move; "
                "use a photo where the person's upper body is clearly visible"
            )
        notes = []
        if matte is None:
            matte = person_matte(image)
            if not _matte_covers_pose(matte, pose):
                matte = np.maximum(matte, skeleton_matte(pose.body, image.shape[:2]))
                notes.append("warp preview: the person segmentation missed the person in the photo, so the "
                             "person's outline was drawn from the skeleton (coarser edges)")
        matte = np.asarray(matte, np.float32)
        if matte.shape != image.shape[:2]:
            raise InputError(f"the matte is {matte.shape} but the photo is {image.shape[:2]}")
        return cls(np.ascontiguousarray(image), matte, fill_background(image, matte), pose, notes=notes)

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
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.dt = 1.0 / fps
        s = self.settings
        self.filter = OneEuroFilter(min_cutoff=s.min_cutoff, beta=s.beta) if s.smoothing else None
        self.layers = reference.layers(self.settings.layers)
        self.rig = reference.rig() if self.settings.layers else None
        self._grid = grid_points(reference.width, reference.height, self.settings.grid_step)
        self.last_maps: list[BackwardMap] = []
        #: Per layer of the last frame: (y0, y1, x0, x1) of the output region it can land in.
        self.last_rois: list[tuple[int, int, int, int]] = []

    @property
    def last_map(self) -> BackwardMap | None:
        """The first (body) layer's map of the last frame."""
        return self.last_maps[0] if self.last_maps else None

    def reset(self) -> None:
        self.tracker.reset()
        if self.filter is not None:
            self.filter.reset()

    def _solve(self, pose: PoseFrame | None) -> None:
        """Advance by one driving frame: fill ``last_maps`` (coarse, per layer) and ``last_rois``."""
        targets = self.tracker.targets(pose)
        if self.filter is not None:
            targets = self.filter(targets, self.dt)
        if self.rig is not None:
            targets = self.rig.steady(targets, self.settings.body_noise)
        ref = self.reference
        tracker = self.tracker
        pts, gw, gh = self._grid
        cell_area = ((ref.width - 1) / (gw - 1)) * ((ref.height - 1) / (gh - 1))
        s = self.settings
        self.last_maps = []
        self.last_rois = []
        for layer in self.layers:
            if self.rig is None:  # one rubbery piece: a spline through every control point
                c = layer.controls
                ref_pts, tgt_pts = densify(tracker.indices[c], tracker.reference[c], targets[c])
                bmap = solve_backward_map(tgt_pts, ref_pts, ref.width, ref.height, step=s.grid_step,
                                          regularization=s.regularization, person=layer.matte)
            elif layer.name in LIMB_CHAINS:
                bmap = self.rig.limb_map(LIMB_CHAINS[layer.name], targets, pts, gw, gh)
                bmap.min_det = person_min_det(bmap.grid, layer.matte, cell_area)
            else:
                bmap = self.rig.body_map(targets, pts, gw, gh, ref.width, ref.height, s.grid_step,
                                         s.regularization, layer.matte)
                bmap.min_det = min(bmap.min_det, person_min_det(bmap.grid, layer.matte, cell_area))
            self.last_maps.append(bmap)
            self.last_rois.append(_landing_roi(bmap.grid, layer.matte, ref.width, ref.height))

    def maps(self, pose: PoseFrame | None) -> list[np.ndarray]:
        """Advance by one driving frame; return one full-size backward map (float32 [H, W, 2]) per layer."""
        self._solve(pose)
        ref = self.reference
        return [upsample_map(b.grid, ref.width, ref.height) for b in self.last_maps]

    def backward_map(self, pose: PoseFrame | None) -> np.ndarray:
        """Advance by one driving frame and return the body layer's full-size backward map."""
        return self.maps(pose)[0]

    def warp(self, pose: PoseFrame | None) -> np.ndarray:
        """Advance by one driving frame and return the composited output frame, RGB uint8 [H, W, 3].

        Each layer's map is upsampled and applied only over the region where that layer can land.
        """
        self._solve(pose)
        ref = self.reference
        out = ref.background.copy()
        for layer, bmap, roi in zip(self.layers, self.last_maps, self.last_rois, strict=True):
            self._blend(out, layer, upsample_map(bmap.grid, ref.width, ref.height, roi=roi), roi)
        return out

    def composite(self, maps: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """The layers warped by full-size ``maps`` (one per layer; a single map moves every layer the same
        way), drawn in order over the filled background."""
        h, w = self.reference.height, self.reference.width
        if isinstance(maps, np.ndarray):
            maps = [maps] * len(self.layers)
            rois = [(0, h, 0, w)] * len(self.layers)
        else:
            rois = self.last_rois if len(self.last_rois) == len(maps) else [(0, h, 0, w)] * len(maps)
        out = self.reference.background.copy()
        for layer, full_map, (y0, y1, x0, x1) in zip(self.layers, maps, rois, strict=True):
            self._blend(out, layer, full_map[y0:y1, x0:x1], (y0, y1, x0, x1))
        return out

    @staticmethod
    def _blend(out: np.ndarray, layer: Layer, roi_map: np.ndarray, roi: tuple[int, int, int, int]) -> None:
        y0, y1, x0, x1 = roi
        if y1 <= y0 or x1 <= x0:
            return  # the layer left the frame
        if layer.pad:  # the layer's image is padded (see ``layers._padded``)
            roi_map = roi_map + np.float32(layer.pad)
        rgb = cv2.remap(layer.rgb, roi_map, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # type: ignore[call-overload]  # cv2 stubs: map2 None is allowed
        alpha = cv2.remap(layer.alpha, roi_map, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,  # type: ignore[call-overload]  # cv2 stubs: map2 None is allowed
                          borderValue=0).astype(np.float32) * np.float32(1.0 / 255.0)
        # "over" in uint8 by OpenCV's per-pixel weighted sum (rounded): no float copies of the frame.
        region = np.ascontiguousarray(out[y0:y1, x0:x1])
        out[y0:y1, x0:x1] = cv2.blendLinear(rgb, region, alpha, 1.0 - alpha)

    def warped_matte(self, maps: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """The person's matte after the warp (float32 [H, W]): the union of the warped layers."""
        if isinstance(maps, np.ndarray):
            maps = [maps] * len(self.layers)
        out = np.zeros(self.reference.matte.shape, np.float32)
        for layer, full_map in zip(self.layers, maps, strict=True):
            moved = cv2.remap(layer.matte, full_map, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)  # type: ignore[call-overload]  # cv2 stubs: map2 None is allowed
            out = 1.0 - (1.0 - out) * (1.0 - moved)
        return out


def _landing_roi(grid: np.ndarray, matte: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1): the output pixels where a layer warped by the coarse ``grid`` can be non-transparent,
    with a margin of one grid cell (the matte is sampled only at the grid points)."""
    # Replicated beyond the photo's edge, as the layers' padded alpha is.
    alpha = cv2.remap(matte, grid[..., 0], grid[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.dilate((alpha > 0.0).astype(np.uint8), np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero(alpha)
    if len(ys) == 0:
        return (0, 0, 0, 0)
    gh, gw = grid.shape[:2]
    sy, sx = (height - 1) / (gh - 1), (width - 1) / (gw - 1)
    y0 = max(0, int(np.floor((ys.min() - 1) * sy)))
    y1 = min(height, int(np.ceil((ys.max() + 1) * sy)) + 1)
    x0 = max(0, int(np.floor((xs.min() - 1) * sx)))
    x1 = min(width, int(np.ceil((xs.max() + 1) * sx)) + 1)
    return (y0, y1, x0, x1)


def _matte_covers_pose(matte: np.ndarray, pose: PoseFrame) -> bool:
    """Whether the segmentation found the posed person: most visible body keypoints lie on the matte."""
    pts, visible = keypoints(pose)
    pts = pts[:18][visible[:18]]
    if len(pts) == 0:
        return True
    h, w = matte.shape
    xs = np.clip(np.round(pts[:, 0]).astype(int), 0, w - 1)
    ys = np.clip(np.round(pts[:, 1]).astype(int), 0, h - 1)
    return float((matte[ys, xs] > 0.5).mean()) >= 0.5
