"""Element values -> column values for :mod:`fastdicom.ingest`.

Two ways to the same result:

* :func:`column_value` turns an element's value as :func:`fastdicom.dcmread`
  (or pydicom) gives it into the column's Python value; it defines the
  semantics and serves every value the fast path does not.
* :func:`build_group` converts the raw value bytes of a batch at once with
  Arrow compute kernels (decoding, stripping, splitting on ``\\``, parsing
  numbers), handing the values it cannot do exactly (non-ASCII text, a
  Specific Character Set that is not ASCII-compatible, numbers Arrow does not
  parse the way Python does) to :func:`raw_column_value`, which is
  :func:`column_value` of :func:`fastdicom.values.convert_value`.

Column values (see ``fastdicom.ingest`` for the user-facing summary):

* text kinds: the value's ``str()`` (pydicom's), several values joined by
  ``\\`` in a single-valued column; a present but empty element gives ``''``.
* numbers (DS, IS, US, SS, UL, SL, SV, UV, FL, FD, AT): the number; ``None``
  when the value is not a number of the kind (e.g. DS ``'abc'`` or IS
  ``'1.5'``), when a single-valued column holds several values, or when the
  element is empty.
* DA, TM, DT: ``datetime.date`` / ``time`` / ``datetime`` (DT with a UTC
  offset is converted to UTC and stored without it); ``None`` when the text is
  not a valid value (see :func:`parse_da`, :func:`parse_tm`, :func:`parse_dt`).
* list columns (VM other than 1): the list of values (items that are not
  valid values are ``None``; a DS/IS value with any item that is not a number
  gives ``None`` for the whole list); a present but empty element gives ``[]``.
* binary VRs: the bytes (``b''`` when empty); sequences: the number of items.
"""
from __future__ import annotations

import datetime
import re
from collections.abc import MutableSequence
from decimal import Decimal
from typing import Any

from fastdicom._ingest_spec import CHARSET_KINDS, ColumnSpec

__all__ = ["column_value", "raw_column_value", "build_group", "build_python", "binary_array",
           "parse_da", "parse_tm", "parse_dt", "charset_encodings", "SIMPLE_CHARSETS"]

#: the characters ``str.strip()`` removes that are ASCII
WS = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_INT64 = (-(1 << 63), (1 << 63) - 1)
_UINT64 = (0, (1 << 64) - 1)

#: Specific Character Set values (raw, stripped) under which ASCII bytes decode
#: to the same text (no ISO 2022 code extensions).
SIMPLE_CHARSETS = frozenset({
    b"", b"ISO_IR 6", b"ISO_IR 100", b"ISO_IR 101", b"ISO_IR 109", b"ISO_IR 110",
    b"ISO_IR 126", b"ISO_IR 127", b"ISO_IR 138", b"ISO_IR 144", b"ISO_IR 148",
    b"ISO_IR 166", b"ISO_IR 203", b"ISO_IR 192", b"GB18030", b"GBK",
})

TEXT_KINDS = frozenset({"ae", "cs", "ui", "ur", "text", "text1", "pn", "any"})
TEMPORAL_KINDS = frozenset({"da", "tm", "dt"})
BINARY_NUM_KINDS = frozenset({"int", "uint", "float"})


# ------------------------------------------------------------------ dates and times

_DA = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})|([0-9]{4})\.([0-9]{2})\.([0-9]{2})", re.ASCII)
_TM = re.compile(r"([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(?:\.([0-9]{0,6}))?)?)?", re.ASCII)
_TM_COLON = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{0,6}))?)?", re.ASCII)
_DT = re.compile(r"([0-9]{4})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})"
                 r"(?:\.([0-9]{0,6}))?)?)?)?)?)?([+-][0-9]{4})?", re.ASCII)
_STRIP = " \x00" + WS


