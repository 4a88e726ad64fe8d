"""``python -m studio render``: one photo + one motion → one mp4 (+ sidecar), with progress bars."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import overload

from studio.cli.options import add_setting_options, given_settings
from studio.errors import InputError
from studio.export.formats import format_for_path
from studio.request.settings import DEFAULT_FORMAT
from studio.request.presets import PRESETS
from studio.system.progress import Progress
from studio.request.render_request import RenderRequest
from studio.request.schema import replace_paths


def add_render_options(parser: argparse.ArgumentParser) -> None:
    """The render settings as options: every declared setting with a CLI flag (``studio.cli.options``), plus the
    ways to start from something saved and the one shorthand (``--guidance``)."""
    parser.add_argument("--models", help="weights folder in the official layout (not needed with --engine warp)")
    parser.add_argument("--preset", choices=list(PRESETS),
                        help="a named preset (see the `presets` command for their settings)")
    parser.add_argument("--request", help="start from a saved request, a sidecar JSON, or a project the window saved "
                        "(.sastudio.json)")
    parser.add_argument("--guidance", type=float, help="set min and max guidance to one value")
    add_setting_options(parser, RenderRequest)


@overload
def absolute(path: str) -> str: ...


@overload
def absolute(path: None) -> None: ...


def absolute(path: str | None) -> str | None:
    """Paths go into the request (and its sidecar) absolute, so a job runs the same from any folder."""
    return str(Path(path).expanduser().absolute()) if path else path


def request_from_args(args: argparse.Namespace, reference: str, motion: str) -> RenderRequest:
    from studio.request.presets import apply_preset

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
    changes = given_settings(args, RenderRequest)
    if args.models:
        changes["models"] = absolute(args.models)
    if args.guidance is not None:
        changes["min_guidance"] = changes["max_guidance"] = args.guidance
    # No --format: the output's extension picks it (clip.webm → VP9), unless a --request/--preset set one.
    out = getattr(args, "out", None)
    if "export.format" not in changes and out and Path(out).suffix and request.export.format == DEFAULT_FORMAT:
        by_suffix = format_for_path(out)
        if by_suffix is not None:
            changes["export.format"] = by_suffix.name
    request = replace_paths(request, changes)
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

        from studio.system.progress import PHASES

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
        from studio.render.model_folder import check_models

        assert request.models is not None  # (validate() refuses a diffusion request without one)
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
    ``{counter}`` filled in (the counter takes the first free number, claimed so that two renders started
    together never share it). A folder whose name has braces but is no template ('{2026} shoots') is taken as
    it is."""
    from studio.export.output_names import expand_output_template, template_fields

    fields = template_fields(request)
    given = Path(template)
    folder = str(given.parent)
    if "{" in folder:
        try:
            folder = folder.format(**fields)
        except (KeyError, IndexError, ValueError, AttributeError):
            pass  # a folder's own name, braces and all
    return expand_output_template(given.name, fields, folder=Path(folder), claim=True)


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
