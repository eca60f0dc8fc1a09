"""``fastdicom echo HOST PORT``: verify a DICOM peer with C-ECHO.

    fastdicom echo pacs.example 104 --aec PACS --repeat 3

Prints one line per C-ECHO (status and round-trip time); exit status 0 when
every C-ECHO succeeded, 1 otherwise (rejected, aborted, unreachable ...).
"""
from __future__ import annotations

import argparse
import time
from typing import Any

from fastdicom.cli import _net


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("echo", help="verify a DICOM peer (C-ECHO)",
                              description="Send C-ECHO requests to a DICOM peer.")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--repeat", "-r", type=int, default=1, metavar="N",
                   help="C-ECHOs to send over the association (default 1)")
    _net.add_options(p, scu=True)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from fastdicom.net.errors import NetworkError

    ae = _net.make_ae(args)
    failed = 0
    try:
        with ae.associate(args.host, args.port, ae_title=args.aec,
                          ssl=_net.ssl_context(args, False)) as assoc:
            for _ in range(max(1, args.repeat)):
                start = time.perf_counter()
                status = assoc.echo()
                ms = (time.perf_counter() - start) * 1e3
                print(f"C-ECHO {args.aec}@{args.host}:{args.port}: "
                      f"{_net.status_text(status)} in {ms:.2f} ms")
                failed += status != 0
    except (NetworkError, OSError) as exc:
        from fastdicom.cli._common import CLIError, error_line

        raise CLIError(f"{args.host}:{args.port}: {error_line(exc)}") from None
    return 1 if failed else 0
