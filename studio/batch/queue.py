"""The batch queue: jobs in SQLite under ``studio_home()``, a small state machine, one consumer per device.

States: ``queued → running → finished | failed | cancelled`` (and ``failed|cancelled → queued`` on retry).
Each transition is one method that checks the current state in the same SQL statement, so two processes can
never both move a job. A runner holds an exclusive lock per device (``studio.system.platform.DeviceLock``, released
by the OS when the process dies, even by ``kill -9``, on Windows as on POSIX); when a runner starts, any job
its device left ``running`` was interrupted: its temporary files are removed and it is queued again (or
marked finished when its complete output and sidecar are already in place). A failing job stores a readable reason and the runner goes on.

Damage is contained: a job row whose request cannot be read (garbage, a newer studio's version) fails that
job with the reason and leaves the rest runnable and cancellable; what may be done to the file itself (moved aside
only when it is the studio's and SQLite calls it damaged) is ``studio.batch.queue_file``'s.

This module never imports torch: the runner takes any object with the renderer's ``render`` signature.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from studio.batch import queue_file
from studio.batch.eta import queue_eta
from studio.batch.plan import PlannedJob, plan_batch
from studio.batch.queue_file import QueueError
from studio.errors import StudioError
from studio.export.formats import export_format
from studio.request.render_request import RenderRequest
from studio.system.paths import studio_home
from studio.system.platform import DeviceLock
from studio.system.progress import (
    Cancelled,
    CancelToken,
    Progress,
    ProgressCallback,
    RunnerToken,
    ignore_progress,
)

log = logging.getLogger(__name__)

STATES = ("queued", "running", "finished", "failed", "cancelled")
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch TEXT,
    state TEXT NOT NULL DEFAULT 'queued',
    request TEXT NOT NULL,
    output TEXT NOT NULL,
    preset TEXT,
    device TEXT NOT NULL DEFAULT 'default',
    error TEXT,
    created REAL NOT NULL,
    started REAL,
    ended REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    progress REAL NOT NULL DEFAULT 0,
    message TEXT,
    seconds REAL,
    step_seconds REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    owner_pid INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, device, id);
"""


@dataclass
class Job:
    id: int
    batch: str | None
    state: str
    #: None when the stored request cannot be read (``unreadable`` says why); such a job can only fail.
    request: RenderRequest | None
    output: str
    preset: str | None
    device: str
    error: str | None
    created: float
    started: float | None
    ended: float | None
    attempts: int
    progress: float
    message: str | None
    seconds: float | None
    step_seconds: float | None
    cancel_requested: bool
    unreadable: str | None = None

    def to_dict(self) -> dict[str, Any]:
        r = self.request
        return {
            "id": self.id, "batch": self.batch, "state": self.state, "output": self.output, "preset": self.preset,
            "device": self.device, "error": self.error, "attempts": self.attempts, "progress": self.progress,
            "message": self.message, "seconds": self.seconds, "created": self.created, "started": self.started,
            "ended": self.ended, "reference": r and r.reference, "motion": r and r.motion,
            "engine": r and r.engine, "seed": r and r.seed,
        }


@dataclass(frozen=True)
class JobChange:
    """What a queue listener is told: which job changed and the state it is in now. ``moved`` is True for a
    state transition (queued, running, finished …) and False for progress or a cancel request on a running job."""

    job_id: int
    state: str
    moved: bool


JobListener = Callable[[JobChange], None]


class RendererLike(Protocol):
    def render(self, request: RenderRequest, out: str | Path, report: ProgressCallback = ...,
               cancel: CancelToken | None = ...) -> Any: ...


def default_queue_path() -> Path:
    return studio_home() / "queue.sqlite3"


