"""pytest-benchmark suite: dataset-layer workloads (issue "Datasets").

Run (full corpus: 400 CT slices, 4 Enhanced MR files, generated on first use)::

    python -m pytest benchmarks/bench_dataset.py --benchmark-only

Small/quick run::

    FASTDICOM_BENCH_CORPUS=benchmarks/corpus_quick FASTDICOM_BENCH_CT=4 \\
    FASTDICOM_BENCH_MR=2 python -m pytest benchmarks/bench_dataset.py \\
        --benchmark-only --benchmark-min-rounds=3 --benchmark-max-time=0.1

The same workloads as the ``ct10`` and ``mr-walk`` rows of
``python -m benchmarks.compare`` (functions in benchmarks/datasets.py); each
round is one pass over all files of a kind, grouped "ct10:ct" and
"mr-walk:<kind>". The terminal summary (benchmarks/conftest.py) shows per-file
medians and each function's time over the fastest fastdicom one of its group,
i.e. the pydicom/fastdicom and dicomsdl/fastdicom ratios. Targets: ct10 >= 50x
vs pydicom and >= 5x vs dicomsdl, mr-walk >= 20x vs pydicom (compare.py shows
them next to the measured ratios; pytest-benchmark runs the functions one after
the other, not interleaved, so prefer compare.py for ratios).

* ct10: open a CT slice by path (file open included; page cache warm), parse,
  read 10 attributes: fastdicom ``dcmread(path, stop_before_pixels=True)`` and
  ``dcmread(path)``, pydicom ``dcmread(path, stop_before_pixels=True)``,
  dicomsdl ``open(path)`` (skipped when dicomsdl is not installed).
* mr-walk: ``dcmread`` of in-memory bytes and every element's ``.value`` at
  every depth (fastdicom recursive iteration, pydicom ``Dataset.walk``).
"""
from __future__ import annotations

import pytest

from benchmarks import datasets

MR_KINDS = ("mr_defined", "mr_undefined")
mr_kinds = pytest.mark.parametrize("kind", MR_KINDS)


# --------------------------------------------------------------------------- ct10
def test_ct10_fastdicom(run_per_file):
    run_per_file("ct", "fastdicom", datasets.fastdicom_ct10, group="ct10", inputs="path")


def test_ct10_fastdicom_full(run_per_file):
    run_per_file("ct", "fastdicom", datasets.fastdicom_ct10_full, group="ct10", inputs="path")


def test_ct10_pydicom(run_per_file):
    run_per_file("ct", "pydicom", datasets.pydicom_ct10, group="ct10", inputs="path")


@pytest.mark.skipif(datasets.dicomsdl_ct10 is None, reason="dicomsdl is not installed")
def test_ct10_dicomsdl(run_per_file):
    run_per_file("ct", "dicomsdl", datasets.dicomsdl_ct10, group="ct10", inputs="path")


def test_ct10_values_agree(corpus_paths):
    """Sanity check (not a benchmark): the ten values agree across the tools."""
    assert datasets.check_ct10(corpus_paths["ct"][:20]) > 0


# --------------------------------------------------------------------------- mr-walk
@mr_kinds
def test_mr_walk_fastdicom(run_per_file, kind):
    run_per_file(kind, "fastdicom", datasets.fastdicom_walk, group="mr-walk")


@mr_kinds
def test_mr_walk_pydicom(run_per_file, kind):
    run_per_file(kind, "pydicom", datasets.pydicom_walk, group="mr-walk")


@mr_kinds
def test_mr_walk_values_agree(corpus_bytes, kind):
    """Sanity check (not a benchmark): same elements and values at every depth."""
    if not corpus_bytes[kind]:
        pytest.skip(f"no {kind} files in the corpus")
    assert datasets.check_walk(corpus_bytes[kind]) == 1
