"""The DICOM JSON Model (PS3.18 Annex F): datasets to and from JSON.

:func:`to_json_dict` gives exactly what pydicom's ``Dataset.to_json_dict`` gives
for the same data (same keys, same ``vr``, same values of the same JSON types),
:func:`from_json` builds the dataset pydicom's ``Dataset.from_json`` builds.
The rules (PS3.18 F.2):

* the key of an attribute is its tag as 8 upper-case hex digits; every
  attribute has its ``"vr"``;
* a value is a ``"Value"`` array: strings for the text VRs, numbers for the
  numeric ones (IS as integers, DS as floats), the tags of AT as 8 hex digits,
  person names as ``{"Alphabetic", "Ideographic", "Phonetic"}`` objects
  (only the groups present), and for SQ an array of item objects (empty array
  for an empty sequence);
* binary VRs (OB, OD, OF, OL, OV, OW, UN and the ambiguous ``OB or OW``-style
  VRs) give ``"InlineBinary"`` (base64), or ``"BulkDataURI"`` when a
  ``bulk_data_element_handler`` is given and the value is longer than
  ``bulk_data_threshold`` base64 characters (i.e. ``(threshold // 4) * 3``
  bytes); the bytes are as held, not swapped (as pydicom);
* an attribute without a value has only its ``"vr"``; empty entries of a
  multi-valued string stay ``""`` (as pydicom); empty entries of a multi-valued
  IS, DS or PN are ``null`` (the Annex's rule; pydicom raises there).

Differences from pydicom, all where pydicom fails or gives something that is
not JSON: empty IS/DS/PN entries of multi-valued attributes give ``null``
instead of raising; DA, DT and TM values made ``datetime`` objects by
``config.datetime_conversion`` are given as their text; with
``suppress_invalid_tags`` an attribute that cannot be serialised is dropped at
whatever depth it is (pydicom drops the whole top-level sequence holding it,
and also drops values its strict validation refuses, e.g. a UID with a leading
zero; fastdicom does not validate values). In :func:`from_json`, an attribute
given with VR UN is converted as pydicom does (a public tag the dictionary
knows gets the dictionary's VR and its value decoded from the bytes) also
where pydicom raises (single numeric values); a private creator given as UN
becomes an LO element (pydicom keeps VR UN with a text value); sequence items
refer (weakly) to the dataset holding them, so they inherit its Specific
Character Set as items read from a file do.
"""
from __future__ import annotations

import base64
import json
import logging
import warnings
from inspect import signature
from typing import Any, Callable

from fastdicom import datadict
from fastdicom._core import UNSET as _UNSET
from fastdicom.dataelem import DataElement
from fastdicom.uid import UID
from fastdicom.valuerep import MultiValue, PersonName
from fastdicom.values import convert_value, empty_value_for_VR

__all__ = ["to_json_dict", "to_json", "from_json", "JSON_VALUE_KEYS"]

logger = logging.getLogger("fastdicom")

#: The keys of an attribute object that hold its value.
JSON_VALUE_KEYS = ("Value", "InlineBinary", "BulkDataURI")

_INT_VRS = frozenset({"IS", "US", "SS", "UL", "SL", "UV", "SV", "US or SS"})
_FLOAT_VRS = frozenset({"DS", "FL", "FD"})
_TEXT_TYPES = (str, UID)  # the types of one text value as read

_b64encode = base64.b64encode
_KEYS: dict[int, str] = {}  # tag -> "GGGGEEEE" (bounded cache)


def _key(tag: int) -> str:
    key = _KEYS.get(tag)
    if key is None:
        key = f"{tag:08X}"
        if len(_KEYS) < 65536:
            _KEYS[tag] = key
    return key


# ------------------------------------------------------------------ to JSON

