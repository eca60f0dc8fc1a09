"""Ingestion benchmark (issue 6): index 10,000 CT files into an Arrow table.

Script use (the numbers of the README)::

    python -m benchmarks.bench_ingest                  # 10,000 files, 5 repeats
    python -m benchmarks.bench_ingest --quick          # 1,200 files, a few seconds
    python -m benchmarks.bench_ingest --json out.json

pytest-benchmark use (small corpus; ``FASTDICOM_BENCH_INGEST_FILES`` files,
default 1,200)::

    python -m pytest benchmarks/bench_ingest.py --benchmark-only

The corpus (``benchmarks/corpus_ingest``, gitignored): copies of the
benchmark CT series (``benchmarks/corpus/ct``, 400 slices of 512x512, made by
benchmarks/corpus.py on first use) with distinct Study, Series, Frame of
Reference and SOP Instance UIDs, patched in the header bytes (same lengths, so
nothing else changes); 400 files per directory. The pixel data is not copied:
each file is its header followed by a hole up to the original size (a sparse
file: ``size`` is the real one, the disk holds a few KB), which neither tool
reads (``stop_before_pixels``).

What is timed, same run, same files, page cache warm (every file was read just
before):

* ``fastdicom``: ``fastdicom.ingest.scan(dir)`` with the default tags
  (:data:`fastdicom.ingest.DEFAULT_TAGS`, 43 columns + path, size, transfer
  syntax, SOP class, error), the directory walk included; 1 worker (the
  calling thread), 2 threads, 2 worker processes (a pool started before timing
  and reused: its start-up, ~0.5 s, is shown separately).
* ``pydicom``: a loop building the same table: ``os.walk``, then per file
  ``pydicom.dcmread(path, stop_before_pixels=True)``, the same 43 values
  converted to the same column values (:func:`fastdicom._ingest_convert.column_value`),
  ``os.stat`` for the size; then ``pyarrow`` arrays of the same types.

Before timing the two tables are compared (sorted by path): they must be equal.
Ratio = pydicom time / fastdicom time (target >= 50x).

For ``python -m benchmarks.compare`` (one row per kind, per-file callables):
:func:`fastdicom_index_file` and :func:`pydicom_index_file` take a path and
index files in batches of :data:`COMPARE_BATCH` (a table is built every
``COMPARE_BATCH`` calls, so a pass over ``k * COMPARE_BATCH`` files times
exactly ``k`` tables); :func:`check_index` compares them.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

import pytest

import fastdicom
from fastdicom import ingest

CORPUS_DIR = Path(__file__).resolve().parent / "corpus_ingest"
CORPUS_VERSION = 2
SLICES = 400  # per copy of the series (the benchmark CT series)
INDEX_TARGET_PYDICOM = 50.0
COMPARE_BATCH = 400  # the files of compare.py's ct kind: one table per pass
_UID_TAGS = ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID", "SOPInstanceUID")


# --------------------------------------------------------------------------- corpus
def _same_length_uid(old: str, label: str) -> str:
    """A UID of exactly ``len(old)`` characters under 2.25, derived from ``label``."""
    digits = len(old) - len("2.25.")
    if digits < 2:
        raise ValueError(f"UID {old!r} too short to replace")
    h = hashlib.sha256(label.encode()).digest()
    number = str(int.from_bytes(h * 4, "big"))
    return "2.25." + ("1" + number)[:digits]


def _header_end(data: bytes) -> int:
    """Offset just after the Pixel Data element's header (its value starts there)."""
    end = fastdicom.tokenize(data, 132, stop_before_pixels=True).end_offset
    if data[end:end + 4] != b"\xe0\x7f\x10\x00":
        raise ValueError("no Pixel Data after the header")
    return end + 12  # explicit VR OW: tag, VR, 2 reserved bytes, 4-byte length


