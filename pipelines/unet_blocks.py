"""The StableAnimator UNet's cross-attention blocks: diffusers' SVD blocks whose transformer keeps the face tokens out of
the temporal cross-attention (docs/model.md §3.3).

Everything else is diffusers' own building blocks (``SpatioTemporalResBlock``, ``Downsample2D``, ``Upsample2D``, the
``TransformerSpatioTemporalModel`` layers). Attribute names and construction order are diffusers', so the state-dict
keys are the official ``Animation/unet.pth`` keys and a seeded random build draws the same weights as the stock UNet.
Inference only: the stock blocks' gradient-checkpointing branches are left out (HJB bounds memory by chunking frames).
"""

from __future__ import annotations

import torch
from diffusers.models.resnet import Downsample2D, SpatioTemporalResBlock, Upsample2D
from diffusers.models.transformers.transformer_temporal import (
    TransformerSpatioTemporalModel,
    TransformerTemporalModelOutput,
)
from torch import nn


class FaceStrippingTransformerSpatioTemporal(TransformerSpatioTemporalModel):
    """Spatio-temporal transformer whose temporal blocks see only the CLIP token of frame 0 (docs/model.md §3.3).

    ``encoder_hidden_states`` is ``[B·F, 1 + num_face_tokens, D]``: the spatial blocks get all tokens (their
    cross-attention is the ID adapter, which splits CLIP and face tokens itself); the temporal blocks get the CLIP
    token alone. Parameters and keys are exactly diffusers'.
    """

    def __init__(
        self,
        num_attention_heads: int,
        attention_head_dim: int,
        in_channels: int,
        num_layers: int,
        cross_attention_dim: int,
        num_face_tokens: int,
    ):
        super().__init__(
            num_attention_heads,
            attention_head_dim,
            in_channels=in_channels,
            num_layers=num_layers,
            cross_attention_dim=cross_attention_dim,
        )
        self.num_face_tokens = num_face_tokens

    # Adapted from diffusers.models.transformers.transformer_temporal.TransformerSpatioTemporalModel.forward
    # (the temporal context drops the face tokens; no gradient checkpointing).
    def forward(
        self,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        image_only_indicator: torch.Tensor | None = None,
        return_dict: bool = True,
    ) -> TransformerTemporalModelOutput | tuple[torch.Tensor]:
        if encoder_hidden_states is None or image_only_indicator is None:
            raise ValueError(
                "the StableAnimator transformer needs encoder_hidden_states and image_only_indicator"
            )
        batch_frames, _, height, width = hidden_states.shape
        num_frames = image_only_indicator.shape[-1]
        batch_size = batch_frames // num_frames

        # Temporal context: CLIP tokens (face tokens removed) of each video's first frame, one copy per pixel.
        clip_tokens = encoder_hidden_states[:, : encoder_hidden_states.shape[1] - self.num_face_tokens]
        n_tokens, dim = clip_tokens.shape[-2:]
        first_frame = clip_tokens.reshape(batch_size, num_frames, n_tokens, dim)[:, 0]
        time_context = first_frame[:, None].broadcast_to(batch_size, height * width, n_tokens, dim)
        time_context = time_context.reshape(batch_size * height * width, n_tokens, dim)

        residual = hidden_states
        hidden_states = self.norm(hidden_states)
        inner_dim = hidden_states.shape[1]
        hidden_states = hidden_states.permute(0, 2, 3, 1).reshape(batch_frames, height * width, inner_dim)
        hidden_states = self.proj_in(hidden_states)

        frame_index = torch.arange(num_frames, device=hidden_states.device).repeat(batch_size, 1).reshape(-1)
        frame_emb = self.time_pos_embed(self.time_proj(frame_index).to(dtype=hidden_states.dtype))[:, None, :]

        for block, temporal_block in zip(
            self.transformer_blocks, self.temporal_transformer_blocks, strict=True
        ):
            hidden_states = block(hidden_states, encoder_hidden_states=encoder_hidden_states)
            mixed = temporal_block(
                hidden_states + frame_emb, num_frames=num_frames, encoder_hidden_states=time_context
            )
            hidden_states = self.time_mixer(
                x_spatial=hidden_states, x_temporal=mixed, image_only_indicator=image_only_indicator
            )

        hidden_states = self.proj_out(hidden_states)
        hidden_states = (
            hidden_states.reshape(batch_frames, height, width, inner_dim).permute(0, 3, 1, 2).contiguous()
        )
        output = hidden_states + residual
        if not return_dict:
            return (output,)
        return TransformerTemporalModelOutput(sample=output)


