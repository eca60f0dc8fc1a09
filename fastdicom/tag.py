"""DICOM tags: ``Tag`` is an ``int`` subclass (group << 16 | element)."""
from __future__ import annotations

from typing import Any


class Tag(int):
    """A DICOM tag, e.g. ``Tag(0x00100010)``, ``Tag(0x0010, 0x0010)``, ``Tag((0x10, 0x10))``."""

    __slots__ = ()

    def __new__(cls, arg: Any, arg2: int | None = None) -> "Tag":
        if arg2 is not None:
            value = _from_pair(arg, arg2)
        elif isinstance(arg, int):
            value = int(arg)
        elif isinstance(arg, tuple) and len(arg) == 2:
            value = _from_pair(*arg)
        elif isinstance(arg, str):
            value = _from_str(arg)
        else:
            raise TypeError(f"cannot make a tag from {arg!r}")
        if not 0 <= value <= 0xFFFFFFFF:
            raise OverflowError(f"tag {value:#x} is not a 32-bit value")
        return super().__new__(cls, value)

    @property
    def group(self) -> int:
        return self >> 16

    @property
    def element(self) -> int:
        return self & 0xFFFF

    @property
    def is_private(self) -> bool:
        return self.group % 2 == 1

    @property
    def is_private_creator(self) -> bool:
        return self.is_private and 0x0010 <= self.element <= 0x00FF

    def __str__(self) -> str:
        return f"({self.group:04X},{self.element:04X})"

    __repr__ = __str__


def _from_pair(group: Any, element: Any) -> int:
    if isinstance(group, str):
        group = int(group, 16)
    if isinstance(element, str):
        element = int(element, 16)
    if not (0 <= group <= 0xFFFF and 0 <= element <= 0xFFFF):
        raise OverflowError("group and element must each fit in 16 bits")
    return (int(group) << 16) | int(element)


def _from_str(text: str) -> int:
    s = text.strip()
    if s.startswith("(") and s.endswith(")") and "," in s:
        g, e = s[1:-1].split(",")
        return _from_pair(g.strip(), e.strip())
    try:
        return int(s, 16)
    except ValueError:
        pass
    from fastdicom import datadict  # keyword lookup needs the dictionary

    tag = datadict.tag_for_keyword(s)
    if tag is None:
        raise ValueError(f"'{text}' is not a tag or a known keyword")
    return tag
