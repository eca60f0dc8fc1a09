"""``fastdicom store HOST PORT FILES_OR_DIRS...``: send DICOM files with C-STORE.

    fastdicom store pacs.example 104 /data/study --aec PACS

Directories are walked (``--no-recursive``: only their files). Each file's
data set is sent as it is in the file when the peer accepts its transfer
syntax, converted between uncompressed transfer syntaxes otherwise. Files go
over one association (several when more than 128 presentation contexts are
needed), up to ``--window`` at once when the peer allows asynchronous
operations. A progress line on stderr (on a terminal, or ``--progress``), a
line per file that failed (per file with ``-v``), and a summary. Exit
status 0 when every file was stored, 1 otherwise.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from fastdicom.cli import _net
from fastdicom.cli._common import CLIError, Progress, error_line
from fastdicom.uid import UID

_UNCOMPRESSED = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")
_MAX_CONTEXTS = 128


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("store", help="send DICOM files to a peer (C-STORE)",
                              description="Send DICOM files (directories walked) with C-STORE.")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    p.add_argument("--no-recursive", action="store_true",
                   help="do not walk subdirectories")
    p.add_argument("--window", type=int, default=None, metavar="N",
                   help="C-STOREs outstanding at once (default: what the peer allows)")
    p.add_argument("-v", "--verbose", action="store_true", help="a line for every file")
    p.add_argument("--progress", action="store_true",
                   help="show progress on standard error even when it is not a terminal")
    _net.add_options(p, scu=True)
    p.set_defaults(func=run)
    return p


def _scan(paths: list[str], recursive: bool) -> tuple[list[tuple[str, str, str]], list[str]]:
    from fastdicom.ingest import iter_files
    from fastdicom.net.storage import describe

    files, errors = [], []
    for path in iter_files(paths, recursive, sort=True):
        if not isinstance(path, str):  # a directory that cannot be listed
            errors.append(f"{path}: cannot list the directory")
            continue
        try:
            sop_class, _, ts = describe(path)  # the header only: the data set is read to send
        except Exception as exc:  # noqa: BLE001 - reported per file
            errors.append(f"{path}: {error_line(exc)}")
            continue
        files.append((path, sop_class, ts))
    return files, errors


def _batches(files: list[tuple[str, str, str]]) -> list[tuple[list[Any], list[str]]]:
    """Files grouped so each group's presentation contexts fit one association:
    per SOP class, one context per compressed transfer syntax of its files and
    one for the uncompressed ones (theirs first, then explicit and implicit LE)."""
    by_class: dict[str, list[tuple[str, str, str]]] = {}
    for f in files:
        by_class.setdefault(f[1], []).append(f)
    out: list[tuple[list[Any], list[str]]] = []
    contexts: list[Any] = []
    paths: list[str] = []
    for sop_class, group in by_class.items():
        syntaxes = list(dict.fromkeys(ts for _, _, ts in group if ts))
        plain = [ts for ts in syntaxes if not UID(ts).is_compressed]
        ctxs = [(sop_class, [ts]) for ts in syntaxes if UID(ts).is_compressed]
        ctxs.append((sop_class, list(dict.fromkeys(plain + list(_UNCOMPRESSED)))))
        if contexts and len(contexts) + len(ctxs) > _MAX_CONTEXTS:
            out.append((contexts, paths))
            contexts, paths = [], []
        contexts.extend(ctxs[:_MAX_CONTEXTS])
        paths.extend(p for p, _, _ in group)
    if paths:
        out.append((contexts, paths))
    return out


def run(args: argparse.Namespace) -> int:
    from fastdicom.net.errors import NetworkError

    ae = _net.make_ae(args)
    tls = _net.ssl_context(args, False)
    start = time.perf_counter()
    files, errors = _scan(args.paths, not args.no_recursive)
    for line in errors:
        print(f"fastdicom store: {line}", file=sys.stderr)
    if not files:
        raise CLIError("no DICOM files to send")
    tty = sys.stderr.isatty()
    progress = Progress("storing", args.progress or tty, tty)
    stored = failed = 0

    def report(result: Any) -> None:
        nonlocal stored, failed
        size = os.path.getsize(result.source) if result.ok else 0
        stored += result.ok
        failed += not result.ok
        progress.update(1, size, 0 if result.ok else 1)
        if args.verbose or not result.ok:
            progress.finish()
            why = f" - {result.error}" if result.error else ""
            print(f"{result.source}: {_net.status_text(result.status)}{why}",
                  file=sys.stdout if result.ok else sys.stderr)

    for contexts, paths in _batches(files):
        try:
            with ae.associate(args.host, args.port, ae_title=args.aec, contexts=contexts,
                              ssl=tls) as assoc:
                assoc.store_many(paths, window=args.window, on_result=report)
        except (NetworkError, OSError) as exc:
            progress.finish()
            raise CLIError(f"{args.host}:{args.port}: {error_line(exc)} "
                           f"({stored} stored, {failed} failed before)") from None
    progress.finish()
    elapsed = time.perf_counter() - start
    total = len(files) + len(errors)
    print(f"stored {stored} of {total} file{'' if total == 1 else 's'} "
          f"({progress.bytes / 1e6:,.1f} MB) in {elapsed:.2f} s, "
          f"{failed + len(errors)} failed", file=sys.stderr)
    return 0 if stored == total else 1
