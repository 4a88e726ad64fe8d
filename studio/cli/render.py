"""``python -m studio render``: one photo + one motion → one mp4 (+ sidecar), with progress bars."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.errors import InputError
from studio.progress import Progress
from studio.request import RenderRequest

# option name → (RenderRequest field, type, help)
_SIMPLE = [
    ("--width", "width", int, "output width in pixels (multiple of 8 for diffusion)"),
    ("--height", "height", int, "output height in pixels"),
    ("--steps", "steps", int, "denoising steps"),
    ("--seed", "seed", int, "random seed (random when not given; the seed used goes into the sidecar)"),
    ("--frames", "max_frames", int, "render at most this many frames"),
    ("--start", "start", float, "trim start of the driving clip, seconds"),
    ("--end", "end", float, "trim end of the driving clip, seconds"),
    ("--stride", "stride", int, "use every n-th frame of the driving clip"),
    ("--min-guidance", "min_guidance", float, "guidance at the first frame"),
    ("--max-guidance", "max_guidance", float, "guidance at the last frame"),
    ("--tile-size", "tile_size", int, "frames per temporal tile"),
    ("--tile-overlap", "tile_overlap", int, "overlap between tiles"),
    ("--decode-chunk", "decode_chunk", int, "frames decoded by the VAE at once"),
    ("--noise-aug", "noise_aug", float, "noise augmentation strength"),
    ("--motion-bucket", "motion_bucket", int, "motion bucket id"),
    ("--fps-cond", "fps", int, "fps micro-conditioning the model sees (the original uses 7)"),
    ("--fit", "fit", str, "pad (keep the whole photo; the pad is cut on export) or crop"),
    ("--pose-backend", "pose_backend", str, "mediapipe (default) or dwpose"),
    ("--face-model", "face_model", str, "auto, antelopev2 or none (none: zero identity embedding)"),
    ("--device", "device", str, "auto, cpu, cuda or mps"),
    ("--dtype", "dtype", str, "auto, fp32, fp16 or bf16"),
]
_EXPORT = [
    ("--fps", "fps", float, "output frame rate (default: the driving video's)"),
    ("--crf", "crf", int, "H.264 quality (0-51, lower is better)"),
    ("--x264-preset", "preset", str, "H.264 speed preset (ultrafast … veryslow)"),
]


def add_render_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", help="weights folder in the official layout (not needed with --engine warp)")
    parser.add_argument("--engine", choices=["diffusion", "warp"], help="render engine (default diffusion)")
    parser.add_argument("--preset", help="a named preset, e.g. fast-preview-512x512 (see `python -m studio presets`)")
    parser.add_argument("--request", help="start from a saved request or sidecar JSON")
    for flag, _field, kind, text in _SIMPLE + _EXPORT:
        parser.add_argument(flag, type=kind, default=None, help=text)
    parser.add_argument("--guidance", type=float, help="set min and max guidance to one value")
    parser.add_argument("--align", choices=["global", "bones", "none"], help="skeleton alignment to the photo")
    parser.add_argument("--cpu-offload", action="store_true", default=None, help="keep idle models on the CPU")
    parser.add_argument("--hjb", action="store_true", default=None, help="HJB face optimisation (needs glintr100)")
    parser.add_argument("--hjb-mode", choices=["fast", "exact"],
                        help="HJB decode: fast (a window around each face, default) or exact (whole frames)")
    parser.add_argument("--hjb-iterations", type=int, help="HJB optimisation iterations per refined step (default 3)")
    parser.add_argument("--hjb-start", type=int, help="first refined denoising step, inclusive (default 0)")
    parser.add_argument("--hjb-end", type=int, help="last refined denoising step, inclusive (default 20)")
    parser.add_argument("--hjb-lr-scale", type=float,
                        help="multiplier of the original's HJB learning rate 0.1·(1 − step/steps) (default 1)")
    parser.add_argument("--no-audio", action="store_true", help="do not copy the driving video's audio")
    parser.add_argument("--side-by-side", action="store_true", help="also write OUT_side_by_side.mp4")
    parser.add_argument("--png", action="store_true", help="also write the frames as PNGs (OUT_frames/)")
    parser.add_argument("--gif", action="store_true", help="also write OUT.gif")


def absolute(path: str | None) -> str | None:
    """Paths go into the request (and its sidecar) absolute, so a job runs the same from any folder."""
    return str(Path(path).expanduser().absolute()) if path else path


def request_from_args(args: argparse.Namespace, reference: str, motion: str) -> RenderRequest:
    from studio.presets import apply_preset

    reference, motion = absolute(reference), absolute(motion)

    if args.request:
        stored = RenderRequest.from_file(args.request)
        request = stored.replace(reference=str(reference or stored.reference), motion=str(motion or stored.motion))
    else:
        request = RenderRequest(reference=str(reference), motion=str(motion))
    if args.preset:
        request = apply_preset(request, args.preset)
    changes: dict = {}
    if args.engine:
        changes["engine"] = args.engine
    if args.models:
        changes["models"] = absolute(args.models)
    for flag, field, _kind, _text in _SIMPLE:
        value = getattr(args, flag[2:].replace("-", "_"))
        if value is not None:
            changes[field] = value
    if "tile_size" in changes and "tile_overlap" not in changes:
        changes["tile_overlap"] = min(request.tile_overlap, max(0, changes["tile_size"] - 1))
    if args.guidance is not None:
        changes["min_guidance"] = changes["max_guidance"] = args.guidance
    if args.align:
        changes["alignment"] = {**request.alignment, "mode": args.align}
    if args.cpu_offload:
        changes["cpu_offload"] = True
    hjb = {field: value for field, value in (
        ("enabled", args.hjb), ("decode_mode", args.hjb_mode), ("iterations", args.hjb_iterations),
        ("start_step", args.hjb_start), ("end_step", args.hjb_end), ("lr_scale", args.hjb_lr_scale),
    ) if value is not None}
    if hjb:
        changes["hjb"] = hjb
    export: dict = {}
    for flag, field, _kind, _text in _EXPORT:
        value = getattr(args, flag[2:].replace("-", "_"))
        if value is not None:
            export[field] = value
    if args.no_audio:
        export["audio"] = False
    if args.side_by_side:
        export["side_by_side"] = True
    if args.png:
        export["png_sequence"] = True
    if args.gif:
        export["gif"] = True
    if export:
        changes["export"] = export
    return request.replace(**changes).validate()


class ProgressBars:
    """One tqdm bar per phase on stderr (decode and export interleave, so each keeps its own line)."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._bars: dict = {}

    def __call__(self, progress: Progress) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        from studio.progress import PHASES

        bar = self._bars.get(progress.phase)
        if bar is None or bar.total != max(progress.total, 1):
            if bar is not None:
                bar.close()
            position = PHASES.index(progress.phase) if progress.phase in PHASES else len(PHASES)
            bar = tqdm(total=max(progress.total, 1), desc=f"{progress.phase:>8}", file=sys.stderr,
                       position=position, leave=True, dynamic_ncols=True)
            self._bars[progress.phase] = bar
        bar.n = progress.current
        if progress.message:
            bar.set_postfix_str(progress.message[:40], refresh=False)
        bar.refresh()

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()


