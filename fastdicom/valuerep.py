"""Value classes with pydicom's semantics: ``MultiValue``, ``DSfloat``,
``DSdecimal``, ``IS`` (and ``ISfloat``); ``PersonName`` (from
:mod:`fastdicom._personname`) and ``DA``, ``DT``, ``TM`` (opt-in through
``fastdicom.config.datetime_conversion``, from :mod:`fastdicom._datetime`)
are re-exported here.

Differences from pydicom: no ``validation_mode`` (values are never validated
on reading, so pydicom's "invalid value" warnings are not issued; the
parameter is accepted and ignored).
"""
from __future__ import annotations

import re
import warnings
from collections.abc import MutableSequence
from decimal import Decimal
from math import floor, isfinite, log10
from typing import Any, Callable, Iterable, Iterator

from fastdicom import config
from fastdicom._datetime import DA, DT, TM  # noqa: F401  (re-exported)
from fastdicom._personname import PersonName  # noqa: F401  (re-exported)

__all__ = ["MultiValue", "DSfloat", "DSdecimal", "DS", "IS", "ISfloat", "PersonName",
           "DA", "DT", "TM", "format_number_as_ds", "is_valid_ds"]

_float_new = float.__new__
_int_new = int.__new__


# ---------------------------------------------------------------- MultiValue

class MultiValue(MutableSequence):
    """A list of values of one type; items added are passed through the type
    constructor. Compares equal to a list with the same items; ``str`` is like
    a list's but with non-string items shown with ``str`` (``[1.5, 2]``)."""

    __slots__ = ("_list", "_constructor")

    def __init__(self, type_constructor: Callable[[Any], Any], iterable: Iterable[Any] = ()) -> None:
        self._constructor = type_constructor
        self._list = [type_constructor(x) for x in iterable]

    @classmethod
    def _of(cls, type_constructor: Callable[[Any], Any], items: list) -> "MultiValue":
        """Wrap ``items`` (already of the right type) without converting them."""
        self = object.__new__(cls)
        self._constructor = type_constructor
        self._list = items
        return self

    def _validate(self, item: Any) -> Any:
        return self._constructor(item)

    def append(self, item: Any) -> None:
        self._list.append(self._constructor(item))

    def extend(self, val: Iterable[Any]) -> None:
        if not hasattr(val, "__iter__"):
            raise TypeError("An iterable is required")
        self._list.extend([self._constructor(x) for x in val])

    def insert(self, position: int, item: Any) -> None:
        self._list.insert(position, self._constructor(item))

    def __iadd__(self, other: Iterable[Any]) -> "MultiValue":
        if not hasattr(other, "__iter__"):
            raise TypeError("An iterable is required")
        self._list += [self._constructor(x) for x in other]
        return self

    def __getitem__(self, index):  # type: ignore[override]
        return self._list[index]

    def __setitem__(self, index, val) -> None:  # type: ignore[override]
        if isinstance(index, slice):
            self._list[index] = [self._constructor(x) for x in val]
        else:
            self._list[index] = self._constructor(val)

    def __delitem__(self, index) -> None:  # type: ignore[override]
        del self._list[index]

    def __len__(self) -> int:
        return len(self._list)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._list)

    def __contains__(self, x: Any) -> bool:
        return x in self._list

    def __eq__(self, other: Any) -> Any:
        return self._list == other

    def __ne__(self, other: Any) -> Any:
        return self._list != other

    __hash__ = None  # type: ignore[assignment]

    def sort(self, *args: Any, **kwargs: Any) -> None:
        self._list.sort(*args, **kwargs)

    def __str__(self) -> str:
        if not self._list:
            return ""
        return "[" + ", ".join([repr(x) if isinstance(x, (str, bytes)) else str(x)
                                for x in self._list]) + "]"

    __repr__ = __str__

    def __getstate__(self) -> dict:
        return {"_list": self._list, "_constructor": self._constructor}

    def __setstate__(self, state: dict) -> None:
        self._list = state["_list"]
        self._constructor = state["_constructor"]


