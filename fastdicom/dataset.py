"""Datasets: pydicom's reading API over the element table.

A :class:`Dataset` read from data is a view of one dataset (the top level, or
one item of a sequence) in a :class:`fastdicom.Tokens` table. Elements are made
when first touched and their values decoded on first access. Editing is
copy-on-write: the first change turns the view into a plain mapping of
elements (the untouched ones still decode lazily from the buffer).
"""
from __future__ import annotations

import copy as _copy
import struct
from typing import Any, Callable, Iterator

from fastdicom import _core, datadict
from fastdicom._core import DatasetBase
from fastdicom.charset import convert_encodings
from fastdicom.dataelem import DataElement, Sequence, convert_assigned
from fastdicom import config as _config
from fastdicom.tag import Tag
from fastdicom.uid import UID
from fastdicom.valuerep import IS, DSfloat, MultiValue
from fastdicom import values as _values
from fastdicom.values import convert_value

_F_SEQ = _core.F_SEQUENCE
_F_UNDEF = _core.F_UNDEFINED
_F_BE = _core.F_BIG_ENDIAN
_F_UNKNOWN = _core.F_VR_UNKNOWN
_F_IMPLICIT = _core.F_IMPLICIT
_US_SS_TAGS = frozenset({
    0x00189810, 0x00221452, 0x00280104, 0x00280105, 0x00280106, 0x00280107, 0x00280108,
    0x00280109, 0x00280110, 0x00280111, 0x00280120, 0x00280121, 0x00281101, 0x00281102,
    0x00281103, 0x00283002, 0x00409211, 0x00409216, 0x00603004, 0x00603006,
})
_PSEUDO = {"xs": "US or SS", "ox": "OB or OW", "px": "OB or OW", "lt": "US or SS or OW", "up": "UL"}
_DEFAULT_ENCODING = ["iso8859"]
_KEYWORDS = datadict.keyword_dict
_INTERNAL = frozenset({
    "_tokens", "_parent", "_only", "_elems", "_dict", "_parent_ds", "_encodings", "_order",
    "is_little_endian", "is_implicit_VR", "file_meta", "preamble", "filename",
    "transfer_syntax_uid", "is_deflated", "is_undefined_length_sequence_item",
})


def _keyword_tag(name: str) -> int | None:
    """Tag of a dictionary keyword (e.g. PatientName, or the one lower-case
    keyword dBdt), else None."""
    return _KEYWORDS.get(name)


def _as_tag(key: Any) -> Tag:
    if type(key) is Tag:
        return key
    try:
        return Tag(key)
    except Exception as exc:
        raise KeyError(f"'{key}'") from exc


