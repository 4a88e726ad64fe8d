"""PoseNet: encodes skeleton images into latents that are added after the UNet's ``conv_in`` (docs/model.md §4)."""

from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

# (in, out, kernel, stride) of the fixed convolution stack; the official checkpoint only varies `final_proj`.
_CONV_STACK: tuple[tuple[int, int, int, int], ...] = (
    (3, 3, 3, 1),
    (3, 16, 4, 2),
    (16, 16, 3, 1),
    (16, 32, 4, 2),
    (32, 32, 3, 1),
    (32, 64, 4, 2),
    (64, 64, 3, 1),
    (64, 128, 3, 1),
)


class PoseNet(ModelMixin, ConfigMixin):  # type: ignore[misc]  # diffusers types config_name differently in the two mixins
    """Eight SiLU-activated convolutions (three with stride 2, so ÷8 like the VAE) and a 1×1 projection.

    ``forward`` returns ``final_proj(conv_layers(x)) * scale`` with shape ``[N, noise_latent_channels, H/8, W/8]``.
    """

    @register_to_config
    def __init__(self, noise_latent_channels: int = 320):
        super().__init__()
        layers: list[nn.Module] = []
        for c_in, c_out, kernel, stride in _CONV_STACK:
            layers.append(nn.Conv2d(c_in, c_out, kernel_size=kernel, stride=stride, padding=1))
            layers.append(nn.SiLU())
        self.conv_layers = nn.Sequential(*layers)
        self.final_proj = nn.Conv2d(_CONV_STACK[-1][1], noise_latent_channels, kernel_size=1)
        self.scale = nn.Parameter(torch.tensor([2.0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 5:  # [b, f, c, h, w] -> [b*f, c, h, w]
            x = x.flatten(0, 1)
        return self.final_proj(self.conv_layers(x)) * self.scale
