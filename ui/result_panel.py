"""Result panel: reference | pose | result side by side, one scrubber for all three, the identity plot
under the timeline, and live step previews while a preview render runs."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ui import core, render_bridge
from ui.frame_view import FrameView
from ui.gap_strip import INTERPOLATED_COLOURS, GapStrip
from ui.identity_plot import IdentityPlot
from ui.player_bar import PlayerBar
from ui.workers import TaskRunner

logger = logging.getLogger(__name__)


class ResultPanel(QWidget):
    result_loaded = Signal(str)

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.path: str | None = None
        self.frames: list[np.ndarray] = []
        self.pose_frames: list[np.ndarray] = []
        self.reference: np.ndarray | None = None
        self.caption = ""
        self.reference_view = FrameView("", tag="reference")
        self.pose_view = FrameView("", tag="pose")
        self.result_view = FrameView("The rendered result appears here.\nPreview: Ctrl+P   Render: Ctrl+R",
                                     tag="result")
        self.player = PlayerBar()
        self.player.frame_changed.connect(self.show_frame)
        self.interpolated = GapStrip(colours=INTERPOLATED_COLOURS, plain="rendered",
                                     tooltip="Blue: frames the interpolator filled in (render every N-th frame)")
        self.interpolated.setVisible(False)
        self.identity = IdentityPlot()
        self.identity.frame_clicked.connect(self.player.set_frame)
        self.title = QLabel("<b>Result</b>")
        self.title.setWordWrap(True)
        views = QHBoxLayout()
        for view in (self.reference_view, self.pose_view, self.result_view):
            views.addWidget(view, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addLayout(views, 1)
        layout.addWidget(self.player)
        layout.addWidget(self.interpolated)
        layout.addWidget(self.identity)

    # live previews ---------------------------------------------------------------------------------
    def show_step_preview(self, payload) -> None:
        frame, step, total = payload if isinstance(payload, tuple) else (payload, 0, 0)
        self.result_view.set_frame(frame)
        self.result_view.set_caption(f"live preview — step {step}/{total} (latent approximation)")

    # results ---------------------------------------------------------------------------------------
    def set_reference(self, image: np.ndarray | None) -> None:
        self.reference = image
        self.reference_view.set_frame(image)

    def show_frames(self, frames: list[np.ndarray], pose_frames: list[np.ndarray], caption: str,
                    reference: np.ndarray | None = None, fps: float = 8.0, scores=None) -> None:
        """Show frames already in memory (the instant preview)."""
        self.frames, self.pose_frames, self.caption = list(frames), list(pose_frames), caption
        self.interpolated.set_status([])
        if reference is not None:
            self.reference_view.set_frame(reference)
        self.identity.set_scores(list(scores or []), "" if scores else "No identity scores for this result.")
        self.player.set_fps(fps)
        self.player.set_count(len(frames))
        self.show_frame(0)

    def load_result(self, mp4: str, pose_source=None):
        """Decode a finished mp4 for the player and read its sidecar's identity scores.

        ``pose_source()`` (run on the worker thread too) returns the matching skeleton frames; the sidecar is read
        there as well (a file on a slow or busy disk)."""
        self.title.setText(f"<b>Result</b> — {Path(mp4).name}")

        def work(report, _preview, cancel):
            sidecar = render_bridge.read_sidecar(mp4) or {}
            frames = core.read_preview_frames(mp4, 512, 2000, report, cancel)
            poses = pose_source() if pose_source is not None else None
            return frames, poses, sidecar

        task = self.runner.start("decode result", work)
        task.succeeded.connect(lambda result: self._decoded(mp4, result[0], result[2], result[1]))
        task.failed.connect(lambda m: self.result_view.set_placeholder(f"Could not read {mp4}: {m}"))
        return task

    def _decoded(self, mp4: str, frames: list[np.ndarray], sidecar: dict, poses=None) -> None:
        if poses is not None:
            self.pose_frames = list(poses)
        self.path = mp4
        engine = sidecar.get("engine", "")
        caption = ("warp preview — not model output" if engine == "warp"
                   else f"{engine} output" if engine else "")
        identity = sidecar.get("identity") or {}
        scores = identity.get("scores") or []
        self.identity.caption = f"identity: {identity['label']}" if identity.get("label") else "identity"
        fps = float((sidecar.get("output") or {}).get("fps") or 8.0)
        nearest = driving_frame_of(sidecar, len(frames))
        poses = ([self.pose_frames[i] for i in nearest]
                 if len(nearest) == len(frames) and max(nearest, default=-1) < len(self.pose_frames) else [])
        self.show_frames(frames, poses, caption, fps=fps, scores=scores)
        self.interpolated.set_status(frame_kinds(sidecar, len(frames)))
        if not scores:
            self.identity.set_scores([], identity.get("reason") or "No identity scores for this result.")
        logger.info("result %s: %d frames", mp4, len(frames))
        self.result_loaded.emit(mp4)

    def show_frame(self, index: int) -> None:
        if 0 <= index < len(self.frames):
            self.result_view.set_frame(self.frames[index])
            self.result_view.set_caption(self.caption)
        if 0 <= index < len(self.pose_frames):
            self.pose_view.set_frame(self.pose_frames[index])
        self.identity.set_current(index)

    def set_pose_frames(self, pose_frames: list[np.ndarray]) -> None:
        self.pose_frames = list(pose_frames)
        self.show_frame(self.player.frame())


def frame_kinds(sidecar: dict, count: int) -> list[str]:
    """"rendered" / "interpolated" per frame from a render sidecar (all rendered when it records no
    interpolation). With an output rate above the motion's, the record's ``moments`` say which driving frame (or
    moment between two) each output frame shows: only a whole driving frame the engine rendered is "rendered"."""
    record = sidecar.get("interpolation") or {}
    rendered = set(record.get("rendered_frames") or range(count))
    moments = record.get("moments")
    if moments:
        return ["rendered" if i < len(moments) and moments[i][1] == 0 and moments[i][0] in rendered
                else "interpolated" for i in range(count)]
    return ["rendered" if i in rendered else "interpolated" for i in range(count)]


def driving_frame_of(sidecar: dict, count: int) -> list[int]:
    """The driving frame nearest to each of ``count`` output frames (whose skeleton the pose view shows)."""
    moments = (sidecar.get("interpolation") or {}).get("moments")
    if not moments:
        return list(range(count))
    return [index + (1 if t >= 0.5 else 0) for index, t in moments[:count]]
