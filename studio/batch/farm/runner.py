"""``FarmRunner``: the submitter. It runs one device's queue on a Ray cluster, the queue staying the truth.

The same per-device lock and recovery as the local ``QueueRunner`` (``acquire``): jobs a dead submitter left
``running`` go back to the queue, or count as finished when their complete output is already in place, so a
rerun submits only unfinished jobs and never writes an output twice. Then, while jobs are queued, it claims
as many as the cluster can run at once and submits each as a Ray task (diffusion: ``gpus_per_job`` GPUs;
warp: ``cpus_per_job`` CPUs). Ray's own retries are off: a worker or node that dies mid-job puts the job back
in the queue here, up to ``max_attempts`` claims in all, so the attempts in the database are the real ones.
A head lost mid-run (Ray's exception, or ``head_watch`` finding its port silent, whichever comes first) gives
every held job back to the queue and is reported at once, before Ray's own deadline for a lost head.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.batch.farm import FarmError, require_ray
from studio.batch.farm.board import ProgressBoard
from studio.batch.farm.cluster import Cluster, connect, host_port
from studio.batch.farm.head_watch import HeadWatch, WatchTiming, ray_gcs_deadline
from studio.batch.farm.payload import InputStore, install
from studio.batch.farm.worker import render_job
from studio.batch.queue import Job, JobQueue, QueueError, QueueRunner, _overall_fraction
from studio.errors import StudioError
from studio.export.exporter import check_writable
from studio.system.progress import Progress

log = logging.getLogger(__name__)

#: Seconds between two looks at the database for cancel requests of running jobs.
CANCEL_POLL = 0.5
#: Seconds the loop waits for the progress board's reports before it goes on without them: no call of the loop
#: may wait without bound (Ray holds an actor call whose actor it cannot reach until the GCS says it died, and a
#: dead GCS never says so).
BOARD_WAIT = 5.0


@dataclass
class FarmEvent:
    """What the CLI bars and the window see: a job was dispatched, progressed, or ended."""

    job_id: int
    kind: str  # dispatched | progress | finished | failed | cancelled | retry
    fraction: float = 0.0
    progress: Progress | None = None
    eta_seconds: float | None = None
    node: str | None = None
    pid: int | None = None
    message: str | None = None


FarmCallback = Callable[[FarmEvent], None]


class HeadLost(FarmError):
    """The cluster's head went away mid-run; the jobs this run held were queued again before this was raised."""


def _ignore(_event: FarmEvent) -> None:
    """A ``FarmCallback`` for callers that want no events."""


def _not_told(_lost: HeadLost) -> None:
    """An ``on_head_lost`` for callers that learn of a lost head from the ``HeadLost`` that ``run`` raises."""


@dataclass
class _Running:
    job: Job
    attempt: int
    started: float
    cancel_sent: bool = False
    fraction: float = 0.0
    where: dict[str, Any] = field(default_factory=dict)


@dataclass
class FarmSettings:
    #: ``auto``, ``local`` or a head address; ignored when this process is already connected to a cluster.
    address: str = "auto"
    device: str = "default"
    #: GPUs per diffusion job (a fraction packs several jobs on one GPU; 0 runs them on CPUs).
    gpus_per_job: float = 1.0
    cpus_per_job: float = 1.0
    #: Weights folder on the workers (None: the job's own ``models``), or ``download``.
    models: str | None = None
    max_attempts: int = 3
    #: At most this many jobs are ``running`` at once (None: as many as the cluster's CPUs allow).
    max_in_flight: int | None = None
    #: The workers' cache folder (None: ``STUDIO_HOME/cache/farm`` on each worker).
    worker_cache: str | None = None
    #: CPUs/GPUs of a ``local`` cluster (None: Ray's default, every core).
    local_cpus: int | None = None
    local_gpus: int | None = None
    poll_seconds: float = 0.1


