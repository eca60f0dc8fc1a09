"""fastdicom.dask.read_metadata: a Dask DataFrame built with dd.from_map and an
explicit meta, computed on a dask.distributed LocalCluster (threads, one
worker, to stay light), equal to fastdicom.ingest.scan."""
from __future__ import annotations

import os
import warnings

import pytest

pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from corpus import CORPUS  # noqa: E402

import fastdicom.dask as fdask  # noqa: E402
from fastdicom import ingest, sample  # noqa: E402

TAGS = ["PatientID", "PatientName", "StudyDate", "StudyTime", "InstanceNumber",
        "ImagePositionPatient", "Rows", "AcquisitionDateTime",
        "ReferencedImageSequence[0].ReferencedSOPInstanceUID"]


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                           dashboard_address=None)
        c = distributed.Client(cluster)
        try:
            yield c
        finally:
            c.close()
            cluster.close()


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("dask-sample")
    sample.generate(d, series=3, slices=5)
    with open(d / "not-dicom.txt", "w") as f:
        f.write("hello")
    return str(d)


def _sorted(df):
    return df.sort_values("path").reset_index(drop=True)


def test_same_rows_as_scan(client, sample_dir):
    ddf = fdask.read_metadata(sample_dir, TAGS, files_per_partition=4)
    assert ddf.npartitions == 4  # 16 files
    assert list(ddf.columns) == ingest.schema(TAGS).names
    got = ddf.compute()
    assert list(got.index) == list(range(16))
    want = ingest.scan_pandas(sample_dir, TAGS)
    pd.testing.assert_frame_equal(_sorted(got), _sorted(want))
    assert (got.dtypes == ddf._meta.dtypes).all()
    assert got["error"].notna().sum() == 1


def test_meta_is_explicit_and_typed(sample_dir):
    ddf = fdask.read_metadata(sample_dir, TAGS, files_per_partition=100)
    meta = fdask.meta_frame(TAGS)
    assert len(meta) == 0
    pd.testing.assert_frame_equal(ddf._meta, meta)
    assert str(meta["InstanceNumber"].dtype) == "int64[pyarrow]"
    assert str(meta["StudyDate"].dtype) == "date32[day][pyarrow]"
    assert str(meta["ImagePositionPatient"].dtype).startswith("list<item: double>")


def test_glob_and_aggregation(client, sample_dir):
    ddf = fdask.read_metadata(os.path.join(sample_dir, "**", "*.dcm"), ["SeriesInstanceUID"],
                              files_per_partition=5)
    counts = ddf.groupby("SeriesInstanceUID").size().compute()
    assert sorted(counts.tolist()) == [5, 5, 5]


def test_corpus_partitions_equal_scan(client):
    files = CORPUS[:60]
    ddf = fdask.read_metadata(files, None, files_per_partition=16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = ddf.compute()
        want = ingest.scan_pandas(files)
    pd.testing.assert_frame_equal(_sorted(got), _sorted(want))


def test_empty_listing(client, tmp_path):
    ddf = fdask.read_metadata(str(tmp_path), TAGS)
    assert ddf.npartitions == 1
    assert len(ddf.compute()) == 0
    with pytest.raises(ValueError):
        fdask.read_metadata(str(tmp_path), files_per_partition=0)
