"""Pose backend on the original's DWPose ONNX models (YOLOX-L person detector + dw-ll_ucoco_384 whole-body
RTMPose/SimCC), run with onnxruntime, when the user has the files (docs/model.md §13).

The pre- and post-processing are plain functions so they can be tested without the real models:
``letterbox`` / ``decode_yolox`` / ``nms`` for the detector, ``box_to_center_scale`` / ``crop_affine`` /
``decode_simcc`` for the pose model, ``to_openpose`` for the neck insertion and MMPose→OpenPose reorder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.errors import ModelFolderError
from studio.motion.types import PoseFrame

DETECTOR_FILE = "yolox_l.onnx"
POSE_FILE = "dw-ll_ucoco_384.onnx"
DETECTOR_SIZE = (640, 640)  # (height, width)
PAD_VALUE = 114
STRIDES = (8, 16, 32)
NMS_IOU = 0.45
NMS_SCORE = 0.1
PERSON_SCORE = 0.3
BOX_PADDING = 1.25
MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)
STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)
SIMCC_SPLIT_RATIO = 2.0
VISIBLE = 0.3

#: OpenPose-18 index -> COCO-WholeBody body index (17 = the inserted neck).
OPENPOSE_FROM_COCO: tuple[int, ...] = (0, 17, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3)


# ----------------------------------------------------------------------------------------------- detector
def letterbox(image: np.ndarray, size: tuple[int, int] = DETECTOR_SIZE) -> tuple[np.ndarray, float]:
    """Resize to fit ``size`` (h, w) keeping the aspect ratio, top-left aligned on a 114-grey canvas.

    Returns the [1, 3, h, w] float32 input (0–255, channels as given) and the resize ratio.
    """
    import cv2

    ratio = min(size[0] / image.shape[0], size[1] / image.shape[1])
    new_w, new_h = int(image.shape[1] * ratio), int(image.shape[0] * ratio)
    padded = np.full((size[0], size[1], 3), PAD_VALUE, dtype=np.uint8)
    padded[:new_h, :new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    return padded.transpose(2, 0, 1)[None].astype(np.float32), ratio


def decode_yolox(output: np.ndarray, size: tuple[int, int] = DETECTOR_SIZE) -> np.ndarray:
    """Raw YOLOX output [A, 5 + C] (grid-relative) -> [A, 5 + C] with (cx, cy, w, h) in input pixels."""
    grids, strides = [], []
    for step in STRIDES:
        gh, gw = size[0] // step, size[1] // step
        yv, xv = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
        grids.append(np.stack((xv, yv), -1).reshape(-1, 2))
        strides.append(np.full((gh * gw, 1), step))
    grid = np.concatenate(grids).astype(np.float32)
    stride = np.concatenate(strides).astype(np.float32)
    if output.shape[0] != grid.shape[0]:
        raise ModelFolderError(
            f"the YOLOX detector gave {output.shape[0]} anchors, expected {grid.shape[0]} for a 640×640 input; "
            f"is {DETECTOR_FILE} the right model?"
        )
    out = output.astype(np.float32).copy()
    out[:, :2] = (out[:, :2] + grid) * stride
    out[:, 2:4] = np.exp(out[:, 2:4]) * stride
    return out


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Greedy non-maximum suppression on (x0, y0, x1, y1) boxes; returns kept indices, best first."""
    x0, y0, x1, y1 = boxes.T
    areas = (x1 - x0 + 1) * (y1 - y0 + 1)
    order = scores.argsort()[::-1]
    keep = []
    while order.size:
        i = order[0]
        keep.append(int(i))
        xx0 = np.maximum(x0[i], x0[order[1:]])
        yy0 = np.maximum(y0[i], y0[order[1:]])
        xx1 = np.minimum(x1[i], x1[order[1:]])
        yy1 = np.minimum(y1[i], y1[order[1:]])
        inter = np.maximum(0.0, xx1 - xx0 + 1) * np.maximum(0.0, yy1 - yy0 + 1)
        iou = inter / (areas[i] + areas[order[1:]] - inter)
        order = order[1:][iou <= iou_threshold]
    return keep


