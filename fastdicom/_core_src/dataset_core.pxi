# Hot path of the dataset layer: element lookup by tag or keyword, lazy
# element creation and value decoding, in C. fastdicom/dataset.py and
# fastdicom/dataelem.py subclass these and hold everything else.
from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject, PyObject_GenericGetAttr

cdef object _UNSET = object()
UNSET = _UNSET

# Set once by fastdicom.dataset at import (see configure()).
cdef dict _KEYWORDS = {}
cdef object _convert_value = None
cdef object _Tag = None
cdef object _int_new = int.__new__
cdef object _Element = None
cdef object _Sequence = None
cdef object _DEFAULT_ENC = None
cdef dict _VR_STR = {}
cdef dict _CONVERTERS = {}
cdef dict _CHARSETS = {}
cdef object _LUT_TAGS = frozenset()

_PSEUDO_VRS = frozenset(["xs", "ox", "px", "lt", "up", "UN"])


def configure(keywords, convert_value, tag_class, element_class, sequence_class, default_encoding,
              converters, lut_tags):
    """Wire the Python parts of the dataset layer into the compiled core."""
    global _KEYWORDS, _convert_value, _Tag, _Element, _Sequence, _DEFAULT_ENC, _CONVERTERS, _LUT_TAGS
    _CONVERTERS = converters
    _LUT_TAGS = lut_tags
    _KEYWORDS = keywords
    _convert_value = convert_value
    _Tag = tag_class
    _Element = element_class
    _Sequence = sequence_class
    _DEFAULT_ENC = default_encoding


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
    cdef public object _owner
    cdef public Py_ssize_t _index
    cdef public bint is_undefined_length
    cdef public object private_creator
    cdef public bint _little_endian
    cdef object __weakref__

    @property
    def value(self):
        v = self._value
        if v is _UNSET:
            v = self._value = (<DatasetBase>self._owner)._decode(self)
        return v

    @value.setter
    def value(self, val):
        if self.VR == "SQ" and not isinstance(val, _Sequence):
            val = _Sequence(val)
        self._value = val
        self._owner = None
        self._index = -1


cdef class DatasetBase:
    """Fields and lookups of a dataset (see fastdicom.dataset)."""
    cdef public object _tokens
    cdef public Py_ssize_t _parent
    cdef public dict _elems
    cdef public object _dict
    cdef public object _only
    cdef public object _parent_ds
    cdef public object _encodings
    cdef public object _order
    cdef object __weakref__

    def __cinit__(self):
        self._parent = -1
        self._elems = {}

    def _init_view(self, tokens, Py_ssize_t parent, parent_ds, only):
        self._tokens = tokens
        self._parent = parent
        self._parent_ds = parent_ds
        self._only = only
        self._dict = None

    cpdef object _lookup(self, tag):
        """The element ``tag`` (an int) or None."""
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
        return self._element_at(i)

    cpdef object _element_at(self, Py_ssize_t i):
        cdef Tokens tok = <Tokens>self._tokens
        cdef fd_record *r = &tok.table.records[i]
        cdef uint32_t t = r.tag
        cdef PyObject *p = PyDict_GetItem(self._elems, t)
        cdef ElementBase e
        if p != NULL:
            return <object>p
        tag = _int_new(_Tag, t)
        if r.flags & FD_F_SEQUENCE:
            vr = "SQ"
        else:
            vr = _vr_str(r.vr)
            if (r.flags & FD_F_VR_UNKNOWN) or vr in _PSEUDO_VRS:
                vr = self._resolve_vr(tag, vr, r.flags)
        e = <ElementBase>_Element.__new__(_Element)
        e.tag = tag
        e.VR = vr
        e._value = _UNSET
        e._owner = self
        e._index = i
        e.is_undefined_length = (r.flags & FD_F_UNDEFINED) != 0
        e._little_endian = (r.flags & FD_F_BIG_ENDIAN) == 0
        if (t >> 16) & 1 and (t & 0xFFFF) > 0x00FF:
            e.private_creator = self._private_creator(tag)
        self._elems[tag] = e
        return e

    cpdef object _decode(self, ElementBase elem):
        """Value of an element read from the table."""
        if elem.VR == "SQ":
            return self._decode_sequence(elem)
        cdef Tokens tok = <Tokens>self._tokens
        raw = tok._value_bytes(elem._index)
        if elem.tag == 0x00080005:
            enc = _DEFAULT_ENC
        else:
            enc = self._encodings
            if enc is None:
                enc = self._charset_fast()
        # the common case straight to the VR's converter; anything unusual
        # (empty, LUT descriptors, errors) through convert_value
        cdef PyObject *conv = PyDict_GetItem(_CONVERTERS, elem.VR)
        if conv != NULL and len(raw) and elem.tag not in _LUT_TAGS:
            try:
                return (<object>conv)(raw, elem._little_endian, enc)
            except Exception:
                pass
        return _convert_value(elem.VR, raw, little_endian=elem._little_endian, encodings=enc, tag=elem.tag)

    def __getattribute__(self, name):
        # keywords first: no AttributeError is raised (and caught) on the way
        cdef PyObject *p = PyDict_GetItem(_KEYWORDS, name)
        if p != NULL:
            elem = self._lookup(<object>p)
            if elem is not None:
                return (<ElementBase>elem).value
        return PyObject_GenericGetAttr(self, name)

    cdef object _charset_fast(self):
        """The dataset's encodings: cached per value of (0008,0005)."""
        cdef Tokens tok
        cdef Py_ssize_t i
        cdef PyObject *p
        if self._dict is None and self._tokens is not None:
            tok = <Tokens>self._tokens
            i = tok._find(0x00080005, self._parent)
            if i < 0:
                if self._parent_ds is None:
                    self._encodings = _DEFAULT_ENC
                    return _DEFAULT_ENC
            else:
                raw = tok._value_bytes(i)
                p = PyDict_GetItem(_CHARSETS, raw)
                if p != NULL:
                    self._encodings = <object>p
                    return <object>p
                enc = self._character_set()
                if len(_CHARSETS) < 256:
                    _CHARSETS[raw] = enc
                return enc
        return self._character_set()
