"""Face boxes, face crops, the reference embedding and the identity loss of the HJB refinement (docs/model.md §11).

Boxes are ``(y0, y1, x0, x1)`` with **inclusive** ends, in the pixel grid of the image they belong to — the
format ``inference_op.py`` derives from its mask files. Masks mark the face with pixels exactly equal to 255.
Boxes can also come straight from face keypoints as ``(x0, y0, x1, y1)`` (see :func:`face_box_from_xyxy`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

FaceBox = tuple[int, int, int, int]
"""``(y0, y1, x0, x1)``, inclusive, in pixels."""

CROP_SIZE = 112


def _load_mask_array(mask: str | os.PathLike | np.ndarray | Image.Image) -> tuple[np.ndarray, str]:
    if isinstance(mask, (str, os.PathLike)):
        name = os.fspath(mask)
        if not os.path.isfile(name):
            raise FileNotFoundError(f"face mask not found: {name}")
        with Image.open(name) as image:
            array = np.asarray(image)
    elif isinstance(mask, Image.Image):
        name, array = "mask image", np.asarray(mask)
    else:
        name, array = "mask array", np.asarray(mask)
    if array.ndim == 3 and array.shape[-1] in (3, 4) and (array[..., :3] == array[..., :1]).all():
        array = array[..., 0]  # a grey mask saved as RGB(A): every colour channel is the same
    if array.ndim != 2:
        raise ValueError(f"{name}: a face mask must be a single-channel image, got shape {list(array.shape)}")
    return array, name


def face_box_from_mask(mask: str | os.PathLike | np.ndarray | Image.Image) -> FaceBox:
    """Inclusive bounding box of the pixels exactly equal to 255 (the original's ``mask/255 == 1``)."""
    return _box_of_mask_array(*_load_mask_array(mask))


def _box_of_mask_array(array: np.ndarray, name: str) -> FaceBox:
    ys, xs = np.nonzero(array == 255)
    if ys.size == 0:
        raise ValueError(f"{name}: the face mask has no pixel equal to 255, so there is no face box")
    return int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())


def _frame_number(path: str) -> int:
    match = re.search(r"_(\d+)", os.path.basename(path))
    if match is None:
        raise ValueError(f"{path}: face mask files must be named like frame_<number>.png")
    return int(match.group(1))


def mask_files(folder: str | os.PathLike) -> list[str]:
    """The mask files of a folder, sorted by the integer after ``_`` (``frame_2`` before ``frame_10``)."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"face mask folder not found: {folder}")
    names = [n for n in os.listdir(folder) if n.lower().endswith((".png", ".jpg", ".jpeg", ".bmp"))]
    return sorted((os.path.join(folder, n) for n in names), key=_frame_number)


def face_boxes_from_masks(
    masks: str | os.PathLike | Sequence[str | os.PathLike | np.ndarray | Image.Image],
    num_frames: int | None = None,
    size: tuple[int, int] | None = None,
) -> list[FaceBox]:
    """One box per frame from a folder or a list of masks; ``size=(height, width)`` checks the mask size."""
    if isinstance(masks, (str, os.PathLike)):
        masks = mask_files(masks)
    masks = list(masks)
    if num_frames is not None:
        if len(masks) < num_frames:
            raise ValueError(f"{num_frames} frames need {num_frames} face masks, got {len(masks)}")
        masks = masks[:num_frames]
    boxes = []
    for mask in masks:
        array, name = _load_mask_array(mask)
        if size is not None and tuple(array.shape) != tuple(size):
            raise ValueError(
                f"{name}: face masks must be at the output size {size[1]}x{size[0]} (WxH), "
                f"got {array.shape[1]}x{array.shape[0]}"
            )
        boxes.append(_box_of_mask_array(array, name))
    return boxes


def face_box_from_xyxy(box: Sequence[float], width: int, height: int) -> FaceBox:
    """Convert an ``(x0, y0, x1, y1)`` pixel box (inclusive, e.g. ``PoseFrame.face_box``) to ``(y0, y1, x0, x1)``."""
    if len(box) != 4:
        raise ValueError(f"a face box needs 4 numbers (x0, y0, x1, y1), got {list(box)}")
    x0, y0, x1, y1 = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise ValueError(f"face box {list(box)} has a non-finite coordinate")
    if x1 < x0 or y1 < y0:
        raise ValueError(f"face box {list(box)} is empty: (x0, y0, x1, y1) needs x1 >= x0 and y1 >= y0")
    ix0, iy0 = max(0, math.floor(x0)), max(0, math.floor(y0))
    ix1, iy1 = min(width - 1, math.ceil(x1)), min(height - 1, math.ceil(y1))
    if ix1 < ix0 or iy1 < iy0:
        raise ValueError(f"face box {list(box)} lies outside the {width}x{height} frame")
    return iy0, iy1, ix0, ix1


def validate_boxes(boxes: Sequence[Sequence[int]], num_frames: int, height: int, width: int) -> list[FaceBox]:
    """Check ``(y0, y1, x0, x1)`` boxes against the frame count and size; returns them as int tuples."""
    if len(boxes) < num_frames:
        raise ValueError(f"{num_frames} frames need {num_frames} face boxes, got {len(boxes)}")
    checked: list[FaceBox] = []
    for k, box in enumerate(boxes[:num_frames]):
        y0, y1, x0, x1 = (int(v) for v in box)
        if not (0 <= y0 <= y1 < height and 0 <= x0 <= x1 < width):
            raise ValueError(
                f"face box {k} (y0={y0}, y1={y1}, x0={x0}, x1={x1}) is empty or outside the {width}x{height} frame"
            )
        checked.append((y0, y1, x0, x1))
    return checked


# ---------------------------------------------------------------------------------------------- pixels


def load_reference_pixels(reference: str | os.PathLike | np.ndarray | Image.Image) -> torch.Tensor:
    """The reference photo at its original size as RGB ``[1, 3, H, W]`` float32 in ``[-1, 1]``."""
    if isinstance(reference, (str, os.PathLike)):
        name = os.fspath(reference)
        if not os.path.isfile(name):
            raise FileNotFoundError(f"reference image not found: {name}")
        with Image.open(name) as image:
            array = np.asarray(image.convert("RGB"))
    elif isinstance(reference, Image.Image):
        array = np.asarray(reference.convert("RGB"))
    else:
        array = np.asarray(reference)
        if array.ndim != 3 or array.shape[-1] != 3:
            raise ValueError(f"a reference array must be RGB [H, W, 3], got shape {list(array.shape)}")
    pixels = torch.from_numpy(np.array(array, dtype=np.uint8 if array.dtype == np.uint8 else np.float32)).to(torch.float32) / 255.0
    pixels = (pixels - 0.5) / 0.5
    return pixels.permute(2, 0, 1)[None]


def decoded_to_extractor_range(decoded: torch.Tensor) -> torch.Tensor:
    """VAE output → the extractor's ``[-1, 1]``, through the same clamps as the saved frames (docs/model.md §11 4b)."""
    pixels = torch.clamp(torch.clamp(decoded / 2 + 0.5, 0, 1) * 255, 0, 255)
    return (pixels / 255 - 0.5) / 0.5


