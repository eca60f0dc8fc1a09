"""Bridge to pydicom: :func:`to_pydicom` and :func:`from_pydicom`.

pydicom is an optional dependency, imported only when a function here is
called (``ImportError`` with a clear message when it is missing).

``to_pydicom(ds)`` gives the ``pydicom.Dataset`` (a ``FileDataset`` with its
``file_meta``, ``preamble``, ``filename`` and original encoding for a dataset
read from a file) that ``pydicom.dcmread`` gives for the same data: the same
elements with the same VRs, and values of pydicom's types as its reader makes
them (``DSfloat``/``IS`` keeping their text, ``PersonName`` with its encodings,
``UID``, ``BaseTag``, ``MultiValue``, plain ``list`` for binary numbers,
``Sequence`` of ``Dataset`` items with their character set). It compares equal
(``==``) to what pydicom reads and prints the same (``str``).

``from_pydicom(pds)`` is the reverse: each value goes through
:class:`fastdicom.DataElement`, which converts it as pydicom does on assignment;
sequences are converted recursively.
"""
from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from fastdicom import _core

__all__ = ["to_pydicom", "from_pydicom"]

_F_IMPLICIT = _core.F_IMPLICIT
_F_BIG_ENDIAN = _core.F_BIG_ENDIAN
_F_UN_SEQUENCE = _core.F_UN_SEQUENCE
_NUMBER_VRS = frozenset({"US", "SS", "UL", "SL", "UV", "SV", "FL", "FD", "US or SS"})
_BYTES_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN", "OB or OW", "US or OW",
                        "US or SS or OW"})
# tags whose dictionary VR is 'US or SS': read with implicit VR, pydicom corrects
# their VR after reading and assigns the value again (a MultiValue when several)
_AMBIGUOUS_US_SS = frozenset({
    0x00189810, 0x00221452, 0x00280104, 0x00280105, 0x00280106, 0x00280107, 0x00280108,
    0x00280109, 0x00280110, 0x00280111, 0x00280120, 0x00280121, 0x00281101, 0x00281102,
    0x00281103, 0x00283002, 0x00409211, 0x00409216, 0x00603004, 0x00603006,
})


def _identity(x: Any) -> Any:
    return x


def _record_flags(elem: Any) -> int | None:
    """The tokenizer's flags of an element read from data (None otherwise)."""
    tokens = elem._tokens
    if tokens is None or elem._index < 0:
        return None
    return tokens.flags(elem._index)


class _Pydicom:
    """The parts of pydicom the bridge uses (imported once)."""

    def __init__(self) -> None:
        try:
            import pydicom
            import pydicom.charset
            import pydicom.config
            import pydicom.dataelem
            import pydicom.dataset
            import pydicom.multival
            import pydicom.sequence
            import pydicom.tag
            import pydicom.uid
            import pydicom.valuerep
        except ImportError as exc:
            raise ImportError(
                "the pydicom bridge (Dataset.to_pydicom, fastdicom.from_pydicom) needs pydicom: "
                "pip install pydicom"
            ) from exc
        self.pydicom = pydicom
        self.config = pydicom.config
        self.IGNORE = getattr(pydicom.config, "IGNORE", 0)
        self.DataElement = pydicom.dataelem.DataElement
        self.Dataset = pydicom.dataset.Dataset
        self.FileDataset = pydicom.dataset.FileDataset
        self.FileMetaDataset = pydicom.dataset.FileMetaDataset
        self.MultiValue = pydicom.multival.MultiValue
        self.Sequence = pydicom.sequence.Sequence
        self.BaseTag = pydicom.tag.BaseTag
        self.Tag = pydicom.tag.Tag
        self.UID = pydicom.uid.UID
        vr = pydicom.valuerep
        self.valuerep = vr
        self.DSfloat = vr.DSfloat
        self.DSdecimal = vr.DSdecimal
        self.IS = vr.IS
        self.ISfloat = getattr(vr, "ISfloat", float)
        self.PersonName = vr.PersonName
        self.DA, self.DT, self.TM = vr.DA, vr.DT, vr.TM
        self.default_encoding = getattr(pydicom.charset, "default_encoding", "iso8859")
        self.convert_encodings = pydicom.charset.convert_encodings


