"""``render --interpolate 2`` against a full render: wall-time ratio, with the diffusion engine on the tiny fixture
weights and on a "medium" random-weight model (bench/hjb.py's: UNet (32, 64, 64), VAE (32, 32, 32, 32)).

    OMP_NUM_THREADS=1 python bench/interpolate_render.py [--size 256] [--frames 16] [--steps 4]

The driving motion is assets/sample_dance (the sample clip's exact poses: poses extracted from a video jitter, and
the adaptive rule then renders the frames whose keypoints jump), its first FRAMES frames; the photo the bundled
astronaut; the motion is prepared once (pose extraction is not what is compared), the model built once and warmed up with a
2-frame render; then a full render and a render of every 2nd frame (plus what the adaptive rule adds), each
timed whole (engine, interpolation, export). Target from the issue: medium ≤ 0.55× the full render.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

from _shared import DEFAULT_FIXTURE, REPO  # noqa: E402  (bench/ is the script's folder)


def _medium_engine():
    from hjb import medium_pipeline

    from studio.render.diffusion_engine import DiffusionEngine

    class MediumEngine(DiffusionEngine):
        """The diffusion engine with bench/hjb.py's medium random-weight pipeline instead of a weights folder."""

        _medium = None

        def pipeline(self, *args, **kwargs):
            if MediumEngine._medium is None:
                MediumEngine._medium = medium_pipeline()
            return MediumEngine._medium

    return MediumEngine()


def compare(label: str, engine, args, folder: Path) -> None:
    from studio.render.renderer import Renderer
    from studio.request.render_request import RenderRequest
    from tests.generated_media import write_astronaut_photo

    photo = write_astronaut_photo(folder / "photo.png", args.size)
    request = RenderRequest(
        reference=str(photo), motion=str(REPO / "assets" / "sample_dance"),
        models=str(Path(args.fixture) / "checkpoints"), width=args.size, height=args.size, steps=args.steps,
        tile_size=16, tile_overlap=4, decode_chunk=4, seed=1, face_model="none", max_frames=args.frames,
        export={"preset": "veryfast"}).validate()
    renderer = Renderer(lambda name: engine)
    prepared = renderer.prepare(request)
    warm = renderer.prepare(request.replace(max_frames=2))
    renderer.render(warm.request, folder / f"{label}_warm.mp4", prepared=warm)
    seconds = {}
    for every in (1, 2):
        resolved = prepared.request.replace(interpolate=every)
        run = dataclasses.replace(prepared, request=resolved,
                                  inputs=dataclasses.replace(prepared.inputs, request=resolved))
        started = time.perf_counter()
        renderer.render(resolved, folder / f"{label}_{every}.mp4", prepared=run)
        seconds[every] = time.perf_counter() - started
    rendered = len(_rendered(folder / f"{label}_2.json"))
    print(f"{label:7} {args.size}x{args.size}, {args.frames} frames, {args.steps} steps: full {seconds[1]:.1f} s, "
          f"--interpolate 2 {seconds[2]:.1f} s ({rendered} of {args.frames} frames rendered): "
          f"ratio {seconds[2] / seconds[1]:.2f}", flush=True)


def _rendered(sidecar: Path) -> list[int]:
    import json

    return json.loads(sidecar.read_text())["interpolation"]["rendered_frames"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixture", default=str(DEFAULT_FIXTURE))
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--skip-tiny", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from studio.render.diffusion_engine import DiffusionEngine

    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_tiny:
            compare("tiny", DiffusionEngine(), args, Path(tmp))
        compare("medium", _medium_engine(), args, Path(tmp))


if __name__ == "__main__":
    main()
