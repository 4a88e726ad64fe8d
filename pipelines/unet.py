"""The StableAnimator UNet: the SVD spatio-temporal UNet plus pose latents and face tokens (docs/model.md §3).

Exactly three things differ from :class:`diffusers.UNetSpatioTemporalConditionModel`, and ``forward`` shows where:

1. ``pose_latents`` (PoseNet's output) are added to the ``conv_in`` output;
2. ``encoder_hidden_states`` carries the CLIP token *and* the face tokens: the spatial cross-attention (the ID adapter,
   :mod:`pipelines.attention_processor`) uses both, the temporal cross-attention only the CLIP token
   (:class:`pipelines.unet_blocks.FaceStrippingTransformerSpatioTemporal`);
3. the spatial attention layers carry the StableAnimator processors, whose ``id_to_k``/``id_to_v`` weights are part of
   the state dict, so the official ``Animation/unet.pth`` loads with ``strict=True``.

Module names, shapes and construction order are diffusers', so the keys are the official ones and the stock SVD
``unet/config.json`` builds it. ``forward`` keeps no state between calls (safe to call from several threads at once).
"""

from __future__ import annotations

from typing import cast

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.attention import AttentionMixin
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.unets.unet_3d_blocks import DownBlockSpatioTemporal, UpBlockSpatioTemporal
from diffusers.models.unets.unet_spatio_temporal_condition import UNetSpatioTemporalConditionOutput
from torch import nn

from .attention_processor import NUM_FACE_TOKENS, install_stable_animator_processors
from .unet_blocks import CrossAttnDownBlock, CrossAttnUpBlock, MidBlock

_CROSS_ATTN_DOWN, _PLAIN_DOWN = "CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"
_CROSS_ATTN_UP, _PLAIN_UP = "CrossAttnUpBlockSpatioTemporal", "UpBlockSpatioTemporal"


def _per_level(value, levels: int, name: str) -> list:
    if isinstance(value, int):
        return [value] * levels
    if len(value) != levels:
        raise ValueError(f"`{name}` needs one value per UNet level ({levels}), got {list(value)}")
    return list(value)