def parse_da(text: str) -> datetime.date | None:
    """A DA value (``YYYYMMDD``, or ACR-NEMA ``YYYY.MM.DD``) as a date; ``None``
    if ``text`` (surrounding spaces ignored) is neither or not a real date."""
    m = _DA.fullmatch(text.strip(_STRIP))
    if m is None:
        return None
    g = m.groups()
    y, mo, d = (g[0], g[1], g[2]) if g[0] is not None else (g[3], g[4], g[5])
    try:
        return datetime.date(int(y), int(mo), int(d))
    except ValueError:
        return None


def _fraction(f: str | None) -> int:
    return int(f.ljust(6, "0")) if f else 0


def parse_tm(text: str) -> datetime.time | None:
    """A TM value (``HH[MM[SS[.F{0-6}]]]``, or ACR-NEMA ``HH:MM[:SS[.F]]``) as a
    time; a second of 60 (leap second) is read as 59, as pydicom does; ``None``
    if not valid."""
    s = text.strip(_STRIP)
    m = _TM.fullmatch(s) or _TM_COLON.fullmatch(s)
    if m is None:
        return None
    h, mi, se, f = m.groups()
    h, mi, se = int(h), int(mi or 0), int(se or 0)
    if h > 23 or mi > 59 or se > 60:
        return None
    return datetime.time(h, mi, min(se, 59), _fraction(f))


def parse_dt(text: str) -> datetime.datetime | None:
    """A DT value (``YYYY[MM[DD[HH[MM[SS[.F{0-6}]]]]]][&ZZXX]``) as a naive
    datetime: missing parts are the earliest (month and day 1, time 0); with a
    UTC offset the time is converted to UTC. ``None`` if not valid."""
    m = _DT.fullmatch(text.strip(_STRIP))
    if m is None:
        return None
    y, mo, d, h, mi, se, f, off = m.groups()
    try:
        dt = datetime.datetime(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0),
                               min(int(se or 0), 59) if int(se or 0) <= 60 else 60,
                               _fraction(f))
    except ValueError:
        return None
    if off:
        oh, om = int(off[1:3]), int(off[3:5])
        if oh > 14 or om > 59:
            return None
        delta = datetime.timedelta(hours=oh, minutes=om)
        try:
            dt = dt - delta if off[0] == "+" else dt + delta
        except OverflowError:
            return None
    return dt


_PARSERS = {"da": parse_da, "tm": parse_tm, "dt": parse_dt}


# ------------------------------------------------------------------ Python values

def _is_multi(v: Any) -> bool:
    return isinstance(v, (list, tuple, MutableSequence)) and not isinstance(v, (str, bytes))


def _is_dataset(v: Any) -> bool:
    return hasattr(v, "keys") and hasattr(v, "__contains__") and not isinstance(v, (str, dict))


def _text(x: Any) -> str | None:
    if x is None:
        return ""
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x).hex()
    if _is_dataset(x):
        return None
    return str(x)


def _to_float(x: Any) -> float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, (float, int, Decimal)):
        return float(x)
    return None


def _int_in(lo_hi: tuple[int, int]) -> Any:
    lo, hi = lo_hi

    def conv(x: Any) -> int | None:
        if isinstance(x, int) and not isinstance(x, bool) and lo <= x <= hi:
            return int(x)
        return None
    return conv


_NUMBER_CONV = {"ds": _to_float, "float": _to_float, "is": _int_in(_INT64),
                "int": _int_in(_INT64), "at": _int_in(_INT64), "uint": _int_in(_UINT64)}


