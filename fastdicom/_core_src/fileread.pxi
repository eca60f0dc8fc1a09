# The common path of reading a DICOM file, in one compiled call: preamble,
# "DICM", a File Meta Information group whose length is right, a transfer
# syntax that is not deflated and names the VR encoding the data uses. Paths
# are opened and read here with the GIL released: only the start of the file
# when only the header is wanted, or when the rest is a native pixel data
# value (left in the file, see Tokens.tail). Anything else returns None and is
# left to fastdicom.reader, whose warnings and fallbacks then apply.
from cpython.bytes cimport PyBytes_AS_STRING
from cpython.object cimport PyTypeObject
from cpython.ref cimport Py_DECREF
from libc.string cimport memcmp
from libc.stdlib cimport realloc, free
from cpython.bytearray cimport PyByteArray_FromStringAndSize, PyByteArray_AS_STRING

cdef extern from "Python.h":
    PyObject *_fd_bytes_new "PyBytes_FromStringAndSize"(const char *s, Py_ssize_t n)
    int _PyBytes_Resize(PyObject **b, Py_ssize_t n) except -1
    object PyObject_GenericGetDict(object o, void *context)
    bytes PyUnicode_EncodeFSDefault(object s)

# Set once by fastdicom.reader (see configure_reader()).
cdef object _FileDataset = None
cdef object _encoding_for_ts = None
cdef dict _NATIVE_TS = {}
cdef object _preamble_is_executable = None
cdef object _EXEC_FIRST = frozenset()
cdef dict _TS_TEXT = {}        # raw Transfer Syntax UID value -> its text

#: First read of a file whose header only is wanted, and the larger read
#: that follows when the header goes on (past that: the whole file, mapped).
FIRST_READ = 8192
SECOND_READ = 65536


def configure_reader(file_dataset_class, encoding_for_ts, native_ts, preamble_is_executable,
                     exec_first):
    """Wire the Python parts of the file layer into the compiled core."""
    global _FileDataset, _encoding_for_ts, _NATIVE_TS, _preamble_is_executable, _EXEC_FIRST
    _FileDataset = file_dataset_class
    _encoding_for_ts = encoding_for_ts
    _NATIVE_TS = native_ts
    _preamble_is_executable = preamble_is_executable
    _EXEC_FIRST = frozenset(exec_first)


cdef object _ts_text(bytes raw):
    cdef PyObject *p = PyDict_GetItem(_TS_TEXT, raw)
    if p != NULL:
        return <object>p
    ts = raw.rstrip(b"\x00 ").decode("ascii", "replace").strip()
    if len(_TS_TEXT) < 256:
        _TS_TEXT[raw] = ts
    return ts


cdef inline uint32_t _rd32(const unsigned char *p, bint little) nogil:
    if little:
        return p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24)
    return p[3] | (<uint32_t>p[2] << 8) | (<uint32_t>p[1] << 16) | (<uint32_t>p[0] << 24)


cdef inline uint32_t _rdtag(const unsigned char *p, bint little) nogil:
    if little:
        return ((<uint32_t>(p[0] | (p[1] << 8))) << 16) | <uint32_t>(p[2] | (p[3] << 8))
    return ((<uint32_t>((p[0] << 8) | p[1])) << 16) | <uint32_t>((p[2] << 8) | p[3])