def crop_face(pixels: torch.Tensor, box: FaceBox, size: int = CROP_SIZE) -> torch.Tensor:
    """Inclusive crop of ``[3, H, W]`` (or ``[1, 3, H, W]``) resized bilinearly to ``size×size``."""
    if pixels.ndim == 3:
        pixels = pixels[None]
    y0, y1, x0, x1 = box
    crop = pixels[:, :, y0 : y1 + 1, x0 : x1 + 1]
    return F.interpolate(crop, size=(size, size), mode="bilinear", align_corners=False)


def crop_faces(pixels: torch.Tensor, boxes: Sequence[FaceBox], size: int = CROP_SIZE) -> torch.Tensor:
    """``[N, 3, H, W]`` frames and N boxes → ``[N, 3, size, size]`` face crops."""
    if pixels.shape[0] != len(boxes):
        raise ValueError(f"{pixels.shape[0]} frames but {len(boxes)} face boxes")
    return torch.cat([crop_face(pixels[k], box, size) for k, box in enumerate(boxes)], dim=0)


def reference_embedding(
    embedder: torch.nn.Module,
    reference: str | os.PathLike | np.ndarray | Image.Image | torch.Tensor,
    box: FaceBox | None = None,
    mask: str | os.PathLike | np.ndarray | Image.Image | None = None,
) -> torch.Tensor:
    """``e_ref = embedder(crop(reference))`` ``[1, D]``; the box comes from ``box`` or the reference ``mask``.

    ``reference`` may be a ready ``[1, 3, H, W]`` tensor in ``[-1, 1]`` or anything
    :func:`load_reference_pixels` accepts. Computed without autograd (the reference is a constant target).
    """
    pixels = reference if isinstance(reference, torch.Tensor) else load_reference_pixels(reference)
    if box is not None and mask is not None:
        raise ValueError("give exactly one of a reference face box or a reference face mask")
    if mask is not None:
        array, name = _load_mask_array(mask)
        box = _box_of_mask_array(array, name)
        if tuple(array.shape) != tuple(pixels.shape[-2:]):
            raise ValueError(
                f"{name}: the reference mask is {array.shape[1]}x{array.shape[0]} but the reference image is "
                f"{pixels.shape[-1]}x{pixels.shape[-2]}; the mask must be at the reference's original size"
            )
    if box is None:
        raise ValueError("give exactly one of a reference face box or a reference face mask")
    validate_boxes([box], 1, pixels.shape[-2], pixels.shape[-1])
    param = next(embedder.parameters())
    crop = crop_face(pixels[0], box).to(device=param.device, dtype=param.dtype)
    with torch.no_grad():
        return embedder(crop)


def face_loss_terms(embeddings: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Per-frame ``|1 − cos(e_k, e_ref)|`` (cosine along the feature dimension, eps 1e-8)."""
    return torch.abs(1 - F.cosine_similarity(embeddings, reference, dim=1, eps=1e-8))


def face_loss(embeddings: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """``mean_k |1 − cos(e_k, e_ref)|`` — the HJB identity loss."""
    return face_loss_terms(embeddings, reference).mean()