class FarmRunner:
    def __init__(self, queue: JobQueue, settings: FarmSettings | None = None):
        self.queue, self.settings = queue, settings or FarmSettings()
        self.lock = QueueRunner(queue, renderer=None, device=self.settings.device)  # its lock + recovery only
        #: Job ids this run submitted (a job retried after a worker died appears once per attempt).
        self.dispatched: list[int] = []
        #: Job ids whose outputs this run wrote into place.
        self.installed: list[int] = []
        self.inputs: InputStore | None = None
        self._running: dict[Any, _Running] = {}
        self._last_cancel_poll = 0.0
        self._task: Any = None  # the Ray remote function (Ray is untyped and optional)
        self._last_collected = 0
        #: Jobs this run claimed and has not settled yet. They change hands (claimed, settled, given back) only
        #: under ``_lock``, which the head watch's thread takes too, and never once ``_lost`` is set.
        self._held: set[int] = set()
        self._lock = threading.Lock()
        self._lost: HeadLost | None = None
        self._on_head_lost: Callable[[HeadLost], None] = _not_told

    # ------------------------------------------------------------------------ the loop
    def run(self, report: FarmCallback = _ignore, should_stop: Callable[[], bool] = lambda: False,
            on_head_lost: Callable[[HeadLost], None] = _not_told) -> dict[str, int]:
        """Run the queue until no job is queued or running; returns the queue's counts.

        A head lost mid-run raises ``HeadLost`` once the jobs are back in the queue. ``on_head_lost`` hears of it
        first, at once and possibly from the head watch's thread: Ray may end this process soon after (see
        ``head_watch``), so whatever must reach the user is said there (the command line prints its error line)."""
        ray = require_ray()
        self.lock.acquire()  # RunnerBusy when another runner works on this device; recovers a dead one's jobs
        self._on_head_lost = on_head_lost
        cluster: Cluster | None = None
        watch: HeadWatch | None = None
        try:
            cluster = connect(self.settings.address, self.settings.local_cpus, self.settings.local_gpus)
            self._check_resources(cluster)
            self.inputs = InputStore(ray.put)
            self._task = ray.remote(render_job)
            board = ray.remote(num_cpus=0)(ProgressBoard).remote()
            slots = self.settings.max_in_flight or max(1, int(cluster.cpus // max(self.settings.cpus_per_job, 1e-3)))
            watch = self._watch_head(ray)
            try:
                self._loop(ray, board, slots, report, should_stop)
            except (KeyboardInterrupt, SystemExit):
                self._give_back_running(ray, "the submitter was interrupted")
                raise
            except HeadLost:
                raise
            except (ConnectionError, ray.exceptions.RaySystemError, ray.exceptions.RayActorError) as error:
                raise self._lose_head(_gist(error)) from None
            except (OSError, ray.exceptions.RayError) as error:
                # Ray's other failures (a broken pipe to the dead local raylet, an RPC error) mean a lost head
                # only when the head is in fact gone; anything else is a failure of its own and says so
                if watch is None or watch.answers():
                    raise
                raise self._lose_head(_gist(error)) from None
        finally:
            if watch is not None:
                watch.stop()
            if cluster is not None:
                cluster.shutdown()
            self.lock.release()
        return self.queue.counts()

    def _watch_head(self, ray) -> HeadWatch | None:
        """Start the watch on the head's GCS port (a Ray Client session: its server's port)."""
        address = self.settings.address
        try:
            target = host_port(address) if address.startswith("ray://") else host_port(
                ray.get_runtime_context().gcs_address)
            cluster_config = ray._private.state.state.get_system_config()
        except Exception:  # noqa: BLE001 - another Ray's internals: no watch, Ray's exceptions alone end a lost run
            return None
        if target is None:
            return None
        timing = WatchTiming.within(ray_gcs_deadline(cluster_config))
        watch = HeadWatch(target[0], target[1], timing, on_lost=self._lose_head)
        watch.start()
        return watch

    def _lose_head(self, why: str) -> HeadLost:
        """Queue the held jobs again and tell ``on_head_lost``, once (the loop's thread or the head watch's)."""
        with self._lock:
            if self._lost is None:
                count = self._requeue_held()
                self._lost = HeadLost(
                    f"lost the connection to the Ray cluster ({why}); the queue is intact: {count} running job(s) "
                    f"were queued again. Rerun `batch run --cluster {self.settings.address}` when the cluster is back")
                self._on_head_lost(self._lost)
            return self._lost

    @contextlib.contextmanager
    def _holding(self):
        """Jobs change hands inside this: it waits for a head watch that is giving them back, and raises the
        ``HeadLost`` once it has (the loop then ends without touching them)."""
        with self._lock:
            if self._lost is not None:
                raise self._lost
            yield

    def _loop(self, ray, board, slots: int, report: FarmCallback, should_stop: Callable[[], bool]) -> None:
        while True:
            if should_stop():
                self._give_back_running(ray, "the studio is closing")
                return
            while len(self._running) < slots:
                with self._holding():
                    job = self.queue.claim_next(self.settings.device)
                    if job is not None:
                        self._held.add(job.id)
                if job is None:
                    break
                self._dispatch(ray, board, job, report)
            if not self._running:
                return
            ready, _ = ray.wait(list(self._running), num_returns=len(self._running), timeout=self.settings.poll_seconds)
            self._pump_progress(ray, board, report)
            self._pass_on_cancels(ray, board)
            for ref in ready:
                try:
                    self._collect(ray, ref, report)
                except QueueError as error:  # the row changed under us (deleted, moved by hand): go on
                    self._held.discard(self._last_collected)
                    report(FarmEvent(self._last_collected, "failed", message=str(error)))

    # ------------------------------------------------------------------------ steps
    def _check_resources(self, cluster: Cluster) -> None:
        s = self.settings
        waiting = [j for j in self.queue.jobs("queued") if j.device == s.device]
        if s.gpus_per_job > 0 and cluster.gpus == 0 and any(j.request is not None and j.request.engine == "diffusion" for j in waiting):
            raise FarmError(f"the queue holds diffusion jobs but the Ray cluster ({cluster.address}) has no GPUs; "
                            "start GPU workers with `ray start --address HEAD:PORT --num-gpus N`, or pass "
                            "--gpus-per-job 0 to render them on CPUs (slow)")
        if cluster.cpus < s.cpus_per_job:
            raise FarmError(f"the Ray cluster ({cluster.address}) has {cluster.cpus:g} CPUs; a job asks for "
                            f"{s.cpus_per_job:g} (--cpus-per-job)")

    def _dispatch(self, ray, board, job: Job, report: FarmCallback) -> None:
        s = self.settings
        assert job.request is not None and self.inputs is not None  # (claim_next skips unreadable jobs; run set it)
        try:
            check_writable(Path(job.output))  # as the local renderer: fail before any heavy work
            ref_hash, ref_obj = self.inputs.ref(job.request.reference)
            motion_hash, motion_obj = self.inputs.ref(job.request.motion)
        except StudioError as error:
            with self._holding():
                self.queue.fail(job.id, str(error))
                self._held.discard(job.id)
            report(FarmEvent(job.id, "failed", message=str(error)))
            return
        diffusion = job.request.engine == "diffusion"
        options = {"num_cpus": s.cpus_per_job, "max_retries": 0, "retry_exceptions": False}
        if diffusion and s.gpus_per_job > 0:
            options["num_gpus"] = s.gpus_per_job
        payload = {"id": job.id, "attempt": job.attempts, "request": job.request.to_json(indent=None),
                   "output_name": Path(job.output).name, "reference_hash": ref_hash, "motion_hash": motion_hash,
                   "models": s.models, "cache": s.worker_cache}
        board.forget.remote(job.id)
        ref = self._task.options(**options).remote(payload, ref_obj, motion_obj, board)
        self._running[ref] = _Running(job=job, attempt=job.attempts, started=time.time())
        self.dispatched.append(job.id)
        report(FarmEvent(job.id, "dispatched", message=f"attempt {job.attempts}"))

    def _pump_progress(self, ray, board, report: FarmCallback) -> None:
        by_job = {r.job.id: r for r in self._running.values()}
        try:
            reports = ray.get(board.take.remote(), timeout=BOARD_WAIT)
        except ray.exceptions.GetTimeoutError:
            return  # a busy board: its reports come next time (a lost head is the watch's to tell)
        for job_id, posted in reports.items():
            running = by_job.get(job_id)
            if running is None or posted["attempt"] != running.attempt:
                continue  # a report of an attempt that already ended
            running.where = {"node": posted["node"], "pid": posted["pid"]}
            progress = Progress(posted["phase"], posted["current"], posted["total"], posted.get("message") or "")
            # the renderer loads the engine after extracting the motion: keep each job's bar from going back
            fraction = running.fraction = max(running.fraction, _overall_fraction(progress))
            elapsed = time.time() - running.started
            eta = elapsed * (1 - fraction) / fraction if fraction > 0.02 else None
            message = f"{progress.phase} {progress.current}/{progress.total} on {posted['node']}"
            with self._holding():  # (a job given back meanwhile shows no progress)
                cancel_requested = self.queue.set_progress(job_id, fraction, message)
            if cancel_requested:
                self._send_cancel(ray, board, running)
            report(FarmEvent(job_id, "progress", fraction, progress, eta, posted["node"], posted["pid"], message))

    def _pass_on_cancels(self, ray, board) -> None:
        now = time.monotonic()
        if now - self._last_cancel_poll < CANCEL_POLL:
            return
        self._last_cancel_poll = now
        for running in self._running.values():
            if not running.cancel_sent and self.queue.get(running.job.id).cancel_requested:
                self._send_cancel(ray, board, running)

    def _send_cancel(self, ray, board, running: _Running) -> None:
        if running.cancel_sent:
            return
        running.cancel_sent = True
        board.cancel.remote(running.job.id)  # the worker's next progress post stops the render cooperatively
        ref = next(r for r, v in self._running.items() if v is running)
        ray.cancel(ref)  # and Ray interrupts the task (or drops it when it has not started)

    def _collect(self, ray, ref, report: FarmCallback) -> None:
        running = self._running.pop(ref)
        job = running.job
        self._last_collected = job.id
        try:
            result = ray.get(ref)
        except ray.exceptions.TaskCancelledError:
            result = {"status": "cancelled"}
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.ObjectLostError,
                ray.exceptions.OutOfMemoryError, ray.exceptions.LocalRayletDiedError) as error:
            self._worker_died(job, running, _gist(error), report)
            return
        except ray.exceptions.RayTaskError as error:  # the task body itself raised (it returns its failures)
            result = {"status": "failed", "error": f"internal error on the worker: {_gist(error)}"}
        status = result["status"]
        with self._holding():  # a job the head watch gave back is not installed (its next run renders it)
            self._held.discard(job.id)
            if status == "finished":
                try:
                    install(result["files"], job.output)
                except StudioError as error:
                    status, result = "failed", {"error": str(error)}
                else:
                    self.installed.append(job.id)
                    self.queue.finish(job.id, seconds=result["seconds"], step_seconds=result.get("step_seconds"))
            if status == "cancelled":
                self.queue.mark_cancelled(job.id)
            elif status == "failed":
                self.queue.fail(job.id, result["error"])
        report(FarmEvent(job.id, status, 1.0 if status == "finished" else 0.0, node=result.get("node"),
                         pid=result.get("pid"), message=result.get("error")))

    def _worker_died(self, job: Job, running: _Running, why: str, report: FarmCallback) -> None:
        with self._holding():
            self._held.discard(job.id)
            if running.cancel_sent:
                self.queue.mark_cancelled(job.id)
                event = FarmEvent(job.id, "cancelled")
            elif running.attempt < self.settings.max_attempts:
                self.queue.requeue_interrupted(job.id)
                event = FarmEvent(job.id, "retry", message=f"the worker died ({why}); queued again")
            else:
                reason = f"the worker running it died {running.attempt} time(s); last: {why}"
                self.queue.fail(job.id, reason)
                event = FarmEvent(job.id, "failed", message=reason)
        report(event)

    def _give_back_running(self, ray, why: str) -> None:
        """Stop the submitted tasks and put their jobs back in the queue (nothing of theirs was written)."""
        log.info("giving back %d running job(s): %s", len(self._running), why)
        for ref in list(self._running):
            try:
                ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - the cluster may be gone; the job goes back either way
                pass
        self._running.clear()
        with self._lock:
            if self._lost is None:  # (else the head watch gave them back already)
                self._requeue_held()

    def _requeue_held(self) -> int:
        """Put the held jobs back in the queue (under ``_lock``); returns how many went back."""
        count = 0
        for job_id in sorted(self._held):
            try:
                self.queue.requeue_interrupted(job_id)
                count += 1
            except StudioError:  # cancelled meanwhile: it stays so
                pass
        self._held.clear()
        return count


def _gist(error: BaseException) -> str:
    """The first sentence of one of Ray's (long, multi-line) error messages."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text.split(". ")[0].rstrip(".")[:200]
