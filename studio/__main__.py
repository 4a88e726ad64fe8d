"""Command line: ``stableanimator-studio <command> ...`` or ``python -m studio <command> ...``."""

from __future__ import annotations

import argparse
import errno
import importlib
import io
import logging
import pkgutil
import signal
import sys
import warnings
from pathlib import Path

from studio import __version__
from studio.errors import StudioError
from studio.system.logs import LOG_LEVELS

log = logging.getLogger("studio.cli")


class HelpWithDefaults(argparse.HelpFormatter):
    """Like ``ArgumentDefaultsHelpFormatter``, but says nothing for options whose default is "not given"."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "%(default)" in text or "default" in text.lower():
            return text
        if action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


class StudioParser(argparse.ArgumentParser):
    """Every (sub)command's parser shows defaults and choices in ``--help``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpWithDefaults)
        super().__init__(*args, **kwargs)


def program_name() -> str:
    """``stableanimator-studio`` when started by the installed script, else ``python -m studio``."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    name = name.removesuffix(".exe").removesuffix("-script.py")
    return name if name.startswith("stableanimator") else "python -m studio"


def add_logging_options(parser: argparse.ArgumentParser, top_level: bool) -> None:
    # On a subcommand the defaults are SUPPRESS, so `-v` works before or after the command name.
    parser.add_argument("-v", "--verbose", action="count", default=0 if top_level else argparse.SUPPRESS,
                        help="more output on the terminal (-v: info from every library, -vv: debug)")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default=None if top_level else argparse.SUPPRESS,
                        help="terminal and log-file level (overrides -v); the log file is always kept")


def build_parser() -> argparse.ArgumentParser:
    import studio.cli

    parser = StudioParser(
        prog=program_name(),
        description="StableAnimator Studio: animate a reference photo with the motion of a driving video.",
        epilog="The log file is <data folder>/logs/studio.log (see `doctor --json` for the data folder).",
    )
    parser.add_argument("--version", action="version", version=f"StableAnimator Studio {__version__}")
    add_logging_options(parser, top_level=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(studio.cli.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"studio.cli.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    for sub in _subcommand_parsers(parser):
        add_logging_options(sub, top_level=False)
    return parser


def _subcommand_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every (nested) subcommand's parser, e.g. ``batch`` and ``batch run``, so `-v` works after each."""
    found: list[argparse.ArgumentParser] = []
    for action in parser._actions:  # argparse offers no public way to list subparsers
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += [sub, *_subcommand_parsers(sub)]
    return found


class Terminated(KeyboardInterrupt):
    """SIGTERM (``timeout``, systemd, ``docker stop``): unwinds like Ctrl-C, so partial files are removed."""


#: Process-wide registry: the SIGTERMs this command received, written only by the signal handler ``_on_sigterm``
#: (a handler has no object to report to) and cleared by ``main`` when a command starts.
_TERMINATED: list[int] = []


def _on_sigterm(signum, frame) -> None:
    _TERMINATED.append(signum)
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    from studio.system.logs import setup_logging

    # mediapipe 0.10.14 calls a protobuf API that newer protobuf deprecates; the warning means nothing to a user.
    warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype", category=UserWarning)
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 is printed, never a traceback
        try:
            if isinstance(stream, io.TextIOWrapper):  # (a replaced stream, e.g. a test's capture, may lack it)
                stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    setup_logging(args.verbose, args.log_level)
    log.info("StableAnimator Studio %s (Python %s on %s): %s %s", __version__, sys.version.split()[0],
             sys.platform, parser.prog, " ".join(sys.argv[1:] if argv is None else argv))
    _TERMINATED.clear()
    # a warning reaches the user as one "warning: ..." line, not Python's file:line and the source line under it
    shown, warnings.showwarning = warnings.showwarning, _warning_line
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (a test calling main()): keep the default
        previous = None
    try:
        return int(func(args) or 0)
    except StudioError as error:
        if _TERMINATED:  # e.g. ffmpeg got the signal first and the export failed on a broken pipe
            print("interrupted", file=sys.stderr)
            return 128 + signal.SIGTERM
        # Errors a person can act on: print the message, never a traceback.
        log.info("failed: %s", error)
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 128 + signal.SIGTERM if _TERMINATED else 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading: not an error
        sys.stderr.close()
        return 0
    except OSError as error:
        if error.errno == errno.ENOSPC:
            print(f"error: the disk is full ({error.filename or 'writing'}); free some space", file=sys.stderr)
            return 1
        log.info("internal error", exc_info=True)
        raise
    except Exception:
        # The traceback goes into the log file a user can send (at INFO: Python prints it on the terminal).
        log.info("internal error", exc_info=True)
        raise
    finally:
        warnings.showwarning = shown
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr if file is None else file)


def entry() -> int:
    """The console script: native libraries' stderr chatter goes to the log folder unless asked for."""
    from studio.system.logs import native_stderr_to_file

    argv = sys.argv[1:]
    if not any(a.startswith(("-v", "--verbose", "--log-level")) for a in argv):
        native_stderr_to_file()
    return main(argv)


if __name__ == "__main__":
    sys.exit(entry())
