"""Lookup tables: modality LUT / rescale, VOI LUT / windowing and presentation
LUT (PS3.3 C.11.1, C.11.2, C.11.4); palette colour LUTs are in ``_color_lut``.

Every function gives what pydicom's function of the same name in
``pydicom.pixels.processing`` gives (dtype, shape and values); the few places
where pydicom's result is an artifact of an integer overflow or of reading
big endian data as little endian are listed in :mod:`fastdicom.pixels.processing`.

Mapping a stored value through a LUT is one gather: the index is the value
minus the first mapped value, clamped to the table.  For 8- and 16-bit input
(the usual case) the table is first expanded over every value the input dtype
can hold, so the image is read once and never copied.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = [
    "apply_modality_lut",
    "apply_presentation_lut",
    "apply_rescale",
    "apply_voi",
    "apply_voi_lut",
    "apply_windowing",
]

_BYTES_LIKE = (bytes, bytearray, memoryview)
# An input this large (in pixels) pays for expanding a 16-bit LUT over 65536 values.
_FULL_TABLE_MIN_SIZE = 1 << 14


# ----------------------------------------------------------------------- helpers

def _is_little_endian(ds: Any, default: bool | None = None) -> bool:
    """The byte order of the OW values of `ds`: that of its public transfer
    syntax, else the order it was read in, else `default`."""
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        tsyntax = meta.get("TransferSyntaxUID")
        if tsyntax and not tsyntax.is_private and tsyntax.is_transfer_syntax:
            return bool(tsyntax.is_little_endian)
    little = getattr(ds, "is_little_endian", None)
    if little is not None:
        return bool(little)
    if default is not None:
        return default
    raise AttributeError(
        "Unable to determine the endianness of the dataset, please set an appropriate "
        f"Transfer Syntax UID in '{type(ds).__name__}.file_meta'"
    )


def _element_bytes(elem: Any) -> Any:
    """The bytes of an OB/OW element's value (zero-copy for elements read from data)."""
    raw = getattr(elem, "raw_bytes", None)
    return raw if raw is not None else elem.value


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, (int, np.integer)):
        return [int(value)]
    return list(value)


def _descriptor(value: Any, name: str = "LUT Descriptor") -> tuple[int, int, int]:
    """(number of entries, first mapped value, bits per entry); 0 entries means 65536."""
    desc = _as_list(value)
    if len(desc) != 3:
        raise ValueError(f"The {name} must have 3 values, not {len(desc)}")
    return int(desc[0]) or 65536, int(desc[1]), int(desc[2])


