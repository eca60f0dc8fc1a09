# Native pixel samples (csrc/fd_native.h). Included after rle.pxi.

cdef extern from "fd_native.h" nogil:
    int fd_native_fits(const void *data, size_t n, int width, int64_t lo, int64_t hi)


def samples_fit(data, int width, int64_t lo, int64_t hi):
    """Whether every sample of ``data`` (a contiguous buffer of samples
    ``width`` bytes wide, native byte order) lies in [lo, hi]: one pass, the
    GIL released (see csrc/fd_native.h)."""
    cdef Py_buffer v
    cdef int r
    PyObject_GetBuffer(data, &v, PyBUF_SIMPLE)
    try:
        if width not in (1, 2, 4, 8) or v.len % width:
            raise ValueError("the buffer is not a whole number of samples of that width")
        with nogil:
            r = fd_native_fits(v.buf, <size_t>(v.len // width), width, lo, hi)
    finally:
        PyBuffer_Release(&v)
    if r < 0:
        raise ValueError("lo and hi do not fit samples of that width")
    return r == 1