class JobQueue:
    """The queue in one SQLite file. ``read_only`` (``batch status``) never creates, changes or moves anything."""

    def __init__(self, path: str | Path | None = None, read_only: bool = False, lock_wait_s: float = 30.0,
                 say: Callable[[str], None] | None = None):
        self.path = Path(path) if path else default_queue_path()
        self.read_only, self.lock_wait_s = read_only, lock_wait_s
        self._listeners: list[JobListener] = []
        self._listeners_lock = threading.Lock()
        #: One line for the user when opening the queue had to repair something (else None).
        self.notice: str | None = None
        #: A read-only look at a queue file that does not exist yet: an empty queue, nothing created.
        self._absent = False
        say = say or (lambda line: log.warning("%s", line))
        studio_owned = os.path.realpath(self.path) == os.path.realpath(default_queue_path())
        try:
            exists = queue_file.check_ownership(self.path, studio_owned, lock_wait_s, say)
            if read_only and not exists:
                self._absent = True
                return
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if exists:
                    queue_file.with_lock_wait(lambda t: queue_file.probe_write_lock(self.path, t), self.path,
                                              lock_wait_s, say)
            self._open()
        except queue_file.QueueFileDamaged as damage:
            if read_only:
                raise QueueError(f"{damage}; it was left as it is (the next `batch add` or `batch run` keeps it "
                                 "under a new name and starts an empty queue)") from None
            kept = queue_file.move_aside(self.path)
            self._open()
            self.notice = (f"{damage}; it was moved to {kept} and a new, empty queue was started")
        except OSError as error:  # the folder cannot be made (read-only parent, a file in the way)
            raise QueueError(f"the queue database {self.path} cannot be created ({error.strerror}); "
                             "choose another --db or fix the folder's permissions") from None

    def _open(self) -> None:
        with self._connect() as db:
            # checked before anything is written, so a damaged file is kept exactly as it was found
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                first = db.execute("PRAGMA integrity_check").fetchone()[0]
                if first != "ok":
                    raise queue_file.QueueFileDamaged(f"the queue database {self.path} is damaged "
                                                      f"(integrity check: {first})")
            if not self.read_only:
                db.executescript(SCHEMA)
                db.execute(f"PRAGMA application_id = {queue_file.APPLICATION_ID}")
                if db.execute("PRAGMA user_version").fetchone()[0] < queue_file.SCHEMA_VERSION:
                    db.execute(f"PRAGMA user_version = {queue_file.SCHEMA_VERSION}")

    # ------------------------------------------------------------------------ listeners
    def subscribe(self, listener: JobListener) -> Callable[[], None]:
        """Call ``listener(JobChange)`` after every change this object makes (on the thread that made it: the
        runner's, for renders); returns the function that unsubscribes it. Changes another process makes to the
        same file are not seen."""
        with self._listeners_lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._listeners_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _announce(self, job_id: int, state: str, moved: bool = True) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        change = JobChange(int(job_id), state, moved)
        for listener in listeners:
            try:
                listener(change)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop the runner between two transitions
                log.exception("queue listener %r failed on %s", listener, change)

    def lock_path(self, device: str) -> Path:
        """Beside the file the path resolves to: a symlinked or relative ``--db`` names the same lock, so one
        queue file never has two runners (the lock is the file's, not the spelling's)."""
        real = Path(os.path.realpath(self.path))
        return real.with_name(f"{real.name}.{device}.lock")

    def runner_alive(self, device: str) -> bool:
        """Whether a runner holds ``device``'s lock now (the kernel drops it when a runner dies)."""
        path = self.lock_path(device)
        if not path.exists():  # a runner creates it first; looking never creates it (``batch status`` is read-only)
            return False
        lock = DeviceLock(path)
        try:
            if not lock.try_acquire():
                return True
        except OSError:  # e.g. an unwritable queue folder: no runner could hold it either
            return False
        lock.release()
        return False

    def orphaned(self, job: Job) -> bool:
        """A job left ``running`` by a runner that is gone: shown as interrupted, requeued by the next run."""
        return job.state == "running" and not self.runner_alive(job.device)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            if self._absent:
                db = sqlite3.connect(":memory:", isolation_level=None)
                db.executescript(SCHEMA)
            else:
                db = queue_file.connect(self.path, self.read_only, self.lock_wait_s)
        except sqlite3.Error as error:  # e.g. a new queue in a read-only folder
            raise queue_file.explain(error, self.path) from None
        db.row_factory = sqlite3.Row
        try:
            if not (self.read_only or self._absent):
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
            yield db
        except sqlite3.Error as error:  # locked, read-only, full, damaged: said as it is, never a traceback
            raise queue_file.explain(error, self.path, waited_s=self.lock_wait_s) from None
        finally:
            db.close()

    # ------------------------------------------------------------------------ adding
    def add(self, request: RenderRequest, output: str | Path, batch: str | None = None, preset: str | None = None,
            device: str = "default") -> int:
        """Queue one render. The seed is fixed now, so a rerun after a crash renders the same frames."""
        return self._add_all([(request, output, preset)], batch, device)[0]

    def _add_all(self, jobs: Sequence[tuple[RenderRequest, str | Path, str | None]], batch: str | None,
                 device: str) -> list[int]:
        """Queue ``(request, output, preset)`` renders in one transaction: all of them, or none when one is
        refused or the write fails (a batch is never half queued)."""
        checked = []
        for request, output, preset in jobs:
            request = request.with_resolved_seed().validate()
            output = str(Path(output).resolve())
            extension = export_format(request.export.format).extension
            if Path(output).suffix.lower() != extension:
                raise QueueError(f"job output must end in {extension or 'no extension (a PNG folder)'}, got {output}")
            checked.append((request, output, preset))
        ids: list[int] = []
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")  # the names are chosen and taken in one transaction
            taken = {row["output"] for row in db.execute("SELECT output FROM jobs")}
            for request, output, preset in checked:
                output = str(_unused_output(Path(output), taken, request))
                taken.add(output)
                cursor = db.execute(
                    "INSERT INTO jobs (batch, request, output, preset, device, created) VALUES (?, ?, ?, ?, ?, ?)",
                    (batch, request.to_json(indent=None), output, preset, device, time.time()),
                )
                assert cursor.lastrowid is not None  # (an INSERT names its row)
                ids.append(int(cursor.lastrowid))
            db.execute("COMMIT")  # (an error before it: closing the connection rolls everything back)
        for job_id in ids:
            self._announce(job_id, "queued")
        return ids

    def add_matrix(self, base: RenderRequest, references: Sequence[str | Path], motions: Sequence[str | Path],
                   out_dir: str | Path, presets: Sequence[str | None] = (None,), device: str = "default",
                   batch: str | None = None) -> list[int]:
        """Queue every photo × motion × preset as ``studio.batch.plan.plan_batch`` plans and names it."""
        return self.add_planned(plan_batch(base, references, motions, out_dir, presets), device, batch)

    def add_planned(self, planned: Sequence[PlannedJob], device: str = "default", batch: str | None = None) -> list[int]:
        """Queue a planned batch (``Studio.plan_batch``), all under one batch name: all of it or none."""
        batch = batch or time.strftime("batch-%Y%m%d-%H%M%S")
        return self._add_all([(job.request, job.output, job.preset) for job in planned], batch, device)

    # ------------------------------------------------------------------------ reading
    def _job(self, row: sqlite3.Row) -> Job:
        request, unreadable = None, None
        try:
            request = RenderRequest.from_json(row["request"] or "")
        except StudioError as error:
            unreadable = str(error)
        return Job(
            id=row["id"], batch=row["batch"], state=row["state"], request=request, unreadable=unreadable,
            output=row["output"], preset=row["preset"], device=row["device"], error=row["error"],
            created=row["created"], started=row["started"], ended=row["ended"], attempts=row["attempts"],
            progress=row["progress"], message=row["message"], seconds=row["seconds"],
            step_seconds=row["step_seconds"], cancel_requested=bool(row["cancel_requested"]),
        )

    def get(self, job_id: int) -> Job:
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise QueueError(f"no job with id {job_id}")
        return self._job(row)

    def jobs(self, state: str | None = None, batch: str | None = None) -> list[Job]:
        sql, args = "SELECT * FROM jobs WHERE 1=1", list[str]()
        if state:
            sql, args = sql + " AND state = ?", [*args, state]
        if batch:
            sql, args = sql + " AND batch = ?", [*args, batch]
        with self._connect() as db:
            return [self._job(r) for r in db.execute(sql + " ORDER BY id", args).fetchall()]

    def counts(self) -> dict[str, int]:
        with self._connect() as db:
            rows = db.execute("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state").fetchall()
        return {s: 0 for s in STATES} | {r["state"]: r["n"] for r in rows}

    # ------------------------------------------------------------------------ transitions
    def _move(self, job_id: int, allowed: Sequence[str], target: str, **fields: Any) -> None:
        sets = ", ".join(["state = ?", *(f"{k} = ?" for k in fields)])
        marks = ", ".join("?" for _ in allowed)
        with self._connect() as db:
            cursor = db.execute(f"UPDATE jobs SET {sets} WHERE id = ? AND state IN ({marks})",
                                (target, *fields.values(), job_id, *allowed))
            moved = cursor.rowcount == 1
            row = None if moved else db.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if moved:
            log.info("job %s: %s -> %s%s", job_id, "/".join(allowed), target,
                     f" ({fields['error']})" if fields.get("error") else "")
            self._announce(job_id, target)
            return
        if row is None:
            raise QueueError(f"no job with id {job_id}")
        raise QueueError(f"job {job_id} is {row['state']}; it cannot become {target} (only from {', '.join(allowed)})")

    def claim_next(self, device: str = "default") -> Job | None:
        """queued → running for the oldest queued job of ``device`` (atomic)."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT id FROM jobs WHERE state = 'queued' AND device = ? ORDER BY id LIMIT 1",
                             (device,)).fetchone()
            if row is None:
                db.execute("COMMIT")
                return None
            db.execute("UPDATE jobs SET state = 'running', started = ?, attempts = attempts + 1, progress = 0, "
                       "message = NULL, error = NULL, owner_pid = ? WHERE id = ?", (time.time(), os.getpid(), row["id"]))
            db.execute("COMMIT")
        log.info("job %s: queued -> running on device %s", row["id"], device)
        self._announce(row["id"], "running")
        return self.get(row["id"])

    def finish(self, job_id: int, seconds: float | None = None, step_seconds: float | None = None) -> None:
        self._move(job_id, ("running",), "finished", ended=time.time(), progress=1.0, seconds=seconds,
                   step_seconds=step_seconds, message=None, owner_pid=None)

    def fail(self, job_id: int, reason: str) -> None:
        self._move(job_id, ("running",), "failed", ended=time.time(), error=reason, owner_pid=None)

    def cancel(self, job_id: int) -> str:
        """Drop a queued job, or ask the running one to stop (its runner moves it to ``cancelled``)."""
        job = self.get(job_id)
        if job.state == "queued":
            self._move(job_id, ("queued",), "cancelled", ended=time.time())
            return "cancelled"
        if job.state == "running" and self.orphaned(job):
            # no runner will ever see the request: the job stops now (its runner's temporaries go on recovery)
            self._move(job_id, ("running",), "cancelled", ended=time.time(), owner_pid=None,
                       message="cancelled after its runner stopped")
            _remove_job_partials(job)
            return "cancelled"
        if job.state == "running":
            with self._connect() as db:
                db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND state = 'running'", (job_id,))
            self._announce(job_id, "running", moved=False)
            return "cancelling"
        raise QueueError(f"job {job_id} is {job.state}; only queued or running jobs can be cancelled")

    def mark_cancelled(self, job_id: int) -> None:
        """running → cancelled (the runner, after the render stopped and cleaned up)."""
        self._move(job_id, ("running",), "cancelled", ended=time.time(), owner_pid=None)

    def retry(self, job_id: int) -> None:
        self._move(job_id, ("failed", "cancelled"), "queued", error=None, cancel_requested=0, progress=0.0,
                   started=None, ended=None, message=None)

    def requeue_interrupted(self, job_id: int) -> None:
        """running → queued: the process running it died."""
        self._move(job_id, ("running",), "queued", cancel_requested=0, progress=0.0, message="interrupted; queued again",
                   owner_pid=None)

    def set_progress(self, job_id: int, fraction: float, message: str | None = None) -> bool:
        """Record progress; returns True when a cancel was requested for this job."""
        with self._connect() as db:
            db.execute("UPDATE jobs SET progress = ?, message = ? WHERE id = ?", (fraction, message, job_id))
            row = db.execute("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
        self._announce(job_id, "running", moved=False)
        return bool(row and row["cancel_requested"])

    # ------------------------------------------------------------------------ ETA
    def seconds_per_step(self, engine: str | None = None) -> float | None:
        """Measured seconds per denoising step (whole job time / steps) over finished jobs."""
        finished = [j for j in self.jobs("finished") if engine is None or (j.request and j.request.engine == engine)]
        rates = [j.seconds / max(1, j.request.steps) for j in finished if j.seconds and j.request]
        return sum(rates) / len(rates) if rates else None

    def eta_seconds(self, device: str | None = None) -> float | None:
        """Seconds until the queue is empty, from measured step times (``studio.batch.eta``); None before any
        job finished."""
        return queue_eta(self.jobs(), device)


class RunnerBusy(QueueError):
    pass


class QueueRunner:
    """The single consumer of one device's jobs. ``run()`` works until the queue is empty."""

    def __init__(self, queue: JobQueue, renderer: RendererLike | None, device: str = "default",
                 poll_seconds: float = 0.5):
        self.queue, self.renderer, self.device, self.poll_seconds = queue, renderer, device, poll_seconds
        self._lock_file: DeviceLock | None = None

    # ------------------------------------------------------------------------ lock + recovery
    def acquire(self) -> None:
        lock = DeviceLock(self.queue.lock_path(self.device))
        if not lock.try_acquire():
            raise RunnerBusy(f"another batch runner is already working on device {self.device!r}")
        self._lock_file = lock
        self.recover()

    def release(self) -> None:
        if self._lock_file is not None:
            self._lock_file.release()
            self._lock_file = None

    def recover(self) -> list[int]:
        """Jobs left ``running`` on this device belong to a dead runner (we hold the device lock)."""
        recovered = []
        for job in self.queue.jobs("running"):
            if job.device != self.device:
                continue
            _remove_job_partials(job)
            if job.request is not None and _complete_output(job):
                self.queue.finish(job.id)
            elif job.cancel_requested:  # the cancel was asked while it ran: it sticks
                self.queue.mark_cancelled(job.id)
            else:
                self.queue.requeue_interrupted(job.id)
            recovered.append(job.id)
        return recovered

    # ------------------------------------------------------------------------ work
    def run(self, report: ProgressCallback = ignore_progress, max_jobs: int | None = None,
            should_stop: Callable[[], bool] | None = None, on_job: Callable[[Job | None], None] | None = None) -> int:
        """Render queued jobs until none is left (or ``max_jobs`` ran); returns how many ran.

        ``should_stop()`` is asked between jobs, and by the running render at its checks: a job stopped that way
        (the window closing) goes back in the queue here, on the runner's thread. ``on_job(job)`` is told which
        job starts, and ``on_job(None)`` when it has ended."""
        own_lock = self._lock_file is None
        if own_lock:
            self.acquire()
        try:
            done = 0
            while (max_jobs is None or done < max_jobs) and not (should_stop and should_stop()):
                job = self.queue.claim_next(self.device)
                if job is None:
                    break
                if on_job:
                    on_job(job)
                try:
                    self.run_job(job, report, should_stop)
                finally:
                    if on_job:
                        on_job(None)
                done += 1
            return done
        finally:
            if own_lock:
                self.release()

    def run_job(self, job: Job, report: ProgressCallback = ignore_progress,
                should_stop: Callable[[], bool] | None = None) -> str:
        if job.request is None:
            self.queue.fail(job.id, f"the job's stored request cannot be read: {job.unreadable}")
            return "failed"
        cancel = RunnerToken(should_stop)
        last_poll = [0.0]
        furthest = [0.0]  # interleaved phases (decode, interpolate, export) never move the job's fraction back

        def job_report(progress: Progress) -> None:
            now = time.monotonic()
            furthest[0] = fraction = max(furthest[0], _overall_fraction(progress))
            if now - last_poll[0] >= self.poll_seconds or progress.current == progress.total:
                last_poll[0] = now
                if self.queue.set_progress(job.id, fraction, f"{progress.phase} {progress.current}/{progress.total}"):
                    cancel.cancel()
            report(progress)

        started = time.perf_counter()
        try:
            assert self.renderer is not None  # (only a farm's lock-holding runner has none, and it renders nothing)
            result = self.renderer.render(job.request, job.output, job_report, cancel)
        except Cancelled:
            if cancel.stopping and not self.queue.get(job.id).cancel_requested:
                # the runner was stopped, not the job cancelled: it waits for the next run (its render left no file)
                self.queue.requeue_interrupted(job.id)
                return "queued"
            self.queue.mark_cancelled(job.id)
            return "cancelled"
        except Exception as error:  # the job boundary: any bug becomes a readable failure, the queue goes on
            self.queue.fail(job.id, failure_reason(error))
            return "failed"
        self.queue.finish(job.id, seconds=time.perf_counter() - started,
                          step_seconds=getattr(result, "step_seconds", None))
        return "finished"


