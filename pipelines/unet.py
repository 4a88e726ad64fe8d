"""The StableAnimator UNet: diffusers' SVD UNet plus pose latents, face-token stripping and the ID adapter (spec §3).

Exactly three things differ from :class:`diffusers.UNetSpatioTemporalConditionModel`:

1. ``forward(..., pose_latents=...)`` adds PoseNet's output right after ``conv_in``;
2. every spatio-temporal transformer drops the face tokens from the temporal cross-attention context;
3. the spatial attention layers carry the StableAnimator processors (their ``id_to_k``/``id_to_v`` weights are
   part of the state dict, so the official ``Animation/unet.pth`` loads with ``strict=True``).
"""

from __future__ import annotations

import torch
from diffusers.configuration_utils import register_to_config

# DiffusionPipeline.from_pretrained looks up ModelMixin in the component's module to pick its loader.
from diffusers.models.modeling_utils import ModelMixin  # noqa: F401
from diffusers.models.transformers.transformer_temporal import (
    TransformerSpatioTemporalModel,
    TransformerTemporalModelOutput,
)
from diffusers.models.unets.unet_spatio_temporal_condition import (
    UNetSpatioTemporalConditionModel,
    UNetSpatioTemporalConditionOutput,
)
from torch import nn

from .attention_processor import NUM_FACE_TOKENS, install_stable_animator_processors


class FaceStrippingTransformerSpatioTemporalModel(TransformerSpatioTemporalModel):
    """Spatio-temporal transformer whose temporal blocks only see the CLIP token of frame 0 (spec §3.3).

    The spatial blocks still get all tokens (CLIP + face). Instances are made by re-classing the stock modules
    built by the diffusers block factory, so ``num_face_tokens`` is set as an attribute by the UNet.
    """

    num_face_tokens: int = NUM_FACE_TOKENS

    def forward(
        self,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        image_only_indicator: torch.Tensor | None = None,
        return_dict: bool = True,
    ) -> TransformerTemporalModelOutput | tuple[torch.Tensor]:
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
            if torch.is_grad_enabled() and self.gradient_checkpointing:
                hidden_states = self._gradient_checkpointing_func(
                    block, hidden_states, None, encoder_hidden_states, None
                )
            else:
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


class _PoseAddingConv2d(nn.Conv2d):
    """``conv_in`` that adds the pending pose latents to its output (same parameters and state-dict keys)."""

    pose_latents: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        if self.pose_latents is not None:
            out = out + self.pose_latents
        return out


class StableAnimatorUNet(UNetSpatioTemporalConditionModel):
    """SVD UNet with StableAnimator's pose input, face-token stripping and ID-adapter processors.

    Built from the stock SVD ``unet/config.json``; ``num_face_tokens`` (default 4) must match the face encoder.
    """

    @register_to_config
    def __init__(
        self,
        sample_size: int | None = None,
        in_channels: int = 8,
        out_channels: int = 4,
        down_block_types: tuple[str, ...] = (
            "CrossAttnDownBlockSpatioTemporal",
            "CrossAttnDownBlockSpatioTemporal",
            "CrossAttnDownBlockSpatioTemporal",
            "DownBlockSpatioTemporal",
        ),
        up_block_types: tuple[str, ...] = (
            "UpBlockSpatioTemporal",
            "CrossAttnUpBlockSpatioTemporal",
            "CrossAttnUpBlockSpatioTemporal",
            "CrossAttnUpBlockSpatioTemporal",
        ),
        block_out_channels: tuple[int, ...] = (320, 640, 1280, 1280),
        addition_time_embed_dim: int = 256,
        projection_class_embeddings_input_dim: int = 768,
        layers_per_block: int | tuple[int] = 2,
        cross_attention_dim: int | tuple[int] = 1024,
        transformer_layers_per_block: int | tuple[int, tuple[tuple]] = 1,
        num_attention_heads: int | tuple[int, ...] = (5, 10, 20, 20),
        num_frames: int = 25,
        num_face_tokens: int = NUM_FACE_TOKENS,
    ):
        super().__init__(
            sample_size=sample_size,
            in_channels=in_channels,
            out_channels=out_channels,
            down_block_types=tuple(down_block_types),
            up_block_types=tuple(up_block_types),
            block_out_channels=tuple(block_out_channels),
            addition_time_embed_dim=addition_time_embed_dim,
            projection_class_embeddings_input_dim=projection_class_embeddings_input_dim,
            layers_per_block=layers_per_block,
            cross_attention_dim=cross_attention_dim,
            transformer_layers_per_block=transformer_layers_per_block,
            num_attention_heads=num_attention_heads,
            num_frames=num_frames,
        )
        self.conv_in.__class__ = _PoseAddingConv2d
        for module in self.modules():
            if type(module) is TransformerSpatioTemporalModel:
                module.__class__ = FaceStrippingTransformerSpatioTemporalModel
                module.num_face_tokens = num_face_tokens
        install_stable_animator_processors(self, num_tokens=num_face_tokens)

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor | float | int,
        encoder_hidden_states: torch.Tensor,
        added_time_ids: torch.Tensor,
        pose_latents: torch.Tensor | None = None,
        return_dict: bool = True,
    ) -> UNetSpatioTemporalConditionOutput | tuple:
        """As the SVD UNet; ``pose_latents`` ``[B·F, C0, h, w]`` (or None) is added to the ``conv_in`` output.

        ``encoder_hidden_states`` is ``[B, 1 + num_face_tokens, D]`` (CLIP token then face tokens).
        """
        self.conv_in.pose_latents = pose_latents
        try:
            return super().forward(
                sample, timestep, encoder_hidden_states, added_time_ids, return_dict=return_dict
            )
        finally:
            self.conv_in.pose_latents = None
