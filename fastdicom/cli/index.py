"""``fastdicom index PATH... -o OUT``: index the headers of DICOM files into a
table (Parquet, CSV or JSON lines), one row per file.

    fastdicom index /data/dicom -o index.parquet
    fastdicom index /data/a /data/b -o index.csv --tags default,EchoTime,"ReferencedImageSequence[0].ReferencedSOPInstanceUID"
    fastdicom index --sample -o sample.parquet      # a generated sample set (no data needed)

Directories are walked recursively (``--no-recursive``: only the files in
them); glob patterns are expanded. Columns: ``path``, one per tag (default:
fastdicom.ingest.DEFAULT_TAGS), ``size``, ``transfer_syntax``,
``sop_class_uid``, ``error`` (why a file could not be read; such files still
get a row). See :mod:`fastdicom.ingest` for the column types and values.

The format comes from ``--format`` or the output's extension (``.parquet``/
``.pq``, ``.csv``, ``.jsonl``/``.ndjson``); ``-o -`` writes CSV or JSON lines
to standard output. In CSV, lists are written as their values joined by
``\\`` (as in DICOM) and binary values in base64; in JSON lines, dates and
times are ISO 8601 strings and binary values base64. The output is written to
a temporary file renamed when complete (an interrupted run leaves nothing).

A progress line (files, files/s, MB/s of the files indexed, errors so far)
is shown on standard error when it is a terminal, or with ``--progress``; at
the end one summary line: files, studies, series, errors, time.

Exit status: 0 when the index was written (files that could not be read are
rows, not failures, unless ``--fail-on-error``), 1 on failure, 2 on bad usage.
"""
from __future__ import annotations

import argparse
import base64
import datetime
import importlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from typing import Any

from fastdicom.cli._common import CLIError, Progress

_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl",
            ".ndjson": "jsonl", ".json": "jsonl"}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "index", help="index DICOM headers into a Parquet/CSV/JSON-lines table",
        description="Index the headers of DICOM files (directories walked) into a table: one "
                    "row per file, one column per tag, plus path, size, transfer_syntax, "
                    "sop_class_uid and error.")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files, directories or glob patterns to index")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="where to write the table ('-': standard output, CSV or JSON lines); "
                        "without it only the summary is shown")
    p.add_argument("--format", choices=("parquet", "csv", "jsonl"),
                   help="output format (default: from the output's extension)")
    p.add_argument("--tags", action="append", default=[], metavar="TAG[,TAG...]",
                   help="tags to index: keywords, gggg,eeee tags (quote them: "
                        "'0018,0050'), paths into sequences (Seq[0].Keyword); 'default' "
                        "stands for the default set (repeatable; default: the default set)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="threads (or processes with --processes) reading files "
                        "(default: the CPUs available)")
    p.add_argument("--processes", action="store_true",
                   help="read in worker processes instead of threads")
    p.add_argument("--batch-size", type=int, default=None, metavar="N",
                   help="files per batch (default 1024)")
    p.add_argument("--no-recursive", action="store_true",
                   help="do not descend into subdirectories")
    p.add_argument("--force", action="store_true",
                   help="read files without the DICOM preamble/File Meta Information too")
    p.add_argument("--all-pixels", action="store_true",
                   help="do not stop before the Pixel Data (for tags that come after it)")
    prog = p.add_mutually_exclusive_group()
    prog.add_argument("--progress", action="store_true",
                      help="show progress on standard error even when it is not a terminal")
    prog.add_argument("--no-progress", action="store_true", help="never show progress")
    p.add_argument("--fail-on-error", action="store_true",
                   help="exit with status 1 if any file could not be read")
    p.add_argument("--sample", action="store_true",
                   help="index a generated sample set (python -m fastdicom.sample) made in a "
                        "temporary directory, removed afterwards (see --sample-dir)")
    p.add_argument("--sample-dir", metavar="DIR",
                   help="with --sample: generate the sample set into DIR and keep it")
    p.add_argument("--series", type=int, default=4, help="with --sample: series (default 4)")
    p.add_argument("--slices", type=int, default=16,
                   help="with --sample: slices per series (default 16)")
    p.add_argument("--db", metavar="URL",
                   help="index into the database of a Query/Retrieve archive instead "
                        "(sqlite:///path or postgresql://...; see fastdicom scp --db)")
    p.add_argument("--warnings", action="store_true",
                   help="show the warnings files give while being read (hidden by default)")
    p.set_defaults(func=run)
    return p


def _tags(specs: list[str]) -> Any:
    """The tag list of --tags (None: the default set)."""
    if not specs:
        return None
    from fastdicom.ingest import DEFAULT_TAGS

    out: list[str] = []
    for spec in specs:
        for part in _split_tags(spec):
            if part.lower() == "default":
                out.extend(t for t in DEFAULT_TAGS if t not in out)
            elif part not in out:
                out.append(part)
    return out


