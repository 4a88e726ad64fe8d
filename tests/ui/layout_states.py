"""Drive the real window through the states a person sees and audit its layout in each, at every screen size.

States: the first-run bar shown (a fresh window without weights), a clip loaded (photo and video decoded),
picking a person (the boxes of the people on the shown frame and the hint), a render running (a preview whose renderer holds until cancelled: progress bar, live step picture, Cancel
enabled) and a result shown (a finished mp4 with its sidecar in the result panel).

Run in a subprocess by ``tests/ui/test_layout.py`` so the screen (its size and device pixel ratio) can be set
through the offscreen platform's config file, and the window is themed as ``main.py`` themes it::

    QT_QPA_PLATFORM=offscreen:configfile=screen.json python -m tests.ui.layout_states 1024x640 1366x768

It prints one JSON object: the first-launch geometry, the screen's available geometry and device pixel
ratio, the window's minimum size and every layout problem found (``ui.layout_audit``); exit status 1 when
any problem was found.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

from tests.ui.fake_renderers import GatedRenderer
from ui.screenshot import wait_for


def make_result(folder: Path) -> Path:
    """A small finished render (an mp4 with a studio sidecar) for the result-shown state."""
    from studio.export.exporter import export_frames

    out = folder / "result.mp4"
    frames = [np.full((256, 256, 3), 40 + 8 * i, np.uint8) for i in range(8)]
    export_frames(frames, out, 8.0, sidecar={"request": {}, "engine": "warp", "output": {"fps": 8.0}})
    return out


def drive_states(window, renderer: GatedRenderer, photo: str, video: str, work: Path):
    """Yield each state's name once the window shows it."""
    yield "first-run bar shown"
    window.reference_panel.load(photo)
    decode = window.motion_panel.load(video)
    wait_for(lambda: decode.isFinished() and bool(window.motion_panel.frames), what="the video to decode")
    yield "a clip loaded"
    panel = window.motion_panel
    panel.pick_button.click()
    wait_for(lambda: panel.person_label.text().startswith(("Click a person", "Nobody")), what="the people found")
    yield "picking a person"
    panel.pick_button.click()
    task = window.quick_preview()
    assert task is not None, window.message_bar.text()
    wait_for(renderer.started.is_set, what="the render to start")
    wait_for(lambda: window.progress_bar.isVisible(), what="the progress bar")
    yield "a render running"
    window.cancel_current()
    wait_for(lambda: window.preview_task is None, what="the render to stop")
    load = window.open_result(0, str(make_result(work)))
    wait_for(lambda: load.isFinished() and bool(window.result_panel.frames), what="the result to load")
    yield "a result shown"


def main(argv: list[str]) -> int:
    from studio.service import Studio
    from studio.system.assets import SAMPLE_MOTION, SAMPLE_PHOTO, asset_path
    from ui.app import apply_theme
    from ui.layout_audit import audit_at_sizes, parse_size
    from ui.main_window import MainWindow

    sizes = [parse_size(text) for text in argv[1:]]
    app = QApplication.instance() or QApplication(argv[:1])
    apply_theme(app)
    renderer = GatedRenderer()
    window = MainWindow(studio=Studio(renderer=renderer))
    window.present()
    wait_for(lambda: window.isVisible(), what="the window to show")
    QCoreApplication.processEvents()
    screen = window.screen()
    report = {"first_launch": list(window.frameGeometry().getRect()),
              "available": list(screen.availableGeometry().getRect()),
              "dpr": screen.devicePixelRatio(), "minimum": list(window.minimumSize().toTuple()),
              "problems": []}
    window.showNormal()  # a maximized window keeps its size; the audit sets each size itself
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        try:
            for state in drive_states(window, renderer, str(asset_path(SAMPLE_PHOTO)),
                                      str(asset_path(SAMPLE_MOTION)), work):
                report["problems"] += audit_at_sizes(window, sizes, state)
        finally:
            window.shutdown()
    print(json.dumps(report))
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
