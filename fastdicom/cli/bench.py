"""``fastdicom bench [PATHS...]``: compare DICOM readers on the same files.

Each installed tool (fastdicom, pydicom, dicomsdl, python-gdcm, dcmtk) runs
each workload (header, walk, pixels, write, scan) on the same files: the
user's, or a deterministic synthetic corpus made on demand (``--size``).
Results are checked against fastdicom's in child processes before timing
(a crashing tool is reported, not fatal), then timed interleaved, warm and
with ``--cold`` also with the files dropped from the page cache. See
:mod:`fastdicom.bench.runner` for the method.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from fastdicom.cli._common import CLIError

DEFAULT_TOOLS = "fastdicom,pydicom,dicomsdl,gdcm,dcmtk"
DEFAULT_WORKLOADS = "header,walk,pixels,write,scan"
_TS_KIND = {
    "1.2.840.10008.1.2": "implicit-le", "1.2.840.10008.1.2.1": "explicit-le",
    "1.2.840.10008.1.2.2": "explicit-be", "1.2.840.10008.1.2.1.99": "deflated",
    "1.2.840.10008.1.2.5": "rle", "1.2.840.10008.1.2.4.50": "jpeg-baseline",
    "1.2.840.10008.1.2.4.51": "jpeg-extended", "1.2.840.10008.1.2.4.57": "jpeg-lossless",
    "1.2.840.10008.1.2.4.70": "jpeg-lossless", "1.2.840.10008.1.2.4.80": "jpeg-ls",
    "1.2.840.10008.1.2.4.81": "jpeg-ls", "1.2.840.10008.1.2.4.90": "jpeg2000",
    "1.2.840.10008.1.2.4.91": "jpeg2000", "1.2.840.10008.1.2.4.201": "htj2k",
    "1.2.840.10008.1.2.4.202": "htj2k", "1.2.840.10008.1.2.4.203": "htj2k",
}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    from fastdicom.bench.corpus import SIZES

    p = subparsers.add_parser(
        "bench", help="compare DICOM readers (fastdicom, pydicom, dicomsdl, gdcm, dcmtk)",
        description="Time each installed tool on the same files (yours, or a synthetic "
                    "corpus), after checking its results against fastdicom's; a table, "
                    "JSON and a chart.")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or directories (default: the synthetic corpus)")
    p.add_argument("--tools", default=DEFAULT_TOOLS,
                   help=f"comma-separated tools (default {DEFAULT_TOOLS}; missing ones are "
                        "reported as not installed)")
    p.add_argument("--workloads", default=DEFAULT_WORKLOADS,
                   help=f"comma-separated workloads (default {DEFAULT_WORKLOADS}); 'net': "
                        "C-ECHO latency and C-STORE throughput over loopback for each SCU>SCP "
                        "pair of fastdicom, pynetdicom (with pydicom) and dcmtk")
    p.add_argument("--baseline", default="pydicom",
                   help="the tool ratios are relative to (default pydicom)")
    p.add_argument("--repeats", type=int, default=5, help="samples per tool (default 5)")
    p.add_argument("--min-time", type=float, default=0.2,
                   help="seconds per warm sample at least (default 0.2)")
    p.add_argument("--cold", action="store_true",
                   help="also time with the files dropped from the page cache before each pass")
    p.add_argument("--json", metavar="OUT", help="write the results as JSON")
    p.add_argument("--chart", metavar="OUT.png", help="a PNG chart of ratios (needs matplotlib)")
    p.add_argument("--markdown", metavar="OUT.md",
                   help="write the results as a Markdown section (machine, versions, date, "
                        "one table): the README's performance section")
    p.add_argument("--size", choices=list(SIZES), default="small",
                   help="synthetic corpus size (default small)")
    p.add_argument("--corpus", metavar="DIR",
                   help="where the synthetic corpus is kept (default ~/.cache/fastdicom/bench-SIZE)")
    p.add_argument("--kinds", help="comma-separated kinds of the synthetic corpus to use")
    p.add_argument("--echoes", type=int, default=20,
                   help="C-ECHOs per sample of the net workload (default 20)")
    p.add_argument("--timeout", type=float, default=300.0,
                   help="seconds a tool may take on one file while checked (default 300)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=run)
    return p


def _split(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _user_corpus(paths: list[str]) -> dict[str, list[str]]:
    """The user's files grouped by transfer syntax (unreadable ones kept: the
    checks report them)."""
    from fastdicom import dcmread

    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs.sort()
                files += [os.path.join(root, n) for n in sorted(names)]
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise CLIError(f"{path}: no such file or directory")
    groups: dict[str, list[str]] = {}
    for f in files:
        try:
            ts = str(dcmread(f, stop_before_pixels=True, specific_tags=[]).file_meta
                     .get("TransferSyntaxUID", ""))
            kind = _TS_KIND.get(ts, "other")
        except Exception:
            kind = "unreadable"
        groups.setdefault(kind, []).append(f)
    if not groups:
        raise CLIError("no files found")
    return groups


def _command(args: argparse.Namespace) -> str:
    """The command line of this run, as the Markdown output states it."""
    parts = ["fastdicom bench"]
    parts += ["PATHS..."] if args.paths else [f"--size {args.size}"]
    if args.kinds:
        parts.append(f"--kinds {args.kinds}")
    if args.tools != DEFAULT_TOOLS:
        parts.append(f"--tools {args.tools}")
    if args.workloads != DEFAULT_WORKLOADS:
        parts.append(f"--workloads {args.workloads}")
    if args.baseline != "pydicom":
        parts.append(f"--baseline {args.baseline}")
    parts.append(f"--repeats {args.repeats}")
    if args.min_time != 0.2:
        parts.append(f"--min-time {args.min_time:g}")
    if args.cold:
        parts.append("--cold")
    return " ".join(parts)


def run(args: argparse.Namespace) -> int:
    from fastdicom.bench import report
    from fastdicom.bench.corpus import KINDS, default_dir, ensure_corpus
    from fastdicom.bench.runner import Runner
    from fastdicom.bench.timing import filesystem_type, machine
    from fastdicom.bench.tools import TOOLS, WORKLOADS

    tools, workloads = _split(args.tools), _split(args.workloads)
    unknown = [t for t in tools if t not in TOOLS and t != "pynetdicom"]  # pynetdicom: net only
    if unknown:
        raise CLIError(f"unknown tool(s) {', '.join(unknown)}; known: {', '.join(TOOLS)}", 2)
    bad = [w for w in workloads if w not in WORKLOADS + ("net",)]
    if bad:
        raise CLIError(f"unknown workload(s) {', '.join(bad)}; known: "
                       f"{', '.join(WORKLOADS + ('net',))}", 2)
    if args.baseline not in tools:
        raise CLIError(f"--baseline {args.baseline} is not one of --tools", 2)
    if args.repeats < 1:
        raise CLIError("--repeats must be at least 1", 2)
    progress = report.Progress(quiet=args.quiet)
    notes: list[str] = []
    if args.paths:
        corpus = _user_corpus(args.paths)
        source = {"source": "paths", "paths": list(args.paths)}
    else:
        kinds = _split(args.kinds) if args.kinds else None
        if kinds and any(k not in KINDS for k in kinds):
            raise CLIError(f"--kinds: known kinds are {', '.join(KINDS)}", 2)
        files, notes = ensure_corpus(args.corpus, args.size, kinds=kinds, progress=progress)
        corpus = {k: [str(p) for p in v] for k, v in files.items()}
        source = {"source": "synthetic", "size": args.size,
                  "dir": str(args.corpus or default_dir(args.size))}
    if args.cold:
        kinds_fs = {filesystem_type(v[0]) for v in corpus.values()}
        if kinds_fs & {"tmpfs", "ramfs"}:
            notes.append("--cold: files on tmpfs/ramfs stay in memory, cold equals warm there")
    env = machine()
    runner = Runner(corpus, tools, workloads, baseline=args.baseline, repeats=args.repeats,
                    min_time=args.min_time, cold=args.cold, timeout=args.timeout,
                    echoes=args.echoes,
                    progress=progress)
    try:
        runner.run()
    finally:
        progress.finish()
    payload = {
        "fastdicom_bench": report.SCHEMA_VERSION, "machine": env,
        "settings": {"tools": tools, "workloads": workloads, "baseline": args.baseline,
                     "repeats": args.repeats, "min_time": args.min_time,
                     "modes": runner.modes, "timeout": args.timeout},
        "corpus": {**source, "notes": notes,
                   "kinds": {k: {"files": len(v), "bytes": sum(os.path.getsize(p) for p in v)}
                             for k, v in corpus.items()}},
        **runner.payload(),
    }
    payload["machine"]["loadavg_after"] = list(os.getloadavg()) if hasattr(os, "getloadavg") \
        else None
    print(report.summary(payload))
    if args.json:
        report.write_json(payload, args.json)
        print(f"wrote {args.json}", file=sys.stderr)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(report.markdown(payload, _command(args)))
        print(f"wrote {args.markdown}", file=sys.stderr)
    if args.chart:
        why = report.write_chart(payload, args.chart)
        print(f"chart: {why}" if why else f"wrote {args.chart}", file=sys.stderr)
    return 0
