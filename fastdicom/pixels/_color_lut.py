"""Palette colour lookup tables (PS3.3 C.7.6.3, C.7.9): ``apply_color_lut``
with a dataset's palette (normal or segmented) or one of the named palettes
of PS3.6 Annex B, giving what pydicom's function of the same name gives.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from fastdicom.pixels._lut import (
    _BYTES_LIKE,
    _as_list,
    _descriptor,
    _element_bytes,
    _is_little_endian,
    _lookup,
)

__all__ = ["apply_color_lut"]

# Bounds on malformed segmented data: indirect segments may point anywhere,
# themselves included. Real palettes have at most a few hundred segments.
_MAX_SEGMENTS = 1 << 20
_MAX_INDIRECT_DEPTH = 32


def _expand_segmented(data: list[int], little: bool, eight_bit: bool) -> list[int]:
    """Expand segmented palette colour LUT data (PS3.3 C.7.9.2): discrete (0),
    linear (1) and indirect (2) segments (an indirect segment's offset counts
    entries from the start of the data, and it copies `length` segments)."""
    budget = [_MAX_SEGMENTS]
    end = len(data)

    def expand(start: int, max_segments: int | None, previous: int | None, depth: int) -> list[int]:
        # `previous`: the value before the first segment (an indirect copy's context)
        if depth > _MAX_INDIRECT_DEPTH:
            raise ValueError("Error expanding a segmented palette color lookup table: "
                             "indirect segments nested too deeply")
        out: list[int] = []
        pos = start
        done = 0
        while pos + 1 < end:  # a trailing null entry ends the data
            budget[0] -= 1
            if budget[0] < 0:
                raise ValueError("Error expanding a segmented palette color lookup table: "
                                 "too many segments")
            opcode, length = data[pos], data[pos + 1]
            pos += 2
            if opcode == 0:  # discrete: `length` values follow
                out.extend(data[pos:pos + length])
                pos += length
            elif opcode == 1:  # linear: from the previous value to the next one
                y0 = out[-1] if out else previous
                if y0 is None:
                    raise ValueError(
                        "Error expanding a segmented palette color lookup table: the first "
                        "segment cannot be a linear segment"
                    )
                y1 = data[pos]
                pos += 1
                if y0 == y1:
                    out.extend([y1] * length)
                elif length:  # rounded half to even, as numpy.around
                    step = (y1 - y0) / length
                    out.extend(np.around(np.linspace(y0 + step, y1, length)).astype(int).tolist())
            elif opcode == 2:  # indirect: copy `length` segments from an offset
                if not out and previous is None:
                    raise ValueError(
                        "Error expanding a segmented palette color lookup table: the first "
                        "segment cannot be an indirect segment"
                    )
                if eight_bit:  # a 32-bit offset in four 8-bit entries
                    b = data[pos:pos + 4]
                    if len(b) < 4:
                        raise ValueError("Error expanding a segmented palette color lookup "
                                         "table: truncated indirect segment")
                    if little:
                        offset = b[3] << 24 | b[2] << 16 | b[1] << 8 | b[0]
                    else:  # two big endian 16-bit halves, the least significant first
                        offset = b[2] << 24 | b[3] << 16 | b[0] << 8 | b[1]
                    pos += 4
                else:  # two 16-bit entries, the least significant first
                    offset = data[pos + 1] << 16 | data[pos]
                    pos += 2
                prior = out[-1] if out else previous
                out.extend(expand(start + offset, length, prior, depth + 1))
            else:
                raise ValueError(
                    "Error expanding a segmented palette lookup table: unknown segment type "
                    f"'{opcode}'"
                )
            done += 1
            if done == max_segments:
                break
        return out

    return expand(0, None, None, 0)


def _palette_entries(value: Any, depth: float, little: bool) -> np.ndarray:
    """The entries of a (non-segmented) palette colour LUT of `depth` bits per entry."""
    if isinstance(value, _BYTES_LIKE):
        if depth == 16:
            return np.frombuffer(value, dtype="<u2" if little else ">u2",
                                 count=len(value) // 2).astype(np.uint16)
        return np.frombuffer(value, dtype=np.uint8)
    return np.asarray(_as_list(value), dtype=np.uint16 if depth == 16 else np.uint8)


def _palette_depth(value: Any, nr_entries: int) -> float:
    """Bits per entry of palette colour LUT data, from its length: 8-bit
    entries may be stored in 16-bit words (PS3.3 C.7.6.3.1.6)."""
    if isinstance(value, _BYTES_LIKE):
        return len(value) / nr_entries * 8
    return len(_as_list(value)) / nr_entries * 16  # a US value: 16-bit entries


def apply_color_lut(arr: np.ndarray, ds: Any = None, palette: str | None = None) -> np.ndarray:
    """Map `arr` through the palette colour LUTs of `ds` (Red, Green, Blue and
    optional Alpha; plain or segmented): an array of shape ``arr.shape + (3,)``
    (or 4 with alpha) of ``uint8`` or ``uint16`` (the bits per LUT entry).

    `palette` (name or SOP Instance UID of a well-known palette of PS3.6
    Annex B, see :data:`WELL_KNOWN_PALETTES`) is used instead of `ds`.
    """
    if not ds and not palette:
        raise ValueError("Either 'ds' or 'palette' is required")
    if palette:
        table, first = _well_known_palette(str(palette).strip())
        return _lookup(arr, table, first, len(table))

    # C.8.16.2.1.1.1: a Supplemental Palette needs the greyscale pipeline
    if ds.get("PixelPresentation") in ("MIXED", "COLOR"):
        raise ValueError(
            "Use of this function with the Supplemental Palette Color Lookup Table Module "
            "is not currently supported"
        )
    if "RedPaletteColorLookupTableDescriptor" not in ds:
        raise ValueError("No suitable Palette Color Lookup Table Module found")
    nr_entries, first, nominal = _descriptor(
        ds.RedPaletteColorLookupTableDescriptor, "Red Palette Color Lookup Table Descriptor"
    )

    luts: list[np.ndarray] = []
    if "RedPaletteColorLookupTableData" in ds:
        little = _is_little_endian(ds, default=True)
        elems = [_required(ds, f"{c}PaletteColorLookupTableData") for c in _RGB]
        elems.append(ds.get(0x00281204))  # Alpha
        values = [_element_bytes(e) if isinstance(e.value, _BYTES_LIKE) else e.value
                  for e in elems if e is not None and _has_value(e.value)]
        # all read with the red LUT's entry size (PS3.3: the channels are alike)
        depth = _palette_depth(values[0], nr_entries) if _has_value(elems[0].value) else 0.0
        if depth in (8, 16):
            luts = [_palette_entries(v, depth, little) for v in values]
    elif "SegmentedRedPaletteColorLookupTableData" in ds:
        little = _is_little_endian(ds)
        if nominal not in (8, 16):
            raise ValueError(
                f"The bit depth of the LUT data '{float(nominal):.1f}' is invalid (only 8 "
                "or 16 bits per entry allowed)"
            )
        depth = float(nominal)
        dtype = np.dtype(f"uint{nominal}")
        elems = [_required(ds, f"Segmented{c}PaletteColorLookupTableData") for c in _RGB]
        elems.append(ds.get(0x00281224))  # Segmented Alpha
        for elem in elems:
            if elem is None or not _has_value(elem.value):
                continue
            data = _element_bytes(elem)
            if nominal == 8:
                seg = np.frombuffer(data, dtype=np.uint8)
            else:
                seg = np.frombuffer(data, dtype="<u2" if little else ">u2",
                                    count=len(data) // 2)
            entries = _expand_segmented(seg.tolist(), little, nominal == 8)
            luts.append(np.asarray(entries, dtype=dtype))
    else:
        raise ValueError("No suitable Palette Color Lookup Table Module found")

    if depth not in (8, 16):
        raise ValueError(
            f"The bit depth of the LUT data '{depth:.1f}' is invalid (only 8 or 16 bits "
            "per entry allowed)"
        )
    if any(len(lut) != len(luts[0]) for lut in luts[1:]):
        raise ValueError("LUT data must be the same length")
    if not len(luts[0]):
        raise ValueError("The palette color LUT data is empty")
    table = np.stack([lut[:nr_entries] for lut in luts], axis=-1)
    return _lookup(arr, table, first, nr_entries)


_RGB = ("Red", "Green", "Blue")


@functools.lru_cache(maxsize=None)
def _well_known_palette(name: str) -> tuple[np.ndarray, int]:
    """(entries as a (n, 3) read-only table, first mapped value) of a PS3.6
    Annex B palette given by name or UID."""
    from fastdicom.pixels._palettes import CHANNELS, PALETTE_TABLES, WELL_KNOWN_PALETTES

    entry = PALETTE_TABLES.get(WELL_KNOWN_PALETTES.get(name, name))
    if entry is None:
        raise ValueError(f"Unknown palette '{name}'")
    first, bits, *channels = entry
    dtype = np.dtype(f"<u{bits // 8}")
    table = np.stack([np.frombuffer(bytes.fromhex(CHANNELS[k]), dtype) for k in channels], axis=-1)
    table = table.astype(dtype.newbyteorder("="))
    table.flags.writeable = False
    return table, first


def _required(ds: Any, keyword: str) -> Any:
    """The element of `keyword`; AttributeError when missing (as attribute access)."""
    elem = ds.data_element(keyword) if hasattr(ds, "data_element") else None
    if elem is None:
        raise AttributeError(f"'{type(ds).__name__}' object has no attribute '{keyword}'")
    return elem


def _has_value(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, memoryview):
        return value.nbytes > 0
    return len(value) > 0 if hasattr(value, "__len__") else True
