"""Raw element bytes -> Python values, exactly as pydicom's ``DataElement.value``
after reading (pydicom 3, default configuration).

:func:`convert_value` is the entry point. Summary of what it returns:

* AE: ``str`` stripped both sides (``MultiValue`` of them if backslash-separated).
* AS, CS, DA, DT, TM: ``str`` with trailing spaces and NULs removed, split on
  ``\\`` into a ``MultiValue`` when several (DA/DT/TM as ``DA``/``DT``/``TM``
  objects with ``config.datetime_conversion``).
* DS: ``DSfloat`` (``DSdecimal`` with ``config.use_DS_decimal``); IS: ``IS``
  (``ISfloat`` for non-integral text); a blank item of several stays ``''``.
* UI: ``UID`` (trailing NULs and spaces removed); UR: ``str`` right-stripped.
* SH, LO, UC: decoded with the character set, each value right-stripped of
  spaces and NULs; ST, LT, UT: one such string (backslashes kept); PN:
  ``PersonName`` (``MultiValue`` of them if several).
* AT: ``Tag`` or ``MultiValue`` of ``Tag``.
* US, SS, UL, SL, UV, SV, FL, FD: a plain ``int``/``float`` for one value, a
  plain ``list`` for several (as pydicom: not a ``MultiValue``); a length that
  is not a multiple of the value size raises :class:`BytesLengthException`.
* OB, OD, OF, OL, OV, OW, UN and the ambiguous ``'US or SS'``-style VRs: ``bytes``.
* Empty values: ``''`` for the string VRs, ``PersonName('')`` for PN, ``[]``
  for SQ, ``None`` for everything else (DS, IS, AT, numbers, bytes).
* A value its VR cannot parse (e.g. DS ``'abc'``) is converted as SH instead,
  as pydicom does (in fact: the first VR of pydicom's retry order that works).
"""
from __future__ import annotations

import struct
import sys
from functools import lru_cache
from typing import Any, Callable

from fastdicom import config as _config
from fastdicom.charset import decode_text
from fastdicom.errors import DicomError
from fastdicom.tag import Tag
from fastdicom.valuerep import (
    DA, DT, TM, DSdecimal, DSfloat, IS, MultiValue, PersonName, _is_from_text,
)

from fastdicom.uid import UID

__all__ = ["convert_value", "empty_value_for_VR", "BytesLengthException", "CONVERTERS"]


class BytesLengthException(DicomError):
    """The value length is not a multiple of the size of one value of the VR
    (pydicom raises its ``BytesLengthException`` here too)."""


_DEFAULT_ENCODINGS = ["iso8859"]
_float_new = float.__new__
_str_new = str.__new__
_int_new = int.__new__
_NATIVE_LE = sys.byteorder == "little"
_LUT_DESCRIPTOR_TAGS = frozenset({0x00281101, 0x00281102, 0x00281103, 0x00283002})


# ---------------------------------------------------------------- strings

def _conv_ae(raw: bytes, le: bool, enc: list) -> Any:
    s = raw.decode("latin-1")
    if "\\" not in s:
        return s.strip()
    return MultiValue._of(str, [x.strip() for x in s.split("\\")])


def _conv_str(raw: bytes, le: bool, enc: list) -> Any:
    s = raw.decode("latin-1").rstrip(" \x00")
    if "\\" not in s:
        return s
    return MultiValue._of(str, s.split("\\"))


def _da_from_str(s: str) -> Any:
    return DA(s.rstrip())


def _dt_from_str(s: str) -> Any:
    return DT(s.rstrip())


def _tm_from_str(s: str) -> Any:
    return TM(s.rstrip())


def _dates(make: Callable[[str], Any]) -> Callable[[bytes, bool, list], Any]:
    def conv(raw: bytes, le: bool, enc: list) -> Any:
        if not _config.datetime_conversion:
            return _conv_str(raw, le, enc)
        parts = raw.decode("latin-1").split("\\")
        if len(parts) == 1:
            return make(parts[0])
        return MultiValue(make, parts)
    return conv


def _dsfloat(s: str) -> Any:
    try:
        v = _float_new(DSfloat, s)
    except ValueError:
        if s.strip() == "":
            return s
        raise
    v.original_string = s.strip()
    v.auto_format = False
    return v


def _conv_ds(raw: bytes, le: bool, enc: list) -> Any:
    s = raw.decode("latin-1").strip().rstrip(" \x00")
    make = DSdecimal if _config.use_DS_decimal else _dsfloat
    if "\\" not in s:
        return make(s)
    cls = DSdecimal if _config.use_DS_decimal else DSfloat
    return MultiValue._of(cls, [make(x) for x in s.split("\\")])


def _conv_is(raw: bytes, le: bool, enc: list) -> Any:
    s = raw.decode("latin-1").rstrip(" \x00")
    if "\\" not in s:
        return _is_from_text(s)
    return MultiValue._of(IS, [_is_from_text(x) for x in s.split("\\")])


