"""How long the studio window's GUI thread stalls while it extracts motion, previews and renders; the code of
an earlier commit measured in the same run (targets for the 48-frame warp render: longest stall ≤ 100 ms,
share of time in stalls over 50 ms ≤ 5 %).

A heartbeat QTimer ticks every 10 ms on the GUI thread of the real window (offscreen); a stall is the gap
between two ticks minus 10 ms. A watchdog thread samples the GUI thread's stack while a beat is late, so each
long stall is blamed on a line of the studio's code (``bench/_heartbeat.py``). Each tree runs in its own
process with a fresh data folder: the earlier commit is unpacked with ``git archive`` into a temporary folder
and this same script drives it.

    QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 nice .venv/bin/python bench/ui_latency.py [--before 010ef8b]

Phases: open the sample photo and motion; (a) extract the motion (MediaPipe) and align it; (b) preview: play
the clip for 2 s, the instant warp preview, a quick diffusion preview on the tiny fixture; (c) queue a
48-frame 512×512 warp render and load its result into the player.
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

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "data" / "stableanimator-tiny"
RENDER_PHASE = "(c) warp render, 48 frames 512², queued, result loaded"
TARGET_LONGEST_MS, TARGET_SHARE = 100.0, 0.05


# ----------------------------------------------------------------------------------------- one tree (child)
def run_tree(tree: Path, trace: bool) -> list[dict]:
    sys.path.insert(0, str(tree))
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    from _heartbeat import run_until
    from _window import open_window, queue_render, say

    _app, window, beat, watchdog = open_window(tree, (1400, 900), trace)  # (the app kept alive meanwhile)
    results = []

    def measure(name: str, start, done, timeout_s: float = 600) -> None:
        result = beat.measure(name, start, done, timeout_s)
        results.append(result.to_dict())
        say(result)

    def idle() -> bool:
        return not window.runner.running()

    try:
        run_until(window.warmed_up, 300)  # start-up imports (not measured: the person is choosing files)
        opened = {}
        measure("open the sample photo and motion",
                lambda: opened.update(task=window.open_samples()),
                lambda: bool(window.motion_panel.frames) and window.reference_panel.image is not None and idle())
        window.project.set({"max_frames": 48}, undoable=False)
        measure("(a) extract the motion (48 frames) and align it",
                lambda: window.motion_panel.extract(),
                lambda: window.motion_panel.extract_task is None and window.motion_panel.motion is not None
                and idle())
        clock = {}

        def play() -> None:
            clock["until"] = time.monotonic() + 2.0
            window.motion_panel.player.play(1)

        measure("(b) play the clip for 2 s", play, lambda: time.monotonic() > clock["until"])
        window.motion_panel.player.stop()
        measure("(b) instant preview (warp, 12 frames)", window.instant_preview,
                lambda: window.instant_task is None and idle())
        if (FIXTURE / "checkpoints").is_dir():
            window.set_models_dir(str(FIXTURE / "checkpoints"))
            window.project.set({"engine": "diffusion", "steps": 8, "max_frames": 8}, undoable=False)
            measure("(b) quick preview (diffusion, tiny fixture)", window.quick_preview,
                    lambda: window.preview_task is None and idle() and window.result_panel.path is not None)
        window.project.set({"engine": "warp", "max_frames": 48, "width": 512, "height": 512}, undoable=False)
        queued = {}
        measure(RENDER_PHASE, lambda: queued.update(output=queue_render(window)),
                lambda: window.result_panel.path is not None and window.result_panel.path == queued["output"]()
                and window.queue_panel.consumer is None and idle())
    finally:
        if watchdog is not None:
            watchdog.stop()
        window.shutdown()
        window.close()
    return results


# ----------------------------------------------------------------------------------------- both trees (parent)
def unpack(commit: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def run_child(label: str, tree: Path, trace: bool) -> list[dict]:
    print(f"\n== {label}: {tree}", flush=True)
    with tempfile.TemporaryDirectory(prefix="ui_latency_") as scratch:
        env = dict(os.environ, STUDIO_HOME=str(Path(scratch) / "home"), STUDIO_OUTPUT_DIR=str(Path(scratch) / "out"),
                   QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                   OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"), HF_HUB_OFFLINE="1")
        out = Path(scratch) / "result.json"
        command = [sys.executable, __file__, "--child", str(tree), "--json", str(out)] + ([] if trace else ["--no-trace"])
        subprocess.run(command, env=env, cwd=tree, check=True)
        return json.loads(out.read_text())


def report(before_label: str, before: list[dict], after: list[dict]) -> int:
    print(f"\n{'phase':58s} {'longest stall ms':>22s} {'time in stalls > 50 ms':>26s} {'of it waiting for a core':>26s}")
    print(f"{'':58s} {'before':>10s} {'after':>11s} {'before':>12s} {'after':>13s} {'before':>12s} {'after':>13s}")
    for old, new in zip(before, after, strict=True):
        print(f"{new['name']:58s} {old['longest_ms']:10.0f} {new['longest_ms']:11.0f} "
              f"{100 * old['long_share']:11.1f}% {100 * new['long_share']:12.1f}% "
              f"{100 * old['cpu_wait_share']:11.0f}% {100 * new['cpu_wait_share']:12.0f}%")
    render = next(r for r in after if r["name"] == RENDER_PHASE)
    ok = render["longest_ms"] <= TARGET_LONGEST_MS and render["long_share"] <= TARGET_SHARE
    print(f"\nbefore = {before_label}; after = this tree. Machine: {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}.")
    print(f"warp render (after): longest stall {render['longest_ms']:.0f} ms (target ≤ {TARGET_LONGEST_MS:.0f}), "
          f"{100 * render['long_share']:.1f} % in stalls > 50 ms (target ≤ {100 * TARGET_SHARE:.0f} %): "
          f"{'MET' if ok else 'NOT MET'}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="010ef8b", help="the commit measured as 'before' (git archive)")
    parser.add_argument("--no-before", action="store_true", help="measure this tree only")
    parser.add_argument("--no-trace", dest="trace", action="store_false",
                        help="no watchdog (it samples the GUI thread's stack during stalls; it costs little)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        args.json.write_text(json.dumps(run_tree(args.child.resolve(), args.trace)))
        return 0
    if args.no_before:
        run_child("this tree", REPO, args.trace)
        return 0
    with tempfile.TemporaryDirectory(prefix="ui_latency_before_") as old_tree:
        before = run_child(f"before: {args.before}", unpack(args.before, Path(old_tree)), args.trace)
        after = run_child("after: this tree", REPO, args.trace)
    return report(args.before, before, after)


if __name__ == "__main__":
    sys.exit(main())
