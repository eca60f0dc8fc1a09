"""Ingestion at scale: index the headers of many DICOM files into an Arrow table.

>>> import fastdicom.ingest as ingest
>>> table = ingest.scan("/data/dicom")                  # a pyarrow.Table, one row per file
>>> df = table.to_pandas()                              # or ingest.scan_pandas(...)
>>> for batch in ingest.scan_batches("/data", batch_size=4096):   # flat memory
...     writer.write_batch(batch)
>>> series = ingest.series_summary(table)               # one row per series

Needs ``pyarrow`` (the ``arrow`` extra: ``pip install "fastdicom[arrow]"``);
fastdicom itself imports without it.

**Rows**: one per file, in the order the files are found (directories are
walked lazily with ``os.scandir``: each directory's files, then its
subdirectories; see :func:`iter_files`). A file that cannot be read (missing,
vanished, a directory, empty, not DICOM, truncated inside its header...) gives
a row whose ``error`` column says why (``"ExceptionType: message"``) and whose
other columns are null; a scan never stops because of a file.

**Columns**: ``path``; one per requested tag, named by the tag as given (a
keyword, or the keyword of a tag given as an int or ``(group, element)``,
``"gggg,eeee"`` for tags not in the dictionary), or by the keys of a mapping
``{name: tag}``; then ``size`` (bytes), ``transfer_syntax``, ``sop_class_uid``
(the dataset's SOP Class UID, else the file meta's Media Storage SOP Class UID)
and ``error``.

The type of a tag's column comes from the data dictionary's VR and VM of the
tag (so every batch has the same schema whatever its values):

==========================================  ============================================
VR                                           column (a ``list<...>`` of it when VM != 1)
==========================================  ============================================
AE AS CS LO LT PN SH ST UC UI UR UT          ``string`` (pydicom's ``str()`` of the value)
DS FL FD                                     ``float64``
IS US SS UL SL SV AT, ``US or SS``           ``int64``
UV                                           ``uint64``
DA / TM / DT                                 ``date32`` / ``time64[us]`` / ``timestamp[us]``
OB OW OD OF OL OV UN, ``OB or OW``           ``binary``
SQ (the tag itself)                          ``int64``: the number of items
not in the dictionary (private tags)         ``string`` (numbers as text, bytes as hex)
==========================================  ============================================

Values: what :func:`fastdicom.dcmread` gives, converted (text: pydicom's
``str()``). Absent elements are null. An element present but empty gives
``''`` (text), ``[]`` (lists), ``b''`` (binary) or null (numbers, dates and
times). Values that are not valid for their VR are null, not errors, and
their text is not kept: DS/IS text that is not a number (IS ``'1.5'`` too),
DA/TM/DT text that is not a date/time (see
:func:`fastdicom._ingest_convert.parse_da` and friends: ``YYYYMMDD`` and
``YYYY.MM.DD``; ``HH[MM[SS[.F]]]`` and ``HH:MM[:SS[.F]]``; DT with a UTC offset
is stored converted to UTC, without the offset), several values in a
single-valued number or date column. Several values in a single-valued text
column are joined with ``\\``.

Tags may be paths into sequences: ``"ReferencedImageSequence[0].ReferencedSOPInstanceUID"``
(or ``("ReferencedImageSequence", 0, "ReferencedSOPInstanceUID")``; no index
means item 0, ``[-1]`` the last item). Group 0002 tags are read from the File
Meta Information.

**Speed** (see benchmarks/bench_ingest.py): a file costs one ``open``,
``fstat``, an 8 KB ``read`` (more only for longer headers) and ``close``, and
the C tokenizer's walk up to the last top-level tag wanted (GIL released);
the values of a whole batch are then found and converted with numpy and Arrow
kernels, not per value in Python. With the page cache warm that is about
50x a pydicom ``dcmread(stop_before_pixels=True)`` loop on one core. The
Python left per file holds the GIL, so threads (the default executor) pay off
when the files are not in memory (cold caches, network storage: the reads
overlap) but not on a warm cache, where ``workers=1`` or
``executor="process"`` (each worker builds its batch, sent back in Arrow's
IPC format; scripts need the usual ``if __name__ == "__main__":`` guard)
are the fast choices.
"""
from __future__ import annotations

import os
import time
from collections import deque
from concurrent.futures import Executor
from itertools import islice
from typing import Any, Iterator

