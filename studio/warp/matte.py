"""The person matte (what to move) and the filled background (what shows where the person was).

Both are computed once per reference photo. The matte comes from mediapipe 0.10.14's bundled selfie
segmentation, so no download is needed; the background (the clean plate) is the photo with the person's
area filled from the surrounding background by a push-pull pyramid at a reduced size: a smooth fill with no
streaks (OpenCV's inpainting drags edge colours across a wide hole in long streaks), feathered into the
untouched photo.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from studio.errors import InputError
from studio.warp.controls import BONES

_SEGMENTER_LOCK = threading.Lock()


def _check_rgb(image: np.ndarray, what: str) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", None)
        raise InputError(f"{what} must be an RGB uint8 image [height, width, 3], got shape {shape} dtype {dtype}")
    if image.shape[0] < 8 or image.shape[1] < 8:
        raise InputError(f"{what} is too small ({image.shape[1]}×{image.shape[0]} pixels); use at least 8×8")


def person_matte(image: np.ndarray, *, model_selection: int = 0) -> np.ndarray:
    """Return the person's alpha matte, float32 [H, W] in [0, 1], from mediapipe's selfie segmentation.

    The raw probabilities are sharpened a little (0.25 → 0, 0.65 → 1) so that soft background clutter
    does not travel with the person while the edges stay anti-aliased.
    """
    _check_rgb(image, "the reference photo")
    import mediapipe as mp  # imported here: heavy, and only needed once per reference

    with _SEGMENTER_LOCK, mp.solutions.selfie_segmentation.SelfieSegmentation(
        model_selection=model_selection
    ) as segmenter:
        result = segmenter.process(np.ascontiguousarray(image))
    mask = result.segmentation_mask
    if mask is None:
        return np.zeros(image.shape[:2], np.float32)
    mask = np.asarray(mask, dtype=np.float32)
    if mask.shape != image.shape[:2]:
        mask = cv2.resize(mask, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    matte = np.clip((mask - 0.25) / 0.4, 0.0, 1.0).astype(np.float32)
    # The segmentation is soft in places well inside the person (low contrast, the photo's edge); only the
    # outline should be: more than a few pixels inside the half-level contour, the matte is opaque, so the
    # plate never shows through the person.
    r = max(2, int(round(0.008 * max(image.shape[:2]))))
    solid = cv2.erode((matte > 0.5).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2),
                      borderType=cv2.BORDER_REPLICATE)
    return np.maximum(matte, solid.astype(np.float32))


def fill_background(
    image: np.ndarray, matte: np.ndarray, *, grow: float = 0.03, work_size: int = 192
) -> np.ndarray:
    """Return ``image`` with the matted person removed and the hole filled (RGB uint8, same size).

    The hole is the matte grown by ``grow`` × the image's longer side (mattes miss hair and edges); it is
    filled at ``work_size`` on the longer side (``push_pull_fill``) and upsampled, then blended in with a
    feathered edge so the untouched background keeps its full resolution.
    """
    _check_rgb(image, "the reference photo")
    h, w = image.shape[:2]
    if matte.shape != (h, w):
        raise InputError(f"the matte is {matte.shape[1]}×{matte.shape[0]} but the photo is {w}×{h}")
    hole = (matte > 0.1).astype(np.uint8)
    if not hole.any():
        return image.copy()
    g = max(1, int(round(grow * max(h, w))))
    hole = cv2.dilate(hole, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * g + 1, 2 * g + 1)))  # type: ignore[assignment]  # cv2 stubs type results as Mat | ndarray of any number

    scale = min(1.0, work_size / max(h, w))
    sw, sh = max(8, int(round(w * scale))), max(8, int(round(h * scale)))
    small = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA)
    small_hole = cv2.resize(hole.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA)
    known = (small_hole < 0.01).astype(np.float32)
    if not known.any():
        # Nothing left to fill from: the photo's mean colour.
        filled_small = np.empty_like(small)
        filled_small[:] = image.reshape(-1, 3).mean(axis=0).astype(np.uint8)
    else:
        filled_small = push_pull_fill(small, known)
    filled = cv2.resize(filled_small, (w, h), interpolation=cv2.INTER_LINEAR)

    feather = max(1, g // 2) * 2 + 1
    alpha = cv2.GaussianBlur(hole.astype(np.float32), (feather, feather), 0)
    alpha = np.maximum(alpha, (matte > 0.1).astype(np.float32))[..., None]
    out = image.astype(np.float32) * (1.0 - alpha) + filled.astype(np.float32) * alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def push_pull_fill(image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fill the pixels where ``known`` is 0 (float [H, W] in [0, 1]) from the known ones, RGB uint8 → uint8.

    Push: halve the image again and again, averaging only known pixels (colour × weight and weight are
    both blurred and halved; their ratio is the average). Pull: from the coarsest level back up, each level
    keeps its known pixels and takes the upsampled coarser level elsewhere. Far inside a hole the colour
    comes from a wide neighbourhood, near its edge from a narrow one: a smooth fill without streaks.
    """
    weight = known.astype(np.float32)
    colour = image.astype(np.float32) * weight[..., None]
    levels = [(colour, weight)]
    while min(colour.shape[:2]) > 2 and float(levels[-1][1].min()) < 1e-3:
        colour, weight = cv2.pyrDown(colour), cv2.pyrDown(weight)  # type: ignore[assignment]  # cv2 stubs type results as Mat | ndarray of any number
        levels.append((colour, weight))
    colour, weight = levels[-1]
    mean = colour.reshape(-1, 3).sum(0) / max(float(weight.sum()), 1e-6)
    out = np.where(weight[..., None] > 1e-6, colour / np.maximum(weight, 1e-6)[..., None], mean)
    for colour, weight in reversed(levels[:-1]):
        up = cv2.pyrUp(out, dstsize=(colour.shape[1], colour.shape[0]))
        # Where at least half of a pixel's neighbourhood was known, its own average is trusted fully.
        trust = np.clip(2.0 * weight, 0.0, 1.0)[..., None]
        own = colour / np.maximum(weight, 1e-6)[..., None]
        out = trust * own + (1.0 - trust) * up
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


