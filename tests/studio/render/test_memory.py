"""The memory model (studio.memory) against measured CPU peaks, its settings planner, and ``render --dry-run``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.render.memory import MemoryModel, MemoryRequest

REPO = Path(__file__).resolve().parents[3]

# Three configurations whose peaks come from different phases: the VAE decode (tiny UNet, 3-frame chunks), one
# batch-2 UNet call (medium UNet, 8-frame tile) and two-call CFG with 4-frame decode chunks at a non-square size.
CASES = {
    "tiny-decode": {"unet": [32, 32], "width": 192, "height": 192, "frames": 6, "tile": 6, "batched_cfg": True,
                    "decode_chunk": 3},
    "medium-unet": {"unet": [64, 128, 256], "width": 256, "height": 256, "frames": 8, "tile": 8,
                    "batched_cfg": True, "decode_chunk": 1},
    "medium-two-call": {"unet": [64, 128, 256], "width": 256, "height": 160, "frames": 8, "tile": 4,
                        "batched_cfg": False, "decode_chunk": 4},
}


def _measure(spec: dict) -> dict:
    # glibc's mmap threshold fixed at its 128 KiB default: otherwise it rises after each free of a large block and
    # freed blocks of up to 32 MiB stay in the heap, so RSS would depend on the allocation history rather than on
    # the live memory this model predicts (see ALLOCATOR_SLACK).
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO), "MALLOC_MMAP_THRESHOLD_": "131072"}
    out = subprocess.run([sys.executable, "-m", "tests.studio.memory_probe", json.dumps(spec)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", sorted(CASES))
def test_prediction_within_20_percent_of_the_measured_cpu_peak(case):
    from pipelines.testing.tiny import tiny_pipeline

    spec = CASES[case]
    model = MemoryModel.for_pipeline(tiny_pipeline(unet_block_out_channels=tuple(spec["unet"])))
    estimate = model.estimate(MemoryRequest(spec["width"], spec["height"], spec["frames"], spec["tile"],
                                            spec["decode_chunk"], spec["batched_cfg"]))
    measured = _measure(spec)
    # The render's memory above the weights (the tiny weights, a few MB, are below RSS noise).
    ratio = estimate.activations / measured["peak_over_weights"]
    assert 0.8 <= ratio <= 1.2, f"{case}: predicted {estimate.activations / 1e6:.0f} MB, measured " \
                                f"{measured['peak_over_weights'] / 1e6:.0f} MB ({estimate.breakdown()})"
    assert abs(estimate.weights - measured["weights"]) <= 0.02 * measured["weights"] + 200_000


@pytest.fixture(scope="module")
def medium_model():
    from pipelines.testing.tiny import tiny_pipeline

    return MemoryModel.for_pipeline(tiny_pipeline(unet_block_out_channels=(64, 128, 256)))


def test_planner_tries_cheaper_settings_in_order_and_never_touches_quality(medium_model):
    wanted = MemoryRequest(320, 320, 12, tile_size=12, decode_chunk=2, device="cuda", dtype="bf16")
    full = medium_model.estimate(wanted)
    assert full.largest_phase == "unet"
    assert medium_model.plan(wanted, full.total).choices == []  # fits: nothing changed

    two_call = medium_model.estimate(MemoryRequest(320, 320, 12, 12, 2, batched_cfg=False, device="cuda",
                                                   dtype="bf16"))
    assert two_call.total < full.total
    plan = medium_model.plan(wanted, two_call.total)
    assert plan.fits and not plan.request.batched_cfg and plan.request.decode_chunk == 2
    assert any("two UNet calls" in c for c in plan.choices)

    tight = medium_model.plan(wanted, full.weights + 1)  # nothing fits: the most frugal plan, said so
    assert not tight.fits and tight.request.offload == "sequential" and tight.request.decode_chunk == 1
    assert any("decode chunk 1" in c for c in tight.choices) and any("sequential" in c for c in tight.choices)
    for plan in (tight,):
        assert (plan.request.tile_size, plan.request.width, plan.request.height, plan.request.frames) == (12, 320, 320, 12)

    on_cpu = medium_model.plan(MemoryRequest(320, 320, 12, 12, 2), 1)
    assert on_cpu.request.offload == "none"  # offload only exists on CUDA


def test_prediction_grows_with_frames_tile_and_size(medium_model):
    small = medium_model.estimate(MemoryRequest(256, 256, 8, 8, 2))
    two_call = medium_model.estimate(MemoryRequest(256, 256, 8, 8, 2, batched_cfg=False))
    assert two_call.phases["unet"] < 0.6 * small.phases["unet"]
    assert medium_model.estimate(MemoryRequest(256, 256, 16, 16, 2)).phases["unet"] > 1.8 * small.phases["unet"]
    assert medium_model.estimate(MemoryRequest(512, 512, 8, 8, 2)).phases["unet"] > 3.5 * small.phases["unet"]
    half = medium_model.estimate(MemoryRequest(256, 256, 8, 8, 2, dtype="bf16"))
    assert half.weights * 2 == pytest.approx(small.weights, rel=0.01)


def test_dry_run_prints_the_prediction_and_renders_nothing(tiny_fixture_dir, tmp_path):
    poses = tiny_fixture_dir / "inputs" / "poses"
    cmd = [sys.executable, "-m", "studio", "render", "--reference", str(tiny_fixture_dir / "inputs" / "reference.png"),
           "--motion", str(poses), "--models", str(tiny_fixture_dir / "checkpoints"), "--width", "256",
           "--height", "256", "--device", "cpu", "--dtype", "fp32", "--max-memory", "0.05", "--dry-run"]
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    out = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    frames = len([p for p in poses.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg")])
    assert f"{frames} frames at 256x256" in out.stdout and "needs ≈" in out.stdout and "on cpu fp32" in out.stdout
    assert "to fit 0.05 GB the renderer would use: two UNet calls" in out.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written
    assert 0 < float(out.stdout.split("needs ≈ ")[1].split(" GB")[0]) < 5


def test_request_memory_line_is_the_settings_summary_of_the_first_tile(tiny_fixture_dir):
    from studio.render.memory import request_memory_line, settings_summary
    from studio.request.render_request import RenderRequest

    models = str(tiny_fixture_dir / "checkpoints")
    request = RenderRequest(reference="p.png", motion="m.mp4", engine="diffusion", models=models, device="cpu",
                            dtype="fp32", width=256, height=256, tile_size=8, max_frames=None, decode_chunk=2,
                            cpu_offload=False)
    line = request_memory_line(request)
    summary = settings_summary(models, 256, 256, 8, 8, 2, request.hjb.decode_mode if request.hjb.enabled else None,
                               "cpu", "fp32", False)
    assert line == summary + " (for 8 frames)"  # no frame limit: one tile of frames
    # every 3rd of 9 frames and the last: frames 0, 3, 6 and 8 rendered, 5 filled from 3 pairs (the flow's time
    # at 256²: 0.0655 MP · (3 · 0.18 + 5 · 0.22) s/MP = 0.1 s; studio.interpolation.cost)
    assert request_memory_line(request.replace(max_frames=9, interpolate=3)).endswith(
        "(for 9 frames); of 9 driving frames it renders about 4 of them and interpolates 5 frames (≈ 0.1 s on the "
        "CPU)")
