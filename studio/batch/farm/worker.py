"""The body of one render task, run inside a Ray worker process.

It unpacks the inputs (cached per node by content hash), finds the weights on this machine, renders into a
private folder with the process-wide renderer (so a worker keeps its loaded pipeline for the next diffusion
job), and returns the finished files as bytes. It never touches the queue or the submitter's output folder.
Every outcome is returned as a dict; a cancel (the board's reply, or ``ray.cancel``'s KeyboardInterrupt)
returns ``cancelled`` after the exporter removed its temporaries.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from studio.errors import ModelFolderError
from studio.batch.farm.payload import Packed, collect, unpack
from studio.export.output_names import sidecar_path
from studio.system.progress import Cancelled, CancelToken, Progress
from studio.batch.queue import failure_reason
from studio.request.render_request import RenderRequest

#: Seconds between two progress posts of one job (the first post of each phase always goes out).
POST_EVERY = 0.25
DOWNLOAD = "download"


def node_name() -> str:
    return socket.gethostname()


def sweep_dead_job_folders(jobs: Path) -> None:
    """Remove the private folders of this node's worker processes that died mid-job (killed, OOM)."""
    prefix = f"{node_name()}-"
    if not jobs.is_dir():
        return
    for folder in jobs.iterdir():
        if not folder.name.startswith(prefix):
            continue
        pid = folder.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def resolve_models(request: RenderRequest, override: str | None, cache: Path) -> str | None:
    """The weights folder on this worker: ``override`` (``--models`` of ``batch run --cluster``), else the
    job's own path; ``download`` fetches the official weights into this node's cache on first use."""
    if request.engine != "diffusion":
        return request.models
    folder = override or request.models
    if folder == DOWNLOAD:
        from studio.render.model_folder import download_models

        folder = str(download_models(cache / "weights", include_optional=True, progress=lambda *_: None))
    if not folder:
        raise ModelFolderError(f"worker {node_name()}: the job names no weights folder; pass --models PATH "
                               "(a path on the workers) or --models download")
    from studio.render.model_folder import check_models

    try:
        check_models(folder).raise_if_bad()
    except ModelFolderError as error:
        raise ModelFolderError(f"worker {node_name()} has no usable weights: {error}. Put the weights at that path "
                               "on every worker, or pass --models PATH (a path on the workers) or --models download"
                               ) from None
    return folder


class _Poster:
    """The job's progress callback: posts to the board now and then and turns its reply into a cancel."""

    def __init__(self, board: Any, job_id: int, attempt: int, cancel: CancelToken):
        self.board, self.job_id, self.attempt, self.cancel = board, job_id, attempt, cancel
        self.where = {"node": node_name(), "pid": os.getpid()}
        self._last = 0.0
        self._phase: str | None = None

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if progress.phase == self._phase and now - self._last < POST_EVERY and progress.current != progress.total:
            return
        self._last, self._phase = now, progress.phase
        import ray

        report = {"phase": progress.phase, "current": progress.current, "total": progress.total,
                  "message": progress.message, **self.where}
        try:
            if ray.get(self.board.post.remote(self.job_id, self.attempt, report)):
                self.cancel.cancel()
        except ray.exceptions.RayError:  # the submitter is gone: Ray ends this task with it
            pass


@functools.cache
def worker_renderer():
    """The Ray worker process's renderer, a process-wide registry written only here: a task has no object of its
    own that outlives it, so the process keeps one, and the next job on this worker reuses its loaded pipeline. A Ray worker process runs one task
    at a time, so no render lock is needed around it (the studio's lock serves the window's threads)."""
    from studio.render.renderer import Renderer

    return Renderer()


def render_job(job: dict[str, Any], reference: Packed, motion: Packed, board: Any) -> dict[str, Any]:
    """``job``: id, attempt, request (JSON), output_name, reference_hash, motion_hash, models, cache."""
    from studio.system.paths import cache_dir

    cache = Path(job["cache"]) if job.get("cache") else cache_dir("farm")
    jobs = cache / "jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    sweep_dead_job_folders(jobs)
    cancel = CancelToken()
    post = _Poster(board, job["id"], job["attempt"], cancel)
    where = dict(post.where)
    private: Path | None = None
    try:
        post(Progress("load", 0, 1, "inputs"))
        private = Path(tempfile.mkdtemp(prefix=f"{where['node']}-{where['pid']}-job{job['id']}-", dir=jobs))
        original = RenderRequest.from_json(job["request"])
        local = original.replace(reference=str(unpack(reference, job["reference_hash"], cache)),
                                 motion=str(unpack(motion, job["motion_hash"], cache)))
        local = local.replace(models=resolve_models(local, job.get("models"), cache))
        started = time.perf_counter()
        result = worker_renderer().render(local, private / job["output_name"], post, cancel)
        seconds = time.perf_counter() - started
        _restore_request_paths(private / job["output_name"], original, where, job["attempt"])
        return {"status": "finished", "files": collect(private), "seconds": seconds,
                "step_seconds": result.step_seconds, **where}
    except (Cancelled, KeyboardInterrupt):
        return {"status": "cancelled", **where}
    except Exception as error:  # the job boundary: every failure becomes a readable reason
        return {"status": "failed", "error": failure_reason(error), **where}
    finally:
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)


def _restore_request_paths(out: Path, original: RenderRequest, where: dict[str, Any], attempt: int) -> None:
    """The sidecar names the submitter's input paths (what a re-render there reads) and where it ran."""
    side = sidecar_path(out)
    data = json.loads(side.read_text(encoding="utf-8"))
    data["request"]["reference"], data["request"]["motion"] = original.reference, original.motion
    data["farm"] = {**where, "attempt": attempt}
    side.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
