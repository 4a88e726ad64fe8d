"""The window's previews, renders and queueing (a mixin of ``ui.main_window.MainWindow``).

Every render takes ``project.request`` (with at most a preview's overrides) and goes through the
window's ``studio.service.Studio``; nothing here builds a request from widget values.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from studio.export.exporter import check_writable
from studio.request.render_request import RenderRequest
from ui import core, render_bridge
from ui.parameter_specs import quick_preview_changes
from ui.render_action_texts import INSTANT_FRAMES, INSTANT_SIZE, draft_text, instant_text, render_text
from ui.workers import Task


class RenderActions:
    # the attributes below are MainWindow's
    def render_request(self, seed: int | None = None, **overrides) -> RenderRequest:
        """The project's request for a render now: the seed it uses (drawn when unlocked) and overrides."""
        seed = self.project.seed_for_render() if seed is None else seed
        return self.project.request.replace(seed=seed, **overrides)

    def render_block_reason(self, engine: str | None = None) -> str | None:
        """Why a render cannot start now (None when it can)."""
        request = self.project.request
        if not request.reference or not request.motion:
            return "Load a reference photo and a driving video first."
        if self.motion_panel.extract_error and self.motion_panel.path == request.motion:
            return f"The motion could not be extracted ({self.motion_panel.extract_error}); open another video."
        problems = self.project.problems()
        interpolation = render_bridge.interpolation_problem(request)
        if interpolation:
            problems.append(interpolation)
        if problems:
            return "Fix the settings first: " + "; ".join(problems) + "."
        return render_bridge.render_available(engine or request.engine, request.models)

    def describe_render_actions(self) -> None:
        """Each render action's tooltip and status tip say what it renders, with which engine, how long and
        where the result goes (they follow the engine, the size and the output folder)."""
        request = self.project.request
        for action, text in ((self.instant_action, instant_text()), (self.preview_action, draft_text(request)),
                             (self.render_action, render_text(request, self.output_folder_row.folder()))):
            action.setStatusTip(text.status)
            action.setData(text.tip)  # the full tooltip while the action can run (a block reason replaces it)

    def update_actions(self) -> None:
        self.describe_render_actions()
        reason = self.render_block_reason()
        for action in (self.preview_action, self.render_action, self.batch_action):
            action.setEnabled(reason is None)
            action.setToolTip(f"{reason} ({action.data() or action.statusTip()})" if reason
                              else action.data() or action.statusTip())
        warp_reason = self.render_block_reason("warp")
        self.instant_action.setEnabled(warp_reason is None)
        self.instant_action.setToolTip(f"{warp_reason} ({self.instant_action.data()})" if warp_reason
                                       else self.instant_action.data())
        self.alignment_view.instant_button.setEnabled(warp_reason is None)
        self.alignment_view.instant_button.setToolTip(self.instant_action.toolTip())
        self.extract_action.setEnabled(self.motion_panel.extract_button.isEnabled())
        self.export_action.setEnabled(self.last_result is not None)
        self.cancel_action.setEnabled(any(t is not None for t in self._cancellable_tasks()))
        self.undo_action.setEnabled(self.project.can_undo())
        self.undo_action.setText(f"&Undo {self.project.undo_text()}".rstrip())
        self.redo_action.setEnabled(self.project.can_redo())
        self.redo_action.setText(f"&Redo {self.project.redo_text()}".rstrip())
        self.refresh_guidance()

    # instant preview (warp engine, in memory) --------------------------------------------------------
    def instant_preview(self) -> Task | None:
        reason = self.render_block_reason("warp")
        if reason:
            self.show_status(reason)
            return None
        if self.instant_task is not None:
            self.instant_task.cancel()  # the newest nudge wins
        r = self.project.request
        scale = INSTANT_SIZE / max(r.width, r.height)
        request = self.render_request(seed=r.seed, engine="warp",
                                      width=max(64, int(r.width * scale) // 16 * 16),
                                      height=max(64, int(r.height * scale) // 16 * 16))
        studio = self.studio
        started = time.perf_counter()

        def work(report, _preview, cancel):
            return studio.instant_frames(request, INSTANT_FRAMES, report, cancel)

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
        self.alignment_view.set_instant_frames(result.frames)
        self.result_panel.title.setText("<b>Result</b> — instant preview (warp engine)")
        self.result_panel.show_frames(result.frames, result.pose_images, "warp preview — not model output",
                                      reference=result.reference, fps=result.fps)
        self.show_status(f"Instant preview: {len(result.frames)} frames in {time.perf_counter() - started:.1f} s "
                         "(warp engine, not the model's output).")

    def _clear_instant(self, task: Task) -> None:
        if self.instant_task is task:
            self.instant_task = None
        self.update_actions()

    # quick preview (a real render into the previews folder) ------------------------------------------
    def quick_preview(self) -> Task | None:
        reason = self.render_block_reason()
        if reason:
            self.show_error(reason)
            return None
        if self.preview_task is not None:
            return self.preview_task
        request = self.render_request(**quick_preview_changes(self.project.request))
        studio = self.studio
        out = studio.previews.next_path()  # the studio removes it once a newer preview is shown, or at exit

        def work(report, preview, cancel):
            return studio.render(request, out, report, cancel,
                                 preview=lambda frame, step=0, total=0: preview((frame, step, total)))

        task = self.runner.start("preview", work)
        self.preview_task = task
        task.previewed.connect(self.result_panel.show_step_preview)
        task.succeeded.connect(self._preview_done)
        task.failed.connect(lambda m: self.show_error(f"Preview failed: {m}"))
        task.was_cancelled.connect(lambda: self.show_status("Preview cancelled."))
        task.finished.connect(self._clear_preview)
        self._track(task)
        return task

    def _clear_preview(self) -> None:
        self.preview_task = None
        self.update_actions()

    def _preview_done(self, result) -> None:
        self.open_result(0, str(result.path))
        self.studio.previews.supersede(result.path)
        self.show_status(f"Preview ready ({result.engine}, {result.seconds:.1f} s): {result.path}")

    # the queue ---------------------------------------------------------------------------------------
    def queue_render(self, motions: list[str] | None = None, references: list[str] | None = None) -> list:
        """Queue the full render: every photo × every motion (default: the loaded ones). Returns the planned jobs
        (none when refused, said in the message bar); the queue panel writes them on a worker thread and says
        their ids in ``jobs_added`` (the status line then says so too), or a failed write in the message bar."""
        reason = self.render_block_reason()
        if reason:
            self.show_error(reason)
            return []
        request = self.project.request
        out_dir = self.output_folder_row.folder()
        try:
            # the studio's one batch builder names the jobs (the project's file name template); the queue numbers
            # a name a file or an earlier job holds (_2, _3 …)
            planned = self.studio.plan_batch(self.render_request(), references or [request.reference],
                                             motions or [request.motion], out_dir,
                                             name_template=self.project.output_name)
            check_writable(Path(planned[0].output))  # now, not as a failed job in a queue cell minutes later
            self.queue_panel.add_jobs(planned, batch=time.strftime("%Y%m%d-%H%M%S"))
        except Exception as exc:  # noqa: BLE001 - e.g. an unwritable output folder
            self.show_error(f"Could not queue the render: {exc}. Choose another Output folder in the Settings "
                            "(Export).")
            return []
        self.show_status(f"Queueing {len(planned)} render(s)…")
        return planned

    def _jobs_queued(self, ids: list[int]) -> None:
        self.show_status(f"Queued {len(ids)} render(s).")

    def choose_batch(self) -> list:
        from ui.motion_panel import VIDEO_FILTER
        from ui.reference_panel import IMAGE_FILTER

        photos, _ = QFileDialog.getOpenFileNames(self, "Batch: reference photos", "", IMAGE_FILTER)
        if not photos:
            return []
        videos, _ = QFileDialog.getOpenFileNames(self, "Batch: driving videos", "", VIDEO_FILTER)
        if not videos:
            return []
        return self.queue_render(motions=videos, references=photos)

    def _job_state_changed(self, job_id: int, state: str) -> None:
        if state != "failed":  # (a failure is said with its reason once the queue panel has read it)
            self.show_status(f"Job {job_id} {state}.")

    def _job_failed(self, job_id: int, error: str) -> None:
        self.show_error(f"Render job {job_id} failed: {error}. Fix the cause and press Retry in the Queue, or "
                        "choose another Output folder in the Settings (Export).")

    def _job_finished(self, job_id: int, output: str) -> None:
        self.open_result(job_id, output)
        self.show_status(f"Job {job_id} finished: {output}")

    def open_result(self, _job_id: int, output: str) -> Task | None:
        """Show a finished render (a preview, or a queued job's mp4) in the result panel."""
        if not Path(output).is_file():
            self.show_error(f"{output} is gone: it was moved or deleted after the render.")
            return None
        self.last_result = output
        task = self.result_panel.load_result(output, self._pose_source())
        self.update_actions()
        self._session_changed()  # the autosave keeps the shown result
        return task

    def _pose_source(self):
        """A function (run off the GUI thread) drawing the aligned skeleton frames for the result's pose view."""
        w, h = self.alignment_view.out_size
        aligned = self.alignment_view.aligned
        poses = list(aligned[: self.project.request.max_frames or len(aligned)])

        def draw() -> list:
            return [core.draw_pose(p, w, h) for p in poses]

        return draw

    def _cancellable_tasks(self) -> tuple:
        return (self.preview_task, self.instant_task, self.motion_panel.extract_task, self.export_task)

    def cancel_current(self) -> None:
        for task in self._cancellable_tasks():
            if task is not None:
                task.cancel()
        self.show_status("Cancelling…")

    def export_result(self) -> Task | None:
        from studio.request.settings import FORMATS

        if not self.last_result:
            return None
        choices = list(FORMATS.values())
        # a PNG sequence is a folder: its filter shows every name (the folder to create is typed, not picked)
        filters = [f"{f.label} (*{f.extension})" if f.extension else f"{f.label} (*)" for f in choices]
        start = str(self.output_folder_row.folder() / Path(self.last_result).name)
        target, chosen = QFileDialog.getSaveFileName(self, "Export result", start, ";;".join(filters),
                                                     options=QFileDialog.Option.DontConfirmOverwrite)  # asked below
        if not target:
            return None
        fmt = choices[filters.index(chosen)] if chosen in filters else None
        if fmt is not None and fmt.extension and not Path(target).suffix:  # a bare name: the format's suffix
            target += fmt.extension
        if fmt is not None and fmt.extension and Path(target).suffix.lower() != fmt.extension:
            fmt = None  # a name typed with another suffix: that suffix chooses
        return self.export_result_to(target, fmt.name if fmt is not None else None)

    def export_result_to(self, target: str, format_name: str | None = None) -> Task | None:
        """Convert the shown result into ``target`` as ``format_name`` (default: the format its suffix names)
        with the studio's exporter (on a worker thread); a file the studio did not make is never replaced, one it
        made only when the person says so. A failure (an encoder this ffmpeg lacks, a full disk) is shown."""
        from studio.export.copy import export_problem, export_result

        source = self.last_result
        if not source:
            return None
        problem = export_problem(source, target, format_name)
        overwrite = False
        if problem is not None:
            kind, reason = problem
            if kind == "refused":
                self.show_error(f"Export refused: {reason}.")
                return None
            if QMessageBox.question(self, "Replace?", f"{reason}. Replace it?") != QMessageBox.StandardButton.Yes:
                self.show_status("Export cancelled: nothing was replaced.")
                return None
            overwrite = True

        def work(report, _preview, cancel):
            return export_result(source, target, overwrite, report, cancel, format_name)

        task = self.runner.start("export", work)
        self.export_task = task
        task.finished.connect(lambda t=task: self._clear_export(t))
        task.succeeded.connect(lambda result: self.show_status(f"Exported {result.path}"))
        task.failed.connect(lambda m: self.show_error(
            f"Export to {target} failed: {m}. Choose another folder, name or format (File → Export result…)."))
        self._track(task)
        return task

    def _clear_export(self, task: Task) -> None:
        if self.export_task is task:
            self.export_task = None
        self.update_actions()
