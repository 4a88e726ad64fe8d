"""A stand-in renderer for the window's tests: it reports progress (and a live picture) until a gate opens, then
writes a real small mp4 with a sidecar, or stops when cancelled. It gives a render that runs for as long as a test
needs, with none of a real engine's cost."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from studio.system.progress import Cancelled, Progress


class GatedRenderer:
    def __init__(self, error: Exception | None = None) -> None:
        self.started = threading.Event()
        self.gate = threading.Event()
        self.error = error  # raised when the gate opens, instead of writing the video

    def render(self, request, out, report, cancel, preview=None, **_options):
        from studio.export.exporter import export_frames

        if preview is not None:
            preview(np.full((request.height, request.width, 3), 90, np.uint8), 1, 20)
        step = 0
        while not self.gate.is_set():
            report(Progress("denoise", step % 20, 20, f"step {step % 20}/20"))
            self.started.set()
            if cancel.cancelled:
                raise Cancelled()
            step += 1
            time.sleep(0.02)
        if self.error is not None:
            raise self.error
        frames = [np.full((64, 64, 3), 30 * i, np.uint8) for i in range(4)]
        result = export_frames(frames, out, 8.0, sidecar={"request": request.to_dict(), "engine": "warp",
                                                          "output": {"fps": 8.0}})
        return SimpleNamespace(path=Path(result.path), engine="warp", seconds=0.1, step_seconds=None)