def column_value(value: Any, col: ColumnSpec) -> Any:
    """The column value of an element of ``col`` present in the data with
    ``value`` (as :func:`fastdicom.dcmread` or pydicom gives it)."""
    kind = col.kind
    multi = col.multi
    if kind == "seq":
        return len(value) if _is_multi(value) else None
    if kind in TEXT_KINDS:
        if value is None:
            return [] if multi else ("" if kind != "any" else None)
        items = list(value) if _is_multi(value) else [value]
        strs = [_text(x) for x in items]
        if any(s is None for s in strs):
            return None
        if multi:
            return [] if strs == [""] else strs
        return strs[0] if len(strs) == 1 else "\\".join(strs)
    conv = _NUMBER_CONV.get(kind)
    if conv is not None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return [] if multi else None
        if _is_multi(value):
            if not multi:
                return None
            out = []
            for x in value:
                if isinstance(x, str):
                    if x.strip():
                        return None  # not a number: the value is invalid
                    out.append(None)
                else:
                    out.append(conv(x))
            return out
        if isinstance(value, str):
            return None
        v = conv(value)
        return [v] if multi else v
    parse = _PARSERS.get(kind)
    if parse is not None:
        if value is None:
            return [] if multi else None
        items = list(value) if _is_multi(value) else [value]
        vals = [parse(str(x)) if isinstance(x, (str, datetime.date, datetime.time)) else None
                for x in items]
        if multi:
            return [] if len(items) == 1 and str(items[0]) == "" else vals
        return vals[0] if len(vals) == 1 else None
    if kind == "bytes":
        if value is None:
            return b""
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        return None
    raise ValueError(f"unknown column kind {kind!r}")


def charset_encodings(raw: bytes | None) -> list[str]:
    """Python codecs of a Specific Character Set given as its raw value bytes."""
    from fastdicom.charset import convert_encodings
    from fastdicom.values import convert_value

    if not raw:
        return ["iso8859"]
    value = convert_value("CS", raw)
    return convert_encodings(value) if value else ["iso8859"]


def raw_column_value(raw: bytes, col: ColumnSpec, little_endian: bool = True,
                     encodings: list[str] | None = None) -> Any:
    """:func:`column_value` of the value fastdicom reads from ``raw`` (the
    element's value bytes, of the VR ``col.fast_vr``)."""
    from fastdicom.values import convert_value

    try:
        value = convert_value(col.fast_vr, raw, little_endian=little_endian, encodings=encodings,
                              tag=col.tag)
        return column_value(value, col)
    except Exception:
        return None


# ------------------------------------------------------------------ Arrow, a batch at once
#
# A "group" is several columns of the same kind, multiplicity and VR, their
# values laid end to end: cell k is row k % n of column k // n. Its raw values
# come as numpy arrays: ``valid`` (bool per cell), ``offs`` (int64, len + 1,
# absolute offsets into ``data``) and ``data`` (uint8): the value bytes.

_DS_OK = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_IS_OK = r"^-?[0-9]{1,15}$"
_NUM = {  # fast VR -> (bytes per value, numpy dtype of the data, numpy dtype of the column)
    "US": (2, "<u2", "int64"), "SS": (2, "<i2", "int64"), "UL": (4, "<u4", "int64"),
    "SL": (4, "<i4", "int64"), "SV": (8, "<i8", "int64"), "UV": (8, "<u8", "uint64"),
    "FL": (4, "<f4", "float64"), "FD": (8, "<f8", "float64"),
}


def binary_array(valid: Any, offs: Any, data: Any) -> Any:
    """A ``pa.binary()`` array over numpy ``valid``/``offs``/``data`` (one copy
    of the offsets; a ``large_binary`` one if the data passes 2 GB)."""
    import numpy as np
    import pyarrow as pa

    n = len(valid)
    lo, hi = int(offs[0]), int(offs[-1])
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    if hi - lo < (1 << 31) - 1:
        o = (offs - lo).astype(np.int32)
        typ = pa.binary()
    else:
        o = (offs - lo).astype(np.int64)
        typ = pa.large_binary()
    return pa.Array.from_buffers(typ, n, [bitmap, pa.py_buffer(o), pa.py_buffer(data[lo:hi])])


