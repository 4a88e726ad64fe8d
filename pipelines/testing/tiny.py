"""Tiny random-weight StableAnimator components for tests and benchmarks (no files needed).

Sizes follow the public tiny fixture's style (32-channel UNet/VAE, 64-wide cross-attention); everything is built
from configs, so the same code paths as the real model run, just small.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import PIL.Image
import torch

from ..face_encoder import FusionFaceId
from ..pipeline_stable_animator import StableAnimatorPipeline
from ..pose_net import PoseNet
from ..unet import StableAnimatorUNet

#: SVD-xt scheduler settings (docs/model.md §2.1).
SVD_SCHEDULER_CONFIG: dict[str, Any] = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "interpolation_type": "linear",
    "num_train_timesteps": 1000,
    "prediction_type": "v_prediction",
    "sigma_max": 700.0,
    "sigma_min": 0.002,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "timestep_type": "continuous",
    "use_karras_sigmas": True,
}


def tiny_unet_config(
    block_out_channels: tuple[int, ...] = (32, 32),
    cross_attention_dim: int = 64,
    attention_head_dim: int = 16,
) -> dict[str, Any]:
    """A UNet config with cross-attention on every level but the last (like SVD), 1 layer per block."""
    n = len(block_out_channels)
    return {
        "sample_size": 8,
        "in_channels": 8,
        "out_channels": 4,
        "down_block_types": ["CrossAttnDownBlockSpatioTemporal"] * (n - 1) + ["DownBlockSpatioTemporal"],
        "up_block_types": ["UpBlockSpatioTemporal"] + ["CrossAttnUpBlockSpatioTemporal"] * (n - 1),
        "block_out_channels": list(block_out_channels),
        "addition_time_embed_dim": 16,
        "projection_class_embeddings_input_dim": 48,
        "layers_per_block": 1,
        "cross_attention_dim": cross_attention_dim,
        "num_attention_heads": [max(1, c // attention_head_dim) for c in block_out_channels],
        "num_frames": 25,
    }


def tiny_components(
    seed: int = 0,
    unet_block_out_channels: tuple[int, ...] = (32, 32),
    vae_block_out_channels: tuple[int, ...] = (32, 32, 32, 32),
    cross_attention_dim: int = 64,
    id_embeddings_dim: int = 32,
    attention_head_dim: int = 16,
) -> dict[str, Any]:
    """Random components (seeded) for :class:`StableAnimatorPipeline` — the VAE downsamples ×8 like SVD's."""
    from diffusers import AutoencoderKLTemporalDecoder, EulerDiscreteScheduler
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    unet = StableAnimatorUNet.from_config(
        tiny_unet_config(unet_block_out_channels, cross_attention_dim, attention_head_dim)
    )
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=list(vae_block_out_channels),
        down_block_types=["DownEncoderBlock2D"] * len(vae_block_out_channels),
        latent_channels=4,
        layers_per_block=1,
    )
    clip_config = CLIPVisionConfig(  # type: ignore[call-arg]  # a PretrainedConfig keyword transformers does not annotate
        hidden_size=32,
        intermediate_size=64,
        num_attention_heads=2,
        num_hidden_layers=2,
        image_size=32,
        patch_size=8,
        projection_dim=cross_attention_dim,
        attn_implementation="eager",
    )
    image_encoder = CLIPVisionModelWithProjection(clip_config)
    pose_net = PoseNet(noise_latent_channels=unet_block_out_channels[0])
    # Zero-initialised layers (PoseNet.final_proj, Perceiver.proj_out) would hide bugs: randomise them.
    torch.nn.init.normal_(pose_net.final_proj.weight, std=0.02)
    face_encoder = FusionFaceId(
        cross_attention_dim=cross_attention_dim,
        id_embeddings_dim=id_embeddings_dim,
        clip_embeddings_dim=cross_attention_dim,
        num_tokens=4,
    )
    scheduler = EulerDiscreteScheduler(**SVD_SCHEDULER_CONFIG)
    components = {
        "vae": vae,
        "image_encoder": image_encoder,
        "unet": unet,
        "scheduler": scheduler,
        "pose_net": pose_net,
        "face_encoder": face_encoder,
        "feature_extractor": None,
    }
    modules: tuple[Any, ...] = (vae, image_encoder, unet, pose_net, face_encoder)  # transformers is not typed as torch
    for module in modules:
        module.eval().requires_grad_(False)
    return components


def tiny_pipeline(
    seed: int = 0, dtype: torch.dtype = torch.float32, **component_kwargs: Any
) -> StableAnimatorPipeline:
    """A tiny random pipeline on CPU with the progress bar disabled."""
    from ..loading import move_modules

    pipe = StableAnimatorPipeline(**tiny_components(seed, **component_kwargs))
    move_modules(pipe, dtype=dtype)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def tiny_inputs(
    num_frames: int = 4, height: int = 32, width: int = 32, id_dim: int = 32, seed: int = 0
) -> dict[str, Any]:
    """Random reference image (1.5× the output size), pose frames and id embedding for a tiny pipeline call."""
    rng = np.random.default_rng(seed)
    image = PIL.Image.fromarray(rng.integers(0, 256, (height * 3 // 2, width * 3 // 2, 3), dtype=np.uint8))
    poses = [
        PIL.Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
        for _ in range(num_frames)
    ]
    return {
        "image": image,
        "pose_images": poses,
        "id_embedding": rng.standard_normal(id_dim).astype(np.float32),
        "height": height,
        "width": width,
        "num_frames": num_frames,
    }


def unet_call_inputs(unet: Any, batch: int = 2, frames: int = 3, size: int = 8, seed: int = 0) -> tuple:
    """Random ``(sample, timestep, encoder_hidden_states, added_time_ids, pose_latents)`` for one UNet call."""
    g = torch.Generator().manual_seed(seed)
    cfg = unet.config
    sample = torch.randn(batch, frames, 2 * cfg.out_channels, size, size, generator=g)
    states = torch.randn(batch, 1 + cfg.num_face_tokens, cfg.cross_attention_dim, generator=g)
    ids = torch.tensor([[6.0, 127.0, 0.02]] * batch)
    pose = torch.randn(batch * frames, cfg.block_out_channels[0], size, size, generator=g)
    return sample, torch.tensor(10.0), states, ids, pose
