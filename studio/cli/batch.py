"""``python -m studio batch add|run|status|cancel|retry``: the persistent batch queue from the command line."""

from __future__ import annotations

import argparse
import json
import sys

from studio.batch.farm.cli import add_cluster_options
from studio.cli.render import ProgressBars, absolute, add_render_options, request_from_args
from studio.errors import InputError
from studio.request.presets import PRESETS


def _queue(args: argparse.Namespace, read_only: bool = False):
    from studio.batch.queue import JobQueue

    queue = JobQueue(args.db or None, read_only=read_only, say=lambda line: print(f"note: {line}", file=sys.stderr))
    if queue.notice:
        print(f"warning: {queue.notice}", file=sys.stderr)
    return queue


def _add(args: argparse.Namespace) -> int:
    base = request_from_args(args, args.reference[0], args.motion[0])
    if base.engine == "diffusion" and not args.weights_on_workers:
        from studio.render.model_folder import check_models

        assert base.models is not None  # (validate() refuses a diffusion request without one)
        check_models(base.models).raise_if_bad()
    from studio.service import Studio

    references = [absolute(path) for path in args.reference]
    motions = [absolute(path) for path in args.motion]
    planned = Studio.plan_batch(base, references, motions, absolute(args.out_dir), args.presets or [None])
    ids = _queue(args).add_planned(planned, device=args.device_queue)
    print(f"queued {len(ids)} job(s): {', '.join(map(str, ids))}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from studio.service import Studio

    if args.cluster:
        from studio.batch.farm.cli import run_on_cluster

        return run_on_cluster(args, _queue(args))
    studio = Studio(queue_path=args.db or None)
    queue = studio.queue
    bars = ProgressBars(not args.quiet)
    print(f"{len(queue.jobs('queued'))} job(s) queued", file=sys.stderr)
    running: list[int] = []
    failed = 0  # failures of this run only: an old failed job in the queue is not this run's error

    def on_job(job) -> None:  # the studio's queue runner says which job starts, and when it has ended
        nonlocal failed
        if job is not None:
            running[:] = [job.id]
            what = f"{job.request.reference} × {job.request.motion}" if job.request else "(unreadable request)"
            print(f"job {job.id}: {what} → {job.output}", file=sys.stderr)
            return
        bars.close()
        done = queue.get(running[0])
        failed += done.state == "failed"
        print(f"job {done.id}: {done.state}" + (f" — {done.error}" if done.error else ""), file=sys.stderr)

    studio.run_queue(bars, on_job=on_job, device=args.device_queue)
    counts = queue.counts()
    print(", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return 0 if failed == 0 else 1


def _status(args: argparse.Namespace) -> int:
    queue = _queue(args, read_only=True)  # looking never creates, changes or moves a file
    jobs = queue.jobs(args.state)
    # a job left "running" by a runner that is gone is interrupted (the next `batch run` queues it again)
    shown = {j.id: "interrupted" if queue.orphaned(j) else j.state for j in jobs}
    if args.json:
        print(json.dumps({"jobs": [j.to_dict() | {"shown_state": shown[j.id]} for j in jobs],
                          "counts": queue.counts(), "eta_seconds": queue.eta_seconds()}, indent=2))
        return 0
    for job in jobs:
        line = f"{job.id:>4} {shown[job.id]:<11} {job.progress * 100:5.1f}%  {job.output}"
        if job.error:
            line += f"\n       error: {job.error}"
        print(line)
    eta = queue.eta_seconds()
    print(", ".join(f"{n} {s}" for s, n in queue.counts().items() if n) or "the queue is empty")
    if eta:
        print(f"ETA {eta:.0f} s (from measured step times)")
    return 0


def _ids(args: argparse.Namespace, queue) -> list[int]:
    if args.all:
        states = ("queued", "running") if args.command_name == "cancel" else ("failed", "cancelled")
        return [j.id for j in queue.jobs() if j.state in states]
    if not args.ids:
        raise InputError(f"batch {args.command_name} needs job ids or --all")
    return args.ids


def _cancel(args: argparse.Namespace) -> int:
    queue = _queue(args)
    for job_id in _ids(args, queue):
        print(f"job {job_id}: {queue.cancel(job_id)}")
    return 0


def _retry(args: argparse.Namespace) -> int:
    queue = _queue(args)
    for job_id in _ids(args, queue):
        queue.retry(job_id)
        print(f"job {job_id}: queued")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("batch", help="queue renders (photos × motions × presets) and run them")
    sub = parser.add_subparsers(dest="batch_command", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", help="queue database (default: STUDIO_HOME/queue.sqlite3)")
        p.add_argument("--queue-device", dest="device_queue", default="default",
                       help="which device's queue (one runner per device)")

    add = sub.add_parser("add", help="queue every photo × motion (× preset) combination")
    add.add_argument("--reference", nargs="+", required=True, help="one or more photos")
    add.add_argument("--motion", nargs="+", required=True, help="one or more driving videos / motion folders")
    add.add_argument("--out-dir", required=True, help="folder for the mp4s (PHOTO__MOTION[__PRESET].mp4)")
    add.add_argument("--presets", nargs="+", choices=list(PRESETS), metavar="PRESET",
                     help="one job per preset for every combination (see the `presets` command)")
    add.add_argument("--weights-on-workers", action="store_true",
                     help="--models is a path on the render-farm workers: check it there, not on this machine")
    add_render_options(add)
    common(add)
    add.set_defaults(func=_add)

    run = sub.add_parser("run", help="render queued jobs until the queue is empty")
    run.add_argument("--quiet", action="store_true")
    common(run)
    add_cluster_options(run)
    run.set_defaults(func=_run)

    status = sub.add_parser("status", help="list jobs")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--state", choices=["queued", "running", "finished", "failed", "cancelled"])
    common(status)
    status.set_defaults(func=_status)

    for name, func, text in (("cancel", _cancel, "cancel queued or running jobs"),
                             ("retry", _retry, "queue failed or cancelled jobs again")):
        p = sub.add_parser(name, help=text)
        p.add_argument("ids", nargs="*", type=int)
        p.add_argument("--all", action="store_true")
        p.set_defaults(command_name=name)
        common(p)
        p.set_defaults(func=func)
