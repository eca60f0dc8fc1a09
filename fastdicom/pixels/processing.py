"""Pixel data processing: colour space conversion and lookup tables, as
``pydicom.pixels.processing``.

The functions take numpy arrays and :class:`fastdicom.Dataset` (any object
with pydicom's Dataset reading API works) and give what pydicom's functions
of the same name give: same dtype, shape and values, float results
bit-equal. The implementations are fastdicom's own: a LUT is applied with a
single gather, and for 8- and 16-bit input (LUTs, palettes and windowing)
through a table of every value the input dtype holds, computed with the same
operations pydicom applies to each pixel (see :mod:`fastdicom.pixels._lut`).

Functions
---------
- :func:`convert_color_space` (RGB <-> YBR_FULL / YBR_FULL_422)
- :func:`apply_color_lut` (palette colour, plain and segmented)
- :func:`apply_modality_lut` (= :func:`apply_rescale`)
- :func:`apply_voi_lut`, :func:`apply_voi`, :func:`apply_windowing`
- :func:`apply_presentation_lut`

Where the results differ from pydicom's (pydicom 3.0.2)
--------------------------------------------------------
- LUT indices never wrap around: pydicom computes the LUT index in the LUT's
  entry type (``uint8`` for 8-bit palette and VOI LUTs), so a stored value
  past 255 wraps modulo 256 before it is clamped; here values past the last
  mapped one always take the last entry (PS3.3 C.11.2.1.1, C.7.6.3.1.5). The
  same for the Modality LUT, whose index pydicom computes in the input dtype.
- Big endian data: the 16-bit entries of palette colour LUT Data and of
  Presentation LUT Data (OW) are read in the dataset's byte order; pydicom
  reads them in the machine's order, which swaps their bytes for explicit VR
  big endian files.
- Where pydicom raises on data the standard allows or on a harmless oddity,
  a result is given: LUT Data with padding after the described entries, LUT
  Data shorter than its descriptor says when no value maps past its end
  (pydicom: ``struct.error`` for OW data, else the same result), palette LUT
  Data given as a list of ints (US), 8-bit Modality/VOI LUT entries in 16-bit
  words with garbage in the high byte (the low byte is used; pydicom fails
  with NumPy's ``OverflowError``), a Modality LUT applied to a float array
  (truncated to the entry below, as pydicom does for VOI LUTs), a segmented
  palette whose indirect segment starts with a linear segment after a value
  of 0 or with another indirect segment, the byte order of a dataset without
  a public Transfer Syntax UID (its ``is_little_endian``).
- Errors on unusable input are ``ValueError`` with a message where pydicom
  raises whatever NumPy, ``struct`` or the interpreter raised: a Modality
  LUT or segmented palette of 12 bits per entry, a value that maps past the
  end of a short LUT (pydicom: ``IndexError``), segmented palette data whose indirect segments nest more
  than 32 deep or exceed 2**20 segments (pydicom: ``RecursionError`` or no
  end).
- The well-known palettes (``apply_color_lut(arr, palette="HOT_IRON")``) are
  not bundled: pydicom reads them from its own data files. A known name or UID
  raises ``NotImplementedError``; read the palette's Color Palette IOD and
  pass it as ``ds``.
- :func:`apply_presentation_lut` of a constant image gives entry 0 without
  pydicom's NumPy warning about a NaN cast (the value is the same).
"""
from __future__ import annotations

from fastdicom.pixels._colour import convert_color_space
from fastdicom.pixels._lut import (
    WELL_KNOWN_PALETTES,
    apply_color_lut,
    apply_modality_lut,
    apply_presentation_lut,
    apply_rescale,
    apply_voi,
    apply_voi_lut,
    apply_windowing,
)

__all__ = [
    "WELL_KNOWN_PALETTES",
    "apply_color_lut",
    "apply_modality_lut",
    "apply_presentation_lut",
    "apply_rescale",
    "apply_voi",
    "apply_voi_lut",
    "apply_windowing",
    "convert_color_space",
]
