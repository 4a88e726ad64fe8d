"""Does a person's silhouette lie under the skeleton? Independent evidence that a pose is a real person.

A pose model hallucinates people on walls, cars and animals with confident keypoints; a separate person
segmenter (mediapipe's bundled selfie segmenter, trained on other data for another task) puts no person there.
A real person's bones lie on the segmenter's person mask whether their face is visible, blurred or turned away,
which is why this replaced the face check (issue 19: faces may add confidence, never veto).
"""

from __future__ import annotations

import numpy as np

from studio.motion.types import PoseFrame

#: Bones sampled (OpenPose-18): neck to hips, the shoulder and hip lines, upper arms and thighs.
BONES = ((1, 8), (1, 11), (2, 5), (8, 11), (2, 3), (5, 6), (8, 9), (11, 12))
SAMPLES = 5
SCORE = 0.3


def body_support(mask: np.ndarray, pose: PoseFrame) -> float | None:
    """Mean person probability of ``mask`` along the pose's visible bones (pose in the mask's pixels).

    None when no bone of the pose lies in the mask's image (nothing to judge by).
    """
    height, width = mask.shape[:2]
    body = pose.body
    values = []
    for a, b in BONES:
        if body[a, 2] <= SCORE or body[b, 2] <= SCORE:
            continue
        for t in np.linspace(0.0, 1.0, SAMPLES):
            x, y = body[a, :2] * (1 - t) + body[b, :2] * t
            if 0 <= x < width and 0 <= y < height:
                values.append(float(mask[int(y), int(x)]))
    return float(np.mean(values)) if values else None


#: Margin around the person's box given to the segmenter, as a share of the box's size.
MARGIN = 0.15
#: The segmenter sees at most this many pixels a side (it works at 256×256).
MAX_SIDE = 512


def support_in_frame(segmenter: PersonSegmenter, frame_rgb: np.ndarray, pose: PoseFrame) -> float | None:
    """``body_support`` of ``pose`` (frame pixels) on the segmenter's mask of the person's own box.

    The box, not a square window: the selfie segmenter was trained on head-and-shoulders framing and finds
    nobody in a square with a small upright figure in it, while the same figure cut to its box (stretched to the
    model's square input, so it looks broad like a selfie) is found reliably.
    """
    import cv2

    visible = pose.body[pose.body[:, 2] > SCORE, :2]
    if len(visible) < 2:
        return None
    height, width = frame_rgb.shape[:2]
    (x0, y0), (x1, y1) = visible.min(0), visible.max(0)
    pad_x, pad_y = MARGIN * (x1 - x0) + 4, MARGIN * (y1 - y0) + 4
    x0, y0 = max(0, int(x0 - pad_x)), max(0, int(y0 - pad_y))
    x1, y1 = min(width, int(x1 + pad_x) + 1), min(height, int(y1 + pad_y) + 1)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    part = frame_rgb[y0:y1, x0:x1]
    scale = min(1.0, MAX_SIDE / max(part.shape[:2]))
    if scale < 1.0:
        part = cv2.resize(part, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    local = pose.copy()
    local.body[:, 0] = (local.body[:, 0] - x0) * scale
    local.body[:, 1] = (local.body[:, 1] - y0) * scale
    return body_support(segmenter.mask(np.ascontiguousarray(part)), local)


class PersonSegmenter:
    """mediapipe 0.10.14's bundled selfie segmenter (general model, 256×256): a person probability per pixel."""

    def __init__(self) -> None:
        from mediapipe.python.solutions import selfie_segmentation

        self._model = selfie_segmentation.SelfieSegmentation(model_selection=0)

    def mask(self, image_rgb: np.ndarray) -> np.ndarray:
        """Person probability in [0, 1], float32 [height, width] of ``image_rgb``."""
        result = self._model.process(np.ascontiguousarray(image_rgb))
        return np.asarray(result.segmentation_mask, dtype=np.float32)

    def close(self) -> None:
        self._model.close()
