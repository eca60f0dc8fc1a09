"""pytest configuration for the benchmark suites under benchmarks/.

Provides the session-scoped ``corpus_bytes`` fixture ({kind: [file bytes]},
loaded into memory once) and a terminal summary of per-file medians and
pydicom/fastdicom ratios, which pytest-benchmark's own table (per pass over
all files of a kind) does not show.

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
def corpus_bytes() -> dict[str, list[bytes]]:
    out = os.environ.get("FASTDICOM_BENCH_CORPUS", str(DEFAULT_DIR))
    ct = int(os.environ.get("FASTDICOM_BENCH_CT", "400"))
    mr = int(os.environ.get("FASTDICOM_BENCH_MR", "4"))
    return {kind: load_bytes(paths) for kind, paths in ensure_corpus(out, ct, mr).items()}


@pytest.fixture
def run_per_file(request, benchmark, corpus_bytes):
    """Benchmark ``fn`` as one pass over all files of ``kind``; record per-file stats.

    Usage in a test: ``run_per_file(kind, lib, fn, group="walk")`` where ``lib``
    is "fastdicom" or "pydicom" (used to pair rows in the summary) and the
    pytest-benchmark group becomes ``"{group}:{kind}"``.
    """
    def run(kind: str, lib: str, fn, group: str = "walk") -> None:
        files = corpus_bytes[kind]
        if not files:
            pytest.skip(f"no {kind} files in the corpus")
        benchmark.group = f"{group}:{kind}"

        def one_pass():
            for data in files:
                fn(data)

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
            (kind, lib, fn.__name__, len(files), per_file, nbytes))

    return run


def pytest_terminal_summary(terminalreporter, config):
    results = config.stash.get(_RESULTS_KEY, [])
    if not results:
        return
    order = {kind: i for i, kind in enumerate(KINDS)}
    results = sorted(results, key=lambda r: (order.get(r[0], len(order)), r[1] != "fastdicom"))
    tr = terminalreporter
    tr.section("per-file medians (pass time / files)")
    best_fast = {}
    for kind, lib, _name, _n, per_file, _b in results:
        if lib == "fastdicom":
            best_fast[kind] = min(best_fast.get(kind, per_file), per_file)
    tr.write_line(f"{'kind':13s} {'function':28s} {'files':>5s} {'per file':>12s} "
                  f"{'MB/s hdr':>9s} {'vs fastest fastdicom':>21s}")
    for kind, lib, name, n, per_file, nbytes in results:
        ratio = per_file / best_fast[kind] if kind in best_fast else float("nan")
        tr.write_line(f"{kind:13s} {name:28s} {n:5d} {per_file * 1e6:9.2f} us "
                      f"{nbytes / per_file / 1e6:9.1f} {ratio:20.1f}x")
