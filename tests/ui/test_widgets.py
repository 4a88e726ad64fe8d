"""Small widgets: the identity plot's dips, drag-and-drop onto the panels, the frame view's painting."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from ui.frame_view import FrameView
from ui.identity_plot import IdentityPlot


def test_identity_plot_highlights_dips(qtbot):
    plot = IdentityPlot()
    qtbot.addWidget(plot)
    plot.resize(400, 80)
    plot.set_scores([0.8, 0.82, 0.79, 0.3, 0.81, None, 0.8])
    assert plot.dips() == [3, 5]  # a drop well below the median, and a frame with no face
    plot.show()
    image = plot.grab().toImage()
    assert any(image.pixelColor(x, y).red() > 150 and image.pixelColor(x, y).green() < 120
               for x in range(0, image.width(), 2) for y in range(0, image.height(), 2))  # the dip is drawn red
    plot.set_scores([])
    assert plot.dips() == []


def _drop(widget, path: str) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(path)])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)


def test_drop_photo_and_video(qtbot, window, sample_photo, sample_video):
    from tests.ui.conftest import wait_task

    _drop(window.reference_panel.view, sample_photo)
    assert window.project.request.reference == sample_photo
    _drop(window.motion_panel.view, sample_video)
    # (the video is probed on a worker thread: the project takes it once it is known to be a video)
    qtbot.waitUntil(lambda: window.project.request.motion == sample_video, timeout=60000)
    qtbot.waitUntil(lambda: len(window.motion_panel.frames) == 48, timeout=60000)
    for task in window.runner.running():
        wait_task(qtbot, task)


def test_frame_view_paints_frame_pose_and_caption(qtbot):
    from studio.motion.types import PoseFrame

    view = FrameView("nothing yet")
    qtbot.addWidget(view)
    view.resize(200, 200)
    view.show()
    blank = view.grab().toImage()
    frame = np.zeros((100, 100, 3), np.uint8)
    frame[:, :50] = (200, 40, 40)
    view.set_frame(frame)
    pose = PoseFrame()
    pose.body[1] = (50, 20, 1.0)
    pose.body[8] = (50, 90, 1.0)
    view.set_pose(pose)
    view.set_caption("warp preview — not model output")
    painted = view.grab().toImage()
    assert painted != blank
    assert painted.pixelColor(50, 100).red() > 150  # the left half of the frame, scaled to the view
    # the neck→hip limb is drawn in the middle column over the black half
    limb = [painted.pixelColor(x, y) for x in range(97, 104) for y in range(50, 170, 10)]
    assert sum(c.green() > 200 and c.red() < 60 for c in limb) >= 12


def test_the_identity_curve_says_which_model_scored_it(qtbot):
    from ui.result_panel import ResultPanel

    panel = ResultPanel(runner=None)
    qtbot.addWidget(panel)
    frames = [np.zeros((32, 32, 3), np.uint8)] * 3
    label = "dlib ResNet face descriptor, 5-point aligned (1 − distance; same person ≥ 0.4)"
    sidecar = {"engine": "warp", "output": {"fps": 8.0},
               "identity": {"scores": [0.9, 0.92, 0.91], "backend": "dlib-resnet", "label": label}}
    panel._decoded("result.mp4", frames, sidecar)
    assert panel.identity.scores == [0.9, 0.92, 0.91] and label in panel.identity.caption
    panel._decoded("old.mp4", frames, {"engine": "warp", "identity": {"scores": [0.5] * 3}})  # older sidecar
    assert panel.identity.caption == "identity"