def to_json_dict(ds: Any, bulk_data_threshold: int = 1024,
                 bulk_data_element_handler: Callable[[DataElement], str] | None = None,
                 suppress_invalid_tags: bool = False) -> dict[str, Any]:
    """The DICOM JSON Model object of ``ds`` (a dict of ``"GGGGEEEE"`` keys).

    ``bulk_data_element_handler(elem) -> str`` gives the ``"BulkDataURI"`` of
    binary values longer than ``bulk_data_threshold`` base64 characters
    (without a handler every binary value is ``"InlineBinary"``). With
    ``suppress_invalid_tags`` an attribute whose value cannot be serialised
    is logged (logger ``fastdicom``) and left out instead of raising.
    """
    return _dataset_json(ds, bulk_data_threshold, bulk_data_element_handler, suppress_invalid_tags)


def to_json(ds: Any, bulk_data_threshold: int = 1024,
            bulk_data_element_handler: Callable[[DataElement], str] | None = None,
            dump_handler: Callable[[dict[str, Any]], str] | None = None,
            suppress_invalid_tags: bool = False) -> str:
    """:func:`to_json_dict` serialised by ``dump_handler`` (default
    ``json.dumps(d, sort_keys=True)``, as pydicom)."""
    d = _dataset_json(ds, bulk_data_threshold, bulk_data_element_handler, suppress_invalid_tags)
    if dump_handler is None:
        return json.dumps(d, sort_keys=True)
    return dump_handler(d)


