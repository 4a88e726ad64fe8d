"""Fixture runner: ``python -m pipelines.fixture FIXTURE_DIR --out OUT_DIR``.

Reads ``FIXTURE_DIR/fixture.json`` (sizes from ``spec.width/height``, runs from ``spec.runs``), loads the pipeline
from ``FIXTURE_DIR/checkpoints``, the inputs from ``FIXTURE_DIR/inputs`` and, per run, only
``runs/<run>/latents_init.npy``; writes ``OUT_DIR/<run>/frames.npy`` (float32 ``[F, H, W, 3]`` in [0, 1]).
Runs are dispatched on their ``kind`` through :data:`RUN_KINDS`; unsupported kinds are reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import PIL.Image
import torch


@dataclass
class FixtureContext:
    """Everything a run needs that is shared between runs (inputs are loaded once)."""

    fixture_dir: Path
    spec: dict[str, Any]
    width: int
    height: int
    reference: PIL.Image.Image
    poses: list[PIL.Image.Image]  # all pose frames, sorted by the integer after "_"
    id_embedding: np.ndarray
    #: set by run_fixture; kinds may write extra files to out_dir/<run>/ (HJB losses)
    out_dir: Path | None = None

    def run_params(self, run: str) -> dict[str, Any]:
        return self.spec["runs"][run]

    def latents_init(self, run: str) -> torch.Tensor | None:
        """``runs/<run>/latents_init.npy`` — the only file under ``runs/`` a runner may read."""
        path = self.fixture_dir / "runs" / run / "latents_init.npy"
        return torch.from_numpy(np.load(path)) if path.is_file() else None


RunFn = Callable[[Any, FixtureContext, str, dict[str, Any]], np.ndarray]
#: kind → fn(pipe, ctx, run_name, params) returning float32 frames [F, H, W, 3] in [0, 1].
RUN_KINDS: dict[str, RunFn] = {}


def register_run_kind(kind: str, fn: RunFn) -> None:
    RUN_KINDS[kind] = fn


def frame_index(path: Path) -> int:
    """The integer after the last ``_`` of ``frame_12.png`` (files without one sort last)."""
    match = re.search(r"_(\d+)$", path.stem)
    return int(match.group(1)) if match else sys.maxsize


def sorted_frames(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.iterdir() if p.suffix.lower() == ".png"), key=lambda p: (frame_index(p), p.name)
    )


def load_context(fixture_dir: str | os.PathLike) -> FixtureContext:
    fixture_dir = Path(fixture_dir)
    spec = json.loads((fixture_dir / "fixture.json").read_text())["spec"]
    inputs = fixture_dir / "inputs"
    return FixtureContext(
        fixture_dir=fixture_dir,
        spec=spec,
        width=int(spec["width"]),
        height=int(spec["height"]),
        reference=PIL.Image.open(inputs / "reference.png").convert("RGB"),
        poses=[PIL.Image.open(p).convert("RGB") for p in sorted_frames(inputs / "poses")],
        id_embedding=np.load(inputs / "id_embedding.npy"),
    )


def basic_call_kwargs(ctx: FixtureContext, run: str, params: dict[str, Any]) -> dict[str, Any]:
    """Pipeline arguments of a run, shared by every kind built on the basic pipeline."""
    num_frames = int(params["num_frames"])
    return {
        "image": ctx.reference,
        "pose_images": ctx.poses[:num_frames],
        "id_embedding": ctx.id_embedding,
        "height": ctx.height,
        "width": ctx.width,
        "num_frames": num_frames,
        "tile_size": int(params["tile_size"]),
        "tile_overlap": int(params["tile_overlap"]),
        "num_inference_steps": int(params["num_inference_steps"]),
        "min_guidance_scale": float(params["min_guidance_scale"]),
        "max_guidance_scale": float(params["max_guidance_scale"]),
        "fps": int(params["fps"]),
        "motion_bucket_id": float(params["motion_bucket_id"]),
        "noise_aug_strength": float(params["noise_aug_strength"]),
        "decode_chunk_size": params.get("decode_chunk_size"),
        "generator": torch.Generator("cpu").manual_seed(int(params["seed"])),
        "latents": ctx.latents_init(run),
        "output_type": "np",
    }


def run_basic(pipe, ctx: FixtureContext, run: str, params: dict[str, Any], **overrides: Any) -> np.ndarray:
    """The basic (non-HJB) pipeline; ``overrides`` change call arguments (e.g. ``batched_cfg=False``)."""
    kwargs = basic_call_kwargs(ctx, run, params) | overrides
    return pipe(**kwargs).frames[0].astype(np.float32)


register_run_kind("basic", run_basic)


def _register_optional_kinds() -> None:
    """Kinds provided by other modules (the HJB pipeline registers ``"hjb"``) — absent modules are skipped."""
    try:
        import pipelines.hjb_fixture  # noqa: F401
    except ImportError:
        pass
    # Under ``python -m pipelines.fixture`` this file runs as ``__main__``; other modules register their kinds on
    # the importable ``pipelines.fixture``, so take those over too.
    import pipelines.fixture as importable

    for kind, fn in importable.RUN_KINDS.items():
        RUN_KINDS.setdefault(kind, fn)


def atomic_write(path: Path, write: Callable[[IO[Any]], None], mode: str = "wb") -> None:
    """``write(fh)`` into a temporary ``.<stem>-*`` file in the same folder, then ``os.replace`` it onto ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, mode) as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_frames(path: Path, frames: np.ndarray) -> None:
    atomic_write(path, lambda fh: np.save(fh, frames.astype(np.float32)))


def run_fixture(
    fixture_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    runs: list[str] | None = None,
    log: Callable[[str], None] = print,
    pipe=None,
) -> dict[str, Path]:
    """Run every supported run (or only ``runs``); return ``{run: frames path}``."""
    from .loading import load_stable_animator_pipeline

    _register_optional_kinds()
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
    parser = argparse.ArgumentParser(prog="python -m pipelines.fixture", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "fixture_dir", type=Path, help="folder with fixture.json, checkpoints/, inputs/, runs/"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder; writes OUT/<run>/frames.npy")
    parser.add_argument("--run", action="append", help="only this run (repeatable)")
    args = parser.parse_args(argv)
    if not (args.fixture_dir / "fixture.json").is_file():
        print(f"error: {args.fixture_dir / 'fixture.json'} not found", file=sys.stderr)
        return 2
    from .loading import CheckpointError

    try:
        run_fixture(args.fixture_dir, args.out, runs=args.run)
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