def _words(elem: Any, count: int, ds: Any) -> np.ndarray:
    """The entries of a US or OW (16-bit words) LUT Data element, at most
    `count` of OW data."""
    value = elem.value
    if elem.VR == "OW" or isinstance(value, _BYTES_LIKE):
        little = _is_little_endian(ds)
        data = _element_bytes(elem)
        count = min(count, len(data) // 2)
        return np.frombuffer(data, dtype="<u2" if little else ">u2", count=count).astype(np.uint16)
    return np.asarray(_as_list(value), dtype=np.int64)


def _fit(entries: np.ndarray, dtype: str) -> np.ndarray:
    """LUT entries as `dtype`; 8-bit entries stored in 16-bit words keep their low byte."""
    dt = np.dtype(dtype)
    if dt.itemsize == 1:
        entries = entries & 0xFF
    return entries.astype(dt)


def _full_domain(dtype: np.dtype) -> np.ndarray:
    """Every value of an 8- or 16-bit integer dtype (as int64), in the order
    of its unsigned view: ``table[arr.view(unsigned)]`` maps `arr`."""
    bits = dtype.itemsize * 8
    domain = np.arange(1 << bits, dtype=np.int64)
    if dtype.kind == "i":
        domain[1 << (bits - 1):] -= 1 << bits
    return domain


def _gather(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``table[index]``; rows of a 2-D table are moved as single items."""
    if table.ndim == 1 or index.ndim == 0:
        return table[index] if index.ndim == 0 else np.take(table, index)
    table = np.ascontiguousarray(table)
    row = table.shape[1:]
    rows = table.view(np.dtype((np.void, table.dtype.itemsize * int(np.prod(row)))))
    out = np.take(rows.reshape(table.shape[0]), index)
    return out.view(table.dtype).reshape(index.shape + row)


def _small_ints(arr: np.ndarray) -> np.dtype | None:
    """The unsigned view dtype of an 8- or 16-bit integer array worth mapping
    through a table of every value its dtype holds (else None)."""
    dtype = arr.dtype
    if dtype.kind in "ui" and dtype.isnative and (
        dtype.itemsize == 1 or (dtype.itemsize == 2 and arr.size >= _FULL_TABLE_MIN_SIZE)
    ):
        return np.dtype(f"u{dtype.itemsize}")
    return None


def _entries_used(arr: np.ndarray, table: np.ndarray, first: int, nr_entries: int) -> int:
    """For a table shorter than its descriptor says: its length, when the
    values of `arr` only reach entries it has (the results are then the same
    as with the full table); ValueError otherwise."""
    top = 0
    if arr.size:
        if arr.dtype.kind == "f":
            high = float(np.nanmax(arr)) if not np.isnan(arr).all() else float(first)
        else:
            high = int(arr.max())
        top = int(min(max(high - first, 0), nr_entries - 1))
    if top >= len(table):
        raise ValueError(
            f"The LUT Data holds {len(table)} entries, fewer than the {nr_entries} of its "
            f"descriptor, and a value maps to entry {top}"
        )
    return len(table)


def _lookup(arr: np.ndarray, table: np.ndarray, first: int, nr_entries: int) -> np.ndarray:
    """``table[index]`` for each value of `arr` (shape ``arr.shape + table.shape[1:]``):
    values below `first` take entry 0, values past the last mapped value
    (``first + nr_entries - 1``) the last entry, NaN entry 0."""
    if len(table) < nr_entries:
        nr_entries = _entries_used(arr, table, first, nr_entries)
    last = first + nr_entries - 1
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype.kind == "b":
        arr = arr.view(np.uint8)
    dtype = arr.dtype
    unsigned = _small_ints(arr)
    if unsigned is not None:
        domain = _full_domain(dtype)
        np.clip(domain, first, last, out=domain)
        domain -= first
        return _gather(_gather(table, domain), arr.view(unsigned))
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        if first > info.max:
            return _gather(table, np.zeros(arr.shape, dtype=np.intp))
        if last < info.min:
            return _gather(table, np.full(arr.shape, nr_entries - 1, dtype=np.intp))
        lo, hi = max(first, int(info.min)), min(last, int(info.max))
        index = np.clip(arr, dtype.type(lo), dtype.type(hi)).astype(np.intp)
        index -= first
        return _gather(table, index)
    if dtype.kind == "f":
        clipped = np.clip(arr, first, last)
        clipped[np.isnan(clipped)] = first
        clipped -= first
        return _gather(table, clipped.astype(np.intp))
    raise TypeError(f"Unable to apply a LUT to an array of dtype '{arr.dtype}'")


# --------------------------------------------------------------- modality LUT

def apply_modality_lut(arr: np.ndarray, ds: Any) -> np.ndarray:
    """Apply the Modality LUT Sequence (its first item) or the rescale
    (Rescale Slope and Intercept) of `ds` to `arr`.

    A Modality LUT gives ``uint8`` or ``uint16`` (the LUT Descriptor's 3rd
    value); a rescale gives ``float64`` (``arr * slope + intercept``, even for
    slope 1 and intercept 0); without either `arr` itself is returned.
    """
    seq = ds.get("ModalityLUTSequence")
    if seq:
        item = seq[0]
        nr_entries, first, depth = _descriptor(item.LUTDescriptor)
        if depth not in (8, 16):
            raise ValueError(
                f"'{depth}' bits per Modality LUT entry is not supported (must be 8 or 16)"
            )
        table = _fit(_words(item["LUTData"], nr_entries, ds), f"uint{depth}")
        return _lookup(arr, table, first, nr_entries)
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        out = arr.astype(np.float64)
        out *= ds.RescaleSlope
        out += ds.RescaleIntercept
        return out
    return arr


apply_rescale = apply_modality_lut


# -------------------------------------------------------------------- VOI LUT

def apply_voi_lut(arr: np.ndarray, ds: Any, index: int = 0, prefer_lut: bool = True) -> np.ndarray:
    """Apply the VOI LUT Sequence (:func:`apply_voi`) or the windowing
    (:func:`apply_windowing`) of `ds`; when both are present `prefer_lut`
    chooses. Without either `arr` itself is returned."""
    has_lut = False
    seq = ds.get("VOILUTSequence")
    if seq:
        first = seq[0]
        has_lut = first.get("LUTDescriptor") is not None and first.get("LUTData") is not None
    has_window = ds.get("WindowCenter") is not None and ds.get("WindowWidth") is not None
    if has_lut and (prefer_lut or not has_window):
        return apply_voi(arr, ds, index)
    if has_window:
        return apply_windowing(arr, ds, index)
    return arr


def apply_voi(arr: np.ndarray, ds: Any, index: int = 0) -> np.ndarray:
    """Apply item `index` of the VOI LUT Sequence of `ds` to `arr`: ``uint8``
    for 8 bits per entry, ``uint16`` for 10 to 16. Without the sequence
    `arr` itself is returned."""
    seq = ds.get("VOILUTSequence")
    if not seq:
        return arr
    if not np.issubdtype(arr.dtype, np.integer):
        warnings.warn(
            "Applying a VOI LUT on a float input array may give incorrect results",
            UserWarning, stacklevel=2,
        )
    item = seq[index]
    nr_entries, first, depth = _descriptor(item.LUTDescriptor)
    if depth == 8:
        dtype = "uint8"
    elif 10 <= depth <= 16:
        dtype = "uint16"
    else:
        raise NotImplementedError(f"'{depth}' bits per LUT entry is not supported")
    table = _fit(_words(item["LUTData"], nr_entries, ds), dtype)
    return _lookup(arr, table, first, nr_entries)


def _pick(elem: Any, index: int) -> Any:
    return elem.value[index] if elem.VM > 1 else elem.value


def apply_windowing(arr: np.ndarray, ds: Any, index: int = 0) -> np.ndarray:
    """Apply window `index` of Window Center/Width of `ds` to `arr` with its
    VOI LUT Function (LINEAR, LINEAR_EXACT or SIGMOID): ``float64`` values
    over the range of the stored values (Bits Stored, Pixel Representation),
    or of the Modality LUT's output, rescaled when Rescale Slope/Intercept are
    present. Without a window `arr` itself is returned."""
    if "WindowWidth" not in ds and "WindowCenter" not in ds:
        return arr
    if ds.PhotometricInterpretation not in ("MONOCHROME1", "MONOCHROME2"):
        raise ValueError(
            "When performing a windowing operation only 'MONOCHROME1' and 'MONOCHROME2' "
            "are allowed for (0028,0004) Photometric Interpretation"
        )
    function = getattr(ds, "VOILUTFunction", "LINEAR").upper()
    center = _pick(ds["WindowCenter"], index)
    width = _pick(ds["WindowWidth"], index)

    bits_stored = ds.BitsStored
    seq = ds.get("ModalityLUTSequence")
    if seq:  # the output of a Modality LUT is unsigned (PS3.3 C.11.1.1.1)
        y_min, y_max = 0, 2 ** _descriptor(seq[0].LUTDescriptor)[2] - 1
    elif ds.PixelRepresentation == 0:
        y_min, y_max = 0, 2**bits_stored - 1
    else:
        y_min, y_max = -(2 ** (bits_stored - 1)), 2 ** (bits_stored - 1) - 1
    slope, intercept = ds.get("RescaleSlope"), ds.get("RescaleIntercept")
    if slope is not None and intercept is not None:
        y_min = y_min * slope + intercept
        y_max = y_max * slope + intercept
    y_range = y_max - y_min

    if function in ("LINEAR", "LINEAR_EXACT"):  # PS3.3 C.11.2.1.2.1, C.11.2.1.3.2
        if function == "LINEAR":
            if width < 1:
                raise ValueError(
                    "The (0028,1051) Window Width must be greater than or equal to 1 "
                    "for a 'LINEAR' windowing operation"
                )
            center, width = center - 0.5, width - 1
        elif width <= 0:
            raise ValueError(
                "The (0028,1051) Window Width must be greater than 0 for a "
                "'LINEAR_EXACT' windowing operation"
            )

        def window(x: np.ndarray) -> np.ndarray:
            below = x <= center - width / 2
            above = x > center + width / 2
            with np.errstate(divide="ignore", invalid="ignore"):  # width 0: all clamped
                x -= center
                x /= width
                x += 0.5
                x *= y_range
                x += y_min
            np.copyto(x, y_min, where=below)
            np.copyto(x, y_max, where=above)
            return x
    elif function == "SIGMOID":  # PS3.3 C.11.2.1.3.1
        if width <= 0:
            raise ValueError(
                "The (0028,1051) Window Width must be greater than 0 for a "
                "'SIGMOID' windowing operation"
            )

        def window(x: np.ndarray) -> np.ndarray:
            x -= center
            x *= -4
            x /= width
            np.exp(x, out=x)
            x += 1
            np.divide(y_range, x, out=x)
            x += y_min
            return x
    else:
        raise ValueError(f"Unsupported (0028,1056) VOI LUT Function value '{function}'")

    # Each value goes through the same float64 operations, one by one, so an
    # 8/16-bit input may be mapped through a table of every value it can hold.
    unsigned = _small_ints(arr)
    if unsigned is not None:
        table = window(_full_domain(arr.dtype).astype(np.float64))
        return np.take(table, arr.view(unsigned))
    return window(arr.astype(np.float64))


# ------------------------------------------------------------ presentation LUT

def apply_presentation_lut(arr: np.ndarray, ds: Any) -> np.ndarray:
    """Apply the Presentation LUT Sequence (P-values, as ``uint8`` or
    ``uint16``) or the Presentation LUT Shape (IDENTITY, INVERSE) of `ds`.
    Without either `arr` itself is returned."""
    if "PresentationLUTSequence" in ds:
        item = ds.PresentationLUTSequence[0]
        nr_entries, _first, depth = _descriptor(item.LUTDescriptor)
        if depth > 16:
            raise ValueError(f"'{depth}' bits per Presentation LUT entry is not supported")
        itemsize = 8 if depth <= 8 else 16
        elem = item["LUTData"]
        if elem.VR == "US" or not isinstance(elem.value, _BYTES_LIKE):
            lut = np.asarray(_as_list(elem.value), dtype=np.uint16)
        else:
            data = _element_bytes(elem)
            if itemsize == 8:
                lut = np.frombuffer(data, dtype=np.uint8, count=min(nr_entries, len(data)))
            else:
                order = "<" if _is_little_endian(ds, default=True) else ">"
                count = min(nr_entries, len(data) // 2)
                lut = np.frombuffer(data, dtype=f"{order}u2", count=count).astype(np.uint16)
        unused = itemsize - depth  # bits above the entry's depth are cleared
        if unused:
            width = lut.dtype.itemsize * 8
            lut = lut & lut.dtype.type((1 << (width - unused)) - 1)
        # quantize the input to the LUT's entries, as float32
        values = arr.astype(np.float32)
        values -= values.min()
        top = values.max()
        if top == 0:
            index = np.zeros(values.shape, dtype=np.uint16)
        else:
            values /= top / (nr_entries - 1)
            index = values.astype(np.uint16)
        return lut[index]
    if "PresentationLUTShape" in ds:
        shape = ds.PresentationLUTShape.strip().upper()
        if shape not in ("IDENTITY", "INVERSE"):
            raise NotImplementedError(
                f"A (2050,0020) 'Presentation LUT Shape' value of '{ds.PresentationLUTShape}' "
                "is not supported"
            )
        if shape == "INVERSE":
            return arr.max() - arr
    return arr
