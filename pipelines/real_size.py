"""The released StableAnimator's sizes (SVD-xt backbone, docs/model.md §2–§5), for memory models and benchmarks.

Nothing is downloaded: modules are built from these configs on the meta device (no memory, about a second for the
1.5 B-parameter UNet) and, when real tensors are wanted, materialised with random values in place — far faster than
the default initialisers, which run per-parameter ``kaiming``/``xavier`` on the CPU.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

#: ``SVD/unet/config.json`` of stable-video-diffusion-img2vid-xt.
SVD_XT_UNET_CONFIG: dict[str, Any] = {
    "sample_size": 96,
    "in_channels": 8,
    "out_channels": 4,
    "down_block_types": ["CrossAttnDownBlockSpatioTemporal"] * 3 + ["DownBlockSpatioTemporal"],
    "up_block_types": ["UpBlockSpatioTemporal"] + ["CrossAttnUpBlockSpatioTemporal"] * 3,
    "block_out_channels": [320, 640, 1280, 1280],
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 768,
    "layers_per_block": 2,
    "cross_attention_dim": 1024,
    "transformer_layers_per_block": 1,
    "num_attention_heads": [5, 10, 20, 20],
    "num_frames": 25,
}

#: ``SVD/vae/config.json`` (the temporal decoder VAE; its defaults in diffusers are these values).
SVD_XT_VAE_CONFIG: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "latent_channels": 4,
    "sample_size": 768,
    "scaling_factor": 0.18215,
    "force_upcast": True,
}

#: ``SVD/image_encoder/config.json``: CLIP ViT-H/14 vision tower with a 1024-d projection.
SVD_XT_CLIP_CONFIG: dict[str, Any] = {
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_attention_heads": 16,
    "num_hidden_layers": 32,
    "image_size": 224,
    "patch_size": 14,
    "projection_dim": 1024,
    "hidden_act": "gelu",
}

#: FusionFaceId of ``Animation/face_encoder.pth`` (512-d ArcFace input, 4 tokens of the UNet's width).
FACE_ENCODER_CONFIG: dict[str, int] = {
    "cross_attention_dim": 1024,
    "id_embeddings_dim": 512,
    "clip_embeddings_dim": 1024,
    "num_tokens": 4,
}


def build_on_meta(factory) -> torch.nn.Module:
    """``factory()`` on the meta device, then every leftover CPU tensor moved there too (diffusers' time mixers
    create their ``mix_factor`` with the legacy ``torch.Tensor([...])`` constructor, which ignores the device)."""
    with torch.device("meta"):
        module = factory()
    return module.to("meta").eval().requires_grad_(False)


def real_modules_on_meta(with_face_embedder: bool = True) -> dict[str, torch.nn.Module]:
    """Every released-size module (UNet, VAE, CLIP, PoseNet, FusionFaceId, iresnet100) on the meta device."""
    from diffusers import AutoencoderKLTemporalDecoder
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from .face_embedder import IResNetFaceEmbedder
    from .face_encoder import FusionFaceId
    from .pose_net import PoseNet
    from .unet import StableAnimatorUNet

    modules = {
        "unet": build_on_meta(lambda: StableAnimatorUNet.from_config(copy.deepcopy(SVD_XT_UNET_CONFIG))),
        "vae": build_on_meta(lambda: AutoencoderKLTemporalDecoder.from_config(dict(SVD_XT_VAE_CONFIG))),
        "image_encoder": build_on_meta(
            lambda: CLIPVisionModelWithProjection(
                CLIPVisionConfig(**SVD_XT_CLIP_CONFIG, attn_implementation="eager")  # type: ignore[call-arg]  # a PretrainedConfig keyword transformers does not annotate
            )
        ),
        "pose_net": build_on_meta(lambda: PoseNet(noise_latent_channels=SVD_XT_UNET_CONFIG["block_out_channels"][0])),
        "face_encoder": build_on_meta(lambda: FusionFaceId(**FACE_ENCODER_CONFIG)),
    }
    if with_face_embedder:
        modules["face_embedder"] = build_on_meta(IResNetFaceEmbedder)
    return modules


@torch.no_grad()
def materialise(
    module: torch.nn.Module, dtype: torch.dtype = torch.float32, seed: int = 0, device: str | torch.device = "cpu"
) -> torch.nn.Module:
    """Give a meta module real storage on ``device`` filled with small random values (std 0.02; norms' weights 1).

    Random weights are all a memory or speed measurement needs; the values are kept small so activations stay
    finite through 60+ residual blocks."""
    module = module.to_empty(device=device).to(dtype)
    generator = torch.Generator(device=device).manual_seed(seed)
    for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
        if not tensor.is_floating_point():
            tensor.zero_()
        elif "norm" in name and name.endswith("weight") or name.endswith("running_var"):
            tensor.fill_(1.0)
        elif name.endswith("bias") or name.endswith("running_mean"):
            tensor.zero_()
        else:
            tensor.copy_(torch.randn(tensor.shape, generator=generator, device=device) * 0.02)
    return module


def parameter_bytes(module: torch.nn.Module, dtype: torch.dtype | None = None) -> int:
    """Bytes of the module's parameters and buffers, in ``dtype`` (floating tensors) or as they are."""
    total = 0
    for tensor in [*module.parameters(), *module.buffers()]:
        size = torch.empty((), dtype=dtype).element_size() if dtype and tensor.is_floating_point() else tensor.element_size()
        total += tensor.numel() * size
    return total