cdef object _read_common(obj, bint stop_before_pixels, uint32_t stop_after,
                         unsigned int max_depth, uint64_t total_len=0,
                         bint compressed_too=False):
    """(tokens, meta tokens, transfer syntax, Encoding) of a file's bytes on the
    common path, or None. Errors of the tokenizer propagate. ``total_len``: the
    size of the file when ``obj`` is only its start (see fd_options); False
    then when the transfer syntax is not a native one."""
    cdef Py_buffer view
    cdef const unsigned char *b
    cdef Py_ssize_t n, i
    cdef Tokens meta, tok
    cdef bint executable = False
    PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE)
    try:
        b = <const unsigned char *>view.buf
        n = view.len
        if n < 144 or memcmp(b + 128, b"DICM\x02\x00", 6) != 0:
            return None
        if b[0] in _EXEC_FIRST:
            executable = _preamble_is_executable(PyBytes_FromStringAndSize(<const char *>b, 128))
    finally:
        PyBuffer_Release(&view)
    if executable:
        return None  # dcmread warns about it
    meta = _tokenize(obj, 132, False, True, False, 0xFFFFFFFFu, 2, max_depth, True, 0)
    i = meta._find(0x00020010, -1)
    if i < 0:
        return None
    ts = _ts_text(meta._value_bytes(i))
    if not ts:
        return None
    enc = _NATIVE_TS.get(ts)
    if enc is None:
        enc = _encoding_for_ts(ts)
    if (<tuple>enc)[2]:  # (an Encoding: a tuple subclass, read as a tuple)
        return None  # deflated
    # dcmread warns when the group length is not the group's: leave those to it
    i = meta._find(0x00020000, -1)
    if i >= 0:
        if meta.table.records[i].value_length != 4 or _rd32(
                <const unsigned char *>meta.view.buf + meta.table.records[i].value_offset, True) \
                != meta.table.end_offset - meta.table.records[i].value_offset - 4:
            return None
    if total_len and ts not in _NATIVE_TS and not compressed_too:
        return False  # compressed: the file is read mapped (see read_path_header)
    implicit = (<tuple>enc)[0]
    tok = _tokenize(obj, <Py_ssize_t>meta.table.end_offset, implicit, (<tuple>enc)[1], stop_before_pixels,
                    stop_after, -1, max_depth, True, 0, total_len)
    if tok.table.root_explicit_vr == <bint>implicit and tok.table.n:
        return None  # dcmread warns and reads with the other VR encoding
    return (tok, meta, ts, enc)


def read_tokens(buf, bint stop_before_pixels=False, stop_after_tag=None,
                unsigned int max_depth=64):
    """``(tokens, meta_tokens, transfer_syntax, encoding)`` of the bytes of a
    DICOM file read the way :func:`fastdicom.dcmread` reads it, when the file
    is on the common path (preamble, ``DICM``, File Meta Information with the
    right group length, a transfer syntax that is not deflated and names the
    encoding the data uses); None otherwise (``dcmread`` then warns, guesses
    or inflates). Errors of the data raise as in ``dcmread``."""
    return _read_common(buf, stop_before_pixels,
                        0xFFFFFFFFu if stop_after_tag is None else <uint32_t>stop_after_tag,
                        max_depth)


cdef Py_ssize_t _read_all(int fd, char *p, Py_ssize_t n) nogil:
    """Read up to ``n`` bytes (fewer only at the end of the file); -1 on error."""
    cdef Py_ssize_t got = 0, r
    while got < n:
        r = fd_sys_read(fd, p + got, <size_t>(n - got))
        if r < 0:
            if errno == EINTR:
                continue
            return -1
        if r == 0:
            break
        got += r
    return got


cdef object _read_head(int fd, Py_ssize_t size):
    """The next ``size`` bytes of ``fd`` at most (fewer: the file ended), or None."""
    cdef PyObject *raw = _fd_bytes_new(NULL, size)
    cdef Py_ssize_t got
    cdef char *p
    if raw == NULL:
        raise MemoryError()
    p = PyBytes_AS_STRING(<object>raw)
    with nogil:
        got = _read_all(fd, p, size)
    if got < 0:
        Py_DECREF(<object>raw)
        return None
    if got < size:
        _PyBytes_Resize(&raw, got)
    data = <object>raw
    Py_DECREF(data)
    return data