def _dataset_json(ds: Any, threshold: int, handler: Any, suppress: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    keys = _KEYS
    converters = _CONVERTERS
    text_types = _TEXT_TYPES
    for elem in ds:
        tag = elem.tag
        key = keys.get(tag)
        if key is None:
            key = _key(tag)
        vr = elem.VR
        try:
            conv = converters.get(vr)
            if conv is None:  # the text VRs; the common case inline: one value
                v = elem.value
                if type(v) in text_types:
                    out[key] = {"vr": vr, "Value": [v]} if v else {"vr": vr}
                    continue
                conv = _json_text
            out[key] = conv(elem, vr, threshold, handler, suppress)
        except Exception as exc:
            if not suppress:
                _add_note(exc, f"while serialising tag {key}")
                raise
            logger.warning("Error while processing tag %s: %s", key, exc)
    return out


def _add_note(exc: BaseException, note: str) -> None:
    """Tell where the error happened (``__notes__``, shown in tracebacks)."""
    add = getattr(exc, "add_note", None)
    try:
        if add is not None:
            add(note)
        else:  # Python < 3.11
            exc.__notes__ = [*getattr(exc, "__notes__", []), note]
    except Exception:  # an exception refusing attributes: leave it as it is
        pass


def _is_list(v: Any) -> bool:
    """Several values (pydicom's VM rule: text, bytes and a person name are one)."""
    t = type(v)
    if t is list or t is MultiValue:
        return True
    if isinstance(v, (str, bytes, bytearray, memoryview, PersonName)):
        return False
    return hasattr(v, "__iter__") and hasattr(v, "__len__")


# One converter per VR: (elem, vr, threshold, handler, suppress) -> attribute object.
# Where the Value is a list, pydicom's VM rule decides: None, "" and an empty
# list are no value.

def _json_text(elem: DataElement, vr: str, threshold: int, handler: Any, suppress: bool) -> dict:
    v = elem.value
    if v is None:
        return {"vr": vr}
    if isinstance(v, str):
        return {"vr": vr, "Value": [v]} if v else {"vr": vr}
    if _is_list(v):
        return {"vr": vr, "Value": list(v)} if len(v) else {"vr": vr}
    if isinstance(v, (bytes, bytearray)) and not v:
        return {"vr": vr}
    return {"vr": vr, "Value": [v]}


def _json_date(elem: DataElement, vr: str, threshold: int, handler: Any, suppress: bool) -> dict:
    # DA, DT, TM: text, or datetime objects (config.datetime_conversion) given as their text
    v = elem.value
    if v is None:
        return {"vr": vr}
    if isinstance(v, str):
        return {"vr": vr, "Value": [v]} if v else {"vr": vr}
    if _is_list(v):
        if not len(v):
            return {"vr": vr}
        return {"vr": vr, "Value": [x if x is None or isinstance(x, str) else str(x) for x in v]}
    return {"vr": vr, "Value": [str(v)]}


def _json_binary(elem: DataElement, vr: str, threshold: int, handler: Any, suppress: bool) -> dict:
    if elem._value is _UNSET and elem._tokens is not None and elem._index >= 0:
        data = elem._tokens.value(elem._index)  # zero-copy view of the value read
    else:
        data = elem.value
    if data is None or not len(data):
        return {"vr": vr}
    if handler is not None and len(data) > (threshold // 4) * 3:
        return {"vr": vr, "BulkDataURI": handler(elem)}
    return {"vr": vr, "InlineBinary": _b64encode(data).decode("ascii")}


def _json_sequence(elem: DataElement, vr: str, threshold: int, handler: Any, suppress: bool) -> dict:
    return {"vr": vr, "Value": [_dataset_json(item, threshold, handler, suppress)
                                for item in elem.value]}


def _numbers(number: type) -> Callable[..., dict]:
    def conv(elem: DataElement, vr: str, threshold: int, handler: Any, suppress: bool) -> dict:
        v = elem.value
        t = type(v)
        if t is number:
            return {"vr": vr, "Value": [v]}
        if v is None:
            return {"vr": vr}
        if t is list or _is_list(v):
            return {"vr": vr, "Value": list(map(number, v))} if len(v) else {"vr": vr}
        if isinstance(v, str) and not v:
            return {"vr": vr}
        return {"vr": vr, "Value": [number(v)]}
    return conv


def _decimal_strings(number: type) -> Callable[..., dict]:
    """IS (as int) and DS (as float): a blank entry of several is null."""
    def conv(elem: DataElement, vr: str, threshold: int, handler: Any, suppress: bool) -> dict:
        v = elem.value
        if v is None:
            return {"vr": vr}
        if isinstance(v, str):  # blank, or a value kept as text (converted, or raises, as pydicom)
            return {"vr": vr, "Value": [number(v)]} if v.strip() else {"vr": vr}
        if _is_list(v):
            if not len(v):
                return {"vr": vr}
            return {"vr": vr, "Value": [None if x is None or (isinstance(x, str) and not x.strip())
                                        else number(x) for x in v]}
        return {"vr": vr, "Value": [number(v)]}
    return conv


def _json_pn(elem: DataElement, vr: str, threshold: int, handler: Any, suppress: bool) -> dict:
    v = elem.value
    if v is None:
        return {"vr": vr}
    if _is_list(v):
        return {"vr": vr, "Value": [_pn_json(x) for x in v]} if len(v) else {"vr": vr}
    if not v:
        return {"vr": vr}
    return {"vr": vr, "Value": [_pn_json(v)]}


def _json_at(elem: DataElement, vr: str, threshold: int, handler: Any, suppress: bool) -> dict:
    v = elem.value
    if v is None:
        return {"vr": vr}
    if _is_list(v):
        return {"vr": vr, "Value": [format(x, "08X") for x in v]} if len(v) else {"vr": vr}
    if isinstance(v, str) and not v:
        return {"vr": vr}
    return {"vr": vr, "Value": [format(v, "08X")]}


_json_int = _numbers(int)
_json_float = _numbers(float)
_CONVERTERS: dict[str, Callable[..., dict]] = {
    "OB": _json_binary, "OD": _json_binary, "OF": _json_binary, "OL": _json_binary,
    "OV": _json_binary, "OW": _json_binary, "UN": _json_binary,
    "OB or OW": _json_binary, "US or OW": _json_binary, "US or SS or OW": _json_binary,
    "SQ": _json_sequence, "PN": _json_pn, "AT": _json_at,
    "US": _json_int, "SS": _json_int, "UL": _json_int, "SL": _json_int, "UV": _json_int,
    "SV": _json_int, "US or SS": _json_int, "FL": _json_float, "FD": _json_float,
    "IS": _decimal_strings(int), "DS": _decimal_strings(float),
    "DA": _json_date, "DT": _json_date, "TM": _json_date,
}
"""VR -> converter of an element to its attribute object (the text VRs: absent)."""


def _pn_json(v: Any) -> dict[str, str] | None:
    if v is None:
        return None
    comps = getattr(v, "components", None)
    if comps is None:  # a plain string
        comps = str(v).split("=")
        while comps and not comps[-1]:
            comps.pop()
    if not comps:
        return None
    out = {"Alphabetic": comps[0]}
    if len(comps) > 1:
        out["Ideographic"] = comps[1]
        if len(comps) > 2:
            out["Phonetic"] = comps[2]
    return out


# ------------------------------------------------------------------ from JSON

def from_json(json_dataset: dict[str, Any] | str | bytes | bytearray,
              bulk_data_uri_handler: Callable[..., Any] | None = None,
              dataset_class: type | None = None) -> Any:
    """The :class:`fastdicom.Dataset` of a DICOM JSON Model object (a dict,
    or its JSON text).

    ``bulk_data_uri_handler`` is called as ``handler(tag, vr, uri)`` (or
    ``handler(uri)`` if it takes one parameter) for each ``"BulkDataURI"`` and
    returns the value; without it such attributes are left empty (with a
    warning), as in pydicom.
    """
    if isinstance(json_dataset, (str, bytes, bytearray)):
        json_dataset = json.loads(json_dataset)
    if not isinstance(json_dataset, dict):
        raise TypeError("A DICOM JSON dataset must be a JSON object (dict), not "
                        f"{type(json_dataset).__name__}")
    if dataset_class is None:
        from fastdicom.dataset import Dataset as dataset_class  # noqa: N813
    return _dataset_from_json(json_dataset, _wrap_handler(bulk_data_uri_handler), dataset_class)


def _wrap_handler(handler: Callable[..., Any] | None) -> Callable[[str, str, str], Any] | None:
    if handler is None:
        return None
    try:
        nparams = len(signature(handler).parameters)
    except (TypeError, ValueError):
        nparams = 3
    if nparams == 1:
        return lambda tag, vr, uri: handler(uri)
    return handler


def _dataset_from_json(mapping: dict[str, Any], handler: Any, cls: type) -> Any:
    ds = cls()
    creators: dict[int, str] = {}
    for key, attr in mapping.items():
        if not isinstance(attr, dict) or "vr" not in attr:
            raise KeyError(f"Data element '{key}' must have key 'vr'")
        try:
            tag = int(key, 16)
        except (TypeError, ValueError):
            raise ValueError(f"'{key}' is not a DICOM JSON attribute tag (8 hex digits)") from None
        elem = _element_from_json(tag, key, attr["vr"], attr, handler, cls, ds)
        if tag >> 16 & 1:
            element = tag & 0xFFFF
            if 0x10 <= element <= 0xFF:
                if isinstance(elem.value, str):
                    creators[tag] = elem.value
            elif element > 0xFF:
                creator = creators.get((tag & 0xFFFF0000) | (element >> 8))
                if creator is not None:
                    elem.private_creator = creator
        ds[elem.tag] = elem
    return ds


def _element_from_json(tag: int, key: str, vr: str, attr: dict[str, Any], handler: Any,
                       cls: type, parent: Any) -> DataElement:
    if "Value" in attr:
        value = _value_from_json(key, vr, attr["Value"], handler, cls, parent)
    elif "InlineBinary" in attr:
        data = attr["InlineBinary"]
        if isinstance(data, list):  # PS3.18's example puts it in an array
            data = data[0] if data else ""
        if not isinstance(data, str):
            raise TypeError(f"Invalid attribute value for data element '{key}' - the value "
                            f"for 'InlineBinary' must be str, not {type(data).__name__}")
        value = base64.b64decode(data)
    elif "BulkDataURI" in attr:
        uri = attr["BulkDataURI"]
        if isinstance(uri, list):
            uri = uri[0] if uri else ""
        if not isinstance(uri, str):
            raise TypeError(f"Invalid attribute value for data element '{key}' - the value "
                            f"for 'BulkDataURI' must be str, not {type(uri).__name__}")
        if handler is None:
            warnings.warn(f'No bulk data URI handler provided for retrieval of value of data '
                          f'element "{key}"', UserWarning, stacklevel=4)
            value = empty_value_for_VR(vr)
        else:
            value = handler(key, vr, uri)
    else:
        value = empty_value_for_VR(vr)

    if vr == "UN":
        vr, value = _known_vr(tag, value)
    try:
        return DataElement(tag, vr, value)
    except Exception as exc:
        raise ValueError(f"Data element '{key}' could not be loaded from JSON: {value!r}") from exc


def _value_from_json(key: str, vr: str, values: Any, handler: Any, cls: type, parent: Any) -> Any:
    if not isinstance(values, list):
        raise TypeError(f"'Value' of data element '{key}' must be a list")
    if vr == "SQ":
        items = []
        for item in values:
            if item is not None and not isinstance(item, dict):
                raise TypeError(f"Items of the sequence '{key}' must be JSON objects")
            ds = _dataset_from_json(item or {}, handler, cls)
            try:  # items inherit the character set of the dataset holding them
                ds._parent_ds = parent  # (a weak reference)
            except AttributeError:
                pass
            items.append(ds)
        return items
    if not values:
        return empty_value_for_VR(vr)
    if vr == "PN":
        out = [_pn_from_json(key, v) for v in values]
    elif vr == "AT":
        out = [_at_from_json(v) for v in values]
    elif vr in _INT_VRS:
        out = [None if v is None else int(v) for v in values]
    elif vr in _FLOAT_VRS:
        out = [None if v is None else float(v) for v in values]
    else:
        empty = empty_value_for_VR(vr)
        out = [empty if v is None else v for v in values]
    return out[0] if len(out) == 1 else out


def _pn_from_json(key: str, value: Any) -> Any:
    if value is None:
        return ""
    if not isinstance(value, dict):
        # some DICOMweb services send the plain string: accept it, as pydicom does
        warnings.warn(f"Value of data element '{key}' with VR Person Name (PN) is not "
                      "formatted correctly", UserWarning, stacklevel=5)
        return value
    if "Phonetic" in value:
        n = 3
    elif "Ideographic" in value:
        n = 2
    else:
        n = 1
    comps = [value.get("Alphabetic", ""), value.get("Ideographic", ""),
             value.get("Phonetic", "")][:n]
    return "=".join(comps)


def _at_from_json(value: Any) -> Any:
    if value is None or isinstance(value, int):
        return value
    try:
        return int(value, 16)
    except (TypeError, ValueError):
        warnings.warn(f"Invalid value '{value}' for AT element - ignoring it", UserWarning,
                      stacklevel=5)
        return None


def _known_vr(tag: int, value: Any) -> tuple[str, Any]:
    """(VR, value) of an element given as UN (PS3.5 6.2.2: a known tag is
    UN only if its value is too long for a 16-bit length): the dictionary's
    VR and the bytes decoded as implicit VR little endian, as pydicom does."""
    if tag >> 16 & 1:
        if 0x10 <= tag & 0xFFFF <= 0xFF and isinstance(value, bytes):
            return "LO", convert_value("LO", value)
        return "UN", value
    if isinstance(value, (bytes, bytearray)) and len(value) >= 0xFFFF:
        return "UN", value
    try:
        vr = datadict.dictionary_VR(tag)
    except KeyError:
        return "UN", value
    if not vr or vr == "NONE" or vr == "UN":
        return "UN", value
    if not isinstance(value, (bytes, bytearray)):
        return vr, value
    raw = bytes(value)
    try:
        if vr == "SQ":
            return vr, _sequence_from_bytes(raw)
        return vr, convert_value(vr, raw, little_endian=True, tag=tag)
    except Exception:  # not decodable as its dictionary VR: keep the bytes
        return "UN", value


def _sequence_from_bytes(raw: bytes) -> list:
    """The items of a sequence value encoded implicit VR little endian."""
    from fastdicom import _core
    from fastdicom.dataset import Dataset

    if not raw:
        return []
    tokens = _core.tokenize(raw, implicit_vr=True, little_endian=True)
    holder = Dataset()
    holder.is_little_endian = True
    holder.is_implicit_VR = True
    items = [Dataset._item(tokens, int(i), holder) for i in tokens.children(-1)]
    # keep the items independent of the short-lived holder
    for item in items:
        item._parent_ds = None
    return items
