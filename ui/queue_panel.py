"""Queue panel: the persistent batch queue (studio.batch.queue, SQLite under STUDIO_HOME) as a table with state,
progress and ETA, plus cancel / retry / open folder. While jobs are waiting the panel runs the studio's
queue runner (``Studio.run_queue``) on a worker thread; the table follows the running job, and a
double-click on a finished job opens it in the result panel.

Nothing here polls on the GUI thread, and the GUI thread never reads or writes SQLite, closing included (a job
the close stops is put back in the queue by its runner, on its thread): the queue announces every change
this process makes (``JobQueue.subscribe``, called on the runner's thread) and a ``QueueWatcher`` thread notices
the commits of other processes (a `batch run` in a terminal); either way a Qt signal carries the news to the GUI
thread, a worker reads the queue (the newest read wins), and the table is redrawn from what it read. The ETA is
``studio.batch.eta``'s. Queueing a render, Cancel and Retry write the queue on a worker too, one change after
another in the order asked (Cancel and Retry wait while one is under way); the table follows from a read after
it, and a change the queue refuses or cannot write (the job finished meanwhile, a full disk) is said in the
window's message bar (``problem``)."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.batch.eta import eta_text, job_eta, step_rates
from studio.batch.queue import Job, JobChange, QueueError
from studio.batch.queue_watch import QueueWatcher
from studio.request.render_request import RenderRequest
from studio.service import Studio
from studio.system.progress import Progress
from ui.workers import InOrder, LatestOnly, Task, TaskRunner

logger = logging.getLogger(__name__)

COLUMNS = ("Job", "State", "Progress", "ETA", "Output / reason")


#: The table keeps room for this many rows (plus its header) however the dock is sized.
MIN_VISIBLE_ROWS = 3


class QueuePanel(QWidget):
    job_finished = Signal(int, str)  # job id, output path
    job_state_changed = Signal(int, str)
    job_failed = Signal(int, str)  # job id, its error (from the read of the queue after the failure)
    open_requested = Signal(int, str)  # a finished job double-clicked: job id, output path
    #: a queue change, emitted on whichever thread made it and delivered on the GUI thread (queued connection)
    _queue_changed = Signal(object)
    #: another process committed to the queue file (emitted on the watcher's thread)
    _file_changed = Signal()
    #: the table was redrawn from a fresh read of the queue
    refreshed = Signal()
    #: a cancel or retry the queue refused or could not make, in words (the window shows it in its message bar)
    problem = Signal(str)
    #: a change asked for (a batch added, a cancel, a retry) is written or failed, and a read after it asked for
    changes_written = Signal()
    #: a batch ``add_jobs`` asked for is in the queue: its job ids
    jobs_added = Signal(list)

    def __init__(self, runner: TaskRunner, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.studio = studio
        self.queue = None
        self.consumer: Task | None = None
        self._consumer_is_local = True
        self._last_failure: str | None = None
        self._running_job: int | None = None
        self._unsubscribe = None
        self._watcher: QueueWatcher | None = None
        self._reader = LatestOnly(runner, "read the queue")
        self._writer = InOrder(runner, "change the queue")
        self._changes_pending = 0  # cancels and retries asked for and not yet written
        #: jobs announced finished whose output the next read of the queue names (then ``job_finished``)
        self._finished_pending: set[int] = set()
        #: jobs announced failed whose error the next read of the queue says (then ``job_failed``)
        self._failed_pending: set[int] = set()
        #: the jobs of the table as last read (a double-click or Open folder looks here, not in the database)
        self._shown_jobs: dict[int, Job] = {}
        #: the local consumer ended: start it again if the next read finds jobs still queued
        self._restart_if_queued = False
        self._stopped = False  # closing: a job put back in the queue waits for the next start
        self.unavailable = None
        try:
            self.queue = studio.queue
        except (OSError, sqlite3.Error, QueueError) as exc:  # e.g. STUDIO_HOME is not writable: the window works
            self.unavailable = f"The batch queue is unavailable: its database could not be opened ({exc})."
            logger.warning("%s", self.unavailable)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.table.setMinimumHeight(self.table.horizontalHeader().sizeHint().height()
                                    + MIN_VISIBLE_ROWS * self.table.verticalHeader().defaultSectionSize() + 4)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        self.table.setToolTip("Double-click a finished job to show it in the result panel.")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Drop the selected queued job, or stop the running one (no file is left).")
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Queue the selected failed or cancelled job again.")
        self.retry_button.clicked.connect(self.retry_selected)
        self.open_button = QPushButton("Open folder")
        self.open_button.setToolTip("Show the selected job's output folder.")
        self.open_button.clicked.connect(self.open_selected_folder)
        self.run_button = QPushButton("Run queue")
        self.run_button.setToolTip("Render the queued jobs one after another (also starts by itself when you "
                                   "queue a render).")
        self.run_button.clicked.connect(self.start_consumer)
        self.cluster_button = QPushButton("Run on cluster…")
        self.cluster_button.setToolTip("Render the queued jobs as tasks on a Ray cluster of GPU machines (needs "
                                       "`pip install '.[cluster]'`); progress and cancel work as here.")
        self.cluster_button.clicked.connect(lambda: self.run_on_cluster())
        self.summary = QLabel(self.unavailable or "")
        self.summary.setWordWrap(True)
        self._buttons = QGridLayout()
        self._buttons.setContentsMargins(0, 0, 0, 0)
        self.set_narrow(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(self._buttons)
        layout.addWidget(self.table, 1)
        self._queue_changed.connect(self._on_queue_change)
        if self.queue is None:
            for b in (self.run_button, self.cluster_button, self.cancel_button, self.retry_button, self.open_button):
                b.setEnabled(False)
        else:
            self._unsubscribe = unsubscribe = self.queue.subscribe(self._queue_changed.emit)
            self._file_changed.connect(self.refresh)
            self._watcher = watcher = QueueWatcher(self.queue.path, self._file_changed.emit).start()
            # a panel dropped without stop() stops listening and watching
            self.destroyed.connect(lambda *_: (unsubscribe(), watcher.stop()))
            self.refresh()

    def set_narrow(self, narrow: bool) -> None:
        """Under the panels the buttons and the summary share one row; in a narrow side dock (a short window
        tabs the queue beside the settings) they take two to a row, the summary under them."""
        buttons = (self.run_button, self.cluster_button, self.cancel_button, self.retry_button, self.open_button)
        per_row = 2 if narrow else len(buttons)
        for index, button in enumerate(buttons):
            self._buttons.addWidget(button, index // per_row, index % per_row)
        rows = (len(buttons) + per_row - 1) // per_row
        if narrow:
            self._buttons.addWidget(self.summary, rows, 0, 1, per_row)
        else:
            self._buttons.addWidget(self.summary, 0, per_row)
        for column in range(len(buttons) + 1):
            self._buttons.setColumnStretch(column, 1 if column == per_row and not narrow else 0)

    # jobs ------------------------------------------------------------------------------------------
    def add_jobs(self, planned: list, batch: str | None = None) -> None:
        """Queue a batch ``Studio.plan_batch`` planned, on a worker thread, in order with the cancels and retries
        (one asked for right after this applies to these jobs, which are in the queue by then). Once written the
        table shows them, the queue runs and ``jobs_added`` says their ids; a write that fails is said in the
        message bar (``problem``), and nothing of the batch is queued (``JobQueue.add_planned``)."""
        if self.queue is None:
            raise QueueError(self.unavailable or "the batch queue is unavailable")
        if self._stopped:
            raise QueueError("the window is closing")
        queue, count = self.queue, len(planned)
        self._changes_pending += 1
        self._show_change_buttons()
        self._writer.submit(lambda: queue.add_planned(planned, batch=batch), self._jobs_added,
                            lambda message: self._jobs_not_added(count, message))

    def _jobs_added(self, ids: list[int]) -> None:
        """On the GUI thread, once a batch is written: the table again, the queue runs, and the news."""
        logger.info("queued %d job(s): %s", len(ids), ids)
        self.start_consumer()
        self._change_written()
        self.jobs_added.emit(ids)

    def _jobs_not_added(self, count: int, message: str) -> None:
        text = (f"Could not queue {count} render(s): {message}. Nothing of it was queued; the project is unchanged, "
                "so queue it again once that is fixed.")
        logger.warning("%s", text)
        self.problem.emit(text)
        self._change_written()

    def jobs(self) -> list:
        return [] if self.queue is None else self.queue.jobs()

    def selected_ids(self) -> list[int]:
        rows = {i.row() for i in self.table.selectedIndexes()}
        return [int(self.table.item(r, 0).data(Qt.ItemDataRole.UserRole)) for r in sorted(rows)]

    def cancel_job(self, job_id: int) -> bool:
        """Drop a queued job, or ask the running one to stop (on a worker thread; ``changes_written`` when done).
        False when there is no queue to change."""
        return self._change_jobs("cancel", [job_id])

    def cancel_selected(self) -> bool:
        return self._change_jobs("cancel", self.selected_ids())

    def retry_selected(self) -> bool:
        return self._change_jobs("retry", self.selected_ids())

    def _change_jobs(self, action: str, job_ids: list[int]) -> bool:
        """Write ``action`` ("cancel" or "retry") for each job on a worker thread, after the changes asked for
        before; then read the queue again (and for a retry, run it). Cancel and Retry wait meanwhile."""
        if self.queue is None or not job_ids or self._stopped:
            return False
        queue = self.queue

        def work() -> tuple[dict[int, str], list[str]]:  # on the worker thread
            outcomes: dict[int, str] = {}
            refused: list[str] = []
            for job_id in job_ids:
                try:
                    if action == "cancel":
                        outcomes[job_id] = queue.cancel(job_id)
                    else:
                        queue.retry(job_id)
                        outcomes[job_id] = "queued again"
                except Exception as exc:  # noqa: BLE001 - e.g. the job finished meanwhile: said, the rest go on
                    refused.append(f"Could not {action} job {job_id}: {exc}.")
            return outcomes, refused

        self._changes_pending += 1
        self._show_change_buttons()
        self._writer.submit(work, lambda result: self._jobs_changed(action, *result),
                            lambda message: self._jobs_changed(action, {}, [f"Could not {action}: {message}."]))
        return True

    def _jobs_changed(self, action: str, outcomes: dict[int, str], refused: list[str]) -> None:
        """On the GUI thread, once a change is written: what it did, what it could not, and the table again."""
        for job_id, outcome in outcomes.items():
            logger.info("job %d: %s", job_id, outcome)
        if refused:
            logger.warning("%s", " ".join(refused))
            self.problem.emit(" ".join(refused))
        if action == "retry" and outcomes:
            self.start_consumer()
        self._change_written()

    def _change_written(self) -> None:
        """A change asked for is written (or failed): the buttons again when none waits, and a fresh read."""
        self._changes_pending -= 1
        self._show_change_buttons()
        self.refresh()
        self.changes_written.emit()

    def _show_change_buttons(self) -> None:
        """Cancel and Retry wait while a change is being written (a second click would act on the old table)."""
        idle = self.queue is not None and self._changes_pending == 0
        self.cancel_button.setEnabled(idle)
        self.retry_button.setEnabled(idle)

    def open_selected_folder(self) -> None:
        for job_id in self.selected_ids()[:1]:
            if job_id in self._shown_jobs:
                folder = Path(self._shown_jobs[job_id].output).parent
                QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    # the consumer ----------------------------------------------------------------------------------
    def start_consumer(self) -> Task | None:
        if self.queue is None or self.consumer is not None or self._stopped:
            return self.consumer
        studio = self.studio

        def on_job(job) -> None:  # on the worker thread: a plain attribute the GUI thread reads
            self._running_job = None if job is None else job.id

        def work(report, _preview, cancel):
            try:
                return studio.run_queue(report, cancel, on_job=on_job)
            except QueueError as exc:  # another runner (the CLI) owns the device
                raise RuntimeError(f"the queue is being run elsewhere: {exc}") from None

        return self._start(work, "batch queue")

    def run_on_cluster(self, address: str | None = None, gpus_per_job: float | None = None) -> Task | None:
        """Run the queue on a Ray cluster (studio.farm); asks for the address and GPUs per job when not given."""
        if self.queue is None or self.consumer is not None:
            return self.consumer
        if address is None:
            address, ok = QInputDialog.getText(self, "Run on cluster", "Ray cluster: auto, local (this machine) or "
                                               "the head's HOST:PORT", text="auto")
            if not ok or not address.strip():
                return None
            gpus_per_job, ok = QInputDialog.getDouble(self, "Run on cluster", "GPUs per diffusion job (0 = CPU)",
                                                      1.0, 0.0, 8.0, 2)
            if not ok:
                return None
        queue, panel = self.queue, self
        address, gpus = address.strip(), 1.0 if gpus_per_job is None else gpus_per_job

        def work(report, _preview, cancel):
            from studio.batch.farm.runner import FarmRunner, FarmSettings

            def on_event(event) -> None:
                if event.kind == "progress":
                    panel._running_job = event.job_id
                    report(event.progress)

            return FarmRunner(queue, FarmSettings(address=address, gpus_per_job=gpus)).run(
                on_event, should_stop=lambda: cancel.cancelled)

        return self._start(work, f"cluster {address}", local=False)

    def _start(self, work, name: str, local: bool = True) -> Task:
        self.consumer = self.runner.start(name, work)
        self._consumer_is_local = local
        self.consumer.progressed.connect(self._consumer_progress)
        self._last_failure = None
        self.consumer.failed.connect(self._consumer_failed)
        self.consumer.finished.connect(self._consumer_done)
        self.run_button.setEnabled(False)
        self.cluster_button.setEnabled(False)
        return self.consumer

    def _consumer_progress(self, progress: Progress) -> None:
        self.summary.setText(f"running job {self._running_job}: {progress.phase} {progress.current}/"
                             f"{progress.total}")

    def _consumer_failed(self, message: str) -> None:
        self._last_failure = message  # kept in the summary line until the next run starts
        self.summary.setText(message)

    def _consumer_done(self) -> None:
        self.consumer = None
        self.run_button.setEnabled(self.queue is not None)
        self.cluster_button.setEnabled(self.queue is not None)
        # a cluster run that stopped (lost connection) leaves its jobs queued for the next run, not for this machine
        self._restart_if_queued = self._consumer_is_local
        self.refresh()

    def stop(self) -> None:
        """On close: stop the consumer; a job it was running goes back to the queue for next time.

        The GUI thread writes nothing here: every change is in SQLite the moment it is made, and the one change
        closing makes (the running job back to ``queued``) is made by the runner on its own thread when it sees
        the stop (``QueueRunner.run_job``; a cluster run gives its jobs back likewise). The close waits for that
        thread, bounded here and by the window's shutdown after; a job still ``running`` when the process ends
        (a step that cannot be interrupted) is queued again by the next start's recovery, never lost."""
        self._stopped = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        self._reader.stop()
        self._writer.finish()  # a cancel or retry asked for just before closing is still made (on its worker)
        if self.consumer is None:
            return
        self.consumer.cancel()  # the running render stops at its next step and its runner queues it again
        # the wait blocks this thread, so the line is painted now, not by an event loop turn
        self.summary.setText("Closing: the running job stops at its next step and stays queued for next time…")
        self.summary.repaint()
        self.consumer.wait(30000)

    def busy(self) -> bool:
        return self.consumer is not None

    # view ------------------------------------------------------------------------------------------
    def _on_queue_change(self, change: JobChange) -> None:
        """On the GUI thread: say what moved, and read the queue again (once for a burst of changes)."""
        if change.moved and change.state != "queued":  # (queueing is announced by whoever queued)
            self.job_state_changed.emit(change.job_id, change.state)
            if change.state == "finished":
                self._finished_pending.add(change.job_id)  # announced with its output once the read names it
            elif change.state == "failed":
                self._failed_pending.add(change.job_id)  # announced with its error once the read says it
        self.refresh()

    def refresh(self) -> None:
        """Read the queue on a worker thread, then redraw the table (``refreshed``). A refresh asked for while a
        read runs waits for it and replaces any that waited before it: a burst of changes costs two reads."""
        if self.queue is None or self._stopped:
            return
        queue = self.queue
        self._reader.submit(lambda: (queue.jobs(), queue.counts()), self._show)

    def _show(self, snapshot: tuple[list, dict[str, int]]) -> None:
        """On the GUI thread: the table, the summary and the announcements from one read of the queue."""
        jobs, counts = snapshot
        self._shown_jobs = {job.id: job for job in jobs}
        self.table.setRowCount(len(jobs))
        rates = step_rates(jobs)
        now = time.time()  # the queue stores wall-clock start times
        for row, job in enumerate(jobs):
            # a row whose stored request cannot be read is still listed (it fails when run, and can be cancelled)
            request = job.request or RenderRequest(reference="(unreadable request)", motion="?", engine="?")
            engine = request.engine
            name = f"#{job.id} {Path(request.reference).stem} × {Path(request.motion).stem} ({engine})"
            item = QTableWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, job.id)
            self.table.setItem(row, 0, item)
            self.table.setItem(row, 1, QTableWidgetItem(job.state))
            bar = self.table.cellWidget(row, 2)
            if not isinstance(bar, QProgressBar):
                bar = QProgressBar()
                self.table.setCellWidget(row, 2, bar)
            bar.setValue(int(round(job.progress * 100)))
            self.table.setItem(row, 3, QTableWidgetItem(eta_text(job_eta(job, rates, now))))
            detail = job.error if job.state == "failed" else (job.message or job.output)
            detail_item = QTableWidgetItem(detail or "")
            detail_item.setToolTip(detail or "")  # the column may be too narrow for a whole path
            self.table.setItem(row, 4, detail_item)
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(1)
        self._follow_running(jobs)
        if self.consumer is None:
            text = " · ".join(f"{n} {s}" for s, n in counts.items() if n) or "The queue is empty."
            self.summary.setText(text + (f" — the last run stopped: {self._last_failure}" if self._last_failure else ""))
        for job in jobs:
            if job.id in self._finished_pending and job.state == "finished":
                self._finished_pending.discard(job.id)
                self.job_finished.emit(job.id, job.output)
            elif job.id in self._failed_pending and job.state == "failed":
                self._failed_pending.discard(job.id)
                self.job_failed.emit(job.id, job.error or "no reason was recorded")
        restart, self._restart_if_queued = self._restart_if_queued, False
        if restart and counts.get("queued") and self.consumer is None and not self._stopped:
            self.start_consumer()
        self.refreshed.emit()

    def _follow_running(self, jobs: list) -> None:
        """Keep the running job in view (unless the person has selected rows to act on)."""
        if self.table.selectedIndexes():
            return
        for row, job in enumerate(jobs):
            if job.state == "running":
                self.table.scrollToItem(self.table.item(row, 0), QAbstractItemView.ScrollHint.EnsureVisible)
                return

    def _double_clicked(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        job = None if item is None else self._shown_jobs.get(int(item.data(Qt.ItemDataRole.UserRole)))
        if job is not None and job.state == "finished" and job.output:
            self.open_requested.emit(job.id, job.output)
