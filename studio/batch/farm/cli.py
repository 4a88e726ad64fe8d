"""``python -m studio batch run --cluster ADDRESS``: the command-line side of the render farm."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the runner is imported when a cluster run starts, not for every command's --help
    from studio.batch.farm.runner import FarmEvent, HeadLost


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("render farm (needs `pip install '.[cluster]'`)")
    group.add_argument("--cluster", metavar="ADDRESS",
                       help="run the jobs as Ray tasks: auto (the cluster this machine belongs to), local (start "
                            "one here on 127.0.0.1), or the head's HOST:PORT / ray://HOST:PORT")
    group.add_argument("--gpus-per-job", type=float, default=1.0,
                       help="GPUs each diffusion job asks for (0.5 packs two per GPU; 0 renders on CPUs)")
    group.add_argument("--cpus-per-job", type=float, default=1.0, help="CPUs each job asks for")
    group.add_argument("--models", dest="worker_models", metavar="PATH",
                       help="the weights folder on the workers (default: each job's own --models path), or "
                            "`download` to fetch them into each worker's cache on first use")
    group.add_argument("--max-attempts", type=int, default=3,
                       help="how often a job is started when workers die under it")
    group.add_argument("--max-in-flight", type=int, help="at most this many jobs at once (default: cluster CPUs)")
    group.add_argument("--local-cpus", type=int, help="CPUs of a --cluster local cluster (default: all)")


class FarmBars:
    """One tqdm bar per running job on stderr: overall fraction, phase and step, node and ETA."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._bars: dict[int, Any] = {}  # tqdm bars by job id (tqdm is untyped)

    def __call__(self, event: FarmEvent) -> None:
        if event.kind != "progress":
            self._close(event.job_id)
            print(f"job {event.job_id}: {event.kind}" + (f" — {event.message}" if event.message else ""),
                  file=sys.stderr)
            return
        if not self.enabled:
            return
        from tqdm import tqdm

        bar = self._bars.get(event.job_id)
        if bar is None:
            bar = tqdm(total=100, file=sys.stderr, leave=False, dynamic_ncols=True,
                       bar_format="{desc} {percentage:3.0f}%|{bar}|")
            self._bars[event.job_id] = bar
        bar.n = int(round(event.fraction * 100))
        eta = f" ETA {event.eta_seconds:.0f}s" if event.eta_seconds is not None else ""
        bar.set_description_str(f"job {event.job_id}: {event.message}{eta}"[:60], refresh=False)
        bar.refresh()

    def _close(self, job_id: int) -> None:
        bar = self._bars.pop(job_id, None)
        if bar is not None:
            bar.close()

    def close(self) -> None:
        for job_id in list(self._bars):
            self._close(job_id)


def say_head_lost(lost: HeadLost) -> None:
    """The error line of a lost head, printed the moment the loss is known: Ray may end this process before the
    error could travel up to ``main`` (``studio.batch.farm.head_watch`` says why)."""
    print(f"error: {lost}", file=sys.stderr, flush=True)


def run_on_cluster(args: argparse.Namespace, queue) -> int:
    from studio.batch.farm.runner import FarmRunner, FarmSettings, HeadLost

    settings = FarmSettings(address=args.cluster, device=args.device_queue, gpus_per_job=args.gpus_per_job,
                            cpus_per_job=args.cpus_per_job, models=args.worker_models,
                            max_attempts=args.max_attempts, max_in_flight=args.max_in_flight,
                            local_cpus=args.local_cpus)
    runner = FarmRunner(queue, settings)
    bars = FarmBars(not args.quiet)
    try:
        counts = runner.run(bars, on_head_lost=say_head_lost)
    except HeadLost:
        return 1  # its error line is out already
    finally:
        bars.close()
    print(", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return 0 if counts.get("failed", 0) == 0 else 1
