# Hot path of the dataset layer: element lookup by tag or keyword, lazy
# element creation and value decoding, in C. fastdicom/dataset.py and
# fastdicom/dataelem.py subclass these and hold everything else.
from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject, PyObject_GenericGetAttr

cdef extern from "Python.h":
    void PyObject_GC_UnTrack(void *op)

cdef object _UNSET = object()
UNSET = _UNSET

# Set once by fastdicom.dataset at import (see configure()).
cdef dict _KEYWORDS = {}
cdef object _convert_value = None
cdef object _Tag = None
cdef object _int_new = int.__new__
cdef object _list_new = list.__new__
cdef object _Element = None
cdef object _Sequence = None
cdef object _Dataset = None
cdef object _DEFAULT_ENC = None
cdef dict _VR_STR = {}
cdef dict _CONVERTERS = {}
cdef dict _CHARSETS = {}
cdef object _LUT_TAGS = frozenset()
cdef object _charset_from_raw = None
cdef object _decode_sequence = None
cdef object _convert_assigned = None
import weakref as _weakref_mod
cdef object _wref = _weakref_mod.ref

_PSEUDO_VRS = frozenset(["xs", "ox", "px", "lt", "up", "UN"])


def configure(keywords, convert_value, tag_class, element_class, sequence_class, default_encoding,
              converters, lut_tags, dataset_class, charset_from_raw, decode_sequence,
              convert_assigned):
    """Wire the Python parts of the dataset layer into the compiled core."""
    global _Dataset, _charset_from_raw, _decode_sequence, _convert_assigned
    _convert_assigned = convert_assigned
    _Dataset = dataset_class
    _charset_from_raw = charset_from_raw
    _decode_sequence = decode_sequence
    global _KEYWORDS, _convert_value, _Tag, _Element, _Sequence, _DEFAULT_ENC, _CONVERTERS, _LUT_TAGS
    _CONVERTERS = converters
    _LUT_TAGS = lut_tags
    _KEYWORDS = keywords
    _convert_value = convert_value
    _Tag = tag_class
    _Element = element_class
    _Sequence = sequence_class
    _DEFAULT_ENC = default_encoding


cdef dict _TAGS = {}


cdef inline object _tag_object(uint32_t t):
    """The Tag for ``t``: Tags are immutable ints, so one object per value serves all."""
    cdef PyObject *p = PyDict_GetItem(_TAGS, t)
    if p != NULL:
        return <object>p
    tag = _int_new(_Tag, t)
    if len(_TAGS) < 65536:
        _TAGS[t] = tag
    return tag


cdef inline str _vr_str(const char *vr):
    cdef int key = ((<unsigned char>vr[0]) << 8) | (<unsigned char>vr[1])
    cdef PyObject *p = PyDict_GetItem(_VR_STR, key)
    if p != NULL:
        return <str>p
    s = vr[:2].decode("latin-1")
    _VR_STR[key] = s
    return s


cdef class ElementBase:
    """Fields and lazy value of a data element (see fastdicom.dataelem)."""
    cdef public object tag
    cdef public object VR
    cdef public object _value
    cdef public object _tokens     # the element table its value is read from
    cdef public object _owner      # weakref to the dataset that read it (for SQ items)
    cdef public Py_ssize_t _index
    cdef public bint is_undefined_length
    cdef public object private_creator
    cdef public bint _little_endian
    cdef object __weakref__

    @property
    def value(self):
        v = self._value
        if v is _UNSET:
            v = _decode_element(self)
            # another thread may have decoded it meanwhile: keep the first
            if self._value is _UNSET:
                self._value = v
            else:
                v = self._value
        return v

    @value.setter
    def value(self, val):
        self._value = _convert_assigned(self, val)
        self._tokens = None
        self._owner = None
        self._index = -1


cdef object _encodings_at(Tokens tok, Py_ssize_t ds_idx):
    """Python encodings of the dataset whose record is ``ds_idx`` (an item, or
    -1 for the top level) in ``tok``: its (0008,0005), else its parent's.
    Read from the table alone, so elements need no link to their dataset."""
    cdef PyObject *p = PyDict_GetItem(tok.enc_cache, ds_idx)
    cdef Py_ssize_t i, seq
    if p != NULL:
        return <object>p
    i = tok._find(0x00080005, ds_idx)
    if i >= 0:
        raw = tok._value_bytes(i)
        p = PyDict_GetItem(_CHARSETS, raw)
        if p != NULL:
            enc = <object>p
        else:
            enc = _charset_from_raw(raw)
            if len(_CHARSETS) < 256:
                _CHARSETS[raw] = enc
    elif ds_idx < 0:
        enc = tok.root_encodings if tok.root_encodings is not None else _DEFAULT_ENC
    else:
        seq = tok.table.records[ds_idx].parent
        enc = _encodings_at(tok, tok.table.records[seq].parent if seq >= 0 else -1)
    tok.enc_cache[ds_idx] = enc
    return enc