def person_boxes(decoded: np.ndarray, ratio: float) -> np.ndarray:
    """Person boxes (x0, y0, x1, y1) in image pixels from decoded YOLOX predictions (class-agnostic NMS)."""
    boxes = np.empty((len(decoded), 4), dtype=np.float32)
    boxes[:, 0] = decoded[:, 0] - decoded[:, 2] / 2
    boxes[:, 1] = decoded[:, 1] - decoded[:, 3] / 2
    boxes[:, 2] = decoded[:, 0] + decoded[:, 2] / 2
    boxes[:, 3] = decoded[:, 1] + decoded[:, 3] / 2
    boxes /= ratio
    class_scores = decoded[:, 4:5] * decoded[:, 5:]
    classes = class_scores.argmax(1)
    scores = class_scores[np.arange(len(classes)), classes]
    valid = scores > NMS_SCORE
    if not valid.any():
        return np.zeros((0, 4), dtype=np.float32)
    boxes, scores, classes = boxes[valid], scores[valid], classes[valid]
    keep = nms(boxes, scores, NMS_IOU)
    keep = [k for k in keep if classes[k] == 0 and scores[k] > PERSON_SCORE]
    return boxes[keep]


# ----------------------------------------------------------------------------------------------- pose model
def box_to_center_scale(box: np.ndarray, input_wh: tuple[int, int], padding: float = BOX_PADDING) -> tuple[np.ndarray, np.ndarray]:
    """Centre and (w, h) of the crop for a box: padded by 1.25 and widened to the model's aspect ratio."""
    x0, y0, x1, y1 = box[:4]
    center = np.array([(x0 + x1) / 2, (y0 + y1) / 2], dtype=np.float32)
    w, h = (x1 - x0) * padding, (y1 - y0) * padding
    aspect = input_wh[0] / input_wh[1]
    if w > h * aspect:
        h = w / aspect
    else:
        w = h * aspect
    return center, np.array([w, h], dtype=np.float32)


def crop_affine(center: np.ndarray, scale: np.ndarray, input_wh: tuple[int, int]) -> np.ndarray:
    """2×3 matrix mapping image pixels to the model crop: ``center`` -> crop centre, ``scale`` -> crop size."""
    s = input_wh[0] / scale[0]
    return np.array(
        [[s, 0.0, input_wh[0] / 2 - s * center[0]], [0.0, s, input_wh[1] / 2 - s * center[1]]], dtype=np.float32
    )


