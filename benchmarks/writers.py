"""Per-file writing workloads shared by compare.py and benchmarks/bench_write.py.

Every function takes the complete bytes of a DICOM file of the benchmark corpus
and returns the bytes written (so the tools' outputs can be compared).

``write-ct`` (CT slices, explicit VR little endian)
    Read the file, change one element (Patient's Name), write it back to a
    ``BytesIO`` with the transfer syntax kept.

    * ``fastdicom_write_ct`` / ``pydicom_write_ct``: ``dcmread`` + edit +
      ``dcmwrite`` (the whole job);
    * ``fastdicom_write_only_ct`` / ``pydicom_write_only_ct``: ``dcmwrite``
      alone, of a dataset read and edited once beforehand (kept in a cache
      keyed by the input; :func:`clear_cache` frees it).

    Both tools write the same bytes (checked by :func:`check_write_ct`).

``convert-mr`` (Enhanced-MR-like files, explicit VR little endian)
    Read the file, set the file meta's Transfer Syntax UID to implicit VR
    little endian (``*_to_implicit``) or explicit VR big endian (``*_to_big``),
    write to a ``BytesIO``: every element gets a new header, every sequence and
    item a new length; to big endian binary values are byte-swapped.

    To implicit VR both tools write the same bytes. To big endian pydicom
    leaves OB/OW/OF/OD/OL/OV values, Pixel Data included, in little endian
    order (its documented behaviour: the user must swap them), fastdicom swaps
    them; :func:`check_convert_mr` checks that the outputs agree up to Pixel
    Data and that fastdicom's Pixel Data is the swapped original.
"""
from __future__ import annotations

from io import BytesIO

import numpy as np
import pydicom

import fastdicom

#: Ratio target of the issue (pydicom time / fastdicom time) for write-ct.
WRITE_TARGET_PYDICOM = 10.0
NEW_NAME = "Anonymous^Patient"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_BE = "1.2.840.10008.1.2.2"


class Mismatch(AssertionError):
    """The tools disagree: the timings would compare different work."""


# --------------------------------------------------------------------------- write-ct
def fastdicom_write_ct(data: bytes) -> bytes:
    """fastdicom: dcmread(bytes) + PatientName changed + dcmwrite(BytesIO)."""
    ds = fastdicom.dcmread(data)
    ds.PatientName = NEW_NAME
    out = BytesIO()
    fastdicom.dcmwrite(out, ds)
    return out.getvalue()


def pydicom_write_ct(data: bytes) -> bytes:
    """pydicom: dcmread(BytesIO) + PatientName changed + dcmwrite(BytesIO)."""
    ds = pydicom.dcmread(BytesIO(data))
    ds.PatientName = NEW_NAME
    out = BytesIO()
    pydicom.dcmwrite(out, ds)
    return out.getvalue()


_CACHE: dict = {}


def _prepared(lib: str, data: bytes):
    key = (lib, id(data))
    entry = _CACHE.get(key)
    if entry is None or entry[0] is not data:
        ds = fastdicom.dcmread(data) if lib == "fastdicom" else pydicom.dcmread(BytesIO(data))
        ds.PatientName = NEW_NAME
        entry = _CACHE[key] = (data, ds)
    return entry[1]


def fastdicom_write_only_ct(data: bytes) -> bytes:
    """fastdicom: dcmwrite(BytesIO) of the dataset read and edited beforehand."""
    ds = _prepared("fastdicom", data)
    out = BytesIO()
    fastdicom.dcmwrite(out, ds)
    return out.getvalue()


def pydicom_write_only_ct(data: bytes) -> bytes:
    """pydicom: dcmwrite(BytesIO) of the dataset read and edited beforehand."""
    ds = _prepared("pydicom", data)
    out = BytesIO()
    pydicom.dcmwrite(out, ds)
    return out.getvalue()


def clear_cache() -> None:
    _CACHE.clear()


def check_write_ct(files, limit: int = 20) -> int:
    """On the first ``limit`` files: both tools write the same bytes, with the
    new name, in both variants. Returns the number of files checked."""
    for n, data in enumerate(files[:limit]):
        ours, theirs = fastdicom_write_ct(data), pydicom_write_ct(data)
        if ours != theirs:
            raise Mismatch(f"file {n}: fastdicom and pydicom wrote different bytes")
        if fastdicom_write_only_ct(data) != ours or pydicom_write_only_ct(data) != theirs:
            raise Mismatch(f"file {n}: the write-only variants wrote other bytes")
        if str(fastdicom.dcmread(ours).PatientName) != NEW_NAME:
            raise Mismatch(f"file {n}: the change was not written")
    return min(limit, len(files))


# --------------------------------------------------------------------------- convert-mr
def _fastdicom_convert(data: bytes, ts: str) -> bytes:
    ds = fastdicom.dcmread(data)
    ds.file_meta.TransferSyntaxUID = ts
    out = BytesIO()
    fastdicom.dcmwrite(out, ds)
    return out.getvalue()


def _pydicom_convert(data: bytes, ts: str) -> bytes:
    ds = pydicom.dcmread(BytesIO(data))
    ds.file_meta.TransferSyntaxUID = ts
    out = BytesIO()
    pydicom.dcmwrite(out, ds)  # save_as() refuses to change the byte order
    return out.getvalue()


def fastdicom_convert_to_implicit(data: bytes) -> bytes:
    """fastdicom: dcmread + TransferSyntaxUID = implicit VR LE + dcmwrite(BytesIO)."""
    return _fastdicom_convert(data, IMPLICIT_LE)


def pydicom_convert_to_implicit(data: bytes) -> bytes:
    """pydicom: dcmread + TransferSyntaxUID = implicit VR LE + dcmwrite(BytesIO)."""
    return _pydicom_convert(data, IMPLICIT_LE)


def fastdicom_convert_to_big(data: bytes) -> bytes:
    """fastdicom: dcmread + TransferSyntaxUID = explicit VR BE + dcmwrite(BytesIO)."""
    return _fastdicom_convert(data, EXPLICIT_BE)


def pydicom_convert_to_big(data: bytes) -> bytes:
    """pydicom: dcmread + TransferSyntaxUID = explicit VR BE + dcmwrite(BytesIO)
    (binary values and Pixel Data not swapped: pydicom leaves that to the user)."""
    return _pydicom_convert(data, EXPLICIT_BE)


def check_convert_mr(files, limit: int = 1) -> int:
    """On the first ``limit`` files: the same bytes to implicit VR; to big endian
    the same bytes up to the Pixel Data value, whose bytes fastdicom swapped."""
    for n, data in enumerate(files[:limit]):
        if fastdicom_convert_to_implicit(data) != pydicom_convert_to_implicit(data):
            raise Mismatch(f"file {n}: to implicit VR, the outputs differ")
        ours, theirs = fastdicom_convert_to_big(data), pydicom_convert_to_big(data)
        ds = fastdicom.dcmread(ours)
        pixels = ds["PixelData"]
        start = pixels._tokens.value_offset(pixels._index)
        if ours[:start] != theirs[:start] or len(ours) != len(theirs):
            raise Mismatch(f"file {n}: to big endian, the outputs differ before Pixel Data")
        original = fastdicom.dcmread(data).PixelData
        swapped = np.frombuffer(original, "<u2").astype(">u2").tobytes()
        if bytes(ds.PixelData) != swapped or theirs[start:] != bytes(original):
            raise Mismatch(f"file {n}: to big endian, Pixel Data is not as expected")
    return min(limit, len(files))
