"""The studio's main window: panels in docks, menus and shortcuts, and the wiring between them.

Panels own their widgets and their own background tasks; this file only connects them, keeps the
session (what a project file saves) in step with the widgets, and starts previews and renders.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QWidget,
)

from studio.export_formats import export_format
from studio.paths import studio_home
from studio.progress import Progress
from ui import core, render_bridge
from ui.alignment_view import AlignmentView
from ui.log_panel import LogPanel
from ui.memory_label import MemoryLabel
from ui.models_dialog import ModelsDialog
from ui.motion_panel import MotionPanel
from ui.parameter_panel import ParameterPanel
from ui.parameter_specs import QUICK_PREVIEW
from ui.queue_panel import QueuePanel
from ui.reference_panel import ReferencePanel
from ui.result_panel import ResultPanel
from ui.session import PROJECT_SUFFIX, Session
from ui.settings_store import SettingsStore
from ui.warm_up import warm_up
from ui.workers import Task, TaskRunner

logger = logging.getLogger(__name__)

#: Frames the instant preview renders (small and quick: it refreshes as the nudge changes).
INSTANT_FRAMES = 12
INSTANT_SIZE = 256


class MainWindow(QMainWindow):
    def __init__(self, settings: SettingsStore | None = None) -> None:
        super().__init__()
        self.setWindowTitle("StableAnimator Studio")
        self.setObjectName("MainWindow")
        self.settings = settings or SettingsStore()
        self.runner = TaskRunner(self)
        self.undo_stack = QUndoStack(self)
        self.session = Session()
        self.project_path: str | None = None
        self.preview_task: Task | None = None
        self.instant_task: Task | None = None
        self.last_result: str | None = None

        self.reference_panel = ReferencePanel(self.runner)
        self.motion_panel = MotionPanel(self.runner)
        self.alignment_view = AlignmentView()
        self.parameter_panel = ParameterPanel(self.undo_stack)
        self.result_panel = ResultPanel(self.runner)
        self.queue_panel = QueuePanel(self.runner)
        self.log_panel = LogPanel()

        top = QSplitter(Qt.Orientation.Horizontal)
        for panel in (self.reference_panel, self.motion_panel, self.alignment_view):
            top.addWidget(panel)
        centre = QSplitter(Qt.Orientation.Vertical)
        centre.addWidget(top)
        centre.addWidget(self.result_panel)
        centre.setSizes([400, 440])
        self.setCentralWidget(centre)
        self._dock("Settings", self.parameter_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        queue_dock = self._dock("Queue", self.queue_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        log_dock = self._dock("Log", self.log_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(queue_dock, log_dock)
        queue_dock.raise_()
        settings_dock = self.findChild(QDockWidget, "dock_settings")
        self.resizeDocks([queue_dock], [170], Qt.Orientation.Vertical)
        self.resizeDocks([settings_dock], [450], Qt.Orientation.Horizontal)

        self.status_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(240)
        self.progress_bar.hide()
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.progress_bar)

        self._build_actions()
        self._connect()
        self.memory_label.update_for(self.parameter_panel.params, self.session.models)
        self.resize(1440, 900)
        self._restore_settings()
        self.update_actions()
        self.warmup_task: Task | None = None
        QTimer.singleShot(0, self._warm_up)

    # construction ----------------------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setToolTip(tip or text)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        key = QKeySequence.StandardKey
        self.open_photo_action = self._action("Open &photo…", self.reference_panel.choose, key.Open,
                                              "Open the reference photo")
        self.open_video_action = self._action("Open &video…", self.motion_panel.choose, "Ctrl+Shift+O",
                                              "Open the driving video")
        self.open_samples_action = self._action("Open the &samples", self.open_samples, None,
                                                "Load the bundled sample photo and motion")
        self.open_project_action = self._action("Open p&roject…", self.choose_project, "Ctrl+Shift+P")
        self.save_project_action = self._action("&Save project", self.save_project, key.Save)
        self.save_project_as_action = self._action("Save project &as…", self.save_project_as, key.SaveAs)
        self.quit_action = self._action("&Quit", self.close, key.Quit)
        self.extract_action = self._action("&Extract motion", self.motion_panel.extract, "Ctrl+E",
                                           "Extract and align the motion")
        self.instant_action = self._action("&Instant preview (warp)", self.instant_preview, "Ctrl+I",
                                           "Animate the photo with the warp engine (not the model's output)")
        self.preview_action = self._action("&Preview", self.quick_preview, "Ctrl+P",
                                           "A quick render: low resolution, few steps, few frames")
        self.render_action = self._action("&Render to queue", self.queue_render, "Ctrl+R",
                                          "Queue the full render")
        self.batch_action = self._action("Queue &batch…", self.choose_batch, "Ctrl+Shift+R",
                                         "Queue every chosen photo × every chosen video with these settings")
        self.cancel_action = self._action("&Cancel", self.cancel_current, "Esc",
                                          "Cancel the running preview / extraction / render")
        self.export_action = self._action("E&xport result…", self.export_result, "Ctrl+Shift+E",
                                          "Save a copy of the shown result")
        self.models_action = self._action("&Models…", self.show_models, "Ctrl+M",
                                          "Choose and check the weights folder")
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(key.Undo)
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcut(key.Redo)

        menu = self.menuBar().addMenu("&File")
        for a in (self.open_photo_action, self.open_video_action, self.open_samples_action):
            menu.addAction(a)
        self.recent_menu = menu.addMenu("Recent files")
        menu.addSeparator()
        for a in (self.open_project_action, self.save_project_action, self.save_project_as_action):
            menu.addAction(a)
        menu.addSeparator()
        menu.addAction(self.export_action)
        menu.addAction(self.quit_action)
        edit = self.menuBar().addMenu("&Edit")
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)
        render = self.menuBar().addMenu("&Render")
        for a in (self.extract_action, self.instant_action, self.preview_action, self.render_action,
                  self.batch_action, self.cancel_action):
            render.addAction(a)
        render.addSeparator()
        render.addAction(self.models_action)
        self.view_menu = self.menuBar().addMenu("&View")
        for dock in self.findChildren(QDockWidget):
            self.view_menu.addAction(dock.toggleViewAction())
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("toolbar_main")
        for a in (self.open_photo_action, self.open_video_action, self.extract_action, self.instant_action,
                  self.preview_action, self.render_action, self.cancel_action, self.models_action):
            toolbar.addAction(a)
        self.memory_label = MemoryLabel()  # the predicted peak memory, right after the Render button
        toolbar.insertWidget(self.cancel_action, self.memory_label)
        self._refresh_recent_menu()

    def _connect(self) -> None:
        self.reference_panel.reference_loaded.connect(self._reference_loaded)
        self.reference_panel.reference_analyzed.connect(self._reference_analyzed)
        self.motion_panel.video_loaded.connect(self._video_loaded)
        self.motion_panel.motion_extracted.connect(self._motion_extracted)
        self.motion_panel.extraction_ended.connect(self.update_actions)
        self.motion_panel.frame_changed.connect(self.alignment_view.show_source_frame)
        self.motion_panel.trim_changed.connect(self._trim_changed)
        self.alignment_view.alignment_changed.connect(self._alignment_changed)
        self.alignment_view.instant_requested.connect(self.instant_preview)
        self.parameter_panel.changed.connect(self._params_changed)
        self.queue_panel.job_finished.connect(self._job_finished)
        self.queue_panel.job_state_changed.connect(
            lambda job_id, state: self.show_status(f"Job {job_id} {state}."))
        for panel in (self.reference_panel, self.motion_panel):
            panel.failed.connect(self.show_error)
        self.runner.busy_changed.connect(lambda _busy: self.update_actions())

    # session ---------------------------------------------------------------------------------------
    def _reference_loaded(self, path: str, image) -> None:
        self.session.reference = path
        self._add_recent("photo", path)
        self.result_panel.set_reference(image)
        self.alignment_view.set_reference(image, None, self._out_size(), self._fit())
        self.update_actions()

    def _reference_analyzed(self, _box, pose) -> None:
        self.alignment_view.set_reference(self.reference_panel.image, pose, self._out_size(), self._fit())

    def _video_loaded(self, path: str, _info) -> None:
        self.session.motion = path
        self._add_recent("video", path)
        self.alignment_view.set_motion(None)
        self.motion_panel.max_frames = int(self.parameter_panel.params["max_frames"]) or None
        self.update_actions()

    def _motion_extracted(self, motion: core.Motion) -> None:
        self.alignment_view.set_motion(motion)
        self.show_status(f"Motion extracted: {len(motion.poses)} frames.")
        self.alignment_view.schedule_instant()

    def _trim_changed(self) -> None:
        self.session.start, self.session.end, self.session.stride = self.motion_panel.trim()
        self.alignment_view.schedule_instant()

    def _alignment_changed(self) -> None:
        method, ox, oy, scale = self.alignment_view.values()
        self.session.align_method, self.session.offset_x, self.session.offset_y, self.session.scale = \
            method, ox, oy, scale

    def _params_changed(self, params: dict) -> None:
        self.session.params = dict(params)
        self.memory_label.update_for(params, self.session.models)
        self.motion_panel.max_frames = int(params["max_frames"]) or None
        framing = (self._out_size(), self._fit())
        if framing != (self.alignment_view.out_size, self.alignment_view.fit) and self.reference_panel.image is not None:
            self.alignment_view.set_reference(self.reference_panel.image, self.reference_panel.pose, *framing)
        self.update_actions()

    def _out_size(self) -> tuple[int, int]:
        p = self.parameter_panel.params
        return int(p["width"]), int(p["height"])

    def _fit(self) -> str:
        return str(self.parameter_panel.params["fit"])

    def current_session(self) -> Session:
        s = self.session
        s.params = dict(self.parameter_panel.params)
        s.seed_locked = self.parameter_panel.seed_lock.isChecked()
        s.start, s.end, s.stride = self.motion_panel.trim()
        s.align_method, s.offset_x, s.offset_y, s.scale = self.alignment_view.values()
        return s

    def apply_session(self, session: Session) -> None:
        self.session = session
        self.parameter_panel.load_values(session.params)
        self.parameter_panel.seed_lock.setChecked(session.seed_locked)
        self.undo_stack.clear()
        self.alignment_view.set_values(session.align_method, session.offset_x, session.offset_y, session.scale)
        self.motion_panel.set_trim(session.start, session.end, session.stride)
        self.reference_panel.models_dir = session.models
        if session.reference and Path(session.reference).is_file():
            self.reference_panel.load(session.reference)
        if session.motion and Path(session.motion).is_file():
            self.motion_panel.load(session.motion)
        self.session = session
        self.update_actions()

    def _warm_up(self) -> None:
        """Import the core's render, motion and face modules in the background once, while the person is
        still choosing files: importing torch/diffusers holds the interpreter lock for long stretches, so
        doing it at the first render would stall the window then."""

        self.show_status("Loading the render engines in the background…")
        self.warmup_task = self.runner.start("warm up", warm_up)
        self.warmup_task.finished.connect(self._warmed_up)

    def _warmed_up(self) -> None:
        if self.status_label.text().startswith("Loading the render engines"):
            if self.session.models:
                self.show_status("Ready.")
            else:
                self.show_status("Ready. No weights folder yet: the motion tools and the warp engine's instant "
                                 "preview work now; the diffusion engine needs the weights (Models…, Ctrl+M). "
                                 "Try File → Open the samples.")

    def warmed_up(self) -> bool:
        return self.warmup_task is not None and self.warmup_task.isFinished()

    # projects --------------------------------------------------------------------------------------
    def choose_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", f"Projects (*{PROJECT_SUFFIX} *.json)")
        if path:
            self.open_project(path)

    def open_project(self, path: str) -> bool:
        try:
            session = Session.load(path)
        except Exception as exc:  # noqa: BLE001 - shown to the person
            self.show_error(str(exc))
            return False
        self.project_path = path
        self.apply_session(session)
        self._add_recent("project", path)
        self.show_status(f"Opened project {path}")
        return True

    def save_project(self) -> str | None:
        if not self.project_path:
            return self.save_project_as()
        self.current_session().save(self.project_path)
        self._add_recent("project", self.project_path)
        self.show_status(f"Saved {self.project_path}")
        return self.project_path

    def save_project_as(self) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, "Save project", "untitled" + PROJECT_SUFFIX,
                                              f"Projects (*{PROJECT_SUFFIX})")
        if not path:
            return None
        self.project_path = path
        return self.save_project()

    def open_samples(self) -> Task | None:
        """Load the bundled sample photo and motion; returns the motion's decode task."""
        from studio.assets import SAMPLE_MOTION, SAMPLE_PHOTO, asset_path

        photo, motion = asset_path(SAMPLE_PHOTO), asset_path(SAMPLE_MOTION)
        logger.info("opening the samples %s and %s", photo, motion)
        self.reference_panel.load(str(photo))
        return self.motion_panel.load(str(motion))

    # previews and renders --------------------------------------------------------------------------
    def _request(self, overrides: dict | None = None, seed: int | None = None):
        seed = self.parameter_panel.seed_for_render() if seed is None else seed
        return render_bridge.build_request(self.current_session(), self.parameter_panel.params, seed, overrides)

    def render_block_reason(self, engine: str | None = None) -> str | None:
        """Why a render cannot start now (None when it can)."""
        if not self.session.reference or not self.session.motion:
            return "Load a reference photo and a driving video first."
        problems = self.parameter_panel.problems()
        if problems:
            return "Fix the settings first: " + " ".join(problems.values())
        engine = engine or self.parameter_panel.params["engine"]
        return render_bridge.render_available(engine, self.session.models)

    def update_actions(self) -> None:
        reason = self.render_block_reason()
        for action in (self.preview_action, self.render_action, self.batch_action):
            action.setEnabled(reason is None)
            action.setToolTip(reason or action.statusTip())
        warp_reason = self.render_block_reason("warp")
        self.instant_action.setEnabled(warp_reason is None)
        self.alignment_view.instant_button.setEnabled(warp_reason is None)
        self.alignment_view.instant_button.setToolTip(warp_reason or self.instant_action.statusTip())
        self.extract_action.setEnabled(self.motion_panel.extract_button.isEnabled())
        self.export_action.setEnabled(self.last_result is not None)
        self.cancel_action.setEnabled(any(t is not None for t in (
            self.preview_task, self.instant_task, self.motion_panel.extract_task)))
        if reason and (self.session.reference and self.session.motion):
            self.status_label.setText(reason)

    def instant_preview(self) -> Task | None:
        reason = self.render_block_reason("warp")
        if reason:
            self.show_status(reason)
            return None
        if self.instant_task is not None:
            self.instant_task.cancel()  # the newest nudge wins
        w, h = self._out_size()
        scale = INSTANT_SIZE / max(w, h)
        size = {"width": max(64, int(w * scale) // 16 * 16), "height": max(64, int(h * scale) // 16 * 16)}
        request = self._request({"engine": "warp", **size}, seed=int(self.parameter_panel.params["seed"]))
        started = time.perf_counter()

        def work(report, _preview, cancel):
            return render_bridge.instant_frames(request, report, cancel, INSTANT_FRAMES)

        task = self.runner.start("instant preview", work)
        self.instant_task = task
        task.succeeded.connect(lambda result, t=task: self._instant_done(t, result, started))
        task.failed.connect(lambda m: self.show_error(f"Instant preview failed: {m}"))
        task.finished.connect(lambda t=task: self._clear_instant(t))
        self._track(task)
        return task

    def _instant_done(self, task: Task, result, started: float) -> None:
        if task is not self.instant_task:
            return
        frames, pose_images, prepared = result
        self.alignment_view.set_instant_frames(frames)
        self.result_panel.title.setText("<b>Result</b> — instant preview (warp engine)")
        self.result_panel.show_frames(frames, pose_images, "warp preview — not model output",
                                      reference=prepared.inputs.reference, fps=prepared.export_fps)
        self.show_status(f"Instant preview: {len(frames)} frames in {time.perf_counter() - started:.1f} s "
                         "(warp engine, not the model's output).")

    def _clear_instant(self, task: Task) -> None:
        if self.instant_task is task:
            self.instant_task = None
        self.update_actions()

    def _clear_preview(self) -> None:
        self.preview_task = None
        self.update_actions()

    def quick_preview(self) -> Task | None:
        reason = self.render_block_reason()
        if reason:
            self.show_error(reason)
            return None
        if self.preview_task is not None:
            return self.preview_task
        request = self._request(QUICK_PREVIEW)
        out = studio_home() / "previews" / f"preview_{int(time.time() * 1000)}.mp4"
        out.parent.mkdir(parents=True, exist_ok=True)

        def work(report, preview, cancel):
            return render_bridge.render_to_file(request, out, report, preview, cancel)

        task = self.runner.start("preview", work)
        self.preview_task = task
        task.previewed.connect(self.result_panel.show_step_preview)
        task.succeeded.connect(lambda result: self._preview_done(result))
        task.failed.connect(lambda m: self.show_error(f"Preview failed: {m}"))
        task.was_cancelled.connect(lambda: self.show_status("Preview cancelled."))
        task.finished.connect(self._clear_preview)
        self._track(task)
        return task

    def _preview_done(self, result) -> None:
        path = str(result.path)
        self.last_result = path
        self.result_panel.load_result(path, self._pose_source())
        self.show_status(f"Preview ready ({result.engine}, {result.seconds:.1f} s): {path}")
        self.update_actions()

    def queue_render(self, motions: list[str] | None = None, references: list[str] | None = None) -> list[int]:
        """Queue the full render: every photo × every motion (default: the loaded ones)."""
        reason = self.render_block_reason()
        if reason:
            self.show_error(reason)
            return []
        out_dir = Path(self.session.output_dir or (studio_home() / "renders"))
        out_dir.mkdir(parents=True, exist_ok=True)
        jobs = []
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for reference in references or [self.session.reference]:
            for motion in motions or [self.session.motion]:
                seed = self.parameter_panel.seed_for_render()
                request = self._request(seed=seed).replace(reference=reference, motion=motion)
                extension = export_format(request.export.format).extension
                name = f"{Path(reference).stem}_{Path(motion).stem}_{stamp}_{len(jobs)}{extension}"
                jobs.append((request, str(out_dir / name)))
        try:
            ids = self.queue_panel.add_jobs(jobs, batch=stamp)
        except Exception as exc:  # noqa: BLE001 - e.g. an unwritable output folder
            self.show_error(f"Could not queue the render: {exc}")
            return []
        self.show_status(f"Queued {len(ids)} render(s).")
        return ids

    def choose_batch(self) -> list[int]:
        from ui.motion_panel import VIDEO_FILTER
        from ui.reference_panel import IMAGE_FILTER

        photos, _ = QFileDialog.getOpenFileNames(self, "Batch: reference photos", "", IMAGE_FILTER)
        if not photos:
            return []
        videos, _ = QFileDialog.getOpenFileNames(self, "Batch: driving videos", "", VIDEO_FILTER)
        if not videos:
            return []
        return self.queue_render(motions=videos, references=photos)

    def _job_finished(self, job_id: int, output: str) -> None:
        self.last_result = output
        self.result_panel.load_result(output, self._pose_source())
        self.show_status(f"Job {job_id} finished: {output}")
        self.update_actions()

    def _pose_source(self):
        """A function (run off the GUI thread) drawing the aligned skeleton frames for the result's pose view."""
        w, h = self.alignment_view.out_size
        limit = int(self.parameter_panel.params["max_frames"]) or len(self.alignment_view.aligned)
        poses = list(self.alignment_view.aligned[:limit])

        def draw() -> list:
            return [core.draw_pose(p, w, h) for p in poses]

        return draw

    def cancel_current(self) -> None:
        for task in (self.preview_task, self.instant_task, self.motion_panel.extract_task):
            if task is not None:
                task.cancel()
        self.show_status("Cancelling…")

    def export_result(self) -> str | None:
        if not self.last_result:
            return None
        target, _ = QFileDialog.getSaveFileName(self, "Export result", Path(self.last_result).name, "Video (*.mp4)",
                                                options=QFileDialog.Option.DontConfirmOverwrite)  # asked below
        if not target:
            return None
        return self.export_result_to(target)

    def export_result_to(self, target: str) -> str | None:
        import shutil

        from studio.errors import ExportError
        from studio.export import check_outputs
        from studio.request import ExportOptions

        # never over an input, never over someone's folder or JSON, and a file only when the user says so
        sources = (self.last_result, self.session.reference, self.session.motion)
        try:
            check_outputs(target, ExportOptions(), sources)
        except ExportError as exc:
            replace = "already exists" in str(exc) and QMessageBox.question(
                self, "Replace?", f"{target} (or its .json sidecar) already exists. Replace it?",
            ) == QMessageBox.StandardButton.Yes
            try:
                if not replace:
                    raise
                check_outputs(target, ExportOptions(), sources, overwrite=True)
            except ExportError as refused:
                self.show_error(str(refused))
                return None
        shutil.copyfile(self.last_result, target)
        sidecar = Path(self.last_result).with_suffix(".json")
        if sidecar.is_file():
            shutil.copyfile(sidecar, Path(target).with_suffix(".json"))
        self.show_status(f"Exported {target}")
        return target

    def show_models(self) -> None:
        dialog = ModelsDialog(self.runner, self.session.models, self)
        if dialog.exec():
            self.set_models_dir(dialog.folder or None)

    def set_models_dir(self, folder: str | None) -> None:
        self.session.models = folder
        self.reference_panel.models_dir = folder
        self.settings.set_value("models_dir", folder or "")
        self.update_actions()

    # progress and messages -------------------------------------------------------------------------
    def _track(self, task: Task) -> None:
        task.progressed.connect(self._progress)
        task.finished.connect(self.progress_bar.hide)
        self.update_actions()

    def _progress(self, progress: Progress) -> None:
        self.progress_bar.show()
        self.progress_bar.setMaximum(max(1, progress.total))
        self.progress_bar.setValue(progress.current)
        self.progress_bar.setFormat(f"{progress.phase} %v/%m")

    def show_status(self, text: str) -> None:
        self.status_label.setText(text)
        logger.info(text)

    def show_error(self, text: str) -> None:
        self.status_label.setText(f"⚠ {text}")
        logger.warning(text)

    # settings --------------------------------------------------------------------------------------
    def _add_recent(self, kind: str, path: str) -> None:
        self.settings.add_recent(kind, path)
        self._refresh_recent_menu()

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        for kind, loader in (("photo", self.reference_panel.load), ("video", self.motion_panel.load),
                             ("project", self.open_project)):
            for path in self.settings.recent(kind):
                action = self.recent_menu.addAction(f"{kind}: {path}")
                action.triggered.connect(lambda _checked=False, p=path, f=loader: f(p))
        self.recent_menu.setEnabled(not self.recent_menu.isEmpty())

    def _restore_settings(self) -> None:
        geometry, state = self.settings.layout()
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)
        models = self.settings.value("models_dir", "")
        if models:
            self.set_models_dir(str(models))
        saved = self.settings.value("session/last")
        if saved:
            try:
                import json

                session = Session.from_dict(json.loads(saved))
                self.parameter_panel.load_values(session.params)
                self.parameter_panel.seed_lock.setChecked(session.seed_locked)
            except Exception:  # noqa: BLE001 - stale settings never stop the window
                logger.info("ignored unreadable saved settings")

    def save_settings(self) -> None:
        import json

        self.settings.save_layout(self.saveGeometry(), self.saveState())
        self.settings.set_value("session/last", json.dumps(self.current_session().to_dict()))
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.save_settings()
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop every background task and join its thread (closing, and the tests' teardown)."""
        self.queue_panel.stop()
        self.motion_panel.player.stop()
        self.result_panel.player.stop()
        if not self.runner.shutdown():
            # A task is still inside one call that cannot be interrupted (an import, a model load). A modal box
            # here would block a headless close forever and no thread may outlive the window, so say so in the
            # log and keep waiting: the task was cancelled and stops after that call.
            logger.warning("closing: waiting for a background task to finish its current step")
            self.runner.shutdown(timeout_ms=None)
        self.log_panel.detach()
