"""Time fastdicom against pydicom on the same in-memory files in the same run.

Usage::

    python -m benchmarks.compare                 # full corpus (400 CT, 4 MR)
    python -m benchmarks.compare --quick         # tiny corpus, a few seconds (smoke test)
    python -m benchmarks.compare --json out.json --only mr

Method: all files of a kind are read into memory first (no disk I/O is timed).
For each kind, every function used by a row is calibrated so one repeat takes
at least ``--min-time`` seconds (several passes over the files), warmed up, and
then the functions are timed round-robin (interleaved, to spread machine noise
evenly) ``--repeats`` times with ``time.perf_counter`` and the garbage
collector disabled. A sample is seconds per file; the table shows the median.

Columns: fastdicom and pydicom median time per file, ratio = pydicom /
fastdicom (higher is better for fastdicom), and fastdicom throughput in MB/s
of header bytes (bytes from the start of the file up to the Pixel Data
element, i.e. what is walked).

To add workloads (dataset reading, pixel decoding, ...), append a
:class:`Workload` to :data:`WORKLOADS`: two per-file callables and, if the
relevant byte count is not the header, an ``nbytes`` function.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pydicom

import fastdicom
from benchmarks import walkers
from benchmarks.corpus import DEFAULT_DIR, KINDS, ensure_corpus, header_length, load_bytes

QUICK_DIR = Path(__file__).resolve().parent / "corpus_quick"
FileFn = Callable[[bytes], object]


@dataclass(frozen=True)
class Workload:
    """One table row per kind: ``fast`` (fastdicom) vs ``ref`` (pydicom) per file."""

    name: str
    fast: FileFn
    ref: FileFn
    kinds: tuple[str, ...] = KINDS
    nbytes: Callable[[bytes], int] = header_length  # bytes counted for MB/s
    note: str = ""


WORKLOADS: list[Workload] = [
    Workload("walk: tokenize | dcmread+walk", walkers.fastdicom_tokenize,
             walkers.pydicom_dcmread_walk,
             note="full tree walk vs pydicom parse + walk touching every .value"),
    Workload("walk: tokenize+values | dcmread+walk", walkers.fastdicom_tokenize_values,
             walkers.pydicom_dcmread_walk,
             note="plus a value memoryview per record from Python"),
    Workload("walk: tokenize | element generator", walkers.fastdicom_tokenize,
             walkers.pydicom_element_generator,
             note="pydicom yields top level only; parses undefined-length sequences"),
]


@dataclass
class Timing:
    """Per-file samples (seconds) of one function on one kind."""

    number: int  # passes over the files per repeat
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        return min(self.samples)


def time_passes(fn: FileFn, files: list[bytes], number: int) -> float:
    """Seconds per file for ``number`` passes of ``fn`` over ``files`` (GC off)."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            for data in files:
                fn(data)
        elapsed = time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()
    return elapsed / (number * len(files))


def calibrate(fn: FileFn, files: list[bytes], min_time: float) -> int:
    """Passes per repeat so one repeat lasts >= ``min_time`` (doubles as warmup)."""
    number = 1
    while True:
        per_file = time_passes(fn, files, number)
        total = per_file * number * len(files)
        if total >= min_time or number >= 1 << 20:
            return number
        number = max(number * 2, int(number * min_time / max(total, 1e-9) * 1.1) + 1)


def measure_kind(fns: list[FileFn], files: list[bytes], repeats: int,
                 min_time: float) -> dict[FileFn, Timing]:
    """Calibrate + warm up each function, then time them interleaved."""
    timings = {fn: Timing(calibrate(fn, files, min_time)) for fn in fns}
    for _ in range(repeats):
        for fn, timing in timings.items():
            timing.samples.append(time_passes(fn, files, timing.number))
    return timings


def check_kind(kind: str, files: list[bytes]) -> None:
    """Cheap cross-check: both libraries see the same top-level elements."""
    for data in files[:2]:
        fd = walkers.fastdicom_top_level_count(data)
        pd = walkers.pydicom_element_generator(data)
        if fd != pd:
            raise SystemExit(f"{kind}: top-level element count fastdicom={fd} pydicom={pd}")


