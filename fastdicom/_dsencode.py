"""Encode a :class:`fastdicom.Dataset` in any of the uncompressed encodings.

An element read from data and not changed since is written as the bytes it
was read from when the encoding is the same: the encoder works out which
stretches of the source buffer can be copied as they are (whole sequences
included) and copies each stretch with one slice (a memoryview: no copy until
the output is joined or written). Everything else is encoded:

* an unchanged element in another encoding is *transcoded*: a new header
  (explicit/implicit VR, byte order), its value bytes byte-swapped per VR when
  the byte order changes, sequences and encapsulated data item by item;
* a new or changed element is encoded from its value (:mod:`fastdicom._encode`).

"Changed" is decided without touching the elements nobody looked at: only the
elements a dataset view has made (``Dataset._elems``) are checked: a value
assigned (the element forgets its record), a different VR or length kind, a
mutable value (a list, MultiValue, Sequence) that no longer equals what the
record holds, items added, removed, replaced or edited at any depth.
"""
from __future__ import annotations

import struct
import warnings
from typing import Any

import numpy as np

from fastdicom import _core
from fastdicom._encode import (LONG_VRS, TEXT_VRS, encode_value, resolve_vr, swap_bytes,
                               swap_unit)
from fastdicom._transcode import Transcoder
from fastdicom.charset import convert_encodings
from fastdicom.values import convert_value

_UNSET = _core.UNSET
F_UNDEF = _core.F_UNDEFINED
F_SEQ = _core.F_SEQUENCE
F_ENCAPS = _core.F_ENCAPSULATED
F_IMPL = _core.F_IMPLICIT
F_BE = _core.F_BIG_ENDIAN
F_ITEM = _core.F_ITEM
F_OFFSET_TABLE = _core.F_OFFSET_TABLE
_F_RESOLVED = _core.F_VR_DICT | _core.F_VR_UNKNOWN
_ENC_MASK = F_IMPL | F_BE
_DEFAULT_ENCODINGS = ["iso8859"]
_PSEUDO = frozenset(("xs", "ox", "px", "lt", "up", "UN"))
_RAW, _BULK, _ELEM = object(), object(), object()
#: transcode untouched subtrees with numpy (False: element by element; for tests)
USE_BULK = True
_PIXEL_DATA = 0x7FE00010
_SEQ_DELIM_LE = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
_SEQ_DELIM_BE = b"\xff\xfe\xe0\xdd\x00\x00\x00\x00"
_ITEM_DELIM_LE = b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
_ITEM_DELIM_BE = b"\xff\xfe\xe0\x0d\x00\x00\x00\x00"


_PACKERS = {little: (struct.Struct(e + "HHL").pack, struct.Struct(e + "HH2sH").pack,
                     struct.Struct(e + "HH2sHL").pack) for little, e in ((True, "<"), (False, ">"))}


def _immutable_types() -> frozenset:
    from fastdicom.tag import Tag
    from fastdicom.uid import UID
    from fastdicom.valuerep import DA, DT, IS, TM, DSdecimal, DSfloat, ISfloat, PersonName

    return frozenset((str, bytes, int, float, type(None), UID, Tag, IS, ISfloat, DSfloat,
                      DSdecimal, PersonName, DA, DT, TM))


_IMMUTABLE = _immutable_types()


def _same_value(a: Any, b: Any) -> bool:
    """``a`` (a value as the user holds it) is what ``b`` (decoded afresh) is."""
    if isinstance(a, (list, tuple)) or type(a).__name__ == "MultiValue":
        if not isinstance(b, (list, tuple)) and type(b).__name__ != "MultiValue":
            return False
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b and str(a) == str(b)


