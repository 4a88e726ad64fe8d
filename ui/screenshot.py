"""Make the README screenshot: the window with the sample photo, the sample motion (extracted and
aligned) and a finished result (a warp-engine render through the queue, so no weights are needed).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m ui.screenshot docs/screenshot.png

(``scripts/screenshot.sh`` runs exactly this.)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QApplication


def wait_for(condition, timeout_s: float = 120.0, what: str = "") -> None:
    """Process events until ``condition()`` holds (the screenshot and the layout audit drive the window so)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def build_showcase(window, timeout_s: float = 240.0) -> str:
    """Load the samples, extract and align, render with the warp engine via the queue; returns the mp4."""
    window.project.set({"engine": "warp", "max_frames": 24, "width": 384, "height": 384}, undoable=False)
    decode = window.open_samples()
    wait_for(lambda: decode.isFinished() and bool(window.motion_panel.frames), timeout_s, "the video to decode")
    wait_for(lambda: window.reference_panel.pose is not None or "not available" in
          window.reference_panel.status.text() or "no body" in window.reference_panel.status.text(),
          timeout_s, "the face detection")
    extract = window.motion_panel.extract()
    wait_for(lambda: extract.isFinished() and window.motion_panel.motion is not None, timeout_s, "the extraction")
    ids: list[int] = []
    window.queue_panel.jobs_added.connect(ids.extend)
    if not window.queue_render():
        raise RuntimeError(f"could not queue the render: {window.message_bar.text()}")
    wait_for(lambda: bool(ids) or window.message_bar.level == "error", timeout_s, "the render to be queued")
    if not ids:
        raise RuntimeError(f"could not queue the render: {window.message_bar.text()}")
    queue = window.queue_panel.queue
    wait_for(lambda: queue.get(ids[0]).state in ("finished", "failed", "cancelled"), timeout_s, "the render")
    job = queue.get(ids[0])
    if job.state != "finished":
        raise RuntimeError(f"the render {job.state}: {job.error}")
    wait_for(lambda: window.result_panel.path == job.output and window.result_panel.frames, timeout_s,
          "the result to load")
    window.result_panel.player.set_frame(len(window.result_panel.frames) // 2)
    window.motion_panel.player.set_frame(10)
    wait_for(lambda: window.queue_panel.consumer is None, timeout_s, "the queue to idle")
    window.queue_panel.refresh()
    return job.output


def main(argv: list[str]) -> int:
    """``python -m ui.screenshot OUT.png [WIDTHxHEIGHT]`` (default 1560x960)."""
    out = Path(argv[1] if len(argv) > 1 else "docs/screenshot.png")
    from ui.app import apply_theme
    from ui.layout_audit import parse_size
    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(argv[:1])
    apply_theme(app)
    window = MainWindow()
    window.resize(*parse_size(argv[2] if len(argv) > 2 else "1560x960"))
    window.show()
    try:
        build_showcase(window)
        QCoreApplication.processEvents()
        out.parent.mkdir(parents=True, exist_ok=True)
        image = window.grab().toImage()
        if not image.save(str(out)):
            raise OSError(f"could not write {out}")
        print(f"wrote {out} ({image.width()}x{image.height()})")
    finally:
        window.shutdown()
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
