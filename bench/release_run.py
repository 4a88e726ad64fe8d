"""The studio's CLI on a release-shaped model folder, as a user runs it: each command in its own process, timed, with
its peak resident memory, beside the memory model's ``--dry-run`` prediction.

    nice python bench/synthetic_release.py /work/synthetic-release      # once: the folder (≈ 11 GB of disk)
    nice python bench/release_run.py /work/synthetic-release --sizes 256            # doctor + 256² rows
    nice python bench/release_run.py /work/synthetic-release --sizes 256,512 --dtypes fp32,bf16 --hjb off,fast

Rows: ``doctor --models DIR``; a read baseline (``torch.load`` of the Animation ``.pth`` files, safetensors of the
SVD files the loader reads: the bytes loading must at least read, warm page cache); then per size × dtype × HJB
mode a ``render --dry-run --json`` (the prediction) and the render itself: the sample photo and motion, 2 steps,
256² with 2 frames or 512² with 4 frames, on the CPU. Load time, when the first denoising step began (after the
load phase began, and after Render: the issue's "Render → first step"), the conditioning models before it, when the
first UNet call was done (the call itself is most of the wait on a CPU) and the load's peak RSS beside the weights
come from the studio's log lines (``-v``); the peak is the process's ``ru_maxrss`` (``os.wait4``); "finite" means the render
exited 0 (the engine refuses NaN/inf latents and frames) and its mp4 decodes to the right number of frames that
are not one flat colour. A markdown table goes to stdout and every row as JSON lines to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PHOTO = REPO / "assets" / "sample_photo.jpg"
MOTION = REPO / "assets" / "sample_motion.mp4"
FRAMES_AT = {256: 2, 512: 4}
LOADED = ("Animation/pose_net.pth", "Animation/face_encoder.pth", "Animation/unet.pth",
          "SVD/vae/diffusion_pytorch_model.safetensors", "SVD/image_encoder/model.safetensors")
READ_BASELINE = """
import sys, time, torch
from pathlib import Path
from safetensors.torch import load as load_bytes
torch.set_num_threads(int(sys.argv[2]))
started = time.perf_counter(); total = 0
for name in sys.argv[3:]:
    path = Path(sys.argv[1]) / name
    if path.suffix == ".pth":
        state = torch.load(path, map_location="cpu", weights_only=True)
    else:
        state = load_bytes(path.read_bytes())
    total += sum(t.nbytes for t in state.values()); del state
print(f"read {total / 1e9:.3f} GB in {time.perf_counter() - started:.3f} s")
"""


def run(command: list[str], env: dict, log: Path, stop_at: str | None = None) -> dict:
    """One process: wall time, peak RSS (GB), exit code, its stdout and stderr (both also kept in ``log``). With
    ``stop_at`` the process is ended (SIGTERM) as soon as its stderr holds that text (its stdout is not kept)."""
    started = time.perf_counter()
    with open(log, "w") as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL if stop_at else subprocess.PIPE, stderr=err,
                                   env=env, cwd=REPO, text=True)
        stdout = "" if stop_at else process.stdout.read()
        while stop_at and process.poll() is None and stop_at not in log.read_text():
            time.sleep(0.2)
        if stop_at and process.poll() is None:
            process.terminate()
        _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return {"rc": process.returncode, "seconds": time.perf_counter() - started,
            "peak_gb": usage.ru_maxrss * 1024 / 1e9, "stdout": stdout, "stderr": log.read_text()}


def studio(*args: str) -> list[str]:
    return [sys.executable, "-m", "studio", *args]


def logged_seconds(stderr: str, what: str) -> float | None:
    match = re.search(rf"{what} (?:\d+\.\d+ s after Render, )?(\d+\.\d+) s after the render's load phase began",
                      stderr)
    return float(match.group(1)) if match else None


def logged_timing(stderr: str) -> dict:
    """The engine's timing lines (studio/render/stage_clock.py): Render → first denoising step, the conditioning
    models before it, and the load's peak RSS beside the weights."""
    found: dict = {}
    if match := re.search(r"first denoising step began (\d+\.\d+) s after Render", stderr):
        found["render_to_first_step_s"] = float(match.group(1))
    if match := re.search(r"model code imported in (\d+\.\d+) s", stderr):
        found["import_s"] = float(match.group(1))
    if match := re.search(r"before it: (.*)", stderr):
        found["conditioning"] = match.group(1).strip()
    if match := re.search(r"process peak RSS (\d+\.\d+) GB \((\d+\.\d+) GB before loading\) with (\d+\.\d+) GB "
                          r"of weights", stderr):
        found["load_peak_gb"], found["rss_before_load_gb"], found["weights_gb"] = map(float, match.groups())
        found["load_peak_over_weights"] = round((found["load_peak_gb"] - found["rss_before_load_gb"])
                                                / found["weights_gb"], 3)
    return found


def video_frames(path: Path, size: int) -> np.ndarray:
    import imageio_ffmpeg

    raw = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, size, size, 3)