def read_path_header(path, bint stop_before_pixels, stop_after_tag, only,
                     unsigned int max_depth):
    """The FileDataset of the file ``path`` (a str) on the common path (see
    :func:`read_tokens`), reading only the start of the file when it can:

    - the header only (``stop_before_pixels``, or a ``stop_after_tag``):
      FIRST_READ bytes, then up to SECOND_READ while the walk does not reach
      its stop;
    - the whole file: read whole up to SECOND_READ bytes; a longer file whose
      top-level pixel data value (defined length) ends the file is read the
      same way up to that value, which stays in the file, open, until it is
      used (see Tokens: the file is then mapped, or the value read into an
      array).

    None when the file is not on the common path, its header is longer, its
    pixel data is not as above, or it cannot be read (the caller then reads it
    the general way, raising its errors)."""
    cdef uint32_t stop = 0xFFFFFFFFu if stop_after_tag is None else <uint32_t>stop_after_tag
    cdef int fd
    cdef bytes fs = PyUnicode_EncodeFSDefault(path)
    cdef const char *cpath = fs
    cdef Py_ssize_t want = FIRST_READ
    cdef bint complete, whole = not stop_before_pixels and stop == 0xFFFFFFFFu
    cdef bint kept = False
    cdef int64_t size = -1
    cdef Tokens tok
    if not FD_POSIX_IO or b"\x00" in fs:
        return None
    with nogil:
        fd = fd_sys_open(cpath)
        if fd >= 0 and whole:
            size = fd_sys_size(fd)
    if fd < 0:
        return None
    try:
        if whole:
            if size < 0:
                return None
            if size <= SECOND_READ:
                want = <Py_ssize_t>size + 1  # all of it (fewer: it is complete)
        data = _read_head(fd, want)
        while data is not None:
            complete = len(<bytes>data) < want
            try:
                got = _read_common(data, stop_before_pixels, stop, max_depth,
                                   <uint64_t>size if whole and not complete else 0)
            except _errors.InvalidDicomError:
                if complete:
                    return None
                got = ()  # the header goes on past what was read
            if got is None:
                return None
            if got is False:
                return _read_mapped(fd, data, path, max_depth)
            if got:
                tok = <Tokens>got[0]
                if whole and not complete:
                    if tok.table.stop_reason != FD_STOP_NONE:
                        # pixel data encapsulated or not at the end: mapped
                        return _read_mapped(fd, data, path, max_depth)
                    if tok.table.end_offset == <uint64_t>size and tok.table.n and \
                            tok.table.records[tok.table.n - 1].flags & FD_F_OUTSIDE:
                        tok.tail = _new_tail(fd, size)
                        kept = True
                        complete = True
                elif tok.table.stop_reason != FD_STOP_NONE:
                    complete = True
                if complete:
                    enc = got[3]
                    return _new_file_dataset(_FileDataset, tok, got[1], data[:128], path, got[2],
                                             (<tuple>enc)[0], (<tuple>enc)[1], False, only)
            if want >= SECOND_READ:
                return None
            more = _read_head(fd, SECOND_READ - want)
            if more is None:
                return None
            want = SECOND_READ
            data = <bytes>data + <bytes>more
        return None
    finally:
        if not kept:
            with nogil:
                fd_sys_close(fd)


cdef object _read_mapped(int fd, bytes start, path, unsigned int max_depth):
    """The FileDataset of the whole file ``fd`` (``start``: its first bytes)
    read through a memory map, or None (then read the general way)."""
    import mmap
    got = _read_sparse(fd, start, path, max_depth)
    if got is not None:
        return got
    try:
        mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    try:
        got = _read_common(mm, False, 0xFFFFFFFFu, max_depth)
    except _errors.InvalidDicomError:
        got = None
    if not got:
        return None
    enc = got[3]
    return _new_file_dataset(_FileDataset, got[0], got[1], start[:128], path, got[2],
                             (<tuple>enc)[0], (<tuple>enc)[1], False, None)


cdef int64_t _walk_items(int fd, const unsigned char *head, int64_t have, int64_t size,
                         int64_t p, bint little, int64_t **offs, uint32_t **lens,
                         int64_t *count) nogil:
    """The items of encapsulated pixel data from ``p`` up to its Sequence
    Delimitation Item, their headers read with ``pread`` (from ``head``, the
    file's first ``have`` bytes, where they lie there): each item's offset and
    length appended to ``*offs``/``*lens`` (grown with realloc, freed by the
    caller); returns the offset of the delimiter, or -1 when the items are not
    well formed or cannot be read (the caller then maps the file)."""
    cdef unsigned char hdr[8]
    cdef uint32_t tag, length
    cdef int64_t cap = 0, n = 0
    cdef void *grown
    while True:
        if p < 0 or size - p < 8:
            return -1
        if p + 8 <= have:
            memcpy(hdr, head + p, 8)
        elif _pread_all(fd, <char *>hdr, 8, p) != 8:
            return -1
        tag = _rdtag(hdr, little)
        length = _rd32(hdr + 4, little)
        if tag == 0xFFFEE0DDu:
            count[0] = n
            return p if length == 0 else -1
        if tag != 0xFFFEE000u or length == 0xFFFFFFFFu or <int64_t>length > size - p - 8:
            return -1
        if n == cap:
            cap = 64 if cap == 0 else cap * 2
            grown = realloc(offs[0], <size_t>cap * sizeof(int64_t))
            if grown == NULL:
                return -1
            offs[0] = <int64_t *>grown
            grown = realloc(lens[0], <size_t>cap * sizeof(uint32_t))
            if grown == NULL:
                return -1
            lens[0] = <uint32_t *>grown
        offs[0][n] = p
        lens[0][n] = length
        n += 1
        count[0] = n
        p += 8 + <int64_t>length


