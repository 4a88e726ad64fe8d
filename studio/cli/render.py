"""``python -m studio render``: one photo + one motion → one mp4 (+ sidecar), with progress bars."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from studio.errors import InputError
from studio.export_formats import DEFAULT_FORMAT, ENCODER_CHOICES, FORMATS, format_for_path
from studio.presets import PRESETS
from studio.progress import Progress
from studio.request import DEVICES, DTYPES, FACE_MODELS, FITS, X264_PRESETS, ExportOptions, RenderRequest

# option name → (RenderRequest field, type, help); "choices" below lists the enum options' values.
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
    ("--fit", "fit", str, "pad keeps the whole photo (the pad is cut on export); crop fills the frame"),
    ("--pose-backend", "pose_backend", str, "pose extraction (dwpose needs its ONNX files)"),
    ("--face-model", "face_model", str, "identity face model (none: zero identity embedding)"),
    ("--device", "device", str, "compute device (auto: CUDA, then Apple MPS, then CPU)"),
    ("--dtype", "dtype", str, "weights precision"),
    ("--max-memory", "max_memory", float, "memory budget in GB (default on CUDA: the free GPU memory); the renderer "
     "picks settings that fit and says which"),
]
_EXPORT = [
    ("--fps", "fps", float, "output frame rate (default: the driving video's)"),
    ("--crf", "crf", int, "quality, 0-51, lower is better (H.264/H.265/VP9/AV1/NVENC; WebP quality = 100-crf)"),
    ("--x264-preset", "preset", str, "encoder speed preset (x264/x265; mapped onto NVENC p1-p7)"),
    ("--format", "format", str, "output format (default: from --out's extension, else h264-mp4)"),
    ("--bitrate", "bitrate", str, "target bitrate such as 8M or 2500k instead of constant quality"),
    ("--encoder", "encoder", str, "auto uses NVENC when an NVIDIA GPU can encode, software never does"),
    ("--loop", "loop", int, "animated WebP/GIF loop count stored in the file (0 loops forever)"),
]
_CHOICES = {"fit": FITS, "pose_backend": ("mediapipe", "dwpose"), "face_model": FACE_MODELS, "device": DEVICES,
            "dtype": DTYPES, "preset": X264_PRESETS, "format": tuple(FORMATS), "encoder": ENCODER_CHOICES}
# Booleans: --X / --no-X, None when not given, so they override a --request or --preset either way.
_BOOLEANS = [
    ("--cpu-offload", "cpu_offload", "keep idle models on the CPU (less GPU memory, slower)"),
    ("--audio", "audio", "copy the driving video's audio, trimmed to the rendered range"),
    ("--side-by-side", "side_by_side", "also write OUT_side_by_side.mp4 (photo | pose | result)"),
    ("--png", "png_sequence", "also write the frames as PNGs (OUT_frames/)"),
    ("--gif", "gif", "also write OUT.gif"),
    ("--pingpong", "pingpong", "play forward then backward for a seamless loop (drops the audio)"),
]


def _default(field: str):
    """The request's own default for ``field``, shown in --help."""
    for kind in (RenderRequest, ExportOptions):
        for f in kind.__dataclass_fields__.values():
            if f.name == field and f.default is not f.default_factory:
                return f.default
    return None


def add_render_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", help="weights folder in the official layout (not needed with --engine warp)")
    parser.add_argument("--engine", choices=["diffusion", "warp"], help="render engine (default diffusion)")
    parser.add_argument("--preset", choices=list(PRESETS),
                        help="a named preset (see the `presets` command for their settings)")
    parser.add_argument("--request", help="start from a saved request, a sidecar JSON, or a project the window saved "
                        "(.sastudio.json)")
    for flag, field, kind, text in _SIMPLE + _EXPORT:
        default = _default(field)
        if "default" not in text and default is not None:
            text = f"{text} (default: {default})"
        parser.add_argument(flag, type=kind, default=None, choices=_CHOICES.get(field), help=text)
    parser.add_argument("--guidance", type=float, help="set min and max guidance to one value")
    parser.add_argument("--align", choices=["global", "bones", "none"],
                        help="skeleton alignment to the photo (default: bones)")
    for flag, field, text in _BOOLEANS:
        parser.add_argument(flag, dest=field, action=argparse.BooleanOptionalAction, default=None,
                            help=f"{text} (default: {'on' if _default(field) else 'off'})")
    parser.add_argument("--hjb", action=argparse.BooleanOptionalAction, default=None,
                        help="HJB face optimisation (needs glintr100; default: off)")
    parser.add_argument("--hjb-mode", choices=["fast", "exact"],
                        help="HJB decode: fast (a window around each face, default) or exact (whole frames)")
    parser.add_argument("--hjb-iterations", type=int, help="HJB optimisation iterations per refined step (default 3)")
    parser.add_argument("--hjb-start", type=int, help="first refined denoising step, inclusive (default 0)")
    parser.add_argument("--hjb-end", type=int, help="last refined denoising step, inclusive (default 20)")
    parser.add_argument("--hjb-lr-scale", type=float,
                        help="multiplier of the original's HJB learning rate 0.1·(1 − step/steps) (default 1)")


def absolute(path: str | None) -> str | None:
    """Paths go into the request (and its sidecar) absolute, so a job runs the same from any folder."""
    return str(Path(path).expanduser().absolute()) if path else path


