"""Half precision follows the original: the pipeline in bf16 (what the studio picks on Ampere+ GPUs), the VAE upcast
to fp32 only for the conditioning-image encode (``force_upcast``), the HJB face embedder in fp32."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pipelines.loading import load_stable_animator_pipeline
from pipelines.testing.fixture_context import basic_call_kwargs


@pytest.fixture(scope="module")
def bf16_pipe(tiny_fixture_dir):
    pipe = load_stable_animator_pipeline(tiny_fixture_dir / "checkpoints", device="cpu", dtype=torch.bfloat16)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_bf16_frames_stay_close_to_fp32(bf16_pipe, fixture_ctx, tiny_fixture_dir):
    """bf16 keeps 8 significant bits: one rounding of a value near 1 is up to 2^-9 ≈ 0.002, and the frames pass
    through ~25 UNet evaluations and the VAE decoder, whose errors add up like a random walk. Measured on both basic
    runs (CPU, 1–2 threads): mean abs 0.005–0.0064, max abs 0.059 (isolated pixels where a GroupNorm over a
    low-variance group amplifies the rounding). Bounds: mean ≤ 0.02 (~10 half-ulps at 1.0) and max ≤ 0.15 —
    loose enough for another CPU's bf16 kernels, tight enough to catch a wrong dtype path (e.g. fp16 overflow, a
    VAE decoded without scaling, or a bf16 conditioning encode: those move frames by > 0.1 on average)."""
    for run in ("a_basic",):  # c_tiled (measured: mean 0.0064, max 0.059) adds a minute of slow CPU bf16
        frames = bf16_pipe(**basic_call_kwargs(fixture_ctx, run, fixture_ctx.run_params(run))).frames[0]
        expected = np.load(tiny_fixture_dir / "runs" / run / "frames.npy")  # the fp32 reference
        assert frames.dtype == np.float32 and frames.shape == expected.shape
        diff = np.abs(frames - expected)
        assert diff.mean() <= 0.02, (run, float(diff.mean()))
        assert diff.max() <= 0.15, (run, float(diff.max()))


def test_conditioning_encode_is_upcast_to_fp32_and_back(bf16_pipe, fixture_ctx, monkeypatch):
    assert bf16_pipe.vae.config.force_upcast
    seen = []
    original = bf16_pipe.vae.encode
    monkeypatch.setattr(bf16_pipe.vae, "encode", lambda x, *a, **k: seen.append((x.dtype, bf16_pipe.vae.dtype))
                        or original(x, *a, **k))
    kwargs = basic_call_kwargs(fixture_ctx, "a_basic", fixture_ctx.run_params("a_basic"))
    bf16_pipe(**kwargs | {"num_inference_steps": 1, "output_type": "latent"})
    assert seen == [(torch.float32, torch.float32)]
    assert bf16_pipe.vae.dtype == torch.bfloat16 and bf16_pipe.unet.dtype == torch.bfloat16


def test_hjb_embedder_stays_fp32_in_a_bf16_pipeline(bf16_pipe, tiny_fixture_dir):
    from pipelines.hjb_pipeline import hjb_pipeline_from, load_face_embedder

    hjb = hjb_pipeline_from(bf16_pipe, load_face_embedder(tiny_fixture_dir / "checkpoints"))
    assert hjb.face_embedder.dtype == torch.float32 and hjb.unet.dtype == torch.bfloat16
