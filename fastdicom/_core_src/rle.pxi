# RLE Lossless (csrc/fd_rle.h): decode one frame into a new numpy array,
# with the GIL released while decoding. Included at the end of _core.pyx.
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE, PyBUF_WRITABLE
from libc.stdint cimport uint8_t, uint32_t, uint64_t

cdef extern from "fd_rle.h" nogil:
    ctypedef enum fd_rle_status:
        FD_RLE_OK
        FD_RLE_ERR_ARGUMENT
        FD_RLE_ERR_HEADER
        FD_RLE_ERR_SEGMENT_COUNT
        FD_RLE_ERR_SEGMENT_MISMATCH
        FD_RLE_ERR_OFFSET
        FD_RLE_ERR_SHORT_SEGMENT
        FD_RLE_ERR_TOO_LITTLE_DATA

    fd_rle_status fd_rle_check_frame(const uint8_t *src, uint64_t len,
                                     uint32_t rows, uint32_t cols, uint32_t samples,
                                     uint32_t bits_allocated, uint64_t *error_offset)
    fd_rle_status fd_rle_decode_frame(const uint8_t *src, uint64_t len,
                                      uint8_t *dst, uint64_t dst_len,
                                      uint32_t rows, uint32_t cols, uint32_t samples,
                                      uint32_t bits_allocated, uint64_t *error_offset)
    uint64_t fd_rle_decode_segment(const uint8_t *src, uint64_t len, uint8_t *dst, uint64_t dst_len)
    const char *fd_rle_status_message(fd_rle_status st)

RLE_OK = FD_RLE_OK
RLE_ERR_ARGUMENT = FD_RLE_ERR_ARGUMENT
RLE_ERR_HEADER = FD_RLE_ERR_HEADER
RLE_ERR_SEGMENT_COUNT = FD_RLE_ERR_SEGMENT_COUNT
RLE_ERR_SEGMENT_MISMATCH = FD_RLE_ERR_SEGMENT_MISMATCH
RLE_ERR_OFFSET = FD_RLE_ERR_OFFSET
RLE_ERR_SHORT_SEGMENT = FD_RLE_ERR_SHORT_SEGMENT
RLE_ERR_TOO_LITTLE_DATA = FD_RLE_ERR_TOO_LITTLE_DATA


cdef object _rle_error(object error, fd_rle_status st, uint64_t offset):
    cls = _errors.InvalidDicomError if error is None else error
    exc = cls(fd_rle_status_message(st).decode("ascii"), int(offset))
    exc.rle_status = <int>st
    return exc


def rle_decode_frame(data, rows, cols, samples, bits_allocated, error=None, out=None):
    """Decode one RLE Lossless frame (PS3.5 Annex G) to a new numpy array.

    ``data`` is any contiguous buffer (bytes, bytearray, memoryview, mmap,
    numpy), read without copying. The result has shape (rows, cols) for one
    sample and (rows, cols, samples) otherwise (pixel-interleaved, as pydicom
    returns RLE data) and dtype uint8/<u2/<u4/<u8 by ``bits_allocated``
    (view it as signed when Pixel Representation is 1).

    The header is checked before the output is allocated: a frame claiming
    more output than PackBits could give from its size (64x) is refused, so
    the allocation is bounded by 64 x len(data). Decoding runs without the
    GIL. Errors raise ``error`` (default ``fastdicom.errors.InvalidDicomError``)
    with the byte offset in ``data`` where the frame went wrong; its
    ``rle_status`` attribute is the C status code.

    With ``out`` (any writable C-contiguous buffer of exactly
    rows*cols*samples*bits_allocated/8 bytes) the frame is decoded into it,
    little endian, and ``out`` itself is returned.
    """
    cdef Py_buffer src
    cdef Py_buffer dst
    cdef fd_rle_status st
    cdef uint64_t err_off = 0
    cdef uint32_t r, c, s, b
    cdef uint64_t nbytes

    if not (0 < rows < 2 ** 32 and 0 < cols < 2 ** 32 and 0 < samples < 16
            and bits_allocated in (8, 16, 32, 64)):
        raise _rle_error(error, FD_RLE_ERR_ARGUMENT, 0)
    r = rows
    c = cols
    s = samples
    b = bits_allocated
    PyObject_GetBuffer(data, &src, PyBUF_SIMPLE)
    try:
        st = fd_rle_check_frame(<const uint8_t *>src.buf, <uint64_t>src.len, r, c, s, b, &err_off)
        if st != FD_RLE_OK:
            raise _rle_error(error, st, err_off)
        # bounded: check_frame proved len(data) >= nbytes / 64
        nbytes = <uint64_t>r * c * s * (b // 8)
        target = _np.empty(nbytes, dtype=_np.uint8) if out is None else out
        PyObject_GetBuffer(target, &dst, PyBUF_SIMPLE | PyBUF_WRITABLE)
        try:
            if <uint64_t>dst.len != nbytes:
                raise ValueError(f"out has {dst.len} bytes, the frame needs {nbytes}")
            with nogil:
                st = fd_rle_decode_frame(<const uint8_t *>src.buf, <uint64_t>src.len,
                                         <uint8_t *>dst.buf, nbytes, r, c, s, b, &err_off)
        finally:
            PyBuffer_Release(&dst)
    finally:
        PyBuffer_Release(&src)
    if st != FD_RLE_OK:
        raise _rle_error(error, st, err_off)
    if out is not None:
        return out
    if b != 8:
        target = target.view(f"<u{b // 8}")
    if s == 1:
        return target.reshape(r, c)
    return target.reshape(r, c, s)


def rle_decode_segment(data, Py_ssize_t length):
    """Decode one PackBits segment to at most ``length`` bytes (bytes; shorter
    when the data runs out). For tests and tools."""
    cdef Py_buffer src
    cdef uint64_t n
    if length < 0:
        raise ValueError("length must be >= 0")
    out = bytearray(length)
    cdef unsigned char *o = out
    PyObject_GetBuffer(data, &src, PyBUF_SIMPLE)
    try:
        with nogil:
            n = fd_rle_decode_segment(<const uint8_t *>src.buf, <uint64_t>src.len,
                                      <uint8_t *>o, <uint64_t>length)
    finally:
        PyBuffer_Release(&src)
    return bytes(out[:n])