from fastdicom._ingest_batch import plan_schema, scan_chunk
from fastdicom._ingest_files import WalkError, iter_files
from fastdicom._ingest_spec import BASE_COLUMNS, DEFAULT_TAGS, ColumnSpec, Plan, resolve_columns
from fastdicom._ingest_summary import series_summary, slice_spacing, study_summary

__all__ = [
    "scan", "scan_batches", "scan_pandas", "to_pandas", "schema", "iter_files",
    "series_summary", "study_summary", "slice_spacing", "resolve_columns", "ColumnSpec",
    "WalkError", "DEFAULT_TAGS", "BASE_COLUMNS", "DEFAULT_BATCH_SIZE", "CPU_BOUND",
]

#: Files per record batch (and per task given to a worker).
DEFAULT_BATCH_SIZE = 1024


def _require_pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("fastdicom.ingest needs pyarrow: pip install 'fastdicom[arrow]'") from None
    return pyarrow


def default_workers() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def make_plan(tags: Any = None, stop_before_pixels: bool = True, force: bool = False,
              _slow_only: bool = False) -> Plan:
    """The reading plan of a scan (columns resolved once)."""
    return Plan(resolve_columns(tags), stop_before_pixels=stop_before_pixels, force=force,
                slow_only=_slow_only)


def schema(tags: Any = None) -> Any:
    """The ``pyarrow.Schema`` of a scan of ``tags`` (default :data:`DEFAULT_TAGS`)."""
    _require_pyarrow()
    return plan_schema(make_plan(tags))


def _chunks(items: Iterator[Any], size: int) -> Iterator[list]:
    while True:
        chunk = list(islice(items, size))
        if not chunk:
            return
        yield chunk


def _scan_chunk_ipc(paths: list, plan: Plan) -> bytes:
    """:func:`scan_chunk` in a worker process: the batch as an Arrow IPC stream."""
    import pyarrow as pa

    batch = scan_chunk(paths, plan)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def _from_ipc(data: bytes) -> Any:
    import pyarrow as pa

    return pa.ipc.open_stream(data).read_next_batch()


#: ``workers=None`` with threads: the first batch is read in the calling
#: thread; if it was on the CPU at least this fraction of the time, the rest
#: is too, else a pool of threads reads the rest.
CPU_BOUND = 0.75


def _thread_time() -> float:
    try:
        return time.thread_time()
    except (AttributeError, OSError):  # pragma: no cover - platforms without it
        return time.process_time()


def _init_worker(ignore_warnings: bool) -> None:
    if ignore_warnings:
        import warnings

        warnings.simplefilter("ignore")


def _process_pool(workers: int, ignore_warnings: bool) -> Executor:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                               initargs=(ignore_warnings,))


def _warnings_ignored() -> bool:
    import warnings

    return bool(warnings.filters) and warnings.filters[0][0] == "ignore" \
        and warnings.filters[0][2] is Warning and warnings.filters[0][1] is None