class DatasetEncoder:
    """Collects the encoded bytes of datasets as a list of parts.

    ``implicit``/``little`` give the encoding; ``pixel_undefined`` (None, True
    or False) forces the length kind of the top-level Pixel Data, as the
    transfer syntax requires (encapsulated: undefined); ``values_little``, if
    not None, is the byte order of binary values the user assigned as bytes,
    swapped when it is not the encoding's (values read from data are always
    swapped as needed: their records tell their byte order).
    """

    def __init__(self, implicit: bool, little: bool, pixel_undefined: bool | None = None,
                 values_little: bool | None = None) -> None:
        self.implicit = implicit
        self.little = little
        self.eflags = (F_IMPL if implicit else 0) | (0 if little else F_BE)
        self.pixel_undefined = pixel_undefined
        # byte order of binary values held as bytes by elements that have no
        # record (assigned by the user): None to write them as given (pydicom)
        self.values_little = values_little
        self.parts: list = []
        self.size = 0
        self._span: list | None = None  # pending raw copy [mv, start, end]
        self._views: dict = {}          # id(buffer) -> (buffer, memoryview)
        self._bulk: dict = {}           # id(tokens) -> (tokens, Transcoder)
        self._implicit_hdr, self._short_hdr, self._long_hdr = _PACKERS[little]
        self._item_hdr = self._implicit_hdr
        self._seq_delim = _SEQ_DELIM_LE if little else _SEQ_DELIM_BE
        self._item_delim = _ITEM_DELIM_LE if little else _ITEM_DELIM_BE

    # -- output ----------------------------------------------------------------------
    def _view(self, tok: Any) -> memoryview:
        entry = self._views.get(id(tok.obj))
        if entry is None:
            entry = self._views[id(tok.obj)] = (tok.obj, memoryview(tok.obj).cast("B"))
        return entry[1]

    def raw(self, tok: Any, start: int, end: int) -> None:
        """Copy bytes [start, end) of ``tok``'s buffer (merged with the previous copy
        when it ends where this one starts)."""
        if end <= start:
            return
        mv = self._view(tok)
        span = self._span
        if span is not None and span[0] is mv and span[2] == start:
            span[2] = end
        else:
            self._flush()
            self._span = [mv, start, end]
        self.size += end - start

    def _flush(self) -> None:
        span = self._span
        if span is not None:
            self.parts.append(span[0][span[1]:span[2]])
            self._span = None

    def emit(self, data: bytes) -> None:
        if self._span is not None:
            self._flush()
        self.parts.append(data)
        self.size += len(data)

    def _placeholder(self) -> int:
        if self._span is not None:
            self._flush()
        self.parts.append(b"")
        return len(self.parts) - 1

    def _fill(self, k: int, data: bytes) -> None:
        self.parts[k] = data
        self.size += len(data)

    def finish(self) -> list:
        self._flush()
        return self.parts

    def getvalue(self) -> bytes:
        return b"".join(self.finish())

    # -- headers ---------------------------------------------------------------------
    def header(self, tag: int, vr: str, length: int) -> bytes:
        if self.implicit:
            return self._implicit_hdr(tag >> 16, tag & 0xFFFF, length)
        if len(vr) != 2:
            raise ValueError(
                f"Cannot write ambiguous VR of '{vr}' for data element with tag {_tagstr(tag)}.\n"
                "Set the correct VR before writing, or use an implicit VR transfer syntax")
        if vr in LONG_VRS:
            return self._long_hdr(tag >> 16, tag & 0xFFFF, vr.encode("latin-1"), 0, length)
        if length > 0xFFFE and length != 0xFFFFFFFF:
            # PS3.5 6.2.2: too long for a 2-byte length: written as UN
            warnings.warn(
                f"The value for the data element {_tagstr(tag)} exceeds the size of 64 kByte "
                f"and cannot be written in an explicit transfer syntax. The data element VR "
                f"is changed from '{vr}' to 'UN' to allow saving the data.", UserWarning,
                stacklevel=4)
            return self._long_hdr(tag >> 16, tag & 0xFFFF, b"UN", 0, length)
        return self._short_hdr(tag >> 16, tag & 0xFFFF, vr.encode("latin-1"), length)

    # -- datasets --------------------------------------------------------------------
    def dataset(self, ds: Any, parent_enc: list | None = None, ancestors: list | None = None) -> None:
        """Encode ``ds`` (its elements in tag order) whose parent dataset uses the
        Python encodings ``parent_enc``; ``ancestors`` are the enclosing datasets,
        nearest first (for ambiguous VRs)."""
        parent_enc = parent_enc or _DEFAULT_ENCODINGS
        ancestors = [ds] + (ancestors or [])
        enc = _charset(ds, parent_enc)
        tok = ds._tokens
        if tok is not None and ds._dict is None and self._view_fast(ds, tok, enc, ancestors):
            return
        self._general(ds, enc, ancestors)

    def _view_fast(self, ds: Any, tok: Any, enc: list, ancestors: list) -> bool:
        """A dataset view in its source encoding: copy it in at most a few stretches,
        encoding only the changed elements between them. False if that does not
        apply (another encoding, character set changed, tags out of order, a
        subset (specific_tags), a group length to update)."""
        parent = ds._parent
        kids = tok.children(parent)
        n = len(kids)
        if len(ds._indices()) != n:
            return False
        if n == 0:
            return True
        rec = tok.records
        tags = rec["tag"][kids]
        if n > 1 and not (tags[1:] > tags[:-1]).all():
            return False
        masked = rec["flags"][kids] & _ENC_MASK
        if (masked.any() if self.eflags == 0 else (masked != self.eflags).any()):
            return False
        if enc != _core.encodings_at(tok, parent):
            return False
        dirty = [int(tag) for tag, elem in list(ds._elems.items())
                 if not self._is_clean(elem, tok, ds)]
        if len(ancestors) == 1 and self.pixel_undefined is not None and _PIXEL_DATA not in dirty:
            i = tok.find(_PIXEL_DATA, parent)
            if i >= 0 and self._pixel_mismatch(tok.flags(i)):
                dirty.append(_PIXEL_DATA)
        lengths = (tags & 0xFFFF) == 0
        if lengths.any() and not _group_lengths_hold(dirty, tags, lengths):
            return False
        hdr = rec["header_offset"]
        end = _record_end(rec[int(kids[n - 1])])
        cursor = int(hdr[kids[0]])
        if dirty:
            dirty.sort()
            for tag, p in zip(dirty, np.searchsorted(tags, dirty).tolist()):
                self.raw(tok, cursor, int(hdr[kids[p]]))
                self.element(ds._lookup(tag), ancestors, enc)
                cursor = int(hdr[kids[p + 1]]) if p + 1 < n else end
        self.raw(tok, cursor, end)
        return True

    def _general(self, ds: Any, enc: list, ancestors: list) -> None:
        """Any dataset: element by element in tag order. Unchanged elements are
        still copied when in this encoding (merged into stretches), or else
        transcoded in runs (:mod:`fastdicom._transcode`); group lengths are
        recomputed unless their group is unchanged."""
        group = None  # the group with a group length element being written
        run: list = []  # record ranges of run_tok waiting to be transcoded together
        run_tok = None
        for tag, kind, elem, tok, i in self._plan(ds, enc, ancestors):
            if group is not None and tag >> 16 != group.number:
                run = self._flush_run(run_tok, run)
                self._close_group(group)
                group = None
            if kind is _BULK:
                if run and (tok is not run_tok or run[-1][1] != i):
                    run = self._flush_run(run_tok, run)
                j = self._transcoder(tok).end(i)
                if run:
                    run[-1] = (run[-1][0], j)
                else:
                    run.append((i, j))
                    run_tok = tok
                if group is not None:
                    group.changed = True
                continue
            run = self._flush_run(run_tok, run)
            if tag & 0xFFFF == 0:  # a group length: the size of what follows in its group
                if group is not None:
                    self._close_group(group)
                group = _Group(tag >> 16, self._placeholder(), self.size,
                               (tok, i) if kind is _RAW else None)
            elif kind is _RAW:
                self._raw_record(tok, i)
                if group is not None:
                    group.copied.append((tok, i))
            else:
                self.element(elem, ancestors, enc)
                if group is not None:
                    group.changed = True
        self._flush_run(run_tok, run)
        if group is not None:
            self._close_group(group)

    def _plan(self, ds: Any, enc: list, ancestors: list) -> list:
        """(tag, kind, element, tokens, record index) for each element of ``ds`` in
        tag order; kind: _RAW (copy the record), _BULK (transcode the record's
        subtree) or _ELEM (encode the element)."""
        top = len(ancestors) == 1
        plan = []
        if ds._dict is not None:
            d = ds._dict
            for t in sorted(d):
                elem = d[t]
                tok = elem._tokens
                i = elem._index
                if tok is None or i < 0 or not self._is_clean(elem, tok, ds):
                    plan.append((int(t), _ELEM, elem, None, -1))
                    continue
                flags = tok.flags(i)
                plan.append((int(t), self._kind(tok, i, flags, elem.VR, top,
                                                 enc == _core.encodings_at(tok, tok.parent(i))),
                             elem, tok, i))
            return plan
        tok = ds._tokens
        idx = ds._indices()
        if not idx:
            return plan
        elems = ds._elems
        charset_same = enc == _core.encodings_at(tok, ds._parent)
        rec = tok.records
        for i, tag, flags, vr in zip(idx, rec["tag"][idx].tolist(), rec["flags"][idx].tolist(),
                                     rec["vr"][idx].tolist()):
            elem = elems.get(tag)
            if elem is not None:
                if not self._is_clean(elem, tok, ds):
                    plan.append((tag, _ELEM, elem, None, -1))
                    continue
                vr = elem.VR
            else:
                vr = "SQ" if flags & F_SEQ else vr.decode("latin-1")
                if flags & _F_RESOLVED or vr in _PSEUDO:
                    vr = "??"  # resolved by the dataset layer: maybe a text VR
            kind = self._kind(tok, i, flags, vr, top, charset_same)
            if kind is _ELEM and elem is None:
                elem = ds._element_at(i)
            plan.append((tag, kind, elem, tok, i))
        return plan

    def _kind(self, tok: Any, i: int, flags: int, vr: str, top: bool, charset_same: bool) -> object:
        """How to write the unchanged element of record ``i`` whose VR is ``vr``."""
        if top and tok.tag(i) == _PIXEL_DATA and self._pixel_mismatch(flags):
            return _ELEM
        if not charset_same and (vr in TEXT_VRS or vr in ("SQ", "??")):
            return _ELEM
        if (flags & _ENC_MASK) == self.eflags:
            return _RAW
        if USE_BULK and charset_same and self._transcoder(tok).ok(i):
            return _BULK
        return _ELEM

    def _transcoder(self, tok: Any) -> Transcoder:
        entry = self._bulk.get(id(tok))
        if entry is None:
            entry = self._bulk[id(tok)] = (tok, Transcoder(tok, self.implicit, self.little))
        return entry[1]

    def _flush_run(self, tok: Any, run: list) -> list:
        if run:
            self.emit(self._transcoder(tok).encode(run))
        return []

    def _close_group(self, group: "_Group") -> None:
        """Fill in a group length: the bytes it was read from if neither it nor
        its group changed (even if the value read was wrong: it is what the
        dataset holds), else the size of the group as written."""
        src = group.source
        if src is not None and not group.changed and _group_unchanged(src, group.copied):
            tok, i = src
            r = tok.records[i]
            self._fill(group.slot, bytes(self._view(tok)[int(r["header_offset"]):_record_end(r)]))
            return
        value = struct.pack("<L" if self.little else ">L", self.size - group.start)
        self._fill(group.slot, self.header(group.number << 16, "UL", 4) + value)

    def _pixel_mismatch(self, flags: int) -> bool:
        return self.pixel_undefined is not None and bool(flags & F_UNDEF) != self.pixel_undefined

    def _raw_record(self, tok: Any, i: int) -> None:
        r = tok.records[i]
        self.raw(tok, int(r["header_offset"]), _record_end(r))

    # -- elements --------------------------------------------------------------------
    def _is_clean(self, elem: Any, tok: Any, ds: Any) -> bool:
        """Whether ``elem`` still holds exactly what its record in ``tok`` holds."""
        if elem._tokens is not tok or elem._index < 0:
            return False
        i = elem._index
        _tag, rvr, flags, _raw = tok.info(i)
        undefined = bool(flags & F_UNDEF)
        if bool(elem.is_undefined_length) != undefined:
            return False
        vr = elem.VR
        if flags & F_SEQ:
            if vr != "SQ":
                return False
        elif vr != rvr and not ((flags & _F_RESOLVED or rvr in _PSEUDO)
                                and ds._resolve_vr(elem.tag, rvr, flags) == vr):
            return False
        value = elem._value
        if value is _UNSET or type(value) in _IMMUTABLE:
            return True
        if flags & F_SEQ:
            return self._sequence_clean(value, tok, i, undefined)
        try:
            fresh = convert_value(vr, tok.value_bytes(i), little_endian=elem._little_endian,
                                  encodings=_core.encodings_at(tok, tok.parent(i)), tag=elem.tag)
        except Exception:
            return False
        return _same_value(value, fresh)

    def _sequence_clean(self, seq: Any, tok: Any, i: int, undefined: bool) -> bool:
        if bool(getattr(seq, "is_undefined_length", undefined)) != undefined:
            return False
        kids = tok.children(i)
        if len(seq) != len(kids):
            return False
        for item, k in zip(seq, kids.tolist()):
            if not self._item_clean(item, tok, k):
                return False
        return True

    def _item_clean(self, item: Any, tok: Any, k: int) -> bool:
        if getattr(item, "_tokens", None) is not tok or item._parent != k or item._dict is not None:
            return False
        if bool(item.is_undefined_length_sequence_item) != bool(tok.flags(k) & F_UNDEF):
            return False
        for elem in list(item._elems.values()):
            if not self._is_clean(elem, tok, item):
                return False
        return True

    def element(self, elem: Any, ancestors: list, enc: list) -> None:
        """Encode one element (not copied as it was): transcoded from its record
        if unchanged, else from its value."""
        tag = int(elem.tag)
        tok = elem._tokens
        if elem.VR == "SQ":
            self._sequence(elem, ancestors, enc)
            return
        top_pixels = tag == _PIXEL_DATA and len(ancestors) == 1
        if tok is not None and elem._index >= 0 and self._is_clean(elem, tok, ancestors[0]):
            i = elem._index
            flags = tok.flags(i)
            undefined = bool(flags & F_UNDEF)
            if top_pixels and self._pixel_mismatch(flags):
                _pixel_error(undefined)
            if not (elem.VR in TEXT_VRS and enc != _core.encodings_at(tok, tok.parent(i))):
                vr = resolve_vr(elem.VR, tag, undefined, ancestors)
                if flags & F_ENCAPS:
                    self._encapsulated(tok, i, tag, vr)
                    return
                value = tok.value(i)
                if bool(flags & F_BE) == self.little:
                    unit = swap_unit(vr, tag, ancestors)
                    if unit > 1:
                        value = swap_bytes(value, unit)
                self.emit(self.header(tag, vr, len(value)))
                self.emit(value)
                return
        value = elem.value
        undefined = bool(elem.is_undefined_length)
        if top_pixels and self.pixel_undefined is not None:
            if undefined and not self.pixel_undefined:
                _pixel_error(True)
            undefined = self.pixel_undefined
        vr = resolve_vr(elem.VR, tag, undefined, ancestors) if (" or " in elem.VR) else elem.VR
        data = encode_value(vr, value, enc, self.little, tag)
        if self.values_little is not None and self.values_little != self.little and \
                not undefined and isinstance(value, (bytes, bytearray, memoryview)):
            unit = swap_unit(vr, tag, ancestors)
            if unit > 1:
                data = swap_bytes(data, unit)
        if undefined:
            item = b"\xfe\xff\x00\xe0" if self.little else b"\xff\xfe\xe0\x00"
            if tag == _PIXEL_DATA:
                vr = "OB"  # PS3.5 A.4: encapsulated Pixel Data is OB
            if tag == _PIXEL_DATA and data[:4] != item:
                raise ValueError(
                    "The (7FE0,0010) 'Pixel Data' element value hasn't been encapsulated as "
                    "required for a compressed transfer syntax - see "
                    "fastdicom.encaps.encapsulate() for more information")
            self.emit(self.header(tag, vr, 0xFFFFFFFF))
            self.emit(data)
            self.emit(self._seq_delim)
            return
        self.emit(self.header(tag, vr, len(data)))
        self.emit(data)

    def _encapsulated(self, tok: Any, i: int, tag: int, vr: str) -> None:
        """Encapsulated data read from ``tok``: the items re-headed for this byte order."""
        if tag == _PIXEL_DATA or vr not in ("OB", "OW", "UN"):
            vr = "OB"  # PS3.5 A.4: encapsulated Pixel Data is OB
        self.emit(self.header(tag, vr, 0xFFFFFFFF))
        rec = tok.records
        if bool(rec[i]["flags"] & F_BE) != self.little:  # same byte order: items as they are
            r = rec[i]
            self.raw(tok, int(r["value_offset"]), int(r["value_offset"]) + int(r["value_length"]) + 8)
            return
        for k in tok.children(i).tolist():
            value = tok.value(k)
            if rec[k]["flags"] & F_OFFSET_TABLE:
                value = swap_bytes(value, 4)
            self.emit(self._item_hdr(0xFFFE, 0xE000, len(value)))
            self.emit(value)
        self.emit(self._seq_delim)

    def _sequence(self, elem: Any, ancestors: list, enc: list) -> None:
        tag = int(elem.tag)
        seq = elem.value
        if seq is None:
            seq = []
        tok = elem._tokens
        orig = bool(tok.flags(elem._index) & F_UNDEF) if tok is not None and elem._index >= 0 else None
        undefined = bool(elem.is_undefined_length)
        seq_flag = getattr(seq, "is_undefined_length", None)
        if orig is None:
            undefined = undefined or bool(seq_flag)
        elif undefined == orig and seq_flag is not None and bool(seq_flag) != orig:
            undefined = bool(seq_flag)  # changed on the Sequence
        if undefined:
            self.emit(self.header(tag, "SQ", 0xFFFFFFFF))
        else:
            slot = self._placeholder()
            start = self.size
        for item in seq:
            self.item(item, ancestors, enc)
        if undefined:
            self.emit(self._seq_delim)
        else:
            self._fill(slot, self.header(tag, "SQ", self.size - start))

    def item(self, item: Any, ancestors: list, enc: list) -> None:
        """One item of a sequence: copied whole if unchanged and in this encoding."""
        tok = getattr(item, "_tokens", None)
        undefined = bool(item.is_undefined_length_sequence_item)
        if tok is not None and item._dict is None and item._parent >= 0:
            k = item._parent
            rec = tok.records
            r = rec[k]
            if (bool(r["flags"] & F_BE) != self.little
                    and bool(r["flags"] & F_UNDEF) == undefined
                    and _item_children_match(tok, k, self.eflags)
                    and _charset(item, enc) == _core.encodings_at(tok, k)
                    and self._item_clean(item, tok, k)):
                self.raw(tok, int(r["header_offset"]), _record_end(r))
                return
        if undefined:
            self.emit(self._item_hdr(0xFFFE, 0xE000, 0xFFFFFFFF))
            self.dataset(item, enc, ancestors)
            self.emit(self._item_delim)
        else:
            slot = self._placeholder()
            start = self.size
            self.dataset(item, enc, ancestors)
            self._fill(slot, self._item_hdr(0xFFFE, 0xE000, self.size - start))