def request_from_args(args: argparse.Namespace, reference: str, motion: str) -> RenderRequest:
    from studio.presets import apply_preset

    reference, motion = absolute(reference), absolute(motion)

    if args.request:
        from studio.project import read_request

        stored = read_request(args.request)
        # a recorded hash describes the recorded file: an input given anew on the command line has none yet
        request = stored.replace(
            reference=str(reference or stored.reference), motion=str(motion or stored.motion),
            reference_hash=None if reference else stored.reference_hash,
            motion_hash=None if motion else stored.motion_hash)
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
    if args.guidance is not None:
        changes["min_guidance"] = changes["max_guidance"] = args.guidance
    if args.align:
        changes["alignment"] = {**request.alignment, "mode": args.align}
    if args.cpu_offload is not None:
        changes["cpu_offload"] = args.cpu_offload
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
    for _flag, field, _text in _BOOLEANS:
        if field != "cpu_offload" and getattr(args, field) is not None:
            export[field] = getattr(args, field)
    # No --format: the output's extension picks it (clip.webm → VP9), unless a --request/--preset set one.
    out = getattr(args, "out", None)
    if "format" not in export and out and Path(out).suffix and request.export.format == DEFAULT_FORMAT:
        by_suffix = format_for_path(out)
        if by_suffix is not None:
            export["format"] = by_suffix.name
    if export:
        changes["export"] = export
    request = request.replace(**changes)
    if "tile_size" in changes and "tile_overlap" not in changes:
        request = request.with_tiles_for()  # a smaller tile takes the overlap down with it
    return request.validate()


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
    from studio.service import Studio

    if not args.request and (args.reference is None or args.motion is None):
        raise InputError("render needs --reference IMAGE and --motion VIDEO_OR_DIR (or --request FILE)")
    request = request_from_args(args, args.reference, args.motion)
    if args.dry_run:
        from studio.cli.dry_run import print_memory_prediction

        return print_memory_prediction(request, as_json=args.json)
    if not args.out:
        raise InputError("render needs --out OUT (or --dry-run to only predict the memory)")
    changed = request.changed_inputs()  # rendering a sidecar again promises the same frames
    if changed and args.strict:
        raise InputError("; ".join(changed) + "; the render would not reproduce the saved one (drop --strict to "
                         "render with the files as they are now)")
    for note in changed:
        print(f"warning: {note}; the result will differ from the saved render", file=sys.stderr)
    request = request.with_resolved_seed()  # before naming: a template's {seed} is the seed rendered
    out = (output_path(args.out, request) if "{" in args.out else Path(args.out)).expanduser().absolute()
    if request.engine == "diffusion":
        from studio.models import check_models

        check_models(request.models).raise_if_bad()
    if request.face_model == "none":
        print("warning: --face-model none renders with a zero identity embedding; the face will not match "
              "the photo closely", file=sys.stderr)
    bars = ProgressBars(not args.quiet)
    try:
        result = Studio().render(request, out, bars, overwrite=args.overwrite,
                                 inputs=(absolute(args.request),) if args.request else ())
    finally:
        bars.close()
    for warning in result.warnings:
        if request.face_model != "none" or "zero identity" not in warning:
            print(f"warning: {warning}", file=sys.stderr)
    ident = result.identity
    if args.json:
        print(json.dumps({
            "path": str(result.path), "sidecar": str(result.export.sidecar), "format": request.export.format,
            "frames": result.export.frames, "fps": result.export.fps, "width": result.export.width,
            "height": result.export.height, "audio": result.export.audio, "seed": result.request.seed,
            "engine": result.engine, "seconds": round(result.seconds, 3), "identity_mean": ident.mean,
            "identity_note": ident.reason, "warnings": result.warnings,
            "extras": {name: str(path) for name, path in result.export.extras.items()},
        }, indent=2))
        return 0
    summary = f"identity mean {ident.mean:.3f}" if ident.mean is not None else f"identity: {ident.reason}"
    print(f"wrote {result.path} ({result.export.frames} frames at {result.export.fps:g} fps, seed {result.request.seed}, "
          f"{summary}); sidecar {result.export.sidecar}")
    return 0


def output_path(template: str, request: RenderRequest) -> Path:
    """``--out`` with ``{reference}``, ``{motion}``, ``{seed}``, ``{engine}``, ``{format}``, ``{date}`` and
    ``{counter}`` filled in (the counter takes the first free number)."""
    from studio.output_names import expand_output_template, template_fields

    return expand_output_template(template, template_fields(request))


def register(subparsers) -> None:
    parser = subparsers.add_parser("render", help="render one photo with one motion into an mp4")
    parser.add_argument("--reference", help="the reference photo")
    parser.add_argument("--motion", help="driving video, frame folder, or extract-motion output folder")
    parser.add_argument("--out",
                        help="output file (.mp4/.webm/.mov/.webp/.gif, or a folder for --format png-sequence); a "
                        "sidecar OUT.json is written beside it. May hold {reference} {motion} {seed} {engine} "
                        "{format} {date} {counter:04d}. Not needed with --dry-run")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--json", action="store_true",
                        help="print the result (with --dry-run: the prediction) as JSON on stdout")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace OUT (and its sidecar and extras) when they exist; without it the render refuses")
    parser.add_argument("--strict", action="store_true",
                        help="with --request: refuse when the photo or motion changed since the request was saved")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the predicted peak memory (and the settings a --max-memory budget needs); render nothing")
    add_render_options(parser)
    parser.set_defaults(func=_run)
