"""``fastdicom scp --port P --dir DIR``: a mini-PACS: Storage, Verification and
Query/Retrieve SCP.

    fastdicom scp --port 11112 --dir /data/pacs --ae-table aes.txt

Accepts any called AE title (``--aet`` narrows that to one), every Storage
SOP class of the dictionary in every transfer syntax (data sets are stored
as received), Verification, and C-FIND/C-GET/C-MOVE in the Patient Root and
Study Root models. Each instance is streamed into a temporary file in DIR,
fsync'ed, indexed and renamed to ``DIR/<SOP Instance UID>.dcm`` in one
transaction of the index: ``DIR/index.sqlite`` unless ``--db`` names another
(``sqlite:///path``, ``postgresql://...``); ``--no-index`` keeps only the
files (no Query/Retrieve). C-MOVE destinations come from ``--ae-table``: a
file of ``TITLE HOST PORT`` lines (``#`` starts a comment). Each association
is logged on stderr; Ctrl-C stops the server.
"""
from __future__ import annotations

import argparse
import logging
from typing import Any

from fastdicom.cli import _net
from fastdicom.cli._common import CLIError


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("scp", help="a mini-PACS (Storage, Verification, Query/Retrieve)",
                              description="Run a Storage, Verification and Query/Retrieve SCP.")
    p.add_argument("--port", "-p", type=int, default=11112, help="port (default 11112)")
    p.add_argument("--bind", default="0.0.0.0", metavar="HOST",
                   help="address to listen on (default all)")
    p.add_argument("--dir", "-od", required=True, metavar="DIR",
                   help="where received files are stored")
    p.add_argument("--db", metavar="URL", default=None,
                   help="the index: sqlite:///path or postgresql://... "
                        "(default: DIR/index.sqlite)")
    p.add_argument("--no-index", action="store_true",
                   help="store files only: no index, no Query/Retrieve")
    p.add_argument("--ae-table", metavar="FILE",
                   help="C-MOVE destinations: lines of TITLE HOST PORT")
    p.add_argument("--fuzzy-names", action="store_true",
                   help="match person names case-insensitively")
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


def read_ae_table(path: str) -> dict[str, tuple[str, int]]:
    """``TITLE HOST PORT`` lines (``#`` comments) as title -> (host, port)."""
    out: dict[str, tuple[str, int]] = {}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError as exc:
        raise CLIError(f"--ae-table {path}: {exc.strerror or exc}", 2) from None
    for n, line in enumerate(lines, 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) != 3 or not words[2].isdigit() or len(words[0]) > 16:
            raise CLIError(f"--ae-table {path}:{n}: expected TITLE HOST PORT", 2)
        out[words[0]] = (words[1], int(words[2]))
    return out


def run(args: argparse.Namespace) -> int:
    import os

    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(message)s")
    ae = _net.make_ae(args, idle_timeout=args.idle_timeout,
                      require_called_aet=args.aet is not None,
                      allowed_calling_aets=args.calling)
    if args.ae_table:
        ae.known_aes.update(read_ae_table(args.ae_table))
    archive = None
    handlers: dict[str, Any] = {}
    if not args.no_index:
        from fastdicom.net.archive import open_archive
        from fastdicom.net.services import archive_handlers

        os.makedirs(args.dir, exist_ok=True)
        try:
            archive = open_archive(args.db or "", args.dir)
        except Exception as exc:
            raise CLIError(f"--db: {exc}", 2) from None
        handlers = archive_handlers(archive, fuzzy_pn=args.fuzzy_names)
    try:
        ae.serve(args.bind, args.port, storage_dir=args.dir, ssl=_net.ssl_context(args, True),
                 fsync=not args.no_fsync, archive=archive, handlers=handlers)
    except OSError as exc:
        raise CLIError(f"cannot serve on {args.bind}:{args.port}: {exc.strerror or exc}") \
            from None
    finally:
        if archive is not None:
            archive.close()
    return 0
