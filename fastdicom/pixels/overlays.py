"""Overlay planes (60xx): the bit-packed (60xx,3000) Overlay Data as a numpy
array, as pydicom's ``Dataset.overlay_array(group)`` gives it (PS3.3 C.9.2,
C.9.3; PS3.5 8.1.1 and Annex D).

The result is ``uint8`` 0/1 values shaped ``(OverlayRows, OverlayColumns)``,
or ``(frames, rows, columns)`` when Number of Frames in Overlay is above 1.
The data is unpacked straight from the file's buffer (no copy of the packed
bytes) and only as many bits as there are overlay pixels.

Differs from pydicom in one case: Overlay Data (OW) of an explicit VR big
endian dataset is 16-bit words with their bytes swapped; they are swapped back
before unpacking (pydicom unpacks the bytes as they are).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from fastdicom.pixels._lut import _is_little_endian

__all__ = ["overlay_array"]


def overlay_array(ds: Any, group: int) -> np.ndarray:
    """The (`group`,3000) Overlay Data of `ds` unpacked to a ``uint8`` array.

    Raises ``ValueError`` for a group outside 0x6000-0x60FF or data shorter
    than Overlay Rows x Columns x Frames bits, ``AttributeError`` when Overlay
    Data, Overlay Bits Allocated, Overlay Rows or Overlay Columns is missing.
    Warns (``UserWarning``) when the data misses its padding byte or has
    excess padding, as pydicom does.
    """
    if group < 0x6000 or group > 0x60FF:
        raise ValueError(
            "The group part of the 'Overlay Data' element tag must be between 0x6000 "
            "and 0x60FF (inclusive)"
        )
    required = {
        "OverlayData": ds.get((group, 0x3000)),
        "OverlayBitsAllocated": ds.get((group, 0x0100)),
        "OverlayRows": ds.get((group, 0x0010)),
        "OverlayColumns": ds.get((group, 0x0011)),
    }
    missing = [name for name, elem in required.items() if elem is None]
    if missing:
        raise AttributeError(
            "Unable to convert the overlay data as the following required elements are "
            f"missing from the dataset: {', '.join(missing)}"
        )
    data_elem = required["OverlayData"]
    rows = int(required["OverlayRows"].value)
    columns = int(required["OverlayColumns"].value)
    frames_elem = ds.get((group, 0x0015))
    frames = 1 if frames_elem is None else int(frames_elem.value)

    raw = getattr(data_elem, "raw_bytes", None)
    data = raw if raw is not None else data_elem.value
    packed = np.frombuffer(data, dtype=np.uint8)

    nr_pixels = rows * columns * frames
    expected = nr_pixels // 8 + (nr_pixels % 8 > 0)  # whole bytes, no padding
    padded = expected + expected % 2
    actual = len(packed)
    if actual < padded:
        if actual != expected:
            raise ValueError(
                f"The length of the overlay data in the dataset ({actual} bytes) doesn't "
                f"match the expected length ({padded} bytes). The dataset may be "
                "corrupted or there may be an issue with the overlay data handler."
            )
        warnings.warn("The overlay data length is odd and misses a padding byte.",
                      UserWarning, stacklevel=2)
    elif actual > padded:  # PS3.5 8.1.1
        warnings.warn(
            f"The length of the overlay data in the dataset ({actual} bytes) indicates "
            f"it contains excess padding. {actual - expected} bytes will be removed from "
            "the end of the data",
            UserWarning, stacklevel=2,
        )

    if data_elem.VR == "OW" and not _is_little_endian(ds, default=True):
        words = actual // 2
        swapped = np.empty(actual, dtype=np.uint8)
        swapped[: 2 * words] = packed[: 2 * words].view(">u2").astype("<u2").view(np.uint8)
        swapped[2 * words:] = packed[2 * words:]
        packed = swapped

    if frames < 1:
        raise ValueError(
            f"Unable to reshape the overlay array as a value of {frames} for (60xx,0015) "
            "'Number of Frames in Overlay' is invalid."
        )
    bits = np.unpackbits(packed, bitorder="little", count=nr_pixels)
    if frames > 1:
        return bits.reshape(frames, rows, columns)
    return bits.reshape(rows, columns)
