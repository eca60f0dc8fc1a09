"""Time fastdicom against pydicom (and dicomsdl) on the same files in the same run.

Usage::

    python -m benchmarks.compare                 # full corpus (400 CT, 4 MR)
    python -m benchmarks.compare --quick         # tiny corpus, a few seconds (smoke test)
    python -m benchmarks.compare --json out.json --only mr
    python -m benchmarks.compare --only ct10 --only mr-walk   # dataset-layer rows only
    python -m benchmarks.compare --only "pixels:"             # pixel rows only

Method: all files of a kind are read into memory first. Most rows time
functions taking those bytes (no file I/O is timed); rows with
``inputs="path"`` (ct10) time functions taking the file's path, so opening the
file is included, but the files were just read, so the OS page cache is warm
and no disk I/O is measured.
For each kind, every function used by a row is calibrated so one repeat takes
at least ``--min-time`` seconds (several passes over the files), warmed up, and
then the functions are timed round-robin (interleaved, to spread machine noise
evenly) ``--repeats`` times with ``time.perf_counter`` and the garbage
collector disabled. A sample is seconds per file; the table shows the median.

Before timing, each row's ``check`` (if any) runs on the kind's inputs and
stops the run if the tools disagree (e.g. the ten ct10 values, or every value
of the MR walk), so the timings compare the same work.

Columns: fastdicom and pydicom median time per file, ratio = pydicom /
fastdicom (higher is better for fastdicom) and, for rows with a target, the
target ratio and whether the measured ratio meets it; the same for dicomsdl
(columns left blank when a row has no dicomsdl function or dicomsdl is not
installed); fastdicom throughput in MB/s of header bytes (bytes from the start
of the file up to the Pixel Data element, i.e. what is walked).

Rows (see :data:`WORKLOADS`): ``walk: ...`` tokenizer rows on every kind
(benchmarks/walkers.py); ``ct10 ...`` open a CT slice by path, parse, read 10
attributes; ``mr-walk ...`` parse an Enhanced MR file from bytes and convert
every element value at every depth (benchmarks/datasets.py).

``pixels: ...`` decode pixel data from a path (benchmarks/pixels.py, which also
makes the pixel corpus under ``<corpus>/pixels`` from the CT slices when a
pixel row is selected): native CT, RLE, JPEG baseline, JPEG-LS and JPEG 2000
slices, multi-frame encapsulated files, and random access to one frame of a
1000-frame file (per access; memory is reported below the table). For pixel
rows the MB/s and KB columns count decoded bytes, not header bytes.

``--only TEXT`` keeps the (workload, kind) rows whose workload name or kind
contains TEXT (repeatable: a row is kept if any TEXT matches).

To add workloads, append a :class:`Workload` to
:data:`WORKLOADS`: two per-file callables (optionally a dicomsdl one, targets,
a check) and, if the relevant byte count is not the header, an ``nbytes``
function (called with the row's inputs); a ``report`` function adds lines
below the table.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pydicom

import fastdicom
from benchmarks import bench_ingest, datasets, pixels, walkers, writers
from benchmarks.corpus import DEFAULT_DIR, KINDS, ensure_corpus, header_length, load_bytes
from fastdicom.bench.timing import Timing, calibrate, fmt_time, time_passes, warm_page_cache  # noqa: F401

QUICK_DIR = Path(__file__).resolve().parent / "corpus_quick"
FileFn = Callable[[object], object]  # per-file: bytes, or a str path (inputs="path")
MR_KINDS = tuple(k for k in KINDS if k.startswith("mr"))


def header_bytes(src) -> int:
    """Header length (bytes up to Pixel Data) of a file's bytes or path."""
    return header_length(src if isinstance(src, (bytes, bytearray)) else Path(src).read_bytes())


