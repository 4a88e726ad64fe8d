"""Colour steadiness: each frame's colours matched to a target, person and background separately, in Lab.

Long renders drift (a little brighter, warmer or paler every tile) and temporal tiles jump where one tile
hands over to the next. Each frame's drift is measured as a per-channel gain and offset in Lab that takes
the frame's colours onto the target's (the reference photo, or the first frame), once for the person and
once for the background, and undone; the two transforms are blended by the person matte.

Why correspondences and not colour statistics: a frame's mean and spread move when its content moves (in
the sample dance the person's mean lightness swings by ±5 ΔE with the pose alone, more than a typical
drift), so matching statistics "corrects" motion and adds its own error. The transforms are instead fitted
to pairs of colours that show the same thing in the frame and in the target:

- background: the pixels outside the (dilated) person in both — the photo's background stays where it is;
- person: small patches at the same body places, found through the skeleton (joints, points along the bones,
  the face's 68 points) — a shirt's shoulder is compared with the same shoulder.

Each fit is a trimmed least-squares line per channel (the worst quarter of pairs — occlusions, a background
the model re-imagined — dropped, twice). The transforms are then smoothed over time: a running median keeps
a slow drift and a tile's step intact (both are what the correction must follow) and drops single-frame
excursions (no mean after it: a mean would spread a tile's step over its neighbours). That needs ``radius``
frames of look-ahead, so ``ColourMatcher.run`` holds at most ``radius + 1`` frames: memory does not grow
with the clip.

Pure per-frame-sequence code (no engine, no files): it runs on whatever sequence it is given, interpolated
frames included (a frame without a skeleton takes the background's transform for its person too).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from studio.motion.types import VISIBLE, PoseFrame
from studio.warp.controls import BONES

#: Background pairs are taken from a copy at most this many pixels on its longer side (a global colour
#: transform does not need more).
STATS_SIZE = 128
#: Fewer pairs than these and a region's fit is not trusted; it takes the other region's transform.
MIN_BACKGROUND_PAIRS, MIN_PERSON_PAIRS = 200, 12
#: Share of pairs kept by each trimming pass of the fit.
KEEP = 0.75
#: Where along each bone person patches are sampled.
BONE_FRACTIONS = (0.25, 0.5, 0.75)
#: The samples' identity: body joints, points along the bones, face points; the same list for every frame.
_SAMPLES: list[tuple[str, int, tuple[int, float] | None]] = [*[("body", k, None) for k in range(18)],
            *[("bone", a, (b, f)) for a, b in BONES for f in BONE_FRACTIONS],
            *[("face", k, None) for k in range(68)]]


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 [H, W, 3] → float32 Lab (L 0…100, a and b about −128…127; D65, sRGB)."""
    return cv2.cvtColor(rgb.astype(np.float32) * (1.0 / 255.0), cv2.COLOR_RGB2Lab)