cdef inline void _put_header(unsigned char *q, uint32_t tag, bint little) noexcept nogil:
    if little:
        q[0] = (tag >> 16) & 0xFF; q[1] = tag >> 24; q[2] = tag & 0xFF; q[3] = (tag >> 8) & 0xFF
    else:
        q[0] = tag >> 24; q[1] = (tag >> 16) & 0xFF; q[2] = (tag >> 8) & 0xFF; q[3] = tag & 0xFF
    q[4] = q[5] = q[6] = q[7] = 0


#: Compressed files longer than this are opened without mapping their pixel data (_read_sparse).
SPARSE_FROM = 1 << 20


cdef object _read_sparse(int fd, bytes start, path, unsigned int max_depth):
    """The FileDataset of a compressed file whose encapsulated Pixel Data is
    its last top-level element (but for elements after it), read without
    mapping that value: the headers of its items are read one by one
    (``pread``); the start of the file up to the value, those headers with
    their lengths set to 0, the delimiter and what follows are tokenized as
    one short buffer, and the item records then get their offsets and lengths
    in the file (the same records the whole file gives). The tokens keep the
    start of the file and leave every record past it in the file (F_OUTSIDE:
    mapped on first use, or frames read from it), so opening a large
    multi-frame file maps none of its frames. None when the file is not like
    that (then it is mapped whole)."""
    cdef int64_t size = fd_sys_size(fd), have = len(start), pos, vstart, delim = -1
    cdef int64_t n = 0, k, compact_len, tail_len, delta, c_items, c_delim, c_tail
    cdef int64_t *offs = NULL
    cdef uint32_t *lens = NULL
    cdef const unsigned char *b = start
    cdef unsigned char *q
    cdef Tokens head, tok
    cdef fd_record *r
    cdef bint little, explicit
    cdef int tail_fd
    cdef Py_ssize_t i, px
    cdef bytearray compact
    if size < SPARSE_FROM or size <= have:
        return None
    try:
        got = _read_common(start, False, 0xFFFFFFFFu, max_depth, <uint64_t>size, True)
    except _errors.InvalidDicomError:
        return None
    if not got:
        return None
    head = <Tokens>got[0]
    if head.table.stop_reason != FD_STOP_PIXELS:
        return None
    pos = <int64_t>head.table.end_offset
    little = head.little_endian
    if pos < 0 or have - pos < 12 or _rdtag(b + pos, little) != 0x7FE00010u:
        return None
    explicit = head.table.root_explicit_vr and 65 <= b[pos + 4] <= 90 and 65 <= b[pos + 5] <= 90
    if explicit and (b[pos + 6] or b[pos + 7] or _rd32(b + pos + 8, little) != 0xFFFFFFFFu):
        return None
    if not explicit and _rd32(b + pos + 4, little) != 0xFFFFFFFFu:
        return None
    vstart = pos + (12 if explicit else 8)
    try:
        with nogil:
            delim = _walk_items(fd, b, have, size, vstart, little, &offs, &lens, &n)
        if delim < 0:
            return None
        tail_len = size - (delim + 8)
        if tail_len > (1 << 24):
            return None  # a large element after the pixel data: the file is mapped
        c_items = vstart
        c_delim = vstart + 8 * n
        c_tail = c_delim + 8
        compact_len = c_tail + tail_len
        compact = PyByteArray_FromStringAndSize(NULL, <Py_ssize_t>compact_len)
        q = <unsigned char *>PyByteArray_AS_STRING(compact)
        memcpy(q, b, <size_t>vstart)
        with nogil:
            for k in range(n):
                _put_header(q + c_items + 8 * k, 0xFFFEE000u, little)
            _put_header(q + c_delim, 0xFFFEE0DDu, little)
            if tail_len:
                if delim + 8 + tail_len <= have:
                    memcpy(q + c_tail, b + delim + 8, <size_t>tail_len)
                elif _pread_all(fd, <char *>q + c_tail, <Py_ssize_t>tail_len, delim + 8) != tail_len:
                    delim = -1
        if delim < 0:
            return None
        try:
            got = _read_common(compact, False, 0xFFFFFFFFu, max_depth)
        except _errors.InvalidDicomError:
            return None  # mapped instead: the error is raised there as dcmread raises it
        if not got:
            return None
        tok = <Tokens>got[0]
        if tok.table.end_offset != <uint64_t>compact_len:
            return None
        # the records past the start of the value, moved to their place in the file
        delta = (delim + 8) - c_tail
        px = -1
        for i in range(<Py_ssize_t>tok.table.n):
            r = &tok.table.records[i]
            if <int64_t>r.header_offset < vstart:
                if r.tag == 0x7FE00010u and <int64_t>r.value_offset == vstart:
                    px = i
                continue
            if <int64_t>r.header_offset < c_delim:
                k = (<int64_t>r.header_offset - c_items) // 8
                if (<int64_t>r.header_offset - c_items) % 8 or r.tag != 0xFFFEE000u or \
                        r.parent != px or px < 0:
                    return None
                r.header_offset = <uint64_t>offs[k]
                r.value_offset = <uint64_t>(offs[k] + 8)
                r.value_length = lens[k]
                r.raw_length = lens[k]
            elif <int64_t>r.header_offset == c_delim:
                if r.tag != 0xFFFEE0DDu:
                    return None
                r.header_offset = <uint64_t>delim
                r.value_offset = <uint64_t>(delim + 8)
            else:
                r.header_offset = <uint64_t>(<int64_t>r.header_offset + delta)
                r.value_offset = <uint64_t>(<int64_t>r.value_offset + delta)
        if px < 0:
            return None
        tok.table.records[px].value_length = <uint64_t>(delim - vstart)
        tok.table.end_offset = <uint64_t>size
        tail_fd = fd_sys_dup(fd)
        if tail_fd < 0:
            return None
        tok._rebase(start, _new_tail(tail_fd, size))
        (<Tokens>got[1])._rebase(start, None)
    finally:
        free(offs)
        free(lens)
    enc = got[3]
    return _new_file_dataset(_FileDataset, got[0], got[1], start[:128], path, got[2],
                             (<tuple>enc)[0], (<tuple>enc)[1], False, None)


