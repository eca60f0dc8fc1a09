# The element table: runs the C tokenizer with the GIL released over any buffer
# and exposes its records to Python without copying.
from cpython.buffer cimport (PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE, PyBUF_FORMAT,
                             PyBUF_WRITABLE)
from libc.string cimport memset
from libc.stdlib cimport malloc, free
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int32_t, int64_t

import numpy as _np
from fastdicom import errors as _errors

RECORD_DTYPE = _np.dtype([
    ("header_offset", "=u8"), ("value_offset", "=u8"), ("value_length", "=u8"),
    ("tag", "=u4"), ("raw_length", "=u4"), ("parent", "=i4"), ("next", "=i4"),
    ("vr", "S2"), ("flags", "=u2"), ("depth", "=u2"), ("reserved", "=u2"),
])
assert RECORD_DTYPE.itemsize == sizeof(fd_record)

F_UNDEFINED = FD_F_UNDEFINED
F_SEQUENCE = FD_F_SEQUENCE
F_ITEM = FD_F_ITEM
F_ITEM_DELIM = FD_F_ITEM_DELIM
F_SEQ_DELIM = FD_F_SEQ_DELIM
F_ENCAPSULATED = FD_F_ENCAPSULATED
F_FRAGMENT = FD_F_FRAGMENT
F_OFFSET_TABLE = FD_F_OFFSET_TABLE
F_IMPLICIT = FD_F_IMPLICIT
F_BIG_ENDIAN = FD_F_BIG_ENDIAN
F_VR_DICT = FD_F_VR_DICT
F_VR_UNKNOWN = FD_F_VR_UNKNOWN
F_UN_SEQUENCE = FD_F_UN_SEQUENCE
F_OUTSIDE = FD_F_OUTSIDE
STOP_NONE = FD_STOP_NONE
STOP_PIXELS = FD_STOP_PIXELS
STOP_AFTER_TAG = FD_STOP_AFTER_TAG
STOP_GROUP = FD_STOP_GROUP

_ERRORS = {
    FD_ERR_TRUNCATED: _errors.TruncatedDataError,
    FD_ERR_LENGTH: _errors.BadLengthError,
    FD_ERR_DEPTH: _errors.NestingTooDeepError,
    FD_ERR_NOMEM: _errors.DicomMemoryError,
    FD_ERR_UNEXPECTED_TAG: _errors.UnexpectedTagError,
    FD_ERR_DELIMITER: _errors.DelimiterError,
    FD_ERR_TOO_MANY: _errors.TooManyElementsError,
    FD_ERR_UNDEFINED_ITEM: _errors.BadFragmentError,
}


cdef object _status_error(fd_status st, uint64_t offset):
    """The one place where a C status becomes a Python exception."""
    cls = _ERRORS.get(st)
    msg = fd_status_message(st).decode("ascii")
    if cls is None:
        return ValueError(msg)
    if cls is _errors.DicomMemoryError:
        return cls(msg)
    return cls(msg, int(offset))


def dictionary_vr(uint32_t tag):
    """VR the generated C dictionary gives ``tag`` ('' when unknown)."""
    cdef uint16_t vr = fd_dict_vr(tag)
    if vr == 0:
        return ""
    return chr(vr >> 8) + chr(vr & 0xFF)


