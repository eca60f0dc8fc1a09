"""pytest-benchmark suite: writing (issue "Writing").

Run (full corpus: 400 CT slices, 4 Enhanced MR files, generated on first use)::

    python -m pytest benchmarks/bench_write.py --benchmark-only

Small/quick run::

    FASTDICOM_BENCH_CORPUS=benchmarks/corpus_quick FASTDICOM_BENCH_CT=4 \\
    FASTDICOM_BENCH_MR=2 python -m pytest benchmarks/bench_write.py \\
        --benchmark-only --benchmark-min-rounds=3 --benchmark-max-time=0.1

The same workloads as the ``write-ct`` and ``convert-mr`` rows of
``python -m benchmarks.compare`` (functions in benchmarks/writers.py); each
round is one pass over all files of a kind, grouped "write-ct:ct",
"write-only:ct", "to-implicit:<kind>" and "to-big:<kind>". The terminal summary
(benchmarks/conftest.py) shows per-file medians and each function's time over
the fastest fastdicom one of its group, i.e. the pydicom/fastdicom ratio.
Target: write-ct >= 10x vs pydicom (pytest-benchmark runs the functions one
after the other, not interleaved: prefer compare.py for ratios).

* write-ct: dcmread(bytes), Patient's Name changed, dcmwrite to a BytesIO;
  write-only: the dcmwrite alone, of datasets read and edited beforehand.
* to-implicit / to-big: dcmread(bytes), the file meta's Transfer Syntax UID
  set to implicit VR LE / explicit VR BE, dcmwrite to a BytesIO (pydicom does
  not byte-swap binary values and Pixel Data to big endian; fastdicom does).
"""
from __future__ import annotations

import pytest

from benchmarks import writers

MR_KINDS = ("mr_defined", "mr_undefined")
mr_kinds = pytest.mark.parametrize("kind", MR_KINDS)


# --------------------------------------------------------------------------- write-ct
def test_write_ct_fastdicom(run_per_file):
    run_per_file("ct", "fastdicom", writers.fastdicom_write_ct, group="write-ct")


def test_write_ct_pydicom(run_per_file):
    run_per_file("ct", "pydicom", writers.pydicom_write_ct, group="write-ct")


def test_write_only_ct_fastdicom(run_per_file):
    run_per_file("ct", "fastdicom", writers.fastdicom_write_only_ct, group="write-only")


def test_write_only_ct_pydicom(run_per_file):
    run_per_file("ct", "pydicom", writers.pydicom_write_only_ct, group="write-only")
    writers.clear_cache()


def test_write_ct_outputs_agree(corpus_bytes):
    """Sanity check (not a benchmark): both tools write the same bytes."""
    assert writers.check_write_ct(corpus_bytes["ct"], limit=5) > 0


# --------------------------------------------------------------------------- convert-mr
@mr_kinds
def test_to_implicit_fastdicom(run_per_file, kind):
    run_per_file(kind, "fastdicom", writers.fastdicom_convert_to_implicit, group="to-implicit")


@mr_kinds
def test_to_implicit_pydicom(run_per_file, kind):
    run_per_file(kind, "pydicom", writers.pydicom_convert_to_implicit, group="to-implicit")


@mr_kinds
def test_to_big_fastdicom(run_per_file, kind):
    run_per_file(kind, "fastdicom", writers.fastdicom_convert_to_big, group="to-big")


@mr_kinds
def test_to_big_pydicom(run_per_file, kind):
    run_per_file(kind, "pydicom", writers.pydicom_convert_to_big, group="to-big")


@mr_kinds
def test_convert_outputs_agree(corpus_bytes, kind):
    """Sanity check (not a benchmark): outputs agree (see writers.check_convert_mr)."""
    if not corpus_bytes[kind]:
        pytest.skip(f"no {kind} files in the corpus")
    assert writers.check_convert_mr(corpus_bytes[kind]) == 1
