"""pytest configuration for the benchmark suites under benchmarks/.

Provides the session-scoped ``corpus_paths`` ({kind: [str path]}) and
``corpus_bytes`` ({kind: [file bytes]}, loaded into memory once, which also
warms the page cache for path workloads) fixtures, and a terminal summary of
per-file medians and ratios against the fastest fastdicom function of the same
group and kind, which pytest-benchmark's own table (per pass over all files of
a kind) does not show.

Corpus location and size come from the environment:

* ``FASTDICOM_BENCH_CORPUS``: directory (default ``benchmarks/corpus``)
* ``FASTDICOM_BENCH_CT`` / ``FASTDICOM_BENCH_MR``: file counts (default 400 / 4)
"""
from __future__ import annotations

import os

import pytest

from benchmarks.corpus import DEFAULT_DIR, KINDS, ensure_corpus, header_length, load_bytes

_RESULTS_KEY = pytest.StashKey[list]()


@pytest.fixture(scope="session")
def corpus_paths() -> dict[str, list[str]]:
    out = os.environ.get("FASTDICOM_BENCH_CORPUS", str(DEFAULT_DIR))
    ct = int(os.environ.get("FASTDICOM_BENCH_CT", "400"))
    mr = int(os.environ.get("FASTDICOM_BENCH_MR", "4"))
    return {kind: [str(p) for p in paths] for kind, paths in ensure_corpus(out, ct, mr).items()}


@pytest.fixture(scope="session")
def corpus_bytes(corpus_paths) -> dict[str, list[bytes]]:
    return {kind: load_bytes(paths) for kind, paths in corpus_paths.items()}


@pytest.fixture
def run_per_file(request, benchmark, corpus_bytes, corpus_paths):
    """Benchmark ``fn`` as one pass over all files of ``kind``; record per-file stats.

    Usage in a test: ``run_per_file(kind, lib, fn, group="walk")`` where ``lib``
    is "fastdicom", "pydicom" or "dicomsdl" (fastdicom rows are the reference
    of the summary's ratios) and the pytest-benchmark group becomes
    ``"{group}:{kind}"``. With ``inputs="path"`` ``fn`` gets each file's path
    (str) instead of its bytes, so opening the file is part of the timing.
    """
    def run(kind: str, lib: str, fn, group: str = "walk", inputs: str = "bytes") -> None:
        files = corpus_bytes[kind]
        if not files:
            pytest.skip(f"no {kind} files in the corpus")
        args = corpus_paths[kind] if inputs == "path" else files
        benchmark.group = f"{group}:{kind}"

        def one_pass():
            for arg in args:
                fn(arg)

        benchmark(one_pass)
        stats = getattr(benchmark, "stats", None)
        if stats is None:  # --benchmark-disable: ran once, nothing measured
            return
        per_file = stats.stats.median / len(files)
        nbytes = sum(header_length(d) for d in files) / len(files)
        benchmark.extra_info.update(files=len(files), per_file_median_s=per_file,
                                    header_bytes_per_file=nbytes,
                                    mb_per_s=nbytes / per_file / 1e6)
        request.config.stash.setdefault(_RESULTS_KEY, []).append(
            (group, kind, lib, fn.__name__, len(files), per_file, nbytes))

    return run


def pytest_terminal_summary(terminalreporter, config):
    results = config.stash.get(_RESULTS_KEY, [])
    if not results:
        return
    order = {kind: i for i, kind in enumerate(KINDS)}
    libs = {"fastdicom": 0, "pydicom": 1, "dicomsdl": 2}
    results = sorted(results, key=lambda r: (r[0], order.get(r[1], len(order)),
                                             libs.get(r[2], len(libs))))
    tr = terminalreporter
    tr.section("per-file medians (pass time / files)")
    best_fast = {}
    for group, kind, lib, _name, _n, per_file, _b in results:
        if lib == "fastdicom":
            key = (group, kind)
            best_fast[key] = min(best_fast.get(key, per_file), per_file)
    tr.write_line(f"{'group':8s} {'kind':13s} {'function':28s} {'files':>5s} {'per file':>12s} "
                  f"{'MB/s hdr':>9s} {'vs fastest fastdicom':>21s}")
    for group, kind, lib, name, n, per_file, nbytes in results:
        best = best_fast.get((group, kind))
        ratio = per_file / best if best else float("nan")
        tr.write_line(f"{group:8s} {kind:13s} {name:28s} {n:5d} {per_file * 1e6:9.2f} us "
                      f"{nbytes / per_file / 1e6:9.1f} {ratio:20.1f}x")