cdef class Tokens:
    """Table of element records over a buffer (kept alive, never copied).

    ``records`` is a numpy structured array (``RECORD_DTYPE``) viewing the C
    table. The buffer stays exported while this object lives.

    Tokens of a file read in part (see fileread.pxi) hold its start, and their
    last record (flag ``F_OUTSIDE``) has a value past it, up to the end of the
    file (``tail``, open): the first use of that value or of ``obj`` maps the
    whole file in place of the start (same offsets; the start stays alive for
    the views and pointers taken from it); :meth:`read_outside` reads the
    value straight into a caller's array instead.
    """
    cdef fd_table table
    cdef Py_buffer view
    cdef bint has_view
    cdef object _obj
    cdef readonly object tail           # _FileTail while a value lies outside the buffer
    cdef object _held                   # the buffer held before the file was mapped
    cdef readonly uint64_t offset
    cdef readonly bint explicit_vr
    cdef readonly bint little_endian
    cdef dict _children
    cdef public dict enc_cache          # dataset record -> encodings (see dataset_core)
    cdef public object root_encodings   # encodings inherited by the top level (None: default)
    cdef int32_t *root_kids
    cdef Py_ssize_t n_root_kids
    cdef bint root_sorted
    cdef int nested_cs                  # a (0008,0005) inside an item: -1 not known yet

    def __cinit__(self):
        fd_table_init(&self.table)
        self.has_view = False
        self._children = {}
        self.enc_cache = {}
        self.root_kids = NULL
        self.n_root_kids = -1
        self.root_sorted = True
        self.nested_cs = -1

    def __dealloc__(self):
        fd_table_free(&self.table)
        if self.root_kids != NULL:
            free(self.root_kids)
            self.root_kids = NULL
        if self.has_view:
            PyBuffer_Release(&self.view)
            self.has_view = False

    def __len__(self):
        return <Py_ssize_t>self.table.n

    def __getbuffer__(self, Py_buffer *buffer, int flags):
        buffer.buf = <void *>self.table.records
        buffer.obj = self
        buffer.len = <Py_ssize_t>(self.table.n * sizeof(fd_record))
        buffer.readonly = 1
        buffer.itemsize = 1
        if flags & PyBUF_FORMAT:
            buffer.format = b"B"
        else:
            buffer.format = NULL
        buffer.ndim = 1
        buffer.shape = NULL
        buffer.strides = NULL
        buffer.suboffsets = NULL
        buffer.internal = NULL

    def __releasebuffer__(self, Py_buffer *buffer):
        pass

    @property
    def records(self):
        """numpy structured array over the records (zero-copy, read-only).

        A new view each call (not cached: a cached view would keep this
        object, and so the caller's buffer, alive in a reference cycle)."""
        if self.table.n == 0:
            return _np.zeros(0, dtype=RECORD_DTYPE)
        return _np.frombuffer(self, dtype=RECORD_DTYPE)

    @property
    def end_offset(self):
        """Offset where the walk stopped (end of data, or a stop condition)."""
        return self.table.end_offset

    @property
    def stop_reason(self):
        return self.table.stop_reason

    @property
    def root_explicit_vr(self):
        """Whether the top-level dataset was read as explicit VR."""
        return bool(self.table.root_explicit_vr)

    @property
    def trailing(self):
        """Bytes at the end too short to hold an element header (ignored)."""
        return self.table.trailing

    cdef inline void _check(self, Py_ssize_t i) except *:
        if i < 0 or <uint64_t>i >= self.table.n:
            raise IndexError(i)

    @property
    def obj(self):
        """The buffer the records point into (the whole file, mapped, once
        it is needed for a value outside the start that was read)."""
        if self.tail is not None:
            self._map()
        return self._obj

    cdef int _map(self) except -1:
        """Map the whole file of ``tail`` in place of the start read from it."""
        cdef Py_buffer v
        tail = self.tail
        if tail is None:
            return 0
        mm = (<_FileTail>tail).map()
        if self.tail is None:
            return 0  # another thread mapped it meanwhile
        if mm is None:
            raise ValueError("the file of these tokens was closed before it was mapped")
        held = self._obj
        self._hold(mm)
        self._held = held
        self.tail = None
        (<_FileTail>tail).release()
        return 0

    cdef int _hold(self, obj) except -1:
        """Point into ``obj`` (same offsets) in place of the buffer held."""
        cdef Py_buffer v
        PyObject_GetBuffer(obj, &v, PyBUF_SIMPLE)
        if self.has_view:
            PyBuffer_Release(&self.view)
        self.view = v
        self.has_view = True
        self._obj = obj
        return 0

    cdef int _rebase(self, obj, tail) except -1:
        """Hold ``obj``, the start of the file these tokens were made from, in
        place of the buffer they were made from: each record whose header or
        value runs past it is flagged F_OUTSIDE, read from ``tail`` (the file,
        mapped on first use; None: every record must lie within ``obj``)."""
        cdef uint64_t n = <uint64_t>memoryview(obj).nbytes, i
        cdef fd_record *r
        for i in range(self.table.n):
            r = &self.table.records[i]
            if r.value_offset > n or r.value_length > n - r.value_offset:
                if tail is None:
                    raise ValueError("a record lies past the buffer")
                r.flags |= FD_F_OUTSIDE
        self._hold(obj)
        self.tail = tail
        return 0

    cdef inline int _ensure(self, Py_ssize_t i) except -1:
        """Make the value of record ``i`` addressable in the buffer."""
        if self.tail is not None and self.table.records[i].flags & FD_F_OUTSIDE:
            self._map()
        return 0

    def is_outside(self, Py_ssize_t i):
        """Whether the value of record ``i`` is still in the file only (not mapped)."""
        self._check(i)
        return self.tail is not None and bool(self.table.records[i].flags & FD_F_OUTSIDE)

    def read_outside(self, Py_ssize_t i, out=None, uint64_t start=0, length=None):
        """The value of record ``i`` (or its ``length`` bytes from ``start``)
        read from the file, the GIL released, into ``out`` (a writable buffer
        at least that long; None: a new uint8 numpy array) when that value is
        still outside the buffer; None when it is not (use :meth:`value`). A
        file shortened since it was read raises TruncatedDataError."""
        cdef Py_buffer v
        cdef fd_record *r
        cdef uint64_t n
        self._check(i)
        tail = self.tail
        r = &self.table.records[i]
        if tail is None or not (r.flags & FD_F_OUTSIDE):
            return None
        if start > r.value_length:
            raise ValueError("start is past the end of the value")
        n = r.value_length - start if length is None else <uint64_t>length
        if n > r.value_length - start:
            raise ValueError("length runs past the end of the value")
        if out is None:
            out = _np.empty(<Py_ssize_t>n, dtype=_np.uint8)
        PyObject_GetBuffer(out, &v, PyBUF_SIMPLE | PyBUF_WRITABLE)
        try:
            if <uint64_t>v.len < n:
                raise ValueError("the output buffer is too short")
            closed = (<_FileTail>tail).read_into(<char *>v.buf, <Py_ssize_t>n,
                                                  <int64_t>(r.value_offset + start))
        finally:
            PyBuffer_Release(&v)
        if closed:
            return None  # mapped meanwhile by another thread
        return out

    def value_length(self, Py_ssize_t i):
        """The length of the value of record ``i`` in bytes (as in the data)."""
        self._check(i)
        return self.table.records[i].value_length

    def tag(self, Py_ssize_t i):
        self._check(i)
        return self.table.records[i].tag

    def vr(self, Py_ssize_t i):
        self._check(i)
        return self.table.records[i].vr[:2].decode("latin-1")

    def flags(self, Py_ssize_t i):
        self._check(i)
        return self.table.records[i].flags

    def next(self, Py_ssize_t i):
        """Index of the first record after record ``i`` and all it contains."""
        self._check(i)
        return self.table.records[i].next

    def parent(self, Py_ssize_t i):
        self._check(i)
        return self.table.records[i].parent

    def info(self, Py_ssize_t i):
        """(tag, vr, flags, raw_length) of record ``i`` in one call."""
        self._check(i)
        cdef fd_record *r = &self.table.records[i]
        return (r.tag, r.vr[:2].decode("latin-1"), r.flags, r.raw_length)

    def value(self, Py_ssize_t i):
        """The value bytes of record ``i`` as a memoryview of the buffer (zero-copy)."""
        self._check(i)
        self._ensure(i)
        cdef fd_record *r = &self.table.records[i]
        return memoryview(self._obj).cast("B")[r.value_offset:r.value_offset + r.value_length]

    def children(self, Py_ssize_t parent=-1):
        """Indices of the direct children of ``parent`` (-1: the top-level
        dataset), delimiters excluded, as an int32 numpy array (cached)."""
        cdef Py_ssize_t i, stop
        cdef fd_record *r
        cached = self._children.get(parent)
        if cached is not None:
            return cached
        if parent == -1:
            i = 0
            stop = <Py_ssize_t>self.table.n
        else:
            self._check(parent)
            i = parent + 1
            stop = self.table.records[parent].next
        cdef Py_ssize_t start = i, count = 0, k = 0
        while i < stop:
            r = &self.table.records[i]
            if not (r.flags & (FD_F_ITEM_DELIM | FD_F_SEQ_DELIM)):
                count += 1
            i = r.next
        arr = _np.empty(count, dtype=_np.int32)
        cdef int32_t[::1] out = arr
        i = start
        while i < stop:
            r = &self.table.records[i]
            if not (r.flags & (FD_F_ITEM_DELIM | FD_F_SEQ_DELIM)):
                out[k] = <int32_t>i
                k += 1
            i = r.next
        self._children[parent] = arr
        return arr

    cdef int _build_root(self) except -1:
        """Index the top-level elements (delimiters excluded) in one pass."""
        cdef Py_ssize_t i = 0, n = 0, stop = <Py_ssize_t>self.table.n
        cdef fd_record *r
        cdef uint32_t last = 0
        self.root_kids = <int32_t *>malloc(sizeof(int32_t) * (stop if stop > 0 else 1))
        if self.root_kids == NULL:
            raise MemoryError()
        while i < stop:
            r = &self.table.records[i]
            if not (r.flags & (FD_F_ITEM_DELIM | FD_F_SEQ_DELIM)):
                self.root_kids[n] = <int32_t>i
                if n > 0 and last > r.tag:
                    self.root_sorted = False
                last = r.tag
                n += 1
            i = r.next
        self.n_root_kids = n
        return 0

    cdef Py_ssize_t _find(self, uint32_t tag, Py_ssize_t parent) except -2:
        """Index of ``tag`` among the direct children of ``parent``, or -1."""
        cdef Py_ssize_t lo, hi, mid, i, stop
        cdef uint32_t t
        cdef fd_record *r
        if parent == -1:
            if self.n_root_kids < 0:
                self._build_root()
            if self.root_sorted:
                lo = 0
                hi = self.n_root_kids
                while lo < hi:
                    mid = (lo + hi) >> 1
                    t = self.table.records[self.root_kids[mid]].tag
                    if t == tag:
                        return self.root_kids[mid]
                    if t < tag:
                        lo = mid + 1
                    else:
                        hi = mid
                return -1
            for mid in range(self.n_root_kids):
                if self.table.records[self.root_kids[mid]].tag == tag:
                    return self.root_kids[mid]
            return -1
        if parent < 0 or <uint64_t>parent >= self.table.n:
            return -1
        i = parent + 1
        stop = self.table.records[parent].next
        while i < stop:
            r = &self.table.records[i]
            if r.tag == tag and not (r.flags & (FD_F_ITEM_DELIM | FD_F_SEQ_DELIM)):
                return i
            i = r.next
        return -1

    def find(self, uint32_t tag, Py_ssize_t parent=-1):
        """Index of the element ``tag`` among the direct children of ``parent``
        (-1: the top level; binary search there), or -1 when absent."""
        return self._find(tag, parent)

    def value_offset(self, Py_ssize_t i):
        self._check(i)
        return self.table.records[i].value_offset

    def value_bytes(self, Py_ssize_t i):
        """The value bytes of record ``i`` as a (copied) ``bytes``."""
        self._check(i)
        return self._value_bytes(i)

    cdef bint _has_nested_charset(self):
        """Whether any item holds a Specific Character Set (one pass, then cached)."""
        cdef uint64_t i
        if self.nested_cs < 0:
            self.nested_cs = 0
            for i in range(self.table.n):
                if self.table.records[i].tag == 0x00080005 and self.table.records[i].parent >= 0:
                    self.nested_cs = 1
                    break
        return self.nested_cs == 1

    cdef object _value_bytes(self, Py_ssize_t i):
        self._ensure(i)
        cdef fd_record *r = &self.table.records[i]
        return PyBytes_FromStringAndSize(<char *>self.view.buf + r.value_offset, <Py_ssize_t>r.value_length)


