"""``python -m studio doctor --models DIR``: what is missing or mismatched in a weights folder."""

from __future__ import annotations

import argparse
import json
import platform
import sys


def _run(args: argparse.Namespace) -> int:
    from studio import __version__
    from studio.errors import StudioError
    from studio.render.model_folder import check_models
    from studio.system.logs import log_file
    from studio.system.paths import studio_home

    if args.json:
        studio = {"version": __version__, "python": sys.version.split()[0], "platform": platform.platform(),
                  "data_folder": str(studio_home()), "log_file": str(log_file()), "encoders": _encoders()}
        try:
            report = check_models(args.models, deep=not args.quick)
        except StudioError as error:  # e.g. no such folder: still a JSON answer
            print(json.dumps({"ok": False, "folder": args.models, "error": str(error), "studio": studio}, indent=2))
            return 1
        print(json.dumps({
            "ok": report.ok, "folder": str(report.folder), "missing": report.missing, "problems": report.problems,
            "optional_missing": report.optional_missing, "checked_deep": report.checked_deep, "studio": studio,
        }, indent=2))
        return 0 if report.ok else 1
    report = check_models(args.models, deep=not args.quick)
    for line in report.lines():
        print(line)
    if not report.ok:
        print("get the official weights with `python -m studio download --models DIR`")
    return 0 if report.ok else 1


def _encoders() -> dict[str, str]:
    """The encoder each export format would use here (NVENC where it works), or why it cannot be written."""
    from studio.errors import ExportError
    from studio.export.formats import choose_encoder
    from studio.media.video_io import ffmpeg_exe
    from studio.request.settings import FORMATS

    ffmpeg, found = ffmpeg_exe(), {}
    for name, fmt in FORMATS.items():
        try:
            found[name] = choose_encoder(fmt, "auto", ffmpeg)
        except ExportError as error:
            found[name] = f"unavailable: {error}"
    return found


def register(subparsers) -> None:
    parser = subparsers.add_parser("doctor", help="check a weights folder")
    parser.add_argument("--models", required=True, help="weights folder (official layout)")
    parser.add_argument("--quick", action="store_true", help="only check that files exist (do not open them)")
    parser.add_argument("--json", action="store_true",
                        help="print the report as JSON (with the studio's version, data folder and log file)")
    parser.set_defaults(func=_run)
