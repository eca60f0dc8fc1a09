# Hot path of the dataset layer: element lookup by tag or keyword, lazy
# element creation and value decoding, in C. fastdicom/dataset.py and
# fastdicom/dataelem.py subclass these and hold everything else.
from cpython.dict cimport PyDict_GetItem, PyDict_SetDefault
from cpython.object cimport PyObject, PyObject_GenericGetAttr, PyTypeObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from cpython.unicode cimport PyUnicode_Check, PyUnicode_GET_LENGTH, PyUnicode_READ_CHAR

cdef extern from "Python.h":
    void PyObject_GC_UnTrack(void *op)

cdef object _UNSET = object()
cdef tuple _NO_ARGS = ()
UNSET = _UNSET

# Set once by fastdicom.dataset at import (see configure()).
cdef dict _KEYWORDS = {}
cdef object _convert_value = None
cdef object _Tag = None
cdef object _int_new = int.__new__
cdef str _SQ = "SQ"
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

cdef object _PSEUDO_VRS = frozenset(["xs", "ox", "px", "lt", "up", "UN"])


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
    global _N_LUT
    _N_LUT = 0
    for t in sorted(lut_tags)[:8]:
        _LUT_C[_N_LUT] = t
        _N_LUT += 1
    assert _N_LUT == len(lut_tags)
    _KEYWORDS = keywords
    _convert_value = convert_value
    _Tag = tag_class
    _Element = element_class
    _Sequence = sequence_class
    _DEFAULT_ENC = default_encoding


cdef uint32_t _LUT_C[8]
cdef int _N_LUT = 0


cdef inline bint _is_lut_tag(uint32_t t):
    cdef int k
    for k in range(_N_LUT):
        if _LUT_C[k] == t:
            return True
    return False


# Tags are immutable ints, so one object per value serves all: a direct-mapped
# cache of them (strong references, replaced on collision).
cdef enum:
    _TAG_SLOTS = 4096
cdef uint32_t _TAG_KEYS[_TAG_SLOTS]
cdef PyObject *_TAG_OBJS[_TAG_SLOTS]


cdef inline object _tag_object(uint32_t t):
    """The Tag for ``t``."""
    cdef uint32_t h = ((t * 2654435761u) >> 20) & (_TAG_SLOTS - 1)
    cdef PyObject *p = _TAG_OBJS[h]
    if p != NULL and _TAG_KEYS[h] == t:
        return <object>p
    tag = _int_new(_Tag, t)
    Py_INCREF(tag)
    p = _TAG_OBJS[h]  # read again: making the tag may have run other threads
    _TAG_OBJS[h] = <PyObject *>tag
    _TAG_KEYS[h] = t
    Py_XDECREF(p)
    return tag


cdef PyObject *_VR_OBJS[676]   # VR strings of two upper-case letters


cdef inline str _vr_str(const char *vr):
    cdef unsigned char a = <unsigned char>vr[0], b = <unsigned char>vr[1]
    cdef int key
    cdef PyObject *p
    if 65 <= a <= 90 and 65 <= b <= 90:
        key = (a - 65) * 26 + (b - 65)
        if _VR_OBJS[key] == NULL:
            s = vr[:2].decode("latin-1")
            if _VR_OBJS[key] == NULL:  # (not made by another thread meanwhile)
                Py_INCREF(s)
                _VR_OBJS[key] = <PyObject *>s
        return <str>_VR_OBJS[key]
    key = (a << 8) | b
    p = PyDict_GetItem(_VR_STR, key)
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
        return _value_of(self)

    @value.setter
    def value(self, val):
        self._value = _convert_assigned(self, val)
        self._tokens = None
        self._owner = None
        self._index = -1


cdef inline object _value_of(ElementBase e):
    """The value of ``e``, decoded from its table on first access."""
    v = e._value
    if v is _UNSET:
        v = _decode_element(e)
        # another thread may have decoded it meanwhile: keep the first
        if e._value is _UNSET:
            e._value = v
        else:
            v = e._value
    return v


cdef object _encodings_at(Tokens tok, Py_ssize_t ds_idx):
    """Python encodings of the dataset whose record is ``ds_idx`` (an item, or
    -1 for the top level) in ``tok``: its (0008,0005), else its parent's.
    Read from the table alone, so elements need no link to their dataset."""
    cdef PyObject *p
    cdef Py_ssize_t i, seq
    if ds_idx >= 0 and not tok._has_nested_charset():
        ds_idx = -1  # no item has one of its own: all inherit the top level's
    p = PyDict_GetItem(tok.enc_cache, ds_idx)
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


cdef object _enc_of(Tokens tok, fd_record *r):
    """Encodings for the value of record ``r`` (the default for (0008,0005) itself)."""
    if r.tag == 0x00080005:
        return _DEFAULT_ENC
    return _encodings_at(tok, r.parent)


