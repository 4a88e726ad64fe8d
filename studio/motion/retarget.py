"""Face retargeting: the driver's expression and head pose re-expressed on the reference's own face shape.

Drawn as they are, the driver's 68 face points carry the driver's face shape (jaw width, eye spacing, nose
length) into every pose image, which pulls the generated face towards the driver. Here each driving face is
split into a rigid part and an expression:

* the driver's faces are aligned to each other by similarity transforms (generalised Procrustes) and
  averaged into the driver's mean face ``M`` (a canonical frame);
* frame t's similarity ``S_t`` maps ``M`` onto that frame's face ``F_t`` (head position, size, roll), and its
  expression is the residual ``E_t = S_t⁻¹(F_t) − M`` (the mouth opening, brows, blinks);
* the reference's face ``R`` is brought into the same canonical frame by the similarity ``T`` that maps
  ``M`` onto it: ``R_c = T⁻¹(R)``;
* the retargeted face is ``S_t(R_c + E_t)``: the photo's shape, the driver's expression and head pose.

Modes: ``retargeted`` (default), ``driver`` (the original's behaviour: the driver's points as they are) and
``none`` (no face points in the pose images).
"""

from __future__ import annotations

import numpy as np

from studio.motion.head import has_face, head_from_face
from studio.motion.types import VISIBLE, PoseFrame


def similarity_fit(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """2×3 least-squares similarity (rotation, uniform scale, shift) mapping ``source`` points onto ``target``."""
    src = np.asarray(source, np.float64)
    dst = np.asarray(target, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    var = float((a**2).sum())
    if var < 1e-12:
        return np.array([[1.0, 0.0, mu_d[0] - mu_s[0]], [0.0, 1.0, mu_d[1] - mu_s[1]]])
    u, sigma, vt = np.linalg.svd(b.T @ a)
    d = np.sign(np.linalg.det(u @ vt)) or 1.0
    rotation = u @ np.diag([1.0, d]) @ vt
    scale = float((sigma * np.array([1.0, d])).sum()) / var
    m = np.empty((2, 3))
    m[:, :2] = scale * rotation
    m[:, 2] = mu_d - m[:, :2] @ mu_s
    return m


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.asarray(points, np.float64) @ matrix[:, :2].T + matrix[:, 2]


def invert(matrix: np.ndarray) -> np.ndarray:
    full = np.vstack([matrix, [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def _scale(matrix: np.ndarray) -> float:
    return float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))


def mean_face(faces: list[np.ndarray], iterations: int = 3) -> np.ndarray:
    """Generalised Procrustes mean of [68, 2] faces, in the first face's frame (position, size, roll)."""
    mean = np.asarray(faces[0], np.float64)
    for _ in range(iterations):
        aligned = [apply(similarity_fit(f, mean), f) for f in faces]
        new = np.mean(aligned, axis=0)
        # keep the canonical frame anchored to the first face, so the mean does not drift or shrink
        mean = apply(similarity_fit(new, faces[0]), new)
    return mean


def procrustes_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Shape distance between two point sets after removing position, size and rotation (0 = same shape).

    Both are centred and scaled to unit norm; the result is the norm of the residual after the best rotation
    (at most √2), so it compares shapes regardless of where and how large they are drawn.
    """
    def normalise(p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, np.float64) - np.mean(p, axis=0)
        return p / max(float(np.linalg.norm(p)), 1e-12)

    na, nb = normalise(a), normalise(b)
    return float(np.linalg.norm(apply(similarity_fit(na, nb), na) - nb))


def retarget_faces(poses: list[PoseFrame], reference: PoseFrame | None, mode: str = "retargeted",
                   reference_size: bool = False) -> list[str]:
    """Apply the face ``mode`` to aligned ``poses`` in place (output pixels); returns warnings.

    ``reference_size``: draw the face at the reference's face size (per-bone alignment, which gives the body
    the reference's proportions) instead of the driver's fitted face size (global alignment).

    The new face is anchored on the body's nose and the eyes and ears re-derived from it, so the pose image
    stays self-consistent.
    """
    if mode == "driver":
        return []
    if mode == "none":
        for pose in poses:
            pose.face[:] = 0.0
        return []
    if reference is None or not has_face(reference):
        return ["no face found on the reference photo's person; the driver's face points are used as they are"]
    with_face = [p for p in poses if has_face(p)]
    if not with_face:
        return []
    driver_mean = mean_face([p.face[:, :2] for p in with_face])
    to_reference = similarity_fit(driver_mean, reference.face[:, :2])
    reference_scale = _scale(to_reference)
    reference_canonical = apply(invert(to_reference), reference.face[:, :2])
    for pose in with_face:
        frame_fit = similarity_fit(driver_mean, pose.face[:, :2])
        expression = apply(invert(frame_fit), pose.face[:, :2]) - driver_mean
        if reference_size:  # same head pose, the reference's face size (the expression is measured first)
            frame_fit[:, :2] *= reference_scale / _scale(frame_fit)
        moved = apply(frame_fit, reference_canonical + expression)
        if pose.body[0, 2] > VISIBLE:
            # anchored on the body's nose (the nose tip is its face point 30 since extraction): the body keeps
            # its fitted position and bone lengths, only the face's shape changes
            moved += pose.body[0, :2] - moved[30]
        visible = pose.face[:, 2] > VISIBLE
        pose.face[visible, :2] = moved[visible].astype(np.float32)
        head_from_face(pose)
    return []


def mouth_opening(face: np.ndarray) -> float:
    """The inner lips' gap (points 62–66) over the distance between the eye centres: scale-free."""
    eyes = float(np.linalg.norm(face[36:42, :2].mean(0) - face[42:48, :2].mean(0)))
    return float(np.linalg.norm(face[66, :2] - face[62, :2])) / max(eyes, 1e-6)


def retargeting_scores(aligned: list[PoseFrame], driving: list[PoseFrame], reference: PoseFrame) -> dict[str, float]:
    """How well the aligned faces carry the photo's shape and the driver's expression (bench and tests).

    ``procrustes``: median shape distance of the aligned faces to the photo's face; ``mouth_correlation``:
    correlation of the aligned mouth openings with the driver's, over the frames that have a face.
    """
    pairs = [(a, d) for a, d in zip(aligned, driving, strict=True) if has_face(a) and has_face(d)]
    distances = [procrustes_distance(a.face[:, :2], reference.face[:, :2]) for a, _ in pairs]
    ours = [mouth_opening(a.face) for a, _ in pairs]
    theirs = [mouth_opening(d.face) for _, d in pairs]
    return {"procrustes": float(np.median(distances)) if distances else float("nan"),
            "mouth_correlation": float(np.corrcoef(ours, theirs)[0, 1]) if len(pairs) > 2 else float("nan")}
