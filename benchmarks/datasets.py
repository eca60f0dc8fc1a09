"""Per-file dataset-layer workloads shared by compare.py and bench_dataset.py.

Issue "Datasets": what a user of the dataset API pays, fastdicom vs pydicom
(and dicomsdl when it is installed).

``ct10`` (one CT slice, by *path*)
    Open the file from disk, parse it and read ten attributes by keyword:
    PatientID, StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID, Modality,
    Rows, Columns, InstanceNumber, ImagePositionPatient, PixelSpacing. File open
    is part of the work (the functions take a path); the files were read just
    before timing, so the OS page cache is warm and no disk I/O is measured.

    * ``fastdicom_ct10``: ``fastdicom.dcmread(path, stop_before_pixels=True)``
    * ``fastdicom_ct10_full``: ``fastdicom.dcmread(path)`` (pixels not skipped)
    * ``pydicom_ct10``: ``pydicom.dcmread(path, stop_before_pixels=True)``
    * ``dicomsdl_ct10``: ``dicomsdl.open(path)`` (``None`` if dicomsdl is missing)

``mr-walk`` (one Enhanced-MR-like file, from in-memory *bytes*)
    Parse the whole file and convert every element value at every depth.

    * ``fastdicom_walk``: ``fastdicom.dcmread(data)``, then a recursive
      ``for elem in ds: elem.value`` descending into the items of every SQ.
    * ``pydicom_walk``: ``pydicom.dcmread(BytesIO(data))`` then ``ds.walk``
      with a callback touching ``elem.value``.

    Neither side reads stop_before_pixels, so both include Pixel Data (and
    convert its value); neither visits the file meta group (``for elem in ds``
    and ``Dataset.walk`` both cover the dataset only).

Every function returns something small derived from the work (the ten values,
an element count) so results can be cross-checked: :func:`check_ct10` and
:func:`check_walk` raise :class:`Mismatch` when the tools disagree.
"""
from __future__ import annotations

import math
from io import BytesIO

import fastdicom
import pydicom

try:  # optional third tool
    import dicomsdl
except ImportError:  # pragma: no cover - depends on the environment
    dicomsdl = None

CT10_KEYWORDS = (
    "PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "Modality",
    "Rows", "Columns", "InstanceNumber", "ImagePositionPatient", "PixelSpacing",
)

#: Ratio targets of the issue (other tool's time / fastdicom's time).
CT10_TARGET_PYDICOM = 50.0
CT10_TARGET_DICOMSDL = 5.0
WALK_TARGET_PYDICOM = 20.0


class Mismatch(AssertionError):
    """The tools disagree on a value: the timings would compare different work."""


# --------------------------------------------------------------------------- ct10
# Attributes are read one by one with plain attribute access (as user code
# would); every function has the same body apart from the open call.
def fastdicom_ct10(path: str) -> tuple:
    """fastdicom: dcmread(path, stop_before_pixels=True) + 10 attributes."""
    ds = fastdicom.dcmread(path, stop_before_pixels=True)
    return (ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID,
            ds.Modality, ds.Rows, ds.Columns, ds.InstanceNumber, ds.ImagePositionPatient,
            ds.PixelSpacing)


def fastdicom_ct10_full(path: str) -> tuple:
    """fastdicom: dcmread(path) (Pixel Data not skipped) + 10 attributes."""
    ds = fastdicom.dcmread(path)
    return (ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID,
            ds.Modality, ds.Rows, ds.Columns, ds.InstanceNumber, ds.ImagePositionPatient,
            ds.PixelSpacing)


def pydicom_ct10(path: str) -> tuple:
    """pydicom: dcmread(path, stop_before_pixels=True) + 10 attributes."""
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    return (ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID,
            ds.Modality, ds.Rows, ds.Columns, ds.InstanceNumber, ds.ImagePositionPatient,
            ds.PixelSpacing)


if dicomsdl is not None:
    def dicomsdl_ct10(path: str) -> tuple:
        """dicomsdl: open(path) + 10 attributes (plain Python values)."""
        ds = dicomsdl.open(path)
        return (ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID,
                ds.Modality, ds.Rows, ds.Columns, ds.InstanceNumber, ds.ImagePositionPatient,
                ds.PixelSpacing)
