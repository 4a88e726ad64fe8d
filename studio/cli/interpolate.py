"""``python -m studio interpolate IN --factor N | --fps F --out OUT [--method flow|rife|auto]``: more frames per
second for any video the studio reads, in any export format, the audio kept, a sidecar saying what was done."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from studio.export.formats import format_for_path
from studio.request.settings import DEFAULT_FORMAT, ENCODER_CHOICES, FORMATS, X264_PRESETS, ExportOptions


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "interpolate", help="raise a video's frame rate by filling in frames",
        description="Fill in frames between the frames of IN: --factor 2 doubles the frame rate, --fps 30 turns "
        "e.g. a 12 fps clip into 30 fps. The duration and the audio stay as they are; OUT.json says what was done.")
    parser.add_argument("input", help="a video (mp4/mov/webm/mkv/gif) or a folder of frames")
    rate = parser.add_mutually_exclusive_group(required=True)
    rate.add_argument("--factor", type=int, help="output frames per source frame (2, 3, 4, …)")
    rate.add_argument("--fps", type=float, help="output frame rate, above the source's (e.g. 30)")
    parser.add_argument("--out", required=True,
                        help="output file (.mp4/.webm/.mov/.webp/.gif, or a folder for --format png-sequence)")
    parser.add_argument("--method", choices=("auto", "flow", "rife"), default="auto",
                        help="flow: optical flow, no weights, CPU; rife: RIFE 4.25/4.26 from MODELS/RIFE/flownet.pkl "
                             "(GPU when present); auto: rife when its weights are there and a GPU is, else flow")
    parser.add_argument("--models", help="weights folder holding RIFE/flownet.pkl (for --method rife/auto)")
    parser.add_argument("--format", choices=tuple(FORMATS),
                        help="output format (default: from --out's extension, else h264-mp4)")
    parser.add_argument("--crf", type=int, help="quality, 0-51, lower is better (default 18)")
    parser.add_argument("--x264-preset", dest="preset", choices=X264_PRESETS, help="encoder speed preset")
    parser.add_argument("--bitrate", help="target bitrate such as 8M instead of constant quality")
    parser.add_argument("--encoder", choices=ENCODER_CHOICES, help="auto uses NVENC when an NVIDIA GPU can")
    parser.add_argument("--audio", action=argparse.BooleanOptionalAction, default=True,
                        help="keep the source's audio")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT and its sidecar when they exist")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.set_defaults(func=run)


def export_options(args: argparse.Namespace) -> ExportOptions:
    """The export settings from the flags; the format from --format, else --out's extension."""
    from studio.request.schema import SettingsError, check

    chosen = args.format or (fmt.name if (fmt := format_for_path(args.out)) else DEFAULT_FORMAT)
    values = {"format": chosen, "audio": args.audio}
    for name in ("crf", "preset", "bitrate", "encoder"):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    options = ExportOptions(**values)
    problems = check(options)
    if problems:
        raise SettingsError(problems, "export settings")
    return options


def run(args: argparse.Namespace) -> int:
    from studio.cli.render import ProgressBars
    from studio.interpolation.video import interpolate_video

    options = export_options(args)
    bars = ProgressBars(not args.quiet)
    try:
        result = interpolate_video(
            args.input, Path(args.out).expanduser().absolute(), factor=args.factor, fps=args.fps,
            method=args.method, models=args.models, options=options, progress=bars, overwrite=args.overwrite)
    finally:
        bars.close()
    if args.json:
        print(json.dumps({
            "path": str(result.path), "sidecar": str(result.sidecar), "frames": result.frames, "fps": result.fps,
            "source_frames": result.source_frames, "source_fps": result.source_fps,
            "interpolated": result.interpolated, "method": result.method, "device": result.device,
            "audio": result.audio, "seconds": round(result.seconds, 3),
        }, indent=2))
        return 0
    print(f"wrote {result.path} ({result.frames} frames at {result.fps:g} fps from {result.source_frames} at "
          f"{result.source_fps:g}; {result.interpolated} interpolated by {result.method} on {result.device}); "
          f"sidecar {result.sidecar}")
    return 0
