"""Command line: ``python -m studio <command> ...`` (see ``python -m studio --help``)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import warnings

from studio import __version__
from studio.errors import StudioError


def build_parser() -> argparse.ArgumentParser:
    import studio.cli

    parser = argparse.ArgumentParser(
        prog="python -m studio",
        description="StableAnimator Studio: animate a reference photo with the motion of a driving video.",
    )
    parser.add_argument("--version", action="version", version=f"StableAnimator Studio {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(studio.cli.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"studio.cli.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    # mediapipe 0.10.14 calls a protobuf API that newer protobuf deprecates; the warning means nothing to a user.
    warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype", category=UserWarning)
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except StudioError as error:
        # Errors a person can act on: print the message, never a traceback.
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