def _uid(s: str) -> Any:
    return UID(s)


def _conv_ui(raw: bytes, le: bool, enc: list) -> Any:
    s = raw.decode("latin-1").rstrip("\x00 ")
    if "\\" not in s:
        return _str_new(UID, s.strip())
    return MultiValue._of(_uid, [_str_new(UID, x.strip()) for x in s.split("\\")])


def _conv_ur(raw: bytes, le: bool, enc: list) -> Any:
    return raw.decode("latin-1").rstrip()


def _conv_text(raw: bytes, le: bool, enc: list) -> Any:
    s = decode_text(raw, enc)
    if "\\" not in s:
        return s.rstrip("\x00 ")
    return MultiValue._of(str, [x.rstrip("\x00 ") for x in s.split("\\")])


def _conv_single_text(raw: bytes, le: bool, enc: list) -> Any:
    return decode_text(raw, enc).rstrip("\x00 ")


class _PNMaker:
    """Type constructor of a multi-valued PN (picklable, unlike a closure)."""

    __slots__ = ("encodings",)

    def __init__(self, encodings: tuple[str, ...]) -> None:
        self.encodings = encodings

    def __call__(self, value: Any) -> PersonName:
        pn = PersonName(value, self.encodings)
        pn.encode()
        return pn

    def __reduce__(self) -> tuple:
        return (_PNMaker, (self.encodings,))


def _conv_pn(raw: bytes, le: bool, enc: list) -> Any:
    s = decode_text(raw.rstrip(b"\x00 "), enc)
    encs = tuple(enc)
    from_text = PersonName._from_text
    if "\\" not in s:
        return from_text(s, encs)
    return MultiValue._of(_PNMaker(encs), [from_text(x, encs) for x in s.split("\\")])


# ---------------------------------------------------------------- binary

def _conv_bytes(raw: bytes, le: bool, enc: list) -> Any:
    return raw


def _conv_at(raw: bytes, le: bool, enc: list) -> Any:
    n = len(raw)
    if n == 4:
        g, e = (_H2_LE if le else _H2_BE)(raw)
        return _int_new(Tag, g << 16 | e)
    n -= n % 4
    if n == 0:
        return MultiValue._of(Tag, [])
    words = _unpack_many("H", 2, raw[:n] if n != len(raw) else raw, le)
    return MultiValue._of(Tag, [_int_new(Tag, words[i] << 16 | words[i + 1])
                                for i in range(0, len(words), 2)])


_H2_LE = struct.Struct("<HH").unpack
_H2_BE = struct.Struct(">HH").unpack


@lru_cache(maxsize=512)
def _struct_unpack(fmt: str) -> Callable[[bytes], tuple]:
    return struct.Struct(fmt).unpack


_NP_DTYPES = {"H": "u2", "h": "i2", "L": "u4", "l": "i4", "Q": "u8", "q": "i8",
              "f": "f4", "d": "f8"}


# memoryview.cast uses native sizes: the native code of each standard size
_CAST = {code: next(c for c in alts if struct.calcsize(c) == size)
         for code, size, alts in (("H", 2, "H"), ("h", 2, "h"), ("L", 4, "IL"), ("l", 4, "il"),
                                  ("Q", 8, "QL"), ("q", 8, "ql"), ("f", 4, "f"), ("d", 8, "d"))}


def _unpack_many(code: str, size: int, raw: bytes, le: bool) -> list:
    if le and _NATIVE_LE:
        return memoryview(raw).cast(_CAST[code]).tolist()
    count = len(raw) // size
    if count <= 256:
        return list(_struct_unpack(("<" if le else ">") + str(count) + code)(raw))
    import numpy

    dtype = numpy.dtype(_NP_DTYPES[code]).newbyteorder("<" if le else ">")
    return numpy.frombuffer(raw, dtype).tolist()


