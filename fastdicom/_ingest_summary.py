"""Study and series summaries of a scan table (see :mod:`fastdicom.ingest`).

Both take the table :func:`fastdicom.ingest.scan` returns (any tag set that
includes ``StudyInstanceUID``, and ``SeriesInstanceUID`` for series; the other
columns are used when present) and leave out error rows and rows without the
grouping UID.
"""
from __future__ import annotations

from typing import Any

__all__ = ["series_summary", "study_summary", "slice_spacing"]

# columns copied from the first row of a group that has a value, when present
_SERIES_FIRST = ("PatientID", "StudyInstanceUID", "Modality", "SeriesNumber", "SeriesDescription",
                 "BodyPartExamined", "FrameOfReferenceUID")
_STUDY_FIRST = ("PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyDate",
                "StudyTime", "StudyDescription", "AccessionNumber", "StudyID")
_POS_TOL = 1e-4  # mm: positions closer than this are the same slice position


def _column(table: Any, name: str) -> Any:
    col = table.column(name)
    return col.combine_chunks() if hasattr(col, "combine_chunks") else col


def _valid_rows(table: Any, key: str) -> Any:
    import pyarrow.compute as pc

    mask = pc.is_valid(table.column(key))
    if "error" in table.column_names:
        mask = pc.and_(mask, pc.is_null(table.column("error")))
    return table.filter(mask)


def _groups(keys: Any) -> tuple[list, list]:
    """(distinct keys in sorted order, numpy row indices per key)."""
    import numpy as np
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(keys)
    codes = enc.indices.to_numpy(zero_copy_only=False)
    names = enc.dictionary.to_pylist()
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    parts = np.split(order, bounds) if len(order) else []
    by_code = {int(codes[p[0]]): p for p in parts}
    ranked = sorted(by_code, key=lambda c: names[c])
    return [names[c] for c in ranked], [by_code[c] for c in ranked]


def _fixed(col: Any, k: int) -> Any:
    """A list<float64> column as an (n, k) float array; rows without exactly k
    numbers are NaN."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(col)
    out = np.full((n, k), np.nan)
    if n == 0:
        return out
    if not pa.types.is_list(col.type):
        return out
    lens = pc.fill_null(pc.list_value_length(col), 0).to_numpy(zero_copy_only=False)
    offs = col.offsets.to_numpy(zero_copy_only=False)
    vals = pc.fill_null(pc.cast(col.values, pa.float64()), float("nan")).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero((lens == k) & col.is_valid().to_numpy(zero_copy_only=False))
    if len(rows):
        idx = offs[rows][:, None] + np.arange(k)[None, :]
        out[rows] = vals[idx]
    return out


def _numbers(col: Any) -> Any:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
        return np.full(len(col), np.nan)
    return pc.fill_null(pc.cast(col, pa.float64()), float("nan")).to_numpy(zero_copy_only=False)


def slice_spacing(positions: Any, orientation: Any = None, locations: Any = None) -> float | None:
    """Median distance between consecutive distinct slice positions.

    ``positions``: (n, 3) Image Position (Patient) values (NaN rows ignored),
    projected on the slice normal (the cross product of the two direction
    cosines of ``orientation``, six numbers); without usable positions or
    orientation, ``locations`` (Slice Location values) are used. ``None``
    when fewer than two distinct positions are known."""
    import numpy as np

    proj = None
    if positions is not None and orientation is not None:
        iop = np.asarray(orientation, dtype=float)
        pos = np.asarray(positions, dtype=float).reshape(-1, 3)
        pos = pos[~np.isnan(pos).any(axis=1)]
        if iop.shape == (6,) and not np.isnan(iop).any() and len(pos) >= 2:
            normal = np.cross(iop[:3], iop[3:])
            norm = np.linalg.norm(normal)
            if norm > 1e-6:
                proj = pos @ (normal / norm)
    if proj is None and locations is not None:
        loc = np.asarray(locations, dtype=float)
        proj = loc[~np.isnan(loc)]
    if proj is None or len(proj) < 2:
        return None
    proj = np.sort(proj)
    steps = np.diff(proj)
    steps = steps[steps > _POS_TOL]
    if not len(steps):
        return None
    return float(np.median(steps))


def _first_values(table: Any, names: tuple, groups: list) -> dict:
    """{column: [first non-null value per group]} for the columns present."""
    import numpy as np

    out = {}
    for name in names:
        if name not in table.column_names:
            continue
        col = _column(table, name)
        valid = col.is_valid().to_numpy(zero_copy_only=False)
        picks = []
        for rows in groups:
            hit = rows[valid[rows]]
            picks.append(int(hit.min()) if len(hit) else -1)
        idx = np.array(picks, dtype=np.int64)
        taken = col.take(np.where(idx >= 0, idx, 0)) if len(col) else col
        out[name] = (taken, idx >= 0)
    return out


def _finish(first: dict) -> dict:
    import pyarrow as pa
    import pyarrow.compute as pc

    cols = {}
    for name, (arr, ok) in first.items():
        cols[name] = pc.if_else(pa.array(ok, pa.bool_()), arr, pa.scalar(None, arr.type))
    return cols


def series_summary(table: Any) -> Any:
    """One row per series (``pyarrow.Table``, sorted by study and series UID):
    ``StudyInstanceUID``, ``SeriesInstanceUID``, and from the first file that has
    them ``PatientID``, ``Modality``, ``SeriesNumber``, ``SeriesDescription``,
    ``BodyPartExamined``, ``FrameOfReferenceUID`` (those scanned); ``count``
    (files), ``instances`` (distinct SOP Instance UIDs, if scanned),
    ``instance_number_min`` / ``_max``, ``instance_numbers`` (sorted, nulls
    left out), ``slice_spacing`` (median distance between consecutive distinct
    slice positions along the slice normal: Image Position (Patient) projected
    on the cross product of the Image Orientation (Patient) direction cosines
    (the most common orientation of the series), else Slice Location
    differences; null with fewer than two positions) and ``total_bytes``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    for need in ("StudyInstanceUID", "SeriesInstanceUID"):
        if need not in table.column_names:
            raise ValueError(f"series_summary needs the {need} column")
    t = _valid_rows(table, "SeriesInstanceUID")
    keys, groups = _groups(_column(t, "SeriesInstanceUID"))
    first = _finish(_first_values(t, _SERIES_FIRST, groups))
    n = len(keys)
    inst = _numbers(_column(t, "InstanceNumber")) if "InstanceNumber" in t.column_names else None
    size = _numbers(_column(t, "size")) if "size" in t.column_names else None
    pos = _fixed(_column(t, "ImagePositionPatient"), 3) \
        if "ImagePositionPatient" in t.column_names else None
    iop = _fixed(_column(t, "ImageOrientationPatient"), 6) \
        if "ImageOrientationPatient" in t.column_names else None
    loc = _numbers(_column(t, "SliceLocation")) if "SliceLocation" in t.column_names else None
    sop = _column(t, "SOPInstanceUID") if "SOPInstanceUID" in t.column_names else None
    counts, inst_lists, inst_min, inst_max, spacing, total, n_sop = [], [], [], [], [], [], []
    for rows in groups:
        counts.append(len(rows))
        if inst is not None:
            v = inst[rows]
            v = np.sort(v[~np.isnan(v)]).astype(np.int64)
            inst_lists.append(v.tolist())
            inst_min.append(int(v[0]) if len(v) else None)
            inst_max.append(int(v[-1]) if len(v) else None)
        else:
            inst_lists.append([])
            inst_min.append(None)
            inst_max.append(None)
        orient = None
        if iop is not None:
            o = iop[rows]
            o = o[~np.isnan(o).any(axis=1)]
            if len(o):
                uniq, freq = np.unique(np.round(o, 4), axis=0, return_counts=True)
                orient = uniq[np.argmax(freq)]
        spacing.append(slice_spacing(pos[rows] if pos is not None else None, orient,
                                     loc[rows] if loc is not None else None))
        total.append(int(np.nansum(size[rows])) if size is not None else None)
        if sop is not None:
            n_sop.append(len(pc.unique(sop.take(pa.array(rows)).drop_null())))
    data = {"StudyInstanceUID": first.pop("StudyInstanceUID"),
            "SeriesInstanceUID": pa.array(keys, pa.string())}
    for name in ("PatientID", "Modality", "SeriesNumber", "SeriesDescription",
                 "BodyPartExamined", "FrameOfReferenceUID"):
        if name in first:
            data[name] = first.pop(name)
    data["count"] = pa.array(counts, pa.int64())
    if sop is not None:
        data["instances"] = pa.array(n_sop, pa.int64())
    data["instance_number_min"] = pa.array(inst_min, pa.int64())
    data["instance_number_max"] = pa.array(inst_max, pa.int64())
    data["instance_numbers"] = pa.array(inst_lists, pa.list_(pa.int64()))
    data["slice_spacing"] = pa.array(spacing, pa.float64())
    data["total_bytes"] = pa.array(total, pa.int64())
    out = pa.table(data) if n else _empty_like(data)
    return out.sort_by([("StudyInstanceUID", "ascending"), ("SeriesInstanceUID", "ascending")])


