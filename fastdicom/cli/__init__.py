"""The ``fastdicom`` command line (also ``python -m fastdicom``).

Subcommands live in their own modules, listed in :data:`COMMANDS`; each
module has ``add_parser(subparsers)``, which adds its ``argparse`` parser and
sets ``func`` (``func(args) -> int``, the exit status) as its default. To add
one (``index``, ``echo``, ``store``, ``scp``, ``find``, ``get``, ``move``,
``bench`` ...), write ``fastdicom/cli/<name>.py`` and list it here, or call
:func:`register` before :func:`main`.

Exit status: 0 success, 1 a file or operation failed, 2 bad usage.
Problems are reported as one line on stderr (``fastdicom <command>: error:
...``); set ``FASTDICOM_TRACEBACK=1`` to see the traceback of an unexpected
error.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from fastdicom.cli._common import CLIError, error_line

__all__ = ["COMMANDS", "register", "build_parser", "main", "CLIError"]

#: The subcommand modules, in the order ``--help`` lists them.
COMMANDS: list[str] = [
    "fastdicom.cli.dump",
    "fastdicom.cli.tojson",
    "fastdicom.cli.convert",
    "fastdicom.cli.index",
    "fastdicom.cli.echo",
    "fastdicom.cli.store",
    "fastdicom.cli.scp",
    "fastdicom.cli.qr",
    "fastdicom.cli.bench",
]


def register(module: str) -> None:
    """Add the subcommand module ``module`` (a dotted name) to the command line."""
    if module not in COMMANDS:
        COMMANDS.append(module)


def build_parser() -> argparse.ArgumentParser:
    from fastdicom import __version__

    parser = argparse.ArgumentParser(
        prog="fastdicom",
        description="fastdicom: read, inspect and convert DICOM files.",
    )
    parser.add_argument("--version", action="version", version=f"fastdicom {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns
    the exit status (usage errors, ``--help`` and ``--version`` included)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_usage(sys.stderr)
        print("fastdicom: error: a command is required (see fastdicom --help)", file=sys.stderr)
        return 2
    prog = f"fastdicom {args.command}"
    try:
        status = func(args)
        sys.stdout.flush()
        return int(status or 0)
    except CLIError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into head: stop quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 141
    except Exception as exc:  # a bug, or a problem not foreseen: one line, no traceback
        if os.environ.get("FASTDICOM_TRACEBACK"):
            raise
        print(f"{prog}: error: {error_line(exc)} (set FASTDICOM_TRACEBACK=1 for details)",
              file=sys.stderr)
        return 1
