"""HJB face refinement benchmark: cost of fast vs exact mode, memory vs clip length, fast-mode loss quality.

    OMP_NUM_THREADS=1 .venv/bin/python bench/hjb.py [--fixture DIR] [--size 256] [--frames 16] [--skip-memory]

Configs: the public tiny fixture (its b_hjb run: 6 frames 64×96, 5 steps, refined steps 1..3, 2 iterations) and a
"medium" random-weight config (SIZE×SIZE, FRAMES frames, UNet (32, 64, 64), VAE (32, 32, 32, 32) with
layers_per_block 2 — so the decoder's global mid-block attention is active — random IResNet (1, 2, 2, 1) × (32, 64,
128, 128), 3 steps, refined step 1, 2 iterations, decode chunks of 4, faces ≈ SIZE/8 px moving boxes).

(a) wall time of the whole call (incl. final decode) with HJB fast / exact divided by the time without HJB, and the
    overhead ratio (t_fast − t_off) / (t_exact − t_off). Target ≤ 0.25.
(b) peak RSS of a fast-mode HJB call (medium config, tiles of 16) at 1×, 2×, 4× FRAMES frames, each in a fresh
    process; both the whole process peak and the growth during the call. Target: 4× ≤ 1.25 × 1×.
(c) the final face loss (exact loss of the final latents) after fast vs exact refinement of the same run, and
    without HJB. Target: |fast − exact| ≤ 10 % of exact.
Numbers are measured in this run only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _shared import DEFAULT_FIXTURE, peak_rss_mb  # noqa: E402  (bench/ is the script's folder)


def _proc_status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark (VmHWM) so the next reading is the peak of what follows (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------- configs


def medium_pipeline(seed: int = 0):
    from diffusers import AutoencoderKLTemporalDecoder

    from pipelines.face_embedder import IResNetFaceEmbedder
    from pipelines.hjb_pipeline import StableAnimatorHJBPipeline
    from pipelines.testing.tiny import tiny_components

    components = tiny_components(seed, unet_block_out_channels=(32, 64, 64))
    torch.manual_seed(seed + 1)
    components["vae"] = AutoencoderKLTemporalDecoder(
        block_out_channels=[32, 32, 32, 32],
        down_block_types=["DownEncoderBlock2D"] * 4,
        latent_channels=4,
        layers_per_block=2,
    )
    embedder = IResNetFaceEmbedder(
        layers=(1, 2, 2, 1), stage_channels=(32, 64, 128, 128), stem_channels=32, num_features=128
    )
    pipe = StableAnimatorHJBPipeline(**components, face_embedder=embedder)
    for module in (components["vae"], embedder):
        module.eval().requires_grad_(False)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def medium_inputs(size: int, frames: int, seed: int = 0) -> dict:
    """Reference photo (skimage astronaut), random pose frames, moving face boxes of ≈ size/8 px."""
    import PIL.Image
    from skimage import data

    rng = np.random.default_rng(seed)
    photo = PIL.Image.fromarray(data.astronaut()).resize((size * 3 // 2, size * 3 // 2), PIL.Image.BICUBIC)
    poses = [PIL.Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)) for _ in range(frames)]
    face = max(16, size // 8)
    boxes = []
    for k in range(frames):
        x0 = int(size * 0.4 + size * 0.1 * np.sin(k / 5))
        y0 = int(size * 0.1 + size * 0.03 * np.cos(k / 7))
        boxes.append((x0, y0, x0 + face - 1, y0 + face - 1))
    scale = 1.5  # the photo is 1.5× the output size; the astronaut's face sits around (0.33..0.5, 0.08..0.3)
    reference_box = (int(0.33 * size * scale), int(0.08 * size * scale), int(0.5 * size * scale), int(0.3 * size * scale))
    return {
        "image": photo,
        "pose_images": poses,
        "id_embedding": rng.standard_normal(32).astype(np.float32),
        "height": size,
        "width": size,
        "num_frames": frames,
        "face_boxes_xyxy": boxes,
        "reference_face_box_xyxy": reference_box,
    }


def fixture_setup(fixture: Path):
    from pipelines.hjb_pipeline import load_stable_animator_hjb_pipeline
    from pipelines.testing.fixture_context import load_context
    from pipelines.testing.fixture_hjb import hjb_call_kwargs

    pipe = load_stable_animator_hjb_pipeline(fixture / "checkpoints")
    pipe.set_progress_bar_config(disable=True)
    ctx = load_context(fixture)
    kwargs = hjb_call_kwargs(ctx, "b_hjb", ctx.run_params("b_hjb"))
    hjb = kwargs.pop("hjb")
    return pipe, kwargs, hjb


# ---------------------------------------------------------------------------------------------- measurements


def timed_run(pipe, kwargs: dict, hjb, seed: int) -> tuple[float, float, torch.Tensor, list[float]]:
    """Wall time of one call (incl. final decode), time spent in its Euler steps, final latents, HJB losses."""
    final = {}

    def keep(p, i, t, kw):
        final["latents"] = kw["latents"].clone()
        return {}

    call = dict(kwargs, generator=torch.Generator("cpu").manual_seed(seed), callback_on_step_end=keep)
    spent = [0.0]
    original = pipe._scheduler_step

    def timed_step(*args, **kw):  # time inside the Euler step = the HJB refinement on refined steps
        begin = time.perf_counter()
        try:
            return original(*args, **kw)
        finally:
            spent[0] += time.perf_counter() - begin

    pipe._scheduler_step = timed_step
    try:
        start = time.perf_counter()
        out = pipe(**call, hjb=hjb)
        total = time.perf_counter() - start
    finally:
        del pipe._scheduler_step
    return total, spent[0], final["latents"], out.hjb_losses


def final_face_loss(pipe, kwargs: dict, latents: torch.Tensor) -> float:
    """The exact HJB loss of ``latents`` (whole-frame decode in the run's chunks)."""
    from pipelines.hjb import HJBConfig, HJBFaceRefiner, vae_decode_fn

    frames = latents.shape[1]
    boxes = pipe._target_boxes(
        kwargs.get("face_boxes"), kwargs.get("face_boxes_xyxy"), kwargs.get("face_masks"),
        frames, kwargs["height"], kwargs["width"],
    )  # fmt: skip
    e_ref = pipe._reference_embedding(
        kwargs["image"], None, kwargs.get("reference_face_box"), kwargs.get("reference_face_box_xyxy"),
        kwargs.get("reference_face_mask"),
    )  # fmt: skip
    refiner = HJBFaceRefiner(
        pipe.face_embedder, e_ref, boxes, vae_decode_fn(pipe.vae), HJBConfig(enabled=True),
        decode_chunk_size=kwargs["decode_chunk_size"], vae_scale=pipe.vae_scale_factor,
    )  # fmt: skip
    return refiner.face_loss(latents)


def compare_modes(name: str, pipe, kwargs: dict, hjb, seed: int, repeats: int) -> dict:
    from dataclasses import replace

    results = {}
    for mode in ("off", "fast", "exact"):
        config = None if mode == "off" else replace(hjb, decode_mode=mode)
        times, steps = [], []
        for _ in range(repeats):
            seconds, in_steps, latents, losses = timed_run(pipe, kwargs, config, seed)
            times.append(seconds)
            steps.append(in_steps)
        results[mode] = {"seconds": min(times), "step_seconds": min(steps),
                         "final_loss": final_face_loss(pipe, kwargs, latents), "losses": losses}  # fmt: skip
    off, fast, exact = (results[m]["seconds"] for m in ("off", "fast", "exact"))
    s_off, s_fast, s_exact = (results[m]["step_seconds"] for m in ("off", "fast", "exact"))
    lf, le, lo = (results[m]["final_loss"] for m in ("fast", "exact", "off"))
    print(f"\n== {name} ==")
    print(f"  wall s (min of {repeats}): no HJB {off:.2f} | HJB fast {fast:.2f} | HJB exact {exact:.2f}")
    print(f"  (a) time(fast)/time(off) = {fast / off:.3f}   time(exact)/time(off) = {exact / off:.3f}")
    print(f"      overhead ratio (fast−off)/(exact−off) = {(fast - off) / (exact - off):.3f}   (target ≤ 0.25)")
    print(f"      time inside the Euler steps (the refinement itself): off {s_off:.2f} s | fast {s_fast:.2f} s | "
          f"exact {s_exact:.2f} s  →  fast/exact refinement cost = {(s_fast - s_off) / (s_exact - s_off):.3f}")
    print(f"  (c) final face loss: fast {lf:.5f} | exact {le:.5f} | no HJB {lo:.5f}   "
          f"|fast−exact|/exact = {abs(lf - le) / le:.3%}   (target ≤ 10 %)")  # fmt: skip
    print(f"      per-iteration losses fast  {[round(v, 4) for v in results['fast']['losses']]}")
    print(f"      per-iteration losses exact {[round(v, 4) for v in results['exact']['losses']]}")
    return results


def memory_child(size: int, frames: int, tile: int, output_type: str) -> None:
    """Runs in a fresh process: one fast-mode HJB call; prints JSON with peak RSS before and after the call."""
    from pipelines.hjb import HJBConfig

    torch.set_num_threads(1)
    pipe = medium_pipeline()
    kwargs = medium_inputs(size, frames)
    import gc

    gc.collect()
    reset = _reset_peak_rss()
    before = _proc_status_mb("VmRSS")
    out = pipe(
        **kwargs, tile_size=tile, tile_overlap=4, num_inference_steps=2, decode_chunk_size=4,
        generator=torch.Generator("cpu").manual_seed(0), output_type=output_type,
        hjb=HJBConfig(enabled=True, iterations=1, start_step=1, end_step=1, decode_mode="fast"),
    )  # fmt: skip
    assert len(out.hjb_losses) == 1
    call_peak = _proc_status_mb("VmHWM") if reset else float("nan")
    print(json.dumps({"before_mb": before, "call_peak_mb": call_peak, "peak_mb": peak_rss_mb()}))


def measure_memory(size: int, frames: int, output_type: str) -> None:
    rows = []
    for factor in (1, 2, 4):
        cmd = [sys.executable, __file__, "--child-memory", str(frames * factor), "--size", str(size),
               "--output-type", output_type]  # fmt: skip
        env = dict(os.environ, OMP_NUM_THREADS="1")
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    base = rows[0]
    print(f"\n== (b) peak RSS, fast-mode HJB, medium {size}x{size}, tiles of 16, output_type={output_type!r} ==")
    for factor, row in zip((1, 2, 4), rows, strict=True):
        print(f"  {factor}x ({frames * factor:3d} frames): peak RSS during the call {row['call_peak_mb']:7.1f} MB "
              f"(= {row['call_peak_mb'] / base['call_peak_mb']:.3f} × 1x; target 4x ≤ 1.25; RSS before the call "
              f"{row['before_mb']:.1f} MB)   whole-process peak {row['peak_mb']:7.1f} MB "
              f"(= {row['peak_mb'] / base['peak_mb']:.3f} × 1x)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixture", type=Path, default=DEFAULT_FIXTURE)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-medium", action="store_true")
    parser.add_argument("--skip-tiny", action="store_true")
    parser.add_argument("--child-memory", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--output-type", default="np", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.child_memory is not None:
        memory_child(args.size, args.child_memory, 16, args.output_type)
        return 0

    from pipelines.hjb import DEFAULT_FAST_MARGIN

    print(f"torch threads {torch.get_num_threads()}, HJB fast margin {DEFAULT_FAST_MARGIN} latent px")
    if not args.skip_memory:
        # First, while this process is small: Linux carries a parent's peak RSS into ru_maxrss of its children.
        measure_memory(args.size, args.frames, "np")
        measure_memory(args.size, args.frames, "latent")
    if not args.skip_tiny:
        pipe, kwargs, hjb = fixture_setup(args.fixture)
        compare_modes("tiny fixture b_hjb (6 frames 64x96, 5 steps, refine 1..3 × 2 it)", pipe, kwargs, hjb,
                      seed=int(kwargs["generator"].initial_seed()), repeats=3)  # fmt: skip
    if not args.skip_medium:
        from pipelines.hjb import HJBConfig

        pipe = medium_pipeline()
        kwargs = medium_inputs(args.size, args.frames)
        kwargs.update(tile_size=args.frames, tile_overlap=4, num_inference_steps=3, decode_chunk_size=4,
                      output_type="np")  # fmt: skip
        hjb = HJBConfig(enabled=True, iterations=2, start_step=1, end_step=1)
        compare_modes(f"medium random ({args.size}x{args.size}, {args.frames} frames, 3 steps, refine step 1 × 2 it)",
                      pipe, kwargs, hjb, seed=0, repeats=1)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
