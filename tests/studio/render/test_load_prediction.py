"""The memory model's load phase, ``render --dry-run --json``, and the engine's refusal of non-finite output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from studio.errors import StudioError
from studio.render.memory import RUNTIME_BYTES, MemoryModel, MemoryRequest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def fixture_model(tiny_fixture_dir):
    return MemoryModel.for_folder(tiny_fixture_dir / "checkpoints")


def _largest_tensor(model: MemoryModel) -> int:
    return max(p.numel() for name, m in model.modules.items() if name != "face_embedder" for p in m.parameters())


def test_loading_fp32_on_the_cpu_needs_the_weights_alone(fixture_model):
    estimate = fixture_model.estimate(MemoryRequest(256, 256, 2, device="cpu", dtype="fp32"))
    assert estimate.load == 0 and estimate.load_peak == estimate.runtime + estimate.weights
    assert estimate.total == estimate.runtime + estimate.weights + max(estimate.load, estimate.activations)
    assert estimate.runtime > 0  # the process's libraries are part of a CPU render's peak


def test_the_process_itself_counts_on_the_cpu_not_on_a_gpu(fixture_model):
    cpu = fixture_model.estimate(MemoryRequest(256, 256, 2, device="cpu", dtype="fp16"))
    gpu = fixture_model.estimate(MemoryRequest(256, 256, 2, device="cuda", dtype="fp16"))
    assert gpu.runtime == 0 and cpu.runtime == RUNTIME_BYTES["cpu"]
    assert cpu.total - cpu.runtime == cpu.weights + max(cpu.load, cpu.activations)


def test_a_cast_while_loading_costs_one_staging_tensor_of_file_bytes(fixture_model):
    estimate = fixture_model.estimate(MemoryRequest(256, 256, 2, device="cpu", dtype="bf16"))
    # the weights arrive in bf16, each read through a staging buffer as large as the largest fp32 tensor
    assert estimate.load == 4 * _largest_tensor(fixture_model)
    assert estimate.load_peak == estimate.runtime + estimate.weights + estimate.load
    assert estimate.total >= estimate.load_peak


def test_dry_run_json_prints_one_json_object(tiny_fixture_dir, tmp_path):
    poses = tiny_fixture_dir / "inputs" / "poses"
    cmd = [sys.executable, "-m", "studio", "render", "--reference", str(tiny_fixture_dir / "inputs" / "reference.png"),
           "--motion", str(poses), "--models", str(tiny_fixture_dir / "checkpoints"), "--width", "256",
           "--height", "256", "--device", "cpu", "--dtype", "bf16", "--max-memory", "0.05", "--dry-run", "--json"]
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    out = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    printed = json.loads(out.stdout)  # the whole of stdout, nothing else
    frames = len([p for p in poses.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg")])
    assert printed["frames"] == frames and printed["dtype"] == "bf16" and printed["device"] == "cpu"
    base = printed["runtime_bytes"] + printed["weights_bytes"]
    assert printed["total_bytes"] == base + max(printed["load_bytes"], printed["render_peak_bytes"] - base)
    assert printed["load_peak_bytes"] == base + printed["load_bytes"] > base
    assert printed["plan"]["choices"][0].startswith("two UNet calls") and printed["budget_bytes"] == 50_000_000
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_model_output_is_an_error_not_black_frames(bad):
    from studio.render.diffusion_engine import _require_finite

    latents = torch.zeros(1, 2, 4, 8, 8, dtype=torch.bfloat16)
    _require_finite(latents, "in the denoised latents")  # finite: nothing happens
    latents[0, 1, 2, 3, 4] = bad
    with pytest.raises(StudioError, match=r"NaN or infinite values in the denoised latents \(computed in bfloat16\)"):
        _require_finite(latents, "in the denoised latents")
