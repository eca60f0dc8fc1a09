"""Specific Character Set (0008,0005): DICOM defined terms to Python codecs,
decoding with ISO 2022 code extensions, and encoding (for ``PersonName``).

Behaves as pydicom does with its default ``reading_validation_mode`` (WARN):
unknown or misspelled character sets, undecodable bytes and unknown escape
sequences give a ``UserWarning`` and a best-effort result, never an error.
"""
from __future__ import annotations

import codecs
import re
import warnings
from typing import Iterable, Sequence

__all__ = [
    "default_encoding",
    "python_encoding",
    "convert_encodings",
    "decode_bytes",
    "decode_text",
    "encode_string",
    "TEXT_VR_DELIMS",
    "PN_DELIMS",
]

# ISO-IR 6 (ASCII) is read as latin-1, as pydicom does.
default_encoding = "iso8859"

# PS3.5 6.1.2.5.2 / PS3.3 C.12.1.1.2 defined terms -> Python codec names
python_encoding: dict[str, str] = {
    "": default_encoding,
    "ISO_IR 6": default_encoding,
    "ISO_IR 13": "shift_jis",
    "ISO_IR 100": "latin_1",
    "ISO_IR 101": "iso8859_2",
    "ISO_IR 109": "iso8859_3",
    "ISO_IR 110": "iso8859_4",
    "ISO_IR 126": "iso_ir_126",
    "ISO_IR 127": "iso_ir_127",
    "ISO_IR 138": "iso_ir_138",
    "ISO_IR 144": "iso_ir_144",
    "ISO_IR 148": "iso_ir_148",
    "ISO_IR 166": "iso_ir_166",
    "ISO 2022 IR 6": default_encoding,
    "ISO 2022 IR 13": "shift_jis",
    "ISO 2022 IR 87": "iso2022_jp",
    "ISO 2022 IR 100": "latin_1",
    "ISO 2022 IR 101": "iso8859_2",
    "ISO 2022 IR 109": "iso8859_3",
    "ISO 2022 IR 110": "iso8859_4",
    "ISO 2022 IR 126": "iso_ir_126",
    "ISO 2022 IR 127": "iso_ir_127",
    "ISO 2022 IR 138": "iso_ir_138",
    "ISO 2022 IR 144": "iso_ir_144",
    "ISO 2022 IR 148": "iso_ir_148",
    "ISO 2022 IR 149": "euc_kr",
    "ISO 2022 IR 159": "iso2022_jp_2",
    "ISO 2022 IR 166": "iso_ir_166",
    "ISO 2022 IR 58": "iso_ir_58",
    "ISO_IR 192": "UTF8",
    "GB18030": "GB18030",
    "ISO 2022 GBK": "GBK",
    "ISO 2022 58": "GB2312",
    "GBK": "GBK",
}

# character sets that allow no code extensions (PS3.3 Table C.12-5)
STAND_ALONE_ENCODINGS = frozenset({"ISO_IR 192", "GBK", "GB18030"})

ESC = b"\x1b"

# escape sequences of PS3.3 Tables C.12-3 and C.12-4 -> codec
CODES_TO_ENCODINGS: dict[bytes, str] = {
    b"\x1b(B": default_encoding,
    b"\x1b-A": "latin_1",
    b"\x1b)I": "shift_jis",
    b"\x1b(J": "shift_jis",
    b"\x1b$B": "iso2022_jp",
    b"\x1b-B": "iso8859_2",
    b"\x1b-C": "iso8859_3",
    b"\x1b-D": "iso8859_4",
    b"\x1b-F": "iso_ir_126",
    b"\x1b-G": "iso_ir_127",
    b"\x1b-H": "iso_ir_138",
    b"\x1b-L": "iso_ir_144",
    b"\x1b-M": "iso_ir_148",
    b"\x1b-T": "iso_ir_166",
    b"\x1b$)C": "euc_kr",
    b"\x1b$(D": "iso2022_jp_2",
    b"\x1b$)A": "iso_ir_58",
}
ENCODINGS_TO_CODES: dict[str, bytes] = {enc: code for code, enc in CODES_TO_ENCODINGS.items()}
ENCODINGS_TO_CODES["shift_jis"] = b"\x1b)I"