# ---------------------------------------------------------------- DS

_DS_RE = re.compile(r"^ *[+\-]?(\d+|\d+\.\d*|\.\d+)([eE][+\-]?\d+)? *$")


def is_valid_ds(s: str) -> bool:
    """True if ``s`` is a valid decimal string (at most 16 characters of the DS repertoire)."""
    return isinstance(s, (str, bytes)) and len(s) <= 16 and _DS_RE.match(
        s if isinstance(s, str) else s.decode("latin-1")) is not None


def format_number_as_ds(val: float | Decimal) -> str:
    """The closest representation of ``val`` that is a valid DS (<= 16 characters)."""
    if not isinstance(val, (float, Decimal)):
        raise TypeError("'val' must be of type float or decimal.Decimal")
    if not isfinite(val):
        raise ValueError(f"Cannot encode non-finite floats as DICOM decimal strings. Got '{val}'")
    text = str(val)
    if len(text) <= 16:
        return text
    logval = log10(abs(val))
    sign = 1 if val < 0 else 0
    if logval < -4 or logval >= 14 - sign:
        digits = 10 - sign
        text = f"{val:.{digits}e}"
        if len(text) > 16:
            text = f"{val:.{digits - 1}e}"
        return text
    digits = 14 - sign - (int(floor(logval)) if logval >= 1.0 else 0)
    return f"{val:.{digits}f}"


def _auto_format(obj: Any, auto_format: bool, pre_checked: bool) -> None:
    obj.auto_format = auto_format
    if auto_format and not pre_checked:
        orig = getattr(obj, "original_string", None)
        if orig is not None:
            if not is_valid_ds(orig):
                obj.original_string = format_number_as_ds(float(orig))
        else:
            obj.original_string = format_number_as_ds(obj)


class _EqualToText:
    """Equal to the text of the value (``str()``) as well as to the number."""

    __slots__ = ()

    def __eq__(self, other: Any) -> Any:
        if isinstance(other, str):
            return str(self) == other
        return super().__eq__(other)  # the number's

    def __ne__(self, other: Any) -> Any:
        return not self == other


class DSfloat(_EqualToText, float):
    """A DS value as a ``float`` that keeps the text it was read from:
    ``str()`` gives that text, ``repr()`` the text in single quotes, and it
    compares equal to that text as well as to the number."""

    __slots__ = ("original_string", "auto_format")

    def __new__(cls, val: Any, auto_format: bool = False, validation_mode: int | None = None):
        if val is None:
            return None
        if isinstance(val, str) and val.strip() == "":
            return val
        return _float_new(cls, val)

    def __init__(self, val: Any, auto_format: bool = False, validation_mode: int | None = None) -> None:
        pre_checked = False
        if isinstance(val, str):
            self.original_string = val.strip()
        elif isinstance(val, (DSfloat, DSdecimal)):
            if val.auto_format:
                auto_format = pre_checked = True
            if hasattr(val, "original_string"):
                self.original_string = val.original_string
        _auto_format(self, auto_format, pre_checked)

    __hash__ = float.__hash__

    def __str__(self) -> str:
        try:
            if not self.auto_format:
                return self.original_string
        except AttributeError:
            pass
        return repr(self)[1:-1]

    def __repr__(self) -> str:
        try:
            return f"'{self.original_string}'"
        except AttributeError:
            return f"'{float.__repr__(self)}'"