@dataclass(frozen=True)
class Workload:
    """One table row per kind: ``fast`` (fastdicom) vs ``ref`` (pydicom) per file.

    ``inputs``: "bytes" (functions get the file contents) or "path" (they get
    the path as ``str`` and open the file themselves). ``sdl``: optional
    dicomsdl function (None: no dicomsdl column). ``target`` / ``sdl_target``:
    ratio (pydicom resp. dicomsdl time / fastdicom time) to reach. ``check``:
    called once with the kind's inputs before timing; raises on disagreement.
    ``nbytes``: bytes counted for MB/s, from one input (the default, the
    header length, also takes a path). ``report``: called with the kind's
    inputs after timing, returns extra lines for the output.
    """

    name: str
    fast: FileFn
    ref: FileFn
    kinds: tuple[str, ...] = KINDS
    nbytes: Callable[[object], int] = header_bytes
    note: str = ""
    inputs: str = "bytes"
    sdl: FileFn | None = None
    target: float | None = None
    sdl_target: float | None = None
    check: Callable[[list], object] | None = None
    report: Callable[[list], list[str]] | None = None


def pixel_row(name: str, kind: str, fast: FileFn, ref: FileFn, *, sdl: FileFn | None = None,
              inputs: str = "path", target: float = pixels.CODEC_TARGET, atol: int = 0,
              note: str = "") -> Workload:
    """A pixel decoding row: decoded bytes counted, results checked equal
    (within ``atol``) on a few files before timing."""
    return Workload(f"pixels: {name}", fast, ref, kinds=(kind,), inputs=inputs, sdl=sdl,
                    nbytes=pixels.decoded_nbytes, target=target, note=note,
                    check=pixels.make_check(fast, ref, sdl, atol=atol))