_PYDICOM: _Pydicom | None = None
_MULTI: tuple | None = None


def _multivalue_types(p: _Pydicom) -> tuple:
    global _MULTI
    if _MULTI is None:
        from fastdicom.valuerep import MultiValue

        _MULTI = (MultiValue, p.MultiValue)
    return _MULTI


def _pydicom() -> _Pydicom:
    global _PYDICOM
    if _PYDICOM is None:
        _PYDICOM = _Pydicom()
    return _PYDICOM


# ------------------------------------------------------------------ fastdicom -> pydicom

def to_pydicom(ds: Any) -> Any:
    """A ``pydicom`` dataset equal to the fastdicom dataset ``ds`` (a
    ``pydicom.dataset.FileDataset`` for a :class:`fastdicom.FileDataset`)."""
    from fastdicom.dataset import FileDataset

    p = _pydicom()
    conv = _ToPydicom(p)
    meta = getattr(ds, "file_meta", None)
    if isinstance(ds, FileDataset):
        elems = conv.elements(ds, p.default_encoding)
        pmeta = conv.file_meta(meta)
        implicit = ds.is_implicit_VR
        little = ds.is_little_endian
        filename = getattr(ds, "filename", None)
        pds = p.FileDataset(filename if isinstance(filename, str) else None, elems,
                            preamble=getattr(ds, "preamble", None), file_meta=pmeta,
                            is_implicit_VR=implicit, is_little_endian=little)
        pds.set_original_encoding(implicit, little, pds._character_set)
        return pds
    pds = conv.dataset(ds, p.default_encoding)
    if meta is not None:
        pds.file_meta = conv.file_meta(meta)
    return pds


