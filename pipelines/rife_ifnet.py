"""RIFE 4.25 / 4.26 IFNet: a learned frame interpolator (Practical-RIFE, MIT), written for this project.

The network (described step by step in ``tests/data/rife-tiny/README.md``) estimates, for a time ``t`` between two
frames, a backward flow from the wanted frame to each input and a blend mask, coarse to fine over five blocks; the
frame is the mask-weighted blend of the two inputs warped by those flows. 4.25 and 4.26 share the module tree and
the inference code (only trained numbers differ), so one class loads both.

Weights come from the user's ``flownet.pkl`` in the released layout: a ``torch.save`` of a ``module.``-prefixed
state dict that also holds training-only tensors (``teacher.*``, ``caltime.*``), read with ``weights_only=True``.
:func:`load_rife_ifnet` checks every key and shape and names the ones that are missing or wrong, instead of the
original's ``strict=False`` load that silently keeps random weights.

Precision: the convolutions run in the model's dtype (fp16/bf16 on a GPU), while images, flows and the warp stay in
float32 — a half-precision sampling grid normalised to [-1, 1] has steps of about 1/1000, half a pixel at 1080p.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from pipelines.loading import CheckpointError, _compare_state, load_state_dict

#: Tensors of the released file that only training uses (a teacher block and a time-estimation head).
TRAINING_ONLY_PREFIXES = ("teacher.", "caltime.")
#: The prefix ``DistributedDataParallel`` put on every key of the released file.
DDP_PREFIX = "module."
#: Per-block resize factors at ``scale = 1`` (the block works at 1/s of the frame, then 1/4 of that).
BASE_SCALES = (16.0, 8.0, 4.0, 2.0, 1.0)
LEAKY_SLOPE = 0.2


def _conv_lrelu(c_in: int, c_out: int) -> nn.Sequential:
    """3×3 stride-2 convolution and LeakyReLU (keys ``<i>.0.weight``: the released nesting)."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, 2, 1), nn.LeakyReLU(LEAKY_SLOPE))


