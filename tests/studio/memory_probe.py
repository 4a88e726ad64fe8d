"""Run one tiny-pipeline render the way the diffusion engine does and print its measured CPU memory as JSON.

``python -m tests.studio.memory_probe '{"unet": [32, 32], "width": 256, ...}'`` — run in a fresh process per
measurement so one measurement's peak cannot hide another's. Peak = ``VmHWM`` after the render minus ``VmRSS``
just before it, with the high-water mark reset (``/proc/self/clear_refs`` ← 5) after the pipeline is built and
warmed up, so what is measured is the render's own memory above the weights.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def main(spec: dict) -> dict:
    import torch

    from pipelines.testing.tiny import tiny_inputs, tiny_pipeline

    torch.set_num_threads(1)
    pipe = tiny_pipeline(seed=0, unet_block_out_channels=tuple(spec["unet"]))
    frames, width, height = spec["frames"], spec["width"], spec["height"]
    inputs = tiny_inputs(num_frames=frames, height=height, width=width)
    call = {"tile_size": spec["tile"], "tile_overlap": 1, "num_inference_steps": 1,
            "batched_cfg": spec["batched_cfg"], "generator": torch.Generator().manual_seed(0)}
    # Warm-up at a small size: lazily loaded kernels and libraries are not the render's memory.
    pipe(**tiny_inputs(num_frames=2, height=32, width=32), **call, output_type="np")
    chunk = spec["decode_chunk"]
    weights = sum(p.numel() * p.element_size() for m in pipe.components.values() if hasattr(m, "parameters")
                  for p in m.parameters())
    Path("/proc/self/clear_refs").write_text("5")
    before = _status("VmRSS")
    latents = pipe(**inputs, **call, output_type="latent").frames
    denoise = _status("VmHWM") - before
    Path("/proc/self/clear_refs").write_text("5")
    before_decode = _status("VmRSS")
    for start in range(0, frames, chunk):  # the engine's streaming decode
        with torch.no_grad():
            part = pipe.decode_latents(latents[:, start:start + chunk], latents[:, start:start + chunk].shape[1])
        (pipe.postprocess(part, "np") * 255).round().astype("uint8")
        del part
    decode = _status("VmHWM") - before
    return {"peak_over_weights": max(denoise, decode), "denoise": denoise, "decode": decode,
            "decode_rss_growth": before_decode - before, "weights": weights}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