class _ToPydicom:
    def __init__(self, p: _Pydicom) -> None:
        self.p = p
        self.ignore = p.IGNORE
        self.datetime_conversion = bool(getattr(p.config, "datetime_conversion", False))
        self.one = {
            "DS": self._ds, "IS": self._is, "UI": self._ui, "PN": self._pn, "AT": self._at,
            "DA": lambda x: self._date("DA", x), "DT": lambda x: self._date("DT", x),
            "TM": lambda x: self._date("TM", x),
        }
        self.ctors = {
            "DS": p.valuerep.DSclass if hasattr(p.valuerep, "DSclass") else p.DSfloat,
            "IS": p.IS, "UI": p.UID, "AT": p.Tag,
            "DA": p.DA if self.datetime_conversion else str,
            "DT": p.DT if self.datetime_conversion else str,
            "TM": p.TM if self.datetime_conversion else str,
        }

    # -- datasets
    def file_meta(self, meta: Any) -> Any:
        p = self.p
        pmeta = p.FileMetaDataset(self.elements(meta, p.default_encoding) if meta is not None else {})
        pmeta.set_original_encoding(False, True, p.default_encoding)
        return pmeta

    def elements(self, ds: Any, encoding: Any) -> dict:
        """{BaseTag: pydicom DataElement} of ``ds`` (whose encodings are
        ``encoding`` unless it has a Specific Character Set); private
        creators are attached as pydicom's ``Dataset.__setitem__`` does."""
        p = self.p
        out: dict = {}
        BaseTag = p.BaseTag
        charset = ds.get(0x00080005)
        if charset is not None:  # the encodings its items inherit (pydicom's _character_set)
            encoding = p.convert_encodings(charset.value)
        for elem in ds:
            tag = BaseTag(int(elem.tag))
            pelem = self.element(elem, tag, encoding)
            # pydicom's reader gives an undefined-length sequence as an element
            # made at once (no private creator); others get it on conversion
            if tag >> 16 & 1 and not (pelem.VR == "SQ" and elem.is_undefined_length):
                creator = out.get((tag & 0xFFFF0000) | ((tag & 0xFFFF) >> 8))
                if creator is not None:
                    pelem.private_creator = creator.value
            out[tag] = pelem
        return out

    def dataset(self, ds: Any, parent_encoding: Any, read_as: tuple | None = None) -> Any:
        """A sequence item; ``read_as``: the (implicit VR, little endian) it was read with."""
        p = self.p
        pds = p.Dataset(self.elements(ds, parent_encoding), parent_encoding=parent_encoding)
        pds.is_undefined_length_sequence_item = bool(ds.is_undefined_length_sequence_item)
        implicit, little = read_as if read_as is not None else (ds.is_implicit_VR, ds.is_little_endian)
        if implicit is not None or little is not None:
            pds.set_original_encoding(implicit, little, pds._character_set)
        return pds

    # -- elements
    def element(self, elem: Any, tag: Any, encoding: Any) -> Any:
        p = self.p
        vr = elem.VR
        v = elem.value
        flags = _record_flags(elem)
        if vr == "SQ":
            # the encoding pydicom reads the items with: that of the sequence,
            # implicit VR little endian for an undefined-length UN (PS3.5 6.2.2)
            if flags is None:
                read_as = None
            elif flags & _F_UN_SEQUENCE:
                read_as = (True, True)
            else:
                read_as = (bool(flags & _F_IMPLICIT), not flags & _F_BIG_ENDIAN)
            # pydicom reads an undefined-length sequence at once, its items
            # inheriting the encodings as they are; the others on first access,
            # the encodings made a list
            if not elem.is_undefined_length and isinstance(encoding, str):
                encoding = [encoding]
            value = p.Sequence([self.dataset(item, encoding, read_as) for item in v])
            value.is_undefined_length = bool(getattr(v, "is_undefined_length", elem.is_undefined_length))
        else:
            value = self.value(vr, v)
            if (type(value) is list and flags is not None and flags & _F_IMPLICIT
                    and int(tag) in _AMBIGUOUS_US_SS):
                value = p.MultiValue(_identity, value)
        return p.DataElement(tag, vr, value, None, bool(elem.is_undefined_length), True)

    def value(self, vr: str, v: Any) -> Any:
        if v is None:
            return None
        t = type(v)
        if vr in _NUMBER_VRS:
            if t is int or t is float:
                return v
            if t is list:
                return list(v)  # as pydicom's reader: a plain list
            if isinstance(v, (bytes, bytearray)):
                return bytes(v)
            if hasattr(v, "__iter__"):  # assigned: pydicom too makes a MultiValue
                return self.p.MultiValue(_identity, list(v))
            return v
        if vr in _BYTES_VRS:
            return bytes(v) if isinstance(v, (bytearray, memoryview)) else v
        one = self.one.get(vr)
        if t is str:
            return v if one is None else one(v)
        if t is list or t is tuple or isinstance(v, _multivalue_types(self.p)):
            if vr == "UI":  # each a UID, empty ones too (pydicom's multi_string)
                return self.multi(vr, [None if x is None else self.p.UID(str(x), self.ignore)
                                       for x in v])
            return self.multi(vr, list(v) if one is None else [one(x) for x in v])
        return v if one is None else one(v)

    def multi(self, vr: str, items: list) -> Any:
        """A pydicom MultiValue holding ``items`` (already of pydicom's types)."""
        p = self.p
        ctor = self.ctors.get(vr)
        if ctor is None:
            ctor = p.PersonName if vr == "PN" else str
        mv = p.MultiValue(ctor, [])
        if hasattr(mv, "_list"):
            mv._list = items  # without running the constructor (and its validation) again
        else:  # pragma: no cover - other pydicom versions
            mv.extend(items)
        return mv

    # -- one value of a VR
    def _ds(self, x: Any) -> Any:
        p = self.p
        if x is None or isinstance(x, str):
            return x  # blank, or text pydicom keeps as text too
        cls = p.DSdecimal if isinstance(x, Decimal) else p.DSfloat
        text = getattr(x, "original_string", None)
        auto = bool(getattr(x, "auto_format", False))
        if text is not None:
            return cls(text, auto, self.ignore)
        return cls(x if isinstance(x, Decimal) else float(x), auto, self.ignore)

    def _is(self, x: Any) -> Any:
        p = self.p
        if x is None or isinstance(x, str):
            return x
        text = getattr(x, "original_string", None)
        if text is not None:
            return p.IS(text, self.ignore)
        return p.IS(x if isinstance(x, int) else float(x), self.ignore)

    def _ui(self, x: Any) -> Any:
        if not x:
            return x  # empty: plain text, as pydicom's reader gives it
        uid = self.p.UID(str(x), self.ignore)
        enc = getattr(x, "_PRIVATE_TS_ENCODING", None)
        if enc is not None:
            uid.set_private_encoding(*enc)
        return uid

    def _pn(self, x: Any) -> Any:
        p = self.p
        if x is None:
            return None
        encodings = getattr(x, "encodings", None)
        original = getattr(x, "original_string", None)
        if not isinstance(original, bytes):
            original = None
        return p.PersonName(str(x), list(encodings) if encodings else None, original, self.ignore)

    def _at(self, x: Any) -> Any:
        return None if x is None else self.p.BaseTag(int(x))

    def _date(self, vr: str, x: Any) -> Any:
        if x is None:
            return None
        text = x if isinstance(x, str) else str(x)
        if self.datetime_conversion and text.strip():
            return self.ctors[vr](text)  # pydicom's DA/DT/TM, as its reader makes them
        return text


