"""The released-size model on a GPU (random weights): seconds per output frame, peak VRAM, torch.compile and
channels-last effects, and whether a 576×1024 render fits in 24 GB.

    python bench/gpu.py                         # cuda, bf16, 512×512, 16 frames in 16-frame tiles, 25 steps
    python bench/gpu.py --models /data/synthetic-release   # the same from a release-shaped folder (real files):
                                                           # load time vs reading the bytes, load peak, HJB fast
    python bench/gpu.py --tiny --device cpu --variants eager,channels_last   # CPU smoke run, tiny modules
    (torch.compile on CPU needs a C++ toolchain and minutes; the compile variant is meant for the GPU)

Targets (issue 11, H100/H200 class): ≤ 0.15 s per output frame, peak VRAM ≤ 12 GB at 512², 576×1024 within 24 GB.
Every variant renders the same request after a warm-up render (compilation and cuDNN autotuning excluded); the
memory model's prediction (studio.memory) is printed beside the measured peak.
"""

from __future__ import annotations

import argparse
import time

from _shared import peak_rss_mb  # noqa: F401  (puts the repository on sys.path)


def load_from_folder(models: str, device: str, dtype):
    """The studio's loader on a weights folder (bench/synthetic_release.py writes one with the released layout):
    seconds to load, CPU peak RSS and GPU memory after loading, and the seconds plain reads of the same bytes take."""
    import torch

    from pipelines.hjb_pipeline import load_stable_animator_hjb_pipeline

    read_seconds, read_bytes = read_baseline(models)
    # the libraries' imports are not loading (the studio has them imported before a render)
    from diffusers import AutoencoderKLTemporalDecoder, EulerDiscreteScheduler  # noqa: F401
    from transformers import CLIPVisionModelWithProjection  # noqa: F401

    import pipelines.pipeline_stable_animator  # noqa: F401
    cuda = str(device).startswith("cuda")
    started = time.perf_counter()
    pipe = load_stable_animator_hjb_pipeline(models, device=device, dtype=dtype)
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    pipe.set_progress_bar_config(disable=True)
    weights = sum(p.numel() * p.element_size() for m in pipe.components.values() if hasattr(m, "parameters")
                  for p in m.parameters())
    gpu = torch.cuda.max_memory_allocated() / 1e9 if cuda else float("nan")
    print(f"loaded {models} in {seconds:.1f} s (plain reads of the same {read_bytes / 1e9:.2f} GB: {read_seconds:.1f} s,"
          f" ratio {seconds / read_seconds:.2f}, target <= 1.5); weights {weights / 1e9:.2f} GB; process peak RSS "
          f"{peak_rss_mb() / 1e3:.2f} GB; GPU peak after load {gpu:.2f} GB", flush=True)
    return pipe


def read_baseline(models: str) -> tuple[float, int]:
    """torch.load / safetensors of the files the loader reads (second pass: a warm page cache), seconds and bytes."""
    from pathlib import Path

    import torch
    from safetensors.torch import load as load_bytes

    from pipelines.layout import weight_files

    seconds = 0.0
    total = 0
    for _ in range(2):
        started, total = time.perf_counter(), 0
        for path in weight_files(Path(models)):
            state = (torch.load(path, map_location="cpu", weights_only=True) if path.suffix == ".pth"
                     else load_bytes(path.read_bytes()))
            total += sum(t.nbytes for t in state.values())
            del state
        seconds = time.perf_counter() - started
    return seconds, total


def hjb_fast_render(pipe, frames: int, size: int, tile: int, steps: int, decode_chunk: int) -> tuple[float, float]:
    """One HJB fast-mode render with a centred face box in every frame and the reference: seconds, peak VRAM GB."""
    import numpy as np
    import PIL.Image
    import torch

    from pipelines.hjb_config import HJBConfig

    rng = np.random.default_rng(0)
    reference = PIL.Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
    poses = [PIL.Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)) for _ in range(frames)]
    box = (size * 0.35, size * 0.2, size * 0.65, size * 0.5)
    cuda = pipe.device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    pipe(reference, poses, rng.standard_normal(pipe.face_encoder.config.id_embeddings_dim).astype(np.float32),
         height=size, width=size, num_frames=frames, tile_size=tile, num_inference_steps=steps,
         decode_chunk_size=decode_chunk, generator=torch.Generator().manual_seed(0), output_type="np",
         hjb=HJBConfig(enabled=True, decode_mode="fast", end_step=steps - 1), face_boxes_xyxy=[box] * frames,
         reference_face_box_xyxy=box)
    if cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - started, torch.cuda.max_memory_allocated() / 1e9 if cuda else float("nan")


def build_pipeline(tiny: bool, device: str, dtype):
    import torch
    from diffusers import EulerDiscreteScheduler

    from pipelines.pipeline_stable_animator import StableAnimatorPipeline
    from pipelines.testing.tiny import SVD_SCHEDULER_CONFIG, tiny_pipeline

    if tiny:
        pipe = tiny_pipeline(seed=0)
        from pipelines.loading import move_modules

        move_modules(pipe, device=device, dtype=dtype)
        return pipe
    from pipelines.real_size import materialise, real_modules_on_meta

    modules = real_modules_on_meta(with_face_embedder=False)
    built = {name: materialise(module, dtype, seed=i, device=device) for i, (name, module) in enumerate(modules.items())}
    pipe = StableAnimatorPipeline(**built, scheduler=EulerDiscreteScheduler(**SVD_SCHEDULER_CONFIG))
    pipe.set_progress_bar_config(disable=True)
    torch.nn.Module.to(pipe.image_encoder, device)
    return pipe