def _resnet(in_channels: int, out_channels: int, temb_channels: int, eps: float) -> nn.Module:
    return SpatioTemporalResBlock(
        in_channels=in_channels, out_channels=out_channels, temb_channels=temb_channels, eps=eps
    )


def _transformer(channels: int, heads: int, layers: int, cross_attention_dim: int, num_face_tokens: int) -> nn.Module:
    return FaceStrippingTransformerSpatioTemporal(
        heads, channels // heads, in_channels=channels, num_layers=layers, cross_attention_dim=cross_attention_dim,
        num_face_tokens=num_face_tokens,
    )  # fmt: skip


def _attend(attn: nn.Module, hidden_states, encoder_hidden_states, image_only_indicator) -> torch.Tensor:
    return attn(
        hidden_states,
        encoder_hidden_states=encoder_hidden_states,
        image_only_indicator=image_only_indicator,
        return_dict=False,
    )[0]


class MidBlock(nn.Module):
    """resnet, then (transformer, resnet) × layers, at the lowest resolution."""

    # Adapted from diffusers.models.unets.unet_3d_blocks.UNetMidBlockSpatioTemporal.__init__ (face-stripping
    # transformer; one layer, as the SVD UNet builds it).
    def __init__(
        self,
        in_channels: int,
        temb_channels: int,
        transformer_layers: int,
        num_attention_heads: int,
        cross_attention_dim: int,
        num_face_tokens: int,
    ):
        super().__init__()
        self.has_cross_attention = True
        resnets = [_resnet(in_channels, in_channels, temb_channels, eps=1e-5)]
        attentions = [
            _transformer(in_channels, num_attention_heads, transformer_layers, cross_attention_dim, num_face_tokens)
        ]
        resnets.append(_resnet(in_channels, in_channels, temb_channels, eps=1e-5))
        self.attentions = nn.ModuleList(attentions)
        self.resnets = nn.ModuleList(resnets)

    # Adapted from diffusers.models.unets.unet_3d_blocks.UNetMidBlockSpatioTemporal.forward (no checkpointing)
    def forward(self, hidden_states, temb, encoder_hidden_states, image_only_indicator) -> torch.Tensor:
        hidden_states = self.resnets[0](hidden_states, temb, image_only_indicator=image_only_indicator)
        for attn, resnet in zip(self.attentions, self.resnets[1:], strict=True):
            hidden_states = _attend(attn, hidden_states, encoder_hidden_states, image_only_indicator)
            hidden_states = resnet(hidden_states, temb, image_only_indicator=image_only_indicator)
        return hidden_states


