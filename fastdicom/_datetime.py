"""DA, DT and TM values as ``datetime`` objects that keep their original text
(pydicom's semantics; used when ``fastdicom.config.datetime_conversion`` is on).

``str()`` gives the original text, ``repr()`` the text in double quotes. Blank
text gives ``None``; text that cannot be parsed raises ``ValueError``.
"""
from __future__ import annotations

import datetime
import re
import warnings
from typing import Any

__all__ = ["DA", "DT", "TM"]


class _DateTimeBase:
    original_string: str

    def __getstate__(self) -> dict[str, Any]:
        return self.__dict__.copy()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:  # type: ignore[override]
        return super().__reduce_ex__(protocol) + (self.__getstate__(),)  # type: ignore[misc]

    def __str__(self) -> str:
        try:
            return self.__dict__["original_string"]
        except KeyError:
            return super().__str__()

    def __repr__(self) -> str:
        return f'"{self}"'


class DA(_DateTimeBase, datetime.date):
    """A DA value (``YYYYMMDD``, or the ACR-NEMA ``YYYY.MM.DD``) as a :class:`datetime.date`."""

    def __new__(cls, *args: Any, **kwargs: Any):  # type: ignore[misc]
        if not args or args[0] is None:
            return None
        val = args[0]
        if isinstance(val, str):
            if val.strip() == "":
                return None
            if len(val) == 8:
                return super().__new__(cls, int(val[0:4]), int(val[4:6]), int(val[6:8]))
            if len(val) == 10 and val[4] == "." and val[7] == ".":
                return super().__new__(cls, int(val[0:4]), int(val[5:7]), int(val[8:10]))
        if isinstance(val, datetime.date):
            return super().__new__(cls, val.year, val.month, val.day)
        try:
            return super().__new__(cls, *args, **kwargs)
        except Exception as exc:
            raise ValueError(f"Unable to convert '{val}' to 'DA' object") from exc

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        val = args[0]
        if isinstance(val, str):
            self.original_string = val
        elif isinstance(val, DA) and hasattr(val, "original_string"):
            self.original_string = val.original_string
        elif isinstance(val, datetime.date):
            self.original_string = f"{val.year}{val.month:02}{val.day:02}"


_DT_RE = re.compile(r"((\d{4,14})(\.(\d{1,6}))?)([+-]\d{4})?")


def _utc_offset(value: str) -> datetime.timezone:
    minutes = int(value[1:3]) * 60 + int(value[3:5])
    seconds = -minutes * 60 if value[0] == "-" else minutes * 60
    return datetime.timezone(datetime.timedelta(seconds=seconds), name=value)


class DT(_DateTimeBase, datetime.datetime):
    """A DT value (``YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]][&ZZXX]``) as a :class:`datetime.datetime`."""

    _utc_offset = staticmethod(_utc_offset)

    def __new__(cls, *args: Any, **kwargs: Any):  # type: ignore[misc]
        if not args or args[0] is None:
            return None
        val = args[0]
        if isinstance(val, str):
            if val.strip() == "":
                return None
            m = _DT_RE.match(val)
            if not m or len(val) > 26:
                raise ValueError(f"Unable to convert non-conformant value '{val}' to 'DT' object")
            d = m.group(2)
            n = len(d)
            second = 0 if n < 14 else int(d[12:14])
            if second == 60:
                warnings.warn("'datetime.datetime' doesn't allow a value of '60' for the "
                              "seconds component, changing to '59'", UserWarning, stacklevel=2)
                second = 59
            micro = 0
            if n >= 14 and m.group(4):
                micro = int(m.group(4).rstrip().ljust(6, "0"))
            tz = m.group(5)
            return super().__new__(
                cls, int(d[0:4]), 1 if n < 6 else int(d[4:6]), 1 if n < 8 else int(d[6:8]),
                hour=0 if n < 10 else int(d[8:10]), minute=0 if n < 12 else int(d[10:12]),
                second=second, microsecond=micro, tzinfo=_utc_offset(tz) if tz else None)
        if isinstance(val, datetime.datetime):
            return super().__new__(cls, *val.timetuple()[:6], val.microsecond, val.tzinfo)
        try:
            return super().__new__(cls, *args, **kwargs)
        except Exception as exc:
            raise ValueError(f"Unable to convert '{val}' to 'DT' object") from exc

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        val = args[0]
        if isinstance(val, str):
            self.original_string = val
        elif isinstance(val, DT) and hasattr(val, "original_string"):
            self.original_string = val.original_string
        elif isinstance(val, datetime.datetime):
            text = (f"{val.year:04}{val.month:02}{val.day:02}"
                    f"{val.hour:02}{val.minute:02}{val.second:02}")
            if val.microsecond > 0:
                text += f".{val.microsecond:06}"
            if val.tzinfo is not None:
                offset = val.tzinfo.utcoffset(val)
                if offset is not None:
                    minutes = offset.days * 24 * 60 + offset.seconds // 60
                    sign = "+" if minutes >= 0 else "-"
                    minutes = abs(minutes)
                    text += f"{sign}{minutes // 60:02}{minutes % 60:02}"
            self.original_string = text


_TM_RE = re.compile(r"(?P<h>^([01][0-9]|2[0-3]))((?P<m>([0-5][0-9]))"
                    r"((?P<s>([0-5][0-9]|60))(\.(?P<ms>([0-9]{1,6})?))?)?)?$")


class TM(_DateTimeBase, datetime.time):
    """A TM value (``HH[MM[SS[.F{1-6}]]]``) as a :class:`datetime.time`."""

    def __new__(cls, *args: Any, **kwargs: Any):  # type: ignore[misc]
        if not args or args[0] is None:
            return None
        val = args[0]
        if isinstance(val, str):
            if val.strip() == "":
                return None
            m = _TM_RE.match(val)
            if not m:
                raise ValueError(f"Unable to convert non-conformant value '{val}' to 'TM' object")
            second = 0 if m.group("s") is None else int(m.group("s"))
            if second == 60:
                warnings.warn("'datetime.time' doesn't allow a value of '60' for the "
                              "seconds component, changing to '59'", UserWarning, stacklevel=2)
                second = 59
            micro = int(m.group("ms").rstrip().ljust(6, "0")) if m.group("ms") else 0
            minute = 0 if m.group("m") is None else int(m.group("m"))
            return super().__new__(cls, int(m.group("h")), minute, second, micro)
        if isinstance(val, datetime.time):
            return super().__new__(cls, val.hour, val.minute, val.second, val.microsecond)
        try:
            return super().__new__(cls, *args, **kwargs)
        except Exception as exc:
            raise ValueError(f"Unable to convert '{val}' to 'TM' object") from exc

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        val = args[0]
        if isinstance(val, str):
            self.original_string = val
        elif isinstance(val, TM) and hasattr(val, "original_string"):
            self.original_string = val.original_string
        elif isinstance(val, datetime.time):
            text = f"{val.hour:02}{val.minute:02}{val.second:02}"
            if val.microsecond > 0:
                text += f".{val.microsecond:06}"
            self.original_string = text
