"""The progress board: a tiny Ray actor between the workers and the submitter.

Workers post their latest progress (phase, step, where they run) and learn in the reply whether the job
was cancelled; the submitter takes the posted reports every tick and posts cancel requests. Only the latest
report per job is kept, so a slow submitter never makes the board grow. It is a plain class: the submitter
turns it into an actor with ``ray.remote`` (zero CPUs, so it never takes a render's slot).
"""

from __future__ import annotations

from typing import Any


class ProgressBoard:
    def __init__(self) -> None:
        self._latest: dict[int, dict[str, Any]] = {}
        self._cancelled: set[int] = set()

    def post(self, job_id: int, attempt: int, report: dict[str, Any]) -> bool:
        """A worker's report; returns True when the job should stop."""
        previous = self._latest.get(job_id)
        if previous is None or previous["attempt"] <= attempt:
            self._latest[job_id] = {**report, "attempt": attempt}
        return job_id in self._cancelled

    def take(self) -> dict[int, dict[str, Any]]:
        """Every report posted since the last call (the latest per job)."""
        latest, self._latest = self._latest, {}
        return latest

    def cancel(self, job_id: int) -> None:
        self._cancelled.add(job_id)

    def forget(self, job_id: int) -> None:
        """The job is dispatched again (a retry): earlier cancel requests no longer apply."""
        self._cancelled.discard(job_id)
