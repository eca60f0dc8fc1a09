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


cdef inline uint32_t _le32(const unsigned char *b):
    return b[0] | (<uint32_t>b[1] << 8) | (<uint32_t>b[2] << 16) | (<uint32_t>b[3] << 24)


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
        if meta.table.records[i].value_length != 4 or _le32(
                <const unsigned char *>meta.view.buf + meta.table.records[i].value_offset) \
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


cdef inline uint32_t _rd32(const unsigned char *p, bint little) nogil:
    if little:
        return p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24)
    return p[3] | (<uint32_t>p[2] << 8) | (<uint32_t>p[1] << 16) | (<uint32_t>p[0] << 24)


cdef inline uint32_t _rdtag(const unsigned char *p, bint little) nogil:
    if little:
        return ((<uint32_t>(p[0] | (p[1] << 8))) << 16) | <uint32_t>(p[2] | (p[3] << 8))
    return ((<uint32_t>((p[0] << 8) | p[1])) << 16) | <uint32_t>((p[2] << 8) | p[3])


cdef int64_t _walk_items(int fd, unsigned char *sp, int64_t size, int64_t have, int64_t p,
                         bint little) nogil:
    """Copy the item headers of encapsulated pixel data starting at ``p`` into
    ``sp`` (the file's size in bytes, its first ``have`` bytes already there),
    reading each with ``pread``, up to its Sequence Delimitation Item; returns
    the offset after that item, or -1 when they are not well formed or the
    file cannot be read (the caller then maps the file)."""
    cdef uint32_t tag, length
    while True:
        if p < 0 or size - p < 8:
            return -1
        if p + 8 > have and _pread_all(fd, <char *>sp + p, 8, p) != 8:
            return -1
        tag = _rdtag(sp + p, little)
        length = _rd32(sp + p + 4, little)
        if tag == 0xFFFEE0DDu:
            return p + 8
        if tag != 0xFFFEE000u or length == 0xFFFFFFFFu or <int64_t>length > size - p - 8:
            return -1
        p += 8 + <int64_t>length


#: Compressed files longer than this are opened without mapping their pixel data (_read_sparse).
SPARSE_FROM = 1 << 20


cdef object _read_sparse(int fd, bytes start, path, unsigned int max_depth):
    """The FileDataset of a compressed file whose encapsulated Pixel Data ends
    it (but for elements after it), tokenized without mapping that value: the
    item headers are read one by one (``pread``) into an anonymous buffer of
    the file's size (untouched pages cost nothing), which is tokenized as the
    whole file would be; the tokens then hold only ``start`` and leave every
    record past it in the file (F_OUTSIDE: the file is mapped on first use,
    or frames read from it). Opening a large multi-frame file so maps none of
    its frames. None when the file is not like that (then it is mapped)."""
    cdef int64_t size = fd_sys_size(fd), have = len(start), pos, end
    cdef const unsigned char *b = start
    cdef unsigned char *sp
    cdef Py_buffer v
    cdef Tokens head, tok
    cdef bint little, explicit
    cdef int tail_fd
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
    import mmap
    try:
        buf = mmap.mmap(-1, <Py_ssize_t>size)
    except (OSError, ValueError, OverflowError):
        return None
    got = None
    try:
        PyObject_GetBuffer(buf, &v, PyBUF_SIMPLE | PyBUF_WRITABLE)
        try:
            sp = <unsigned char *>v.buf
            memcpy(sp, b, <size_t>have)
            with nogil:
                end = _walk_items(fd, sp, size, have, pos + (12 if explicit else 8), little)
                if end >= 0 and (end if end > have else have) < size:  # elements after it
                    if end < have:
                        end = have
                    if _pread_all(fd, <char *>sp + end, <Py_ssize_t>(size - end), end) != size - end:
                        end = -1
        finally:
            PyBuffer_Release(&v)
        if end < 0:
            return None
        try:
            got = _read_common(buf, False, 0xFFFFFFFFu, max_depth)
        except _errors.InvalidDicomError:
            return None  # mapped instead: the error is raised there as dcmread raises it
        if not got:
            return None
        tail_fd = fd_sys_dup(fd)
        if tail_fd < 0:
            got = None
            return None
        tok = <Tokens>got[0]
        tok._rebase(start, _new_tail(tail_fd, size))
        (<Tokens>got[1])._rebase(start, None)
    finally:
        if got is None or (<Tokens>got[0])._obj is not start:
            got = None  # the tokens of the anonymous buffer go before it is unmapped
        try:
            buf.close()
        except BufferError:
            pass  # still viewed: unmapped when collected
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
