"""What every fixture run reads: the fixture's spec, its inputs (loaded once) and the call arguments of a run.

A fixture folder holds ``fixture.json`` (sizes from ``spec.width/height``, runs from ``spec.runs``),
``checkpoints/``, ``inputs/`` and, per run, ``runs/<run>/`` whose only file a runner may read is
``latents_init.npy`` (the rest are the expected outputs).
"""

from __future__ import annotations

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
    #: the HJB pipeline built from the runner's pipeline by the first ``hjb`` run, reused by the others
    hjb_pipe: Any = None

    def run_params(self, run: str) -> dict[str, Any]:
        return self.spec["runs"][run]

    def latents_init(self, run: str) -> torch.Tensor | None:
        """``runs/<run>/latents_init.npy`` — the only file under ``runs/`` a runner may read."""
        path = self.fixture_dir / "runs" / run / "latents_init.npy"
        return torch.from_numpy(np.load(path)) if path.is_file() else None


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
