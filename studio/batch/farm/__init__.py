"""The render farm: the batch queue's jobs run as Ray tasks on a cluster of (GPU) machines.

The SQLite queue on the submitting machine stays the single source of truth: the submitter claims jobs
exactly as the local runner does, ships each distinct input file once through Ray's object store, and
writes the finished files that a worker sends back atomically into the output folder before it marks the
job finished. Workers never touch the queue or the output folder.

- ``cluster``: connect to (or start) a cluster; a local one listens on 127.0.0.1 only.
- ``payload``: inputs by content hash into the object store; finished files back as bytes.
- ``worker``: what runs inside a Ray worker process (one job per task).
- ``board``: a small Ray actor that carries progress reports and cancel requests between the two.
- ``runner``: ``FarmRunner``, the submitter loop (dispatch, progress, cancel, retries, recovery).
- ``head_watch``: the submitter's own watch on the head, so a lost head is reported before Ray ends the process.

Ray is an optional dependency (``pip install .[cluster]``); nothing here imports it at module level, so the
studio runs without it and ``require_ray`` says what to install when a cluster is asked for.
"""

from __future__ import annotations

from types import ModuleType

from studio.errors import StudioError


class FarmError(StudioError):
    """The cluster cannot be used (Ray missing, no connection, no GPUs for diffusion jobs)."""


def require_ray() -> ModuleType:
    """Import Ray, or fail with what to install."""
    try:
        import ray
    except ImportError:
        raise FarmError("running the queue on a cluster needs Ray, which is not installed; install it with "
                        "`pip install '.[cluster]'` (or `pip install ray==2.60.0`)") from None
    return ray