MULTI_FRAME_NOTE = ("one file of 120 frames (8 with --quick); fastdicom decodes frames in "
                    "threads (one per CPU)")

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
    # -- dataset layer (issue "Datasets"); functions in benchmarks/datasets.py
    Workload("ct10: dcmread(stop_before_pixels)", datasets.fastdicom_ct10,
             datasets.pydicom_ct10, kinds=("ct",), inputs="path", sdl=datasets.dicomsdl_ct10,
             target=datasets.CT10_TARGET_PYDICOM, sdl_target=datasets.CT10_TARGET_DICOMSDL,
             check=datasets.check_ct10,
             note="open by path + parse + 10 attributes (PatientID, Study/Series/SOP "
                  "Instance UID, Modality, Rows, Columns, InstanceNumber, "
                  "ImagePositionPatient, PixelSpacing); pydicom dcmread(path, "
                  "stop_before_pixels=True), dicomsdl open(path); page cache warm"),
    Workload("ct10: dcmread (pixels not skipped)", datasets.fastdicom_ct10_full,
             datasets.pydicom_ct10, kinds=("ct",), inputs="path", sdl=datasets.dicomsdl_ct10,
             target=datasets.CT10_TARGET_PYDICOM, sdl_target=datasets.CT10_TARGET_DICOMSDL,
             note="same, fastdicom without stop_before_pixels (other tools as above)"),
    Workload("mr-walk: dcmread+walk every .value", datasets.fastdicom_walk,
             datasets.pydicom_walk, kinds=MR_KINDS,
             target=datasets.WALK_TARGET_PYDICOM, check=datasets.check_walk,
             note="dcmread(bytes) (Pixel Data read too), every element .value at every "
                  "depth, file meta excluded on both sides"),
    Workload("write-ct: dcmread+edit+dcmwrite", writers.fastdicom_write_ct, writers.pydicom_write_ct,
             kinds=("ct",), nbytes=len, target=writers.WRITE_TARGET_PYDICOM, check=writers.check_write_ct,
             note="dcmread(bytes), PatientName changed, dcmwrite to a BytesIO; same bytes from both"),
    Workload("write-ct: dcmwrite only", writers.fastdicom_write_only_ct, writers.pydicom_write_only_ct,
             kinds=("ct",), nbytes=len, target=writers.WRITE_TARGET_PYDICOM,
             note="dcmwrite to a BytesIO of datasets read and edited beforehand (cached)"),
    Workload("convert-mr: explicit LE -> implicit LE", writers.fastdicom_convert_to_implicit,
             writers.pydicom_convert_to_implicit, kinds=MR_KINDS, check=writers.check_convert_mr,
             note="dcmread, file meta TransferSyntaxUID changed, dcmwrite; same bytes from both"),
    Workload("convert-mr: explicit LE -> explicit BE", writers.fastdicom_convert_to_big,
             writers.pydicom_convert_to_big, kinds=MR_KINDS,
             note="same to big endian; pydicom leaves Pixel Data/OB-OW values unswapped"),
    Workload("index: scan -> Arrow table (43 default tags)", bench_ingest.fastdicom_index_file,
             bench_ingest.pydicom_index_file, kinds=("ct",), inputs="path",
             target=bench_ingest.INDEX_TARGET_PYDICOM, check=bench_ingest.check_index,
             note="fastdicom.ingest.scan(files, workers=1) vs a pydicom dcmread(stop_before_pixels=True) "
                  "loop building the same table (same types); one table per 400 files"),
    # -- pixel data (issue "Pixel data"); functions and corpus in benchmarks/pixels.py
    pixel_row("native CT pixel_array", "ct", pixels.fastdicom_pixels, pixels.pydicom_pixels,
              sdl=pixels.dicomsdl_pixels, target=pixels.NATIVE_TARGET,
              note="dcmread(path).pixel_array (int16, 12 bits stored, sign-extended); dicomsdl "
                   "open(path).pixelData(storedvalue=True)"),
    pixel_row("native CT pixel_array, from bytes", "ct", pixels.fastdicom_pixels_bytes,
              pixels.pydicom_pixels_bytes, inputs="bytes", target=pixels.NATIVE_TARGET,
              note="the same from the file's bytes in memory (dcmread(bytes) / BytesIO): no "
                   "file open, no memory map"),
    pixel_row("RLE CT pixel_array", "ct_rle", pixels.fastdicom_pixels,
              pixels.pydicom_pixels_pylibjpeg, sdl=pixels.dicomsdl_pixels, target=pixels.RLE_TARGET,
              note="fastdicom's C RLE decoder vs pydicom with pylibjpeg-rle"),
    pixel_row("JPEG baseline (imagecodecs | pylibjpeg)", "ct_jpeg", pixels.fastdicom_pixels,
              pixels.pydicom_pixels_pylibjpeg, sdl=pixels.dicomsdl_pixels, atol=2,
              note="different libraries: libjpeg-turbo (fastdicom, dicomsdl: equal arrays) vs "
                   "pylibjpeg-libjpeg (pydicom), lossy: checked within 2 grey levels"),
    pixel_row("JPEG baseline, same codec (pylibjpeg)", "ct_jpeg",
              pixels.fastdicom_pixels_pylibjpeg, pixels.pydicom_pixels_pylibjpeg,
              note="both decode with pylibjpeg-libjpeg (fastdicom plugin='pylibjpeg')"),
    pixel_row("JPEG-LS (imagecodecs | pyjpegls)", "ct_jpegls", pixels.fastdicom_pixels,
              pixels.pydicom_pixels_pyjpegls,
              note="both CharLS (through imagecodecs resp. pyjpegls); dicomsdl left out: it "
                   "returns the signed 12-bit samples without sign extension"),
    pixel_row("JPEG-LS, same codec (pylibjpeg)", "ct_jpegls", pixels.fastdicom_pixels_pylibjpeg,
              pixels.pydicom_pixels_pylibjpeg, note="both decode with pylibjpeg-libjpeg"),
    pixel_row("JPEG 2000 (imagecodecs | pylibjpeg)", "ct_j2k", pixels.fastdicom_pixels,
              pixels.pydicom_pixels_pylibjpeg,
              note="both OpenJPEG (through imagecodecs resp. pylibjpeg-openjpeg)"),
    pixel_row("JPEG 2000, same codec (pylibjpeg)", "ct_j2k", pixels.fastdicom_pixels_pylibjpeg,
              pixels.pydicom_pixels_pylibjpeg, note="both decode with pylibjpeg-openjpeg"),
    pixel_row("multi-frame JPEG-LS (imagecodecs | pyjpegls)", "mf_jpegls", pixels.fastdicom_pixels,
              pixels.pydicom_pixels_pyjpegls, note=MULTI_FRAME_NOTE),
    pixel_row("multi-frame JPEG 2000 (imagecodecs | pylibjpeg)", "mf_j2k", pixels.fastdicom_pixels,
              pixels.pydicom_pixels_pylibjpeg, note=MULTI_FRAME_NOTE),
    Workload("pixels: random frame, native", pixels.fastdicom_random_frame,
             pixels.pydicom_random_frame, kinds=("ra_native",), inputs="path",
             sdl=pixels.dicomsdl_random_frame, nbytes=pixels.frame_nbytes,
             check=pixels.check_random_frame_sdl, report=pixels.report_random_access,
             note="per access: open the 1000-frame file (16 with --quick), decode frame i "
                  "(a fixed random walk); "
                  "pydicom.pixels.pixel_array(path, index=i); dicomsdl pixelData(index=i)"),
    Workload("pixels: random frame, JPEG-LS", pixels.fastdicom_random_frame,
             pixels.pydicom_random_frame, kinds=("ra_jpegls",), inputs="path",
             nbytes=pixels.frame_nbytes, check=pixels.check_random_frame,
             report=pixels.report_random_access,
             note="the same on a 1000-frame JPEG-LS file with a Basic Offset Table"),
]


