"""Motion panel: open or drop a driving video, play it (frames painted by the window), scrub, trim,
and extract the skeleton, which is then drawn over the playing frames with the followed person's box.

"Pick person" (issue 19) finds the people on the shown frame off the GUI thread, draws their boxes, and a click
on one sets the request's ``person`` to ``@F:X,Y`` (frame F, source pixel X,Y) and extracts again with it."""

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

from studio.errors import StudioError
from studio.project import Clip
from studio.request.render_request import IMAGE_SUFFIXES, RenderRequest
from studio.request.schema import setting_by_path
from studio.system.progress import Progress
from ui import core
from ui.frame_view import FrameView
from ui.gap_strip import GapStrip
from ui.player_bar import PlayerBar
from ui.workers import LatestOnly, Task, TaskRunner

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
    person_changed = Signal()  # the user picked someone (``person``)

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
        #: Who to follow (the request's ``person``: "auto", "N" or "@F:X,Y").
        self.person = "auto"
        self._box_by_index: dict[int, object] = {}
        #: While picking: (frame, the people found on it) once they are known.
        self._picking = False
        self._people: tuple[int, list] | None = None
        self._people_asked: int | None = None
        self._people_finder = LatestOnly(runner, "find people")

        self.view = FrameView("Drop a driving video here or press Ctrl+Shift+O", accept_drops=True)
        self.view.files_dropped.connect(lambda paths: self.load(paths[0]))
        self.view.picked.connect(self._clicked)
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
        self.pick_button = QPushButton("Pick person…")
        self.pick_button.setCheckable(True)
        self.pick_button.setToolTip("Choose who to follow when the clip shows several people: boxes mark the "
                                    "people on the shown frame; click one and the motion is extracted again "
                                    "following them. Click the button again to stop picking.")
        self.pick_button.toggled.connect(self.set_picking)
        self.person_label = QLabel("")
        self.person_label.setObjectName("followed_person")
        self.person_label.setWordWrap(True)
        self.person_label.setToolTip("Who the extraction follows. While picking: the people found on the shown "
                                     "frame have numbered boxes; someone without a box may be found on another "
                                     "frame.")

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
        person_row = QHBoxLayout()
        person_row.addWidget(self.pick_button)
        person_row.addWidget(self.person_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.player)
        layout.addWidget(self.gaps)
        layout.addLayout(trim_row)
        layout.addLayout(actions)
        layout.addLayout(person_row)
        self._refresh_extract_state()
        self._show_person()

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
        self.set_picking(False)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.path, self.info, self.motion, self._pose_by_index = path, info, None, {}
        self._box_by_index = {}
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
        candidates = [p.box for p in self._people[1]] if self._people and self._people[0] == index else []
        size = (self.info.width, self.info.height) if self.info is not None else None
        self.view.set_person_boxes(self._box_by_index.get(index), candidates, size)
        if self._picking and self._people_asked != index:
            self._find_people_on(index)
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
        self.pick_button.setEnabled(reason is None and self.path is not None and not running)
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
        person = self.person

        def work(report, _preview, cancel):
            return core.extract_motion(path, start, end, stride, max_frames, report, cancel, person)

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
        self._box_by_index = {} if motion is None or motion.person_boxes is None else dict(
            zip(motion.indices, motion.person_boxes, strict=True))
        self._show_person()
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

    # who is followed ---------------------------------------------------------------------------------
    def set_person(self, person: str) -> None:
        """Show the project's ``person`` (the next extraction follows them)."""
        self.person = str(person)
        self._show_person()

    def _show_person(self) -> None:
        if self._picking:
            return  # the label holds the picking hint
        text = f"Following: {describe_person(self.person)}"
        if self.motion is not None and self.motion.person != self.person:
            text += " (extract again to apply)"
        self.person_label.setText(text)

    def set_picking(self, on: bool) -> None:
        """Start or stop picking the person to follow on the shown frame."""
        on = bool(on and self.frames and self.path is not None and self.extract_task is None)
        self._picking, self._people, self._people_asked = on, None, None
        self.pick_button.blockSignals(True)
        self.pick_button.setChecked(on)
        self.pick_button.blockSignals(False)
        self.view.set_picking(on)
        if on:
            self.player.stop()
        self._show_person()
        self.show_frame(self.current_frame())  # (asks for the people on it when picking)

    def picking(self) -> bool:
        return self._picking

    def _find_people_on(self, frame: int) -> None:
        """Find the people on source frame ``frame`` on a worker thread (only the newest request counts)."""
        self._people_asked = frame
        self.person_label.setText(f"Finding the people on frame {frame}…")
        path = self.path

        def work():
            try:
                return path, frame, core.find_people(path, frame), None
            except StudioError as error:
                return path, frame, [], str(error)

        self._people_finder.submit(work, self._people_found)

    def _people_found(self, result) -> None:
        path, frame, people, error = result
        if not self._picking or path != self.path or frame != self.current_frame():
            return  # picking stopped, another video, or another frame shown meanwhile
        if error:
            self.failed.emit(error)
        self._people = (frame, people)
        self.person_label.setText(f"Click a person to follow (frame {frame}: {len(people)} found)" if people
                                  else f"Nobody found on frame {frame}: try another frame")
        self.show_frame(frame)

    def _clicked(self, x: float, y: float) -> None:
        frame = self.current_frame()
        if self._people is None or self._people[0] != frame:
            self.failed.emit(f"Still finding the people on frame {frame}; click when their boxes show.")
            return
        if core.person_at(self._people[1], x, y) is None:
            self.failed.emit(f"No person at that point on frame {frame}: click inside one of the numbered boxes "
                             "(someone without a box was not found on this frame: try another frame).")
            return
        assert self.info is not None  # (a frame is shown)
        x = min(max(round(x), 0), self.info.width - 1)
        y = min(max(round(y), 0), self.info.height - 1)
        self.person = f"@{frame}:{x},{y}"
        self.set_picking(False)
        self.person_changed.emit()  # (saved in the project: the request's ``person``)
        self.extract()


def describe_person(person: str) -> str:
    """The request's ``person`` in words."""
    if person == "auto":
        return "the most prominent person"
    if person.startswith("@"):
        return f"the person picked on frame {person[1:].split(':')[0]}"
    return f"person {person} from the left"
