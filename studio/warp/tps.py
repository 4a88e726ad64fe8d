"""A regularised thin-plate spline for the backward map, evaluated on a coarse grid and upsampled.

The warp is computed backwards: for each output pixel, where in the reference photo to read from. The
spline is fitted on control points at their *target* positions with the *reference* positions as
values, so ``cv2.remap`` can read the photo directly. Evaluating the spline at every pixel would cost
O(pixels × controls); instead it is evaluated on a grid ``step`` pixels apart and bilinearly upsampled,
which is exact for the affine part and visually identical for the smooth rest.

Folds (the map turning inside out, so the person overlaps itself) are detected from the sign of the
grid's Jacobian determinant on the person; the map is then blended towards a plain affine (or
similarity) map, which cannot fold, just far enough that none remain.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np


def _kernel(r2: np.ndarray) -> np.ndarray:
    # U(r) = r² log r², with U(0) = 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        out = r2 * np.log(r2)
    out[r2 <= 1e-12] = 0.0
    return out


def _sqdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # |a_i - b_j|² without the [n, m, 2] intermediate.
    return np.maximum(
        (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T, 0.0
    )


@dataclass
class ThinPlateSpline:
    """f(p) = A·[1, p] + Σ w_i U(|p − c_i|), in coordinates normalised by ``scale``."""

    centers: np.ndarray  # [n, 2] normalised
    weights: np.ndarray  # [n, 2]
    affine: np.ndarray  # [3, 2]
    scale: float

    @classmethod
    def fit(cls, src: np.ndarray, dst: np.ndarray, *, regularization: float, scale: float) -> ThinPlateSpline:
        """Fit f with f(src_i) ≈ dst_i. ``regularization`` trades exactness for smoothness (0 = interpolate)."""
        src = np.asarray(src, np.float64) / scale
        dst = np.asarray(dst, np.float64) / scale
        n = len(src)
        if n < 3:
            raise ValueError(f"a thin-plate spline needs at least 3 control points, got {n}")
        k = _kernel(_sqdist(src, src)) + regularization * np.eye(n)
        p = np.hstack([np.ones((n, 1)), src])
        system = np.zeros((n + 3, n + 3))
        system[:n, :n] = k
        system[:n, n:] = p
        system[n:, :n] = p.T
        rhs = np.zeros((n + 3, 2))
        rhs[:n] = dst
        try:
            sol = np.linalg.solve(system, rhs)
        except np.linalg.LinAlgError:
            sol = np.linalg.lstsq(system, rhs, rcond=None)[0]
        return cls(src, sol[:n], sol[n:], float(scale))

    def __call__(self, points: np.ndarray) -> np.ndarray:
        q = np.asarray(points, np.float64) / self.scale
        out = self.affine[0] + q @ self.affine[1:] + _kernel(_sqdist(q, self.centers)) @ self.weights
        return out * self.scale


def fit_affine(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares 2×3 affine with dst ≈ M·[src, 1]; a similarity without reflection if that would fold."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    a = np.hstack([src, np.ones((len(src), 1))])
    m = np.linalg.lstsq(a, dst, rcond=None)[0].T  # [2, 3]
    if np.linalg.det(m[:, :2]) > 1e-6 * max(1.0, np.abs(m[:, :2]).max() ** 2):
        return m
    return fit_similarity(src, dst)


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares rotation + uniform scale + translation (no reflection), as a 2×3 matrix."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    if len(src) == 0:
        return np.array([[1.0, 0, 0], [0, 1.0, 0]])
    cs, cd = src.mean(0), dst.mean(0)
    if len(src) == 1:
        return np.array([[1.0, 0, cd[0] - cs[0]], [0, 1.0, cd[1] - cs[1]]])
    s, d = src - cs, dst - cd
    denom = (s * s).sum()
    if denom < 1e-9:
        return np.array([[1.0, 0, cd[0] - cs[0]], [0, 1.0, cd[1] - cs[1]]])
    a = (s * d).sum() / denom  # s·cos
    b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum() / denom  # s·sin
    rot = np.array([[a, -b], [b, a]])
    return np.hstack([rot, (cd - rot @ cs)[:, None]])


def grid_points(width: int, height: int, step: int) -> tuple[np.ndarray, int, int]:
    """Coarse sample positions (x, y) [gh·gw, 2], ``step`` apart, the first and last on the border pixels."""
    gw = max(2, int(round((width - 1) / step)) + 1)
    gh = max(2, int(round((height - 1) / step)) + 1)
    xs = np.linspace(0.0, width - 1.0, gw)
    ys = np.linspace(0.0, height - 1.0, gh)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], 1), gw, gh


def jacobian_determinant(grid_map: np.ndarray) -> np.ndarray:
    """Determinant of d(map)/d(position) per cell of a [h, w, 2] map (in grid units; > 0 means no fold)."""
    m = grid_map.astype(np.float64)
    dx = np.diff(m, axis=1)[:-1]  # [h-1, w-1, 2]
    dy = np.diff(m, axis=0)[:, :-1]
    return dx[..., 0] * dy[..., 1] - dx[..., 1] * dy[..., 0]


def _linear_weights(n_out: int, n_in: int) -> np.ndarray:
    """[n_out, n_in] matrix of 1-D linear interpolation from ``n_in`` corner-aligned samples."""
    pos = np.linspace(0.0, n_in - 1.0, n_out)
    lo = np.minimum(np.floor(pos).astype(int), n_in - 2)
    frac = pos - lo
    w = np.zeros((n_out, n_in), np.float32)
    rows = np.arange(n_out)
    w[rows, lo] = 1.0 - frac
    w[rows, lo + 1] = frac
    return w


@lru_cache(maxsize=8)
def _upsample_weights(gw: int, gh: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    return _linear_weights(height, gh), np.ascontiguousarray(_linear_weights(width, gw).T)


def upsample_map(
    grid_map: np.ndarray, width: int, height: int, roi: tuple[int, int, int, int] | None = None
) -> np.ndarray:
    """Bilinearly upsample a coarse [gh, gw, 2] map (corner-aligned, see ``grid_points``) to a float32
    [height, width, 2] map for ``cv2.remap``; exact for affine maps, up to the image border. With
    ``roi`` = (y0, y1, x0, x1), only that part of the full-size map is computed.

    Done as two small matrix products per channel (rows, then columns) rather than ``cv2.resize`` (whose
    pixel-centre convention clamps half a cell at the border) or ``cv2.remap`` (1/32-cell weights).
    """
    gh, gw = grid_map.shape[:2]
    wy, wxt = _upsample_weights(gw, gh, width, height)
    if roi is not None:
        y0, y1, x0, x1 = roi
        wy, wxt = wy[y0:y1], wxt[:, x0:x1]
    g = np.asarray(grid_map, np.float32)
    out = np.empty((wy.shape[0], wxt.shape[1], 2), np.float32)
    out[..., 0] = wy @ g[..., 0] @ wxt
    out[..., 1] = wy @ g[..., 1] @ wxt
    return out


@dataclass
class BackwardMap:
    grid: np.ndarray  # [gh, gw, 2] float32: reference (x, y) to read for each coarse output sample
    #: How much of the spline's non-affine part was kept (1 = all; less when that would have folded).
    bend: float
    min_det: float  # smallest Jacobian determinant on the person (relative to the identity's)


def solve_backward_map(
    target: np.ndarray,
    reference: np.ndarray,
    width: int,
    height: int,
    *,
    step: int = 8,
    regularization: float = 1e-3,
    person: np.ndarray | None = None,
    min_det: float = 0.05,
    retries: int = 6,
) -> BackwardMap:
    """Fit the target → reference spline and evaluate it on the coarse grid, free of folds on the person.

    ``person`` is the reference matte (float [H, W]); the fold check looks only where the warped person
    lands (the background is not warped). If the spline folds there, the map is blended towards the
    least-squares affine map (which cannot fold): ``affine + bend · (spline − affine)``, with the largest
    ``bend`` in [0, 1] found by ``retries`` bisection steps that keeps every determinant above ``min_det``.
    """
    pts, gw, gh = grid_points(width, height, step)
    scale = float(max(width, height))
    cell_area = ((width - 1) / (gw - 1)) * ((height - 1) / (gh - 1))
    if len(target) < 3:  # too few points for a spline: move rigidly (rotation, scale, shift)
        m = fit_similarity(target, reference)
        grid = (pts @ m[:, :2].T + m[:, 2]).reshape(gh, gw, 2).astype(np.float32)
        return BackwardMap(grid, 0.0, person_min_det(grid, person, cell_area))
    tps = ThinPlateSpline.fit(target, reference, regularization=regularization, scale=scale)
    spline = tps(pts).reshape(gh, gw, 2)
    det = person_min_det(spline.astype(np.float32), person, cell_area)
    if det > min_det or retries <= 0:
        return BackwardMap(spline.astype(np.float32), 1.0, det)
    m = fit_affine(target, reference)
    affine = (pts @ m[:, :2].T + m[:, 2]).reshape(gh, gw, 2)
    best = affine.astype(np.float32)
    best_bend, best_det = 0.0, person_min_det(best, person, cell_area)
    lo, hi = 0.0, 1.0
    for _ in range(retries):
        mid = 0.5 * (lo + hi)
        grid = (affine + mid * (spline - affine)).astype(np.float32)
        d = person_min_det(grid, person, cell_area)
        if d > min_det:
            lo, best, best_bend, best_det = mid, grid, mid, d
        else:
            hi = mid
    return BackwardMap(best, best_bend, best_det)


def person_min_det(grid: np.ndarray, person: np.ndarray | None, cell_area: float) -> float:
    det = jacobian_determinant(grid) / cell_area
    if person is not None:
        # Where does the person land? Sample the matte through the map at the cell corners.
        alpha = cv2.remap(person.astype(np.float32), grid[..., 0], grid[..., 1], cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        on = (alpha[:-1, :-1] + alpha[1:, :-1] + alpha[:-1, 1:] + alpha[1:, 1:]) > 0.2
        if not on.any():
            return float("inf")
        det = det[on]
    return float(det.min()) if det.size else float("inf")