# ------------------------------------------------------------------ pydicom -> fastdicom

def from_pydicom(pds: Any) -> Any:
    """A :class:`fastdicom.Dataset` (a :class:`fastdicom.FileDataset` for a
    ``pydicom.dataset.FileDataset``) equal to the pydicom dataset ``pds``."""
    from fastdicom.dataset import Dataset, FileDataset

    p = _pydicom()
    if not isinstance(pds, p.Dataset):
        raise TypeError(f"from_pydicom() needs a pydicom Dataset, not {type(pds).__name__}")
    conv = _FromPydicom(p)
    is_file = isinstance(pds, p.FileDataset)
    out = FileDataset() if is_file else Dataset()
    implicit, little = _encoding_of(pds)
    out.is_implicit_VR = implicit
    out.is_little_endian = little
    conv.fill(out, pds)
    meta = getattr(pds, "file_meta", None)
    if is_file or meta is not None:
        fmeta = Dataset()
        if meta is not None:
            conv.fill(fmeta, meta)
        out.file_meta = fmeta
    if is_file:
        from fastdicom.uid import UID

        preamble = getattr(pds, "preamble", None)
        out.preamble = bytes(preamble) if isinstance(preamble, (bytes, bytearray)) else preamble
        filename = getattr(pds, "filename", None)
        out.filename = filename if isinstance(filename, str) else None
        ts = meta.get("TransferSyntaxUID") if meta is not None else None
        out.transfer_syntax_uid = str(ts) if ts else None
        deflated = False
        if ts:
            try:
                deflated = UID(str(ts)).is_deflated
            except ValueError:
                deflated = False
        out.is_deflated = deflated
    return out


def _encoding_of(pds: Any) -> tuple[Any, Any]:
    implicit = getattr(pds, "_read_implicit", None)
    little = getattr(pds, "_read_little", None)
    if implicit is None:
        implicit = pds.__dict__.get("_is_implicit_VR")
    if little is None:
        little = pds.__dict__.get("_is_little_endian")
    return implicit, little


