# The incremental PDU reader of an association (csrc/fd_pdu.h frames the
# stream). Included after pdu.pxi.
from cpython.bytearray cimport PyByteArray_FromStringAndSize
from cpython.memoryview cimport PyMemoryView_FromMemory
from libc.string cimport memmove

cdef extern from "Python.h":
    ctypedef struct PyByteArrayObject:
        Py_ssize_t ob_exports
    int PyBUF_WRITE

#: Receive blocks of PDUReader.get_buffer: their size, the least free space
#: offered to a receive, and how many used blocks are kept for reuse.
cdef enum:
    _BLOCK = 1 << 20
    _MIN_FREE = 65536
    _SPARE_BLOCKS = 3
RECEIVE_BLOCK_SIZE = _BLOCK


cdef inline bint _exported(bytearray block):
    """Whether views of ``block`` are alive (then its bytes must not change)."""
    return (<PyByteArrayObject *><void *>block).ob_exports != 0


cdef class PDUReader:
    """Frames a received byte stream into PDUs (one reader per association).

    Two ways to give it the stream (one per reader): ``feed(data)`` takes any
    buffer (bytes, bytearray, memoryview, ...), as received; or, for an
    :class:`asyncio.BufferedProtocol`, ``get_buffer()`` gives a writable view
    to receive into and ``buffer_updated(n)`` says how many bytes arrived.
    ``next_pdu()`` returns the next complete PDU as an object of
    :mod:`fastdicom.net.pdu` or ``None`` when more data is needed
    (``needed`` says at least how many bytes). The 6-byte header of each PDU
    is checked as soon as it arrives: an unknown type, or a PDU-length that is
    0xFFFFFFFF, above ``max_pdu_length`` (P-DATA-TF: the maximum length we
    announced, 0 = no limit) or ``max_associate_length`` (A-ASSOCIATE-RQ/AC),
    or not 4 for the fixed-size PDUs, is refused before anything of that PDU
    is buffered.

    ``feed``: PDUs that arrive whole in one call are copied once, straight
    into their own ``bytes``; a PDU split across calls is gathered in ONE
    reusable bytearray, grown (by doubling, as its bytes arrive) up to the size
    of the largest PDU seen. ``get_buffer``: the stream is received into
    blocks of :data:`RECEIVE_BLOCK_SIZE` bytes (larger only for a larger PDU,
    grown by doubling as its bytes arrive) and PDUs are views of their block,
    never copied; a block is written again only once no view of it is alive
    (else a fresh one is taken), so a PDU's bytes never change under its
    user. The PDVs of a P-DATA-TF PDU are memoryview slices of that PDU's
    bytes (valid for as long as they are referenced).

    Protocol errors are :class:`fastdicom.net.errors.RemoteProtocolError`
    subclasses raised by ``next_pdu`` once the PDUs before the bad one have
    been returned, with ``offset`` the position in the stream (bytes fed since
    the reader was made); after an error the reader stays failed.
    """
    cdef fd_pdu_limits lim
    cdef bytearray _stage          # feed: the partial PDU
    cdef Py_ssize_t _staged        # feed: bytes of it held
    cdef uint64_t _stage_size      # size of the partial PDU (0: header not complete yet)
    cdef uint64_t _consumed        # stream offset of the first byte not yet framed
    cdef uint64_t _need
    cdef object _queue             # deque of (stream offset, bytes or memoryview)
    cdef object _error
    cdef fd_pdv *_pdvs
    cdef uint32_t _pdv_cap
    cdef bytearray _block          # get_buffer: the block received into
    cdef Py_ssize_t _bstart        # its first byte not yet framed
    cdef Py_ssize_t _bfill         # its bytes received
    cdef list _spare               # used blocks, reused once no view of them is alive
    cdef bytearray _sink           # where bytes go after an error (discarded)

    def __cinit__(self):
        self._pdvs = NULL
        self._pdv_cap = 0

    def __init__(self, max_pdu_length=DEFAULT_MAX_PDU_LENGTH,
                 max_associate_length=DEFAULT_MAX_ASSOCIATE_LENGTH):
        import collections
        _pdu_modules()
        self.lim.max_pdata = _u32_limit(max_pdu_length, "max_pdu_length")
        self.lim.max_assoc = _u32_limit(max_associate_length, "max_associate_length")
        self._stage = bytearray()
        self._staged = 0
        self._stage_size = 0
        self._consumed = 0
        self._need = 6
        self._queue = collections.deque()
        self._error = None
        self._block = None
        self._bstart = self._bfill = 0
        self._spare = []
        if self._pdvs == NULL:
            self._pdvs = <fd_pdv *>malloc(16 * sizeof(fd_pdv))
            if self._pdvs == NULL:
                raise MemoryError()
            self._pdv_cap = 16

    def __dealloc__(self):
        free(self._pdvs)
        self._pdvs = NULL

    @property
    def max_pdu_length(self):
        return self.lim.max_pdata

    @max_pdu_length.setter
    def max_pdu_length(self, value):
        self.lim.max_pdata = _u32_limit(value, "max_pdu_length")

    @property
    def max_associate_length(self):
        return self.lim.max_assoc

    @max_associate_length.setter
    def max_associate_length(self, value):
        self.lim.max_assoc = _u32_limit(value, "max_associate_length")

    @property
    def needed(self):
        """At least how many more bytes the next PDU needs (0: one is ready)."""
        return 0 if self._queue else self._need

    @property
    def buffered(self):
        """Bytes of an incomplete PDU held (a peer closing now left them)."""
        return self._staged + (self._bfill - self._bstart)

    @property
    def buffer_capacity(self):
        """Size of the reusable bytearray (``feed``) or of the current block."""
        if self._block is not None:
            return PyByteArray_GET_SIZE(self._block)
        return PyByteArray_GET_SIZE(self._stage)

    @property
    def offset(self):
        """Bytes of the stream framed into complete PDUs so far."""
        return self._consumed

    cdef int _grow_stage(self, uint64_t need) except -1:
        cdef Py_ssize_t cap = PyByteArray_GET_SIZE(self._stage)
        cdef uint64_t new_cap
        if <uint64_t>cap >= need:
            return 0
        new_cap = <uint64_t>cap * 2 if cap >= 4096 else 4096
        if self._stage_size and new_cap > self._stage_size:
            new_cap = self._stage_size
        if new_cap < need:
            new_cap = need
        if new_cap > <uint64_t>PY_SSIZE_T_MAX:
            raise MemoryError()
        PyByteArray_Resize(self._stage, <Py_ssize_t>new_cap)
        return 0

    cdef int _fail(self, fd_pdu_status st, uint64_t stream_offset) except -1:
        self._error = _pdu_error(st, stream_offset)
        self._staged = 0
        self._stage_size = 0
        self._need = 0
        self._bstart = self._bfill = 0
        return 0

    def feed(self, data):
        """Add received bytes (any contiguous buffer; copied, not kept)."""
        cdef Py_buffer view
        cdef const uint8_t *p
        cdef uint64_t n, i = 0, take, need = 0, err = 0
        cdef fd_pdu_frame frame
        cdef fd_pdu_status st
        cdef char *stage
        if self._block is not None:
            raise ValueError("this reader receives through get_buffer/buffer_updated")
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            if self._error is not None:
                return
            p = <const uint8_t *>view.buf
            n = <uint64_t>view.len
            while i < n:
                if self._staged == 0:
                    st = fd_pdu_next_frame(p, n, i, &self.lim, &frame, &need, &err)
                    if st == FD_PDU_OK:
                        self._queue.append((self._consumed,
                                            PyBytes_FromStringAndSize(<const char *>p + i, <Py_ssize_t>frame.size)))
                        i += frame.size
                        self._consumed += frame.size
                        self._need = 6
                        continue
                    if st != FD_PDU_NEED_MORE:
                        self._fail(st, self._consumed + (err - i))
                        return
                    # an incomplete PDU: keep its bytes (its header already checked)
                    take = n - i
                    self._stage_size = frame.size
                    self._grow_stage(take if take > 6 else 6)
                    memcpy(PyByteArray_AS_STRING(self._stage), p + i, <size_t>take)
                    self._staged = <Py_ssize_t>take
                    self._need = need
                    return
                if self._stage_size == 0:
                    # complete the header, then check it
                    take = 6 - <uint64_t>self._staged
                    if take > n - i:
                        take = n - i
                    stage = PyByteArray_AS_STRING(self._stage)
                    memcpy(stage + self._staged, p + i, <size_t>take)
                    self._staged += <Py_ssize_t>take
                    i += take
                    st = fd_pdu_next_frame(<const uint8_t *>stage, <uint64_t>self._staged, 0,
                                           &self.lim, &frame, &need, &err)
                    if st != FD_PDU_OK and st != FD_PDU_NEED_MORE:
                        self._fail(st, self._consumed + err)
                        return
                    self._stage_size = frame.size
                    self._need = need
                    if st == FD_PDU_NEED_MORE:
                        continue
                else:
                    take = self._stage_size - <uint64_t>self._staged
                    if take > n - i:
                        take = n - i
                    self._grow_stage(<uint64_t>self._staged + take)
                    memcpy(PyByteArray_AS_STRING(self._stage) + self._staged, p + i, <size_t>take)
                    self._staged += <Py_ssize_t>take
                    i += take
                    self._need = self._stage_size - <uint64_t>self._staged
                if self._stage_size and <uint64_t>self._staged == self._stage_size:
                    self._queue.append((self._consumed, PyBytes_FromStringAndSize(
                        PyByteArray_AS_STRING(self._stage), self._staged)))
                    self._consumed += self._stage_size
                    self._staged = 0
                    self._stage_size = 0
                    self._need = 6
        finally:
            PyBuffer_Release(&view)

    # -- receiving in place (asyncio.BufferedProtocol) ---------------------------------
    cdef bytearray _take_block(self, Py_ssize_t size):
        cdef Py_ssize_t k
        cdef bytearray b
        for k in range(len(self._spare)):
            b = <bytearray>self._spare[k]
            if not _exported(b) and PyByteArray_GET_SIZE(b) >= size:
                del self._spare[k]
                return b
        return PyByteArray_FromStringAndSize(NULL, size)

    def get_buffer(self, sizehint=-1):
        """A writable view to receive the next bytes into (at least 64 KiB);
        then call :meth:`buffer_updated`. The view is valid until then only."""
        cdef Py_ssize_t cap, cur, pending, want, stage
        cdef bytearray block, fresh
        if self._staged:
            raise ValueError("this reader receives through feed()")
        if self._error is not None:  # bytes after an error are received, then dropped
            if self._sink is None:
                self._sink = PyByteArray_FromStringAndSize(NULL, _MIN_FREE)
            return PyMemoryView_FromMemory(PyByteArray_AS_STRING(self._sink), _MIN_FREE,
                                           PyBUF_WRITE)
        block = self._block
        if block is None:
            block = self._block = self._take_block(_BLOCK)
        cur = PyByteArray_GET_SIZE(block)
        pending = self._bfill - self._bstart
        stage = <Py_ssize_t>self._stage_size
        if cur - self._bfill < _MIN_FREE or (stage and self._bstart and
                                              self._bstart + stage > cur):
            # room for the PDU being received, and a useful receive beyond it
            want = (stage if stage > pending else pending) + _MIN_FREE
            if want <= _BLOCK:
                cap = _BLOCK
            else:  # a PDU larger than a block: room doubles with the bytes received of it
                if pending > (PY_SSIZE_T_MAX - _MIN_FREE) // 2:
                    raise MemoryError()
                cap = 2 * pending if 2 * pending > pending + _MIN_FREE else pending + _MIN_FREE
                if stage and cap > stage + _MIN_FREE:
                    cap = stage + _MIN_FREE
                if cap < _BLOCK:
                    cap = _BLOCK
            if not _exported(block) and (cur == cap or (cur > cap and cap > _BLOCK)):
                # nothing views it: move the partial PDU to the front
                memmove(PyByteArray_AS_STRING(block), PyByteArray_AS_STRING(block) + self._bstart,
                        <size_t>pending)
            else:
                fresh = self._take_block(cap)
                memcpy(PyByteArray_AS_STRING(fresh), PyByteArray_AS_STRING(block) + self._bstart,
                       <size_t>pending)
                if cur == _BLOCK and len(self._spare) < _SPARE_BLOCKS:
                    self._spare.append(block)
                block = self._block = fresh
            self._bstart = 0
            self._bfill = pending
        return PyMemoryView_FromMemory(PyByteArray_AS_STRING(block) + self._bfill,
                                       PyByteArray_GET_SIZE(block) - self._bfill, PyBUF_WRITE)

    def buffer_updated(self, Py_ssize_t nbytes):
        """``nbytes`` were received into the view of :meth:`get_buffer`."""
        cdef uint64_t need = 0, err = 0
        cdef fd_pdu_frame frame
        cdef fd_pdu_status st
        cdef const uint8_t *p
        if self._error is not None or nbytes <= 0:
            return
        if self._block is None or nbytes > PyByteArray_GET_SIZE(self._block) - self._bfill:
            raise ValueError("buffer_updated without get_buffer, or more bytes than it gave")
        self._bfill += nbytes
        p = <const uint8_t *>PyByteArray_AS_STRING(self._block)
        while True:
            st = fd_pdu_next_frame(p, <uint64_t>self._bfill, <uint64_t>self._bstart, &self.lim,
                                   &frame, &need, &err)
            if st == FD_PDU_OK:
                self._queue.append((self._consumed, memoryview(self._block).toreadonly()[
                    self._bstart:self._bstart + <Py_ssize_t>frame.size]))
                self._bstart += <Py_ssize_t>frame.size
                self._consumed += frame.size
                continue
            if st != FD_PDU_NEED_MORE:
                self._fail(st, self._consumed + (err - <uint64_t>self._bstart))
                return
            self._stage_size = frame.size
            self._need = need
            if self._bstart == self._bfill and not _exported(self._block):
                self._bstart = self._bfill = 0  # all framed, nothing views it: start over
            return

    def next_pdu(self):
        """The next complete PDU, or ``None`` when more data is needed."""
        if not self._queue:
            if self._error is not None:
                raise self._error
            return None
        base, raw = self._queue.popleft()
        try:
            if raw[0] == 4:  # P-DATA-TF (bytes, or a view of bytes)
                return self._pdata(raw, base)
            return _net_pdu.decode_pdu(raw if type(raw) is bytes else bytes(raw))
        except _net_errors.RemoteProtocolError as exc:
            self._queue.clear()
            self._error = exc.rebased(base) if exc.offset is not None else exc
            raise self._error from None

    def __iter__(self):
        """Iterate over the PDUs complete so far."""
        while True:
            pdu = self.next_pdu()
            if pdu is None:
                return
            yield pdu

    cdef object _pdata(self, object raw, uint64_t base):
        cdef uint32_t n = 0, k
        cdef uint64_t err = 0
        cdef fd_pdv *v
        cdef void *grown
        cdef Py_buffer view
        cdef fd_pdu_status st
        PyObject_GetBuffer(raw, &view, PyBUF_SIMPLE)
        try:
            st = fd_pdata_parse(<const uint8_t *>view.buf, <uint64_t>view.len, 0, self._pdvs,
                                self._pdv_cap, &n, &err)
            if st == FD_PDU_ERR_TOO_MANY:
                grown = realloc(self._pdvs, <size_t>n * sizeof(fd_pdv))
                if grown == NULL:
                    raise MemoryError()
                self._pdvs = <fd_pdv *>grown
                self._pdv_cap = n
                st = fd_pdata_parse(<const uint8_t *>view.buf, <uint64_t>view.len, 0,
                                    self._pdvs, self._pdv_cap, &n, &err)
        finally:
            PyBuffer_Release(&view)
        if st != FD_PDU_OK:
            raise _pdu_error(st, err)
        mv = raw if type(raw) is memoryview else memoryview(raw)
        pdvs = []
        for k in range(n):
            v = &self._pdvs[k]
            pdvs.append(_PDV_new(_net_pdu.PDV, (v.context_id, (v.control & 1) != 0,
                                                 (v.control & 2) != 0,
                                                 mv[v.offset:v.offset + v.length])))
        return _PDataTF(pdvs)