def render(pipe, frames: int, width: int, height: int, tile: int, steps: int, decode_chunk: int) -> float:
    """One render the way the diffusion engine runs it (latents, then streamed decode); seconds."""
    import numpy as np
    import PIL.Image
    import torch

    rng = np.random.default_rng(0)
    reference = PIL.Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    poses = [PIL.Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)) for _ in range(frames)]
    id_dim = pipe.face_encoder.config.id_embeddings_dim
    synchronize = torch.cuda.synchronize if pipe.device.type == "cuda" else (lambda: None)
    synchronize()
    started = time.perf_counter()
    latents = pipe(reference, poses, rng.standard_normal(id_dim).astype(np.float32), height=height, width=width,
                   num_frames=frames, tile_size=tile, num_inference_steps=steps, decode_chunk_size=decode_chunk,
                   generator=torch.Generator().manual_seed(0), output_type="latent").frames
    with torch.no_grad():
        for start in range(0, frames, decode_chunk):
            part = latents[:, start:start + decode_chunk]
            pipe.postprocess(pipe.decode_latents(part, part.shape[1]), "np")
    synchronize()
    return time.perf_counter() - started


def predicted_gb(pipe, frames, width, height, tile, decode_chunk, device, dtype_name) -> float:
    from studio.render.memory import MemoryModel, MemoryRequest

    model = MemoryModel.for_pipeline(pipe)
    request = MemoryRequest(width, height, frames, tile, decode_chunk, device=device, dtype=dtype_name)
    return model.estimate(request).total / 1e9


def main() -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="tiny random modules (a smoke test of this script)")
    parser.add_argument("--models", help="load a weights folder with the studio's loader (e.g. the release-shaped "
                        "folder of bench/synthetic_release.py) instead of building random modules in memory")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", default="bf16", choices=["bf16", "fp16", "fp32"])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--tile", type=int, default=16)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--decode-chunk", type=int, default=4)
    parser.add_argument("--variants", default="eager,channels_last,compile",
                        help="comma-separated: eager, channels_last, compile")
    parser.add_argument("--skip-wide", action="store_true", help="skip the 576×1024 fit check")
    args = parser.parse_args()
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[args.dtype]
    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        parser.error("no CUDA GPU here; use --tiny --device cpu for a smoke run")
    size = 64 if args.tiny and args.size == 512 else args.size
    pipe = load_from_folder(args.models, args.device, dtype) if args.models else build_pipeline(
        args.tiny, args.device, dtype)
    print(f"{'folder ' + args.models if args.models else 'tiny' if args.tiny else 'released-size'} model, random weights, {args.dtype} on "
          f"{torch.cuda.get_device_name() if cuda else args.device}; {size}x{size}, {args.frames} frames, tile "
          f"{args.tile}, {args.steps} steps, decode chunk {args.decode_chunk}")
    print(f"{'variant':<14} {'s/frame':>8} {'total s':>8} {'peak VRAM GB':>12} {'predicted GB':>12}")
    baseline = None
    for variant in args.variants.split(","):
        if variant == "channels_last":  # only the 4-d (Conv2d) weights; the temporal Conv3d/linears stay
            for module in (*pipe.unet.modules(), *pipe.vae.modules()):
                if isinstance(module, torch.nn.Conv2d):
                    module.weight.data = module.weight.data.to(memory_format=torch.channels_last)
        elif variant == "compile":
            pipe.unet = torch.compile(pipe.unet, mode="max-autotune-no-cudagraphs" if cuda else "default")
        render(pipe, min(args.frames, args.tile), size, size, args.tile, 2, args.decode_chunk)  # warm-up
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        seconds = render(pipe, args.frames, size, size, args.tile, args.steps, args.decode_chunk)
        peak = torch.cuda.max_memory_allocated() / 1e9 if cuda else float("nan")
        unet = getattr(pipe.unet, "_orig_mod", pipe.unet)
        original, pipe.unet = pipe.unet, unet
        predicted = predicted_gb(pipe, args.frames, size, size, args.tile, args.decode_chunk,
                                 "cuda" if cuda else "cpu", args.dtype)
        pipe.unet = original
        per_frame = seconds / args.frames
        baseline = baseline or per_frame
        print(f"{variant:<14} {per_frame:>8.3f} {seconds:>8.1f} {peak:>12.2f} {predicted:>12.2f}"
              f"   ({baseline / per_frame:.2f}x eager)", flush=True)
    if args.models:
        seconds, peak = hjb_fast_render(pipe, args.frames, size, args.tile, args.steps, args.decode_chunk)
        from studio.render.memory import MemoryModel, MemoryRequest

        predicted = MemoryModel.for_folder(args.models).estimate(MemoryRequest(
            size, size, args.frames, args.tile, args.decode_chunk, hjb="fast", device="cuda" if cuda else "cpu",
            dtype=args.dtype)).total / 1e9
        print(f"HJB fast: {seconds / args.frames:.3f} s/frame, peak VRAM {peak:.2f} GB, predicted {predicted:.2f} GB",
              flush=True)
    if not args.skip_wide:
        width, height = (128, 72) if args.tiny else (1024, 576)
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        seconds = render(pipe, args.frames, width, height, args.tile, args.steps, args.decode_chunk)
        peak = torch.cuda.max_memory_allocated() / 1e9 if cuda else float("nan")
        verdict = "" if not cuda else f" ({'fits' if peak <= 24 else 'does NOT fit'} in 24 GB)"
        print(f"{width}x{height}: {seconds / args.frames:.3f} s/frame, peak VRAM {peak:.2f} GB{verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
