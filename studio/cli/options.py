"""Command-line options read from the settings declarations (``studio.request.schema``): every declared setting with a
``cli`` flag becomes an option with the declared type, choices and help, and its default from the declaration
(never written out by hand). Options default to None, so a value given on the command line is told apart from
one not given and overrides a ``--request`` or ``--preset`` either way."""

from __future__ import annotations

import argparse
from typing import Any

from studio.request.schema import Setting, settings_of

_TYPES = {"int": int, "float": float, "choice": str, "text": str}


def _dest(setting: Setting) -> str:
    return "setting__" + setting.path.replace(".", "__")


def help_text(setting: Setting) -> str:
    """The declaration's help with its unit, range and default, as ``--help`` shows it."""
    text = setting.help.rstrip(".")
    if setting.kind in ("int", "float") and (setting.minimum is not None or setting.maximum is not None):
        text += f"; {setting.range_text()}"
    return f"{text} (default: {setting.default_text()})".replace("%", "%%")


def add_setting_options(parser: argparse.ArgumentParser | Any, cls: type) -> None:
    """One option per declared setting of ``cls`` that names a ``cli`` flag."""
    for s in settings_of(cls):
        if s.cli is None:
            continue
        if s.kind == "bool":
            parser.add_argument(s.cli, dest=_dest(s), action=argparse.BooleanOptionalAction, default=None,
                                help=help_text(s))
        else:
            parser.add_argument(s.cli, dest=_dest(s), type=_TYPES[s.kind], default=None,
                                choices=s.choices or None, metavar=None if s.choices else s.path.rpartition(".")[2].upper(),
                                help=help_text(s))


def given_settings(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The settings given on the command line, by path (``{"export.crf": 20}``)."""
    values = {}
    for s in settings_of(cls):
        value = getattr(args, _dest(s), None) if s.cli else None
        if value is not None:
            values[s.path] = value
    return values