def from_lab(lab: np.ndarray) -> np.ndarray:
    """float32 Lab → RGB uint8, rounded and clipped."""
    rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def delta_e(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel CIE76 ΔE (Euclidean distance in Lab) between two RGB uint8 images."""
    return np.sqrt(((to_lab(a) - to_lab(b)) ** 2).sum(-1))


def _sample_points(pose: PoseFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of every ``_SAMPLES`` entry in ``pose``, and which are visible."""
    points = np.zeros((len(_SAMPLES), 2))
    ok = np.zeros(len(_SAMPLES), bool)
    if pose is None:
        return points, ok
    body, face = np.asarray(pose.body, np.float64), np.asarray(pose.face, np.float64)
    for i, (kind, k, extra) in enumerate(_SAMPLES):
        if kind == "body":
            points[i], ok[i] = body[k, :2], body[k, 2] > VISIBLE
        elif kind == "face":
            points[i], ok[i] = face[k, :2], face[k, 2] > VISIBLE
        else:
            assert extra is not None  # (a "bone" sample names its other end and the fraction along)
            b, f = extra
            points[i] = (1 - f) * body[k, :2] + f * body[b, :2]
            ok[i] = body[k, 2] > VISIBLE and body[b, 2] > VISIBLE
    return points, ok


@dataclass
class ColourView:
    """What a frame (or the target) contributes to a fit: its background colours at ``STATS_SIZE`` with where
    the background is, and the person's colour at each skeleton sample with which samples are valid."""

    background_lab: np.ndarray  # float32 [h, w, 3]
    background: np.ndarray  # bool [h, w]
    person_lab: np.ndarray  # float32 [len(_SAMPLES), 3]
    person: np.ndarray  # bool [len(_SAMPLES)]
    #: The whole frame in Lab (kept so that matching it does not convert it again).
    lab: np.ndarray | None = None

    @classmethod
    def of(cls, rgb: np.ndarray, matte: np.ndarray | None, pose: PoseFrame | None,
           box: tuple[int, int, int, int] | None = None) -> ColourView:
        h, w = rgb.shape[:2]
        x0, y0, x1, y1 = box if box is not None else (0, 0, w, h)
        lab = to_lab(rgb)
        scale = min(1.0, STATS_SIZE / max(x1 - x0, y1 - y0))
        size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
        small = cv2.resize(lab[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)
        person_area = (np.zeros((h, w), np.float32) if matte is None else
                       np.asarray(matte, np.float32))
        # the background is what lies clear of the person: the matte grown by 3 % of the frame
        grow = max(1, round(0.03 * max(size)))
        near = cv2.resize(person_area[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA) > 0.02
        near = cv2.dilate(near.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))  # type: ignore[assignment]  # cv2 stubs type results as Mat | ndarray of any number
        background = near == 0 if matte is not None else np.ones(small.shape[:2], bool)

        points, ok = _sample_points(pose)
        radius = max(1, round(0.006 * max(h, w)))
        patch = cv2.blur(lab, (2 * radius + 1, 2 * radius + 1))
        xi, yi = np.round(points[:, 0] - 0.5).astype(int), np.round(points[:, 1] - 0.5).astype(int)
        ok &= (xi >= x0) & (xi < x1) & (yi >= y0) & (yi < y1)
        xi, yi = np.clip(xi, 0, w - 1), np.clip(yi, 0, h - 1)
        if matte is not None:
            ok &= person_area[yi, xi] > 0.5  # a sample off the person (a stray keypoint) compares nothing
        return cls(small, background, patch[yi, xi], ok, lab)


def _fit_affine(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Trimmed least-squares y ≈ A·x + t for colours x, y [N, 3]: fit, keep the best ``KEEP``, refit (three
    passes). Returns the [3, 4] matrix [A | t]. A full 3×3 A, not a per-channel gain: a white-balance or
    saturation change in RGB moves a and b with L in Lab."""
    ones = np.ones((len(x), 1))
    design = np.hstack([x, ones])
    keep = np.ones(len(x), bool)
    for _ in range(3):
        solution, *_ = np.linalg.lstsq(design[keep], y[keep], rcond=None)
        residual = np.linalg.norm(design @ solution - y, axis=1)
        keep = residual <= np.quantile(residual, KEEP)
    return solution.T


IDENTITY = np.hstack([np.eye(3), np.zeros((3, 1))])


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    return np.hstack([outer[:, :3] @ inner[:, :3], outer[:, :3] @ inner[:, 3:] + outer[:, 3:]])


def fit_transforms(frame: ColourView, target: ColourView) -> np.ndarray:
    """The person's and the background's Lab transform from ``frame`` onto ``target``: [2, 3, 4].

    The background's is a full affine map fitted to thousands of pixel pairs. The person's few dozen skeleton
    pairs are not enough for twelve numbers, so the person takes the background's map followed by its own
    per-channel shift: the median difference of its pairs after the background's map."""
    both = frame.background & target.background if frame.background.shape == target.background.shape else None
    background = IDENTITY
    if both is not None and both.sum() >= MIN_BACKGROUND_PAIRS:
        background = _fit_affine(frame.background_lab[both].astype(np.float64),
                                 target.background_lab[both].astype(np.float64))
    person = background
    pairs = frame.person & target.person
    if pairs.sum() >= MIN_PERSON_PAIRS:
        moved = frame.person_lab[pairs] @ background[:, :3].T + background[:, 3]
        shift = np.median(target.person_lab[pairs] - moved, axis=0)
        person = _compose(np.hstack([np.eye(3), shift[:, None]]), background)
    return np.stack([person, background])


def apply_transforms(rgb: np.ndarray, matte: np.ndarray | None, transforms: np.ndarray,
                     lab: np.ndarray | None = None) -> np.ndarray:
    """``rgb`` with the person's transform (``transforms[0]``) where ``matte`` is 1, the background's where 0
    (``lab``: ``rgb`` already in Lab, when the caller has it)."""
    lab = to_lab(rgb) if lab is None else lab
    person, background = transforms.astype(np.float32)
    moved = cv2.transform(lab, background)
    if matte is None:
        return from_lab(moved)
    # the person's map where the matte is 1, the background's where 0, blended between
    weight = np.clip(matte, 0.0, 1.0).astype(np.float32)[..., None]
    moved += weight * (cv2.transform(lab, person) - moved)
    return from_lab(moved)


class ColourMatcher:
    """Streams (frame, matte, pose) triples to colour-matched frames.

    ``target`` is the ``ColourView`` to match (of the reference photo); None matches the first frame. ``box``
    limits the background comparison to the photo's part of a padded frame.
    """

    def __init__(self, target: ColourView | None = None, *, radius: int = 4,
                 box: tuple[int, int, int, int] | None = None) -> None:
        if radius < 0:
            raise ValueError(f"radius must be ≥ 0, got {radius}")
        self.target, self.radius, self.box = target, radius, box

    def run(self, items: Iterable[tuple[np.ndarray, np.ndarray | None, PoseFrame | None]]) -> Iterator[np.ndarray]:
        """Yield each frame matched, in order. Frame i leaves once frame i + radius has arrived (its smoothed
        transform needs them), or at the end of the sequence."""
        r = self.radius
        held: deque[tuple[np.ndarray, np.ndarray | None, np.ndarray | None]] = deque()
        fits: dict[int, np.ndarray] = {}
        seen = emitted = 0
        target = self.target
        for frame, matte, pose in items:
            view = ColourView.of(frame, matte, pose, self.box)
            if target is None:
                target = view  # first-frame mode
            fits[seen] = fit_transforms(view, target).ravel()
            held.append((frame, matte, view.lab))
            seen += 1
            while emitted + r < seen:
                yield self._emit(held.popleft(), emitted, fits, None)
                emitted += 1
                fits.pop(emitted - r - 1, None)  # no later frame's window reaches back that far
        while held:
            yield self._emit(held.popleft(), emitted, fits, seen - 1)
            emitted += 1

    def _emit(self, item, i: int, fits: dict[int, np.ndarray], last: int | None) -> np.ndarray:
        frame, matte, lab = item
        return apply_transforms(frame, matte, self._median(i, fits, last).reshape(2, 3, 4), lab)

    def _median(self, i: int, fits: dict[int, np.ndarray], last: int | None) -> np.ndarray:
        """Frame i's transform: the median of the fitted ones within ``radius`` frames (element-wise)."""
        lo, hi = max(0, i - self.radius), i + self.radius
        if last is not None:
            hi = min(hi, last)
        return np.median(np.stack([fits[k] for k in range(lo, hi + 1)]), axis=0)
