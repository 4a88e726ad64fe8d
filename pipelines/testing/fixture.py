"""Fixture runner: ``python -m pipelines.testing.fixture FIXTURE_DIR --out OUT_DIR`` (also ``python -m
pipelines.fixture``).

Loads the pipeline from ``FIXTURE_DIR/checkpoints`` and runs every run of ``FIXTURE_DIR/fixture.json``; writes
``OUT_DIR/<run>/frames.npy`` (float32 ``[F, H, W, 3]`` in [0, 1]). Runs are dispatched on their ``kind`` through
:data:`RUN_KINDS`; unsupported kinds are reported and skipped.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .fixture_context import FixtureContext, basic_call_kwargs, load_context, save_frames
from .fixture_hjb import run_hjb


def run_basic(pipe, ctx: FixtureContext, run: str, params: dict[str, Any], **overrides: Any) -> np.ndarray:
    """The basic (non-HJB) pipeline; ``overrides`` change call arguments (e.g. ``batched_cfg=False``)."""
    kwargs = basic_call_kwargs(ctx, run, params) | overrides
    return pipe(**kwargs).frames[0].astype(np.float32)


RunFn = Callable[[Any, FixtureContext, str, dict[str, Any]], np.ndarray]
#: kind → fn(pipe, ctx, run_name, params) returning float32 frames [F, H, W, 3] in [0, 1].
RUN_KINDS: dict[str, RunFn] = {"basic": run_basic, "hjb": run_hjb}


def run_fixture(
    fixture_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    runs: list[str] | None = None,
    log: Callable[[str], None] = print,
    pipe=None,
) -> dict[str, Path]:
    """Run every supported run (or only ``runs``); return ``{run: frames path}``."""
    from ..loading import load_stable_animator_pipeline

    ctx = load_context(fixture_dir)
    ctx.out_dir = Path(out_dir)
    if pipe is None:
        pipe = load_stable_animator_pipeline(
            Path(fixture_dir) / "checkpoints", device="cpu", dtype=torch.float32
        )
        pipe.set_progress_bar_config(disable=True)
    written: dict[str, Path] = {}
    for name, params in ctx.spec["runs"].items():
        if runs is not None and name not in runs:
            continue
        kind = params.get("kind", "basic")
        fn = RUN_KINDS.get(kind)
        if fn is None:
            log(f"{name}: kind {kind!r} is not supported (known: {sorted(RUN_KINDS)}); skipped")
            continue
        frames = fn(pipe, ctx, name, params)
        path = Path(out_dir) / name / "frames.npy"
        save_frames(path, frames)
        written[name] = path
        log(f"{name}: wrote {path} {list(frames.shape)}")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.testing.fixture", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "fixture_dir", type=Path, help="folder with fixture.json, checkpoints/, inputs/, runs/"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder; writes OUT/<run>/frames.npy")
    parser.add_argument("--run", action="append", help="only this run (repeatable)")
    args = parser.parse_args(argv)
    if not (args.fixture_dir / "fixture.json").is_file():
        print(f"error: {args.fixture_dir / 'fixture.json'} not found", file=sys.stderr)
        return 2
    from ..loading import CheckpointError

    try:
        run_fixture(args.fixture_dir, args.out, runs=args.run)
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
