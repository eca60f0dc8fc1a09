"""Data elements: a tag, a VR and a value decoded lazily from the element table."""
from __future__ import annotations

from typing import Any

import copy as _copy
import functools as _functools

from fastdicom import config as _config
from fastdicom import datadict
from fastdicom._core import ElementBase
from fastdicom.tag import Tag
from fastdicom.uid import UID as _UID
from fastdicom.valuerep import DA, DS, DT, IS, TM, MultiValue, PersonName

#: VRs whose values pydicom shows as "Array of N elements" when long
LONG_VALUE_VRS = frozenset({"LT", "UC", "UT", "OB", "OD", "OF", "OL", "OV", "OW", "UN",
                            "OB or OW", "US or OW", "US or SS or OW", "US or SS"})
STRING_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST",
                        "TM", "UC", "UI", "UR", "UT"})
BYTES_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN", "OB or OW", "US or OW",
                       "US or SS or OW"})


class Sequence(list):
    """A list of :class:`fastdicom.Dataset` items (pydicom's ``Sequence``)."""

    is_undefined_length = False

    def __init__(self, iterable: Any = ()) -> None:
        if isinstance(iterable, (str, bytes)) or (
            not hasattr(iterable, "__iter__") and iterable is not None
        ):
            raise TypeError("An iterable of 'Dataset' is required")
        super().__init__(iterable or ())

    def __str__(self) -> str:
        return "[" + "".join(f"\n{item}" for item in self) + " ]" if self else "<Sequence, length 0>"

    def __repr__(self) -> str:
        return f"<Sequence, length {len(self)}>"


class DataElement(ElementBase):
    """An element of a dataset (pydicom's ``DataElement``).

    Elements read from a file keep a reference to the element table and
    decode their value on first access (``value``, in the compiled core);
    elements made by the user hold theirs.
    """

    __slots__ = ()

    descripWidth = 35
    maxBytesToDisplay = 16
    showVR = True

    def __init__(self, tag: Any, VR: str, value: Any, file_value_tell: int | None = None,
                 is_undefined_length: bool = False, already_converted: bool = False) -> None:
        self.tag = tag if type(tag) is Tag else Tag(tag)
        self.VR = VR
        self._tokens = None
        self._owner = None
        self._index = -1
        self.is_undefined_length = is_undefined_length
        self.private_creator = None
        self._little_endian = True
        self._value = convert_assigned(self, value)

    def __deepcopy__(self, memo: dict) -> "DataElement":
        new = DataElement.__new__(DataElement)
        memo[id(self)] = new
        for name in ("tag", "VR", "is_undefined_length", "private_creator"):
            setattr(new, name, getattr(self, name))
        new._tokens = None
        new._owner = None
        new._index = -1
        new._little_endian = True
        new._value = _copy.deepcopy(self.value, memo)
        return new

    def __reduce__(self) -> tuple:
        return (_rebuild_element, (self.tag, self.VR, self.value, self.is_undefined_length,
                                   self.private_creator))

    def __copy__(self) -> "DataElement":
        new = DataElement.__new__(DataElement)
        for name in ("tag", "VR", "_value", "_tokens", "_owner", "_index", "is_undefined_length",
                     "private_creator", "_little_endian"):
            setattr(new, name, getattr(self, name))
        return new

    @property
    def raw_bytes(self) -> memoryview | None:
        """The value as found in the data: a zero-copy memoryview of the buffer
        (None for elements that were not read from data)."""
        if self._tokens is None or self._index < 0:
            return None
        return self._tokens.value(self._index)

    @property
    def VM(self) -> int:
        v = self.value
        if v is None:
            return 0
        if isinstance(v, (str, bytes, bytearray, PersonName)):
            return 1 if v else 0
        if isinstance(v, Sequence):
            return 1
        try:
            iter(v)
        except TypeError:
            return 1
        return len(v)

    @property
    def keyword(self) -> str:
        if datadict.dictionary_has_tag(self.tag):
            return datadict.dictionary_keyword(self.tag)
        return ""

    @property
    def name(self) -> str:
        tag = self.tag
        if tag.is_private:
            if self.private_creator:
                try:
                    return "[" + datadict.private_dictionary_description(tag, self.private_creator) + "]"
                except KeyError:
                    pass
            elif tag.element >> 8 == 0:
                return "Private Creator"
            return "Private tag data"
        if datadict.dictionary_has_tag(tag) or datadict.repeater_has_tag(tag):
            return datadict.dictionary_description(tag)
        if tag.element == 0:
            return "Group Length"
        return ""

    description = name

    @property
    def is_private(self) -> bool:
        return self.tag.is_private

    @property
    def is_retired(self) -> bool:
        if datadict.dictionary_has_tag(self.tag):
            return datadict.dictionary_is_retired(self.tag)
        return False

    @property
    def is_empty(self) -> bool:
        return self.VM == 0

    @property
    def repval(self) -> str:
        value = self.value
        if self.VR in LONG_VALUE_VRS:
            try:
                length = len(value)
            except TypeError:
                pass
            else:
                if length > self.maxBytesToDisplay:
                    return f"Array of {length} elements"
        vm = self.VM
        if vm > self.maxBytesToDisplay:
            return f"Array of {vm} elements"
        if isinstance(value, _UID):
            return value.name
        return repr(value)

    def __str__(self) -> str:
        value = self.repval or ""
        name = f"{self.name[:self.descripWidth]:<{self.descripWidth}}"
        if self.showVR:
            return f"{self.tag} {name} {self.VR}: {value}"
        return f"{self.tag} {name} {value}"

    __repr__ = __str__

    def __eq__(self, other: Any) -> bool:
        if other is self:
            return True
        if not isinstance(other, DataElement):
            return NotImplemented
        return self.tag == other.tag and self.VR == other.VR and self.value == other.value

    def __ne__(self, other: Any) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None  # type: ignore[assignment]

    def __getitem__(self, key: int) -> Any:
        try:
            return self.value[key]
        except TypeError:
            raise TypeError("DataElement value is unscriptable (not a Sequence)") from None

    def to_pydicom_raw(self) -> tuple[Tag, str, Any]:
        return (self.tag, self.VR, self.value)


