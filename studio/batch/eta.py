"""How long the queue's jobs will take, from the step times of the jobs that finished.

One place for the estimate, so the window's table, ``batch status`` and the farm all say the same thing. A job's
time is its whole render (load, encode, decode, export) divided by its work: its denoising steps, times the share
of its frames the engine renders (``--interpolate N`` renders about every N-th frame, the interpolator fills the
rest at a small fraction of a step's cost) — a rate per engine that scales with the work a waiting job asks for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: Below this progress a running job's elapsed time says little (the model may still be loading), so the
#: measured step rate is used instead of extrapolating the elapsed time.
MIN_PROGRESS_TO_EXTRAPOLATE = 0.02


def _work(request: Any) -> float:
    """Denoising steps times the share of the frames the engine renders (the rest are interpolated)."""
    return max(1, request.steps) / max(1, getattr(request, "interpolate", 1))


def step_rates(jobs: Iterable[Any]) -> dict[str, float]:
    """Mean seconds per unit of work (a denoising step over every frame) per engine, over the finished jobs."""
    found: dict[str, list[float]] = {}
    for job in jobs:
        if job.state == "finished" and job.seconds and job.request:
            found.setdefault(job.request.engine, []).append(job.seconds / _work(job.request))
    return {engine: sum(values) / len(values) for engine, values in found.items()}


def job_eta(job: Any, rates: Mapping[str, float], now: float | None = None) -> float | None:
    """Seconds until ``job`` is done; None when nothing says (no rate for its engine yet) or it is not waiting.

    With ``now`` (a wall-clock time, as the queue stores ``started``), a running job that has made progress is
    extrapolated from its own elapsed time, which already includes this machine's loading and export."""
    if job.state not in ("queued", "running") or job.request is None:
        return None
    if job.state == "running" and now is not None and job.started and job.progress > MIN_PROGRESS_TO_EXTRAPOLATE:
        elapsed = max(0.0, now - job.started)
        return elapsed * (1.0 - job.progress) / job.progress
    per_step = rates.get(job.request.engine)
    if per_step is None:
        return None
    whole = per_step * _work(job.request)
    return whole * (1.0 - job.progress) if job.state == "running" else whole


def queue_eta(jobs: Sequence[Any], device: str | None = None) -> float | None:
    """Seconds until every waiting job of ``device`` (all devices when None) is done; None while any of them
    has no measured rate yet."""
    rates = step_rates(jobs)
    total = 0.0
    for job in jobs:
        if job.state not in ("queued", "running") or job.request is None or (device and job.device != device):
            continue
        eta = job_eta(job, rates)
        if eta is None:
            return None
        total += eta
    return total


def eta_text(seconds: float | None) -> str:
    """m:ss, or a dash when unknown."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
