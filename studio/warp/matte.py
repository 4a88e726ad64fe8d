"""The person matte (what to move) and the filled background (what shows where the person was).

Both are computed once per reference photo. The matte comes from mediapipe 0.10.14's bundled selfie
segmentation, so no download is needed; the background is the photo with the person's area inpainted by
OpenCV at a reduced size (large holes inpaint slowly and blurrily at full size anyway; a preview does not
need more detail there).
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from studio.errors import InputError

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
    return np.clip((mask - 0.25) / 0.4, 0.0, 1.0).astype(np.float32)


def fill_background(
    image: np.ndarray, matte: np.ndarray, *, grow: float = 0.03, work_size: int = 192, radius: int = 5
) -> np.ndarray:
    """Return ``image`` with the matted person removed and the hole inpainted (RGB uint8, same size).

    The hole is the matte grown by ``grow`` × the image's longer side (mattes miss hair and edges); it is
    inpainted at ``work_size`` on the longer side and upsampled, then blended in with a feathered edge so
    the untouched background keeps its full resolution.
    """
    _check_rgb(image, "the reference photo")
    h, w = image.shape[:2]
    if matte.shape != (h, w):
        raise InputError(f"the matte is {matte.shape[1]}×{matte.shape[0]} but the photo is {w}×{h}")
    hole = (matte > 0.1).astype(np.uint8)
    if not hole.any():
        return image.copy()
    g = max(1, int(round(grow * max(h, w))))
    hole = cv2.dilate(hole, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * g + 1, 2 * g + 1)))

    scale = min(1.0, work_size / max(h, w))
    sw, sh = max(8, int(round(w * scale))), max(8, int(round(h * scale)))
    small = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA)
    small_hole = (cv2.resize(hole.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA) > 0.01)
    small_hole = small_hole.astype(np.uint8)
    if small_hole.all():
        # Nothing left to inpaint from: fill with the photo's mean colour outside the (tiny) border.
        filled_small = np.empty_like(small)
        filled_small[:] = image.reshape(-1, 3).mean(axis=0).astype(np.uint8)
    else:
        filled_small = cv2.inpaint(small, small_hole, radius, cv2.INPAINT_TELEA)
        # TELEA leaves streaks across wide holes; a blur inside the hole turns them into a calm fill.
        k = max(3, (int(0.08 * max(sw, sh)) // 2) * 2 + 1)
        blurred = cv2.GaussianBlur(filled_small, (k, k), 0)
        filled_small = np.where(small_hole[..., None] > 0, blurred, filled_small)
    filled = cv2.resize(filled_small, (w, h), interpolation=cv2.INTER_LINEAR)

    feather = max(1, g // 2) * 2 + 1
    alpha = cv2.GaussianBlur(hole.astype(np.float32), (feather, feather), 0)
    alpha = np.maximum(alpha, (matte > 0.1).astype(np.float32))[..., None]
    out = image.astype(np.float32) * (1.0 - alpha) + filled.astype(np.float32) * alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