class ScaledResidualConv(nn.Module):
    """``lrelu(conv(y) * beta + y)``: a residual 3×3 conv whose output (bias included) has a learned per-channel
    gain."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 1, 1)
        self.beta = nn.Parameter(torch.ones(1, channels, 1, 1))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self.conv(y) * self.beta + y, LEAKY_SLOPE)


class FeatureHead(nn.Module):
    """Per-frame features (``encode``): down to half size with three 3×3 convs, back up with a 4×4 transposed conv."""

    def __init__(self, width: int = 16, out_channels: int = 4):
        super().__init__()
        self.cnn0 = nn.Conv2d(3, width, 3, 2, 1)
        self.cnn1 = nn.Conv2d(width, width, 3, 1, 1)
        self.cnn2 = nn.Conv2d(width, width, 3, 1, 1)
        self.cnn3 = nn.ConvTranspose2d(width, out_channels, 4, 2, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        y = F.leaky_relu(self.cnn0(image), LEAKY_SLOPE)
        y = F.leaky_relu(self.cnn1(y), LEAKY_SLOPE)
        y = F.leaky_relu(self.cnn2(y), LEAKY_SLOPE)
        return self.cnn3(y)


class FlowBlock(nn.Module):
    """One coarse-to-fine step (``IFBlock``): at 1/s of the frame, predict a 4-channel flow (or its increment), a
    mask logit and 8 feature channels for the next block."""

    OUT_CHANNELS = 4 + 1 + 8

    def __init__(self, in_channels: int, width: int):
        super().__init__()
        self.conv0 = nn.Sequential(_conv_lrelu(in_channels, width // 2), _conv_lrelu(width // 2, width))
        self.convblock = nn.Sequential(*[ScaledResidualConv(width) for _ in range(8)])
        # ×2 by the transposed conv, ×2 by the pixel shuffle: back to the block's input size
        self.lastconv = nn.Sequential(nn.ConvTranspose2d(width, 4 * self.OUT_CHANNELS, 4, 2, 1), nn.PixelShuffle(2))

    def forward(self, x: torch.Tensor, flow: torch.Tensor | None, s: float):
        dtype = self.lastconv[0].weight.dtype
        x = F.interpolate(x, scale_factor=1.0 / s, mode="bilinear", align_corners=False)
        if flow is not None:
            # flows are in pixels: a picture 1/s as wide moves 1/s as far
            flow = F.interpolate(flow, scale_factor=1.0 / s, mode="bilinear", align_corners=False) * 1.0 / s
            x = torch.cat((x, flow), 1)
        y = self.lastconv(self.convblock(self.conv0(x.to(dtype)))).float()  # type: ignore[arg-type]  # torch: .weight typed via Module.__getattr__
        y = F.interpolate(y, scale_factor=s, mode="bilinear", align_corners=False)
        return y[:, :4] * s, y[:, 4:5], y[:, 5:]


def backward_warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """``image`` sampled at ``(x + flow_x, y + flow_y)`` (pixels; bilinear, border-clamped, corner-aligned grid)."""
    n, _, h, w = flow.shape
    xs = torch.linspace(-1.0, 1.0, w, device=flow.device).view(1, 1, 1, w).expand(n, 1, h, w)
    ys = torch.linspace(-1.0, 1.0, h, device=flow.device).view(1, 1, h, 1).expand(n, 1, h, w)
    norm = torch.cat((flow[:, 0:1] / ((image.shape[3] - 1.0) / 2.0), flow[:, 1:2] / ((image.shape[2] - 1.0) / 2.0)), 1)
    grid = (torch.cat((xs, ys), 1) + norm).permute(0, 2, 3, 1)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


@dataclass
class RifeOutput:
    """The blended frame and what made it (all on the padded canvas, float32)."""

    frame: torch.Tensor  # [N, 3, H, W] in [0, 1]
    flows: list[torch.Tensor]  # cumulative [N, 4, H, W] flow after each block (0:2 warps frame 0, 2:4 frame 1)
    mask_logits: torch.Tensor  # [N, 1, H, W], before the sigmoid


class RifeIFNet(ModelMixin, ConfigMixin):  # type: ignore[misc]  # diffusers: the two bases type config_name differently
    """IFNet of RIFE 4.25/4.26 (five flow blocks and a feature head); see the module docstring."""

    @register_to_config
    def __init__(self, block_widths: tuple[int, ...] = (192, 128, 96, 64, 32), feature_channels: int = 4,
                 head_width: int = 16):
        super().__init__()
        first_in = 3 + 3 + 2 * feature_channels + 1  # both frames, both features, the time plane
        later_in = first_in + 1 + 8 + 4  # + the mask logit, the block features and the current flow
        for index, width in enumerate(block_widths):
            self.add_module(f"block{index}", FlowBlock(first_in if index == 0 else later_in, width))
        self.encode = FeatureHead(head_width, feature_channels)

    @property
    def blocks(self) -> list[FlowBlock]:
        return [getattr(self, f"block{i}") for i in range(len(self.config.block_widths))]  # type: ignore[attr-defined]  # diffusers: config reads as attributes

    def padding_multiple(self, scale: float = 1.0) -> int:
        """Frames are padded so the coarsest block's 1/4-size grid is whole: a multiple of 4·16/scale."""
        return max(64, math.ceil(64 / scale))

    def features(self, image: torch.Tensor) -> torch.Tensor:
        return self.encode(image.to(self.encode.cnn0.weight.dtype)).float()

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, timestep: float | torch.Tensor = 0.5,
                scale: float = 1.0, keep_first_mask: bool = False) -> RifeOutput:
        """Interpolate padded float32 frames ``[N, 3, H, W]`` (RGB in [0, 1], sides multiples of
        :meth:`padding_multiple`) at ``timestep``. ``keep_first_mask`` reproduces the original's
        ``ensemble=True`` path, where blocks 1..4 refine the flow but never replace block 0's mask."""
        img0, img1 = img0.float(), img1.float()
        if torch.is_tensor(timestep):
            time_plane = timestep.float().reshape(-1, 1, 1, 1).expand(img0.shape[0], 1, *img0.shape[2:])
        else:
            time_plane = torch.full_like(img0[:, :1], float(timestep))
        f0, f1 = self.features(img0), self.features(img1)
        warped0, warped1 = img0, img1
        flow = mask = block_feat = None
        flows = []
        for block, s in zip(self.blocks, (b / scale for b in BASE_SCALES), strict=True):
            if flow is None:
                flow, mask, block_feat = block(torch.cat((img0, img1, f0, f1, time_plane), 1), None, s)
            else:
                assert mask is not None and block_feat is not None  # (set by the first block)
                wf0, wf1 = backward_warp(f0, flow[:, :2]), backward_warp(f1, flow[:, 2:4])
                x = torch.cat((warped0, warped1, wf0, wf1, time_plane, mask, block_feat), 1)
                delta, new_mask, block_feat = block(x, flow, s)
                flow = flow + delta
                if not keep_first_mask:
                    mask = new_mask
            warped0, warped1 = backward_warp(img0, flow[:, :2]), backward_warp(img1, flow[:, 2:4])
            flows.append(flow)
        assert mask is not None  # (the loop runs every block, the first one at least)
        weight = torch.sigmoid(mask)
        return RifeOutput(frame=warped0 * weight + warped1 * (1 - weight), flows=flows, mask_logits=mask)

    @torch.no_grad()
    def interpolate(self, img0: torch.Tensor, img1: torch.Tensor, timestep: float = 0.5,
                    scale: float = 1.0) -> torch.Tensor:
        """The frame at ``timestep`` between two unpadded ``[N, 3, H, W]`` frames: zeros are appended right and
        bottom (as the original does; the network sees them) and the result is cropped back."""
        h, w = img0.shape[2:]
        multiple = self.padding_multiple(scale)
        pad = (0, -w % multiple, 0, -h % multiple)
        device = next(self.parameters()).device
        img0, img1 = (F.pad(i.to(device).float(), pad) for i in (img0, img1))
        return self(img0, img1, timestep, scale).frame[:, :, :h, :w]


