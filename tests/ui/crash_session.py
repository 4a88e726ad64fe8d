"""A window that is killed mid-work (``os._exit``, no close): run as a subprocess by the autosave test.

    python -m tests.ui.crash_session FOLDER   (the result is written there)

It loads the samples, gets a skeleton (a synthetic clip: the test is about keeping it, not extracting it),
nudges the alignment, shows a result, waits for the autosave and dies. It prints the state the restore must
bring back as one JSON line."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
from PySide6.QtWidgets import QApplication

from studio.motion.types import PoseFrame
from studio.project import Clip
from tests.ui.layout_states import make_result
from ui.screenshot import wait_for


def main(argv: list[str]) -> None:
    from pathlib import Path

    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(argv[:1])
    window = MainWindow()
    window.show()
    decode = window.open_samples()
    wait_for(lambda: decode.isFinished() and bool(window.motion_panel.frames), what="the samples")
    body = np.zeros((18, 3), np.float32)
    body[:, 0], body[:, 1], body[:, 2] = np.linspace(100, 300, 18), np.linspace(50, 400, 18), 0.9
    poses = [PoseFrame(body=body + i) for i in range(3)]
    clip = Clip([0, 1, 2], poses, (640, 480), 25.0, [], ["detected"] * 3)
    window.motion_panel.set_motion(clip)
    window.project.set_clip(clip)
    window.project.set({"alignment.offset_x": 0.12, "steps": 17})
    result = make_result(Path(argv[1]))
    load = window.open_result(0, str(result))
    wait_for(load.isFinished, what="the result")
    saved = window.write_last_autosave()
    wait_for(saved.isFinished, what="the autosave")
    print(json.dumps({"request": window.project.request.to_dict(), "result": str(result),
                      "clip": [p.to_json() for p in clip.poses]}), flush=True)
    app.processEvents()
    os._exit(3)  # a crash: no close event, no clean end of the session


if __name__ == "__main__":
    main(sys.argv)
