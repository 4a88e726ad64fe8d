"""Tiny stand-ins for insightface's antelopev2 pack, exported to ONNX on the fly (no downloads).

``write_antelopev2(folder)`` writes ``scrfd_10g_bnkps.onnx`` and ``glintr100.onnx`` (the two files
``studio.faces.reference_face`` needs) into ``folder``. insightface routes them by their inputs/outputs exactly as it routes
the real files: 9 outputs → ``SCRFD`` (3 strides × score/box/5 keypoints, 2 anchors per place), a square
112×112 input with one output → ``ArcFaceONNX``.

What counts as a "face" for the stand-in detector: a rectangle painted by ``plant_face`` — green channel
saturated, red and blue low (a texture in red/blue, so the face's content survives a red/blue swap while
the detector, which only looks at "green high, red and blue low", finds the same box either way).
The detector answers, on its stride-8 level, with the painted rectangle's exact extent (found by
min/max pooling of pixel coordinates over a window of ``WINDOW_RADIUS`` 8-px blocks around each anchor)
and the 5 landmarks at fixed fractions of that box (``LANDMARK_FRACTIONS``, insightface's ArcFace
template, so the aligned crop is the painted rectangle). Faces must be ≤ 8·WINDOW_RADIUS detector pixels
across and more than that apart, or their boxes merge.

The recognition stand-in: 8×8 average pooling of the normalised 112×112 crop, centred per channel → a fixed
random linear map (seeded) → 512 raw (un-normalised) numbers (or ``embedding_size``); different crops give different embeddings.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

DETECTOR_FILE = "scrfd_10g_bnkps.onnx"
RECOGNITION_FILE = "glintr100.onnx"
WINDOW_RADIUS = 30  # in 8-px blocks of the 640×640 detector input
STRIDES = (8, 16, 32)
ANCHORS = 2
#: insightface's ArcFace 5-point template (112×112) as fractions of the crop: eyes, nose, mouth corners.
LANDMARK_FRACTIONS = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
) / 112.0
RECOGNITION_SEED = 1234


def _detector_module():
    import torch
    from torch import nn
    from torch.nn import functional as F

    fractions = torch.from_numpy(LANDMARK_FRACTIONS)
    big = 1.0e4
    radius = WINDOW_RADIUS

    class StandInSCRFD(nn.Module):
        def forward(self, x):  # [1, 3, H, W], (pixel - 127.5) / 128, RGB order
            r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
            mask = (g > 0.6) & (r < -0.1) & (b < -0.1)  # green ≥ ~205, red and blue ≤ ~115
            ones = torch.ones_like(g)
            px = torch.cumsum(ones, 3) - 1.0
            py = torch.cumsum(ones, 2) - 1.0
            neg = torch.full_like(g, -big)

            def block_max(t):
                return F.max_pool2d(t, 8, 8)

            def window_max(t):
                t = F.max_pool2d(t, (2 * radius + 1, 1), 1, (radius, 0))
                return F.max_pool2d(t, (1, 2 * radius + 1), 1, (0, radius))

            x0 = -window_max(block_max(torch.where(mask, -px, neg)))
            y0 = -window_max(block_max(torch.where(mask, -py, neg)))
            x1 = window_max(block_max(torch.where(mask, px + 1.0, neg)))
            y1 = window_max(block_max(torch.where(mask, py + 1.0, neg)))
            score = block_max(mask.float())
            ones8 = torch.ones_like(score)
            cx = (torch.cumsum(ones8, 3) - 1.0) * 8.0
            cy = (torch.cumsum(ones8, 2) - 1.0) * 8.0
            distances = torch.cat([cx - x0, cy - y0, x1 - cx, y1 - cy], 1) / 8.0
            kx = x0 + fractions[:, 0].view(1, 5, 1, 1) * (x1 - x0)
            ky = y0 + fractions[:, 1].view(1, 5, 1, 1) * (y1 - y0)
            kps = torch.stack([(kx - cx) / 8.0, (ky - cy) / 8.0], 2).reshape(1, 10, -1)

            def per_anchor(t, width):  # [1, C, h, w] → [h·w·anchors, C], each place repeated per anchor
                t = t.reshape(1, width, -1).permute(0, 2, 1).reshape(-1, 1, width)
                return t.expand(-1, ANCHORS, width).reshape(-1, width)

            outputs_score = [per_anchor(score, 1)]
            outputs_box = [per_anchor(distances, 4)]
            outputs_kps = [per_anchor(kps, 10)]
            for stride in STRIDES[1:]:
                empty = F.avg_pool2d(g, stride, stride) * 0.0
                outputs_score.append(per_anchor(empty, 1))
                outputs_box.append(per_anchor(empty.expand(-1, 4, -1, -1), 4))
                outputs_kps.append(per_anchor(empty.expand(-1, 10, -1, -1), 10))
            return (*outputs_score, *outputs_box, *outputs_kps)

    return StandInSCRFD()


def _recognition_module(embedding_size: int = 512):
    import torch
    from torch import nn
    from torch.nn import functional as F

    generator = torch.Generator().manual_seed(RECOGNITION_SEED)
    weight = torch.randn(embedding_size, 3 * 14 * 14, generator=generator) / 14.0
    bias = torch.randn(embedding_size, generator=generator) * 0.01

    class StandInArcFace(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("weight", weight)
            self.register_buffer("bias", bias)

        def forward(self, x):  # [N, 3, 112, 112]
            pooled = F.avg_pool2d(x, 8, 8)
            # centred per channel, so what all stand-in faces share (green 255) does not dominate the score
            pooled = (pooled - pooled.mean((2, 3), keepdim=True)).reshape(x.shape[0], -1)
            return pooled @ self.weight.t() + self.bias

    return StandInArcFace()


def write_detector(path: str | Path) -> Path:
    import torch

    path = Path(path)
    names = [f"{kind}_{stride}" for kind in ("score", "bbox", "kps") for stride in STRIDES]
    dynamic = {"input.1": {2: "height", 3: "width"}}
    dynamic.update({name: {0: f"n_{name}"} for name in names})
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation notice
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(_detector_module().eval(), (torch.zeros(1, 3, 640, 640),), str(path), dynamo=False,
                          input_names=["input.1"], output_names=names, dynamic_axes=dynamic, opset_version=17)
    return path


def write_recognition(path: str | Path, embedding_size: int = 512) -> Path:
    import torch

    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(_recognition_module(embedding_size).eval(), (torch.zeros(1, 3, 112, 112),), str(path), dynamo=False,
                          input_names=["input.1"], output_names=["fc1"], opset_version=17)
    return path


def write_antelopev2(folder: str | Path, embedding_size: int = 512) -> Path:
    """Write both stand-ins into ``folder`` (created); returns the folder. ``embedding_size`` other than
    antelopev2's 512 suits the tiny fixture, whose face encoder takes 64 values."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_detector(folder / DETECTOR_FILE)
    write_recognition(folder / RECOGNITION_FILE, embedding_size)
    return folder


