"""The window with a real-size weights folder (issue 22 item 4): the Models dialog pointed at it, a 2-frame quick
preview and a queued render, a screenshot of each, and the GUI thread's stalls meanwhile (heartbeat every
10 ms, ``bench/_heartbeat.py``), the stretch while the weights load reported on its own (target: none over
100 ms).

Under a real X server (Xvfb), one big-memory run at a time on a shared machine:

    flock /work/bigmem.lock xvfb-run -a -s "-screen 0 1366x768x24" nice .venv/bin/python \
        bench/ui_weights_window.py /work/synthetic-release --shots docs

The project is set to 256², 2 frames, 2 steps, bf16 (the window's Device → dtype choice), so the weights take
about half the memory of fp32 and the CPU run ends in minutes, not hours.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from _shared import REPO, peak_rss_mb  # noqa: E402  (bench/ is the script's folder)

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _heartbeat import run_until  # noqa: E402
from _window import open_window, queue_render, say  # noqa: E402
from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialogButtonBox  # noqa: E402

SHOT_WIDTH = 1100  # screenshots are scaled to this width (small PNGs for the docs)


def shoot(widget, path: Path) -> None:
    picture = widget.grab()
    if picture.width() > SHOT_WIDTH:
        picture = picture.scaledToWidth(SHOT_WIDTH, Qt.TransformationMode.SmoothTransformation)
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(str(path), "PNG")
    from PIL import Image

    with Image.open(path) as image:  # a 256-colour palette: a third of the bytes, the same look for a window
        small = image.convert("RGB").quantize(256)
    small.save(path, optimize=True)
    print(f"  screenshot {path} ({path.stat().st_size // 1024} KB)", flush=True)


class TimingLines(logging.Handler):
    """Keeps the diffusion engine's timing lines (Render → model ready → first denoising step: issue 22 item 3, here
    with the libraries imported at start-up as the window does)."""

    WANTED = ("model code imported", "model ready", "first denoising step began", "before it")

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        engine_log = logging.getLogger("studio.render.diffusion_engine")
        engine_log.setLevel(logging.INFO)
        engine_log.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(self.WANTED):
            self.lines.append(message)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", type=Path, help="the release-shaped weights folder")
    parser.add_argument("--shots", type=Path, default=REPO / "docs", help="where the screenshots go")
    parser.add_argument("--dtype", default="bf16", choices=("bf16", "fp32"))
    parser.add_argument("--no-trace", dest="trace", action="store_false", help="no watchdog")
    parser.add_argument("--no-dialog", dest="dialog", action="store_false",
                        help="set the folder without the Models dialog")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    _app, window, beat, watchdog = open_window(REPO, (1366, 740), args.trace)  # (the app kept alive meanwhile)
    try:
        run_until(window.warmed_up, 300)
        opened = {}
        say(beat.measure("open the sample photo and motion", lambda: opened.update(task=window.open_samples()),
                         lambda: bool(window.motion_panel.frames) and not window.runner.running(), 120))

        def drive_dialog() -> None:  # the modal dialog's own event loop runs this
            dialog = QApplication.activeModalWidget()
            if dialog is None:
                QTimer.singleShot(100, drive_dialog)
                return
            dialog.path_edit.setText(str(args.models))
            dialog.check()
            print("  Models dialog says:\n    " + dialog.findings.toPlainText().replace("\n", "\n    "), flush=True)
            shoot(dialog, args.shots / "weights_models_dialog.png")
            dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()

        if args.dialog:
            say(beat.measure("Models dialog: choose and check the folder",
                             lambda: (QTimer.singleShot(100, drive_dialog), window.show_models()),
                             lambda: window.project.request.models == str(args.models), 120))
        else:
            window.set_models_dir(str(args.models))
        window.project.set({"engine": "diffusion", "dtype": args.dtype, "width": 256, "height": 256, "steps": 2,
                            "max_frames": 2}, undoable=False)
        # a person sees the estimate beside Render before clicking it: at the released size its trace of the model
        # takes seconds and, still running, would compete with the load for the interpreter
        estimate_started = time.perf_counter()
        run_until(lambda: not window.memory_label.estimating(), 300)
        print(f"  memory estimate ({time.perf_counter() - estimate_started:.1f} s): {window.memory_label.text()}",
              flush=True)
        marks: dict[str, float] = {}
        timing = TimingLines()  # the engine's "model ready" / "first denoising step began" lines, as a user's log has them

        def note(progress) -> None:
            if progress.message == "loading the model":
                marks.setdefault("load", time.perf_counter())
            elif progress.message == "model ready":
                marks.setdefault("ready", time.perf_counter())

        def preview() -> None:
            task = window.quick_preview()
            if task is None:
                raise RuntimeError(f"the preview did not start: {window.message_bar.text()}")
            task.progressed.connect(note)

        started = time.perf_counter()
        result = beat.measure("quick preview (loads the weights, 2 frames, 2 steps)", preview,
                              lambda: window.preview_task is None and not window.runner.running()
                              and window.result_panel.path is not None, 3600)
        say(result)
        if "load" in marks and "ready" in marks:
            say(result.between("  of which: loading the weights", marks["load"], marks["ready"]))
        print(f"  preview wall {time.perf_counter() - started:.0f} s; peak RSS so far {peak_rss_mb() / 1024:.1f} GB",
              flush=True)
        for line in timing.lines:
            print(f"  engine: {line}", flush=True)
        if window.message_bar.isVisible() and window.message_bar.level == "error":
            print(f"  message: {window.message_bar.text()}", flush=True)
        shoot(window, args.shots / "weights_preview.png")

        queued = {}
        say(beat.measure("queued render (the loaded weights reused)",
                         lambda: queued.update(output=queue_render(window)),
                         lambda: window.result_panel.path is not None and window.result_panel.path == queued["output"]()
                         and window.queue_panel.consumer is None and not window.runner.running(), 3600))
        shoot(window, args.shots / "weights_render.png")
        print(f"peak RSS {peak_rss_mb() / 1024:.1f} GB", flush=True)
    finally:
        if watchdog is not None:
            watchdog.stop()
        window.shutdown()
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