_STEP = r"(?:\(\s*[0-9A-Fa-f]{4}\s*,\s*[0-9A-Fa-f]{4}\s*\)|[0-9A-Fa-f]{4}\s*,\s*[0-9A-Fa-f]{4}" \
        r"|[A-Za-z][A-Za-z0-9]*)(?:\[\s*-?\d+\s*\])?"
_TAG_ITEM = re.compile(rf"\s*({_STEP}(?:\.{_STEP})*)\s*(?:,|$)")


def _split_tags(spec: str) -> list[str]:
    """Split a --tags value on the commas between tags, keeping the comma of
    'gggg,eeee' tags (in paths too: '(0008,1140)[0].(0008,1155)')."""
    parts = []
    pos = 0
    while pos < len(spec):
        m = _TAG_ITEM.match(spec, pos)
        if m and m.end() > pos:
            parts.append(m.group(1))
            pos = m.end()
            continue
        end = spec.find(",", pos)  # not a tag: left for the error message
        end = len(spec) if end < 0 else end
        if spec[pos:end].strip():
            parts.append(spec[pos:end].strip())
        pos = end + 1
    return parts


def _format_of(args: argparse.Namespace) -> str | None:
    if args.format:
        return args.format
    if not args.output:
        return None
    if args.output == "-":
        raise CLIError("give --format csv or --format jsonl to write to standard output", 2)
    ext = os.path.splitext(args.output)[1].lower()
    fmt = _FORMATS.get(ext)
    if fmt is None:
        raise CLIError(f"cannot tell the format from {args.output!r}: use --format "
                       "parquet, csv or jsonl", 2)
    return fmt


# ---------------------------------------------------------------- output writers

