"""Render benchmark: peak RSS vs clip length (streamed export) and export throughput at 512×512.

    OMP_NUM_THREADS=1 .venv/bin/python bench/render.py [--fixture DIR] [--frames 16] [--size 256]

1. Peak RSS of a whole render (diffusion engine on the tiny fixture weights, SIZE×SIZE, 2 steps, tiles of 16,
   decode chunk 4, mp4 export) at 1×, 2× and 4× FRAMES frames, each in a fresh process; with
   --compare-buffered also a variant that keeps every decoded frame before exporting (what the original does).
   Streaming target: peak RSS at 4× ≤ 1.25 × peak RSS at 1×.
2. Export throughput: frames/s of the exporter (H.264 yuv420p, crf 18, preset medium) at 512×512.
Numbers are measured in this run only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _shared import DEFAULT_FIXTURE, REPO, peak_rss_mb  # noqa: E402  (bench/ is the script's folder)


def _make_motion(fixture: Path, folder: Path, frames: int, size: int) -> Path:
    """A pose folder of ``frames`` skeleton images (the fixture's poses, cycled, fitted to size×size)."""
    from studio.media.video_io import fit_to_size, load_image
    from tests.generated_media import write_image

    sources = sorted((fixture / "inputs" / "poses").glob("frame_*.png"), key=lambda p: int(p.stem.split("_")[1]))
    poses = folder / "poses"
    poses.mkdir(parents=True, exist_ok=True)
    for i in range(frames):
        image = fit_to_size(load_image(sources[i % len(sources)]), size, size, "pad")[0]
        write_image(poses / f"frame_{i}.png", image)
    return folder


def child(args: argparse.Namespace) -> None:
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from studio.export.exporter import export_frames
    from studio.render.renderer import Renderer
    from studio.request.render_request import RenderRequest

    fixture = Path(args.fixture)
    with tempfile.TemporaryDirectory() as tmp:
        motion = _make_motion(fixture, Path(tmp) / "motion", args.child, args.size)
        request = RenderRequest(
            reference=str(fixture / "inputs" / "reference.png"), motion=str(motion), models=str(fixture / "checkpoints"),
            width=args.size, height=args.size, steps=2, tile_size=16, tile_overlap=4, decode_chunk=4, seed=1,
            face_model="none", export={"preset": "veryfast", "fps": 8.0},
        )
        renderer = Renderer()
        out = Path(tmp) / "out.mp4"
        started = time.perf_counter()
        if args.buffered:
            prepared = renderer.prepare(request)
            engine = renderer.engine("diffusion")
            frames = [f.astype(np.float32) / 255.0 for f in engine.render(prepared.inputs, lambda p: None,
                                                                           __import__("studio.system.progress").progress.CancelToken())]
            export_frames(((f * 255).round().astype(np.uint8) for f in frames), out, 8.0)
        else:
            renderer.render(request, out)
        seconds = time.perf_counter() - started
    print(json.dumps({"frames": args.child, "peak_rss_mb": peak_rss_mb(), "seconds": seconds}))


def run_child(frames: int, size: int, fixture: str, buffered: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", str(frames), "--size", str(size), "--fixture", fixture]
    if buffered:
        cmd.append("--buffered")
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    if result.returncode != 0:
        raise SystemExit(f"child failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def export_throughput(n: int = 120, size: int = 512) -> float:
    import numpy as np

    from studio.export.exporter import VideoExporter
    from studio.request.render_request import ExportOptions

    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    frames = [np.roll(base, 4 * i, axis=1) for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with VideoExporter(Path(tmp) / "t.mp4", 24.0, size, size, ExportOptions(crf=18, preset="medium")) as ex:
            for frame in frames:
                ex.write(frame)
            ex.finish(None)
        return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fixture", default=str(DEFAULT_FIXTURE))
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--compare-buffered", action="store_true",
                        help="also measure a variant that keeps every frame before exporting")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--buffered", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    print(f"render: tiny fixture weights, {args.size}x{args.size}, 2 steps, tile 16/4, decode chunk 4, CPU 1 thread")
    for buffered in (False, True) if args.compare_buffered else (False,):
        label = "buffered (all frames kept, then export)" if buffered else "streamed (renderer)"
        rows = [run_child(args.frames * k, args.size, args.fixture, buffered) for k in (1, 2, 4)]
        base = rows[0]["peak_rss_mb"]
        print(f"  {label}:")
        for k, row in zip((1, 2, 4), rows, strict=True):
            print(f"    {k}x = {row['frames']:>3} frames: peak RSS {row['peak_rss_mb']:7.1f} MB "
                  f"({row['peak_rss_mb'] / base:.3f}x of 1x, +{row['peak_rss_mb'] - base:6.1f} MB), "
                  f"{row['seconds']:.1f} s")
    fps = export_throughput()
    print(f"export throughput at 512x512 (H.264 yuv420p crf 18 medium, 120 frames): {fps:.1f} frames/s")


if __name__ == "__main__":
    main()
