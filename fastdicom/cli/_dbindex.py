"""``fastdicom index --db URL PATH...``: index existing files into the
database of a Query/Retrieve archive (see :mod:`fastdicom.net.archive`);
the files stay where they are."""
from __future__ import annotations

import argparse
import sys
import time
import warnings

from fastdicom.cli._common import CLIError


def run(args: argparse.Namespace) -> int:
    from fastdicom._ingest_files import WalkError, iter_files
    from fastdicom.net.archive import open_archive

    if not args.paths:
        raise CLIError("give files or directories to index into --db", 2)
    if args.output:
        raise CLIError("--db and -o are exclusive: run twice for both", 2)
    if not args.warnings:
        warnings.simplefilter("ignore")
    try:
        archive = open_archive(args.db)
    except Exception as exc:
        raise CLIError(f"--db {args.db}: {exc}", 2) from None
    errors: list[str] = []

    def on_error(path: str, exc: Exception) -> None:
        errors.append(path)
        if args.fail_on_error or args.progress:
            print(f"{path}: {exc}", file=sys.stderr)

    files = (str(p) for p in iter_files(args.paths, recursive=not args.no_recursive)
             if not isinstance(p, WalkError))
    start = time.perf_counter()
    try:
        done = archive.index_paths(files, batch=args.batch_size or 500, on_error=on_error)
        studies, total = archive.count("STUDY"), archive.count("IMAGE")
    finally:
        archive.close()
    elapsed = time.perf_counter() - start
    print(f"indexed {done:,} file{'' if done == 1 else 's'} in {elapsed:.2f} s "
          f"({len(errors):,} not indexed) -> {args.db}: {total:,} instances, "
          f"{studies:,} studies")
    return 1 if errors and args.fail_on_error else 0
