"""Fixture runs of ``kind: "hjb"`` (imported by :mod:`pipelines.fixture`, which registers nothing else for them).

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

from .face_embedder import IResNetFaceEmbedder
from .fixture import FixtureContext, atomic_write, basic_call_kwargs, register_run_kind
from .hjb import HJBConfig
from .hjb_pipeline import FACE_EMBEDDER_STEM, StableAnimatorHJBPipeline
from .loading import CheckpointError, find_animation_file

_CACHE: dict[int, StableAnimatorHJBPipeline] = {}


def hjb_pipeline_for(pipe: Any, checkpoints: Path) -> StableAnimatorHJBPipeline:
    """``pipe`` itself if it can run HJB, else an HJB pipeline sharing its modules plus the face embedder."""
    if isinstance(pipe, StableAnimatorHJBPipeline) and pipe.face_embedder is not None:
        return pipe
    cached = _CACHE.get(id(pipe))
    if cached is not None and cached.unet is pipe.unet:
        return cached
    path = find_animation_file(checkpoints, FACE_EMBEDDER_STEM)
    if path is None:
        raise CheckpointError(checkpoints, [f"Animation/{FACE_EMBEDDER_STEM}.pth is missing (needed by HJB runs)"])
    components = {k: v for k, v in pipe.components.items() if k != "face_embedder"}
    embedder = IResNetFaceEmbedder.from_checkpoint(path, device=pipe.device).requires_grad_(False)
    hjb_pipe = StableAnimatorHJBPipeline(**components, face_embedder=embedder)
    hjb_pipe.set_progress_bar_config(disable=True)
    _CACHE.clear()
    _CACHE[id(pipe)] = hjb_pipe
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
    hjb_pipe = hjb_pipeline_for(pipe, ctx.fixture_dir / "checkpoints")
    out = hjb_pipe(**(hjb_call_kwargs(ctx, run, params) | overrides))
    if ctx.out_dir is not None:
        losses = [float(v) for v in out.hjb_losses]
        atomic_write(ctx.out_dir / run / "hjb_losses.json", lambda fh: json.dump(losses, fh), mode="w")
    return out.frames[0].astype(np.float32)


register_run_kind("hjb", run_hjb)
