"""Control points for the warp: body keypoints, face points, and points densified along every bone.

The control set is fixed per render (the points visible in the reference photo), so the spline and the
temporal filter see the same points in every frame. A point missing in a driving frame takes its last good
position; a point never seen yet follows its part (a head point the head, any other the torso: a similarity
fitted on that part's visible points).
"""

from __future__ import annotations

import numpy as np

from studio.motion.types import VISIBLE, PoseFrame
from studio.warp.tps import fit_similarity

#: Bones of the OpenPose-18 body (see ``studio.motion.types``), including three torso diagonals that
#: keep the trunk rigid.
BONES: tuple[tuple[int, int], ...] = (
    (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7),
    (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
    (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
    (2, 8), (5, 11), (8, 11),
)
#: Bones of arms and legs: these also get points across their width, so a limb rotates as a whole.
LIMBS: frozenset[tuple[int, int]] = frozenset({(2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (11, 12), (12, 13)})
#: The iBUG-68 face points used (jaw every other point, brow ends, nose, eye and mouth corners).
FACE_POINTS: tuple[int, ...] = (0, 2, 4, 6, 8, 10, 12, 14, 16, 17, 21, 22, 26, 30, 33, 36, 39, 42, 45, 48, 54)

#: Body keypoints of the head (nose, eyes, ears); every face point (ids ≥ 18) belongs to the head too.
HEAD_BODY_IDS = (0, 14, 15, 16, 17)
#: Neck, shoulders, hips: the torso's spline points.
TORSO_IDS = (1, 2, 5, 8, 11)



def is_head(ids: np.ndarray) -> np.ndarray:
    """Which control keypoint ids belong to the head: the face points and the body's nose, eyes and ears."""
    ids = np.asarray(ids)
    return (ids >= 18) | np.isin(ids, HEAD_BODY_IDS)


_SAMPLES = (0.25, 0.5, 0.75)
_HALF_WIDTH = 0.15  # × bone length


def keypoints(pose: PoseFrame) -> tuple[np.ndarray, np.ndarray]:
    """The (x, y) [n, 2] and visibility [n] of the points the warp uses: 18 body + the face subset."""
    body = np.asarray(pose.body, np.float64)
    face = np.asarray(pose.face, np.float64)[list(FACE_POINTS)]
    pts = np.vstack([body, face])
    visible = (pts[:, 2] > VISIBLE) & np.isfinite(pts[:, :2]).all(1)
    return pts[:, :2], visible


class ControlTracker:
    """Turns each driving pose into a full target position for every control keypoint of the reference."""

    def __init__(self, reference_pose: PoseFrame) -> None:
        ref, visible = keypoints(reference_pose)
        if visible[:18].sum() < 2:
            raise ValueError("the reference pose has fewer than 2 visible body keypoints")
        self.indices = np.flatnonzero(visible)
        self.reference = ref[self.indices]
        self._last = np.full_like(self.reference, np.nan)
        self._head = is_head(self.indices)
        self._torso = np.isin(self.indices, TORSO_IDS)

    def reset(self) -> None:
        self._last[:] = np.nan

    def targets(self, pose: PoseFrame | None) -> np.ndarray:
        """Target (x, y) for each control keypoint [n, 2]: current, else last good, else moved with the body."""
        if pose is None:
            cur = np.full_like(self.reference, np.nan)
        else:
            pts, visible = keypoints(pose)
            cur = np.where(visible[self.indices, None], pts[self.indices], np.nan)
        good = ~np.isnan(cur[:, 0])
        self._last[good] = cur[good]
        out = self._last.copy()
        missing = np.isnan(out[:, 0])
        known = ~missing
        # A missing point moves with its own part: a head point (a face the detector did not find) with the head
        # points that are known, any other with the torso; all known points only as a last resort. Never with the
        # limbs: arms raised over the head would otherwise shrink and turn the photo's face (a similarity fitted
        # to the whole body), and the head's transform follows its face points.
        for part, bases in ((self._head, (self._head, self._torso)), (~self._head, (self._torso,))):
            todo = missing & part
            if not todo.any():
                continue
            basis = next((known & b for b in bases if (known & b).sum() >= 2), known)
            m = fit_similarity(self.reference[basis], out[basis]) if basis.any() else np.eye(2, 3)
            out[todo] = self.reference[todo] @ m[:, :2].T + m[:, 2]
        return out


def densify(indices: np.ndarray, reference: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Add points along (and, for limbs, across) every bone present in the control set.

    Returns (reference points, target points), both [m, 2], the keypoints first. A bone's cross points keep
    the reference width scaled by the bone's length change, and turn with the bone, so a limb moves rigidly.
    """
    pos = {int(k): i for i, k in enumerate(indices)}
    ref_out = [reference]
    tgt_out = [target]
    for a, b in BONES:
        if a not in pos or b not in pos:
            continue
        ra, rb = reference[pos[a]], reference[pos[b]]
        ta, tb = target[pos[a]], target[pos[b]]
        r_vec, t_vec = rb - ra, tb - ta
        r_len, t_len = float(np.hypot(*r_vec)), float(np.hypot(*t_vec))
        if r_len < 1.0:
            continue
        ts = np.array(_SAMPLES)[:, None]
        ref_out.append(ra + ts * r_vec)
        tgt_out.append(ta + ts * t_vec)
        if (a, b) in LIMBS and t_len >= 1.0:
            r_n = np.array([-r_vec[1], r_vec[0]]) / r_len * (_HALF_WIDTH * r_len)
            t_n = np.array([-t_vec[1], t_vec[0]]) / t_len * (_HALF_WIDTH * t_len)
            mid = np.array([[0.5]])
            for sign in (-1.0, 1.0):
                ref_out.append(ra + mid * r_vec + sign * r_n)
                tgt_out.append(ta + mid * t_vec + sign * t_n)
    return np.vstack(ref_out), np.vstack(tgt_out)