def scan_batches(paths: Any, tags: Any = None, *, recursive: bool = True,
                 workers: int | None = None, stop_before_pixels: bool = True,
                 executor: str | Executor = "thread", batch_size: int = DEFAULT_BATCH_SIZE,
                 force: bool = False, sort: bool = False, follow_symlinks: bool = False,
                 expand: bool = True, _slow_only: bool = False) -> Iterator[Any]:
    """Scan DICOM files, yielding ``pyarrow.RecordBatch``es of ``batch_size`` rows
    (the last may be shorter), in the order the files are found.

    ``paths``: a file, a directory (walked, recursively unless
    ``recursive=False``), a glob pattern, or an iterable of them (consumed
    lazily: a generator of a million paths is fine). ``tags``: see the module
    documentation (default :data:`DEFAULT_TAGS`). ``workers``: threads or
    processes (``1`` reads in the calling thread). The default for processes
    is the CPUs available; for threads it is chosen after the first batch,
    read in the calling thread: if that batch kept the thread on the CPU (the
    files were in memory: threads would only contend for the GIL) the rest is
    read there too, else by a pool of CPUs + 4 threads whose reads overlap.
    ``executor``: ``"thread"``, ``"process"``, or a
    ``concurrent.futures.Executor`` to use (it is not shut down; a process
    pool's workers must be able to import fastdicom). At most ``2 * workers + 1``
    batches are in flight, so memory stays flat however many files there are.
    ``stop_before_pixels=False`` lets tags after the Pixel Data be read (slower
    for large files). ``force`` reads files without the DICOM preamble (as
    :func:`fastdicom.dcmread`). ``sort`` walks each directory in name order.
    ``expand=False``: every path given is a file (no walk, no glob, no
    ``stat`` per path in the calling thread: for long lists of files).
    """
    _require_pyarrow()
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    plan = make_plan(tags, stop_before_pixels, force, _slow_only)
    chunks = _chunks(iter_files(paths, recursive, sort=sort, follow_symlinks=follow_symlinks,
                                expand=expand), batch_size)
    auto = workers is None and executor in ("thread", "threads")
    if workers is None:
        workers = default_workers()
    own_pool = None
    if isinstance(executor, Executor):
        pool = executor
    elif executor in ("thread", "threads"):
        if auto:
            # the first batch in this thread: threads only pay off if it waited
            # for the files (on a warm cache the work is Python holding the GIL)
            first = next(chunks, None)
            if first is None:
                return
            wall, cpu = time.perf_counter(), _thread_time()
            batch = scan_chunk(first, plan)
            wall, cpu = time.perf_counter() - wall, _thread_time() - cpu
            yield batch
            if cpu >= CPU_BOUND * wall:
                workers = 1
            else:
                workers = min(32, default_workers() + 4)  # I/O bound: overlap the reads
        if workers <= 1:
            for chunk in chunks:
                yield scan_chunk(chunk, plan)
            return
        from concurrent.futures import ThreadPoolExecutor

        pool = own_pool = ThreadPoolExecutor(max_workers=workers,
                                             thread_name_prefix="fastdicom-scan")
    elif executor in ("process", "processes"):
        pool = own_pool = _process_pool(max(1, workers), _warnings_ignored())
    else:
        raise ValueError(f"executor must be 'thread', 'process' or an Executor, not {executor!r}")
    from concurrent.futures import ProcessPoolExecutor

    # from worker processes, batches come back in Arrow's IPC format (a
    # pickled batch would carry the whole buffers its columns are slices of)
    remote = isinstance(pool, ProcessPoolExecutor)
    task = _scan_chunk_ipc if remote else scan_chunk
    pending: deque = deque()
    window = 2 * max(1, workers) + 1
    try:
        for chunk in chunks:
            pending.append(pool.submit(task, chunk, plan))
            if len(pending) >= window:
                got = pending.popleft().result()
                yield _from_ipc(got) if remote else got
        while pending:
            got = pending.popleft().result()
            yield _from_ipc(got) if remote else got
    finally:
        for f in pending:
            f.cancel()
        if own_pool is not None:
            own_pool.shutdown(wait=True, cancel_futures=True)


def scan(paths: Any, tags: Any = None, *, recursive: bool = True, workers: int | None = None,
         stop_before_pixels: bool = True, executor: str | Executor = "thread",
         batch_size: int = DEFAULT_BATCH_SIZE, force: bool = False, sort: bool = False,
         follow_symlinks: bool = False, expand: bool = True, _slow_only: bool = False) -> Any:
    """Scan DICOM files into one ``pyarrow.Table`` (arguments as
    :func:`scan_batches`); ``.to_pandas()`` gives a DataFrame (see also
    :func:`scan_pandas`)."""
    pa = _require_pyarrow()
    schema_ = schema(tags)
    batches = list(scan_batches(paths, tags, recursive=recursive, workers=workers,
                                stop_before_pixels=stop_before_pixels, executor=executor,
                                batch_size=batch_size, force=force, sort=sort,
                                follow_symlinks=follow_symlinks, expand=expand,
                                _slow_only=_slow_only))
    return pa.Table.from_batches(batches, schema=schema_)


def to_pandas(table: Any, arrow_dtypes: bool = True) -> Any:
    """``table`` as a pandas DataFrame: with ``arrow_dtypes`` every column keeps
    its Arrow type (``pd.ArrowDtype``: integers with nulls stay integers, lists
    stay lists, the dtypes do not depend on the values), else pyarrow's default
    conversion."""
    if not arrow_dtypes:
        return table.to_pandas()
    import pandas as pd

    return table.to_pandas(types_mapper=pd.ArrowDtype)


def scan_pandas(paths: Any, tags: Any = None, *, arrow_dtypes: bool = True, **kwargs: Any) -> Any:
    """:func:`scan` as a pandas DataFrame (see :func:`to_pandas` for
    ``arrow_dtypes``); needs pandas."""
    return to_pandas(scan(paths, tags, **kwargs), arrow_dtypes)
