"""Fixture runs of ``kind: "hjb"``.

Inputs exactly like the original's ``inference_op.py``: target boxes from ``inputs/faces`` (the first
``num_frames`` masks), the reference box from ``inputs/reference_mask.png``, ``tile_size = num_frames`` (the
script forces one tile), the run's ``decode_chunk_size`` (the script's 4 when absent), exact decode. Writes
``OUT_DIR/<run>/hjb_losses.json`` (every iteration's loss, in order) next to the runner's ``frames.npy``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..hjb import HJBConfig
from ..hjb_pipeline import StableAnimatorHJBPipeline, hjb_pipeline_from, load_face_embedder
from .fixture_context import FixtureContext, atomic_write, basic_call_kwargs


def hjb_pipeline_for(pipe: Any, checkpoints: Path) -> StableAnimatorHJBPipeline:
    """``pipe`` itself if it can run HJB, else an HJB pipeline sharing its modules plus the face embedder of
    ``checkpoints`` (raises :class:`pipelines.loading.CheckpointError` when that file is missing)."""
    if isinstance(pipe, StableAnimatorHJBPipeline) and pipe.face_embedder is not None:
        return pipe
    hjb_pipe = hjb_pipeline_from(pipe, load_face_embedder(checkpoints, device=pipe.device))
    hjb_pipe.set_progress_bar_config(disable=True)
    return hjb_pipe


def hjb_call_kwargs(ctx: FixtureContext, run: str, params: dict[str, Any]) -> dict[str, Any]:
    kwargs = basic_call_kwargs(ctx, run, params)
    num_frames = kwargs["num_frames"]
    kwargs["tile_size"] = num_frames
    kwargs["decode_chunk_size"] = params.get("decode_chunk_size", 4)
    inputs = ctx.fixture_dir / "inputs"
    kwargs["hjb"] = HJBConfig(
        enabled=True,
        iterations=int(params.get("num_optimization_iter", 3)),
        start_step=int(params.get("start_refine_step", 0)),
        end_step=int(params.get("end_refine_step", 20)),
        decode_mode="exact",
    )
    kwargs["face_masks"] = inputs / "faces"
    kwargs["reference_face_mask"] = inputs / "reference_mask.png"
    return kwargs


def run_hjb(pipe: Any, ctx: FixtureContext, run: str, params: dict[str, Any], **overrides: Any) -> np.ndarray:
    """One HJB run; the HJB pipeline is built on the first and kept in ``ctx`` for the fixture's other HJB runs."""
    if ctx.hjb_pipe is None:
        ctx.hjb_pipe = hjb_pipeline_for(pipe, ctx.fixture_dir / "checkpoints")
    out = ctx.hjb_pipe(**(hjb_call_kwargs(ctx, run, params) | overrides))
    if ctx.out_dir is not None:
        losses = [float(v) for v in out.hjb_losses]
        atomic_write(ctx.out_dir / run / "hjb_losses.json", lambda fh: json.dump(losses, fh), mode="w")
    return out.frames[0].astype(np.float32)