def _tagstr(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _pixel_error(undefined: bool) -> None:
    if undefined:
        raise ValueError("The (7FE0,0010) 'Pixel Data' is encapsulated (compressed) but the "
                         "transfer syntax is not: decompress it before changing the transfer syntax")
    raise ValueError("The (7FE0,0010) 'Pixel Data' element value hasn't been encapsulated as "
                     "required for a compressed transfer syntax - see "
                     "fastdicom.encaps.encapsulate() for more information")


def _item_children_match(tok: Any, k: int, eflags: int) -> bool:
    kids = tok.children(k)
    if len(kids) == 0:
        return True
    return bool(((tok.records["flags"][kids] & _ENC_MASK) == eflags).all())


class _Group:
    """A group with a group length element, while it is written."""

    __slots__ = ("number", "slot", "start", "source", "copied", "changed")

    def __init__(self, number: int, slot: int, start: int, source: tuple | None) -> None:
        self.number = number
        self.slot = slot
        self.start = start
        self.source = source      # (tokens, index) of the group length if copyable
        self.copied: list = []    # (tokens, index) of the group's elements copied
        self.changed = False      # an element of the group was encoded


def _group_unchanged(source: tuple, copied: list) -> bool:
    """The elements copied are exactly those that followed the group length
    element in its group where it was read."""
    tok, i = source
    kids = tok.children(tok.parent(i)).tolist()
    group = tok.tag(i) >> 16
    p = kids.index(i) + 1
    original = []
    while p < len(kids) and tok.tag(kids[p]) >> 16 == group:
        original.append(kids[p])
        p += 1
    return len(copied) == len(original) and all(
        t is tok and k == o for (t, k), o in zip(copied, original))


def _group_lengths_hold(dirty: list, tags: Any, lengths: Any) -> bool:
    """In a view copied as it is: no element of a group with a group length changed."""
    if not dirty:
        return True
    groups = {int(t) >> 16 for t in tags[lengths]}
    return not any(t >> 16 in groups for t in dirty)


def _record_end(r: Any) -> int:
    """End offset of a record's element (its delimiter included)."""
    return int(r["value_offset"]) + int(r["value_length"]) + (8 if r["flags"] & F_UNDEF else 0)


def _charset(ds: Any, parent_enc: list) -> list:
    """Python encodings of ``ds`` as it is now: its own (0008,0005) or its parent's."""
    elem = ds._lookup(0x00080005)
    if elem is None:
        return parent_enc
    tok = elem._tokens
    if tok is not None and elem._value is _UNSET and elem._index >= 0:
        return _core.encodings_at(tok, tok.parent(elem._index))
    value = elem.value
    return convert_encodings(value) if value else _DEFAULT_ENCODINGS