def failure_reason(error: Exception) -> str:
    """The reason a failed job stores: a studio error's own message, else what kind of failure it was."""
    if isinstance(error, StudioError):
        return str(error)
    if isinstance(error, MemoryError):
        return "out of memory; try a smaller size, fewer frames or a smaller decode chunk"
    return f"internal error ({type(error).__name__}): {error}"


#: Where each phase's progress lies in the job's. The frames stream: each output frame is interpolated (where it
#: is not rendered) just before it is encoded, so "interpolate" shares export's span (k of n frames filled is about
#: k of n exported); the job's fraction is the furthest any phase has reached.
_PHASE_WEIGHTS = {"load": (0.0, 0.05), "extract": (0.05, 0.15), "encode": (0.15, 0.2), "denoise": (0.2, 0.85),
                  "decode": (0.85, 0.9), "interpolate": (0.9, 1.0), "export": (0.9, 1.0)}


def _overall_fraction(progress: Progress) -> float:
    lo, hi = _PHASE_WEIGHTS.get(progress.phase, (0.0, 1.0))
    return lo + (hi - lo) * progress.fraction


def _remove_job_partials(job: Job) -> None:
    """The temporaries a dead runner left for ``job``'s outputs (hidden, never under a final name)."""
    from studio.export.exporter import cleanup_partials
    from studio.export.output_names import output_paths

    for path in output_paths(job.output).values():
        cleanup_partials(path)


def _unused_output(out: Path, taken: set[str], request: RenderRequest) -> Path:
    """``out``, or ``name_2.mp4``, ``name_3.mp4`` …: the first name no other job uses and no file holds."""
    from studio.export.output_names import numbered, output_paths

    candidate, n = out, 2
    while str(candidate) in taken or any(p.exists() or p.is_symlink()
                                         for p in output_paths(candidate, request.export).values()):
        candidate, n = numbered(out, n), n + 1
    return candidate


def _complete_output(job: Job) -> bool:
    """The job's mp4 and sidecar are both in place and the sidecar is this job's request (same inputs, seed)."""
    from studio.export.output_names import sidecar_path

    out = Path(job.output)
    side = sidecar_path(out)
    if not (out.exists() and side.is_file()):  # (a PNG sequence's output is a folder)
        return False
    try:
        stored = json.loads(side.read_text(encoding="utf-8"))["request"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    r = job.request
    if r is None:  # (an unreadable request matches no output)
        return False
    return (stored.get("seed") == r.seed and stored.get("reference") == r.reference
            and stored.get("motion") == r.motion and stored.get("engine") == r.engine)
