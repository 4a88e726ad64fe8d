"""``python -m studio download --models DIR``: fetch the official weights from the Hugging Face hub."""

from __future__ import annotations

import argparse


def _run(args: argparse.Namespace) -> int:
    from studio.render.model_folder import check_models, download_models

    folder = download_models(args.models, include_optional=not args.required_only, progress=print)
    report = check_models(folder, deep=False)
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


def register(subparsers) -> None:
    parser = subparsers.add_parser("download", help="download the official StableAnimator weights")
    parser.add_argument("--models", required=True, help="folder to download into (official layout)")
    parser.add_argument("--required-only", action="store_true", help="skip DWPose and antelopev2")
    parser.set_defaults(func=_run)
