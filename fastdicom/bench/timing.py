"""Timing primitives shared by ``fastdicom bench`` and ``benchmarks/compare.py``.

A sample is seconds per file of a pass (or several passes) of a function over
a list of inputs, taken with ``time.perf_counter`` and the garbage collector
disabled; :func:`calibrate` picks the number of passes so one sample lasts at
least ``min_time`` (and warms up). :func:`drop_page_cache` evicts given files
only from the OS page cache (``posix_fadvise(POSIX_FADV_DONTNEED)``) for cold
runs; :func:`warm_page_cache` reads them once.
"""
from __future__ import annotations

import gc
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

__all__ = ["Timing", "time_passes", "time_batch", "calibrate", "warm_page_cache",
           "drop_page_cache", "can_drop_page_cache", "filesystem_type", "fmt_time", "machine"]


@dataclass
class Timing:
    """Per-file samples (seconds) of one function on one list of inputs."""

    number: int  # passes over the inputs per sample
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        return min(self.samples)

    @property
    def worst(self) -> float:
        return max(self.samples)


def time_passes(fn: Callable, files: list, number: int) -> float:
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


def time_batch(fn: Callable, files: list, number: int) -> float:
    """Seconds per file for ``number`` calls of ``fn(files)`` (GC off)."""
    return time_passes(lambda _unused: fn(files), [None], number) / len(files)


def calibrate(fn: Callable, files: list, min_time: float, timer=time_passes) -> int:
    """Passes per sample so one lasts >= ``min_time`` (doubles as warmup)."""
    number = 1
    while True:
        per_file = timer(fn, files, number)
        total = per_file * number * len(files)
        if total >= min_time or number >= 1 << 20:
            return number
        number = max(number * 2, int(number * min_time / max(total, 1e-9) * 1.1) + 1)


def warm_page_cache(paths: Iterable, chunk: int = 1 << 24) -> None:
    """Read the files once (in chunks, nothing kept) so the OS caches them."""
    for path in paths:
        with open(path, "rb", buffering=0) as f:
            while f.read(chunk):
                pass


def can_drop_page_cache() -> bool:
    return hasattr(os, "posix_fadvise") and hasattr(os, "POSIX_FADV_DONTNEED")


def drop_page_cache(paths: Iterable) -> None:
    """Evict these files (only) from the page cache: the next read comes from
    the disk (or the host's cache under a VM). Needs ``os.posix_fadvise``."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def filesystem_type(path) -> str | None:
    """The type of the file system holding ``path`` (Linux: from /proc/mounts)."""
    try:
        with open("/proc/mounts") as f:
            mounts = [line.split()[1:3] for line in f]
    except OSError:
        return None
    path = os.path.realpath(path)
    best = None
    for point, kind in mounts:
        point = point.replace("\\040", " ")
        if (path == point or path.startswith(point.rstrip("/") + "/")) and \
                (best is None or len(point) > len(best[0])):
            best = (point, kind)
    return best[1] if best else None


def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:7.2f} {unit}"
    return f"{seconds / 1e-9:7.1f} ns"


def machine() -> dict:
    """The machine a run was made on."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count()
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"python": platform.python_version(), "platform": platform.platform(),
            "machine": platform.machine(), "cpu": model, "cpu_count": os.cpu_count(),
            "usable_cpus": cpus,
            "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