cdef inline bint _is_sq(object vr):
    """vr == "SQ", for a str."""
    return vr is _SQ or (PyUnicode_Check(vr) and PyUnicode_GET_LENGTH(vr) == 2
                         and <int>PyUnicode_READ_CHAR(vr, 0) == 83
                         and <int>PyUnicode_READ_CHAR(vr, 1) == 81)


cdef object _decode_element(ElementBase elem):
    """Value of an element read from a table."""
    cdef Tokens tok
    cdef fd_record *r
    cdef const unsigned char *b
    cdef bint lut
    vr = elem.VR
    if _is_sq(vr):
        owner = elem._owner() if elem._owner is not None else None
        if owner is not None and ((<Tokens>elem._tokens).table.records[elem._index].flags & FD_F_SEQUENCE):
            seq = _new_of(_Sequence)
            (<list>seq).extend((<DatasetBase>owner)._sequence_items(elem))
            if elem.is_undefined_length:
                seq.is_undefined_length = True
            return seq
        return _decode_sequence(elem, owner)
    tok = <Tokens>elem._tokens
    tok._ensure(elem._index)
    r = &tok.table.records[elem._index]
    b = <const unsigned char *>tok.view.buf + r.value_offset
    lut = _is_lut_tag(r.tag)
    if not lut:
        v = _fast_value(vr, b, <Py_ssize_t>r.value_length, elem._little_endian, tok, r)
        if v is not _UNSET:
            return v
    # the common case straight to the VR's converter; anything unusual
    # (empty, LUT descriptors, errors) through convert_value
    raw = PyBytes_FromStringAndSize(<const char *>b, <Py_ssize_t>r.value_length)
    enc = _enc_of(tok, r)
    cdef PyObject *conv = PyDict_GetItem(_CONVERTERS, vr)
    if conv != NULL and r.value_length and not lut:
        try:
            return (<object>conv)(raw, elem._little_endian, enc)
        except Exception:
            pass
    return _convert_value(vr, raw, little_endian=elem._little_endian, encodings=enc, tag=elem.tag)


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
        return _ElementIter.__new__(_ElementIter, self, self._indices())

    def __len__(self):
        if self._dict is not None:
            return len(self._dict)
        return len(self._indices())

    cdef object _new_item(self, Tokens tok, Py_ssize_t index):
        cdef DatasetBase item = <DatasetBase>_new_of(_Dataset)
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
        return self._element_at_c(i, False)  # (not in _elems: looked above)

    def _element_at(self, Py_ssize_t i):
        return self._element_at_c(i)

    cdef object _element_at_c(self, Py_ssize_t i, bint made=True):
        """The element of record ``i`` (``made``: it may have been made before)."""
        cdef Tokens tok = <Tokens>self._tokens
        cdef fd_record *r = &tok.table.records[i]
        cdef uint32_t t = r.tag
        cdef ElementBase e
        cdef PyObject *p
        tag = _tag_object(t)
        if made:
            p = PyDict_GetItem(self._elems, tag)
            if p != NULL:
                return <object>p
        if r.flags & FD_F_SEQUENCE:
            vr = _SQ
        else:
            vr = _vr_str(r.vr)
            # (the pseudo VRs of the dictionary are lower case, or UN)
            if (r.flags & FD_F_VR_UNKNOWN) or ((97 <= <unsigned char>r.vr[0] <= 122 or (
                    r.vr[0] == 85 and r.vr[1] == 78)) and vr in _PSEUDO_VRS and not (
                    # an explicit UN too long for a 16-bit length stays UN (pydicom)
                    vr == "UN" and r.value_length >= 0xFFFF and not (t >> 16) & 1)):
                vr = self._resolve_vr(tag, vr, r.flags)
        e = <ElementBase>(<PyTypeObject *>_Element).tp_new(<type>_Element, <PyObject *>_NO_ARGS, NULL)
        e.tag = tag
        e.VR = vr
        # Elements read from a table refer to it, to a weak reference and to
        # their value, never back to a dataset: they make no cycles, so the
        # cycle collector need not track them (most objects a read makes).
        PyObject_GC_UnTrack(<void *>e)
        e._value = _UNSET
        e._tokens = tok
        if _is_sq(vr):  # only sequences need their dataset (for their items' parent)
            e._owner = self._weak_self()
        e._index = i
        e.is_undefined_length = (r.flags & FD_F_UNDEFINED) != 0
        e._little_endian = (r.flags & FD_F_BIG_ENDIAN) == 0
        if (t >> 16) & 1 and (t & 0xFFFF) > 0x00FF:
            e.private_creator = self._private_creator(tag)
        # another thread may have made it meanwhile: keep the first
        return <object>PyDict_SetDefault(self._elems, tag, e)

    def __getattribute__(self, name):
        # keywords first: no AttributeError is raised (and caught) on the way
        cdef PyObject *p = PyDict_GetItem(_KEYWORDS, name)
        cdef ElementBase e
        if p != NULL:
            elem = self._lookup_c(<object>p)
            if elem is not None:
                return _value_of(<ElementBase>elem)
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