def ensure_ingest_corpus(files: int = 10_000, out: str | os.PathLike | None = None,
                         source: str | os.PathLike | None = None,
                         verbose: bool = False) -> Path:
    """Make sure ``out`` holds ``files`` CT files (see the module docstring);
    returns the directory. Files already there (same version, same source) are kept."""
    from benchmarks.corpus import DEFAULT_DIR, ensure_corpus

    out = Path(out) if out is not None else CORPUS_DIR
    src_dir = Path(source) if source is not None else DEFAULT_DIR
    sources = ensure_corpus(src_dir, ct=SLICES, mr=0)["ct"][:SLICES]
    manifest = out / "manifest.json"
    params = {"version": CORPUS_VERSION, "source": str(src_dir), "slices": len(sources)}
    done = 0
    if manifest.exists():
        m = json.loads(manifest.read_text())
        if m.get("params") == params:
            done = m.get("files", 0)
    if done >= files:
        return out
    out.mkdir(parents=True, exist_ok=True)
    templates = []
    for path in sources:
        data = Path(path).read_bytes()
        end = _header_end(data)
        ds = fastdicom.dcmread(data, stop_before_pixels=True)
        uids = {kw: str(ds.get(kw)) for kw in _UID_TAGS}
        templates.append((data[:end], len(data), uids))
    for k in range(done, files):
        copy, index = divmod(k, len(templates))
        header, size, uids = templates[index]
        for kw, old in uids.items():
            label = f"{kw}/{copy}" if kw != "SOPInstanceUID" else f"{kw}/{copy}/{index}"
            header = header.replace(old.encode(), _same_length_uid(old, label).encode())
        d = out / "files" / f"copy{copy:03d}"
        d.mkdir(parents=True, exist_ok=True)
        with open(d / f"ct_{index:04d}.dcm", "wb") as f:
            f.write(header)
            f.truncate(size)  # the pixel data: a hole
        if verbose and (k + 1) % 2000 == 0:
            print(f"  {k + 1}/{files} files", file=sys.stderr)
    manifest.write_text(json.dumps({"params": params, "files": files}, indent=1) + "\n")
    return out


def corpus_paths(directory: str | os.PathLike, files: int) -> list[str]:
    """The first ``files`` paths of the corpus (in generation order)."""
    out = []
    for k in range(files):
        copy, index = divmod(k, SLICES)
        out.append(os.path.join(directory, "files", f"copy{copy:03d}", f"ct_{index:04d}.dcm"))
    return out


# --------------------------------------------------------------------------- the two tools
def fastdicom_table(paths, workers: int = 1, executor="thread", tags=None):
    """``fastdicom.ingest.scan`` (``paths``: a directory, or a list of files,
    given with ``expand=False``: they are files)."""
    expand = isinstance(paths, (str, os.PathLike))
    return ingest.scan(paths, tags, workers=workers, executor=executor, expand=expand)


def pydicom_table(paths, tags=None):
    """The same table built with a pydicom loop (``paths``: a directory or files)."""
    import pyarrow as pa
    import pydicom

    from fastdicom._ingest_convert import column_value
    from fastdicom._ingest_files import error_message

    cols = ingest.resolve_columns(tags)
    if isinstance(paths, (str, os.PathLike)):
        root = os.fspath(paths)
        paths = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
    values: list[list] = [[] for _ in cols]
    out_path, out_size, out_ts, out_sop, out_err = [], [], [], [], []
    for path in paths:
        out_path.append(path)
        try:
            size = os.stat(path).st_size
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception as exc:
            out_size.append(None)
            out_ts.append(None)
            out_sop.append(None)
            out_err.append(error_message(exc))
            for v in values:
                v.append(None)
            continue
        for col, v in zip(cols, values):
            elem = ds.get(col.tag)
            v.append(None if elem is None else column_value(elem.value, col))
        meta = ds.file_meta
        out_size.append(size)
        ts = meta.get("TransferSyntaxUID")
        out_ts.append(str(ts) if ts else None)
        sop = ds.get("SOPClassUID") or meta.get("MediaStorageSOPClassUID")
        out_sop.append(str(sop) if sop else None)
        out_err.append(None)
    arrays = [pa.array(out_path, pa.string())]
    arrays += [pa.array(v, c.arrow_type) for v, c in zip(values, cols)]
    arrays += [pa.array(out_size, pa.int64()), pa.array(out_ts, pa.string()),
               pa.array(out_sop, pa.string()), pa.array(out_err, pa.string())]
    return pa.Table.from_arrays(arrays, schema=ingest.schema(tags))


