"""Motion panel: open or drop a driving video, play it (frames painted by the window), scrub, trim,
and extract the skeleton, which is then drawn over the playing frames."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.project import Clip
from studio.request.render_request import IMAGE_SUFFIXES, RenderRequest
from studio.request.schema import setting_by_path
from studio.system.progress import Progress
from ui import core
from ui.frame_view import FrameView
from ui.gap_strip import GapStrip
from ui.player_bar import PlayerBar
from ui.workers import Task, TaskRunner

logger = logging.getLogger(__name__)

VIDEO_FILTER = "Videos (*.mp4 *.mov *.webm *.mkv *.gif *.avi)"
#: The window keeps this many decoded frames, scaled to this longest side, for smooth scrubbing.
PLAYBACK_MAX_FRAMES = 600
PLAYBACK_MAX_SIDE = 480


class MotionPanel(QWidget):
    video_loaded = Signal(str, object)  # path, studio.media.VideoInfo
    motion_extracted = Signal(object)  # studio.project.Clip
    frame_changed = Signal(int)  # index into the playback frames (source frame index)
    trim_changed = Signal()
    extraction_started = Signal()
    extraction_ended = Signal()
    failed = Signal(str)

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.path: str | None = None
        #: the video being opened, until it is probed (a newer one wins over an older one still probing)
        self.opening: str | None = None
        self.info: core.VideoInfo | None = None
        self.frames: list[np.ndarray] = []
        self.motion: Clip | None = None
        self._pose_by_index: dict[int, object] = {}
        self.extract_task: Task | None = None
        #: Why the last extraction of this video failed (a render of it would fail the same way).
        self.extract_error: str | None = None
        self.max_frames: int | None = None

        self.view = FrameView("Drop a driving video here or press Ctrl+Shift+O", accept_drops=True)
        self.view.files_dropped.connect(lambda paths: self.load(paths[0]))
        self.open_button = QPushButton("Open…")
        self.open_button.setToolTip("Open the driving video (Ctrl+Shift+O). You can also drop it on the player.")
        self.open_button.clicked.connect(self.choose)
        self.player = PlayerBar()
        self.player.frame_changed.connect(self.show_frame)
        self.gaps = GapStrip()
        self.gaps.hide()
        self.info_label = QLabel("")
        self.info_label.setObjectName("video_info")

        # the trim editors: tooltips, decimals and the stride's range are the request's declarations; the trim's
        # upper end is the loaded video's duration (set when it opens)
        declared = setting_by_path(RenderRequest)
        self.start_spin = QDoubleSpinBox()
        self.end_spin = QDoubleSpinBox()
        for spin, name in ((self.start_spin, "start"), (self.end_spin, "end")):
            spin.setRange(declared[name].minimum or 0, 999)
            spin.setSuffix(" s")
            spin.setDecimals(declared[name].decimals)
            spin.setToolTip(declared[name].help)
        self.end_spin.setSpecialValueText(declared["end"].unset or "")
        self.stride_spin = QSpinBox()
        self.stride_spin.setRange(int(declared["stride"].minimum or 1), int(declared["stride"].maximum or 1))
        self.stride_spin.setToolTip(declared["stride"].help)
        for spin in (self.start_spin, self.end_spin, self.stride_spin):
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(lambda _v: self.trim_changed.emit())

        self.extract_button = QPushButton("Extract motion")  # tooltip: _refresh_extract_state
        self.extract_button.clicked.connect(self.extract)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_extraction)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setMinimumWidth(64)  # the text is short ("37%", "failed"); the buttons keep their room
        self.progress.setValue(0)

        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Motion</b>"))
        top.addWidget(self.info_label, 1)
        top.addStretch(1)
        top.addWidget(self.open_button)
        trim_row = QHBoxLayout()
        trim_row.setSpacing(4)
        trim_row.addWidget(self.start_spin, 1)
        trim_row.addWidget(QLabel("to"))
        trim_row.addWidget(self.end_spin, 1)
        trim_row.addWidget(QLabel("every"))
        trim_row.addWidget(self.stride_spin)
        actions = QHBoxLayout()
        actions.addWidget(self.extract_button)
        actions.addWidget(self.cancel_button)
        actions.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.player)
        layout.addWidget(self.gaps)
        layout.addLayout(trim_row)
        layout.addLayout(actions)
        self._refresh_extract_state()

    # loading ---------------------------------------------------------------------------------------
    def choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open driving video", "", VIDEO_FILTER)
        if path:
            self.load(path)

    def load(self, path: str) -> Task | None:
        """Open a video on a worker thread: probing it starts ffmpeg (a process: up to a second on a busy machine)
        and decoding takes longer. The video shows as opened once probed (``video_loaded``); the returned task
        ends when its frames are decoded. A video that cannot be opened leaves the one shown before in place."""
        if Path(path).suffix.lower() in IMAGE_SUFFIXES:  # a photo dropped here: it has no motion to give
            self.failed.emit(f"{Path(path).name} is a photo, not a video: drop it on the Photo panel, and open a "
                             "driving video here.")
            return None
        path = str(path)
        self.opening = path
        self.info_label.setText(f"opening {Path(path).name}…")

        def work(report, probed, cancel):
            info = core.probe_video(path)
            probed(info)  # (the first report always goes through: the panel shows the video before its frames)
            return core.read_preview_frames(path, PLAYBACK_MAX_SIDE, PLAYBACK_MAX_FRAMES, report, cancel)

        task = self.runner.start("open video", work)
        task.previewed.connect(lambda info, p=path: self._probed(p, info))
        task.succeeded.connect(lambda frames, p=path: self._decoded(p, frames))
        task.failed.connect(lambda message, p=path: self._open_failed(p, message))
        return task

    def _probed(self, path: str, info: core.VideoInfo) -> None:
        if path != self.opening:
            return  # another video was opened meanwhile
        self.opening = None
        self.extract_error = None
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.path, self.info, self.motion, self._pose_by_index = path, info, None, {}
        self.frames = []
        self.player.stop()
        self.player.set_count(0)
        self.player.set_fps(info.fps)
        self.view.set_pose(None)
        self.view.set_frame(None)
        self.view.set_placeholder("Decoding…")
        self.end_spin.setMaximum(max(0.0, round(info.duration, 1) + 0.1))
        self.start_spin.setMaximum(max(0.0, round(info.duration, 1) + 0.1))
        self.info_label.setText(f"{info.width}×{info.height} · {info.fps:.3g} fps · {info.duration:.1f} s")
        self.info_label.setToolTip(f"{Path(path).name}: {info.width}×{info.height}, {info.fps:.2f} fps, "
                                   f"{info.frame_count} frames, {info.duration:.2f} s")
        logger.info("driving video %s: %s fps, %s frames", path, info.fps, info.frame_count)
        self.video_loaded.emit(self.path, info)
        self._refresh_extract_state()

    def _open_failed(self, path: str, message: str) -> None:
        if path == self.opening:  # not even probed: the video shown before stays
            self.opening = None
            self.info_label.setText("<span style='color:#ff7b72'>not a video</span>")
            self.info_label.setToolTip(message)
            self.failed.emit(message)
        elif path == self.path:
            self._decode_failed(message)

    def _decoded(self, path: str, frames: list[np.ndarray]) -> None:
        if path != self.path:
            return
        self.frames = frames
        self.player.set_count(len(frames))
        self.show_frame(0)

    def _decode_failed(self, message: str) -> None:
        self.view.set_placeholder(f"Could not decode the video: {message}")
        self.failed.emit(message)

    # playback --------------------------------------------------------------------------------------
    def show_frame(self, index: int) -> None:
        if not self.frames:
            return
        index = max(0, min(index, len(self.frames) - 1))
        self.view.set_frame(self.frames[index])
        pose = self._pose_by_index.get(index)
        self.view.set_pose(pose, self.motion.source_size if (pose is not None and self.motion) else None)
        self.frame_changed.emit(index)

    def current_frame(self) -> int:
        return self.player.frame()

    # trim ------------------------------------------------------------------------------------------
    def trim(self) -> tuple[float, float | None, int]:
        end = self.end_spin.value()
        return self.start_spin.value(), (end if end > 0 else None), self.stride_spin.value()

    def set_trim(self, start: float, end: float | None, stride: int) -> None:
        for spin in (self.start_spin, self.end_spin, self.stride_spin):
            spin.blockSignals(True)
        self.start_spin.setValue(start)
        self.end_spin.setValue(end or 0.0)
        self.stride_spin.setValue(stride)
        for spin in (self.start_spin, self.end_spin, self.stride_spin):
            spin.blockSignals(False)
        self.trim_changed.emit()

    # extraction ------------------------------------------------------------------------------------
    def _refresh_extract_state(self) -> None:
        # The backend check imports mediapipe (~0.7 s): not before a video is open, so the window starts
        # without it; by then the background warm-up has usually imported it.
        reason = core.motion_available() if self.path is not None else None
        running = self.extract_task is not None
        self.extract_button.setEnabled(reason is None and self.path is not None and not running)
        self.cancel_button.setEnabled(running)
        self.extract_button.setToolTip(reason or "Find the skeleton in every selected frame (embedded mediapipe "
                                                 "backend; no download). Results are cached.")

    def extract(self) -> Task | None:
        if self.path is None or self.extract_task is not None:
            return None
        reason = core.motion_available()
        if reason:
            self.failed.emit(reason)
            return None
        path = self.path
        start, end, stride = self.trim()
        max_frames = self.max_frames

        def work(report, _preview, cancel):
            return core.extract_motion(path, start, end, stride, max_frames, report, cancel)

        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        task = self.runner.start("extract motion", work)
        self.extract_task = task
        task.progressed.connect(self._extract_progress)
        task.succeeded.connect(lambda motion, p=path: self._extracted(p, motion))
        task.failed.connect(self._extract_failed)
        task.was_cancelled.connect(self._extract_cancelled)
        task.finished.connect(self._extract_finished)
        self._refresh_extract_state()
        self.extraction_started.emit()  # (the window's Cancel and Esc follow it)
        return task

    def cancel_extraction(self) -> None:
        if self.extract_task is not None:
            self.extract_task.cancel()

    def _extract_progress(self, progress: Progress) -> None:
        self.progress.setMaximum(max(1, progress.total))
        self.progress.setValue(progress.current)

    def _extracted(self, path: str, motion: Clip) -> None:
        if path != self.path:
            return
        self.extract_error = None
        self.set_motion(motion)
        self.progress.setFormat(f"{len(motion.poses)} poses")
        self.progress.setValue(self.progress.maximum())
        for warning in motion.warnings:
            logger.warning("motion: %s", warning)
        self.motion_extracted.emit(motion)

    def set_motion(self, motion: Clip | None) -> None:
        self.motion = motion
        self._pose_by_index = {} if motion is None else dict(zip(motion.indices, motion.poses, strict=True))
        notes = [] if motion is None else [w for w in motion.warnings if "no person" in w]
        self.gaps.set_status(getattr(motion, "status", None), notes[0] if notes else "")
        self.show_frame(self.current_frame())

    def _extract_failed(self, message: str) -> None:
        self.extract_error = message
        self.progress.setValue(0)  # an empty bar: nothing was extracted
        self.progress.setFormat("failed")
        self.failed.emit(message)

    def _extract_cancelled(self) -> None:
        self.progress.setFormat("cancelled")
        self.progress.setValue(0)

    def _extract_finished(self) -> None:
        self.extract_task = None
        self._refresh_extract_state()
        self.extraction_ended.emit()