class DSdecimal(_EqualToText, Decimal):
    """A DS value as a :class:`decimal.Decimal` that keeps its original text."""

    __slots__ = ("original_string", "auto_format")

    def __new__(cls, val: Any, auto_format: bool = False, validation_mode: int | None = None):
        if val is None:
            return None
        if isinstance(val, str) and val.strip() == "":
            return val
        if isinstance(val, float):
            if not getattr(config, "allow_DS_float", False):
                raise TypeError("'DS' cannot be instantiated with a float value unless "
                                "'config.allow_DS_float' is set to True")
        return Decimal.__new__(cls, val)

    def __init__(self, val: Any, auto_format: bool = False, validation_mode: int | None = None) -> None:
        pre_checked = False
        if isinstance(val, str):
            self.original_string = val.strip()
        elif isinstance(val, (DSfloat, DSdecimal)):
            if val.auto_format:
                auto_format = pre_checked = True
            if hasattr(val, "original_string"):
                self.original_string = val.original_string
        _auto_format(self, auto_format, pre_checked)
        text = repr(self).strip("'")
        if len(text) > 16:
            warnings.warn("Values for elements with a VR of 'DS' values must be <= 16 "
                          "characters long", UserWarning, stacklevel=2)
        elif not is_valid_ds(text):
            warnings.warn(f'Value "{self}" is not valid for elements with a VR of DS',
                          UserWarning, stacklevel=2)

    __hash__ = Decimal.__hash__

    def __str__(self) -> str:
        orig = getattr(self, "original_string", None)
        if orig is not None and len(orig) <= 16:
            return orig
        return Decimal.__str__(self)

    def __repr__(self) -> str:
        orig = getattr(self, "original_string", None)
        if orig is not None:
            return f"'{orig}'"
        return f"'{self}'"


def DS(val: Any, auto_format: bool = False, validation_mode: int | None = None) -> Any:
    """A ``DSfloat`` (or ``DSdecimal`` with ``config.use_DS_decimal``); blank text stays text."""
    if val is None:
        return None
    if isinstance(val, str) and val.strip() == "":
        return val
    if config.use_DS_decimal:
        return DSdecimal(val, auto_format)
    return DSfloat(val, auto_format)


# ---------------------------------------------------------------- IS

class ISfloat(float):
    """An IS value that is not an integer (e.g. ``'1.5'``): a ``float`` keeping its text."""

    def __new__(cls, val: Any, validation_mode: int | None = None):
        if isinstance(val, str) and val.strip() == "":
            return ""
        return _float_new(cls, val)

    def __init__(self, val: Any, validation_mode: int | None = None) -> None:
        if isinstance(val, str):
            self.original_string = val.strip()
        elif isinstance(val, (IS, ISfloat)) and hasattr(val, "original_string"):
            self.original_string = val.original_string
        if validation_mode:
            warnings.warn(f'Value "{self}" is not valid for elements with a VR of IS',
                          UserWarning, stacklevel=3)


_EXACT = 2 ** 53


class IS(_EqualToText, int):
    """An IS value as an ``int`` that keeps its original text (``str()``);
    ``repr()`` is the number in single quotes. Text such as ``'1.0'`` gives
    ``IS(1)``; text that is not a whole number gives an :class:`ISfloat`."""

    def __new__(cls, val: Any, validation_mode: int | None = None):
        if val is None:
            return None
        if isinstance(val, str) and val.strip() == "":
            return val
        try:
            new = _int_new(cls, val)
        except ValueError:
            new = _int_new(cls, float(val))
        if isinstance(val, (float, Decimal, str)) and new != float(val):
            return ISfloat(val, 1 if validation_mode is None else validation_mode)
        return new

    def __init__(self, val: Any, validation_mode: int | None = None) -> None:
        if isinstance(val, str):
            self.original_string = val.strip()
        elif isinstance(val, IS) and hasattr(val, "original_string"):
            self.original_string = val.original_string

    __hash__ = int.__hash__

    def __str__(self) -> str:
        try:
            return self.__dict__["original_string"]
        except KeyError:
            return int.__repr__(self)

    def __repr__(self) -> str:
        return f"'{int.__repr__(self)}'"


def _is_from_text(s: str) -> Any:
    """``IS(s)`` for text ``s`` on the reading path (same result, less overhead)."""
    try:
        new = _int_new(IS, s)
    except ValueError:
        if s.strip() == "":
            return s
        new = _int_new(IS, float(s))
        if new != float(s):
            return ISfloat(s, 1)
    else:
        # up to 15 characters hold at most 15 digits: exact as a float
        if len(s) > 15 and int(new) != float(s):
            return ISfloat(s, 1)
    new.original_string = s.strip()
    return new
