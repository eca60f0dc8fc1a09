"""Per-file "walk every element" functions shared by compare.py and the pytest suites.

Each function takes the complete bytes of a DICOM file (preamble + 'DICM' +
file meta + explicit VR little endian dataset), walks its header up to the
top-level Pixel Data element, and returns a small count (so the work cannot be
optimised away and results can be sanity-checked).

fastdicom side
    ``fastdicom_tokenize``: the C tokenizer walks the whole element tree
    (nested sequences included) from offset 132 into a flat record table.
    ``fastdicom_tokenize_values``: the same, plus a zero-copy value view for
    every record from Python (what a Python consumer touching every element
    pays on top of the walk).

pydicom baselines
    ``pydicom_dcmread_walk``: ``dcmread(stop_before_pixels=True)`` then
    ``Dataset.walk`` over every element at every depth, touching ``.value``
    (converts raw values to Python objects).
    ``pydicom_element_generator``: ``filereader.data_element_generator`` over
    the bytes from offset 132; yields top-level elements only (defined-length
    sequences stay raw bytes, undefined-length sequences are parsed).
"""
from __future__ import annotations

from io import BytesIO

import fastdicom
import pydicom
from pydicom.filereader import data_element_generator

#: The file meta group starts after the 128-byte preamble and b"DICM".
META_OFFSET = 132
PIXEL_DATA = 0x7FE00010


# --------------------------------------------------------------------------- fastdicom
def fastdicom_tokenize(data: bytes) -> int:
    """Tokenize file meta + dataset (all depths) up to Pixel Data; return #records."""
    return len(fastdicom.tokenize(data, META_OFFSET, stop_before_pixels=True))


def fastdicom_tokenize_values(data: bytes) -> int:
    """Tokenize, then fetch a memoryview of every record's value from Python."""
    tokens = fastdicom.tokenize(data, META_OFFSET, stop_before_pixels=True)
    value = tokens.value
    for i in range(len(tokens)):
        value(i)
    return len(tokens)


# --------------------------------------------------------------------------- pydicom
def pydicom_dcmread_walk(data: bytes) -> int:
    """pydicom dcmread (no pixels) + recursive walk touching every ``.value``."""
    ds = pydicom.dcmread(BytesIO(data), stop_before_pixels=True)
    count = 0

    def touch(_dataset, elem):
        nonlocal count
        elem.value  # noqa: B018 - the access (and conversion) is the work
        count += 1

    for elem in ds.file_meta:
        touch(ds.file_meta, elem)
    ds.walk(touch)
    return count


def _stop_at_pixels(tag, _vr, _length) -> bool:
    return tag == PIXEL_DATA


def pydicom_element_generator(data: bytes) -> int:
    """pydicom's low-level top-level element generator from offset 132 to Pixel Data."""
    fp = BytesIO(data)
    fp.seek(META_OFFSET)
    count = 0
    for _ in data_element_generator(fp, False, True, stop_when=_stop_at_pixels):
        count += 1
    return count


def fastdicom_top_level_count(data: bytes) -> int:
    """Top-level elements seen by fastdicom (for checking against the generator)."""
    tokens = fastdicom.tokenize(data, META_OFFSET, stop_before_pixels=True)
    return len(tokens.children(-1))
