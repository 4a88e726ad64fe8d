"""Reading MediaPipe's short-range face detector (``face_detection_short_range.tflite``, bundled with mediapipe
0.10.14) out: where the holistic graph looks for a face near a pose's head, it runs this detector first and
builds the face landmark model's region from its find (``face_hands_net``).

The model sees a 128×128 RGB region in [-1, 1] and scores 896 fixed anchors, each with a box and six keypoints
(the face's right eye, left eye, nose tip, mouth centre, right and left ear tragion; right/left the person's).
The numbers are those of the graph's ``face_detection_short_range.pbtxt`` / ``face_detection.pbtxt``: anchors
from strides 8, 16, 16, 16 (a 16×16 grid with 2 anchors a cell, then an 8×8 grid with 6), centred on their
cells, fixed size 1; offsets divided by 128 and added to the anchor's centre; score the sigmoid of the logit
(clipped to ±100), a face from 0.5; overlapping finds (IoU above 0.3) merged, their coordinates weighted by
score, the best first.
"""

from __future__ import annotations

import numpy as np

SIZE = 128
#: (stride, anchors per cell) of the detector's feature maps, merged where strides repeat.
LAYERS = ((8, 2), (16, 6))
MIN_SCORE = 0.5
SCORE_CLIP = 100.0
MIN_SUPPRESSION = 0.3
NUM_KEYPOINTS = 6
RIGHT_EYE, LEFT_EYE = 0, 1
#: OpenCV's names for the model's outputs: 896 × 16 regressors (box x, y, w, h, then 6 keypoints' x, y; input
#: pixels, relative to the anchor), 896 score logits.
OUTPUTS = ("regressors", "classificators")


def anchors() -> np.ndarray:
    """The [896, 2] anchor centres (share of the input's side), in the order of the model's outputs."""
    centres = []
    for stride, per_cell in LAYERS:
        cells = SIZE // stride
        for y in range(cells):
            for x in range(cells):
                centres += [((x + 0.5) / cells, (y + 0.5) / cells)] * per_cell
    return np.array(centres, np.float64)


ANCHORS = anchors()


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of ``box`` (x0, y0, x1, y1) with each of ``boxes``."""
    low, high = np.maximum(box[:2], boxes[:, :2]), np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(high - low, 0.0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return inter / np.maximum(area + areas - inter, 1e-12)


def best_face(regressors: np.ndarray, logits: np.ndarray) -> tuple[float, np.ndarray] | None:
    """The detector's best face: (score, [6, 2] keypoints in input pixels), its coordinates merged with the finds
    overlapping it; None where no anchor scores a face."""
    raw = np.asarray(regressors, np.float64).reshape(-1, 4 + 2 * NUM_KEYPOINTS)
    scores = 1.0 / (1.0 + np.exp(-np.clip(np.asarray(logits, np.float64).reshape(-1), -SCORE_CLIP, SCORE_CLIP)))
    kept = np.nonzero(scores >= MIN_SCORE)[0]
    if len(kept) == 0:
        return None
    centre = raw[kept, :2] / SIZE + ANCHORS[kept]
    half = raw[kept, 2:4] / SIZE / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    points = raw[kept, 4:].reshape(-1, NUM_KEYPOINTS, 2) / SIZE + ANCHORS[kept, None, :]
    top = int(np.argmax(scores[kept]))
    group = _iou(boxes[top], boxes) > MIN_SUPPRESSION
    weights = scores[kept][group]
    merged = (points[group] * weights[:, None, None]).sum(0) / weights.sum()
    return float(scores[kept][top]), merged * SIZE
