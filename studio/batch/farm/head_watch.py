"""Watching the cluster's head from the submitter, on a thread of its own, so that a lost head is always
reported before Ray ends the submitting process by itself.

Why a watch of our own: Ray's driver does not wait for its caller to notice a dead head. Its GCS client
(``src/ray/gcs_rpc_client/rpc_client.h``, the ``server_unavailable_timeout_callback`` of the
``RetryableGrpcClient``) calls ``std::_Exit(EXIT_FAILURE)`` once the GCS has been unreachable for
``gcs_rpc_server_reconnect_timeout_s`` (60 s by default) while any request to it is pending, and the driver's
task-event buffer keeps one pending all the time (it reports to the GCS every second). ``_Exit`` runs no
Python: no ``except``, no ``finally``, no ``atexit``. Whether the submitter's loop learns of the loss in time
depends on Ray's exceptions arriving and on its own cleanup (``ray.shutdown()`` alone waits 5 s for that
pending report) finishing before that deadline; a call that waits on the dead GCS (an actor task Ray stashes
"waiting for death info from GCS"), a stalled loop or a short configured timeout lets Ray win, and the run
ended with exit code 1, no message and its jobs left ``running``.

The watch dials the head's GCS port (a plain TCP connect, independent of Ray's clients) a few times a second
and calls ``on_lost`` once the head has refused or ignored every dial for ``grace`` seconds — a quarter of
Ray's deadline at most, so the loss is reported (and the jobs given back) with most of that deadline left.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: Ray's setting for how long its driver lives on without the GCS, and its default (``ray_config_def.h``).
RAY_GCS_TIMEOUT_KEY = "gcs_rpc_server_reconnect_timeout_s"
RAY_GCS_TIMEOUT_DEFAULT = 60.0
#: The longest a head may stay silent before the run ends, however long Ray would wait.
LONGEST_GRACE = 10.0
#: Dials per grace period: a loss needs this many failed dials in a row, so one dropped dial ends nothing.
DIALS_PER_GRACE = 4


def ray_gcs_deadline(cluster_config: dict) -> float:
    """Seconds after which Ray's driver ends the process once its GCS is gone.

    Ray resolves the setting as the cluster's ``_system_config``, else ``RAY_gcs_rpc_server_reconnect_timeout_s``,
    else 60 (``node.py``'s ``_resolve_ray_config``); the shortest of the values present is taken, so a grace
    derived from it is never too long whichever of them this driver ended up with."""
    found = [RAY_GCS_TIMEOUT_DEFAULT]
    for value in (cluster_config.get(RAY_GCS_TIMEOUT_KEY), os.environ.get("RAY_" + RAY_GCS_TIMEOUT_KEY)):
        try:
            if value is not None and float(value) > 0:
                found.append(float(value))
        except ValueError:  # Ray itself would refuse it; the default stands
            pass
    return min(found)


@dataclass(frozen=True)
class WatchTiming:
    #: Seconds of unbroken silence that count as a lost head.
    grace: float
    #: Seconds between two dials (also each dial's own connect timeout).
    interval: float

    @classmethod
    def within(cls, ray_deadline: float) -> WatchTiming:
        grace = min(LONGEST_GRACE, ray_deadline / 4)
        return cls(grace=grace, interval=grace / DIALS_PER_GRACE)


def dial(host: str, port: int, timeout: float) -> bool:
    """Whether something accepts a TCP connection at host:port within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class HeadWatch:
    """Calls ``on_lost(why)`` once, from its own thread, when the head at host:port stops answering."""

    def __init__(self, host: str, port: int, timing: WatchTiming, on_lost: Callable[[str], object]):
        self.host, self.port, self.timing, self.on_lost = host, port, timing, on_lost
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="farm-head-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def answers(self) -> bool:
        """One dial now (the loop asks this when a Ray call fails in a way that may or may not be the head)."""
        return dial(self.host, self.port, self.timing.interval)

    def _watch(self) -> None:
        silent_since: float | None = None
        while not self._stop.wait(self.timing.interval):
            if self.answers():
                silent_since = None
                continue
            now = time.monotonic()
            silent_since = now if silent_since is None else silent_since
            if now - silent_since >= self.timing.grace:
                log.info("the Ray head at %s:%s has not answered for %.1f s", self.host, self.port,
                            now - silent_since)
                silence = round(self.timing.grace, 1)
                self.on_lost(f"its head at {self.host}:{self.port} has not answered for {silence:g} s")
                return