def encodings_at(Tokens tok, Py_ssize_t ds_idx):
    return _encodings_at(tok, ds_idx)


cdef object _decode_element(ElementBase elem):
    """Value of an element read from a table."""
    if elem.VR == "SQ":
        owner = elem._owner() if elem._owner is not None else None
        if owner is not None and ((<Tokens>elem._tokens).table.records[elem._index].flags & FD_F_SEQUENCE):
            seq = _list_new(_Sequence)
            seq.extend((<DatasetBase>owner)._sequence_items(elem))
            if elem.is_undefined_length:
                seq.is_undefined_length = True
            return seq
        return _decode_sequence(elem, owner)
    cdef Tokens tok = <Tokens>elem._tokens
    raw = tok._value_bytes(elem._index)
    if elem.tag == 0x00080005:
        enc = _DEFAULT_ENC
    else:
        enc = _encodings_at(tok, tok.table.records[elem._index].parent)
    v = _fast_value(elem.VR, raw, elem._little_endian, enc)
    if v is not _UNSET and elem.tag not in _LUT_TAGS:
        return v
    # the common case straight to the VR's converter; anything unusual
    # (empty, LUT descriptors, errors) through convert_value
    cdef PyObject *conv = PyDict_GetItem(_CONVERTERS, elem.VR)
    if conv != NULL and len(raw) and elem.tag not in _LUT_TAGS:
        try:
            return (<object>conv)(raw, elem._little_endian, enc)
        except Exception:
            pass
    return _convert_value(elem.VR, raw, little_endian=elem._little_endian, encodings=enc, tag=elem.tag)


