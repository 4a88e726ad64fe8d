"""Benchmark: seconds per denoising step and peak RSS, batched CFG vs the reference's two UNet calls per tile.

    OMP_NUM_THREADS=1 .venv/bin/python bench/pipeline.py [--fixture DIR] [--steps N] [--threads T]

Every (config, variant) runs in its own subprocess so peak RSS is honest. Configs: the public tiny fixture
(its checkpoints, a_basic-like settings) and a medium random UNet (block_out_channels (64, 128, 256, 256),
head dim 64, 14 frames at 256×256, one tile). Seconds per step = mean interval between step-end callbacks,
first step excluded (warm-up). Ratios are measured in this one run; absolute numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _shared import DEFAULT_FIXTURE, peak_rss_mb  # bench/ is the script's folder


def _child(config: str, batched: bool, steps: int, fixture: Path, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    if config == "tiny-fixture":
        from pipelines.loading import load_stable_animator_pipeline
        from pipelines.testing.fixture_context import load_context

        ctx = load_context(fixture)
        pipe = load_stable_animator_pipeline(fixture / "checkpoints")
        frames = 6
        args = {"image": ctx.reference, "pose_images": ctx.poses[:frames], "id_embedding": ctx.id_embedding,
                "height": ctx.height, "width": ctx.width, "num_frames": frames, "tile_size": frames}  # fmt: skip
    else:
        from pipelines.testing.tiny import tiny_inputs, tiny_pipeline

        pipe = tiny_pipeline(seed=0, unet_block_out_channels=(64, 128, 256, 256), attention_head_dim=64)
        frames = 14
        args = tiny_inputs(num_frames=frames, height=256, width=256) | {"tile_size": frames}
    pipe.set_progress_bar_config(disable=True)
    stamps: list[float] = []
    calls = []

    def on_step(p, i, t, kw):
        stamps.append(time.perf_counter())
        return {}

    start = time.perf_counter()
    pipe(**args, num_inference_steps=steps, tile_overlap=4, max_guidance_scale=3.0, output_type="latent",
         generator=torch.Generator("cpu").manual_seed(0), batched_cfg=batched, callback_on_step_end=on_step,
         callback_on_unet_call=lambda d, n: calls.append(d))  # fmt: skip
    intervals = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    first = stamps[0] - start
    return {
        "config": config,
        "batched": batched,
        "frames": frames,
        "unet_params_m": sum(p.numel() for p in pipe.unet.parameters()) / 1e6,
        "unet_calls": len(calls),
        "s_per_step": sum(intervals) / len(intervals) if intervals else first,
        "first_step_s": first,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixture", type=Path, default=DEFAULT_FIXTURE)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "BATCHED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child[0], args.child[1] == "1", args.steps, args.fixture, args.threads)))
        return 0

    results = {}
    for config in ("tiny-fixture", "medium"):
        for batched in (False, True):
            cmd = [sys.executable, __file__, "--child", config, "1" if batched else "0", "--steps", str(args.steps),
                   "--fixture", str(args.fixture), "--threads", str(args.threads)]  # fmt: skip
            env = os.environ | {"OMP_NUM_THREADS": str(args.threads)}
            out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
            if out.returncode:
                print(out.stderr[-2000:], file=sys.stderr)
                return out.returncode
            results[(config, batched)] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"steps={args.steps} threads={args.threads} (seconds per denoising step exclude the first step)")
    print(f"{'config':<14}{'variant':<10}{'UNet M':>8}{'calls':>7}{'s/step':>10}{'peak RSS MB':>13}")
    for (config, batched), r in results.items():
        variant = "batched" if batched else "two-call"
        print(
            f"{config:<14}{variant:<10}{r['unet_params_m']:>8.2f}{r['unet_calls']:>7}{r['s_per_step']:>10.3f}{r['peak_rss_mb']:>13.0f}"
        )
    for config in ("tiny-fixture", "medium"):
        b, t = results[(config, True)], results[(config, False)]
        print(f"{config}: batched/two-call time per step = {b['s_per_step'] / t['s_per_step']:.2f}, "
              f"peak RSS = {b['peak_rss_mb'] / t['peak_rss_mb']:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
