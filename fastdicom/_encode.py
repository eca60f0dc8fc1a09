"""Values to bytes, one VR at a time, as pydicom's ``filewriter`` encodes them.

Used by :mod:`fastdicom._dsencode` for elements that are new or changed (the
others are copied from the bytes they were read from). Every function returns
the value padded to an even length: UI with NUL, OB/OW/OD/OF/OL/OV/UN with
NUL, the other string VRs with a space.
"""
from __future__ import annotations

import struct
import sys
from typing import Any, Callable

from fastdicom.charset import encode_string
from fastdicom.tag import Tag
from fastdicom.valuerep import MultiValue, PersonName

__all__ = ["LONG_VRS", "TEXT_VRS", "encode_value", "swap_bytes", "swap_unit", "resolve_vr",
           "AmbiguousVRError"]

#: VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 7.1.2)
LONG_VRS = frozenset("OB OD OF OL OV OW SQ SV UC UN UR UT UV".split())
#: VRs whose bytes depend on the Specific Character Set
TEXT_VRS = frozenset(("SH", "LO", "ST", "LT", "UC", "UT", "PN"))
#: byte-swap unit of the binary VRs between little and big endian
_SWAP = {"US": 2, "SS": 2, "OW": 2, "AT": 2, "UL": 4, "SL": 4, "FL": 4, "OF": 4, "OL": 4,
         "FD": 8, "SV": 8, "UV": 8, "OD": 8, "OV": 8}
_NUMBER_FORMATS = {"US": "H", "SS": "h", "UL": "L", "SL": "l", "FL": "f", "FD": "d",
                   "SV": "q", "UV": "Q"}
_LUT_DESCRIPTOR_TAGS = frozenset({0x00281101, 0x00281102, 0x00281103, 0x00283002})
_AMBIGUOUS_US_SS = frozenset({
    0x00189810, 0x00221452, 0x00280104, 0x00280105, 0x00280106, 0x00280107, 0x00280108,
    0x00280109, 0x00280110, 0x00280111, 0x00280120, 0x00280121, 0x00281101, 0x00281102,
    0x00281103, 0x00283002, 0x00409211, 0x00409216, 0x00603004, 0x00603006,
})
_AMBIGUOUS_OB_OW = frozenset({0x54000110, 0x54000112, 0x5400100A, 0x54001010})
_PIXEL_DATA = 0x7FE00010
_NATIVE_LE = sys.byteorder == "little"


class AmbiguousVRError(ValueError):
    """An element's VR is ambiguous ('US or SS' ...) and cannot be resolved."""


def _is_multi(value: Any) -> bool:
    return isinstance(value, (MultiValue, list, tuple)) or type(value).__name__ == "ndarray"


def _pad(data: bytes, pad: bytes) -> bytes:
    return data + pad if len(data) & 1 else data


# ---------------------------------------------------------------- strings

def _ascii(value: Any) -> str:
    if _is_multi(value):
        return "\\".join(value)
    return value


def _enc_string(value: Any, encodings: Any, little: bool, tag: int) -> bytes:
    """AE, AS, CS, UR: default character repertoire, space padded."""
    text = _ascii(value)
    data = text.encode("latin-1") if isinstance(text, str) else bytes(text)
    return _pad(data, b" ")


def _enc_ui(value: Any, encodings: Any, little: bool, tag: int) -> bytes:
    text = _ascii(value)
    data = text.encode("latin-1") if isinstance(text, str) else bytes(text)
    return _pad(data, b"\x00")


def _fmt_datetime(fmt: Callable[[Any], str]) -> Callable[[Any, Any, bool, int], bytes]:
    def enc(value: Any, encodings: Any, little: bool, tag: int) -> bytes:
        if isinstance(value, str):
            return _enc_string(value, encodings, little, tag)
        if _is_multi(value):
            text = "\\".join(x if isinstance(x, str) else fmt(x) for x in value)
        else:
            text = fmt(value)
        return _pad(text.encode("latin-1"), b" ")
    return enc


def _original(val: Any, make: Callable[[Any], str]) -> str:
    if val is None:
        return ""
    orig = getattr(val, "original_string", None)
    return orig if orig is not None else make(val)


def _da(val: Any) -> str:
    return _original(val, lambda v: v.strftime("%Y%m%d"))


