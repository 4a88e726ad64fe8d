"""Fitting the driving skeleton onto the reference person (docs/model.md §13), plus the manual nudge and smoothing.

Modes:
  * ``global``: the original's fit. One uniform scale ``s`` and offset for the whole clip: ``y_ref ≈ s·y + b_y``
    by least squares over the reference's visible head/torso/leg points and the matching driving points of
    every frame, then ``b_x = mean(x_ref − s·x)``. Applied to body, face and hands.
  * ``bones``: per-bone retargeting. The neck is placed by the global fit; then, walking the skeleton tree
    outwards, each bone keeps the driving frame's direction but takes the reference's length (the driving
    length × s where the reference lacks that bone). Face and hands follow their anchor point (nose, wrists).
  * ``none``: the driving frame is scaled uniformly to fit inside the output (no fitting to the reference).

The fit uses only frames where a real, complete person was detected (``fit_frames``), never the held or
none frames of a gap, or the one frame the user picked (``fit_frame``). The face is then retargeted to the
reference's face shape (``face``, see ``retarget``), anchored on the body's nose.

Poses come in source-video pixels and the reference in output pixels; results are in output pixels.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from studio.motion.presence import DETECTED
from studio.motion.retarget import retarget_faces
from studio.motion.smoothing import smooth_poses
from studio.motion.types import VISIBLE, PoseFrame
from studio.request.settings import AlignmentOptions

#: Body points the original fits on: nose, neck, shoulders and hips-to-ears (not elbows or wrists).
FIT_POINTS: tuple[int, ...] = (0, 1, 2, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17)

#: Skeleton tree (parent, child) in breadth-first order from the neck.
BONES: tuple[tuple[int, int], ...] = (
    (1, 2), (1, 5), (1, 8), (1, 11), (1, 0),
    (2, 3), (5, 6), (8, 9), (11, 12), (0, 14), (0, 15),
    (3, 4), (6, 7), (9, 10), (12, 13), (14, 16), (15, 17),
)


@dataclass(frozen=True)
class GlobalFit:
    """``(x, y) -> (scale·x + offset_x, scale·y + offset_y)``, source pixels -> output pixels."""

    scale: float
    offset_x: float
    offset_y: float

    def matrix(self) -> np.ndarray:
        return np.array([[self.scale, 0.0, self.offset_x], [0.0, self.scale, self.offset_y]])


def transform_pose(pose: PoseFrame, matrix: np.ndarray) -> PoseFrame:
    """Apply a 2×3 affine matrix to every point (scores kept; missing points stay at (0, 0, 0))."""
    out = pose.copy()
    m = np.asarray(matrix, dtype=np.float64)
    for name in ("body", "face", "left_hand", "right_hand"):
        points = getattr(out, name)
        present = points[:, 2] > 0
        xy = points[:, :2].astype(np.float64)
        moved = xy @ m[:, :2].T + m[:, 2]
        points[present, :2] = moved[present].astype(np.float32)
    if out.face_box is not None:
        x0, y0, x1, y1 = out.face_box
        corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]]) @ m[:, :2].T + m[:, 2]
        out.face_box = (float(corners[:, 0].min()), float(corners[:, 1].min()),
                        float(corners[:, 0].max()), float(corners[:, 1].max()))
    return out


def fit_inside(src_size: tuple[int, int], out_size: tuple[int, int]) -> GlobalFit:
    """Uniform scale and centring that fits the whole source frame inside the output."""
    scale = min(out_size[0] / src_size[0], out_size[1] / src_size[1])
    return GlobalFit(scale, (out_size[0] - src_size[0] * scale) / 2, (out_size[1] - src_size[1] * scale) / 2)


def global_fit(poses: list[PoseFrame], reference: PoseFrame) -> GlobalFit | None:
    """The original's least-squares fit; None when there are too few matching points to fit."""
    ref_visible = [i for i in FIT_POINTS if reference.body[i, 2] > VISIBLE]
    xs, ys, ref_xs, ref_ys = [], [], [], []
    for pose in poses:
        for i in ref_visible:
            if pose.body[i, 2] > VISIBLE:
                xs.append(pose.body[i, 0])
                ys.append(pose.body[i, 1])
                ref_xs.append(reference.body[i, 0])
                ref_ys.append(reference.body[i, 1])
    if len(ys) < 2 or np.ptp(ys) < 1e-3:
        return None
    scale, offset_y = np.polyfit(np.asarray(ys, np.float64), np.asarray(ref_ys, np.float64), 1)
    if not scale > 0:
        return None
    offset_x = float(np.mean(np.asarray(ref_xs) - scale * np.asarray(xs)))
    return GlobalFit(float(scale), offset_x, float(offset_y))


def fit_frames(poses: list[PoseFrame], status: list[str] | None = None, fit_frame: int | None = None,
               reference: PoseFrame | None = None) -> list[int]:
    """Positions of the frames to fit on: detected frames whose person is as complete as the clip gets.

    Completeness is the number of fitting points (head, shoulders, hips, legs) visible in the frame, counting
    only those the reference shows too (the others cannot take part in the fit); frames within one point of
    the most complete one qualify. ``fit_frame`` picks one frame instead (when it shows a detected person).
    """
    real = [i for i in range(len(poses)) if status is None or status[i] == DETECTED]
    if fit_frame is not None:
        return [fit_frame] if fit_frame in real else []
    points = list(FIT_POINTS)
    if reference is not None:
        points = [i for i in FIT_POINTS if reference.body[i, 2] > VISIBLE] or points
    completeness = {i: int((poses[i].body[points, 2] > VISIBLE).sum()) for i in real}
    best = max(completeness.values(), default=0)
    return [i for i in real if best > 0 and completeness[i] >= best - 1]