def _csv_column(col: Any) -> Any:
    """A column as CSV can hold it: lists joined with backslashes, binary as base64."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if col.offset and (pa.types.is_list(t) or pa.types.is_large_list(t)):
        col = pa.concat_arrays([col])  # from_arrays takes no sliced offsets with a mask
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        inner = t.value_type
        if pa.types.is_binary(inner):
            values = pa.array([None if v is None else base64.b64encode(v).decode()
                               for v in col.values.to_pylist()], pa.string())
        else:
            values = col.values.cast(pa.string())
        strings = pa.ListArray.from_arrays(col.offsets, values, mask=col.is_null())
        return pc.binary_join(strings, "\\")
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return pa.array([None if v is None else base64.b64encode(v).decode()
                         for v in col.to_pylist()], pa.string())
    if pa.types.is_time(t):
        return col.cast(pa.string())
    return col


def _json_default(v: Any) -> Any:
    if isinstance(v, (datetime.date, datetime.time, datetime.datetime)):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(v).decode()
    raise TypeError(f"cannot write {type(v).__name__} as JSON")


class _Writer:
    """Writes batches to ``path`` (through a temporary file renamed at the end)
    or to standard output."""

    def __init__(self, path: str, fmt: str, schema: Any) -> None:
        self.fmt = fmt
        self.path = path
        self.schema = schema
        self.tmp: str | None = None
        self._pq = None
        self._csv = None
        if path == "-":
            self.fh = sys.stdout.buffer
        else:
            directory = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(directory):
                raise CLIError(f"{path}: no such directory: {directory}")
            fd, self.tmp = tempfile.mkstemp(prefix=".fastdicom-index-", suffix=".tmp",
                                            dir=directory)
            self.fh = os.fdopen(fd, "wb")

    def write(self, batch: Any) -> None:
        import pyarrow as pa

        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            if self._pq is None:
                self._pq = pq.ParquetWriter(self.fh, self.schema, compression="zstd")
            self._pq.write_batch(batch)
        elif self.fmt == "csv":
            import pyarrow.csv as pcsv

            cols = [_csv_column(c) for c in batch.columns]
            out = pa.RecordBatch.from_arrays(cols, names=batch.schema.names)
            if self._csv is None:
                self._csv = pcsv.CSVWriter(self.fh, out.schema)
            self._csv.write_batch(out)
        else:
            lines = [json.dumps(row, default=_json_default, ensure_ascii=False)
                     for row in batch.to_pylist()]
            if lines:
                self.fh.write(("\n".join(lines) + "\n").encode("utf-8"))

    def close(self, ok: bool) -> None:
        try:
            if self.fmt == "parquet" and self._pq is None and ok:
                import pyarrow.parquet as pq

                self._pq = pq.ParquetWriter(self.fh, self.schema, compression="zstd")
            if self.fmt == "csv" and self._csv is None and ok:  # no rows: the header alone
                self.fh.write((",".join(f'"{n}"' for n in self.schema.names) + "\n").encode())
            if self._pq is not None:
                self._pq.close()
            if self._csv is not None:
                self._csv.close()
            self.fh.flush()
        finally:
            if self.tmp is not None:
                self.fh.close()
                if ok:
                    umask = os.umask(0)
                    os.umask(umask)
                    os.chmod(self.tmp, 0o666 & ~umask)  # mkstemp made it 0600
                    os.replace(self.tmp, self.path)
                else:
                    try:
                        os.unlink(self.tmp)
                    except OSError:
                        pass


# ---------------------------------------------------------------- progress and summary

def run(args: argparse.Namespace) -> int:
    if getattr(args, "db", None):
        from fastdicom.cli import _dbindex

        return _dbindex.run(args)
    try:
        importlib.import_module("pyarrow")
    except ImportError:
        raise CLIError("fastdicom index needs pyarrow: pip install 'fastdicom[arrow]'") from None
    from fastdicom import ingest

    if not args.paths and not args.sample and not args.sample_dir:
        raise CLIError("give files or directories to index (or --sample)", 2)
    if args.workers is not None and args.workers < 1:
        raise CLIError("--workers must be at least 1", 2)
    if args.batch_size is not None and args.batch_size < 1:
        raise CLIError("--batch-size must be at least 1", 2)
    fmt = _format_of(args)
    try:
        tags = _tags(args.tags)
        schema = ingest.schema(tags)
    except (ValueError, TypeError) as exc:
        raise CLIError(f"--tags: {exc}", 2) from None
    if not args.warnings:
        warnings.simplefilter("ignore")
    paths = list(args.paths)
    tmpdir = None
    try:
        if args.sample or args.sample_dir:
            from fastdicom import sample

            target = args.sample_dir
            if target is None:
                target = tmpdir = tempfile.mkdtemp(prefix="fastdicom-sample-")
            try:
                sample.generate(target, series=args.series, slices=args.slices)
            except (ValueError, OSError) as exc:
                raise CLIError(f"--sample: {exc}") from None
            paths.append(target)
        return _index(args, ingest, paths, tags, schema, fmt)
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)


def _index(args: argparse.Namespace, ingest: Any, paths: list, tags: Any, schema: Any,
           fmt: str | None) -> int:
    import pyarrow.compute as pc

    tty = sys.stderr.isatty()
    progress = Progress("indexing", not args.no_progress and (args.progress or tty), tty)
    writer = _Writer(args.output, fmt, schema) if args.output else None
    studies: set = set()
    series: set = set()
    has_study = "StudyInstanceUID" in schema.names
    has_series = "SeriesInstanceUID" in schema.names
    ok = False
    try:
        batches = ingest.scan_batches(
            paths, tags, recursive=not args.no_recursive, workers=args.workers,
            executor="process" if args.processes else "thread",
            batch_size=args.batch_size or ingest.DEFAULT_BATCH_SIZE, force=args.force,
            stop_before_pixels=not args.all_pixels)
        for batch in batches:
            if writer is not None:
                writer.write(batch)
            good = pc.is_null(batch.column("error"))
            if has_study:
                studies.update(pc.unique(pc.filter(batch.column("StudyInstanceUID"), good))
                               .drop_null().to_pylist())
            if has_series:
                series.update(pc.unique(pc.filter(batch.column("SeriesInstanceUID"), good))
                              .drop_null().to_pylist())
            size = pc.sum(batch.column("size")).as_py() or 0
            progress.update(batch.num_rows, size, batch.num_rows - pc.sum(good).as_py())
        ok = True
    except OSError as exc:
        raise CLIError(f"{args.output}: {exc.strerror or exc}") from None
    finally:
        progress.finish()
        if writer is not None:
            writer.close(ok)
    elapsed = time.perf_counter() - progress.start
    rate = progress.files / elapsed if elapsed > 0 else 0.0
    parts = [f"{progress.files:,} file{'' if progress.files == 1 else 's'}"]
    if has_study:
        parts.append(f"{len(studies):,} stud{'y' if len(studies) == 1 else 'ies'}")
    if has_series:
        parts.append(f"{len(series):,} series")
    parts.append(f"{progress.errors:,} error{'' if progress.errors == 1 else 's'}")
    where = f" -> {args.output}" if args.output and args.output != "-" else ""
    line = (f"indexed {', '.join(parts)} in {elapsed:.2f} s ({rate:,.0f} files/s, "
            f"{progress.bytes / max(elapsed, 1e-9) / 1e6:,.1f} MB/s){where}")
    out = sys.stderr if args.output == "-" else sys.stdout
    print(line, file=out)
    if args.fail_on_error and progress.errors:
        return 1
    return 0


__all__ = ["add_parser", "run"]
