"""Tiny stand-ins for the DWPose ONNX files (docs/model.md §13), built with the ``onnx`` helper API.

The real ``yolox_l.onnx`` maps a [1, 3, 640, 640] letterboxed image to [1, 8400, 85] raw YOLOX predictions
(grid-relative cx, cy, log-scale w, h, objectness, 80 class probabilities); the real ``dw-ll_ucoco_384.onnx``
maps a [1, 3, 384, 288] crop to SimCC vectors simcc_x [1, 133, 576] and simcc_y [1, 133, 768] (split ratio 2).
These stand-ins have the same input/output names-and-shapes contract and return planted constants, so a test
knows exactly where the boxes and keypoints must land. The input still feeds the graph (× 0) so onnxruntime
runs the session the way it runs the real one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DETECTOR_INPUT = (1, 3, 640, 640)
NUM_ANCHORS = (640 // 8) ** 2 + (640 // 16) ** 2 + (640 // 32) ** 2  # 6400 + 1600 + 400
NUM_CLASSES = 80
POSE_INPUT = (1, 3, 384, 288)  # [1, 3, h, w]: 288×384 w×h
NUM_KEYPOINTS = 133
SIMCC_X_BINS = 288 * 2
SIMCC_Y_BINS = 384 * 2


def anchor_index(stride: int, gx: int, gy: int, size: int = 640) -> int:
    """Row of the raw YOLOX output for grid cell (gx, gy) at ``stride``: strides 8, 16, 32 in that order,
    each feature map flattened row by row (y outer, x inner)."""
    offset = 0
    for s in (8, 16, 32):
        if s == stride:
            return offset + gy * (size // s) + gx
        offset += (size // s) ** 2
    raise ValueError(stride)


def empty_detections(objectness: float = 0.01, class_prob: float = 0.01) -> np.ndarray:
    """A raw [8400, 85] YOLOX output where nothing scores above the 0.1 NMS threshold."""
    raw = np.zeros((NUM_ANCHORS, 5 + NUM_CLASSES), dtype=np.float32)
    raw[:, 4] = objectness
    raw[:, 5:] = class_prob
    return raw


def plant_box(
    raw: np.ndarray, stride: int, cx: float, cy: float, w: float, h: float, objectness: float, cls: int,
    class_prob: float = 1.0,
) -> int:
    """Plant a box with centre (cx, cy) and size (w, h) in LETTERBOXED pixels at the grid cell holding its
    centre, encoded the YOLOX way: centre = (grid + offset) · stride, size = exp(raw) · stride."""
    gx, gy = int(cx // stride), int(cy // stride)
    row = anchor_index(stride, gx, gy)
    raw[row, 0] = cx / stride - gx
    raw[row, 1] = cy / stride - gy
    raw[row, 2] = np.log(w / stride)
    raw[row, 3] = np.log(h / stride)
    raw[row, 4] = objectness
    raw[row, 5:] = 0.0
    raw[row, 5 + cls] = class_prob
    return row


def _constant_model(input_name: str, input_shape: tuple[int, ...], outputs: dict[str, np.ndarray]) -> onnx.ModelProto:
    """out_i = constant_i + 0 · mean(input), for each named output."""
    nodes = [
        helper.make_node("ReduceMean", [input_name], ["input_mean"], keepdims=0),
        helper.make_node("Mul", ["input_mean", "zero"], ["input_zero"]),
    ]
    initializers = [numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero")]
    graph_outputs = []
    for name, value in outputs.items():
        initializers.append(numpy_helper.from_array(value.astype(np.float32), f"{name}_const"))
        nodes.append(helper.make_node("Add", [f"{name}_const", "input_zero"], [name]))
        graph_outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(value.shape)))
    graph = helper.make_graph(
        nodes, "stand_in", [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(input_shape))],
        graph_outputs, initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write_detector(path: Path, raw: np.ndarray) -> Path:
    """A ``yolox_l.onnx`` stand-in: images [1, 3, 640, 640] -> output [1, 8400, 85] = ``raw``."""
    assert raw.shape == (NUM_ANCHORS, 5 + NUM_CLASSES)
    onnx.save(_constant_model("images", DETECTOR_INPUT, {"output": raw[None]}), str(path))
    return path


def write_pose_model(path: Path, simcc_x: np.ndarray, simcc_y: np.ndarray) -> Path:
    """A ``dw-ll_ucoco_384.onnx`` stand-in: input [1, 3, 384, 288] -> simcc_x [1, 133, 576], simcc_y [1, 133, 768]."""
    assert simcc_x.shape == (NUM_KEYPOINTS, SIMCC_X_BINS) and simcc_y.shape == (NUM_KEYPOINTS, SIMCC_Y_BINS)
    onnx.save(_constant_model("input", POSE_INPUT, {"simcc_x": simcc_x[None], "simcc_y": simcc_y[None]}), str(path))
    return path


def write_marker_pose_model(path: Path) -> Path:
    """A ``dw-ll_ucoco_384.onnx`` stand-in that looks at its input: every keypoint's simcc_x is the column
    profile (max over rows) of input channel 0, simcc_y its row profile (max over columns), each input pixel
    repeated over its 2 SimCC bins (split ratio 2). So all 133 keypoints land on the brightest channel-0
    pixel of the crop, scored with its normalised value."""
    h, w = POSE_INPUT[2], POSE_INPUT[3]

    def ints(name: str, values: list[int]) -> onnx.TensorProto:
        return numpy_helper.from_array(np.array(values, dtype=np.int64), name)

    nodes = [
        helper.make_node("Slice", ["input", "c_start", "c_end", "c_axis"], ["channel0"]),  # [1, 1, h, w]
        helper.make_node("ReduceMax", ["channel0"], ["cols"], axes=[2], keepdims=0),    # [1, 1, w]
        helper.make_node("ReduceMax", ["channel0"], ["rows"], axes=[3], keepdims=0),    # [1, 1, h]
    ]
    for axis, profile in (("x", "cols"), ("y", "rows")):
        nodes += [
            helper.make_node("Unsqueeze", [profile, "last_axis"], [f"{axis}_col"]),            # [1, 1, n, 1]
            helper.make_node("Concat", [f"{axis}_col", f"{axis}_col"], [f"{axis}_pairs"], axis=3),  # [1, 1, n, 2]
            helper.make_node("Reshape", [f"{axis}_pairs", f"{axis}_flat_shape"], [f"{axis}_bins"]),  # [1, 1, 2n]
            helper.make_node("Expand", [f"{axis}_bins", f"{axis}_out_shape"], [f"simcc_{axis}"]),   # [1, 133, 2n]
        ]
    initializers = [
        ints("c_start", [0]), ints("c_end", [1]), ints("c_axis", [1]), ints("last_axis", [3]),
        ints("x_flat_shape", [1, 1, w * 2]), ints("y_flat_shape", [1, 1, h * 2]),
        ints("x_out_shape", [1, NUM_KEYPOINTS, w * 2]), ints("y_out_shape", [1, NUM_KEYPOINTS, h * 2]),
    ]
    graph = helper.make_graph(
        nodes, "marker_pose", [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(POSE_INPUT))],
        [helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, [1, NUM_KEYPOINTS, SIMCC_X_BINS]),
         helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, [1, NUM_KEYPOINTS, SIMCC_Y_BINS])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