else:  # pragma: no cover
    dicomsdl_ct10 = None


def _loose(value):
    """A comparable form for values of any of the tools: numbers -> float,
    multi-values -> list of floats (or str), everything else -> str."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [_loose(v) for v in value]
    if isinstance(value, (int, float)):  # IS/DSfloat subclass int/float
        return float(value)
    text = str(value)
    try:
        return float(text)  # e.g. an IS/DS kept as text
    except ValueError:
        return text


def _close(a, b) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def check_ct10(paths, fast_fns=(fastdicom_ct10, fastdicom_ct10_full)) -> int:
    """Check the ten values on every file: str() equal for fastdicom (each
    variant) and pydicom; equal after :func:`_loose` for dicomsdl. Returns the
    number of files checked."""
    for path in paths:
        path = str(path)
        ref = pydicom_ct10(path)
        if any(v is None for v in ref):
            raise Mismatch(f"{path}: pydicom is missing one of {CT10_KEYWORDS}")
        for fn in fast_fns:
            got = fn(path)
            for kw, a, b in zip(CT10_KEYWORDS, got, ref):
                if str(a) != str(b):
                    raise Mismatch(f"{path} {kw}: {fn.__name__} {a!r} != pydicom {b!r}")
        if dicomsdl_ct10 is not None:
            for kw, a, b in zip(CT10_KEYWORDS, dicomsdl_ct10(path), ref):
                if not _close(_loose(a), _loose(b)):
                    raise Mismatch(f"{path} {kw}: dicomsdl {a!r} != pydicom {b!r}")
    return len(paths)


# --------------------------------------------------------------------------- mr-walk
def _fd_visit(ds) -> int:
    count = 0
    for elem in ds:
        value = elem.value
        count += 1
        if elem.VR == "SQ":
            for item in value:
                count += _fd_visit(item)
    return count


def fastdicom_walk(data: bytes) -> int:
    """fastdicom: dcmread(bytes) + every element's .value at every depth; #elements."""
    return _fd_visit(fastdicom.dcmread(data))


def pydicom_walk(data: bytes) -> int:
    """pydicom: dcmread(BytesIO) + Dataset.walk touching every .value; #elements."""
    ds = pydicom.dcmread(BytesIO(data))
    count = 0

    def touch(_ds, elem):
        nonlocal count
        elem.value  # noqa: B018 - the access (and conversion) is the work
        count += 1

    ds.walk(touch)
    return count


def _fd_values(ds, out: list) -> None:
    for elem in ds:
        out.append((int(elem.tag), elem.VR, elem.value))
        if elem.VR == "SQ":
            for item in elem.value:
                _fd_values(item, out)


def check_walk(files, limit: int = 1) -> int:
    """On the first ``limit`` files: the same (tag, VR, str(value)) sequence at
    every depth from both libraries, and the element count of the timed
    fastdicom function equal to pydicom's (one pydicom pass: it is slow)."""
    for n, data in enumerate(files[:limit]):
        ours: list = []
        _fd_values(fastdicom.dcmread(data), ours)
        theirs: list = []
        pydicom.dcmread(BytesIO(data)).walk(
            lambda _ds, e: theirs.append((int(e.tag), e.VR, e.value)))
        if not len(ours) == len(theirs) == fastdicom_walk(data):
            raise Mismatch(f"file {n}: fastdicom visits {len(ours)} elements "
                           f"({fastdicom_walk(data)} timed), pydicom {len(theirs)}")
        for (tag, vr, a), (tag2, vr2, b) in zip(ours, theirs):
            if (tag, vr) != (tag2, vr2) or (vr != "SQ" and str(a) != str(b)):
                raise Mismatch(f"file {n} ({tag:08X}): fastdicom {vr} {str(a)[:60]!r} != "
                               f"pydicom ({tag2:08X}) {vr2} {str(b)[:60]!r}")
    return min(limit, len(files))