def measure_kind(fns: dict[FileFn, list], repeats: int, min_time: float) -> dict[FileFn, Timing]:
    """Calibrate + warm up each function (on its inputs), then time them interleaved."""
    timings = {fn: Timing(calibrate(fn, inputs, min_time)) for fn, inputs in fns.items()}
    for _ in range(repeats):
        for fn, timing in timings.items():
            timing.samples.append(time_passes(fn, fns[fn], timing.number))
    return timings


def check_kind(kind: str, files: list[bytes]) -> None:
    """Cheap cross-check: both libraries see the same top-level elements."""
    for data in files[:2]:
        fd = walkers.fastdicom_top_level_count(data)
        pd = walkers.pydicom_element_generator(data)
        if fd != pd:
            raise SystemExit(f"{kind}: top-level element count fastdicom={fd} pydicom={pd}")


def keep_row(only, w: Workload, kind: str) -> bool:
    """``--only`` filter: no filter, or some text is in the workload name or kind."""
    return not only or any(s in w.name or s in kind for s in only)


def run(workloads: list[Workload], corpus: dict[str, list[Path]], repeats: int,
        min_time: float, log=print, only=()) -> tuple[list[dict], dict, list[str]]:
    """Time every (workload, kind) row kept by ``only``; return (rows, raw samples,
    report lines)."""
    rows, raw, reports = [], {}, []
    for kind, kind_paths in corpus.items():
        active = [w for w in workloads if kind in w.kinds and keep_row(only, w, kind)]
        if not active or not kind_paths:
            continue
        paths = [str(p) for p in kind_paths]
        if any(w.inputs == "bytes" for w in active):
            files = load_bytes(kind_paths)  # also warms the page cache for path rows
            check_kind(kind, files)
        else:  # path rows only (e.g. a 500 MB file): warm the page cache, keep nothing
            files = paths
            warm_page_cache(paths)
        for w in active:
            if w.check is not None:
                w.check(paths if w.inputs == "path" else files)
        fns: dict[FileFn, list] = {}
        for w in active:
            inputs = paths if w.inputs == "path" else files
            for fn in (w.fast, w.ref, w.sdl):
                if fn is None:
                    continue
                if fns.setdefault(fn, inputs) is not inputs:
                    raise ValueError(f"{fn.__name__} is used with both bytes and paths")
        log(f"# {kind}: {len(files)} files, timing {len(fns)} functions x {repeats} repeats",
            file=sys.stderr)
        timings = measure_kind(fns, repeats, min_time)
        raw[kind] = {fn.__name__: {"number": t.number, "samples": t.samples}
                     for fn, t in timings.items()}
        for w in active:
            fast, ref = timings[w.fast], timings[w.ref]
            sdl = timings[w.sdl] if w.sdl is not None else None
            nbytes = float(np.mean([w.nbytes(d) for d in (paths if w.inputs == "path" else files)]))
            ratio = ref.median / fast.median
            row = {
                "workload": w.name, "kind": kind, "files": len(files), "inputs": w.inputs,
                "fastdicom_fn": w.fast.__name__, "pydicom_fn": w.ref.__name__,
                "fastdicom_median_s": fast.median, "fastdicom_best_s": fast.best,
                "pydicom_median_s": ref.median, "pydicom_best_s": ref.best,
                "ratio": ratio, "target": w.target,
                "target_met": None if w.target is None else ratio >= w.target,
                "dicomsdl_fn": None, "dicomsdl_median_s": None, "dicomsdl_best_s": None,
                "dicomsdl_ratio": None, "dicomsdl_target": w.sdl_target if sdl else None,
                "dicomsdl_target_met": None,
                "bytes_per_file": nbytes,
                "fastdicom_mb_s": nbytes / fast.median / 1e6,
                "note": w.note,
            }
            if sdl is not None:
                sdl_ratio = sdl.median / fast.median
                row.update(dicomsdl_fn=w.sdl.__name__, dicomsdl_median_s=sdl.median,
                           dicomsdl_best_s=sdl.best, dicomsdl_ratio=sdl_ratio)
                if w.sdl_target is not None:
                    row["dicomsdl_target_met"] = sdl_ratio >= w.sdl_target
            rows.append(row)
            if w.report is not None:
                reports += [f"{w.name}: {line}" for line in w.report(paths)]
    return rows, raw, reports


