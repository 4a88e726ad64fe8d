"""The studio's main window: panels in docks, menus and shortcuts, and the wiring between them.

The work being edited is one ``studio.project.Project`` (the render request, seed lock, output folder and
the prepared results); panels bind their editors to its fields and follow its change events, and its
undo history is the window's Edit → Undo. Renders go through one ``studio.service.Studio``. The previews,
renders and queueing live in ``ui.render_actions``.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.preferences import Preferences, use_preferred_data_folder
from studio.project import PROJECT_SUFFIX, Change, Project, empty_request
from studio.service import Studio
from studio.system.progress import Progress
from ui import render_bridge
from ui.alignment_view import AlignmentView
from ui.bindings import Binding, bind
from ui.gui_process import keep_gui_thread_free
from ui.help_menu import build_help_menu
from ui.log_panel import LogPanel
from ui.memory_label import MemoryLabel
from ui.message_bar import MessageBar
from ui.models_dialog import ModelsDialog
from ui.motion_panel import MotionPanel
from ui.output_folder import OutputFolderRow
from ui.parameter_panel import ParameterPanel
from ui.preferences_dialog import PreferencesActions
from ui.queue_panel import QueuePanel
from ui.reference_panel import ReferencePanel
from ui.render_action_texts import DRAFT_NAME, INSTANT_NAME, RENDER_NAME
from ui.render_actions import RenderActions
from ui.result_panel import ResultPanel
from ui.session_actions import CLOSING_AUTOSAVE_WAIT_MS, SessionActions
from ui.settings_store import SettingsStore
from ui.transport_keys import add_transport_actions
from ui.undo_commit import CommitBeforeUndo
from ui.warm_up import warm_up
from ui.workers import LatestOnly, Task, TaskRunner

logger = logging.getLogger(__name__)

#: Share of the window the Settings dock gets when shown (at least what its editors need); below the
#: least share (the window grew) it is given its share again; a dock dragged wider than the most share
#: is put back before the layout is saved.
SETTINGS_SHARE, SETTINGS_MIN_SHARE, SETTINGS_MAX_SHARE = 0.27, 0.23, 0.45
#: The least width of the Settings dock: its form keeps a label and the widest choice (the format) side by side.
SETTINGS_LEAST_WIDTH = 310
#: Share of the window height the Queue / Log docks get when shown (at least what the queue needs).
QUEUE_SHARE = 0.22
#: How long a passing status note stays in the status bar (important messages go to the message area).
STATUS_MS = 10000
LAST_PROJECT_KEY = "project/last"
#: The smallest window (the layout audit proves every state fits it): a 1280×720 screen minus its panels, or
#: a 1366×768 laptop at 125 % scaling.
MIN_WINDOW = (1024, 640)


class MainWindow(SessionActions, RenderActions, PreferencesActions, QMainWindow):
    def __init__(self, settings: SettingsStore | None = None, studio: Studio | None = None) -> None:
        super().__init__()
        keep_gui_thread_free()  # (libraries that would hold the interpreter lock: see ui.gui_process)
        self.setWindowTitle("StableAnimator Studio")
        self.setObjectName("MainWindow")
        self.settings = settings or SettingsStore()
        preferences = Preferences.from_dict(self.settings.preferences())
        #: A preferred data folder that cannot be used now (a drive not mounted): said once the window is up.
        self._data_folder_problem = use_preferred_data_folder(preferences)  # before the queue and autosave open
        self.studio = studio or Studio()
        self.studio.preferences = preferences
        self.runner = TaskRunner(self)
        self.project = Project(empty_request())
        self.project.align_in_background(LatestOnly(self.runner, "re-align").submit)  # MediaPipe off the GUI thread
        self.project_path: str | None = None
        self.preview_task: Task | None = None
        self.instant_task: Task | None = None
        self.export_task: Task | None = None
        self.last_result: str | None = None
        self._init_session()
        self._docks_sized = False
        #: Whether the Queue and Log docks are tabbed beside Settings (a short window) or under the panels.
        self._compact_docks: bool | None = None

        self.reference_panel = ReferencePanel(self.runner, self.studio.analyse_reference)
        self.motion_panel = MotionPanel(self.runner)
        self.alignment_view = AlignmentView(self.project)
        self.parameter_panel = ParameterPanel(self.project)
        self.result_panel = ResultPanel(self.runner)
        self.queue_panel = QueuePanel(self.runner, self.studio)
        self.log_panel = LogPanel()
        self.message_bar = MessageBar()

        top = QSplitter(Qt.Orientation.Horizontal)
        for panel in (self.reference_panel, self.motion_panel, self.alignment_view):
            top.addWidget(panel)
        top.setChildrenCollapsible(False)
        centre = QSplitter(Qt.Orientation.Vertical)
        centre.addWidget(top)
        centre.addWidget(self.result_panel)
        centre.setChildrenCollapsible(False)
        centre.setSizes([400, 440])
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(4, 4, 4, 0)
        central_layout.addWidget(self.message_bar)
        central_layout.addWidget(centre, 1)
        self.setCentralWidget(central)
        self.output_folder_row = OutputFolderRow(self.project, lambda: self.project_path,
                                                 lambda: self.studio.preferences)
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.addWidget(self.parameter_panel, 1)
        settings_layout.addWidget(self.output_folder_row)
        self.settings_dock = self._dock("Settings", settings, Qt.DockWidgetArea.RightDockWidgetArea)
        self.queue_dock = self._dock("Queue", self.queue_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.log_dock = self._dock("Log", self.log_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        # side by side, not tabbed: a tab bar would cost the height the queue table needs
        self.splitDockWidget(self.queue_dock, self.log_dock, Qt.Orientation.Horizontal)

        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(240)
        self.progress_bar.hide()
        self.statusBar().addPermanentWidget(self.progress_bar)

        self._build_actions()
        self._connect()
        self.memory_label.update_for(self.studio.preferences.resolve(self.project.request))  # as it will render
        # an explicit minimum: the layout's own (panels plus docks under them) is taller than a laptop screen;
        # below that height the docks are tabbed instead (``_arrange_docks``)
        self.setMinimumSize(*MIN_WINDOW)
        self._restore_settings()
        self.update_actions()
        self._begin_session()
        if self._data_folder_problem:
            self.show_error(self._data_folder_problem)
        self._commit_before_undo = CommitBeforeUndo(self)
        QApplication.instance().installEventFilter(self._commit_before_undo)
        self._warmup_thread: threading.Thread | None = None
        QTimer.singleShot(0, self._warm_up)

    def picture_views(self) -> list[QWidget]:
        """The pictures a person judges the work by (the layout audit keeps them from being squeezed)."""
        return [self.reference_panel.view, self.motion_panel.view, self.alignment_view.view,
                self.result_panel.result_view]

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
        action.setToolTip(tip or text.replace("&", ""))
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
        # (their tooltips and status tips follow the engine and the output folder: ``describe_render_actions``)
        self.instant_action = self._action(INSTANT_NAME, self.instant_preview, "Ctrl+I")
        self.preview_action = self._action(DRAFT_NAME, self.quick_preview, "Ctrl+P")
        self.render_action = self._action(RENDER_NAME, self.queue_render, "Ctrl+R")
        self.batch_action = self._action("Queue &batch…", self.choose_batch, "Ctrl+Shift+R",
                                         "Queue every chosen photo × every chosen video with these settings")
        self.cancel_action = self._action("&Cancel", self.cancel_current, "Esc",
                                          "Cancel the running preview / extraction / render")
        self.export_action = self._action("E&xport result…", self.export_result, "Ctrl+Shift+E",
                                          "Save a copy of the shown result")
        self.models_action = self._action("&Models…", self.show_models, "Ctrl+M",
                                          "Choose and check the weights folder")
        self.undo_action = self._action("&Undo", self.project.undo, key.Undo)
        self.redo_action = self._action("&Redo", self.project.redo, key.Redo)

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
        edit.addSeparator()
        self.build_preferences_action(edit)
        render = self.menuBar().addMenu("&Render")
        for a in (self.extract_action, self.instant_action, self.preview_action, self.render_action,
                  self.batch_action, self.cancel_action):
            render.addAction(a)
        render.addSeparator()
        render.addAction(self.models_action)
        self.transport_actions = add_transport_actions(self, self.menuBar().addMenu("&Playback"))
        self.view_menu = self.menuBar().addMenu("&View")
        for dock in self.findChildren(QDockWidget):
            self.view_menu.addAction(dock.toggleViewAction())
        build_help_menu(self)
        toolbar = self.toolbar = self.addToolBar("Main")
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
        self.motion_panel.extraction_started.connect(self.update_actions)
        self.motion_panel.extraction_ended.connect(self.update_actions)
        self.motion_panel.frame_changed.connect(self.alignment_view.show_source_frame)
        self.alignment_view.instant_requested.connect(self.instant_preview)
        self.queue_panel.job_finished.connect(self._job_finished)
        self.queue_panel.open_requested.connect(self.open_result)
        self.queue_panel.job_state_changed.connect(self._job_state_changed)
        self.queue_panel.job_failed.connect(self._job_failed)
        self.queue_panel.problem.connect(self.show_error)
        self.queue_panel.jobs_added.connect(self._jobs_queued)
        for panel in (self.reference_panel, self.motion_panel):
            panel.failed.connect(self.show_error)
        self.runner.busy_changed.connect(lambda _busy: self.update_actions())
        self.project.subscribe(self._project_changed)
        self.bindings = self._bind_panels()

    def _bind_panels(self) -> list[Binding]:
        """The panels' own fields, shown from and written to the project in one place (``ui.bindings``)."""
        motion, trim = self.motion_panel, ("start", "end", "stride")
        return [
            bind(self.project, trim, lambda v: motion.set_trim(v["start"], v["end"], v["stride"]),
                 edited=motion.trim_changed, read=lambda: dict(zip(trim, motion.trim(), strict=True)), text="Change trim"),
            bind(self.project, ("max_frames",), lambda v: setattr(motion, "max_frames", v["max_frames"])),
            bind(self.project, ("person",), lambda v: motion.set_person(v["person"]), edited=motion.person_changed,
                 read=lambda: {"person": motion.person}, text="Pick person"),
            bind(self.project, ("models",), lambda v: setattr(self.reference_panel, "models_dir", v["models"])),
        ]

    # the project -----------------------------------------------------------------------------------
    def _project_changed(self, change: Change) -> None:
        self._session_changed()
        if change.paths <= {"selection"}:
            return  # the timeline moved: nothing to render or estimate again
        self.memory_label.update_for(self.studio.preferences.resolve(self.project.request))  # as it will render
        self.update_actions()

    def _reference_loaded(self, path: str, image) -> None:
        self.project.set(reference=path, undoable=False)
        self._add_recent("photo", path)
        self.result_panel.set_reference(image)
        self.project.set_photo(image, None)

    def _reference_analyzed(self, _box, pose) -> None:
        self.project.set_photo(self.reference_panel.image, pose)

    def _video_loaded(self, path: str, _info) -> None:
        self.project.set(motion=path, undoable=False)
        self._add_recent("video", path)
        self.project.set_clip(None)

    def _motion_extracted(self, clip) -> None:
        self.project.set_clip(clip)
        self.show_status(f"Motion extracted: {len(clip.poses)} frames.")
        self.alignment_view.schedule_instant()

    def _warm_up(self) -> None:
        """Import the core's render, motion and face modules in the background once, while the person is
        still choosing files: importing torch/diffusers holds the interpreter lock for long stretches, so
        doing it at the first render would stall the window then. A daemon thread, not a Task: an import
        cannot be cancelled, and closing the window must not wait for one."""
        self.show_status("Loading the render engines in the background…")
        self._warmup_thread = threading.Thread(target=warm_up, name="warm up", daemon=True)
        self._warmup_thread.start()
        self._warmup_timer = QTimer(self)
        self._warmup_timer.setInterval(300)
        self._warmup_timer.timeout.connect(self._check_warmed_up)
        self._warmup_timer.start()

    def _check_warmed_up(self) -> None:
        if self.warmed_up():
            self._warmup_timer.stop()
            self.show_status("Ready.")

    def warmed_up(self) -> bool:
        return self._warmup_thread is not None and not self._warmup_thread.is_alive()

    # projects --------------------------------------------------------------------------------------
    def choose_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", f"Projects (*{PROJECT_SUFFIX} *.json)")
        if path:
            self.open_project(path)

    def open_project(self, path: str) -> bool:
        try:
            self.project.load(path)
        except Exception as exc:  # noqa: BLE001 - shown to the person
            self.show_error(str(exc))
            return False
        self.project_path = path
        self._open_project_files()
        self.mark_clean()
        self._add_recent("project", path)
        self.show_status(f"Opened project {path}")
        return True

    def _open_project_files(self) -> None:
        """Load the project's photo and video into the panels (the request already holds their paths)."""
        r = self.project.request
        if r.reference and Path(r.reference).is_file():
            self.reference_panel.load(r.reference)
        if r.motion and Path(r.motion).is_file():
            self.motion_panel.load(r.motion)
        for binding in self.bindings:  # the panels show the opened project's values even where nothing changed
            binding.refresh()
        self.update_actions()

    def save_project(self) -> str | None:
        if not self.project_path:
            return self.save_project_as()
        try:
            self.project.save(self.project_path)
        except OSError as exc:
            self.show_error(f"Could not save the project {self.project_path}: {exc.strerror or exc}. Choose "
                            "another folder with File → Save project as….")
            return None
        self.mark_clean()
        self._add_recent("project", self.project_path)
        self.show_status(f"Saved {self.project_path}")
        return self.project_path

    def save_project_as(self) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, "Save project", "untitled" + PROJECT_SUFFIX,
                                              f"Projects (*{PROJECT_SUFFIX})")
        if not path:
            return None
        # always the project suffix (Open project lists only those): "mydance" and "mydance.json" alike
        self.project_path = path.removesuffix(PROJECT_SUFFIX).removesuffix(".json") + PROJECT_SUFFIX
        return self.save_project()

    def open_samples(self) -> Task | None:
        """Load the bundled sample photo and motion; returns the motion's decode task."""
        from studio.system.assets import SAMPLE_MOTION, SAMPLE_PHOTO, asset_path

        photo, motion = asset_path(SAMPLE_PHOTO), asset_path(SAMPLE_MOTION)
        logger.info("opening the samples %s and %s", photo, motion)
        self.reference_panel.load(str(photo))
        return self.motion_panel.load(str(motion))

    def show_models(self) -> None:
        dialog = ModelsDialog(self.runner, self.project.request.models, self)
        if dialog.exec():
            self.set_models_dir(dialog.folder or None)

    def set_models_dir(self, folder: str | None) -> None:
        self.project.set(models=folder, undoable=False)
        self.settings.set_value("models_dir", folder or "")
        if folder and self.project.request.engine == "warp" and render_bridge.render_available("diffusion", folder) is None:
            # weights just added: the engine they are for (one undo step away from the warp engine)
            self.project.set(engine="diffusion", text="Use the diffusion engine", merge=False)
            self.show_status("Weights found: the engine is now diffusion (StableAnimator).")
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
        """A short, passing note (it clears itself)."""
        self.statusBar().showMessage(text, STATUS_MS)
        logger.info(text)

    def show_error(self, text: str) -> None:
        """An error, in full, in the message area above the panels (it stays until dismissed)."""
        self.message_bar.show_message(text, "error")
        self.statusBar().showMessage(f"⚠ {text}", STATUS_MS)
        logger.warning(text)

    def refresh_guidance(self) -> None:
        """Say in plain sight what to do next: load inputs, or add weights / use the warp engine."""
        if self.message_bar.isVisible() and self.message_bar.level == "error" or self._restore_offered:
            return  # an error (and the offer to restore a crashed session) stays until the person answers
        r = self.project.request
        no_weights = render_bridge.render_available("diffusion", r.models) is not None
        if not r.reference or not r.motion:
            text = "Start by opening a reference photo and a driving video (or drop them on the panels)."
            if no_weights:
                text += (" No model weights yet: the warp engine animates the photo without them (it is not "
                         "the model's output); for StableAnimator itself, add the weights.")
            actions = [("Open the samples", self.open_samples), ("Open photo…", self.reference_panel.choose),
                       ("Open video…", self.motion_panel.choose)]
            if no_weights:
                actions.append(("Add weights…", self.show_models))
            self.message_bar.show_message(text, "info", tuple(actions))
        elif r.engine == "diffusion" and no_weights:
            self.message_bar.show_message(render_bridge.render_available("diffusion", r.models), "warning",
                                          (("Add weights…", self.show_models),
                                           ("Use the warp engine", lambda: self.project.set(engine="warp"))))
        else:
            self.message_bar.dismiss()

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
        #: No saved layout: ``present`` shows the window maximized, i.e. filling the screen's free area.
        self.first_launch = not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry))
        if self.first_launch:
            self.setGeometry(self.screen().availableGeometry())  # (what showNormal returns to)
        self._fit_on_screen()
        if isinstance(state, QByteArray):
            self._docks_sized = self.restoreState(state)
        models = str(self.settings.value("models_dir", "") or "") or None
        saved = self.settings.value(LAST_PROJECT_KEY)
        if saved:
            try:
                self.project.load_dict(json.loads(saved), source="the last project")
            except Exception as exc:  # noqa: BLE001 - stale settings never stop the window
                logger.info("ignored the unreadable last project: %s", exc)
        if models and not self.project.request.models:
            self.project.set(models=models, undoable=False)
        if self.project.request.engine == "diffusion" and not self.project.request.models:
            # no weights at all: the engine that works here, and the message area says how to get the other
            self.project.set(engine="warp", undoable=False)
        self._open_project_files()

    def present(self) -> None:
        """Show the window: on a first launch it takes the screen's free area (never more), later it
        reopens where it was left, shrunk to the screen it is on."""
        if self.first_launch:
            self.showMaximized()
        else:
            self.show()

    def _fit_on_screen(self) -> None:
        """Never larger than the screen's free area (a layout saved on a bigger monitor), never off it."""
        free = self.screen().availableGeometry()
        frame = self.frameGeometry().size() - self.geometry().size()  # the title bar and borders
        width = min(self.width(), max(MIN_WINDOW[0], free.width() - frame.width()))
        height = min(self.height(), max(MIN_WINDOW[1], free.height() - frame.height()))
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        if not free.intersects(self.frameGeometry()):
            self.move(free.topLeft())

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self._arrange_docks()
        if not self._docks_sized:
            self._docks_sized = True
            self.size_docks()

    def _height_with_docks_below(self) -> int:
        """The least window height that holds the menus, toolbar, panels, status bar and the queue under them."""
        chrome = sum(w.sizeHint().height() for w in (self.menuBar(), self.toolbar, self.statusBar()))
        return chrome + self.centralWidget().minimumSizeHint().height() + self.queue_dock.minimumSizeHint().height()

    def _arrange_docks(self) -> None:
        """A short window tabs the Queue and Log docks beside Settings, so the pictures keep their height and
        nothing is drawn over anything; a tall one puts them back under the panels. Floating docks stay put."""
        compact = self.height() < self._height_with_docks_below()
        if compact == self._compact_docks:
            return
        self._compact_docks = compact
        self.queue_panel.set_narrow(compact)
        docked = [d for d in (self.queue_dock, self.log_dock) if not d.isFloating()]
        if compact:
            for dock in docked:
                self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
                self.tabifyDockWidget(self.settings_dock, dock)
            self.settings_dock.raise_()
        else:
            for dock in docked:
                self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
            if len(docked) == 2:
                self.splitDockWidget(self.queue_dock, self.log_dock, Qt.Orientation.Horizontal)
            if self._docks_sized:
                QTimer.singleShot(0, self.size_docks)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if self.isVisible():
            self._arrange_docks()
        if self._docks_sized and self.settings_dock.isVisible() and not self.settings_dock.isFloating() \
                and self.settings_dock.width() < max(SETTINGS_LEAST_WIDTH, self.width() * SETTINGS_MIN_SHARE):
            # a window made much larger: the settings grow with it instead of staying a strip
            QTimer.singleShot(0, self.size_docks)

    def size_docks(self) -> None:
        """Give the Settings dock and the queue their share of the window (never less than they need)."""
        settings_width = max(self.parameter_panel.minimumSizeHint().width(), SETTINGS_LEAST_WIDTH,
                             int(self.width() * SETTINGS_SHARE))
        self.resizeDocks([self.settings_dock], [settings_width], Qt.Orientation.Horizontal)
        if self._compact_docks:
            return  # the queue and log are tabs beside the settings
        queue_height = max(self.queue_panel.minimumSizeHint().height(), int(self.height() * QUEUE_SHARE))
        self.resizeDocks([self.queue_dock], [queue_height], Qt.Orientation.Vertical)
        self.resizeDocks([self.queue_dock, self.log_dock], [int(self.width() * 0.62), int(self.width() * 0.38)],
                         Qt.Orientation.Horizontal)

    def save_settings(self) -> None:
        if self.settings_dock.isVisible() and self.settings_dock.width() > self.width() * SETTINGS_MAX_SHARE:
            self.size_docks()  # never save a dock that swallowed the window
        self.settings.save_layout(self.saveGeometry(), self.saveState())
        self.settings.set_value(LAST_PROJECT_KEY, json.dumps(self.project.to_dict()))
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if not self.may_close():
            event.ignore()
            return
        self.save_settings()
        self.write_last_autosave(wait_ms=CLOSING_AUTOSAVE_WAIT_MS)  # on a worker; the shutdown waits for the rest
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop every background task and join its thread (closing, and the tests' teardown); after it a close
        asks nothing (there is nothing left to keep)."""
        self._closing_for_good = True
        self.queue_panel.stop()
        self.motion_panel.player.stop()
        self.result_panel.player.stop()
        self.memory_label.stop()
        self._join_last_autosave()
        if not self.runner.shutdown():
            # A task is still inside one call that cannot be interrupted (an import, a model load). A modal box
            # here would block a headless close forever and no thread may outlive the window, so say so in the
            # log and keep waiting: the task was cancelled and stops after that call.
            logger.warning("closing: waiting for a background task to finish its current step")
            self.runner.shutdown(timeout_ms=None)
        self.studio.close()  # the session's preview files
        self.log_panel.detach()
        self.session.end()
        QApplication.instance().removeEventFilter(self._commit_before_undo)
