"""Peak CPU memory over the weights of the released-size model (random weights, fp32), measured and predicted.

    nice python bench/real_size.py            # everything (~10 min on 2 cores, ~9 GB RAM)
    nice python bench/real_size.py --only unet-b2-f2 --only posenet-16     # these rows, in this order

Each measurement runs in a fresh process: the module(s) are built on the meta device at the released sizes
(``pipelines.real_size``) and materialised with random values, a small warm-up call loads lazy kernels, the
resident-set high-water mark is reset (``/proc/self/clear_refs`` ← 5), then the measured call runs once and
``VmHWM − VmRSS-before`` is its peak over the weights. Nothing is downloaded. The predicted column is
``studio.render.memory``'s traced working set plus its CPU slack (what ``render --dry-run`` adds up).

With ``MALLOC_MMAP_THRESHOLD_=131072`` in the environment (inherited by every row's process) glibc returns freed
blocks at once, so the RSS peak is the live memory the model predicts; with glibc's default it also holds freed
heap (see ``studio.render.memory.ALLOCATOR_SLACK``).

Target (issue 11): one UNet call at 512², 2 frames, batched CFG ≤ 1.2 GB over the weights; roughly linear and
small per added frame.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _shared import REPO

SIZE = 512
LATENT = SIZE // 8
DECODE_CHUNK = 2  # the studio's default is 4; 2 halves this row's minutes on a 2-core CPU (memory scales ~linearly)
POSE_FRAMES = 16
HJB_CHUNK = 1  # one frame per HJB decode chunk: the exact mode's backward through the VAE at 512² needs GBs/frame

MEASUREMENTS = [
    *[(f"unet-b2-f{f}", "unet", {"batch": 2, "frames": f}) for f in (1, 2, 4)],
    *[(f"unet-2call-f{f}", "unet", {"batch": 1, "frames": f, "calls": 2}) for f in (1, 2, 4)],
    (f"vae-decode-{DECODE_CHUNK}", "decode", {"chunk": DECODE_CHUNK}),
    ("posenet-16", "pose", {"frames": POSE_FRAMES}),
    ("hjb-fast", "hjb", {"mode": "fast"}),
    ("hjb-exact", "hjb", {"mode": "exact"}),
]


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def _face_box(size: int) -> tuple[int, int, int, int]:
    """A centred face box (y0, y1, x0, x1 inclusive) of the side the memory model assumes for fast mode."""
    from studio.render.memory import HJB_FACE_FRACTION

    side = int(HJB_FACE_FRACTION * size)
    start = (size - side) // 2
    return (start, start + side - 1, start, start + side - 1)


def measure(kind: str, params: dict) -> dict:
    """Child process: build, warm up, reset the high-water mark, run once; peak over the weights and seconds."""
    import torch

    from pipelines.real_size import SVD_XT_UNET_CONFIG, materialise, real_modules_on_meta

    torch.manual_seed(0)
    modules = real_modules_on_meta()
    start_rss = _status("VmRSS")
    if kind == "unet":
        unet = materialise(modules["unet"])
        c0, cross = SVD_XT_UNET_CONFIG["block_out_channels"][0], SVD_XT_UNET_CONFIG["cross_attention_dim"]

        def call(batch, frames, h):
            sample = torch.randn(batch, frames, 8, h, h)
            states, ids = torch.randn(batch, 5, cross), torch.tensor([[6.0, 127.0, 0.02]] * batch)
            pose = torch.randn(batch * frames, c0, h, h)
            return unet(sample, torch.tensor(1.0), states, ids, pose_latents=pose, return_dict=False)[0]

        with torch.no_grad():
            call(1, 1, 8)
            run = lambda: [call(params["batch"], params["frames"], LATENT) for _ in range(params.get("calls", 1))]  # noqa: E731
            return _timed(run, start_rss)
    if kind == "decode":
        vae = materialise(modules["vae"])
        with torch.no_grad():
            vae.decode(torch.randn(1, 4, 8, 8), num_frames=1)
            latents = torch.randn(params["chunk"], 4, LATENT, LATENT)
            return _timed(lambda: vae.decode(latents, num_frames=params["chunk"]).sample.float(), start_rss)
    if kind == "pose":
        pose_net = materialise(modules["pose_net"])
        with torch.no_grad():
            pose_net(torch.randn(1, 3, 64, 64))
            pixels = torch.rand(params["frames"], 3, SIZE, SIZE)
            return _timed(lambda: pose_net(pixels), start_rss)
    if kind == "hjb":
        from pipelines.hjb import HJBConfig, HJBFaceRefiner, vae_decode_fn

        vae, embedder = materialise(modules["vae"]), materialise(modules["face_embedder"], seed=1)
        box = _face_box(SIZE)

        def refiner(size: int, face_box):
            return HJBFaceRefiner(embedder=embedder, reference_embedding=torch.randn(1, 512), face_boxes=[face_box],
                                  decode=vae_decode_fn(vae), config=HJBConfig(enabled=True, decode_mode=params["mode"]),
                                  decode_chunk_size=HJB_CHUNK, vae_scale=8)

        refiner(64, (8, 55, 8, 55)).loss_and_grad(torch.randn(1, 4, 8, 8))
        latents = torch.randn(HJB_CHUNK, 4, LATENT, LATENT)
        return _timed(lambda: refiner(SIZE, box).loss_and_grad(latents), start_rss)
    raise ValueError(kind)


def _timed(run, start_rss: int) -> dict:
    weights = _status("VmRSS") - start_rss
    Path("/proc/self/clear_refs").write_text("5")
    before = _status("VmRSS")
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    return {"peak": _status("VmHWM") - before, "weights_rss": weights, "seconds": seconds}


def predict(kind: str, params: dict, model) -> int:
    """``studio.render.memory``'s prediction for the same call (traced working set + CPU slack)."""
    from studio.render.memory import ALLOCATOR_SLACK, MemoryRequest

    slack = 1 + ALLOCATOR_SLACK["cpu"]
    if kind == "unet":
        return int(slack * model._trace("unet", params["batch"], params["frames"], LATENT, LATENT, "fp32"))
    if kind == "decode":
        return int(slack * (model._trace("decode", params["chunk"], LATENT, LATENT, "fp32")
                            + params["chunk"] * 3 * SIZE * SIZE * 4))
    if kind == "pose":
        return int(slack * model._trace("pose", params["frames"], SIZE, SIZE, "fp32"))
    request = MemoryRequest(SIZE, SIZE, HJB_CHUNK, decode_chunk=HJB_CHUNK, hjb=params["mode"])
    return int(slack * model._hjb_peak(request))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", help="run only these measurement names")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, params = json.loads(args.child)
        print(json.dumps(measure(kind, params)))
        return 0

    from studio.render.memory import MemoryModel

    model = MemoryModel.released()
    print(f"released-size StableAnimator, random weights, fp32, CPU ({os.cpu_count()} cores), {SIZE}x{SIZE}; "
          "peak = RSS high-water mark over the weights, one process per row")
    print(f"{'measurement':<16} {'weights GB':>10} {'peak GB':>8} {'predicted':>9} {'pred/meas':>9} {'s/call':>7}")
    results = {}
    rows = {name: (kind, params) for name, kind, params in MEASUREMENTS}
    for name in args.only or rows:
        if name not in rows:
            parser.error(f"unknown measurement {name!r}; choose from {', '.join(rows)}")
        kind, params = rows[name]
        env = os.environ | {"PYTHONPATH": str(REPO)}
        out = subprocess.run([sys.executable, __file__, "--child", json.dumps([kind, params])], env=env,
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"{name:<16} failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
            continue
        got = json.loads(out.stdout.strip().splitlines()[-1])
        predicted = predict(kind, params, model)
        results[name] = got
        calls = params.get("calls", 1)
        print(f"{name:<16} {got['weights_rss'] / 1e9:>10.2f} {got['peak'] / 1e9:>8.3f} {predicted / 1e9:>9.3f} "
              f"{predicted / got['peak']:>9.2f} {got['seconds'] / calls:>7.1f}", flush=True)
    if "unet-b2-f2" in results:
        peak = results["unet-b2-f2"]["peak"] / 1e9
        print(f"target: 512², 2 frames, batched CFG ≤ 1.2 GB over the weights: {peak:.3f} GB "
              f"({'met' if peak <= 1.2 else 'NOT met'})")
    if "unet-b2-f1" in results and "unet-b2-f4" in results:
        per_frame = (results["unet-b2-f4"]["peak"] - results["unet-b2-f1"]["peak"]) / 3 / 1e9
        print(f"memory per added frame (batched CFG, 512²): {per_frame:.3f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