cdef object _new_view(cls, Tokens tok):
    cdef DatasetBase ds = <DatasetBase>(<PyTypeObject *>cls).tp_new(<type>cls, <PyObject *>_NO_ARGS, NULL)
    ds._tokens = tok
    ds._dict = None
    ds.is_little_endian = tok.little_endian
    ds.is_implicit_VR = not tok.explicit_vr
    return ds


cdef object _new_file_dataset(cls, Tokens tok, meta, preamble, filename, ts, implicit,
                              little, deflated, only):
    cdef DatasetBase ds = <DatasetBase>_new_view(cls, tok)
    ds._only = only
    d = PyObject_GenericGetDict(ds, NULL)
    d["file_meta"] = _new_view(_Dataset, <Tokens>meta) if meta is not None else _Dataset()
    d["preamble"] = preamble
    d["filename"] = filename
    d["transfer_syntax_uid"] = ts
    d["is_deflated"] = deflated
    # as in pydicom: the encoding the transfer syntax names (tokens.root_explicit_vr
    # tells what the data really used)
    ds.is_implicit_VR = implicit
    ds.is_little_endian = little
    return ds


def new_file_dataset(cls, Tokens tokens, meta_tokens, preamble, filename, transfer_syntax_uid,
                     implicit_vr, little_endian, deflated, only):
    """A FileDataset (``cls``) viewing ``tokens`` (see FileDataset._from_file)."""
    return _new_file_dataset(cls, tokens, meta_tokens, preamble, filename, transfer_syntax_uid,
                             implicit_vr, little_endian, deflated, only)