# codecs that handle their own escape sequences (the escape stays in the input)
HANDLED_ENCODINGS = ("iso2022_jp", "iso2022_jp_2", "iso_ir_58")
# codecs whose encoded values need a trailing escape back to the first set
NEED_TAIL_ESCAPE = ("iso2022_jp", "iso2022_jp_2")

# bytes that reset the character set to the default in text VRs / PN groups
TEXT_VR_DELIMS = frozenset({0x0D, 0x0A, 0x09, 0x0C})
PN_DELIMS = frozenset({0x5E})

# codec names with a fast path in bytes.decode (same codec, faster lookup)
_FAST_NAME = {"iso8859": "latin-1", "latin_1": "latin-1", "UTF8": "utf-8"}

_ISO_IR_TYPO = re.compile(r"^ISO[^_]IR")
_ISO_2022_TYPO = re.compile(r"^(?=ISO.2022.IR.)(?!ISO 2022 IR )")


def _warn(msg: str) -> None:
    warnings.warn(msg, UserWarning, stacklevel=3)


# ---------------------------------------------------------------- encodings

def convert_encodings(encodings: None | str | Sequence[str]) -> list[str]:
    """Python codec names for the value(s) of *Specific Character Set*.

    Empty or missing gives ``['iso8859']``. Common misspellings (``'ISO-IR 100'``,
    ``'ISO 2022-IR 87'``) are corrected with a warning; a value that already is a
    Python codec name is kept; anything else becomes the default with a warning.
    A stand-alone set (``ISO_IR 192``, ``GB18030``, ``GBK``) first drops the other
    values, elsewhere it is dropped itself, each with a warning.
    """
    if not encodings:
        values = [""]
    elif isinstance(encodings, str):
        values = [encodings]
    else:
        values = list(encodings)
        if not values[0]:
            values[0] = "ISO_IR 6"
    py = []
    for value in values:
        enc = python_encoding.get(value)
        py.append(enc if enc is not None else _corrected_encoding(value))
    if len(values) > 1:
        py = _drop_stand_alone(values, py)
    return py


def _corrected_encoding(value: str) -> str:
    patched = None
    if _ISO_IR_TYPO.match(value) is not None:
        patched = "ISO_IR" + value[6:]
    elif _ISO_2022_TYPO.match(value) is not None:
        patched = "ISO 2022 IR " + value[12:]
    if patched:
        enc = python_encoding.get(patched)
        if enc is not None:
            _warn(f"Incorrect value for Specific Character Set '{value}' - assuming '{patched}'")
            return enc
        _warn(f"Unknown encoding '{value}' - using default encoding instead")
        return default_encoding
    try:
        codecs.lookup(value)
        return value
    except LookupError:
        _warn(f"Unknown encoding '{value}' - using default encoding instead")
        return default_encoding


def _drop_stand_alone(values: list[str], py: list[str]) -> list[str]:
    if values[0] in STAND_ALONE_ENCODINGS:
        _warn(f"Value '{values[0]}' for Specific Character Set does not allow code "
              f"extensions, ignoring: {', '.join(values[1:])}")
        return py[:1]
    for i in range(len(values) - 1, 0, -1):
        if values[i] in STAND_ALONE_ENCODINGS:
            _warn(f"Value '{values[i]}' cannot be used as code extension, ignoring it")
            del py[i]
    return py


# ---------------------------------------------------------------- decoding

_DELIM_RES: dict[frozenset, "re.Pattern[bytes] | None"] = {}


def _delimiter_re(delimiters: Iterable[int]) -> "re.Pattern[bytes] | None":
    key = delimiters if isinstance(delimiters, frozenset) else frozenset(delimiters)
    try:
        return _DELIM_RES[key]
    except KeyError:
        pass
    codes = sorted(d if isinstance(d, int) else ord(d) for d in key)
    pat = re.compile(b"[" + b"".join(re.escape(bytes([c])) for c in codes) + b"]") if codes else None
    _DELIM_RES[key] = pat
    return pat


