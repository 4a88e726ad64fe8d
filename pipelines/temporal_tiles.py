"""The original's temporal tiles (docs/model.md §10 step 10): which frames each UNet call denoises, and the triangle weights
that blend the overlapping tiles back into one video."""

from __future__ import annotations

import torch


def temporal_tiles(num_frames: int, tile_size: int, tile_overlap: int) -> list[list[int]]:
    """The reference's tiles: each holds frame 0 plus ``tile_size − 1`` consecutive frames (docs/model.md §10 step 10)."""
    stride = tile_size - tile_overlap
    if num_frames <= tile_size:
        return [list(range(num_frames))] if num_frames == tile_size else []
    if stride <= 0:
        raise ValueError(f"`tile_overlap` must be smaller than tile_size={tile_size}, got {tile_overlap}")
    tiles = []
    start = 0
    while start <= num_frames - tile_size:
        tiles.append([0, *range(start + 1, start + tile_size)])
        start += stride
    if tiles and tiles[-1][-1] < num_frames - 1:
        tiles.append([0, *range(num_frames - tile_size + 1, num_frames)])
    return tiles


def tile_weights(tile_size: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Triangle blend weights ``min((j+½)·2/T, 2 − (j+½)·2/T)``, computed in float32 tensor arithmetic like the
    reference (the float32 rounding makes them slightly asymmetric; docs/model.md §18 item 2)."""
    w = (torch.arange(tile_size, device=device) + 0.5) * 2.0 / tile_size
    return torch.minimum(w, 2 - w)
