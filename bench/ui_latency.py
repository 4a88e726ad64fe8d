"""Longest event-loop stall of the studio window while renders run (target: at most 100 ms).

A 5 ms QTimer ticks on the GUI thread; a stall is the gap between two ticks minus the interval. Measured
while (1) a quick diffusion preview runs on the public tiny fixture (live step previews on), and (2) a warp
render of the sample motion runs through the batch queue and its result is loaded into the player.

    QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 .venv/bin/python bench/ui_latency.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from _shared import DEFAULT_FIXTURE  # noqa: E402  (bench/ is the script's folder)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("STUDIO_HOME", tempfile.mkdtemp(prefix="ui_latency_"))

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TICK_MS = 5


class Watchdog:
    """``--trace``: when the GUI thread misses its heartbeat by 60 ms, print every thread's stack once."""

    def __init__(self) -> None:
        import threading

        self.beat = time.monotonic()
        self.main_id = threading.get_ident()
        self.stop_flag = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import traceback

        reported = 0.0
        while not self.stop_flag:
            time.sleep(0.02)
            late = time.monotonic() - self.beat
            if late > 0.06 and self.beat != reported:
                reported = self.beat
                frames = sys._current_frames()
                print(f"--- GUI thread late by {late * 1000:.0f} ms; stacks:")
                for ident, frame in frames.items():
                    tag = "GUI" if ident == self.main_id else "worker"
                    print(f"[{tag}]", "".join(traceback.format_stack(frame)[-6:]))


class StallMeter:
    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self.last = 0

    def start(self) -> None:
        self.gaps.clear()
        self.clock.start()
        self.last = self.clock.elapsed()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        if WATCHDOG is not None:
            WATCHDOG.beat = time.monotonic()
        now = self.clock.elapsed()
        self.gaps.append(max(0, now - self.last - TICK_MS))
        self.last = now

    def summary(self) -> str:
        gaps = sorted(self.gaps) or [0]
        p99 = gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))]
        return f"longest stall {gaps[-1]:.0f} ms, p99 {p99:.0f} ms over {len(gaps)} ticks"


WATCHDOG: Watchdog | None = None


def pump_until(condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("timed out")
        QCoreApplication.processEvents()
        time.sleep(0.001)


def main() -> int:
    global WATCHDOG
    import torch

    torch.set_num_threads(1)
    if "--trace" in sys.argv:
        WATCHDOG = Watchdog()
        WATCHDOG.thread.start()
    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("StableAnimator Studio (latency bench)")
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    fixture = Path(os.environ.get("STABLEANIMATOR_FIXTURE", DEFAULT_FIXTURE))
    from studio.system.assets import SAMPLE_MOTION, SAMPLE_PHOTO, asset_path
    meter = StallMeter()
    results = []
    try:
        meter.start()
        started = time.perf_counter()
        pump_until(window.warmed_up, 300)
        meter.stop()
        print(f"(startup, not a render) background warm-up import of the engines, "
              f"{time.perf_counter() - started:.1f} s: {meter.summary()}")
        window.reference_panel.load(str(asset_path(SAMPLE_PHOTO)))
        decode = window.motion_panel.load(str(asset_path(SAMPLE_MOTION)))
        pump_until(lambda: decode.isFinished() and window.motion_panel.frames, 60)
        if (fixture / "checkpoints").is_dir():
            window.set_models_dir(str(fixture / "checkpoints"))
            window.project.set({"engine": "diffusion", "steps": 8, "max_frames": 8}, undoable=False)
            meter.start()
            started = time.perf_counter()
            task = window.quick_preview()
            if task is None:
                print(f"diffusion preview could not start: {window.message_bar.text()}")
            else:
                pump_until(lambda: task.isFinished() and window.preview_task is None, 600)
                meter.stop()
                line = (f"diffusion quick preview (tiny fixture, {task.outcome}, "
                        f"{time.perf_counter() - started:.1f} s): {meter.summary()}")
                results.append(max(meter.gaps or [0]))
                print(line)
        window.project.set({"engine": "warp", "max_frames": 48, "width": 512, "height": 512}, undoable=False)
        meter.start()
        started = time.perf_counter()
        ids = window.queue_render()
        queue = window.queue_panel.queue
        pump_until(lambda: queue.get(ids[0]).state in ("finished", "failed", "cancelled"), 600)
        pump_until(lambda: window.result_panel.path == queue.get(ids[0]).output, 60)
        pump_until(lambda: window.queue_panel.consumer is None, 60)
        meter.stop()
        results.append(max(meter.gaps or [0]))
        print(f"warp render via the queue (48 frames, 512x512, {queue.get(ids[0]).state}, "
              f"{time.perf_counter() - started:.1f} s, result loaded): {meter.summary()}")
    finally:
        window.shutdown()
        window.close()
    print(f"LONGEST EVENT-LOOP STALL DURING RENDERS: {max(results):.0f} ms (target <= 100 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
