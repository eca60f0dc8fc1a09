"""DICOM metadata as a Dask DataFrame (needs the ``dask`` extra:
``pip install "fastdicom[arrow,dask]"``).

>>> import fastdicom.dask
>>> ddf = fastdicom.dask.read_metadata("/data/dicom/**/*.dcm", files_per_partition=2000)
>>> ddf.groupby("SeriesInstanceUID").size().compute()

Each partition is :func:`fastdicom.ingest.scan` of ``files_per_partition``
files (the same columns, values and error rows), as a pandas DataFrame whose
columns keep their Arrow types (``pd.ArrowDtype``: the dtypes never depend
on the values, so every partition matches ``meta``); the index runs on across
partitions (row ``k`` of the listing has index ``k``).

The file listing is made when ``read_metadata`` is called (directories walked
in name order, so the partitions are the same from run to run); the files
are read when the graph is computed, by whichever workers run it.
"""
from __future__ import annotations

from typing import Any

from fastdicom.ingest import make_plan, to_pandas
from fastdicom._ingest_batch import plan_schema, scan_chunk
from fastdicom._ingest_files import iter_files
from fastdicom._ingest_spec import Plan

__all__ = ["read_metadata", "meta_frame", "DEFAULT_FILES_PER_PARTITION"]

DEFAULT_FILES_PER_PARTITION = 1000


class _ReadPartition:
    """The partition function: (first row number, paths) -> pandas DataFrame."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def __call__(self, part: tuple) -> Any:
        import pandas as pd

        start, paths = part
        df = to_pandas(scan_chunk(list(paths), self.plan))
        df.index = pd.RangeIndex(start, start + len(df))
        return df

    def __dask_tokenize__(self) -> Any:
        return ("fastdicom-read-metadata", repr(self.plan))


def meta_frame(tags: Any = None) -> Any:
    """The empty pandas DataFrame every partition of :func:`read_metadata` of
    ``tags`` looks like."""
    return to_pandas(plan_schema(make_plan(tags)).empty_table())


def read_metadata(paths_or_glob: Any, tags: Any = None, *,
                  files_per_partition: int = DEFAULT_FILES_PER_PARTITION,
                  recursive: bool = True, stop_before_pixels: bool = True,
                  force: bool = False, sort: bool = True, follow_symlinks: bool = False) -> Any:
    """A ``dask.dataframe.DataFrame`` of the metadata of DICOM files, built
    with ``dd.from_map`` and an explicit ``meta``.

    ``paths_or_glob``: a directory, a file, a glob pattern (``**`` recursive)
    or a list of them; ``tags`` as in :func:`fastdicom.ingest.scan` (default
    :data:`fastdicom.ingest.DEFAULT_TAGS`). ``sort`` lists each directory in
    name order (reproducible partitions). Unreadable files are rows with
    ``error`` set, as in a scan.
    """
    import dask.dataframe as dd

    if files_per_partition < 1:
        raise ValueError("files_per_partition must be at least 1")
    plan = make_plan(tags, stop_before_pixels, force)
    files = list(iter_files(paths_or_glob, recursive, sort=sort, follow_symlinks=follow_symlinks))
    parts = [(i, tuple(files[i:i + files_per_partition]))
             for i in range(0, len(files), files_per_partition)] or [(0, ())]
    meta = to_pandas(plan_schema(plan).empty_table())
    return dd.from_map(_ReadPartition(plan), parts, meta=meta, label="read-dicom-metadata",
                       enforce_metadata=False)