def _fit_failure(reference: PoseFrame | None, poses: list[PoseFrame], frames: list[int],
                 status: list[str] | None, fit_frame: int | None) -> str:
    """Why the fit is impossible, in terms of the clip where the clip is the cause."""
    fallback = "; the motion is scaled to the frame instead"
    if reference is None or not reference.has_person:
        return "could not fit the skeleton to the reference: no person found in the photo" + fallback
    if fit_frame is not None and not frames:
        what = "is outside the clip" if fit_frame >= len(poses) else f"shows no detected person ({status[fit_frame] if status else 'none'})"
        return f"could not fit the skeleton on the chosen frame {fit_frame}: it {what}" + fallback
    if not frames:
        return "could not fit the skeleton: no frame of the clip shows a detected person" + fallback
    return (f"could not fit the skeleton: the clip's {len(frames)} best person frames share too few head, "
            "shoulder and hip points with the photo's person" + fallback)


def _bone_length(pose: PoseFrame, parent: int, child: int) -> float | None:
    if pose.body[parent, 2] > VISIBLE and pose.body[child, 2] > VISIBLE:
        return float(np.linalg.norm(pose.body[child, :2] - pose.body[parent, :2]))
    return None


def retarget_bones(pose: PoseFrame, reference: PoseFrame, fit: GlobalFit) -> PoseFrame:
    """One frame of ``bones`` retargeting (see the module docstring)."""
    placed = transform_pose(pose, fit.matrix())  # fallback positions for points off the tree walk
    body_in = pose.body
    body = placed.body
    known = body_in[:, 2] > VISIBLE
    for parent, child in BONES:
        if not (known[parent] and known[child]):
            continue
        vector = body_in[child, :2] - body_in[parent, :2]
        length = float(np.linalg.norm(vector))
        if length < 1e-6:
            body[child, :2] = body[parent, :2]
            continue
        target = _bone_length(reference, parent, child)
        if target is None:
            target = length * fit.scale
        body[child, :2] = body[parent, :2] + vector / length * target
    # Face and hands follow their anchors: the nose and the wrists, scaled by the global fit.
    for group, anchor in (("face", 0), ("left_hand", 7), ("right_hand", 4)):
        points_in = getattr(pose, group)
        points = getattr(placed, group)
        present = points_in[:, 2] > 0
        if present.any() and known[anchor]:
            points[present, :2] = body[anchor, :2] + (points_in[present, :2] - body_in[anchor, :2]) * fit.scale
    return placed


def _nudge(poses: list[PoseFrame], options: AlignmentOptions, out_size: tuple[int, int]) -> list[PoseFrame]:
    if options.scale == 1.0 and options.offset_x == 0.0 and options.offset_y == 0.0:
        return poses
    anchor = next((p.body[1, :2].astype(np.float64) for p in poses if p.body[1, 2] > VISIBLE),
                  np.array([out_size[0] / 2, out_size[1] / 2]))
    s = options.scale
    matrix = np.array([
        [s, 0.0, (1 - s) * anchor[0] + options.offset_x * out_size[0]],
        [0.0, s, (1 - s) * anchor[1] + options.offset_y * out_size[1]],
    ])
    return [transform_pose(p, matrix) for p in poses]


def align_poses(
    poses: list[PoseFrame],
    reference: PoseFrame | None,
    src_size: tuple[int, int],
    out_size: tuple[int, int],
    options: AlignmentOptions | None = None,
    fps: float = 30.0,
    status: list[str] | None = None,
) -> list[PoseFrame]:
    """Driving poses (source pixels) -> aligned poses (output pixels), nudged and smoothed per ``options``.

    ``reference`` is the reference person's pose in output pixels (None: no person in the photo, which
    falls back to ``none`` with a warning). ``status`` is each frame's detected/held/none (None: all
    detected); only detected frames are fitted on. Face boxes are dropped; derive them from the aligned face.
    """
    options = options or AlignmentOptions()
    mode = options.mode
    fit = None
    if mode != "none":
        frames = fit_frames(poses, status, options.fit_frame, reference)
        if reference is not None and reference.has_person and frames:
            fit = global_fit([poses[i] for i in frames], reference)
        if fit is None:
            warnings.warn(_fit_failure(reference, poses, frames, status, options.fit_frame), stacklevel=2)
            mode = "none"
    if mode == "none":
        fit = fit_inside(src_size, out_size)
    assert fit is not None  # (a failed fit switched the mode to "none", which fits the frame)
    if mode == "bones":
        assert reference is not None  # (a fit was found, so there is a reference)
        aligned = [retarget_bones(p, reference, fit) for p in poses]
    else:
        aligned = [transform_pose(p, fit.matrix()) for p in poses]
    for pose in aligned:
        pose.face_box = None
    for note in retarget_faces(aligned, reference, options.face, reference_size=mode == "bones"):
        warnings.warn(note, stacklevel=2)
    aligned = _nudge(aligned, options, out_size)
    if options.smoothing and len(aligned) > 1:
        aligned = smooth_poses(aligned, fps, options.min_cutoff, options.beta)
    return aligned
