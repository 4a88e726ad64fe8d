"""Spatial self-attention runs through F.scaled_dot_product_attention; the classic softmax(QKᵀ)V path (diffusers'
``AttnProcessor``) is only this test's oracle."""

from __future__ import annotations

import torch
from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0

from pipelines.attention_processor import AnimationAttnProcessor
from pipelines.testing.tiny import unet_call_inputs


def _use_classic_spatial_attention(unet):
    unet.set_attn_processor({name: AttnProcessor() if isinstance(proc, AnimationAttnProcessor) else proc
                             for name, proc in unet.attn_processors.items()})


def test_spatial_self_attention_is_sdpa_by_default(fixture_pipe):
    spatial = [p for n, p in fixture_pipe.unet.attn_processors.items() if n.endswith("attn1.processor")
               and ".temporal_" not in n]
    assert spatial and all(isinstance(p, AttnProcessor2_0) for p in spatial)


def test_sdpa_matches_the_classic_oracle_on_the_fixture_unet(tiny_fixture_dir):
    from pipelines.loading import load_stable_animator_pipeline

    pipe = load_stable_animator_pipeline(tiny_fixture_dir / "checkpoints")  # own copy: processors get swapped
    sample, t, states, ids, pose = unet_call_inputs(pipe.unet)
    with torch.no_grad():
        sdpa = pipe.unet(sample, t, states, ids, pose_latents=pose, return_dict=False)[0]
        _use_classic_spatial_attention(pipe.unet)
        classic = pipe.unet(sample, t, states, ids, pose_latents=pose, return_dict=False)[0]
    # fp32 rounding only: a different summation order in the softmax and the two matmuls (docs/model.md §17: ≤ 4e-6 on
    # frames); relative to the output scale, 1e-5 leaves room for another CPU's kernels.
    assert (sdpa - classic).abs().max() <= 1e-5 * max(1.0, classic.abs().max().item())


def test_sdpa_needs_far_less_memory_than_full_attention_matrices():
    """Traced on the meta device at 64×64 latents (512² output): the classic path holds [heads, L, L] scores."""
    from pipelines.memory_trace import module_tensors, traced_peak_bytes
    from pipelines.real_size import build_on_meta
    from pipelines.testing.tiny import tiny_unet_config
    from pipelines.unet import StableAnimatorUNet

    unet = build_on_meta(lambda: StableAnimatorUNet.from_config(tiny_unet_config((64, 64), 64, 16)))
    with torch.device("meta"):
        args = [torch.empty(2, 2, 8, 64, 64), torch.empty(()), torch.empty(2, 5, 64), torch.empty(2, 3),
                torch.empty(4, 64, 64, 64)]

    def peak():
        call = lambda: unet(*args[:4], pose_latents=args[4], return_dict=False)[0]  # noqa: E731
        with torch.no_grad():
            return traced_peak_bytes(call, [*module_tensors(unet), *args])

    sdpa = peak()
    _use_classic_spatial_attention(unet)
    classic = peak()
    scores = 4 * 4 * 4096 * 4096 * 4  # batch·frames × heads × L × L fp32: the matrix SDPA never stores
    assert classic - sdpa >= scores