def _rebuild(lists: Any, values: Any) -> Any:
    """``lists`` (a ListArray with no offset) with its values replaced."""
    import pyarrow as pa

    return pa.ListArray.from_arrays(lists.offsets, values, mask=lists.is_null())


def _split(s: Any, item_fn: Any) -> Any:
    """``s`` split on backslashes, ``item_fn`` applied to the items."""
    import pyarrow.compute as pc

    lists = pc.split_pattern(s, "\\")
    if item_fn is not None:
        lists = _rebuild(lists, item_fn(lists.values))
    return lists


def _empty_to_empty_list(strings: Any, lists: Any) -> Any:
    """Rows of ``lists`` whose text (``strings``: the split, stripped items)
    is one empty item, i.e. an empty value, become ``[]``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    one = pc.equal(pc.list_value_length(strings), 1)
    empty = pc.fill_null(pc.and_(one, pc.equal(pc.list_element(strings, 0), "")), False)
    if not pc.any(empty).as_py():
        return lists
    return pc.if_else(empty, pa.scalar([], lists.type), lists)


def _strip_fns(kind: str) -> tuple[Any, Any]:
    """(whole-value transform, per-item transform) of a text kind, as
    fastdicom.values does them for ASCII text."""
    import pyarrow.compute as pc

    def rtrim_nul(a: Any) -> Any:
        return pc.utf8_rtrim(a, characters=" \x00")

    def trim_ws(a: Any) -> Any:
        return pc.utf8_trim(a, characters=WS)

    if kind in ("cs", "da", "tm", "dt", "text1"):
        return rtrim_nul, None
    if kind == "ui":
        return rtrim_nul, trim_ws
    if kind == "text":
        return None, rtrim_nul
    if kind == "ae":
        return None, trim_ws
    if kind == "pn":
        return rtrim_nul, lambda a: pc.utf8_rtrim(a, characters="=")
    if kind == "ds":
        return (lambda a: rtrim_nul(trim_ws(a))), trim_ws
    if kind == "is":
        return rtrim_nul, trim_ws
    if kind == "ur":
        return (lambda a: pc.utf8_rtrim(a, characters=WS)), None
    raise ValueError(kind)


def _text_fast(s: Any, kind: str, multi: bool, has_bs: bool) -> Any:
    import pyarrow.compute as pc

    whole, item = _strip_fns(kind)
    if whole is not None:
        s = whole(s)
    if kind in ("text1", "ur"):
        return s
    if not multi:
        if not has_bs:
            return item(s) if item is not None else s
        return pc.binary_join(_split(s, item), "\\")
    lists = _split(s, item)
    return _empty_to_empty_list(lists, lists)


def _parse_numbers(items: Any, kind: str) -> tuple[Any, Any]:
    """(numbers, numpy bool: the items to convert in Python instead) of DS or IS
    text items, stripped; blank items give null. Arrow's parser reads every
    item it accepts as Python does, except "nan(...)" (so NaN results are
    checked in Python) and integers of more than 15 digits (which fastdicom
    reads as ISfloat when a float differs); it refuses some that Python reads
    (underscores, a sign on integers, other digits): then a pattern picks the
    items it reads and the others go to Python."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    target = pa.float64() if kind == "ds" else pa.int64()
    blank = pc.equal(items, "")
    if pc.any(blank).as_py():
        items = pc.if_else(blank, pa.scalar(None, pa.string()), items)
    try:
        values = pc.cast(items, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pattern = _DS_OK if kind == "ds" else _IS_OK
        ok = pc.fill_null(pc.match_substring_regex(items, pattern), False)
        bad = pc.and_not(pc.invert(ok), pc.is_null(items)).to_numpy(zero_copy_only=False)
        return pc.cast(pc.if_else(ok, items, pa.scalar(None, pa.string())), target), bad
    if kind == "ds":
        nan = pc.fill_null(pc.is_nan(values), False)
        bad = nan.to_numpy(zero_copy_only=False) if pc.any(nan).as_py() else None
    else:
        long = pc.fill_null(pc.greater(pc.utf8_length(items), 15), False)
        bad = long.to_numpy(zero_copy_only=False) if pc.any(long).as_py() else None
    if bad is None:
        bad = np.zeros(len(items), bool)
    return values, bad


def _numbers_fast(s: Any, kind: str, multi: bool, has_bs: bool) -> tuple[Any, Any]:
    """(array, numpy indices of cells to convert in Python instead) for DS/IS text."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    whole, item = _strip_fns(kind)
    s = whole(s)
    target = pa.float64() if kind == "ds" else pa.int64()
    if not multi and not has_bs:
        values, bad = _parse_numbers(item(s), kind)
        return values, np.flatnonzero(bad)
    lists = _split(s, item)
    values, bad = _parse_numbers(lists.values, kind)
    bad_rows = np.unique(pc.list_parent_indices(lists).to_numpy()[bad]) if bad.any() \
        else np.zeros(0, np.int64)
    values = _rebuild(lists, values)
    if multi:
        return _empty_to_empty_list(lists, values), bad_rows
    # a single-valued column: several values are not a value
    one = pc.equal(pc.list_value_length(lists), 1)
    return pc.if_else(one, pc.list_element(values, 0), pa.scalar(None, target)), bad_rows


def _temporal_fast(s: Any, kind: str, multi: bool, target: Any, has_bs: bool) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    s = pc.utf8_rtrim(s, characters=" \x00")
    parse = _PARSERS[kind]

    def convert(items: Any) -> Any:
        uniques = pc.unique(items)
        parsed = pa.array([parse(u) if u is not None else None for u in uniques.to_pylist()],
                          target)
        return parsed.take(pc.index_in(items, uniques))

    if not multi and not has_bs:
        return convert(s)
    lists = _split(s, None)
    values = _rebuild(lists, convert(lists.values))
    if multi:
        return _empty_to_empty_list(lists, values)
    one = pc.equal(pc.list_value_length(lists), 1)
    return pc.if_else(one, pc.list_element(values, 0), pa.scalar(None, target))


def _binary_fast(valid: Any, offs: Any, data: Any, fast_vr: str, multi: bool) -> Any:
    """Binary numbers (little endian) of every cell."""
    import numpy as np
    import pyarrow as pa

    size, dtype, out_dtype = _NUM[fast_vr]
    n = len(valid)
    lens = np.diff(offs)
    if not multi:
        ok = valid & (lens == size)
    else:
        ok = valid & (lens % size == 0)
    lo, hi = int(offs[0]), int(offs[-1])
    if np.array_equal(ok, valid) and hi - lo == int(lens[ok].sum()):
        raw = data[lo:hi]  # every value present is well formed: no gather
    else:
        starts = offs[:-1][ok]
        take = lens[ok]
        idx = np.repeat(starts - np.concatenate(([0], np.cumsum(take)[:-1])), take) \
            + np.arange(int(take.sum()))
        raw = data[idx]
    values = np.frombuffer(raw.tobytes() if not raw.flags.c_contiguous else raw, dtype)
    if not multi:
        out = np.zeros(n, out_dtype)
        out[ok] = values
        return pa.array(out, mask=~ok)
    counts = np.where(ok, lens // size, 0)
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values.astype(out_dtype)),
                                    mask=pa.array(~ok))


def _cells_of_bytes(offs: Any, positions: Any) -> Any:
    """Cells (indices into ``offs``) holding the byte ``positions`` of ``data``."""
    import numpy as np

    return np.unique(np.searchsorted(offs, positions, side="right") - 1)


def _cell_bytes(offs: Any, data: Any, k: int) -> bytes:
    return data[int(offs[k]):int(offs[k + 1])].tobytes()


def build_group(cols: list, n: int, valid: Any, offs: Any, data: Any, py: dict,
                charsets: list, simple_rows: Any, cs_cache: dict) -> list:
    """The Arrow arrays of a group of columns (see above) of ``n`` rows each.

    ``py``: cell -> column value already converted in Python (those cells are
    not read from ``valid``/``offs``/``data``); ``charsets[r]``: the raw
    Specific Character Set of row ``r`` (stripped) and ``simple_rows[r]``
    whether ASCII text of row ``r`` decodes to itself under it; ``cs_cache``:
    raw charset -> encodings (shared by a batch).
    """
    import numpy as np
    import pyarrow as pa

    col0 = cols[0]
    kind, multi, fast_vr = col0.kind, col0.multi, col0.fast_vr
    typ = col0.arrow_type
    total = len(cols) * n
    valid = valid.copy()
    if py:
        valid[np.fromiter(py.keys(), np.int64, len(py))] = False
    redo = np.zeros(0, np.int64)
    if kind in TEXT_KINDS or kind in TEMPORAL_KINDS or kind in ("ds", "is"):
        lo, hi = int(offs[0]), int(offs[-1])
        high = np.flatnonzero(data[lo:hi] >= 0x80)
        if len(high):
            redo = _cells_of_bytes(offs, high + lo)
        if kind in CHARSET_KINDS and not simple_rows.all():
            bad_rows = np.flatnonzero(~simple_rows)
            cells = (np.arange(len(cols))[:, None] * n + bad_rows[None, :]).ravel()
            redo = np.union1d(redo, cells)
        redo = redo[valid[redo]] if len(redo) else redo
    if len(redo):
        py = dict(py)
        for k in redo.tolist():
            r = k % n
            encs = None
            if kind in CHARSET_KINDS:
                cs = charsets[r]
                encs = cs_cache.get(cs)
                if encs is None:
                    encs = cs_cache[cs] = charset_encodings(cs)
            py[k] = raw_column_value(_cell_bytes(offs, data, k), cols[k // n], True, encs)
        valid[redo] = False
    again = None
    if valid.any():
        try:
            if kind in BINARY_NUM_KINDS:
                arr = _binary_fast(valid, offs, data, fast_vr, multi)
            elif kind == "bytes":
                arr = binary_array(valid, offs, data)
            else:
                s = binary_array(valid, offs, data).cast(pa.string())
                lo, hi = int(offs[0]), int(offs[-1])
                has_bs = bool((data[lo:hi] == 0x5C).any())  # a backslash: several values
                if kind in ("ds", "is"):
                    arr, again = _numbers_fast(s, kind, multi, has_bs)
                elif kind in TEMPORAL_KINDS:
                    arr = _temporal_fast(s, kind, multi, typ.value_type if multi else typ, has_bs)
                else:
                    arr = _text_fast(s, kind, multi, has_bs)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, OverflowError):
            again = np.flatnonzero(valid)
            arr = pa.nulls(total, typ)
        if again is not None and len(again):
            py = dict(py)
            for k in again.tolist():
                py[k] = raw_column_value(_cell_bytes(offs, data, k), cols[k // n])
    else:
        arr = pa.nulls(total, typ)
    if arr.type != typ:
        arr = arr.cast(typ)
    if py:
        cells = np.fromiter(py.keys(), np.int64, len(py))
        extra = pa.array(list(py.values()), typ)
        idx = np.arange(total, dtype=np.int64)
        idx[cells] = total + np.arange(len(cells), dtype=np.int64)
        arr = pa.concat_arrays([arr, extra]).take(pa.array(idx))
    return [arr.slice(c * n, n) for c in range(len(cols))]


def build_python(col: ColumnSpec, n: int, py: dict) -> Any:
    """A column whose values were all converted in Python (``py``: row -> value)."""
    import pyarrow as pa

    values = [None] * n
    for r, v in py.items():
        values[r] = v
    return pa.array(values, col.arrow_type)
