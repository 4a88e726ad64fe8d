"""Render farm throughput: warp jobs per minute with 1 vs 2 local Ray workers, and the ratio.

    OMP_NUM_THREADS=1 .venv/bin/python bench/farm.py [--jobs 8] [--frames 8] [--size 128]

Starts one local Ray cluster (127.0.0.1 only, 2 CPUs), warms both worker processes up (imports, mediapipe)
with a first batch, then runs the same batch of warp jobs through ``FarmRunner`` twice: at most one job in
flight (one worker busy) and at most two (two workers). Each job is a real render: pose extraction of its own
driving clip, warp, H.264 encode, sidecar, files sent back and written atomically. The ratio is measured in one
run on one machine; on a 2-core machine shared with other work it stays below 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.batch.farm import require_ray  # noqa: E402
from studio.batch.farm.cluster import connect  # noqa: E402
from studio.batch.farm.runner import FarmRunner, FarmSettings  # noqa: E402
from studio.batch.queue import JobQueue  # noqa: E402
from studio.request.render_request import RenderRequest  # noqa: E402
from tests.generated_media import write_astronaut_photo, write_transform_video  # noqa: E402


def batch_seconds(folder: Path, name: str, photos: list[Path], clips: int, frames: int, fps: float, size: int,
                  in_flight: int) -> float:
    # Fresh clips per batch (their own fps, so their own content): the studio caches extracted motion by
    # content, and a batch must not ride on the pose extraction of the one before.
    motions = [write_transform_video(folder / f"{name}{i}.mp4", num_frames=frames, size=160, fps=fps + i)[0]
               for i in range(clips)]
    queue = JobQueue(folder / f"{name}.db")
    base = RenderRequest(reference="-", motion="-", engine="warp", width=size, height=size, seed=1)
    queue.add_matrix(base, photos, motions, folder / name)
    started = time.perf_counter()
    counts = FarmRunner(queue, FarmSettings(gpus_per_job=0, max_in_flight=in_flight)).run()
    seconds = time.perf_counter() - started
    if counts["finished"] != len(photos) * clips:
        raise SystemExit(f"{name}: not every job finished: {counts}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8, help="warp jobs per measured batch (even)")
    parser.add_argument("--frames", type=int, default=8, help="frames per driving clip")
    parser.add_argument("--size", type=int, default=128, help="output width and height")
    args = parser.parse_args()
    ray = require_ray()
    with tempfile.TemporaryDirectory(prefix="farm-bench-") as tmp:
        folder = Path(tmp)
        os.environ["STUDIO_HOME"] = str(folder / "home")  # the workers' input cache lives in here
        photos = [write_astronaut_photo(folder / f"photo{i}.png", 160 + 16 * i) for i in range(2)]
        clips = max(1, args.jobs // 2)
        connect("local", num_cpus=2, num_gpus=0)
        try:
            batch_seconds(folder, "warmup", photos, 1, args.frames, 5.0, args.size, 2)  # both workers import once
            one = batch_seconds(folder, "one", photos, clips, args.frames, 10.0, args.size, 1)
            two = batch_seconds(folder, "two", photos, clips, args.frames, 10.0 + clips, args.size, 2)
        finally:
            ray.shutdown()
    jobs = len(photos) * clips
    print(f"warp jobs ({args.size}x{args.size}, {args.frames} frames each), {jobs} per batch, local Ray cluster")
    print(f"1 worker : {jobs / one * 60:6.1f} jobs/min ({one:.1f} s)")
    print(f"2 workers: {jobs / two * 60:6.1f} jobs/min ({two:.1f} s)")
    print(f"ratio 2 vs 1 workers: {one / two:.2f}x (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: "
          "other work on the machine takes the second worker's core)")


if __name__ == "__main__":
    main()