def decode_bytes(value: bytes, encodings: Sequence[str], delimiters: Iterable[int] = frozenset()) -> str:
    """Decode ``value`` with the Python ``encodings`` of the dataset.

    Without escape sequences the first encoding decodes the whole value. With
    them, each part starting at an ESC is decoded with the set it designates
    (if the dataset declares it); within a part switched to a single-byte set, a
    byte of ``delimiters`` switches back to the first encoding (PS3.5 6.1.2.5.3).
    Undecodable bytes become U+FFFD with a warning.
    """
    if 27 not in value:  # no ESC (int membership is a memchr)
        first = encodings[0]
        try:
            return value.decode(_FAST_NAME.get(first, first))
        except LookupError:
            _warn(f"Unknown encoding '{first}' - using default encoding instead")
            return value.decode("latin-1")
        except UnicodeError:
            _warn(f"Failed to decode byte string with encoding '{first}' - using "
                  "replacement characters in decoded string")
            return value.decode(first, errors="replace")
    parts = value.split(ESC)
    out = []
    if parts[0]:
        out.append(_decode_fragment(parts[0], encodings, delimiters))
    for part in parts[1:]:
        out.append(_decode_fragment(ESC + part, encodings, delimiters))
    return "".join(out)


def _decode_fragment(fragment: bytes, encodings: Sequence[str], delimiters: Iterable[int]) -> str:
    try:
        if fragment[:1] == ESC:
            return _decode_escaped(fragment, encodings, delimiters)
        return fragment.decode(encodings[0])
    except UnicodeError:
        _warn(f"Failed to decode byte string with encodings: {', '.join(encodings)} - "
              "using replacement characters in decoded string")
        return fragment.decode(encodings[0], errors="replace")


def _decode_escaped(fragment: bytes, encodings: Sequence[str], delimiters: Iterable[int]) -> str:
    n = 4 if fragment[:3] in (b"\x1b$(", b"\x1b$)") else 3
    encoding = CODES_TO_ENCODINGS.get(fragment[:n], "")
    if encoding in encodings or encoding == default_encoding:
        if encoding in HANDLED_ENCODINGS:
            return fragment.decode(encoding)  # the codec reads the escape itself
        body = fragment[n:]
        pat = _delimiter_re(delimiters)
        m = pat.search(body) if pat is not None else None
        if m is not None:
            i = m.start()
            return body[:i].decode(encoding) + body[i:].decode(encodings[0])
        return body.decode(encoding)
    _warn("Found unknown escape sequence in encoded string value - using "
          f"encoding {encodings[0]}")
    return fragment.decode(encodings[0], errors="replace")


def decode_text(value: bytes, encodings: Sequence[str]) -> str:
    """Decode the value of a text VR (SH, LO, ST, LT, UC, UT, PN as a whole)."""
    if 27 not in value:  # no ESC (int membership is a memchr)
        first = encodings[0]
        try:
            return value.decode(_FAST_NAME.get(first, first))
        except (LookupError, UnicodeError):
            pass
    return decode_bytes(value, encodings, TEXT_VR_DELIMS)


# ---------------------------------------------------------------- encoding

def _escape_for(encoding: str, encoded: bytes | None = None) -> bytes:
    if encoding == "shift_jis":
        # ISO-IR 13 (katakana, high bit set) or ISO-IR 14 (romaji)
        if encoded and encoded[0] >= 0x80:
            return b"\x1b)I"
        return b"\x1b(J"
    return ENCODINGS_TO_CODES.get(encoding, b"")


