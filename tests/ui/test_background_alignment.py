"""Re-alignment (MediaPipe on the fitted photo) runs on a worker thread; the project is updated when it is back,
and a burst of edits aligns at most twice (the running request and the newest)."""

from __future__ import annotations

import threading

import numpy as np

from studio.motion.types import PoseFrame
from studio.project import Clip


def test_realignment_runs_off_the_gui_thread(qtbot, window, monkeypatch):
    release = threading.Event()
    calls: list[tuple[str, float]] = []

    class Aligned:
        def __init__(self, poses):
            self.poses = poses

    def fake_align(poses, status, source_size, fps, fitted, options, backend=None):
        calls.append((threading.current_thread().name, options.offset_x))
        release.wait(30)
        return Aligned(list(poses))

    monkeypatch.setattr("studio.motion.align_motion", fake_align)
    project = window.project
    pose = PoseFrame()
    pose.body[1], pose.body[8] = (50, 20, 1.0), (50, 80, 1.0)
    project.set_photo(np.zeros((100, 100, 3), np.uint8), pose)
    project.set_clip(Clip([0, 1, 2], [pose, pose, pose], (100, 100), 10.0))
    assert project.prepared.aligning  # the edit returned at once: the GUI thread did not wait
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=10000)
    for offset in (0.1, 0.2, 0.3):  # a slider drag while the first alignment runs
        project.set({"alignment.offset_x": offset})
    release.set()
    qtbot.waitUntil(lambda: not project.prepared.aligning, timeout=10000)
    assert len(project.prepared.aligned) == 3
    assert [offset for _, offset in calls] == [0.0, 0.3]  # the running one, then only the newest
    assert threading.main_thread().name not in {name for name, _ in calls}