def _numbers(code: str, size: int) -> Callable[[bytes, bool, list], Any]:
    one_le = struct.Struct("<" + code).unpack
    one_be = struct.Struct(">" + code).unpack
    small_le: dict[int, Callable[[bytes], tuple]] = {}  # length -> precompiled Struct
    small_be: dict[int, Callable[[bytes], tuple]] = {}
    small = 64 * size

    def conv(raw: bytes, le: bool, enc: list) -> Any:
        n = len(raw)
        if n == size:
            return (one_le if le else one_be)(raw)[0]
        if n % size:
            shown = repr(raw) if n <= 256 else "bytes"
            raise BytesLengthException(
                "Expected total bytes to be an even multiple of bytes per value. Instead "
                f"received {shown} with length {n} and struct format '{code}' which "
                f"corresponds to bytes per value of {size}.")
        if n <= small:
            cache = small_le if le else small_be
            unpack = cache.get(n)
            if unpack is None:
                unpack = cache[n] = struct.Struct(("<" if le else ">") + str(n // size) + code).unpack
            return list(unpack(raw))
        return _unpack_many(code, size, raw, le)
    return conv


def _conv_us(raw: bytes, le: bool, enc: list) -> Any:
    if len(raw) == 2:
        return int.from_bytes(raw, "little" if le else "big")
    return _us_multi(raw, le, enc)


_us_multi = _numbers("H", 2)

CONVERTERS: dict[str, Callable[[bytes, bool, list], Any]] = {
    "AE": _conv_ae, "AS": _conv_str, "CS": _conv_str,
    "DA": _dates(_da_from_str), "DT": _dates(_dt_from_str), "TM": _dates(_tm_from_str),
    "DS": _conv_ds, "IS": _conv_is, "UI": _conv_ui, "UR": _conv_ur,
    "SH": _conv_text, "LO": _conv_text, "UC": _conv_text,
    "ST": _conv_single_text, "LT": _conv_single_text, "UT": _conv_single_text,
    "PN": _conv_pn, "AT": _conv_at,
    "US": _conv_us, "SS": _numbers("h", 2), "UL": _numbers("L", 4), "SL": _numbers("l", 4),
    "UV": _numbers("Q", 8), "SV": _numbers("q", 8), "FL": _numbers("f", 4), "FD": _numbers("d", 8),
    "OB": _conv_bytes, "OD": _conv_bytes, "OF": _conv_bytes, "OL": _conv_bytes,
    "OV": _conv_bytes, "OW": _conv_bytes, "UN": _conv_bytes,
    "OB or OW": _conv_bytes, "US or SS": _conv_bytes, "US or OW": _conv_bytes,
    "US or SS or OW": _conv_bytes,
}
"""VR -> ``converter(raw: bytes, little_endian: bool, encodings: list[str])``."""

# pydicom's order of VRs to try when a value cannot be read as its own VR
_RETRY_ORDER = ("SH", "UL", "SL", "US", "SS", "FL", "FD", "OF", "OB", "UI", "DA", "TM",
                "PN", "IS", "DS", "LT", "SQ", "UN", "AT", "OW", "DT", "UT")

_STR_EMPTY = frozenset({"AE", "AS", "CS", "DA", "DT", "TM", "UI", "UR",
                        "LO", "LT", "SH", "ST", "UC", "UT"})


def empty_value_for_VR(VR: str | None) -> Any:
    """The value of an element of ``VR`` with no value (pydicom's defaults)."""
    if VR == "SQ":
        return []
    if VR == "PN":
        return PersonName("")
    if VR in _STR_EMPTY:
        return ""
    return None


def _unknown_vr(VR: str, tag: int | None) -> NotImplementedError:
    if len(VR) == 2 and all(c.isascii() and c.isalpha() for c in VR):
        shown = VR
    else:
        shown = " ".join(f"0x{ord(c):02x}" for c in VR)
    where = f" in tag {Tag(tag)}" if tag is not None else ""
    return NotImplementedError(f"Unknown Value Representation '{shown}'{where}")


def _retry(VR: str, raw: bytes, le: bool, enc: list) -> Any:
    for vr in _RETRY_ORDER:
        if vr == VR or vr == "SQ":
            continue
        try:
            return CONVERTERS[vr](raw, le, enc)
        except Exception:
            pass
    return raw


def convert_value(VR: str, raw: Any, *, little_endian: bool = True,
                  encodings: list[str] | None = None, tag: int | None = None) -> Any:
    """The value of an element of ``VR`` whose encoded value is ``raw``.

    ``encodings`` are the Python codecs of the dataset's character set (see
    :func:`fastdicom.charset.convert_encodings`; default ``['iso8859']``; one
    codec name as a ``str`` is taken as a list of one), used
    by SH, LO, UC, ST, LT, UT and PN. ``tag``, if given, names the element in
    errors and applies pydicom's fix of LUT Descriptors read as SS (a negative
    first value has 65536 added).

    Raises :class:`BytesLengthException` for a binary number value whose length
    is not a multiple of its size, ``NotImplementedError`` for an unknown VR and
    ``TypeError`` for SQ (sequences are built by the dataset layer).
    """
    conv = CONVERTERS.get(VR)
    if conv is None:
        if VR == "SQ":
            if not raw:
                return []
            raise TypeError("SQ values are read by the dataset layer, not convert_value")
        raise _unknown_vr(VR, tag)
    if not raw:
        return empty_value_for_VR(VR)
    if type(raw) is not bytes:
        raw = bytes(raw)
    if not encodings:
        encodings = _DEFAULT_ENCODINGS
    elif type(encodings) is str:
        encodings = [encodings]
    try:
        value = conv(raw, little_endian, encodings)
    except ValueError:
        value = _retry(VR, raw, little_endian, encodings)
    except BytesLengthException as exc:
        if tag is not None:
            raise BytesLengthException(
                f"{exc} This occurred while trying to parse {Tag(tag)} according to VR '{VR}'."
            ) from None
        raise
    if tag is not None and tag in _LUT_DESCRIPTOR_TAGS and type(value) is list and value:
        try:
            if value[0] < 0:
                value[0] += 65536
        except TypeError:
            pass
    return value
