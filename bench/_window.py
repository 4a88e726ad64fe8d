"""Driving the studio window in the window benchmarks: open it with a heartbeat, queue a render, print a phase."""

from __future__ import annotations

import sys
from pathlib import Path

from _heartbeat import Heartbeat, PhaseResult, Watchdog


def open_window(code_root: Path, size: tuple[int, int], trace: bool):
    """(the application, the studio's main window shown at ``size``, its 10 ms heartbeat, the watchdog naming
    the code of ``code_root`` during stalls or None); import ``ui`` from ``code_root`` before calling."""
    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    watchdog = Watchdog(code_root, late_ms=50.0) if trace else None
    beat = Heartbeat(10, watchdog)
    window = MainWindow()
    window.resize(*size)
    window.show()
    if watchdog is not None:
        watchdog.start()
    return app, window, beat, watchdog


def queue_render(window):
    """Press Render; a function giving the queued job's output path once the job is in the queue, None before
    (the queue panel writes it on a worker thread and says so in ``jobs_added``; a tree from before that wrote it
    at once and returned the ids)."""
    added: list[int] = []
    announced = getattr(window.queue_panel, "jobs_added", None)
    if announced is not None:
        announced.connect(added.extend)
    queued = window.queue_render()
    if not queued:
        raise RuntimeError(f"the render was not queued: {window.message_bar.text()}")
    if announced is None:
        added.extend(queued)
    found: dict[str, str] = {}

    def output() -> str | None:
        if added and "path" not in found:  # (read once)
            found["path"] = window.queue_panel.queue.get(added[0]).output
        return found.get("path")

    return output


def say(result: PhaseResult) -> None:
    """One line for the phase, then the places its long stalls were spent in."""
    print(f"  {result.name}: {result.seconds:.1f} s, longest stall {result.longest_ms:.0f} ms, "
          f"{100 * result.long_share():.1f} % of the time in stalls > 50 ms (of which the GUI thread waited "
          f"for a core {100 * result.cpu_wait_share():.0f} %)", flush=True)
    for place, ms, count in result.culprits():
        print(f"      {ms:7.0f} ms in {count:3d} stall(s): {place}", flush=True)
