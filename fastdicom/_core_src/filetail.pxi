# POSIX file access for the file layer: open/read/close of a path (fileread.pxi)
# and _FileTail, the rest of a file read in part (the value of its pixel data,
# left in the file by the tokens: see Tokens.tail). Elsewhere (Windows) paths
# take the Python path and nothing is left in a file.
from libc.errno cimport errno, EINTR
from libc.stdint cimport int64_t

cdef extern from *:
    """
    #if defined(_WIN32)
    #define FD_POSIX_IO 0
    static int fd_sys_open(const char *p) { (void)p; return -1; }
    static Py_ssize_t fd_sys_read(int fd, char *b, size_t n) { (void)fd; (void)b; (void)n; return -1; }
    static Py_ssize_t fd_sys_pread(int fd, char *b, size_t n, int64_t off) {
        (void)fd; (void)b; (void)n; (void)off; return -1; }
    static int64_t fd_sys_size(int fd) { (void)fd; return -1; }
    static int fd_sys_close(int fd) { (void)fd; return 0; }
    static int fd_sys_dup(int fd) { (void)fd; return -1; }
    #else
    #include <fcntl.h>
    #include <unistd.h>
    #include <sys/stat.h>
    #define FD_POSIX_IO 1
    static int fd_sys_open(const char *p) { return open(p, O_RDONLY | O_CLOEXEC); }
    static Py_ssize_t fd_sys_read(int fd, char *b, size_t n) { return read(fd, b, n); }
    static Py_ssize_t fd_sys_pread(int fd, char *b, size_t n, int64_t off) {
        return pread(fd, b, n, (off_t)off); }
    /* size of a regular file, -1 for anything else or an error */
    static int64_t fd_sys_size(int fd) {
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
        return (int64_t)st.st_size;
    }
    static int fd_sys_close(int fd) { return close(fd); }
    static int fd_sys_dup(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 0); }
    #endif
    """
    int FD_POSIX_IO
    int fd_sys_open(const char *p) nogil
    Py_ssize_t fd_sys_read(int fd, char *b, size_t n) nogil
    Py_ssize_t fd_sys_pread(int fd, char *b, size_t n, int64_t off) nogil
    int64_t fd_sys_size(int fd) nogil
    int fd_sys_close(int fd) nogil
    int fd_sys_dup(int fd) nogil


cdef Py_ssize_t _pread_all(int fd, char *p, Py_ssize_t n, int64_t off) nogil:
    """Read up to ``n`` bytes at ``off`` (fewer only at the end of the file); -1 on error."""
    cdef Py_ssize_t got = 0, r
    while got < n:
        r = fd_sys_pread(fd, p + got, <size_t>(n - got), off + got)
        if r < 0:
            if errno == EINTR:
                continue
            return -1
        if r == 0:
            break
        got += r
    return got


cdef class _FileTail:
    """An open file of ``size`` bytes whose start some tokens hold: the rest is
    read (pread, GIL released) or memory-mapped on demand. The descriptor is
    closed once the file is mapped (after the reads in flight) or with this
    object."""
    cdef int fd
    cdef readonly int64_t size
    cdef int busy          # reads in flight (counted with the GIL held)
    cdef bint closing      # close when the last read in flight ends

    def __cinit__(self):
        self.fd = -1

    def __dealloc__(self):
        if self.fd >= 0:
            fd_sys_close(self.fd)
            self.fd = -1

    cdef _changed(self, int64_t now):
        return _errors.TruncatedDataError(
            f"the file is now {now} bytes long, shorter than the {self.size} bytes it had when "
            "it was read: it was changed since", int(now) if now >= 0 else None)

    cdef int read_into(self, char *p, Py_ssize_t n, int64_t off) except -1:
        """Read exactly ``n`` bytes at ``off`` into ``p``: 0, or 1 when the
        descriptor is closed (the file was mapped meanwhile: nothing read); a
        TruncatedDataError when the file no longer holds them, OSError on an
        I/O error."""
        cdef Py_ssize_t got
        cdef int fd = self.fd, err = 0
        if n < 0 or off < 0 or n > self.size - off:
            raise ValueError("read outside the file")
        if fd < 0:
            return 1  # closed: the file was mapped meanwhile
        self.busy += 1
        with nogil:
            got = _pread_all(fd, p, n, off)
            if got < 0:
                err = errno
        self.busy -= 1
        if self.closing and self.busy == 0:
            self._close()
        if got < 0:
            raise OSError(err, "cannot read the rest of the DICOM file")
        if got < n:
            raise _errors.TruncatedDataError(
                f"the file ends {n - got} bytes before the end of the value read from it: it was "
                "changed since it was read", int(off + got))
        return 0

    cdef object map(self):
        """A read-only mmap of the whole file, checked to be at least ``size``
        bytes; None when the descriptor is closed (the file was mapped)."""
        cdef int64_t now
        if self.fd < 0:
            return None
        self.busy += 1  # the descriptor stays open while it is mapped
        try:
            now = fd_sys_size(self.fd)
            if now < self.size:
                raise self._changed(now)
            import mmap
            mm = mmap.mmap(self.fd, 0, access=mmap.ACCESS_READ)
        finally:
            self.busy -= 1
            if self.closing and self.busy == 0:
                self._close()
        if len(mm) < self.size:  # shortened meanwhile
            now = len(mm)
            mm.close()
            raise self._changed(now)
        return mm

    cdef void release(self):
        """The file is mapped: close the descriptor once no read is in flight."""
        if self.busy:
            self.closing = True
        else:
            self._close()

    cdef void _close(self):
        cdef int fd = self.fd
        self.fd = -1
        self.closing = False
        if fd >= 0:
            fd_sys_close(fd)


cdef _FileTail _new_tail(int fd, int64_t size):
    cdef _FileTail t = _FileTail.__new__(_FileTail)
    t.fd = fd
    t.size = size
    return t
