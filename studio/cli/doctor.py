"""``python -m studio doctor --models DIR``: what is missing or mismatched in a weights folder."""

from __future__ import annotations

import argparse


def _run(args: argparse.Namespace) -> int:
    from studio.models import check_models

    report = check_models(args.models, deep=not args.quick)
    for line in report.lines():
        print(line)
    if not report.ok:
        print("get the official weights with `python -m studio download --models DIR`")
    return 0 if report.ok else 1


def register(subparsers) -> None:
    parser = subparsers.add_parser("doctor", help="check a weights folder")
    parser.add_argument("--models", required=True, help="weights folder (official layout)")
    parser.add_argument("--quick", action="store_true", help="only check that files exist (do not open them)")
    parser.set_defaults(func=_run)