class Dataset(DatasetBase):
    """A DICOM dataset: a mapping of tags to :class:`DataElement`, with
    attribute access by keyword, as in pydicom."""

    indent_chars = "   "

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        DatasetBase._init_view(self, None, -1, None, None)
        self._dict = {}
        if args and isinstance(args[0], dict):
            for tag, elem in args[0].items():
                self[tag] = elem

    # -- construction over the table --------------------------------------------------
    @classmethod
    def _view(cls, tokens: _core.Tokens, parent: int = -1, parent_ds: "Dataset | None" = None,
              only: frozenset | None = None) -> "Dataset":
        ds = cls.__new__(cls)
        ds._init_view(tokens, parent, parent_ds, only)
        return ds

    @property
    def tokens(self) -> _core.Tokens | None:
        """The element table this dataset views (None when built by hand)."""
        return self._tokens

    def _resolve_vr(self, tag: Tag, vr: str, flags: int) -> str:
        """VR of an element whose data does not give it: implicit VR (from the
        dictionaries), UN (replaced by a known VR, as pydicom does) and the
        context-dependent VRs of PS3.5 (US or SS, OB or OW ...)."""
        if vr == "UN" or flags & _F_UNKNOWN:
            known = None
            if tag.is_private and 0x0010 <= tag.element <= 0x00FF:
                known = "LO"  # a private creator
            elif tag.is_private:
                creator = self._private_creator(tag) if tag.element > 0x00FF else None
                if creator:
                    try:
                        known = datadict.private_dictionary_VR(tag, creator)
                    except KeyError:
                        known = None
            else:
                try:
                    known = datadict.dictionary_VR(tag)
                except KeyError:
                    known = None
            if not known or known == "NONE":
                return "UN"
            vr = known
        vr = _PSEUDO.get(vr, vr)
        if " or " not in vr:
            return vr
        t = int(tag)
        if t == 0x7FE00010:
            if flags & _F_UNDEF:
                return "OB"
            if flags & _F_IMPLICIT:
                return "OW"
            bits = self._ancestor_value(0x00280100)
            return "OW" if bits is not None and bits > 8 else "OB"
        if t in _US_SS_TAGS:
            rep = self._ancestor_value(0x00280103)
            if rep is None:
                rep = 0 if 0x7FE00010 not in self else 1
            return "US" if rep == 0 else "SS"
        if t in (0x54000110, 0x54000112, 0x5400100A, 0x54001010):
            if flags & _F_IMPLICIT:
                return "OW"
            bits = self._ancestor_value(0x54001004)
            return "OW" if bits is not None and bits > 8 else "OB"
        if t == 0x00283006:
            desc = self.get(0x00283002)
            first = desc.value if desc is not None else None
            if isinstance(first, (list, tuple)):
                first = first[0] if first else None
            return "US" if first == 1 else "OW"
        if (t >> 16) & 0xFF01 == 0x6000 and t & 0xFFFF == 0x3000:
            return "OW"
        return vr

    def _ancestor_value(self, tag: int) -> Any:
        ds: Dataset | None = self
        while ds is not None:
            elem = ds._lookup(tag)
            if elem is not None:
                v = elem.value
                if isinstance(v, (list, tuple)):
                    v = v[0] if v else None
                if v is not None:
                    return v
            ds = ds._parent_ds
        return None

    def _private_creator(self, tag: Tag) -> str | None:
        elem = self._lookup((tag & 0xFFFF0000) | (tag.element >> 8))
        if elem is None:
            return None
        v = elem.value
        if isinstance(v, (list, tuple)):
            v = v[0] if v else None
        return v if isinstance(v, str) else None

    def _character_set(self) -> list[str]:
        if self._dict is None and self._tokens is not None:
            return _core.encodings_at(self._tokens, self._parent)
        enc = self._encodings
        if enc is None:
            elem = self._lookup(0x00080005)
            if elem is not None:  # present, even empty, it overrides the parent's
                enc = convert_encodings(elem.value) if elem.value else _DEFAULT_ENCODING
            elif self._parent_ds is not None:
                enc = self._parent_ds._character_set()
            else:
                enc = _DEFAULT_ENCODING
            self._encodings = enc
        return enc

    @classmethod
    def _item(cls, tokens: _core.Tokens, index: int, parent_ds: "Dataset") -> "Dataset":
        ds = Dataset._view(tokens, index, parent_ds)
        ds.is_undefined_length_sequence_item = bool(tokens.flags(index) & _F_UNDEF)
        ds.is_little_endian = parent_ds.is_little_endian
        ds.is_implicit_VR = parent_ds.is_implicit_VR
        return ds

    # -- lookups ----------------------------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            return self._slice(key)
        tag = _as_tag(key)
        elem = self._lookup(tag)
        if elem is None:
            raise KeyError(tag)
        return elem

    def __contains__(self, key: Any) -> bool:
        if isinstance(key, str):
            tag = _keyword_tag(key)
            if tag is None:
                try:
                    tag = Tag(key)
                except Exception:
                    return False
        else:
            try:
                tag = _as_tag(key)
            except KeyError:
                return False
        return self._lookup(tag) is not None

    def get(self, key: Any, default: Any = None) -> Any:
        """pydicom's ``get``: by keyword the value, by tag the element."""
        if isinstance(key, str):
            tag = _keyword_tag(key)
            if tag is not None:
                elem = self._lookup(tag)
                return default if elem is None else elem.value
            try:
                return getattr(self, key)
            except AttributeError:
                return default
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> list[Tag]:
        if self._dict is not None:
            return sorted(self._dict)
        return [e.tag for e in self]

    def elements(self) -> Iterator[DataElement]:
        return iter(self)

    def values(self) -> list[DataElement]:
        return list(self)

    def items(self) -> list[tuple[Tag, DataElement]]:
        return [(e.tag, e) for e in self]

    def data_element(self, name: str) -> DataElement | None:
        tag = _keyword_tag(name)
        return None if tag is None else self._lookup(tag)

    def dir(self, *filters: str) -> list[str]:
        words = [datadict.keyword_for_tag(t) for t in self.keys()]
        words = [w for w in words if w]
        if filters:
            words = [w for w in words if any(f.lower() in w.lower() for f in filters)]
        return sorted(words)

    def __dir__(self) -> list[str]:
        return sorted(set(object.__dir__(self)) | set(self.dir()))

    def group_dataset(self, group: int) -> "Dataset":
        return self._slice(slice(Tag(group, 0), Tag(group, 0xFFFF) + 1))

    def _slice(self, s: slice) -> "Dataset":
        lo = 0 if s.start is None else int(_as_tag(s.start))
        hi = 0x100000000 if s.stop is None else int(_as_tag(s.stop))
        out = Dataset()
        for elem in self:
            if lo <= elem.tag < hi:
                out._dict[elem.tag] = elem
        return out

    def walk(self, callback: Callable[["Dataset", DataElement], None], recursive: bool = True) -> None:
        """Call ``callback(dataset, element)`` for every element, depth first;
        the callback may delete the element it is given."""
        for tag in self.keys():
            elem = self[tag]
            callback(self, elem)
            if recursive and elem.VR == "SQ" and tag in self:
                for item in elem.value:
                    item.walk(callback, recursive)

    def iterall(self) -> Iterator[DataElement]:
        for elem in self:
            yield elem
            if elem.VR == "SQ":
                for item in elem.value:
                    yield from item.iterall()

    def private_creators(self, group: int) -> list[str]:
        if group % 2 == 0:
            raise ValueError("Group must be an odd number")
        out = []
        for elem in self:
            if elem.tag.group == group and 0x10 <= elem.tag.element <= 0xFF and isinstance(elem.value, str):
                out.append(elem.value)
        return out

    def private_block(self, group: int, private_creator: str, create: bool = False) -> "PrivateBlock":
        if group % 2 == 0:
            raise ValueError("Tag must be private if private creator is given")
        if not private_creator:
            raise ValueError("Private creator must have a value")
        for elem in self:
            if elem.tag.group == group and 0x10 <= elem.tag.element <= 0xFF:
                if elem.value == private_creator:
                    return PrivateBlock(group, private_creator, self, elem.tag.element)
        if not create:
            raise KeyError(f"Private creator '{private_creator}' not found")
        used = {e.tag.element for e in self if e.tag.group == group and 0x10 <= e.tag.element <= 0xFF}
        free = next((e for e in range(0x10, 0x100) if e not in used), None)
        if free is None:
            raise ValueError("No free element found in the private group")
        self.add_new(Tag(group, free), "LO", private_creator)
        return PrivateBlock(group, private_creator, self, free)

    # -- editing (copy-on-write) ------------------------------------------------------
    def _materialize(self) -> dict:
        d = self._dict
        if d is None:
            d = {elem.tag: elem for elem in self}
            self._dict = d
        return d

    def __setitem__(self, key: Any, elem: DataElement) -> None:
        if not isinstance(elem, DataElement):
            raise TypeError("Dataset contents must be DataElement instances")
        tag = _as_tag(key)
        if tag != elem.tag:
            raise ValueError(f"'{tag}' doesn't match the element's tag '{elem.tag}'")
        self._materialize()[tag] = elem
        if tag == 0x00080005:
            self._encodings = None

    def __delitem__(self, key: Any) -> None:
        if isinstance(key, slice):
            for tag in [t for t in self.keys() if (key.start is None or t >= key.start)
                        and (key.stop is None or t < key.stop)]:
                del self._materialize()[tag]
            return
        tag = _as_tag(key)
        d = self._materialize()
        if tag not in d:
            raise KeyError(tag)
        del d[tag]

    def __setattr__(self, name: str, value: Any) -> None:
        tag = _keyword_tag(name) if name not in _INTERNAL else None
        if tag is None:
            object.__setattr__(self, name, value)
            return
        elem = self._lookup(tag)
        if elem is None:
            vr = datadict.dictionary_VR(tag)
            self[tag] = DataElement(tag, _PSEUDO.get(vr, vr), value)
        else:  # the value lives in the element, never in the buffer: edit in place
            elem.value = value
            if tag == 0x00080005:
                self._encodings = None

    def __delattr__(self, name: str) -> None:
        tag = _keyword_tag(name)
        if tag is not None and tag in self:
            del self[tag]
        elif name in self.__dict__:
            del self.__dict__[name]
        else:
            raise AttributeError(name)

    def add(self, elem: DataElement) -> None:
        self[elem.tag] = elem

    def add_new(self, tag: Any, VR: str, value: Any) -> None:
        self.add(DataElement(tag, VR, value))

    def pop(self, key: Any, *default: Any) -> Any:
        try:
            elem = self[key]
        except KeyError:
            if default:
                return default[0]
            raise
        del self[elem.tag]
        return elem

    def setdefault(self, key: Any, default: Any = None) -> DataElement:
        tag = _as_tag(key)
        if tag in self:
            return self[tag]
        if not isinstance(default, DataElement):
            try:
                vr = datadict.dictionary_VR(tag)
            except KeyError:
                vr = "UN"  # as pydicom: an unknown tag gets VR UN
            default = DataElement(tag, vr, default)
        self[tag] = default
        return default

    def update(self, other: Any) -> None:
        items = other.items() if hasattr(other, "items") else other
        for key, value in items:
            if isinstance(key, str):
                setattr(self, key, value)
            else:
                self[key] = value

    def clear(self) -> None:
        self._dict = {}

    def copy(self) -> "Dataset":
        return _copy.copy(self)

    def __copy__(self) -> "Dataset":
        new = self.__class__.__new__(self.__class__)
        new._init_view(self._tokens, self._parent, self._parent_ds, self._only)
        new.__dict__.update(self.__dict__)
        new._elems = dict(self._elems)
        new._encodings = self._encodings
        new._order = self._order
        new._dict = dict(self._dict) if self._dict is not None else None
        return new

    def __deepcopy__(self, memo: dict) -> "Dataset":
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        new._init_view(None, -1, None, None)
        new._dict = {tag: _copy.deepcopy(elem, memo) for tag, elem in self.items()}
        for name, value in self.__dict__.items():
            new.__dict__[name] = _copy.deepcopy(value, memo)
        new.is_little_endian = self.is_little_endian
        new.is_implicit_VR = self.is_implicit_VR
        new.is_undefined_length_sequence_item = self.is_undefined_length_sequence_item
        return new

    def __reduce__(self) -> tuple:
        return (_rebuild_dataset, (self.__class__, self.items(), dict(self.__dict__),
                                   self.is_little_endian, self.is_implicit_VR,
                                   self.is_undefined_length_sequence_item))

    def __eq__(self, other: Any) -> bool:
        if other is self:
            return True
        if not isinstance(other, Dataset):
            return NotImplemented
        return self.keys() == other.keys() and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    # -- pixel data (fastdicom.pixels) ------------------------------------------------
    @property
    def pixel_array(self) -> Any:
        """The pixel data as a writable numpy array, as pydicom's ``pixel_array``
        (see :mod:`fastdicom.pixels` for frames and zero-copy views)."""
        from fastdicom import pixels  # imported on first use: numpy-heavy

        # as pydicom: the same array until the pixel data element changes, so
        # edits made to it in place persist
        elem = None
        lookup = self._lookup
        for tag in (0x7FE00010, 0x7FE00009, 0x7FE00008):
            elem = lookup(tag)
            if elem is not None:
                break
        key = (id(elem), id(elem._value) if elem is not None else None)
        cached = self.__dict__.get("_pixel_cache")
        if cached is not None and cached[0] == key and cached[1] is elem:
            return cached[2]
        arr = pixels.pixel_array(self)
        self.__dict__["_pixel_cache"] = (key, elem, arr)
        return arr

    def overlay_array(self, group: int) -> Any:
        """The overlay plane of repeating group ``group`` (0x6000-0x601E) as a
        numpy array, as pydicom's ``overlay_array``."""
        from fastdicom.pixels.overlays import overlay_array

        return overlay_array(self, group)

    # -- writing, JSON and pydicom (fastdicom.writer, .dicomjson, .bridge) -------------
    def save_as(self, filename: Any, enforce_file_format: bool = False, **kwargs: Any) -> None:
        """Write this dataset to ``filename`` (a path or a binary file), as pydicom's ``save_as``."""
        from fastdicom.writer import dcmwrite

        dcmwrite(filename, self, enforce_file_format=enforce_file_format, **kwargs)

    def to_json_dict(self, bulk_data_threshold: int = 1024,
                     bulk_data_element_handler: Callable[[DataElement], str] | None = None,
                     suppress_invalid_tags: bool = False) -> dict:
        """The DICOM JSON model (PS3.18 Annex F) of this dataset, as pydicom's."""
        from fastdicom import dicomjson

        return dicomjson.to_json_dict(self, bulk_data_threshold, bulk_data_element_handler,
                                      suppress_invalid_tags)

    def to_json(self, bulk_data_threshold: int = 1024,
                bulk_data_element_handler: Callable[[DataElement], str] | None = None,
                dump_handler: Callable[[dict], str] | None = None,
                suppress_invalid_tags: bool = False) -> str:
        from fastdicom import dicomjson

        return dicomjson.to_json(self, bulk_data_threshold, bulk_data_element_handler,
                                 dump_handler, suppress_invalid_tags)

    @classmethod
    def from_json(cls, json_dataset: Any, bulk_data_uri_handler: Callable[..., Any] | None = None) -> "Dataset":
        from fastdicom import dicomjson

        return dicomjson.from_json(json_dataset, bulk_data_uri_handler)

    def to_pydicom(self) -> Any:
        """An equal ``pydicom.Dataset`` (pydicom must be installed)."""
        from fastdicom import bridge

        return bridge.to_pydicom(self)

    # -- dumps ------------------------------------------------------------------------
    def _pretty_str(self, indent: int = 0, top_level_only: bool = False) -> str:
        strings = []
        indent_str = self.indent_chars * indent
        nextindent_str = self.indent_chars * (indent + 1)
        meta = getattr(self, "file_meta", None)
        if meta:
            strings.append(f"{'Dataset.file_meta ':-<49}")
            for elem in meta:
                strings.append(indent_str + repr(elem))
            strings.append(f"{'':-<49}")
        for elem in self:
            if elem.VR == "SQ":
                strings.append(f"{indent_str}{elem.tag}  {elem.name}  {len(elem.value)} item(s) ---- ")
                if not top_level_only:
                    for item in elem.value:
                        strings.append(item._pretty_str(indent + 1))
                        strings.append(nextindent_str + "---------")
            else:
                strings.append(indent_str + repr(elem))
        return "\n".join(strings)

    def __str__(self) -> str:
        return self._pretty_str()

    __repr__ = __str__

    def top(self) -> str:
        return self._pretty_str(top_level_only=True)