def _rebuild_element(tag: Any, VR: str, value: Any, undefined: bool, creator: Any) -> DataElement:
    elem = DataElement(tag, VR, value, is_undefined_length=undefined)
    elem.private_creator = creator
    return elem


# VRs whose values may hold a backslash (not a value separator)
ALLOW_BACKSLASH = frozenset({"LT", "ST", "UT", "US or SS or OW", "US or OW", "OB or OW"}) | BYTES_VRS
# VRs of the default character repertoire: bytes assigned to them are decoded
DEFAULT_CHARSET_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI", "UR"})
_LUT_DESCRIPTOR_TAGS = frozenset({0x00281101, 0x00281102, 0x00281103, 0x00283002})


def _convert_one(elem: DataElement, val: Any) -> Any:
    vr = elem.VR
    if vr in DEFAULT_CHARSET_VRS and isinstance(val, bytes):
        val = val.decode()
    if vr == "IS":
        return IS(val)
    if vr == "DS":
        return DS(val, False)
    if vr == "UI":
        from fastdicom.uid import UID

        return UID(val) if val is not None else None
    if vr == "PN":
        return PersonName(val)
    if vr == "AT" and (val == 0 or val):
        return val if isinstance(val, Tag) else Tag(val)
    if _config.datetime_conversion:
        if vr == "DA":
            return DA(val)
        if vr == "DT":
            return DT(val)
        if vr == "TM":
            return TM(val)
    return val


def _pass_through(val: Any) -> Any:
    return val


def convert_assigned(elem: DataElement, val: Any) -> Any:
    """A value assigned to ``elem`` in the form pydicom gives it: a backslash
    separates values (but in the VRs that allow one), each value is made the
    VR's type (IS, DSfloat, UID, PersonName, Tag ...), several values a
    ``MultiValue``."""
    vr = elem.VR
    if vr == "SQ":
        if isinstance(val, Sequence):
            return val
        return Sequence(val if val is not None else ())
    if vr not in ALLOW_BACKSLASH:
        if isinstance(val, str):
            val = val.split("\\") if "\\" in val else val
        elif isinstance(val, bytes):
            val = val.split(b"\\") if b"\\" in val else val
    if not hasattr(val, "append"):
        return _convert_one(elem, val)
    if len(val) == 1:
        return _convert_one(elem, val[0])
    if elem.tag in _LUT_DESCRIPTOR_TAGS and val:
        return MultiValue(_pass_through, val)
    return MultiValue(_functools.partial(_convert_one, elem), val)