def check_rife_state(path: str | os.PathLike, state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor],
                                                                                       list[str]]:
    """The inference tensors of a released-layout state dict and the problems with it (empty: loads strictly).
    Accepts keys with or without the ``module.`` prefix (never a mix); ignores the training-only tensors."""
    prefixed = [k for k in state if k.startswith(DDP_PREFIX)]
    if prefixed and len(prefixed) != len(state):
        return {}, [f"{path}: mixes {len(prefixed)} keys with the '{DDP_PREFIX}' prefix and "
                    f"{len(state) - len(prefixed)} without; not a RIFE flownet.pkl"]
    stripped = {k.removeprefix(DDP_PREFIX): v for k, v in state.items()}
    inference = {k: v for k, v in stripped.items() if not k.startswith(TRAINING_ONLY_PREFIXES)}
    with torch.device("meta"):
        expected = {k: v.shape for k, v in RifeIFNet().state_dict().items()}
    problems: list[str] = []
    _compare_state(str(path), expected, inference, problems)
    return inference, problems


def load_rife_ifnet(path: str | os.PathLike, device: str | torch.device = "cpu",
                    dtype: torch.dtype = torch.float32) -> RifeIFNet:
    """RIFE 4.25/4.26 from ``flownet.pkl`` (or a safetensors file with the same keys). Raises ``CheckpointError``
    naming every missing, unexpected or wrong-shape key."""
    path = Path(path)
    state = load_state_dict(path)
    inference, problems = check_rife_state(path, state)
    if problems:
        raise CheckpointError(path.parent, problems + [
            "expected RIFE 4.25 or 4.26 (train_log/flownet.pkl of the Practical-RIFE release); "
            "other RIFE versions have other layers"])
    model = RifeIFNet()
    model.load_state_dict(inference, strict=True)
    # nn.Module.to: diffusers' ModelMixin.to warns about fp32-kept modules even when there are none
    return nn.Module.to(model, device=device, dtype=dtype).eval().requires_grad_(False)


def best_device_and_dtype() -> tuple[torch.device, torch.dtype]:
    """CUDA in bf16 where supported (fp16 otherwise), else the CPU in float32."""
    if torch.cuda.is_available():
        return torch.device("cuda"), torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.device("cpu"), torch.float32