def _dt(val: Any) -> str:
    return _original(val, lambda v: v.strftime("%Y%m%d%H%M%S.%f%z" if v.microsecond > 0
                                                else "%Y%m%d%H%M%S%z"))


def _tm(val: Any) -> str:
    return _original(val, lambda v: v.strftime("%H%M%S.%f" if v.microsecond > 0 else "%H%M%S"))


def _number_text(x: Any) -> str:
    orig = getattr(x, "original_string", None)
    return orig if orig is not None else str(x)


def _enc_number_string(value: Any, encodings: Any, little: bool, tag: int) -> bytes:
    """DS, IS: the text each value was read from, else ``str()`` of it."""
    if _is_multi(value):
        text = "\\".join(_number_text(x) for x in value)
    else:
        text = _number_text(value)
    return _pad(text.encode("latin-1"), b" ")


def _text_one(value: Any, encodings: Any) -> bytes:
    if isinstance(value, str):
        return encode_string(value, encodings)
    return bytes(value)


def _enc_text(value: Any, encodings: Any, little: bool, tag: int) -> bytes:
    """SH, LO, ST, LT, UC, UT: with the character set of the dataset."""
    if _is_multi(value):
        data = b"\\".join([_text_one(v, encodings) for v in value])
    else:
        data = _text_one(value, encodings)
    return _pad(data, b" ")


def _pn_one(value: Any, encodings: Any) -> bytes:
    if not isinstance(value, PersonName):
        value = PersonName(value)
    return value.encode(encodings)


def _enc_pn(value: Any, encodings: Any, little: bool, tag: int) -> bytes:
    values = value if _is_multi(value) else [value]
    return _pad(b"\\".join([_pn_one(v, encodings) for v in values]), b" ")


# ---------------------------------------------------------------- binary

def _enc_at(value: Any, encodings: Any, little: bool, tag: int) -> bytes:
    fmt = "<HH" if little else ">HH"
    tags = [Tag(t) for t in value] if _is_multi(value) else [Tag(value)]
    return b"".join([struct.pack(fmt, t >> 16, t & 0xFFFF) for t in tags])


def _numbers(code: str) -> Callable[[Any, Any, bool, int], bytes]:
    def enc(value: Any, encodings: Any, little: bool, tag: int) -> bytes:
        if value is None or (isinstance(value, str) and value == ""):
            return b""
        end = "<" if little else ">"
        try:
            if type(value).__name__ == "ndarray":
                value = value.tolist()
            if not hasattr(value, "append") and not isinstance(value, tuple):
                return struct.pack(end + code, value)
            values = list(value)
            head = b""
            if code == "h" and tag in _LUT_DESCRIPTOR_TAGS and values:
                # the first value of a LUT Descriptor is always US
                head = struct.pack(end + "H", values[0])
                values = values[1:]
            return head + struct.pack(f"{end}{len(values)}{code}", *values)
        except Exception as exc:
            raise OSError(f"{exc}\nfor data_element:\n{Tag(tag)} value {value!r}") from exc
    return enc


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    tobytes = getattr(value, "tobytes", None)
    if tobytes is not None:
        return tobytes()
    if isinstance(value, str):
        raise TypeError("a bytes value is required, not str")
    return bytes(value)


def _enc_bytes(value: Any, encodings: Any, little: bool, tag: int) -> bytes:
    """OB, OD, OF, OL, OV, OW, UN: written as given (no byte swapping), NUL padded."""
    return _pad(_as_bytes(value), b"\x00")


ENCODERS: dict[str, Callable[[Any, Any, bool, int], bytes]] = {
    "AE": _enc_string, "AS": _enc_string, "CS": _enc_string, "UR": _enc_string,
    "UI": _enc_ui,
    "DA": _fmt_datetime(_da), "DT": _fmt_datetime(_dt), "TM": _fmt_datetime(_tm),
    "DS": _enc_number_string, "IS": _enc_number_string,
    "SH": _enc_text, "LO": _enc_text, "ST": _enc_text, "LT": _enc_text, "UC": _enc_text,
    "UT": _enc_text, "PN": _enc_pn,
    "AT": _enc_at,
    "US": _numbers("H"), "SS": _numbers("h"), "UL": _numbers("L"), "SL": _numbers("l"),
    "FL": _numbers("f"), "FD": _numbers("d"), "SV": _numbers("q"), "UV": _numbers("Q"),
    "OB": _enc_bytes, "OD": _enc_bytes, "OF": _enc_bytes, "OL": _enc_bytes, "OV": _enc_bytes,
    "OW": _enc_bytes, "UN": _enc_bytes,
    # ambiguous VRs left unresolved (implicit VR only): the value as bytes
    "OB or OW": _enc_bytes, "US or OW": _enc_bytes, "US or SS or OW": _enc_bytes,
    "US or SS": _enc_bytes,
}