def fmt_target(target: float | None, met: bool | None) -> str:
    if target is None or met is None:
        return ""
    return f">={target:g}x {'yes' if met else 'NO'}"


def format_table(rows: list[dict]) -> str:
    wname = max([38] + [len(r["workload"]) for r in rows])
    sdl = any(r["dicomsdl_median_s"] is not None for r in rows)
    header = (f"{'workload':{wname}s} {'kind':12s} {'files':>5s} {'fastdicom/file':>14s} "
              f"{'pydicom/file':>13s} {'ratio':>8s} {'target':>11s}")
    if sdl:
        header += f" {'dicomsdl/file':>13s} {'ratio':>8s} {'target':>11s}"
    header += f" {'fd MB/s':>8s} {'KB':>7s}"
    lines = [header, "-" * len(header)]
    for r in rows:
        line = (f"{r['workload']:{wname}s} {r['kind']:12s} {r['files']:5d} "
                f"{fmt_time(r['fastdicom_median_s']):>14s} "
                f"{fmt_time(r['pydicom_median_s']):>13s} {r['ratio']:7.1f}x "
                f"{fmt_target(r['target'], r['target_met']):>11s}")
        if sdl:
            if r["dicomsdl_median_s"] is None:
                line += f" {'-':>13s} {'-':>8s} {'':>11s}"
            else:
                line += (f" {fmt_time(r['dicomsdl_median_s']):>13s} "
                         f"{r['dicomsdl_ratio']:7.1f}x "
                         f"{fmt_target(r['dicomsdl_target'], r['dicomsdl_target_met']):>11s}")
        line += f" {r['fastdicom_mb_s']:8.1f} {r['bytes_per_file'] / 1e3:7.1f}"
        lines.append(line)
    return "\n".join(lines)