def _empty_like(data: dict) -> Any:
    import pyarrow as pa

    return pa.table({k: pa.array([], v.type) for k, v in data.items()})


def study_summary(table: Any) -> Any:
    """One row per study (``pyarrow.Table``, sorted by Study Instance UID):
    ``StudyInstanceUID``, from the first file that has them ``PatientID``,
    ``PatientName``, ``PatientBirthDate``, ``PatientSex``, ``StudyDate``,
    ``StudyTime``, ``StudyDescription``, ``AccessionNumber``, ``StudyID`` (those
    scanned); ``modalities`` (sorted distinct Modality values), ``series``
    (distinct Series Instance UIDs), ``count`` (files) and ``total_bytes``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if "StudyInstanceUID" not in table.column_names:
        raise ValueError("study_summary needs the StudyInstanceUID column")
    t = _valid_rows(table, "StudyInstanceUID")
    keys, groups = _groups(_column(t, "StudyInstanceUID"))
    first = _finish(_first_values(t, _STUDY_FIRST, groups))
    mod = _column(t, "Modality") if "Modality" in t.column_names else None
    ser = _column(t, "SeriesInstanceUID") if "SeriesInstanceUID" in t.column_names else None
    size = _numbers(_column(t, "size")) if "size" in t.column_names else None
    modalities, series, counts, total = [], [], [], []
    for rows in groups:
        idx = pa.array(rows)
        counts.append(len(rows))
        if mod is not None:
            modalities.append(sorted(v for v in pc.unique(mod.take(idx)).to_pylist() if v))
        if ser is not None:
            series.append(len(pc.unique(ser.take(idx)).drop_null()))
        total.append(int(np.nansum(size[rows])) if size is not None else None)
    data = {"StudyInstanceUID": pa.array(keys, pa.string())}
    data.update(first)
    if mod is not None:
        data["modalities"] = pa.array(modalities, pa.list_(pa.string()))
    if ser is not None:
        data["series"] = pa.array(series, pa.int64())
    data["count"] = pa.array(counts, pa.int64())
    data["total_bytes"] = pa.array(total, pa.int64())
    out = pa.table(data) if keys else _empty_like(data)
    return out.sort_by([("StudyInstanceUID", "ascending")])