class PrivateBlock:
    """The elements of one private creator's block (pydicom's ``PrivateBlock``)."""

    def __init__(self, group: int, private_creator: str, dataset: Dataset, element: int) -> None:
        self.group = group
        self.private_creator = private_creator
        self.dataset = dataset
        self.block_start = element << 8

    def get_tag(self, offset: int) -> Tag:
        if offset > 0xFF:
            raise ValueError("Element offset must be less than 256")
        return Tag(self.group, self.block_start + offset)

    def __contains__(self, offset: int) -> bool:
        return self.get_tag(offset) in self.dataset

    def __getitem__(self, offset: int) -> DataElement:
        return self.dataset[self.get_tag(offset)]

    def __delitem__(self, offset: int) -> None:
        del self.dataset[self.get_tag(offset)]

    def add_new(self, offset: int, VR: str, value: Any) -> None:
        tag = self.get_tag(offset)
        self.dataset.add_new(tag, VR, value)
        self.dataset[tag].private_creator = self.private_creator


class FileDataset(Dataset):
    """The top-level dataset of a file, with its file meta and encoding."""
    # made by fastdicom.reader (fastdicom._core.new_file_dataset): a view of the
    # file's table with file_meta, preamble, filename, transfer_syntax_uid,
    # is_deflated and the encoding the transfer syntax names