def _run(args: argparse.Namespace) -> int:
    from studio.render.renderer import Renderer

    if not args.request and (args.reference is None or args.motion is None):
        raise InputError("render needs --reference IMAGE and --motion VIDEO_OR_DIR (or --request FILE)")
    request = request_from_args(args, args.reference, args.motion)
    if request.engine == "diffusion":
        from studio.models import check_models

        check_models(request.models).raise_if_bad()
    if request.face_model == "none":
        print("warning: --face-model none renders with a zero identity embedding; the face will not match "
              "the photo closely", file=sys.stderr)
    bars = ProgressBars(not args.quiet)
    try:
        result = Renderer().render(request, args.out, bars)
    finally:
        bars.close()
    for warning in result.warnings:
        if request.face_model != "none" or "zero identity" not in warning:
            print(f"warning: {warning}", file=sys.stderr)
    ident = result.identity
    summary = f"identity mean {ident.mean:.3f}" if ident.mean is not None else f"identity: {ident.reason}"
    print(f"wrote {result.path} ({result.export.frames} frames at {result.export.fps:g} fps, seed {result.request.seed}, "
          f"{summary}); sidecar {result.export.sidecar}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("render", help="render one photo with one motion into an mp4")
    parser.add_argument("--reference", help="the reference photo")
    parser.add_argument("--motion", help="driving video, frame folder, or extract-motion output folder")
    parser.add_argument("--out", required=True, help="output .mp4 (a sidecar OUT.json is written beside it)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_render_options(parser)
    parser.set_defaults(func=_run)
