"""Tiny hand encoders for building test data byte by byte (independent of the
code under test and of pydicom)."""
from __future__ import annotations

import struct

UNDEF = 0xFFFFFFFF
LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}


def tag_bytes(tag: int, little: bool = True) -> bytes:
    e = "<" if little else ">"
    return struct.pack(e + "HH", tag >> 16, tag & 0xFFFF)


def elem(tag: int, vr: str, value: bytes, *, explicit: bool = True, little: bool = True,
         length: int | None = None) -> bytes:
    """One data element; ``length`` overrides the declared length."""
    e = "<" if little else ">"
    n = len(value) if length is None else length
    if not explicit:
        return tag_bytes(tag, little) + struct.pack(e + "L", n) + value
    if vr in LONG_VRS:
        return tag_bytes(tag, little) + vr.encode() + b"\0\0" + struct.pack(e + "L", n) + value
    return tag_bytes(tag, little) + vr.encode() + struct.pack(e + "H", n) + value


def item(content: bytes, *, undefined: bool = False, little: bool = True) -> bytes:
    e = "<" if little else ">"
    if undefined:
        return tag_bytes(0xFFFEE000, little) + struct.pack(e + "L", UNDEF) + content + delim(0xFFFEE00D, little)
    return tag_bytes(0xFFFEE000, little) + struct.pack(e + "L", len(content)) + content


def delim(tag: int, little: bool = True, length: int = 0) -> bytes:
    return tag_bytes(tag, little) + struct.pack(("<" if little else ">") + "L", length)


def seq(tag: int, items: list[bytes], *, undefined: bool = False, explicit: bool = True,
        little: bool = True, vr: str = "SQ") -> bytes:
    body = b"".join(items)
    if undefined:
        return elem(tag, vr, body, explicit=explicit, little=little, length=UNDEF) + delim(0xFFFEE0DD, little)
    return elem(tag, vr, body, explicit=explicit, little=little)


def encapsulated(fragments: list[bytes], offsets: bytes = b"", tag: int = 0x7FE00010) -> bytes:
    body = item(offsets) + b"".join(item(f) for f in fragments)
    return elem(tag, "OB", body, length=UNDEF) + delim(0xFFFEE0DD)
