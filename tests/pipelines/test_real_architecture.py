"""Modules built with the REAL StableAnimator sizes (on the meta device: no memory) have exactly the official
state-dict keys and shapes listed in the official key listings (`tests/data/stableanimator-keys/*.tsv`)."""

from __future__ import annotations

import torch

from pipelines import FusionFaceId, PoseNet, StableAnimatorUNet
from pipelines.attention_processor import AnimationAttnProcessor, AnimationIDAttnNormalizedProcessor
from pipelines.real_size import SVD_XT_UNET_CONFIG
from tests.data_paths import key_listing

SVD_XT_UNET = SVD_XT_UNET_CONFIG


def _official(name: str) -> dict[str, tuple[int, ...]]:
    path = key_listing(name)
    out = {}
    for line in path.read_text().splitlines():
        key, shape, *_ = line.split("\t")
        if key == "key" or not shape.startswith("["):
            continue
        out[key] = tuple(int(s) for s in shape.strip("[]").split(",") if s.strip())
    return out


def _shapes(module: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def test_unet_matches_official_keys():
    with torch.device("meta"):
        unet = StableAnimatorUNet.from_config(SVD_XT_UNET)
    assert _shapes(unet) == _official("unet_with_id_adapter.tsv")
    procs = unet.attn_processors
    assert len(procs) == 64
    id_procs = {k: p for k, p in procs.items() if isinstance(p, AnimationIDAttnNormalizedProcessor)}
    assert len(id_procs) == 16 and sum(isinstance(p, AnimationAttnProcessor) for p in procs.values()) == 16
    assert id_procs["up_blocks.1.attentions.0.transformer_blocks.0.attn2.processor"].hidden_size == 1280
    assert id_procs["up_blocks.3.attentions.2.transformer_blocks.0.attn2.processor"].hidden_size == 320


def test_pose_net_and_face_encoder_match_official_keys():
    with torch.device("meta"):
        pose_net = PoseNet(noise_latent_channels=320)
        face = FusionFaceId(
            cross_attention_dim=1024, id_embeddings_dim=512, clip_embeddings_dim=1024, num_tokens=4
        )
    assert _shapes(pose_net) == _official("pose_net.tsv")
    assert _shapes(face) == _official("face_encoder.tsv")