def _encode_jis_x_0201(value: str, errors: str = "strict") -> bytes:
    if errors != "strict" or value == "":
        out = bytearray()
        for c in value:
            try:
                b = c.encode("shift_jis")
            except UnicodeEncodeError:
                b = b"?"
            if len(b) != 1 or b[0] >= 0x80:
                b = b"?"
            out += b
        return bytes(out)
    first = value[0].encode("shift_jis")
    if len(first) != 1:
        raise UnicodeEncodeError("shift_jis", value, 0, len(value), "illegal multibyte sequence")
    msb = first[0] & 0x80
    out = bytearray(first)
    for i in range(1, len(value)):
        try:
            b = value[i].encode("shift_jis")
        except UnicodeEncodeError as exc:
            exc.start, exc.end = i, len(value)
            raise
        if len(b) != 1 or (b[0] & 0x80) ^ msb:
            name = "ISO IR 14" if msb == 0 else "ISO IR 13"
            raise UnicodeEncodeError("shift_jis", value, i, len(value),
                                     f"Given character is out of {name}")
        out += b
    return bytes(out)


def _encode_jis_multibyte(value: str, character_set: str, errors: str) -> bytes:
    encoding = python_encoding[character_set]
    if errors != "strict":
        return value.encode(encoding, errors=errors)
    encoder = codecs.getincrementalencoder(encoding)()
    out = encoder.encode(value[0])
    if not out.startswith(ENCODINGS_TO_CODES[encoding]):
        raise UnicodeEncodeError(encoding, value, 0, len(value),
                                 f"Given character is out of {character_set}")
    for i in range(1, len(value)):
        try:
            b = encoder.encode(value[i])
        except UnicodeEncodeError as exc:
            exc.start, exc.end = i, len(value)
            raise
        if b[:1] == ESC:
            raise UnicodeEncodeError(encoding, value, i, len(value),
                                     f"Given character is out of {character_set}")
        out += b
    return out


def _encode_impl(value: str, encoding: str, errors: str = "strict") -> bytes:
    if encoding == "shift_jis":
        return _encode_jis_x_0201(value, errors)
    if encoding == "iso2022_jp":
        return _encode_jis_multibyte(value, "ISO 2022 IR 87", errors)
    if encoding == "iso2022_jp_2":
        return _encode_jis_multibyte(value, "ISO 2022 IR 159", errors)
    return value.encode(encoding, errors=errors)


def encode_string(value: str, encodings: Sequence[str]) -> bytes:
    """Encode ``value`` with the first of ``encodings`` that can encode all of
    it (with its escape sequence if not the first), else in parts with the
    encoding that covers the longest stretch each time; as a last resort the
    first encoding with replacement characters (and a warning)."""
    for i, encoding in enumerate(encodings):
        try:
            encoded = _encode_impl(value, encoding)
        except UnicodeError:
            continue
        if i > 0 and encoding not in HANDLED_ENCODINGS:
            encoded = _escape_for(encoding, encoded) + encoded
        if encoding in NEED_TAIL_ESCAPE:
            encoded += _escape_for(encodings[0])
        return encoded
    if len(encodings) > 1:
        try:
            return _encode_parts(value, encodings)
        except ValueError:
            pass
    _warn(f"Failed to encode value with encodings: {', '.join(encodings)} - using "
          "replacement characters in encoded string")
    return _encode_impl(value, encodings[0], errors="replace")


def _encode_parts(value: str, encodings: Sequence[str]) -> bytes:
    out = bytearray()
    rest = value
    best = default_encoding
    while rest:
        reach = 0
        for encoding in encodings:
            try:
                _encode_impl(rest, encoding)
            except (UnicodeDecodeError, UnicodeEncodeError) as exc:
                if exc.start > reach:
                    reach, best = exc.start, encoding
                continue
            reach, best = len(rest), encoding
            break
        if reach == 0:
            raise ValueError("None of the given encodings can encode the first character")
        part = _encode_impl(rest[:reach], best)
        if best not in HANDLED_ENCODINGS:
            out += _escape_for(best, part)
        out += part
        rest = rest[reach:]
    if best in NEED_TAIL_ESCAPE:
        out += _escape_for(encodings[0])
    return bytes(out)