def is_empty(value: Any) -> bool:
    """pydicom's ``DataElement.is_empty`` (VM 0): nothing is written for the value."""
    if value is None:
        return True
    if isinstance(value, (str, bytes, bytearray, PersonName)):
        return not value
    if type(value).__name__ == "ndarray":
        return value.size == 0
    if isinstance(value, (MultiValue, list, tuple)):
        return len(value) == 0
    return False


def encode_value(vr: str, value: Any, encodings: Any, little: bool, tag: int) -> bytes:
    """The bytes of ``value`` (an element's Python value) for ``vr``, padded to even length."""
    if is_empty(value):
        return b""
    fn = ENCODERS.get(vr)
    if fn is None:
        raise NotImplementedError(f"write_data_element: unknown Value Representation '{vr}'")
    if vr in ("US", "SS") and isinstance(value, (bytes, bytearray)):
        return _enc_bytes(value, encodings, little, tag)  # an ambiguous VR resolved, raw value
    return fn(value, encodings, little, tag)


# ---------------------------------------------------------------- byte order

def swap_bytes(data: Any, unit: int) -> bytes:
    """``data`` with every ``unit``-byte word reversed (a tail shorter than a word is kept)."""
    import numpy as np

    n = len(data) - len(data) % unit
    swapped = np.frombuffer(data, dtype=f"u{unit}", count=n // unit).byteswap().tobytes()
    if n != len(data):
        swapped += bytes(data[n:])
    return swapped


def _nearest(ancestors: list, keyword: str) -> Any:
    for ds in ancestors:
        v = ds.get(keyword)
        if v is not None:
            return v
    return None


def swap_unit(vr: str, tag: int, ancestors: list) -> int:
    """Bytes per word to reverse when converting a value of ``vr`` between little
    and big endian (1: none). Native Pixel Data is read as pydicom reads big
    endian pixel data: words of Bits Allocated (16, 32 or 64) whatever the VR,
    8-bit data encoded as OW in 16-bit words, other data (OB, 1 bit) as bytes."""
    if tag == _PIXEL_DATA:
        bits = ancestors[0].get("BitsAllocated") if ancestors else None
        if bits in (16, 32, 64):
            return bits // 8
        return 2 if bits == 8 and vr == "OW" else 1
    return _SWAP.get(vr, 1)


def _original_implicit(ds: Any) -> bool:
    tok = getattr(ds, "_tokens", None)
    return tok is not None and not tok.explicit_vr


def resolve_vr(vr: str, tag: int, undefined: bool, ancestors: list) -> str:
    """The VR to write for an element whose VR is ambiguous ('US or SS', 'OB or
    OW', ...), resolved from its datasets (nearest first) as pydicom does when
    it writes; other VRs are returned as they are. Raises AmbiguousVRError when
    an element needed to decide is missing."""
    if " or " not in vr:
        return vr
    ds = ancestors[0]
    try:
        if tag == _PIXEL_DATA:
            if undefined:
                return "OB"
            if _original_implicit(ds):
                return "OW"
            return "OW" if ds.BitsAllocated > 8 else "OB"
        if tag in _AMBIGUOUS_US_SS:
            rep = _nearest(ancestors, "PixelRepresentation")
            if rep is None:
                rep = 0 if ("PixelRepresentation" not in ds and "PixelData" not in ds) else 1
            return "US" if rep == 0 else "SS"
        if tag in _AMBIGUOUS_OB_OW:
            if _original_implicit(ds):
                return "OW"
            return "OW" if ds.WaveformBitsAllocated > 8 else "OB"
        if tag == 0x00283006:
            return "US" if ds.LUTDescriptor[0] == 1 else "OW"
        if (tag >> 16) & 0xFF01 == 0x6000 and tag & 0xFFFF == 0x3000:
            return "OW"
    except (AttributeError, TypeError, IndexError) as exc:
        raise AmbiguousVRError(f"Failed to resolve ambiguous VR for tag {Tag(tag)}: {exc}") from None
    return vr