def tokenize(obj, Py_ssize_t offset=0, *, bint implicit_vr=False, bint little_endian=True,
             bint stop_before_pixels=False, stop_after_tag=None, only_group=None,
             unsigned int max_depth=64,
             bint detect_vr=True, Py_ssize_t max_records=0):
    """Walk the data elements of ``obj[offset:]`` (any object with the buffer
    protocol: bytes, bytearray, memoryview, mmap, numpy) and return a
    :class:`Tokens` table. The GIL is released while walking.

    Raises a :class:`fastdicom.errors.InvalidDicomError` subclass carrying the
    byte offset where the data went wrong.
    """
    cdef int32_t group = -1
    if only_group is not None:
        if not 0 <= only_group <= 0xFFFF:
            raise ValueError("only_group must be a 16-bit group number")
        group = <int32_t>only_group
    return _tokenize(obj, offset, implicit_vr, little_endian, stop_before_pixels,
                     0xFFFFFFFFu if stop_after_tag is None else <uint32_t>stop_after_tag,
                     group, max_depth, detect_vr, max_records)


cdef Tokens _tokenize(obj, Py_ssize_t offset, bint implicit_vr, bint little_endian,
                      bint stop_before_pixels, uint32_t stop_after_tag, int32_t only_group,
                      unsigned int max_depth, bint detect_vr, Py_ssize_t max_records,
                      uint64_t total_len=0):
    """tokenize() with C arguments (stop_after_tag 0xFFFFFFFF: never; only_group -1: any;
    total_len: see fd_options)."""
    cdef Tokens tok = Tokens.__new__(Tokens)
    cdef fd_options opt
    cdef fd_status st
    cdef const uint8_t *buf
    cdef uint64_t n
    if offset < 0:
        raise ValueError("offset must be >= 0")
    PyObject_GetBuffer(obj, &tok.view, PyBUF_SIMPLE)
    tok.has_view = True
    tok._obj = obj
    buf = <const uint8_t *>tok.view.buf
    n = <uint64_t>tok.view.len
    if <uint64_t>offset > n:
        raise ValueError("offset past the end of the buffer")
    fd_options_init(&opt)
    opt.explicit_vr = 0 if implicit_vr else 1
    opt.little_endian = 1 if little_endian else 0
    opt.stop_before_pixels = 1 if stop_before_pixels else 0
    opt.detect_vr = 1 if detect_vr else 0
    opt.stop_after_tag = stop_after_tag
    opt.only_group = only_group
    if max_depth > 0x7FFF:
        raise ValueError("max_depth must be at most 32767")
    opt.max_depth = max_depth
    opt.max_records = <uint64_t>max_records if max_records > 0 else 0
    opt.total_len = total_len
    tok.offset = offset
    with nogil:
        st = fd_tokenize(buf, n, <uint64_t>offset, &opt, &tok.table)
    tok.explicit_vr = bool(tok.table.root_explicit_vr)
    tok.little_endian = little_endian
    if st != FD_OK:
        raise _status_error(st, tok.table.error_offset)
    return tok
