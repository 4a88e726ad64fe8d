"""Piecewise-rigid backward maps: the head as one similarity, limbs as rigid bones blended at the joints,
the torso as a smooth spline.

A single spline through every keypoint bends the photo into the driving skeleton's shapes: a driver with a
wider jaw squeezes the photo's face into that jaw, and a wrist that moves drags the chest with it. People
are not made of rubber, so here each part moves the way it can:

- **head** (face, hair and the neck ring): one similarity transform (rotation, uniform scale, shift) fitted
  by least squares on the head's points (nose, eyes, ears and the face points). A driver's face *shape*
  only changes that fit a little; it never reshapes the photo's face.
- **limb bones** (upper arm, forearm, thigh, shin): one affine per bone that turns and stretches along the
  bone to follow it, keeping the limb's width at the body's scale. Near a joint the two bones' maps are
  blended with a feathered weight (by distance to the two *target* bones), so an elbow bends gently
  instead of tearing.
- **torso**: the thin-plate spline of ``studio.warp.tps`` through the neck, shoulders and hips (with its fold
  guard); a similarity when the hips are not in the photo (three points on one line cannot fix a spline).

Every piece is exact for a similarity of the whole skeleton (the spline reproduces affine motions exactly),
so the reference pose gives back the photo and a rigid move of the skeleton moves the person rigidly.

Everything is computed backwards, on the coarse output grid of ``tps.grid_points``: for each output sample,
where in the photo to read. Two pieces that meet are blended where each would read from: at the neck, the
head's weight at an output point is the *reference-space* head weight at the point the head's transform
reads, so the seam travels with the head.

Pose models place face points to a pixel but shoulders and elbows only to 10–30 px; ``Rig.steady`` holds
that noise back (a dead zone around the head's rigid motion) so it does not tear the body off the head.
The price: body points within the dead zone follow the head's motion, so a small head tilt rocks the
shoulders with it (``WarpSettings.body_noise = 0`` follows every keypoint exactly).
"""

from __future__ import annotations

import cv2
import numpy as np

from studio.warp.controls import TORSO_IDS, is_head
from studio.warp.tps import BackwardMap, fit_similarity, solve_backward_map

#: The ears (OpenPose-18 16, 17): head points, but left out of the head's fit.
EAR_IDS = (16, 17)
#: How far the head's scale may stray from the torso's (a head turned or tilted towards the camera: ±20 %).
HEAD_SCALE_RANGE = (0.8, 1.25)

_TORSO_BONES = ((1, 2), (1, 5), (1, 8), (1, 11), (2, 8), (5, 11), (8, 11), (2, 5))
_TORSO_SAMPLES = (0.25, 0.5, 0.75)
#: Where the head takes over from the torso, along the neck → eyes axis (0 = neck point, 1 = eyes): the
#: torso below 0.15, the head above 0.5 (so the chin, the neck and the suit's neck ring move with the face).
HEAD_BLEND = (0.15, 0.5)
#: Feather of the blend between two bones of a limb, as a fraction of the shorter bone's length.
JOINT_FEATHER = 0.15
#: Dead zone for body points, as a fraction of the photo's shoulder width: a body keypoint's deviation from
#: the head's rigid motion is shortened by this much (see ``Rig.steady``).
BODY_NOISE = 0.2


def apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply a 2×3 affine to points [n, 2]."""
    return pts @ m[:, :2].T + m[:, 2]


def invert(m: np.ndarray) -> np.ndarray:
    """Inverse of a 2×3 affine (a near-singular one becomes the identity's translation: nothing to read)."""
    lin = m[:, :2]
    det = float(np.linalg.det(lin))
    if abs(det) < 1e-9:
        return np.array([[1.0, 0.0, -m[0, 2]], [0.0, 1.0, -m[1, 2]]])
    inv = np.linalg.inv(lin)
    return np.hstack([inv, (-inv @ m[:, 2])[:, None]])


def similarity_scale(m: np.ndarray) -> float:
    return float(np.sqrt(max(abs(np.linalg.det(m[:, :2])), 1e-12)))


def bone_affine(ra: np.ndarray, rb: np.ndarray, ta: np.ndarray, tb: np.ndarray, across: float) -> np.ndarray:
    """Forward 2×3 affine taking the reference bone ra→rb onto the target bone ta→tb: it turns with the bone,
    stretches along it to the target length, and scales across it by ``across`` (the body's scale), so a
    foreshortened forearm gets shorter, not thinner."""
    r, t = rb - ra, tb - ta
    lr, lt = float(np.hypot(*r)), float(np.hypot(*t))
    if lr < 1.0:
        return np.array([[across, 0.0, ta[0] - across * ra[0]], [0.0, across, ta[1] - across * ra[1]]])
    u_r = r / lr
    if lt < 1e-6:  # the bone collapsed to a point: keep its direction, shrink it to nothing along
        u_t, along = u_r, 0.0
    else:
        u_t, along = t / lt, lt / lr
    n_r = np.array([-u_r[1], u_r[0]])
    n_t = np.array([-u_t[1], u_t[0]])
    lin = along * np.outer(u_t, u_r) + across * np.outer(n_t, n_r)
    return np.hstack([lin, (ta - lin @ ra)[:, None]])


def segment_distance(pts: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of points [n, 2] to the segment a–b."""
    d = b - a
    length2 = float(d @ d)
    if length2 < 1e-9:
        return np.hypot(*(pts - a).T)
    t = np.clip(((pts - a) @ d) / length2, 0.0, 1.0)
    return np.hypot(*(pts - (a + t[:, None] * d)).T)


def smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / max(hi - lo, 1e-9), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def head_weight_field(ids: np.ndarray, points: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """Reference-space weight of the head transform, float32 [H, W] in [0, 1] (None without neck and head
    points): 0 on the torso, 1 on the head, rising along the neck → eyes axis (``HEAD_BLEND``)."""
    pos = {int(k): i for i, k in enumerate(ids)}
    head = [pos[k] for k in (14, 15, 0) if k in pos]
    if 1 not in pos or not head:
        return None
    neck = points[pos[1]]
    eyes = points[[pos[k] for k in (14, 15) if k in pos]].mean(0) if (14 in pos or 15 in pos) else points[head[0]]
    axis = eyes - neck
    length2 = float(axis @ axis)
    if length2 < 4.0:
        return None
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    t = ((xs - neck[0]) * axis[0] + (ys - neck[1]) * axis[1]) / length2
    return smoothstep(t, *HEAD_BLEND).astype(np.float32)


def _sample(field: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Bilinear samples of a float32 [H, W] field at points [n, 2] (0 outside)."""
    q = pts.astype(np.float32).reshape(-1, 1, 2)
    out = cv2.remap(field, q[..., 0], q[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(-1).astype(np.float64)


class Rig:
    """The part transforms of one reference: built once per render, evaluated per frame on the coarse grid.

    ``ids`` are the control keypoint ids (body 0–17, face 18+) and ``reference`` their photo positions, as
    held by ``ControlTracker``.
    """

    def __init__(self, ids: np.ndarray, reference: np.ndarray, head_field: np.ndarray | None) -> None:
        self.ids = np.asarray(ids)
        self.reference = np.asarray(reference, np.float64)
        self.pos = {int(k): i for i, k in enumerate(self.ids)}
        self.head = np.flatnonzero(is_head(self.ids))
        # The head's transform is fitted on the face, nose and eyes, not the ears: a turning head carries an ear
        # towards the middle of the face in the picture (and a skeleton read back from a pose video may swap
        # them), which a 2-D similarity can only explain by shrinking the head.
        fit = np.array([i for i in self.head if self.ids[i] not in EAR_IDS], int)
        self.head_fit = fit if len(fit) >= 2 else self.head
        self.torso = np.array([self.pos[k] for k in TORSO_IDS if k in self.pos], int)
        self.head_field = head_field
        self.has_hips = 8 in self.pos and 11 in self.pos
        torso_ref = [self.reference[self.torso]]
        self._torso_pairs = []
        for a, b in _TORSO_BONES:
            if a in self.pos and b in self.pos:
                self._torso_pairs.append((self.pos[a], self.pos[b]))
                ts = np.array(_TORSO_SAMPLES)[:, None]
                ra, rb = self.reference[self.pos[a]], self.reference[self.pos[b]]
                torso_ref.append(ra + ts * (rb - ra))
        self._torso_ref = np.vstack(torso_ref)

    def steady(self, targets: np.ndarray, noise: float = BODY_NOISE) -> np.ndarray:
        """Body targets with detector noise held back: each body point's deviation from where the head's
        similarity would carry it is shortened by a length tau (``noise`` × the photo's shoulder width,
        scaled with the head): deviations under tau vanish, larger ones keep their excess. Pose models place
        the face to a pixel but shoulders and elbows only to 10–30 px (measured with mediapipe on a photo
        moved rigidly: ~30 % of the person's pixels broken without this, 0.9 % with it); without it the torso
        and limbs would tear off the head by that much. Real articulation (an arm raised, a lean) is larger
        and still comes through, tau shorter. Head points are left alone: their similarity averages their
        noise."""
        head = self.head_similarity(targets)
        if head is None or len(self.head) < 4 or noise <= 0:
            return targets
        shoulders = [self.pos[k] for k in (2, 5) if k in self.pos]
        if len(shoulders) < 2:
            return targets
        width = float(np.hypot(*(self.reference[shoulders[0]] - self.reference[shoulders[1]])))
        tau = noise * width * similarity_scale(head)
        body = np.flatnonzero(~is_head(self.ids))
        predicted = apply(head, self.reference[body])
        residual = targets[body] - predicted
        length = np.hypot(*residual.T)[:, None]
        out = targets.copy()
        # Shrink every deviation by tau (soft thresholding): noise under tau vanishes, a move keeps its excess.
        out[body] = predicted + residual * np.clip(1.0 - tau / np.maximum(length, 1e-9), 0.0, 1.0)
        return out

    # -- per-part forward transforms (reference → target) --------------------------------------------
    def body_similarity(self, targets: np.ndarray) -> np.ndarray:
        """The similarity of the torso points (all body points when fewer than two torso points are known)."""
        idx = self.torso if len(self.torso) >= 2 else np.flatnonzero(self.ids < 18)
        return fit_similarity(self.reference[idx], targets[idx])

    def head_similarity(self, targets: np.ndarray) -> np.ndarray | None:
        """The head's similarity, its scale kept within ``HEAD_SCALE_RANGE`` of the torso's (about the head's
        centre): a head does not grow or shrink against its own body, whatever a detector says."""
        if len(self.head_fit) < 2:
            return None
        m = fit_similarity(self.reference[self.head_fit], targets[self.head_fit])
        if len(self.torso) < 2:
            return m
        ratio = similarity_scale(m) / max(similarity_scale(self.body_similarity(targets)), 1e-9)
        low, high = HEAD_SCALE_RANGE
        if low <= ratio <= high:
            return m
        centre = self.reference[self.head_fit].mean(0)
        out = m.copy()
        out[:, :2] *= min(max(ratio, low), high) / ratio
        out[:, 2] = apply(m, centre[None])[0] - out[:, :2] @ centre
        return out

    def _torso_points(self, targets: np.ndarray) -> np.ndarray:
        out = [targets[self.torso]]
        ts = np.array(_TORSO_SAMPLES)[:, None]
        for a, b in self._torso_pairs:
            out.append(targets[a] + ts * (targets[b] - targets[a]))
        return np.vstack(out)

    # -- backward maps on the coarse grid -----------------------------------------------------------
    def body_map(self, targets: np.ndarray, pts: np.ndarray, gw: int, gh: int, width: int, height: int,
                 step: int, regularization: float, matte: np.ndarray) -> BackwardMap:
        """Head + torso: the torso spline (or similarity), with the head's similarity blended in above the neck."""
        if self.has_hips:
            torso = solve_backward_map(self._torso_points(targets), self._torso_ref, width, height, step=step,
                                       regularization=regularization, person=matte)
            q_torso = torso.grid.reshape(-1, 2).astype(np.float64)
            bend, min_det = torso.bend, torso.min_det
        else:
            q_torso = apply(invert(self.body_similarity(targets)), pts)
            bend, min_det = 1.0, float("inf")
        head = self.head_similarity(targets)
        if head is None or self.head_field is None:
            q = q_torso
        else:
            q_head = apply(invert(head), pts)
            w = _sample(self.head_field, q_head)[:, None]
            q = q_torso + w * (q_head - q_torso)
        return BackwardMap(q.reshape(gh, gw, 2).astype(np.float32), bend, min_det)

    def limb_map(self, chain: tuple[int, ...], targets: np.ndarray, pts: np.ndarray, gw: int, gh: int) -> BackwardMap:
        """One limb (root, middle, end keypoint ids): a rigid bone each, blended around the middle joint."""
        across = similarity_scale(self.body_similarity(targets))
        present = [k for k in chain if k in self.pos]
        bones = list(zip(present[:-1], present[1:], strict=False))
        if not bones:  # only the root is known: move with the body
            q = apply(invert(self.body_similarity(targets)), pts)
            return BackwardMap(q.reshape(gh, gw, 2).astype(np.float32), 1.0, float("inf"))
        reads, segments = [], []
        for a, b in bones:
            ra, rb = self.reference[self.pos[a]], self.reference[self.pos[b]]
            ta, tb = targets[self.pos[a]], targets[self.pos[b]]
            reads.append(apply(invert(bone_affine(ra, rb, ta, tb, across)), pts))
            segments.append((ta, tb))
        if len(reads) == 1:
            q = reads[0]
        else:
            # Which bone an output point belongs to is decided by the *target* bones (where the limb is
            # now): nearer the lower one → its transform, with a soft edge around the joint.
            (ua, ub), (la, lb) = segments
            feather = JOINT_FEATHER * max(1.0, min(np.hypot(*(ub - ua)), np.hypot(*(lb - la))))
            z = (segment_distance(pts, ua, ub) - segment_distance(pts, la, lb)) / feather
            w = (0.5 * (1.0 + np.tanh(z)))[:, None]
            q = reads[0] + w * (reads[1] - reads[0])
        return BackwardMap(q.reshape(gh, gw, 2).astype(np.float32), 1.0, float("inf"))
