"""``fastdicom scp --port P --dir DIR``: a Storage and Verification SCP.

    fastdicom scp --port 11112 --dir /data/incoming

Accepts any called AE title (``--aet`` narrows that to one), every Storage
SOP class of the dictionary in every transfer syntax (data sets are stored
as received), and Verification. Each instance is streamed into a temporary
file in DIR, fsync'ed and renamed to ``DIR/<SOP Instance UID>.dcm``. Each
association is logged on stderr; Ctrl-C stops the server.
"""
from __future__ import annotations

import argparse
import logging
from typing import Any

from fastdicom.cli import _net
from fastdicom.cli._common import CLIError


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("scp", help="receive DICOM files (Storage + Verification SCP)",
                              description="Run a Storage and Verification SCP.")
    p.add_argument("--port", "-p", type=int, default=11112, help="port (default 11112)")
    p.add_argument("--bind", default="0.0.0.0", metavar="HOST",
                   help="address to listen on (default all)")
    p.add_argument("--dir", "-od", required=True, metavar="DIR",
                   help="where received files are stored")
    p.add_argument("--idle-timeout", type=float, default=60.0, metavar="S",
                   help="abort associations idle this long (default 60)")
    p.add_argument("--calling", action="append", metavar="TITLE",
                   help="accept only these calling AE titles (repeatable)")
    p.add_argument("--no-fsync", action="store_true",
                   help="do not fsync each file before answering (faster, not durable)")
    p.add_argument("-q", "--quiet", action="store_true", help="log only problems")
    _net.add_options(p, scu=False)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(message)s")
    ae = _net.make_ae(args, idle_timeout=args.idle_timeout,
                      require_called_aet=args.aet is not None,
                      allowed_calling_aets=args.calling)
    try:
        ae.serve(args.bind, args.port, storage_dir=args.dir, ssl=_net.ssl_context(args, True),
                 fsync=not args.no_fsync)
    except OSError as exc:
        raise CLIError(f"cannot serve on {args.bind}:{args.port}: {exc.strerror or exc}") \
            from None
    return 0
