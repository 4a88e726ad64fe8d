"""Checks of weights beyond their keys: every number finite, and the stock SVD components' tensors the shapes their
configs build.

A checkpoint holding NaN or infinity loads without complaint and renders a black video; a VAE tensor of the wrong
shape passes a key check and fails only deep inside ``from_pretrained``. Both are found here, before a render
starts, by the same code the doctor runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

#: Name at most this many offending tensors per file, then a count.
SHOWN = 3


def all_finite(tensor: torch.Tensor) -> bool:
    """No NaN or ±infinity in ``tensor`` (integer tensors have none), without a flag per element (``isfinite(t).all()``
    allocates one: a heap hole beside every weight read while loading).

    On the CPU numpy's single-threaded sum does it: NaN or an infinity makes any sum non-finite, so a finite sum proves
    every number finite (a non-finite one may be an overflow of finite numbers: then the exact minimum and maximum
    decide). Torch's reductions open a parallel region per tensor, which costs ~10 ms each while other processes keep
    the cores busy — 20 s over the release's 2,000 tensors against 3 s of arithmetic."""
    if not tensor.is_floating_point() or tensor.numel() == 0:
        return True
    if tensor.device.type == "cpu" and tensor.dtype in (torch.float16, torch.float32, torch.float64):
        values = tensor.detach().numpy()
        if np.isfinite(values.sum()):
            return True
        return bool(np.isfinite(values.min()) and np.isfinite(values.max()))
    low, high = torch.aminmax(tensor)  # (bfloat16, other devices: one pass; aminmax propagates NaN)
    return bool(torch.isfinite(low)) and bool(torch.isfinite(high))


def non_finite_keys(tensors: Iterable[tuple[str, torch.Tensor]]) -> list[str]:
    """Keys of floating-point tensors holding NaN or ±infinity (integer tensors cannot)."""
    return [key for key, tensor in tensors if not all_finite(tensor)]


def describe_non_finite(where: str, keys: list[str]) -> list[str]:
    """One problem line for a file with non-finite tensors (empty when there are none)."""
    if not keys:
        return []
    more = f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
    return [f"{where}: holds NaN or infinite values (in {', '.join(keys[:SHOWN])}{more}); the file is damaged, "
            "download it again"]


def _safetensors_items(path: Path) -> Iterator[tuple[str, torch.Tensor]]:
    """One tensor at a time (a large file is never held whole)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        for key in handle.keys():
            yield key, handle.get_tensor(key)


def _safetensors_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return {key: tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}


def _meta_module(sub: str, config_path: Path) -> torch.nn.Module:
    """The stock component ``sub`` built from its config on the meta device (shapes only, no memory)."""
    config = json.loads(config_path.read_text())
    with torch.device("meta"):
        if sub == "vae":
            from diffusers import AutoencoderKLTemporalDecoder

            return AutoencoderKLTemporalDecoder.from_config(config)
        from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

        return CLIPVisionModelWithProjection(CLIPVisionConfig.from_dict(config))


def stock_component_problems(svd: Path, components: dict[str, tuple[str, ...]]) -> list[str]:
    """Shape and finiteness problems of the SVD folder's weight files (vae, image_encoder)."""
    problems: list[str] = []
    for sub, files in components.items():
        weights = [svd / sub / name for name in files if name.endswith(".safetensors")]
        config = svd / sub / "config.json"
        for path in weights:
            if not path.is_file() or not config.is_file():
                continue  # reported as missing elsewhere
            where = f"{svd.name}/{sub}/{path.name}"
            try:
                given = _safetensors_shapes(path)
                expected = {k: tuple(v.shape) for k, v in _meta_module(sub, config).state_dict().items()}
            except Exception as exc:  # noqa: BLE001 - an unreadable file or config fails in many ways
                problems.append(f"{where}: cannot be checked ({type(exc).__name__}: {str(exc).splitlines()[0]})")
                continue
            wrong = [f"{k}: shape {list(given[k])}, expected {list(expected[k])}"
                     for k in sorted(given) if k in expected and given[k] != expected[k]]
            if wrong:
                more = f" and {len(wrong) - SHOWN} more" if len(wrong) > SHOWN else ""
                problems.append(f"{where}: wrong shape ({'; '.join(wrong[:SHOWN])}{more}); download it again")
            problems += describe_non_finite(where, non_finite_keys(_safetensors_items(path)))
    return problems