def check_tables(fast, ref) -> int:
    """Raise AssertionError unless the tables are equal row for row (sorted by
    path); returns the number of rows."""
    a = fast.sort_by("path")
    b = ref.sort_by("path")
    if a.num_rows != b.num_rows:
        raise AssertionError(f"{a.num_rows} rows from fastdicom, {b.num_rows} from pydicom")
    for name in a.column_names:
        if not a.column(name).equals(b.column(name)):
            x, y = a.column(name).to_pylist(), b.column(name).to_pylist()
            k = next(i for i in range(len(x)) if x[i] != y[i])
            raise AssertionError(f"column {name} row {k} ({a['path'][k]}): "
                                 f"fastdicom {x[k]!r} pydicom {y[k]!r}")
    return a.num_rows


# --------------------------------------------------------------------------- compare.py hooks
class _Batcher:
    """A per-file callable that indexes every COMPARE_BATCH paths it is given."""

    def __init__(self, build, name: str) -> None:
        self.build = build
        self.pending: list[str] = []
        self.__name__ = name

    def __call__(self, path: str):
        self.pending.append(path)
        if len(self.pending) >= COMPARE_BATCH:
            paths, self.pending = self.pending, []
            return self.build(paths)
        return None


fastdicom_index_file = _Batcher(lambda paths: fastdicom_table(paths, workers=1),
                                "fastdicom_index_file")
pydicom_index_file = _Batcher(pydicom_table, "pydicom_index_file")


def check_index(paths) -> int:
    """compare.py check: both tools give the same table for ``paths``."""
    return check_tables(fastdicom_table(list(paths)), pydicom_table(list(paths)))