def pose_input(image: np.ndarray, box: np.ndarray, input_wh: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The normalised [1, 3, h, w] crop for one person box, and its centre and scale (for decoding)."""
    import cv2

    center, scale = box_to_center_scale(box, input_wh)
    crop = cv2.warpAffine(image, crop_affine(center, scale, input_wh), input_wh, flags=cv2.INTER_LINEAR)
    crop = (crop.astype(np.float32) - MEAN) / STD
    return crop.transpose(2, 0, 1)[None], center, scale


def decode_simcc(
    simcc_x: np.ndarray, simcc_y: np.ndarray, center: np.ndarray, scale: np.ndarray, input_wh: tuple[int, int],
    split_ratio: float = SIMCC_SPLIT_RATIO,
) -> tuple[np.ndarray, np.ndarray]:
    """SimCC argmax decoding for one person: [K, Wx], [K, Hy] -> keypoints [K, 2] in image pixels, scores [K]."""
    x_locs = simcc_x.argmax(-1).astype(np.float32)
    y_locs = simcc_y.argmax(-1).astype(np.float32)
    scores = np.minimum(simcc_x.max(-1), simcc_y.max(-1)).astype(np.float32)
    locs = np.stack([x_locs, y_locs], -1)
    locs[scores <= 0] = -1
    keypoints = locs / split_ratio
    keypoints = keypoints / np.array(input_wh, dtype=np.float32) * scale + center - scale / 2
    return keypoints, scores


def to_openpose(keypoints: np.ndarray, scores: np.ndarray) -> PoseFrame:
    """133 COCO-WholeBody points -> PoseFrame: neck inserted (mid-shoulders), body reordered to OpenPose-18.

    The neck's score is 1 when both shoulders are visible (> 0.3), else 0 (as the original). Feet are dropped.
    """
    info = np.concatenate([keypoints, scores[:, None]], axis=1).astype(np.float32)
    neck = info[[5, 6]].mean(0)
    neck[2] = float(info[5, 2] > VISIBLE and info[6, 2] > VISIBLE)
    body17 = np.concatenate([info[:17], neck[None]], 0)
    pose = PoseFrame()
    pose.body[:] = body17[list(OPENPOSE_FROM_COCO)]
    pose.face[:] = info[23:91]
    pose.left_hand[:] = info[91:112]
    pose.right_hand[:] = info[112:133]
    return pose


def find_dwpose_models(model_dir: str | Path) -> tuple[Path, Path]:
    """(detector, pose model) paths in ``model_dir`` (also looks in a ``DWPose`` subfolder)."""
    model_dir = Path(model_dir)
    for folder in (model_dir, model_dir / "DWPose"):
        det, pose = folder / DETECTOR_FILE, folder / POSE_FILE
        if det.is_file() and pose.is_file():
            return det, pose
    raise ModelFolderError(
        f"{model_dir}: the DWPose backend needs {DETECTOR_FILE} and {POSE_FILE} (from the original's "
        f"checkpoints/DWPose folder); put both files in this folder, or use the mediapipe backend"
    )


class DWPoseBackend:
    """YOLOX-L + DWPose via onnxruntime (CUDA when available, else CPU). Returns every person found."""

    name = "dwpose"

    def __init__(self, model_dir: str | Path, providers: list[str] | None = None) -> None:
        import onnxruntime as ort

        self.detector_path, self.pose_path = find_dwpose_models(model_dir)
        available = ort.get_available_providers()
        providers = providers or [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
        options = ort.SessionOptions()
        options.log_severity_level = 3
        try:
            self.detector = ort.InferenceSession(str(self.detector_path), options, providers=providers)
            self.pose_model = ort.InferenceSession(str(self.pose_path), options, providers=providers)
        except Exception as error:  # onnxruntime raises its own exception types for bad files
            raise ModelFolderError(f"could not load the DWPose models from {self.detector_path.parent}: {error}") from None
        shape = self.pose_model.get_inputs()[0].shape  # [1, 3, h, w]
        self.input_wh = (int(shape[3]), int(shape[2])) if isinstance(shape[3], int) else (288, 384)

    def parameters(self) -> dict:
        return {
            "detector": self.detector_path.name, "detector_bytes": self.detector_path.stat().st_size,
            "pose": self.pose_path.name, "pose_bytes": self.pose_path.stat().st_size,
        }

    def detect_boxes(self, frame: np.ndarray) -> np.ndarray:
        blob, ratio = letterbox(frame)
        output = self.detector.run(None, {self.detector.get_inputs()[0].name: blob})[0]
        return person_boxes(decode_yolox(output[0]), ratio)

    def detect(self, frame: np.ndarray) -> list[PoseFrame]:
        people = []
        name = self.pose_model.get_inputs()[0].name
        for box in self.detect_boxes(frame):
            blob, center, scale = pose_input(frame, box, self.input_wh)
            simcc_x, simcc_y = self.pose_model.run(None, {name: blob})[:2]
            keypoints, scores = decode_simcc(simcc_x[0], simcc_y[0], center, scale, self.input_wh)
            people.append(to_openpose(keypoints, scores))
        return people

    def close(self) -> None:
        self.detector = self.pose_model = None
