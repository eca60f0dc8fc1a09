"""pytest-benchmark suite: fastdicom tokenizer vs pydicom element walks.

Run (full corpus: 400 CT slices, 4 Enhanced MR files, generated on first use)::

    python -m pytest benchmarks/bench_tokenizer.py --benchmark-only

Small/quick run::

    FASTDICOM_BENCH_CORPUS=benchmarks/corpus_quick FASTDICOM_BENCH_CT=4 \\
    FASTDICOM_BENCH_MR=2 python -m pytest benchmarks/bench_tokenizer.py \\
        --benchmark-only --benchmark-min-rounds=3 --benchmark-max-time=0.1

Each benchmark round is one pass over all in-memory files of a kind ("ct",
"mr_defined", "mr_undefined"); results are grouped per kind ("walk:<kind>")
so fastdicom and pydicom appear side by side. The terminal summary added by
benchmarks/conftest.py shows per-file medians and ratios; per-file numbers are
also stored in each benchmark's ``extra_info`` (``--benchmark-json``).

Functions compared (see benchmarks/walkers.py):

* fastdicom ``tokenize`` from offset 132 up to Pixel Data: the whole element
  tree, nested sequences included, as a flat record table;
* the same plus a value memoryview per record fetched from Python;
* pydicom ``dcmread(stop_before_pixels=True)`` + ``Dataset.walk`` touching
  every element's ``.value`` at every depth;
* pydicom ``filereader.data_element_generator`` (top-level elements only;
  undefined-length sequences get parsed, defined-length ones stay raw bytes).
"""
from __future__ import annotations

import pytest

from benchmarks import walkers
from benchmarks.corpus import KINDS

kinds = pytest.mark.parametrize("kind", KINDS)


@kinds
def test_fastdicom_tokenize(run_per_file, kind):
    run_per_file(kind, "fastdicom", walkers.fastdicom_tokenize)


@kinds
def test_fastdicom_tokenize_values(run_per_file, kind):
    run_per_file(kind, "fastdicom", walkers.fastdicom_tokenize_values)


@kinds
def test_pydicom_dcmread_walk(run_per_file, kind):
    run_per_file(kind, "pydicom", walkers.pydicom_dcmread_walk)


@kinds
def test_pydicom_element_generator(run_per_file, kind):
    run_per_file(kind, "pydicom", walkers.pydicom_element_generator)


@kinds
def test_walk_counts_agree(corpus_bytes, kind):
    """Sanity check (not a benchmark): both libraries see the same top level."""
    for data in corpus_bytes[kind][:2]:
        assert walkers.fastdicom_top_level_count(data) == \
            walkers.pydicom_element_generator(data)