def run(workloads: list[Workload], corpus: dict[str, list[Path]], repeats: int,
        min_time: float, log=print) -> tuple[list[dict], dict]:
    """Time every (workload, kind) row; return (rows, raw samples for JSON)."""
    rows, raw = [], {}
    for kind in KINDS:
        active = [w for w in workloads if kind in w.kinds]
        if not active or not corpus.get(kind):
            continue
        files = load_bytes(corpus[kind])
        check_kind(kind, files)
        fns = list(dict.fromkeys(fn for w in active for fn in (w.fast, w.ref)))
        log(f"# {kind}: {len(files)} files, timing {len(fns)} functions x {repeats} repeats",
            file=sys.stderr)
        timings = measure_kind(fns, files, repeats, min_time)
        raw[kind] = {fn.__name__: {"number": t.number, "samples": t.samples}
                     for fn, t in timings.items()}
        for w in active:
            fast, ref = timings[w.fast], timings[w.ref]
            nbytes = float(np.mean([w.nbytes(d) for d in files]))
            rows.append({
                "workload": w.name, "kind": kind, "files": len(files),
                "fastdicom_fn": w.fast.__name__, "pydicom_fn": w.ref.__name__,
                "fastdicom_median_s": fast.median, "fastdicom_best_s": fast.best,
                "pydicom_median_s": ref.median, "pydicom_best_s": ref.best,
                "ratio": ref.median / fast.median,
                "bytes_per_file": nbytes,
                "fastdicom_mb_s": nbytes / fast.median / 1e6,
                "note": w.note,
            })
    return rows, raw


def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:7.2f} {unit}"
    return f"{seconds / 1e-9:7.1f} ns"


def format_table(rows: list[dict]) -> str:
    header = (f"{'workload':38s} {'kind':13s} {'files':>5s} {'fastdicom/file':>14s} "
              f"{'pydicom/file':>13s} {'ratio':>9s} {'fd MB/s':>9s} {'hdr KB':>8s}")
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['workload']:38s} {r['kind']:13s} {r['files']:5d} "
            f"{fmt_time(r['fastdicom_median_s']):>14s} {fmt_time(r['pydicom_median_s']):>13s} "
            f"{r['ratio']:8.1f}x {r['fastdicom_mb_s']:9.1f} {r['bytes_per_file'] / 1e3:8.1f}")
    return "\n".join(lines)


def environment() -> dict:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count()
    return {
        "python": platform.python_version(), "platform": platform.platform(),
        "machine": platform.machine(), "cpu_count": os.cpu_count(), "usable_cpus": cpus,
        "fastdicom": fastdicom.__version__, "pydicom": pydicom.__version__,
        "numpy": np.__version__,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny corpus and short timings (smoke test, a few seconds)")
    parser.add_argument("--corpus", help="corpus directory (default: benchmarks/corpus, "
                        "or benchmarks/corpus_quick with --quick)")
    parser.add_argument("--ct", type=int, help="CT slices (default 400, quick 4)")
    parser.add_argument("--mr", type=int, help="Enhanced MR files (default 4, quick 2)")
    parser.add_argument("--repeats", type=int, help="timed repeats (default 7, quick 3)")
    parser.add_argument("--min-time", type=float,
                        help="seconds per repeat (default 0.2, quick 0.02)")
    parser.add_argument("--only", action="append", default=[],
                        help="keep rows whose workload or kind contains this text (repeatable)")
    parser.add_argument("--json", metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)

    quick = args.quick
    corpus_dir = Path(args.corpus) if args.corpus else (QUICK_DIR if quick else DEFAULT_DIR)
    n_ct = args.ct if args.ct is not None else (4 if quick else 400)
    n_mr = args.mr if args.mr is not None else (2 if quick else 4)
    repeats = args.repeats or (3 if quick else 7)
    min_time = args.min_time if args.min_time is not None else (0.02 if quick else 0.2)

    print(f"# corpus {corpus_dir} (ct={n_ct}, mr={n_mr})", file=sys.stderr)
    corpus = ensure_corpus(corpus_dir, n_ct, n_mr)
    workloads = WORKLOADS
    if args.only:
        keep = lambda w, k: any(s in w.name or s in k for s in args.only)  # noqa: E731
        corpus = {k: v for k, v in corpus.items() if any(keep(w, k) for w in workloads)}
        workloads = [w for w in workloads if any(keep(w, k) for k in corpus)]
    rows, raw = run(workloads, corpus, repeats, min_time)

    env = environment()
    print(f"fastdicom {env['fastdicom']} vs pydicom {env['pydicom']} | Python {env['python']} "
          f"| {env['usable_cpus']}/{env['cpu_count']} CPUs | median of {repeats} repeats")
    print(format_table(rows))
    print("ratio = pydicom/fastdicom per-file median; fd MB/s = header bytes "
          "(file start to Pixel Data) / fastdicom time")
    for w in workloads:
        if w.note:
            print(f"  {w.name}: {w.note}")
    if args.json:
        payload = {"environment": env,
                   "settings": {"corpus": str(corpus_dir), "ct": n_ct, "mr": n_mr,
                                "repeats": repeats, "min_time": min_time, "quick": quick},
                   "rows": rows, "raw": raw}
        Path(args.json).write_text(json.dumps(payload, indent=1) + "\n")
        print(f"# wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