def render_rows(models: Path, size: int, dtype: str, hjb: str, threads: int, env: dict, work: Path,
                first_step_only: bool = False) -> dict:
    frames = FRAMES_AT[size]
    name = f"{size}px-{frames}f-{dtype}-{'hjb-' + hjb if hjb != 'off' else 'plain'}"
    name += "-to-first-step" if first_step_only else ""
    common = ["--models", str(models), "--reference", str(PHOTO), "--motion", str(MOTION), "--width", str(size),
              "--height", str(size), "--frames", str(frames), "--steps", "2", "--seed", "1", "--device", "cpu",
              "--dtype", dtype]
    if hjb != "off":
        common += ["--hjb", "--hjb-mode", hjb]
    dry = run(studio("render", *common, "--dry-run", "--json"), env, work / f"{name}.dry.log")
    predicted = json.loads(dry["stdout"]) if dry["rc"] == 0 else {}
    out = work / f"{name}.mp4"
    command = studio("-v", "render", *common, "--out", str(out), "--overwrite", "--quiet", "--json")
    result = run(command, env, work / f"{name}.log", "first denoising step began" if first_step_only else None)
    finite = None
    if result["rc"] == 0 and not first_step_only:
        video = video_frames(out, size)
        finite = len(video) == frames and all(float(frame.std()) > 0 for frame in video)
    row = {
        "row": name, "command": " ".join(["python", "-m", "studio", "-v", "render", *common, "--out", out.name]),
        "rc": result["rc"], "wall_s": round(result["seconds"], 1),
        "load_s": logged_seconds(result["stderr"], "model ready"),
        "first_step_s": logged_seconds(result["stderr"], "first denoising step began"),
        "first_unet_s": logged_seconds(result["stderr"], "first UNet call done"),
        **logged_timing(result["stderr"]),
        "measured_peak_gb": round(result["peak_gb"], 2),
        "predicted_peak_gb": round(predicted.get("total_bytes", 0) / 1e9, 2) or None,
        "predicted_load_gb": round(predicted.get("load_peak_bytes", 0) / 1e9, 2) or None,
        "dry_run_s": round(dry["seconds"], 1), "finite": finite, "threads": threads,
    }
    if row["predicted_peak_gb"]:
        row["ratio"] = round(row["predicted_peak_gb"] / row["measured_peak_gb"], 3)
    if result["rc"] != 0 and not (first_step_only and row["first_step_s"] is not None):
        row["error"] = result["stderr"].strip().splitlines()[-1:]
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", type=Path, help="a release-shaped folder (bench/synthetic_release.py)")
    parser.add_argument("--sizes", default="256", help="comma-separated: 256 (2 frames), 512 (4 frames)")
    parser.add_argument("--dtypes", default="fp32,bf16")
    parser.add_argument("--hjb", default="off,fast", help="comma-separated HJB modes: off, fast, exact")
    parser.add_argument("--threads", type=int, default=2, help="OMP_NUM_THREADS of every process")
    parser.add_argument("--skip-doctor", action="store_true")
    parser.add_argument("--skip-read", action="store_true", help="no read baseline (rows run one per invocation)")
    parser.add_argument("--first-step-only", action="store_true",
                        help="end each render when its first denoising step begins: Render → first step and the "
                             "load's peak (the peak column is then the load and conditioning phase's)")
    parser.add_argument("--out", type=Path, default=None, help="append each row as a JSON line here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="release-run-"))
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "HF_HUB_OFFLINE": "1",
           "STUDIO_HOME": str(work / "home"), "PYTHONPATH": str(REPO)}
    rows = []

    def keep(row: dict) -> None:
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
        if args.out:
            with open(args.out, "a") as handle:
                handle.write(json.dumps(row) + "\n")

    if not args.skip_doctor:
        doctor = run(studio("doctor", "--models", str(args.models)), env, work / "doctor.log")
        keep({"row": "doctor", "command": f"python -m studio doctor --models {args.models}", "rc": doctor["rc"],
              "wall_s": round(doctor["seconds"], 1), "measured_peak_gb": round(doctor["peak_gb"], 2),
              "output": doctor["stdout"].strip().splitlines()[-3:]})
    for attempt in () if args.skip_read else (1, 2):  # the second read is the warm page cache's
        base = run([sys.executable, "-c", READ_BASELINE, str(args.models), str(args.threads), *LOADED], env,
                   work / "read.log")
        keep({"row": f"read baseline #{attempt}", "command": "torch.load(weights_only) / safetensors.load of "
              + ", ".join(LOADED), "rc": base["rc"], "wall_s": round(base["seconds"], 1),
              "read": base["stdout"].strip(), "measured_peak_gb": round(base["peak_gb"], 2)})
    for size in (int(s) for s in args.sizes.split(",")):
        for dtype in args.dtypes.split(","):
            for hjb in args.hjb.split(","):
                keep(render_rows(args.models, size, dtype, hjb, args.threads, env, work, args.first_step_only))
    print("| row | load s | first step began s | first UNet call done s | Render → first step s | load peak "
          "RSS GB / weights GB | wall s | predicted peak GB | measured peak GB | predicted/measured | frames finite |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        load_peak = (f"{row['load_peak_gb']} − {row['rss_before_load_gb']} before / {row['weights_gb']} = "
                     f"{row['load_peak_over_weights']}" if "load_peak_gb" in row else "")
        print(f"| {row['row']} | {row.get('load_s', '')} | {row.get('first_step_s', '')} | "
              f"{row.get('first_unet_s', '')} | {row.get('render_to_first_step_s', '')} | {load_peak} | {row['wall_s']} | "
              f"{row.get('predicted_peak_gb', '')} | {row['measured_peak_gb']} | {row.get('ratio', '')} | "
              f"{row.get('finite', row.get('read', row.get('output', '')))} |")
    print(f"(logs and outputs in {work})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