def plant_face(image: np.ndarray, box: tuple[int, int, int, int], seed: int = 0) -> np.ndarray:
    """Paint a stand-in face over ``image`` (RGB uint8, changed in place and returned) in the pixel box
    [x0, x1) × [y0, y1): green 255, red and blue a seeded texture of 4-px blocks in [0, 100]."""
    x0, y0, x1, y1 = box
    rng = np.random.default_rng(seed)
    h, w = y1 - y0, x1 - x0
    texture = rng.integers(0, 101, size=((h + 3) // 4, (w + 3) // 4, 2), dtype=np.uint8)
    texture = np.repeat(np.repeat(texture, 4, 0), 4, 1)[:h, :w]
    image[y0:y1, x0:x1, 0] = texture[..., 0]
    image[y0:y1, x0:x1, 1] = 255
    image[y0:y1, x0:x1, 2] = texture[..., 1]
    return image


def background(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A face-free RGB uint8 background (no pixel is "green high, red and blue low")."""
    rng = np.random.default_rng(seed)
    image = rng.integers(60, 200, size=(height, width, 3), dtype=np.uint8)
    image[..., 1] = np.minimum(image[..., 1], 150)
    return image


def expected_landmarks(box: tuple[float, float, float, float]) -> np.ndarray:
    """The 5 points the stand-in detector puts in ``box``."""
    x0, y0, x1, y1 = box
    return np.stack([x0 + LANDMARK_FRACTIONS[:, 0] * (x1 - x0), y0 + LANDMARK_FRACTIONS[:, 1] * (y1 - y0)], 1)
