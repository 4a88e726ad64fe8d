"""Differentiable ArcFace IResNet: the face-embedding extractor of StableAnimator's HJB refinement.

The network is insightface's ``arcface_torch`` IResNet (docs/model.md §8). ``Animation/glintr100_torch.pth`` holds an
iresnet100 (blocks per stage ``[3, 13, 30, 3]``, widths 64/128/256/512, 512 features); test fixtures hold
smaller networks with the same key names. Every size is therefore read from the state dict
(:meth:`IResNetFaceEmbedder.config_from_state_dict`), never assumed.

Input: RGB ``[N, 3, 112, 112]`` in ``[-1, 1]``; output: the raw (not L2-normalised) ``[N, num_features]``
embedding. Run in ``eval()`` mode: every BatchNorm uses its running statistics.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

_BN_EPS = 1e-5
_STAGE_KEY = re.compile(r"^layer(\d+)\.(\d+)\.")


class IBasicBlock(nn.Module):
    """``bn1 → conv1 (3×3) → bn2 → PReLU → conv2 (3×3, stride) → bn3`` plus the (down-sampled) identity."""

    def __init__(self, in_channels: int, channels: int, stride: int, downsample: bool) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels, eps=_BN_EPS)
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels, eps=_BN_EPS)
        self.prelu = nn.PReLU(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(channels, eps=_BN_EPS)
        self.downsample = (
            nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(channels, eps=_BN_EPS),
            )
            if downsample
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.conv1(self.bn1(x))
        out = self.prelu(self.bn2(out))
        out = self.bn3(self.conv2(out))
        return out + identity


class IResNetFaceEmbedder(ModelMixin, ConfigMixin):
    """ArcFace IResNet with configurable depth and widths (iresnet100 = ``layers=(3, 13, 30, 3)``)."""

    config_name = "config.json"  # type: ignore[assignment]  # diffusers declares it as None in ConfigMixin

    @register_to_config
    def __init__(
        self,
        layers: Sequence[int] = (3, 13, 30, 3),
        stage_channels: Sequence[int] = (64, 128, 256, 512),
        stem_channels: int = 64,
        num_features: int = 512,
        feature_map_size: int = 7,
        image_size: int = 112,
    ) -> None:
        super().__init__()
        if len(layers) != len(stage_channels):
            raise ValueError(
                f"layers ({list(layers)}) and stage_channels ({list(stage_channels)}) must have the same length"
            )
        self.conv1 = nn.Conv2d(3, stem_channels, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_channels, eps=_BN_EPS)
        self.prelu = nn.PReLU(stem_channels)
        in_channels = stem_channels
        for stage, (depth, channels) in enumerate(zip(layers, stage_channels, strict=True), start=1):
            blocks = []
            for index in range(depth):
                # The first block of every stage halves the resolution, so it always needs a projection.
                first = index == 0
                blocks.append(IBasicBlock(in_channels, channels, stride=2 if first else 1, downsample=first))
                in_channels = channels
            self.add_module(f"layer{stage}", nn.Sequential(*blocks))
        self.bn2 = nn.BatchNorm2d(in_channels, eps=_BN_EPS)
        self.dropout = nn.Dropout(p=0.0)
        self.fc = nn.Linear(in_channels * feature_map_size * feature_map_size, num_features)
        self.features = nn.BatchNorm1d(num_features, eps=_BN_EPS)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        size = self.config["image_size"]
        if images.ndim != 4 or images.shape[1] != 3 or tuple(images.shape[-2:]) != (size, size):
            raise ValueError(f"expected face crops of shape [N, 3, {size}, {size}], got {list(images.shape)}")
        x = self.prelu(self.bn1(self.conv1(images)))
        for stage in range(1, len(self.config["layers"]) + 1):
            x = getattr(self, f"layer{stage}")(x)
        x = self.bn2(x).flatten(1)
        x = self.fc(self.dropout(x))
        return self.features(x)

    # ------------------------------------------------------------------ construction from weights

    @staticmethod
    def config_from_state_dict(state_dict: Mapping[str, torch.Tensor], image_size: int = 112) -> dict:
        """Depth per stage, stage/stem widths, feature size and the final feature-map size, from tensor shapes."""
        missing = [k for k in ("conv1.weight", "bn2.weight", "fc.weight") if k not in state_dict]
        if missing:
            raise ValueError(f"not an IResNet face-embedder state dict: missing {', '.join(missing)}")
        depth: dict[int, int] = {}
        for key in state_dict:
            match = _STAGE_KEY.match(key)
            if match:
                stage, block = int(match.group(1)), int(match.group(2))
                depth[stage] = max(depth.get(stage, 0), block + 1)
        stages = sorted(depth)
        if not stages or stages != list(range(1, len(stages) + 1)):
            raise ValueError(f"IResNet state dict has stages {stages}; expected layer1..layerN")
        layers = [depth[s] for s in stages]
        stage_channels = [int(state_dict[f"layer{s}.0.conv1.weight"].shape[0]) for s in stages]
        stem_channels = int(state_dict["conv1.weight"].shape[0])
        num_features, fc_in = (int(n) for n in state_dict["fc.weight"].shape)
        area, remainder = divmod(fc_in, stage_channels[-1])
        side = math.isqrt(area)
        if remainder or side * side != area:
            raise ValueError(
                f"fc input size {fc_in} is not last-stage width {stage_channels[-1]} times a square feature map"
            )
        return {
            "layers": layers,
            "stage_channels": stage_channels,
            "stem_channels": stem_channels,
            "num_features": num_features,
            "feature_map_size": side,
            "image_size": image_size,
        }

    @classmethod
    def from_state_dict(cls, state_dict: Mapping[str, torch.Tensor]) -> IResNetFaceEmbedder:
        """Build the network that ``state_dict`` describes and load it strictly (``num_batches_tracked`` optional)."""
        model = cls(**cls.config_from_state_dict(state_dict))
        expected = model.state_dict()
        tracked = {k for k in expected if k.endswith("num_batches_tracked")}
        given = dict(state_dict)
        for key in tracked - given.keys():
            given[key] = expected[key]  # no numerical effect in eval mode
        missing = sorted(expected.keys() - given.keys())
        unexpected = sorted(given.keys() - expected.keys())
        wrong = sorted(
            f"{k}: file {list(given[k].shape)} vs model {list(expected[k].shape)}"
            for k in expected.keys() & given.keys()
            if tuple(given[k].shape) != tuple(expected[k].shape)
        )
        if missing or unexpected or wrong:
            parts = []
            if missing:
                parts.append(f"missing keys: {', '.join(missing)}")
            if unexpected:
                parts.append(f"unexpected keys: {', '.join(unexpected)}")
            if wrong:
                parts.append(f"shape mismatches: {'; '.join(wrong)}")
            raise ValueError("IResNet state dict does not match its inferred architecture — " + " | ".join(parts))
        model.load_state_dict(given, strict=True)
        return model.eval()

    @classmethod
    def from_checkpoint(
        cls,
        path: str | os.PathLike,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> IResNetFaceEmbedder:
        """Load ``glintr100_torch.pth`` (or a ``.safetensors`` file) safely: ``torch.load(weights_only=True)``."""
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"face-embedder weights not found: {path}")
        # The loader's reader: weights_only, safetensors, and a CheckpointError for an unreadable file.
        from pipelines.loading import load_state_dict

        state_dict = load_state_dict(path)
        try:
            model = cls.from_state_dict(state_dict)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from error
        # nn.Module.to: ModelMixin.to warns about dtype casts meant for from_pretrained.
        return nn.Module.to(model, device=device, dtype=dtype).eval()