def headline(rows: list[dict]) -> list[str]:
    """The per-file cost of open + parse + 10 values (fastdicom ct10 rows)."""
    out = []
    for r in rows:
        if r["workload"].startswith("ct10"):
            label = r["workload"].split(":", 1)[1].strip()
            out.append(f"ct10 per-file cost, fastdicom {label}: open + parse + 10 values = "
                       f"{r['fastdicom_median_s'] * 1e6:.1f} us median "
                       f"(best {r['fastdicom_best_s'] * 1e6:.1f} us; {r['files']} files, "
                       f"file open included, page cache warm)")
    return out


def environment() -> dict:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count()
    return {
        "python": platform.python_version(), "platform": platform.platform(),
        "machine": platform.machine(), "cpu_count": os.cpu_count(), "usable_cpus": cpus,
        "fastdicom": fastdicom.__version__, "pydicom": pydicom.__version__,
        "dicomsdl": getattr(datasets.dicomsdl, "__version__", "installed")
        if datasets.dicomsdl is not None else None,
        "numpy": np.__version__, "codecs": pixels.codec_versions(),
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _fmt_load(load) -> str:
    return "/".join(f"{x:.2f}" for x in load) if load else "?"


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
                        help="keep (workload, kind) rows whose workload name or kind "
                             "contains this text (repeatable), e.g. ct10, mr-walk, walk:, mr")
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
    workloads = [w for w in WORKLOADS if any(keep_row(args.only, w, k) for k in w.kinds)]
    if not workloads:
        names = ", ".join(sorted({w.name for w in WORKLOADS}))
        raise SystemExit(f"--only {args.only} matches no row; workloads: {names}; "
                         f"kinds: {', '.join(KINDS + pixels.PIXEL_KINDS)}")
    if any(keep_row(args.only, w, k) for w in workloads for k in w.kinds if k in pixels.PIXEL_KINDS):
        corpus.update(pixels.ensure_pixel_corpus(corpus_dir, corpus["ct"], quick=quick,
                                                 verbose=True))
    env = environment()
    rows, raw, reports = run(workloads, corpus, repeats, min_time, only=args.only)
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None

    sdl_name = f" / dicomsdl {env['dicomsdl']}" if env["dicomsdl"] else " (dicomsdl not installed)"
    print(f"fastdicom {env['fastdicom']} vs pydicom {env['pydicom']}{sdl_name} "
          f"| Python {env['python']} | {env['usable_cpus']}/{env['cpu_count']} CPUs "
          f"| median of {repeats} repeats")
    if env["loadavg"]:
        print(f"load average (1/5/15 min) before {_fmt_load(env['loadavg'])}, "
              f"after {_fmt_load(load_after)}")
    print(format_table(rows))
    print("ratio = pydicom (or dicomsdl) / fastdicom per-file median; target = ratio to reach; "
          "fd MB/s = header bytes (file start to Pixel Data) / fastdicom time, decoded bytes "
          "for pixel rows (KB: the bytes counted, per file)")
    for w in workloads:
        if w.note and any(r["workload"] == w.name for r in rows):
            print(f"  {w.name}: {w.note}")
    for line in headline(rows):
        print(line)
    for line in reports:
        print(line)
    if args.json:
        payload = {"environment": env,
                   "settings": {"corpus": str(corpus_dir), "ct": n_ct, "mr": n_mr,
                                "repeats": repeats, "min_time": min_time, "quick": quick},
                   "loadavg_after": load_after, "rows": rows, "reports": reports, "raw": raw}
        Path(args.json).write_text(json.dumps(payload, indent=1) + "\n")
        print(f"# wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