def _rebuild_dataset(cls: type, items: list, state: dict, little: Any, implicit: Any,
                     undefined_item: bool) -> Dataset:
    ds = cls.__new__(cls)
    ds._init_view(None, -1, None, None)
    ds._dict = dict(items)
    ds.__dict__.update(state)
    ds.is_little_endian = little
    ds.is_implicit_VR = implicit
    ds.is_undefined_length_sequence_item = undefined_item
    return ds


def _charset_from_raw(raw: bytes) -> list[str]:
    """Python encodings for the raw bytes of a (0008,0005) value."""
    value = convert_value("CS", raw)
    return convert_encodings(value) if value else _DEFAULT_ENCODING


def _decode_sequence(elem: DataElement, owner: Dataset | None) -> Sequence:
    """The items of a sequence element read from a table (called by the core);
    ``owner`` is the dataset it was read from, if still alive."""
    tok = elem._tokens
    index = elem._index
    flags = tok.flags(index)
    if flags & _F_SEQ and owner is not None:
        items = owner._sequence_items(elem)
    elif flags & _F_SEQ:
        orphan = Dataset._view(tok, tok.parent(index))
        items = orphan._sequence_items(elem)
    else:  # a sequence only the dictionary knows of: read its value as one, by
        # tokenizing it behind a sequence header of its own
        raw = bytes(tok.value(index))
        little = elem._little_endian
        header = struct.pack("<HHL" if little else ">HHL", 0x0008, 0x1115, len(raw))
        sub = _core.tokenize(header + raw, implicit_vr=True, little_endian=little, detect_vr=True)
        sub.root_encodings = _core.encodings_at(tok, tok.parent(index))
        parent = owner if owner is not None else Dataset._view(tok, tok.parent(index))
        items = [Dataset._item(sub, int(i), parent) for i in sub.children(0)]
    seq = Sequence(items)
    seq.is_undefined_length = elem.is_undefined_length
    return seq


_core.configure(datadict.keyword_dict, convert_value, Tag, DataElement, Sequence, _DEFAULT_ENCODING,
                _values.CONVERTERS, _values._LUT_DESCRIPTOR_TAGS, Dataset, _charset_from_raw,
                _decode_sequence, convert_assigned)
_core.configure_values(UID, _config, DSfloat, IS, MultiValue)