class StableAnimatorUNet(ModelMixin, AttentionMixin, ConfigMixin):  # type: ignore[misc]  # diffusers types config_name differently in the two mixins
    """SVD UNet with StableAnimator's pose input, face-token stripping and ID-adapter processors.

    Built from the stock SVD ``unet/config.json``; ``num_face_tokens`` (default 4) must match the face encoder.
    """

    # Adapted from diffusers.models.unets.unet_spatio_temporal_condition.UNetSpatioTemporalConditionModel.__init__
    # (cross-attention blocks with the face-stripping transformer; the ID-adapter processors installed).
    @register_to_config
    def __init__(
        self,
        sample_size: int | None = None,
        in_channels: int = 8,
        out_channels: int = 4,
        down_block_types: tuple[str, ...] = (
            _CROSS_ATTN_DOWN,
            _CROSS_ATTN_DOWN,
            _CROSS_ATTN_DOWN,
            _PLAIN_DOWN,
        ),
        up_block_types: tuple[str, ...] = (_PLAIN_UP, _CROSS_ATTN_UP, _CROSS_ATTN_UP, _CROSS_ATTN_UP),
        block_out_channels: tuple[int, ...] = (320, 640, 1280, 1280),
        addition_time_embed_dim: int = 256,
        projection_class_embeddings_input_dim: int = 768,
        layers_per_block: int | tuple[int, ...] = 2,
        cross_attention_dim: int | tuple[int, ...] = 1024,
        transformer_layers_per_block: int | tuple[int, ...] = 1,
        num_attention_heads: int | tuple[int, ...] = (5, 10, 20, 20),
        num_frames: int = 25,
        num_face_tokens: int = NUM_FACE_TOKENS,
    ):
        super().__init__()
        self.sample_size = sample_size
        levels = len(block_out_channels)
        if len(down_block_types) != levels or len(up_block_types) != levels:
            raise ValueError(
                f"`down_block_types` ({len(down_block_types)}), `up_block_types` ({len(up_block_types)}) and "
                f"`block_out_channels` ({levels}) must have the same length"
            )
        heads = _per_level(num_attention_heads, levels, "num_attention_heads")
        cross_dims = _per_level(cross_attention_dim, levels, "cross_attention_dim")
        layers = _per_level(layers_per_block, levels, "layers_per_block")
        transformer_layers = _per_level(transformer_layers_per_block, levels, "transformer_layers_per_block")

        self.conv_in = nn.Conv2d(in_channels, block_out_channels[0], kernel_size=3, padding=1)

        time_embed_dim = block_out_channels[0] * 4
        self.time_proj = Timesteps(block_out_channels[0], True, downscale_freq_shift=0)
        self.time_embedding = TimestepEmbedding(block_out_channels[0], time_embed_dim)
        self.add_time_proj = Timesteps(addition_time_embed_dim, True, downscale_freq_shift=0)
        self.add_embedding = TimestepEmbedding(projection_class_embeddings_input_dim, time_embed_dim)

        self.down_blocks = nn.ModuleList([])
        self.up_blocks = nn.ModuleList([])  # registered before mid_block, as diffusers does: the same key order
        output_channel = block_out_channels[0]
        for i, block_type in enumerate(down_block_types):
            input_channel, output_channel = output_channel, block_out_channels[i]
            add_downsample = i < levels - 1
            if block_type == _CROSS_ATTN_DOWN:
                block: nn.Module = CrossAttnDownBlock(
                    input_channel, output_channel, time_embed_dim, layers[i], transformer_layers[i], heads[i],
                    cross_dims[i], add_downsample, num_face_tokens,
                )  # fmt: skip
            elif block_type == _PLAIN_DOWN:
                block = DownBlockSpatioTemporal(
                    num_layers=layers[i], in_channels=input_channel, out_channels=output_channel,
                    temb_channels=time_embed_dim, add_downsample=add_downsample,
                )  # fmt: skip
            else:
                raise ValueError(
                    f"unsupported down block {block_type!r} (expected {_CROSS_ATTN_DOWN} or {_PLAIN_DOWN})"
                )
            self.down_blocks.append(block)

        self.mid_block = MidBlock(
            block_out_channels[-1],
            time_embed_dim,
            transformer_layers[-1],
            heads[-1],
            cross_dims[-1],
            num_face_tokens,
        )

        self.num_upsamplers = 0
        reversed_channels = list(reversed(block_out_channels))
        output_channel = reversed_channels[0]
        for i, block_type in enumerate(up_block_types):
            prev_output_channel, output_channel = output_channel, reversed_channels[i]
            input_channel = reversed_channels[min(i + 1, levels - 1)]
            add_upsample = i < levels - 1
            self.num_upsamplers += int(add_upsample)
            level = levels - 1 - i  # the down level this up block mirrors
            if block_type == _CROSS_ATTN_UP:
                block = CrossAttnUpBlock(
                    input_channel, output_channel, prev_output_channel, time_embed_dim, i, layers[level] + 1,
                    transformer_layers[level], heads[level], cross_dims[level], add_upsample, num_face_tokens,
                )  # fmt: skip
            elif block_type == _PLAIN_UP:
                block = UpBlockSpatioTemporal(
                    num_layers=layers[level] + 1, in_channels=input_channel, out_channels=output_channel,
                    prev_output_channel=prev_output_channel, temb_channels=time_embed_dim, resolution_idx=i,
                    add_upsample=add_upsample,
                )  # fmt: skip
            else:
                raise ValueError(
                    f"unsupported up block {block_type!r} (expected {_CROSS_ATTN_UP} or {_PLAIN_UP})"
                )
            self.up_blocks.append(block)

        self.conv_norm_out = nn.GroupNorm(num_channels=block_out_channels[0], num_groups=32, eps=1e-5)
        self.conv_act = nn.SiLU()
        self.conv_out = nn.Conv2d(block_out_channels[0], out_channels, kernel_size=3, padding=1)

        install_stable_animator_processors(self, num_tokens=num_face_tokens)

    # Adapted from diffusers.models.unets.unet_spatio_temporal_condition.UNetSpatioTemporalConditionModel.forward
    # (pose latents after conv_in; no gradient checkpointing).
    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor | float | int,
        encoder_hidden_states: torch.Tensor,
        added_time_ids: torch.Tensor,
        pose_latents: torch.Tensor | None = None,
        return_dict: bool = True,
    ) -> UNetSpatioTemporalConditionOutput | tuple[torch.Tensor]:
        """Predict the denoiser output for ``sample`` ``[B, F, C_in, h, w]`` at ``timestep``.

        ``encoder_hidden_states`` ``[B, 1 + num_face_tokens, D]``: the CLIP image token, then the face tokens.
        ``added_time_ids`` ``[B, 3]``: fps − 1, motion bucket id, noise-augmentation strength.
        ``pose_latents`` ``[B·F, block_out_channels[0], h, w]`` (PoseNet's output) or None (the unconditional pass).
        """
        batch_size, num_frames = sample.shape[:2]
        # Sizes that are not a multiple of the total down factor: each up block is told its output size.
        forward_upsample_size = any(s % 2**self.num_upsamplers != 0 for s in sample.shape[-2:])

        # 1. Time: the diffusion timestep plus the SVD micro-conditioning (fps, motion bucket, noise strength).
        timesteps = torch.as_tensor(timestep, device=sample.device)
        timesteps = timesteps.reshape(-1).expand(batch_size)
        # Timesteps has no weights and returns float32; cast to the model's dtype (fp16 runs).
        emb = self.time_embedding(self.time_proj(timesteps).to(dtype=sample.dtype))
        time_embeds = self.add_time_proj(added_time_ids.flatten()).reshape((batch_size, -1)).to(emb.dtype)
        emb = emb + self.add_embedding(time_embeds)

        # [B, F, ...] -> [B·F, ...]; the embeddings and the tokens are repeated per frame.
        sample = sample.flatten(0, 1)
        emb = emb.repeat_interleave(num_frames, dim=0, output_size=emb.shape[0] * num_frames)
        encoder_hidden_states = encoder_hidden_states.repeat_interleave(
            num_frames, dim=0, output_size=encoder_hidden_states.shape[0] * num_frames
        )

        # 2. Input convolution, then the pose: StableAnimator's PoseNet output is added here (docs/model.md §3.2).
        sample = self.conv_in(sample)
        if pose_latents is not None:
            sample = sample + pose_latents

        image_only_indicator = torch.zeros(batch_size, num_frames, dtype=sample.dtype, device=sample.device)

        # 3. Down. The face tokens enter every cross-attention block through encoder_hidden_states.
        skips: tuple[torch.Tensor, ...] = (sample,)
        for down_block in self.down_blocks:
            if getattr(down_block, "has_cross_attention", False):
                sample, res_samples = down_block(sample, emb, encoder_hidden_states, image_only_indicator)
            else:
                sample, res_samples = down_block(
                    hidden_states=sample, temb=emb, image_only_indicator=image_only_indicator
                )
            skips += res_samples

        # 4. Mid.
        sample = self.mid_block(sample, emb, encoder_hidden_states, image_only_indicator)

        # 5. Up, consuming the skip connections from the end.
        for i, up_block in enumerate(self.up_blocks):
            is_final_block = i == len(self.up_blocks) - 1
            n_skips = len(cast(nn.ModuleList, up_block.resnets))  # one skip connection per resnet
            res_samples, skips = skips[-n_skips:], skips[:-n_skips]
            upsample_size = skips[-1].shape[2:] if forward_upsample_size and not is_final_block else None
            if getattr(up_block, "has_cross_attention", False):
                sample = up_block(
                    sample, res_samples, emb, encoder_hidden_states, image_only_indicator, upsample_size
                )
            else:
                sample = up_block(
                    hidden_states=sample, res_hidden_states_tuple=res_samples, temb=emb,
                    image_only_indicator=image_only_indicator, upsample_size=upsample_size,
                )  # fmt: skip

        # 6. Output convolution, back to [B, F, C_out, h, w].
        sample = self.conv_out(self.conv_act(self.conv_norm_out(sample)))
        sample = sample.reshape(batch_size, num_frames, *sample.shape[1:])
        if not return_dict:
            return (sample,)
        return UNetSpatioTemporalConditionOutput(sample=sample)
