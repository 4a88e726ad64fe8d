"""The interpolators a user can pick: ``flow`` (weight-free, CPU; the default) and ``rife`` (learned, RIFE 4.25/4.26
from ``RIFE/flownet.pkl`` in the weights folder; a GPU in bf16/fp16 when present, else the CPU in fp32). ``auto``
takes RIFE where its weights are present and a GPU can run it, else flow.

Every interpolator answers ``between(frame0, frame1, times, poses=None)`` with RGB uint8 frames, one per time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.errors import InputError, ModelFolderError
from studio.interpolation.flow import estimate_flows, interpolate_pair, to_uint8

METHODS = ("auto", "flow", "rife")
#: The learned interpolator's weights inside the weights folder (optional: the flow interpolator needs none).
RIFE_WEIGHTS = "RIFE/flownet.pkl"


class FlowInterpolator:
    """Dense optical flow both ways, occlusion-aware splatting and soft blending (:mod:`.flow`); with known
    poses, limbs guide the flow and the face is checked (:mod:`.poses`)."""

    name = "flow"
    device = "cpu"

    def between(self, frame0: np.ndarray, frame1: np.ndarray, times: list[float], poses=None) -> list[np.ndarray]:
        if poses is None or poses[0] is None or poses[1] is None:
            return [to_uint8(r.frame) for r in interpolate_pair(frame0, frame1, times)]
        from studio.interpolation.poses import PoseGuide, check_face

        guide = PoseGuide(*poses)
        pair = estimate_flows(frame0, frame1, guide=guide)
        results = interpolate_pair(frame0, frame1, times, pair)
        return [to_uint8(check_face(r, t, poses)) for r, t in zip(results, times, strict=True)]


class RifeInterpolator:
    """RIFE 4.25/4.26 (:mod:`pipelines.rife_ifnet`) on numpy frames."""

    name = "rife"

    def __init__(self, weights: str | Path, device: str | None = None):
        import torch

        from pipelines.loading import CheckpointError
        from pipelines.rife_ifnet import best_device_and_dtype, load_rife_ifnet

        auto_device, dtype = best_device_and_dtype()
        self.torch_device = torch.device(device) if device else auto_device
        if self.torch_device.type == "cpu":
            dtype = torch.float32
        try:
            self.model = load_rife_ifnet(weights, self.torch_device, dtype)
        except CheckpointError as error:
            raise ModelFolderError(f"{weights} is not usable RIFE weights: " + "; ".join(error.problems)) from None
        self.device = f"{self.torch_device.type} ({str(dtype).removeprefix('torch.')})"

    def between(self, frame0: np.ndarray, frame1: np.ndarray, times: list[float], poses=None) -> list[np.ndarray]:
        import torch

        def tensor(frame: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float().div(255)

        img0, img1 = tensor(frame0), tensor(frame1)
        out = []
        for t in times:
            frame = self.model.interpolate(img0, img1, t)[0].permute(1, 2, 0).clamp(0, 1).mul(255).add(0.5)
            out.append(frame.to(torch.uint8).cpu().numpy())
        return out


def rife_weights(models: str | Path | None) -> Path | None:
    """``RIFE/flownet.pkl`` under the weights folder (or its ``checkpoints/``), or None."""
    if not models:
        return None
    for folder in (Path(models).expanduser(), Path(models).expanduser() / "checkpoints"):
        if (folder / RIFE_WEIGHTS).is_file():
            return folder / RIFE_WEIGHTS
    return None


def rife_missing(models: str | Path | None, *, choose_folder: str = "--models",
                 instead: str = "--method flow") -> str | None:
    """Why RIFE cannot run with the weights folder ``models``, or None when its weights are there. One wording for
    the command line and the window; only how a person picks a folder (``--models``, the window's Models… button)
    and the other choice (``--method flow``, "flow or auto") differ."""
    if rife_weights(models) is not None:
        return None
    where = Path(models) / RIFE_WEIGHTS if models else f"<weights folder>/{RIFE_WEIGHTS}"
    missing = "which is missing" if models else f"and no weights folder is chosen (choose one with {choose_folder})"
    return (f"RIFE 4.25/4.26 needs its weights at {where}, {missing}: put the Practical-RIFE release's "
            f"train_log/flownet.pkl there, or use {instead}")


def make_interpolator(method: str = "auto", models: str | Path | None = None, device: str | None = None):
    """The interpolator for ``method``; ``rife`` without weights is a clear error naming where they go."""
    if method not in METHODS:
        raise InputError(f"unknown interpolation method {method!r}; choose one of {', '.join(METHODS)}")
    weights = rife_weights(models)
    if method == "rife":
        if weights is None:
            raise ModelFolderError(f"--method rife: {rife_missing(models)}")
        return RifeInterpolator(weights, device)
    if method == "auto" and weights is not None:
        import torch

        if torch.cuda.is_available() or device not in (None, "cpu"):
            return RifeInterpolator(weights, device)
    return FlowInterpolator()