#: Bones drawn for a skeleton matte: the warp's bones without the eye and ear ones (the head is a disc).
_MATTE_BONES = tuple(bone for bone in BONES if max(bone) <= 13)


def skeleton_matte(body: np.ndarray, shape: tuple[int, int], visible: float = 0.3) -> np.ndarray:
    """A rough person matte drawn from the body keypoints: thick limbs, a filled trunk and a round head.

    The fallback when segmentation finds nobody although the pose does (costumes, drawings, odd light):
    the warp then still moves the person, with a coarser edge.
    """
    h, w = shape
    pts = np.asarray(body, np.float64)
    ok = pts[:, 2] > visible
    lengths = [float(np.hypot(*(pts[a, :2] - pts[b, :2]))) for a, b in _MATTE_BONES if ok[a] and ok[b]]
    if not lengths:
        return np.zeros(shape, np.float32)
    thick = max(3, int(round(0.45 * float(np.median(lengths)))))
    mask = np.zeros(shape, np.uint8)
    for a, b in _MATTE_BONES:
        if ok[a] and ok[b]:
            cv2.line(mask, tuple(int(round(v)) for v in pts[a, :2]), tuple(int(round(v)) for v in pts[b, :2]),
                     255, thick)
    trunk = [k for k in (2, 5, 11, 8) if ok[k]]
    if len(trunk) >= 3:
        cv2.fillConvexPoly(mask, np.round(pts[trunk, :2]).astype(np.int32), 255)
    if ok[0]:
        cv2.circle(mask, tuple(int(round(v)) for v in pts[0, :2]), thick, 255, -1)
    k = max(3, (thick // 2) * 2 + 1)
    return cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (k, k), 0).clip(0.0, 1.0)
