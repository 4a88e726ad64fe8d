"""Subcommands of ``python -m studio``.

Each module in this package that defines ``register(subparsers)`` adds one or more subcommands; the
module's ``register`` calls ``subparsers.add_parser(...)`` and sets ``func`` (a callable taking the parsed
``argparse.Namespace`` and returning an exit code) with ``parser.set_defaults(func=...)``.
Modules are discovered automatically, so adding a command never touches a shared file.
"""
