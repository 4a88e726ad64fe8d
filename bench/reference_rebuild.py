"""The multi-camera reference rebuilt from its own evidence: the trial's 2-D keypoints of every view,
triangulated again with all the cameras' poses refitted together (``motion_real``'s judge, issue 19).

Why. The demo trial's shipped calibration does not agree with itself. Triangulate the shipped 2-D keypoints of
three views with the calibrated cameras and project the points into the fourth: they land a median 35 px from
that view's own keypoints in cam_03 and 29 px in cam_01 (14 and 18 px in cam_02 and cam_04). The shipped 3-D
keypoints were triangulated with that calibration, so in cam_03 they lie 7.5 % of the torso from what that view's
own detector saw, even once the camera alone is refitted on them (``motion_reference.refit_camera``): the points
themselves carry the disagreement. Refitting every camera's pose on a triangulation from all the views and
triangulating again, for a few rounds (a bundle adjustment with the intrinsics held as calibrated), brings each
view's own keypoints to 6-8 px of the points, cam_03 included (``motion_real`` prints these figures).

Two references per view come out of it, both made only of the reference's own data (its detector's 2-D
keypoints of the four views and the calibration's intrinsics), nothing of the extractor being judged:

- **all views**: the rebuilt 3-D points projected into the view. The view's own keypoints are one of the views
  each point was triangulated from.
- **other views**: each point triangulated from the other views only (cameras as rebuilt), then projected into
  the view: the view's own keypoints do not enter the position of its points (they still enter its camera's
  pose). The stricter judge; the reference's own detector is measured against it too, for scale.
"""

from __future__ import annotations

import numpy as np

try:
    from motion_reference import BODY_25B, JOINTS, LIKELY, project_points, refit_pose
except ImportError:  # imported as bench.reference_rebuild (the tests), not from bench/ as a script
    from bench.motion_reference import BODY_25B, JOINTS, LIKELY, project_points, refit_pose

#: Rounds of (triangulate from all views, refit every camera's pose on that); the residuals settle after two.
ROUNDS = 4


def _normalised(camera: dict, pixels: np.ndarray) -> np.ndarray:
    """Pixels [n, 2] -> undistorted normalised image coordinates [n, 2] (x/z, y/z in the camera's frame)."""
    import cv2

    return cv2.undistortPoints(pixels.reshape(-1, 1, 2).astype(np.float64), np.array(camera["matrix"], float),
                               np.array(camera["distortions"], float)).reshape(-1, 2)


def _projection(camera: dict) -> np.ndarray:
    """The camera's [R | t] (3×4): world (calibration frame) -> camera frame."""
    import cv2

    rotation = cv2.Rodrigues(np.array(camera["rotation"], float))[0]
    return np.hstack([rotation, np.array(camera["translation"], float).reshape(3, 1)])


def _frame_count(views: list[list[np.ndarray | None]]) -> int:
    return max((len(v) for v in views), default=0)


def triangulate(cameras: list[dict], views: list[list[np.ndarray | None]],
                exclude: frozenset[int] = frozenset()) -> np.ndarray:
    """3-D points [frames, 25, 3] (calibration frame; NaN where fewer than two views saw the keypoint) of the
    BODY_25B keypoints ``views[c][frame]`` ([25, 3]: x, y, likelihood) seen by ``cameras[c]``, leaving out the
    views in ``exclude``.

    Linear triangulation (DLT) on undistorted coordinates, each view's two equations weighted by its
    likelihood, over the views that saw the keypoint above LIKELY (the trial's own triangulation threshold).
    """
    frames = _frame_count(views)
    used = [c for c in range(len(cameras)) if c not in exclude]
    rows = np.zeros((frames, len(BODY_25B), 2 * len(used), 4))
    for slot, c in enumerate(used):
        matrix = _projection(cameras[c])
        for k, seen in enumerate(views[c]):
            if seen is None:
                continue
            sure = seen[:, 2] > LIKELY
            if not sure.any():
                continue
            xy = _normalised(cameras[c], seen[sure, :2])
            weight = seen[sure, 2:3]
            rows[k, sure, 2 * slot] = weight * (xy[:, :1] * matrix[2] - matrix[0])
            rows[k, sure, 2 * slot + 1] = weight * (xy[:, 1:] * matrix[2] - matrix[1])
    seen_by = (np.abs(rows).sum(-1) > 0).sum(-1) // 2
    world = np.full((frames, len(BODY_25B), 3), np.nan)
    enough = seen_by >= 2
    if enough.any():
        _, _, vt = np.linalg.svd(rows[enough])
        homogeneous = vt[:, -1]
        world[enough] = homogeneous[:, :3] / homogeneous[:, 3:]
    return world


def _pairs(world: np.ndarray, seen_frames: list[np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
    """(world points [n, 3], pixels [n, 2]) of every keypoint this view saw above LIKELY with a known point."""
    pairs_w, pairs_i = [], []
    for k, seen in enumerate(seen_frames[:len(world)]):
        if seen is None:
            continue
        sure = (seen[:, 2] > LIKELY) & np.isfinite(world[k]).all(1)
        pairs_w.append(world[k][sure])
        pairs_i.append(seen[sure, :2])
    if not pairs_w:
        return np.zeros((0, 3)), np.zeros((0, 2))
    return np.concatenate(pairs_w), np.concatenate(pairs_i)


def residual_px(camera: dict, world: np.ndarray, seen_frames: list[np.ndarray | None]) -> float | None:
    """Median distance (px) between a view's own keypoints and the projection of ``world`` into it."""
    points, pixels = _pairs(world, seen_frames)
    if not len(points):
        return None
    return float(np.median(np.linalg.norm(project_points(points, camera) - pixels, axis=1)))


def rebuild(cameras: list[dict], views: list[list[np.ndarray | None]],
            rounds: int = ROUNDS) -> tuple[list[dict], np.ndarray, dict]:
    """(every camera with its pose refitted, the 3-D points triangulated from all views with them, and the check:
    {"residual_px": [(as calibrated, rebuilt) per view], "other_views_px": [per view, calibrated cameras]})."""
    calibrated = list(cameras)
    world = triangulate(calibrated, views)
    check = {"residual_px": [residual_px(c, world, v) for c, v in zip(calibrated, views, strict=True)],
             "other_views_px": [residual_px(calibrated[c], triangulate(calibrated, views, frozenset({c})), views[c])
                                for c in range(len(calibrated))]}
    current = list(calibrated)
    for _ in range(rounds):
        current = [refit_pose(camera, *_pairs(world, seen))[0] for camera, seen in zip(current, views, strict=True)]
        world = triangulate(current, views)
    check["residual_px"] = [(before, residual_px(c, world, v))
                            for before, c, v in zip(check["residual_px"], current, views, strict=True)]
    return current, world, check


def as_bodies(world: np.ndarray, camera: dict) -> np.ndarray:
    """Rebuilt points [frames, 25, 3] seen by ``camera``: OpenPose-18 bodies [frames, 18, 3] of the judged
    joints (x, y, 1 where the point is known, else 0)."""
    columns = [BODY_25B.index(name) for name in JOINTS]
    pixels = project_points(np.nan_to_num(world[:, columns]), camera)
    known = np.isfinite(world[:, columns]).all(-1)
    out = np.zeros((len(world), 18, 3))
    for k, joint in enumerate(JOINTS.values()):
        out[:, joint, :2] = np.where(known[:, k:k + 1], pixels[:, k], np.nan)
        out[:, joint, 2] = known[:, k]
    return out