cdef class DatasetBase:
    """Fields and lookups of a dataset (see fastdicom.dataset)."""
    cdef public object _tokens
    cdef public Py_ssize_t _parent
    cdef public dict _elems
    cdef public object _dict
    cdef public object _only
    cdef object _parent_ref        # weakref to the parent dataset (items), or None
    cdef object _selfref
    cdef public object _encodings
    cdef public object _order
    cdef public object is_little_endian
    cdef public object is_implicit_VR
    cdef public bint is_undefined_length_sequence_item
    cdef object __weakref__

    def __cinit__(self):
        self._parent = -1
        self._elems = {}

    @property
    def _parent_ds(self):
        return self._parent_ref() if self._parent_ref is not None else None

    @_parent_ds.setter
    def _parent_ds(self, ds):
        self._parent_ref = _wref(ds) if ds is not None else None

    cdef object _weak_self(self):
        if self._selfref is None:
            self._selfref = _wref(self)
        return self._selfref

    def _init_view(self, tokens, Py_ssize_t parent, parent_ds, only):
        self._tokens = tokens
        self._parent = parent
        self._parent_ref = _wref(parent_ds) if parent_ds is not None else None
        self._only = only
        self._dict = None
        if tokens is not None:
            self.is_little_endian = (<Tokens>tokens).little_endian
            self.is_implicit_VR = not (<Tokens>tokens).explicit_vr

    cpdef list _indices(self):
        """Record indices of this dataset's elements in tag order (a repeated
        tag keeps its first place, as in pydicom's dict)."""
        cdef Tokens tok
        cdef Py_ssize_t i, stop
        cdef fd_record *r
        cdef list out
        cdef bint sorted_ = True
        cdef uint32_t last = 0
        if self._order is not None:
            return <list>self._order
        tok = <Tokens>self._tokens
        out = []
        if self._parent == -1:
            i = 0
            stop = <Py_ssize_t>tok.table.n
        else:
            i = self._parent + 1
            stop = tok.table.records[self._parent].next
        while i < stop:
            r = &tok.table.records[i]
            if not (r.flags & (FD_F_ITEM_DELIM | FD_F_SEQ_DELIM)):
                if self._only is None or r.tag in self._only:
                    if out and r.tag <= last:
                        sorted_ = False
                    last = r.tag
                    out.append(i)
            i = r.next
        if not sorted_:
            first = {}
            for j in out:
                t = tok.table.records[<Py_ssize_t>j].tag
                if t not in first:
                    first[t] = j
            out = [first[t] for t in sorted(first)]
        self._order = out
        return out

    def __iter__(self):
        if self._dict is not None:
            d = self._dict
            return iter([d[t] for t in sorted(d)])
        return _ElementIter(self, self._indices())

    def __len__(self):
        if self._dict is not None:
            return len(self._dict)
        return len(self._indices())

    cdef object _new_item(self, Tokens tok, Py_ssize_t index):
        cdef DatasetBase item = <DatasetBase>_Dataset.__new__(_Dataset)
        item._tokens = tok
        item._parent = index
        item._parent_ref = self._weak_self()
        item._dict = None
        item.is_little_endian = self.is_little_endian
        item.is_implicit_VR = self.is_implicit_VR
        item.is_undefined_length_sequence_item = (tok.table.records[index].flags & FD_F_UNDEFINED) != 0
        return item

    cpdef object _sequence_items(self, ElementBase elem):
        """The items of a sequence element found by the tokenizer."""
        cdef Tokens tok = <Tokens>self._tokens
        cdef Py_ssize_t i = elem._index + 1
        cdef Py_ssize_t stop = tok.table.records[elem._index].next
        cdef fd_record *r
        cdef list items = []
        while i < stop:
            r = &tok.table.records[i]
            if r.flags & FD_F_ITEM:
                items.append(self._new_item(tok, i))
            i = r.next
        return items

    def _lookup(self, tag):
        """The element ``tag`` (an int) or None."""
        return self._lookup_c(tag)

    cdef object _lookup_c(self, tag):
        cdef Py_ssize_t i
        cdef PyObject *p
        if self._dict is not None:
            return self._dict.get(tag)
        p = PyDict_GetItem(self._elems, tag)
        if p != NULL:
            return <object>p
        if self._tokens is None:
            return None
        i = (<Tokens>self._tokens)._find(<uint32_t>tag, self._parent)
        if i < 0:
            return None
        if self._only is not None and tag not in self._only:
            return None
        return self._element_at_c(i)

    def _element_at(self, Py_ssize_t i):
        return self._element_at_c(i)

    cdef object _element_at_c(self, Py_ssize_t i):
        cdef Tokens tok = <Tokens>self._tokens
        cdef fd_record *r = &tok.table.records[i]
        cdef uint32_t t = r.tag
        cdef PyObject *p = PyDict_GetItem(self._elems, t)
        cdef ElementBase e
        if p != NULL:
            return <object>p
        tag = _tag_object(t)
        if r.flags & FD_F_SEQUENCE:
            vr = "SQ"
        else:
            vr = _vr_str(r.vr)
            if (r.flags & FD_F_VR_UNKNOWN) or (vr in _PSEUDO_VRS and not (
                    # an explicit UN too long for a 16-bit length stays UN (pydicom)
                    vr == "UN" and r.value_length >= 0xFFFF and not (t >> 16) & 1)):
                vr = self._resolve_vr(tag, vr, r.flags)
        e = ElementBase.__new__(_Element)
        e.tag = tag
        e.VR = vr
        # Elements read from a table refer to it, to a weak reference and to
        # their value, never back to a dataset: they make no cycles, so the
        # cycle collector need not track them (most objects a read makes).
        PyObject_GC_UnTrack(<void *>e)
        e._value = _UNSET
        e._tokens = tok
        e._owner = self._weak_self()
        e._index = i
        e.is_undefined_length = (r.flags & FD_F_UNDEFINED) != 0
        e._little_endian = (r.flags & FD_F_BIG_ENDIAN) == 0
        if (t >> 16) & 1 and (t & 0xFFFF) > 0x00FF:
            e.private_creator = self._private_creator(tag)
        # another thread may have made it meanwhile: keep the first
        return self._elems.setdefault(tag, e)

    def __getattribute__(self, name):
        # keywords first: no AttributeError is raised (and caught) on the way
        cdef PyObject *p = PyDict_GetItem(_KEYWORDS, name)
        cdef ElementBase e
        if p != NULL:
            elem = self._lookup_c(<object>p)
            if elem is not None:
                e = <ElementBase>elem
                if e._value is _UNSET:
                    return e.value
                return e._value
        return PyObject_GenericGetAttr(self, name)


cdef class _ElementIter:
    """Iterator over the elements of a dataset view, in tag order."""
    cdef DatasetBase ds
    cdef list indices
    cdef Py_ssize_t pos

    def __cinit__(self, DatasetBase ds, list indices):
        self.ds = ds
        self.indices = indices
        self.pos = 0

    def __iter__(self):
        return self

    def __next__(self):
        if self.pos >= len(self.indices):
            raise StopIteration
        i = self.indices[self.pos]
        self.pos += 1
        return self.ds._element_at_c(i)
