"""``python -m studio presets``: list the named presets and the settings each one sets."""

from __future__ import annotations

import argparse
import json

from studio.request.presets import PRESETS


def register(subparsers) -> None:
    parser = subparsers.add_parser("presets", help="list the named render presets (for --preset)")
    parser.add_argument("--json", action="store_true", help="print them as JSON")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(PRESETS, indent=2, sort_keys=True))
        return 0
    width = max(len(name) for name in PRESETS)
    for name, values in PRESETS.items():
        settings = ", ".join(f"{key}={json.dumps(value)}" for key, value in values.items())
        print(f"{name:<{width}}  {settings}")
    return 0