class _FromPydicom:
    def __init__(self, p: _Pydicom) -> None:
        self.p = p

    def fill(self, out: Any, pds: Any) -> None:
        from fastdicom.dataelem import DataElement

        creators: dict[int, str] = {}
        for tag in pds.keys():
            pelem = pds[tag]  # converts pydicom's raw elements
            vr = pelem.VR
            t = int(pelem.tag)
            if vr == "SQ":
                value = [self.item(item, out) for item in pelem.value]
            else:
                value = self.value(pelem.value)
            undefined = bool(pelem.is_undefined_length)
            try:
                elem = DataElement(t, vr, value, is_undefined_length=undefined)
            except (ValueError, TypeError, OverflowError):
                # a value pydicom's reader kept as it found it (e.g. IS '1A', which
                # pydicom too refuses on assignment): keep it as is, as our reader does
                elem = DataElement(t, vr, None, is_undefined_length=undefined)
                elem._value = value
            if type(pelem.value) is str and pelem.value == "":
                elem._value = ""  # an empty value as read, not converted (e.g. UID(''))
            if vr == "SQ":
                elem.value.is_undefined_length = bool(
                    getattr(pelem.value, "is_undefined_length", pelem.is_undefined_length))
            if t >> 16 & 1:
                element = t & 0xFFFF
                if 0x10 <= element <= 0xFF:
                    if isinstance(elem.value, str):
                        creators[t] = elem.value
                elif element > 0xFF:
                    elem.private_creator = creators.get((t & 0xFFFF0000) | (element >> 8))
            out[elem.tag] = elem

    def item(self, pitem: Any, parent: Any) -> Any:
        from fastdicom.dataset import Dataset

        item = Dataset()
        item.is_little_endian = parent.is_little_endian
        item.is_implicit_VR = parent.is_implicit_VR
        item.is_undefined_length_sequence_item = bool(
            getattr(pitem, "is_undefined_length_sequence_item", False))
        item._parent_ds = parent  # a weak reference, as for items read (character set)
        self.fill(item, pitem)
        return item

    def value(self, v: Any) -> Any:
        t = type(v)
        if v is None or t is str or t is int or t is float or t is bytes:
            return v
        p = self.p
        if isinstance(v, p.MultiValue) or t is list or t is tuple:
            return [self.one(x) for x in v]
        if isinstance(v, io.BufferedIOBase):  # a buffered pydicom value: read it whole
            pos = v.tell()
            try:
                v.seek(0)
                return v.read()
            finally:
                v.seek(pos)
        if hasattr(v, "tolist") and hasattr(v, "ndim"):  # numpy (use_DS_numpy, use_IS_numpy)
            return v.tolist()
        return self.one(v)

    def one(self, x: Any) -> Any:
        t = type(x)
        if x is None or t is str or t is int or t is float or t is bytes:
            return x
        p = self.p
        if isinstance(x, (p.DSfloat, p.DSdecimal)):
            text = getattr(x, "original_string", None)
            if text is not None:
                return text
            return x if isinstance(x, Decimal) else float(x)
        if isinstance(x, (p.IS, p.ISfloat)):
            text = getattr(x, "original_string", None)
            if text is not None:
                return text
            return int(x) if isinstance(x, int) else float(x)
        if isinstance(x, p.PersonName):
            from fastdicom.valuerep import PersonName

            original = getattr(x, "original_string", None)
            return PersonName(str(x), x.encodings,
                              original if isinstance(original, bytes) else None)
        if isinstance(x, p.UID):
            return x  # a str: fastdicom's UID keeps a private transfer syntax's encoding
        if isinstance(x, p.BaseTag):
            return int(x)
        if isinstance(x, (p.DA, p.DT, p.TM)):
            return str(x)
        if isinstance(x, (bytearray, memoryview)):
            return bytes(x)
        if hasattr(x, "item") and hasattr(x, "dtype"):  # numpy scalar
            return x.item()
        return x