# --------------------------------------------------------------------------- the run
def _time(fn, repeats: int, cold: bool = False) -> list[float]:
    import gc

    out = []
    for _ in range(repeats):
        if cold:
            drop_page_cache()
        gc.collect()
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def drop_page_cache() -> None:
    """Empty the OS page cache (Linux, root): the next reads go to the disk."""
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def run(files: int = 10_000, repeats: int = 3, pydicom_repeats: int = 1,
        out: str | os.PathLike | None = None, log=print, cold: bool = False) -> dict:
    """Generate/reuse the corpus, check that both tools give the same table,
    then time them (fastdicom cases interleaved); returns the results. With
    ``cold`` the page cache is emptied before every timed run."""
    directory = ensure_ingest_corpus(files, out, verbose=True)
    paths = corpus_paths(directory, files)
    # the whole corpus is scanned as a directory, a part of it as a list of files
    target = str(directory / "files") if files == _corpus_total(directory) else paths
    for p in paths:  # warm the page cache (headers)
        with open(p, "rb") as f:
            f.read(16384)
    log(f"# {files} files in {directory}; checking the tables agree", file=sys.stderr)
    n = check_tables(fastdicom_table(paths[:800]), pydicom_table(paths[:800]))
    results = {"files": files, "checked_rows": n, "rows": [], "environment": _environment()}
    pool_start = time.perf_counter()
    pool = ingest._process_pool(2, False)
    list(pool.map(abs, range(4)))  # both workers started
    pool_startup = time.perf_counter() - pool_start
    fastdicom_table(paths[:2048], 2, pool)  # the workers import fastdicom and pyarrow
    cases = [
        ("fastdicom, 1 worker", lambda: fastdicom_table(target, 1)),
        ("fastdicom, 2 threads", lambda: fastdicom_table(target, 2)),
        ("fastdicom, 2 processes", lambda: fastdicom_table(target, 2, pool)),
        ("fastdicom, workers=None", lambda: fastdicom_table(target, None)),
    ]
    for _, fn in cases:  # warm-up
        fn()
    timings: dict = {}
    for _ in range(repeats):  # interleaved
        for name, fn in cases:
            timings.setdefault(name, []).extend(_time(fn, 1, cold))
    pool.shutdown()
    log(f"# pydicom loop ({pydicom_repeats}x)", file=sys.stderr)
    ref = _time(lambda: pydicom_table(target), pydicom_repeats, cold)
    ref_s = statistics.median(ref)
    for name, ts in timings.items():
        med = statistics.median(ts)
        results["rows"].append({
            "case": name, "seconds_median": med, "seconds_best": min(ts),
            "files_per_s": files / med, "us_per_file": med / files * 1e6,
            "ratio_vs_pydicom": ref_s / med,
        })
    results["pydicom"] = {"seconds": ref_s, "files_per_s": files / ref_s,
                          "us_per_file": ref_s / files * 1e6}
    results["process_pool_startup_s"] = pool_startup
    results["target"] = INDEX_TARGET_PYDICOM
    results["cold"] = cold
    results["loadavg_after"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    return results


def _environment() -> dict:
    import platform

    import pyarrow
    import pydicom

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count()
    return {"python": platform.python_version(), "fastdicom": fastdicom.__version__,
            "pydicom": pydicom.__version__, "pyarrow": pyarrow.__version__, "cpus": cpus,
            "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _corpus_total(directory: Path) -> int:
    try:
        return json.loads((directory / "manifest.json").read_text())["files"]
    except (OSError, ValueError, KeyError):
        return -1


def format_results(r: dict) -> str:
    env = r["environment"]
    load = "/".join(f"{x:.2f}" for x in env["loadavg"]) if env.get("loadavg") else "?"
    lines = [f"index {r['files']:,} CT files, default tags ({len(ingest.DEFAULT_TAGS)} columns), "
             f"{'page cache emptied before each run' if r.get('cold') else 'page cache warm'} | Python {env['python']}, pydicom {env['pydicom']}, pyarrow "
             f"{env['pyarrow']}, {env['cpus']} CPUs, load average {load}",
             f"pydicom loop: {r['pydicom']['files_per_s']:,.0f} files/s "
             f"({r['pydicom']['us_per_file']:.0f} us/file)",
             f"{'case':26s} {'files/s':>10s} {'us/file':>8s} {'vs pydicom':>11s} {'target':>10s}"]
    for row in r["rows"]:
        met = "yes" if row["ratio_vs_pydicom"] >= r["target"] else "NO"
        lines.append(f"{row['case']:26s} {row['files_per_s']:10,.0f} {row['us_per_file']:8.1f} "
                     f"{row['ratio_vs_pydicom']:10.1f}x {'>=%gx %s' % (r['target'], met):>10s}")
    lines.append(f"(median of the repeats; process pool start-up, not in the times: "
                 f"{r['process_pool_startup_s']:.2f} s)")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, help="files to index (default 10000, quick 1200)")
    parser.add_argument("--repeats", type=int, help="timed repeats (default 5, quick 3)")
    parser.add_argument("--quick", action="store_true", help="a small run (a few seconds)")
    parser.add_argument("--out", help="corpus directory (default benchmarks/corpus_ingest)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--cold", action="store_true",
                        help="empty the page cache before every timed run (Linux, as root): "
                             "the files are read from the disk")
    args = parser.parse_args(argv)
    files = args.files or (1200 if args.quick else 10_000)
    repeats = args.repeats or (3 if args.quick else 5)
    r = run(files, repeats, out=args.out, cold=args.cold)
    print(format_results(r))
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1) + "\n")
    return 0


# --------------------------------------------------------------------------- pytest-benchmark
@pytest.fixture(scope="module")
def ingest_paths():
    files = int(os.environ.get("FASTDICOM_BENCH_INGEST_FILES", "1200"))
    directory = ensure_ingest_corpus(max(files, _corpus_total(CORPUS_DIR)))
    paths = corpus_paths(directory, files)
    for p in paths:
        with open(p, "rb") as f:
            f.read(16384)
    return paths


@pytest.mark.parametrize("workers", [1, 2])
def test_index_fastdicom(benchmark, ingest_paths, workers):
    benchmark.group = "index"
    table = benchmark(fastdicom_table, ingest_paths, workers)
    assert table.num_rows == len(ingest_paths)


def test_index_pydicom(benchmark, ingest_paths):
    benchmark.group = "index"
    table = benchmark.pedantic(pydicom_table, (ingest_paths,), rounds=1, iterations=1)
    assert table.num_rows == len(ingest_paths)


def test_index_tables_agree(ingest_paths):
    assert check_index(ingest_paths[:400]) == 400


if __name__ == "__main__":
    sys.exit(main())