class CrossAttnDownBlock(nn.Module):
    """(resnet, transformer) × layers, then a strided conv; returns every skip connection for the up path."""

    # Adapted from diffusers.models.unets.unet_3d_blocks.CrossAttnDownBlockSpatioTemporal.__init__
    # (face-stripping transformer).
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        temb_channels: int,
        num_layers: int,
        transformer_layers: int,
        num_attention_heads: int,
        cross_attention_dim: int,
        add_downsample: bool,
        num_face_tokens: int,
    ):
        super().__init__()
        self.has_cross_attention = True
        resnets, attentions = [], []
        for i in range(num_layers):  # resnet, then transformer: diffusers' order (same seeded weights)
            resnets.append(_resnet(in_channels if i == 0 else out_channels, out_channels, temb_channels, eps=1e-6))
            attentions.append(
                _transformer(out_channels, num_attention_heads, transformer_layers, cross_attention_dim, num_face_tokens)
            )
        self.attentions = nn.ModuleList(attentions)
        self.resnets = nn.ModuleList(resnets)
        self.downsamplers = (
            nn.ModuleList(
                [Downsample2D(out_channels, use_conv=True, out_channels=out_channels, padding=1, name="op")]
            )
            if add_downsample
            else None
        )

    # Adapted from diffusers.models.unets.unet_3d_blocks.CrossAttnDownBlockSpatioTemporal.forward (no checkpointing)
    def forward(
        self, hidden_states, temb, encoder_hidden_states, image_only_indicator
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        output_states: tuple[torch.Tensor, ...] = ()
        for resnet, attn in zip(self.resnets, self.attentions, strict=True):
            hidden_states = resnet(hidden_states, temb, image_only_indicator=image_only_indicator)
            hidden_states = _attend(attn, hidden_states, encoder_hidden_states, image_only_indicator)
            output_states = output_states + (hidden_states,)
        if self.downsamplers is not None:
            for downsampler in self.downsamplers:
                hidden_states = downsampler(hidden_states)
            output_states = output_states + (hidden_states,)
        return hidden_states, output_states


class CrossAttnUpBlock(nn.Module):
    """(concatenate a skip connection, resnet, transformer) × layers, then an upsampling conv."""

    # Adapted from diffusers.models.unets.unet_3d_blocks.CrossAttnUpBlockSpatioTemporal.__init__
    # (face-stripping transformer).
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        prev_output_channel: int,
        temb_channels: int,
        resolution_idx: int,
        num_layers: int,
        transformer_layers: int,
        num_attention_heads: int,
        cross_attention_dim: int,
        add_upsample: bool,
        num_face_tokens: int,
    ):
        super().__init__()
        self.has_cross_attention = True
        resnets, attentions = [], []
        for i in range(num_layers):
            res_skip_channels = in_channels if (i == num_layers - 1) else out_channels
            resnet_in_channels = prev_output_channel if i == 0 else out_channels
            resnets.append(_resnet(resnet_in_channels + res_skip_channels, out_channels, temb_channels, eps=1e-6))
            attentions.append(
                _transformer(out_channels, num_attention_heads, transformer_layers, cross_attention_dim, num_face_tokens)
            )
        self.attentions = nn.ModuleList(attentions)
        self.resnets = nn.ModuleList(resnets)
        self.upsamplers = (
            nn.ModuleList([Upsample2D(out_channels, use_conv=True, out_channels=out_channels)])
            if add_upsample
            else None
        )
        self.resolution_idx = resolution_idx

    # Adapted from diffusers.models.unets.unet_3d_blocks.CrossAttnUpBlockSpatioTemporal.forward (no checkpointing)
    def forward(
        self,
        hidden_states: torch.Tensor,
        res_hidden_states_tuple: tuple[torch.Tensor, ...],
        temb: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        image_only_indicator: torch.Tensor,
        upsample_size: torch.Size | None = None,
    ) -> torch.Tensor:
        for resnet, attn in zip(self.resnets, self.attentions, strict=True):
            hidden_states = torch.cat([hidden_states, res_hidden_states_tuple[-1]], dim=1)
            res_hidden_states_tuple = res_hidden_states_tuple[:-1]
            hidden_states = resnet(hidden_states, temb, image_only_indicator=image_only_indicator)
            hidden_states = _attend(attn, hidden_states, encoder_hidden_states, image_only_indicator)
        if self.upsamplers is not None:
            for upsampler in self.upsamplers:
                hidden_states = upsampler(hidden_states, upsample_size)
        return hidden_states
