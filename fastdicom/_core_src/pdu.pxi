# DICOM Upper Layer PDUs (csrc/fd_pdu.h): the incremental PDU reader, PDV and
# item tables for fastdicom.net.pdu, and the P-DATA-TF encoder. Included at
# the end of _core.pyx.
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE
from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_Resize, PyByteArray_GET_SIZE
from libc.string cimport memcpy
from libc.stdlib cimport malloc, realloc, free
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int32_t

cdef extern from "Python.h":
    const Py_ssize_t PY_SSIZE_T_MAX

cdef extern from "fd_pdu.h" nogil:
    ctypedef enum fd_pdu_status:
        FD_PDU_OK
        FD_PDU_NEED_MORE
        FD_PDU_ERR_TYPE
        FD_PDU_ERR_TOO_LONG
        FD_PDU_ERR_PDU_LENGTH
        FD_PDU_ERR_PDV_LENGTH
        FD_PDU_ERR_PDV_SHORT
        FD_PDU_ERR_CONTEXT_ID
        FD_PDU_ERR_ITEM_LENGTH
        FD_PDU_ERR_ITEM_SHORT
        FD_PDU_ERR_TOO_MANY
        FD_PDU_ERR_BUFFER
        FD_PDU_ERR_ARGUMENT
        FD_PDU_ERR_TRUNCATED

    ctypedef struct fd_pdu_limits:
        uint32_t max_pdata
        uint32_t max_assoc

    ctypedef struct fd_pdu_frame:
        uint64_t offset
        uint64_t size
        uint32_t length
        uint8_t type

    ctypedef struct fd_pdv:
        uint64_t offset
        uint32_t length
        uint8_t context_id
        uint8_t control

    ctypedef struct fd_pdu_item:
        uint64_t offset
        uint64_t value_offset
        uint32_t length
        int32_t parent
        uint8_t type

    ctypedef struct fd_pdata_src:
        const uint8_t *data
        uint64_t length
        uint8_t context_id
        uint8_t control

    fd_pdu_status fd_pdu_next_frame(const uint8_t *buf, uint64_t len, uint64_t pos,
                                    const fd_pdu_limits *lim, fd_pdu_frame *frame,
                                    uint64_t *need, uint64_t *error_offset)
    fd_pdu_status fd_pdata_parse(const uint8_t *buf, uint64_t len, uint64_t pos,
                                 fd_pdv *pdvs, uint32_t cap, uint32_t *n, uint64_t *error_offset)
    fd_pdu_status fd_pdu_walk_items(const uint8_t *buf, uint64_t begin, uint64_t end,
                                    fd_pdu_item *items, uint32_t cap, uint32_t *n,
                                    uint64_t *error_offset)
    fd_pdu_status fd_assoc_walk(const uint8_t *buf, uint64_t len, uint64_t pos,
                                fd_pdu_item *items, uint32_t cap, uint32_t *n,
                                uint64_t *error_offset)
    fd_pdu_status fd_pdata_measure(const fd_pdata_src *src, uint32_t n, uint32_t max_pdu,
                                   uint64_t *size, uint64_t *npdu, uint64_t *npdv)
    fd_pdu_status fd_pdata_encode(const fd_pdata_src *src, uint32_t n, uint32_t max_pdu,
                                  uint8_t *out, uint64_t out_len, uint64_t *written)
    const char *fd_pdu_status_message(fd_pdu_status st)

PDU_OK = FD_PDU_OK
PDU_NEED_MORE = FD_PDU_NEED_MORE
PDU_ERR_TYPE = FD_PDU_ERR_TYPE
PDU_ERR_TOO_LONG = FD_PDU_ERR_TOO_LONG
PDU_ERR_PDU_LENGTH = FD_PDU_ERR_PDU_LENGTH
PDU_ERR_PDV_LENGTH = FD_PDU_ERR_PDV_LENGTH
PDU_ERR_PDV_SHORT = FD_PDU_ERR_PDV_SHORT
PDU_ERR_CONTEXT_ID = FD_PDU_ERR_CONTEXT_ID
PDU_ERR_ITEM_LENGTH = FD_PDU_ERR_ITEM_LENGTH
PDU_ERR_ITEM_SHORT = FD_PDU_ERR_ITEM_SHORT
PDU_ERR_TRUNCATED = FD_PDU_ERR_TRUNCATED

#: Defaults of PDUReader: pynetdicom's and DCMTK's usual maximum length, and
#: a bound on A-ASSOCIATE-RQ/AC PDUs (hundreds of presentation contexts fit).
DEFAULT_MAX_PDU_LENGTH = 16382
DEFAULT_MAX_ASSOCIATE_LENGTH = 1 << 20

cdef object _net_errors = None
cdef object _net_pdu = None
cdef object _PDV_new = None
cdef object _PDataTF = None


cdef _pdu_modules():
    global _net_errors, _net_pdu, _PDV_new, _PDataTF
    if _net_pdu is None:
        from fastdicom.net import errors as e, pdu as p
        _net_errors = e
        _PDV_new = tuple.__new__
        _PDataTF = p.PDataTF
        _net_pdu = p


cdef object _pdu_error(fd_pdu_status st, uint64_t offset, bint local=False):
    """The one place where a PDU status of the C layer becomes a Python exception."""
    _pdu_modules()
    msg = fd_pdu_status_message(st).decode("ascii")
    if local:
        return _net_errors.LocalProtocolError(msg, None, <int>st)
    if st == FD_PDU_ERR_TYPE:
        cls = _net_errors.UnknownPDUError
    elif st == FD_PDU_ERR_TOO_LONG:
        cls = _net_errors.PDUTooLargeError
    else:
        cls = _net_errors.MalformedPDUError
    return cls(msg, int(offset), <int>st)


cdef inline uint32_t _u32_limit(object value, str name) except? 0xFFFFFFFF:
    if value is None:
        return 0
    if not 0 <= value <= 0xFFFFFFFE:
        raise ValueError(f"{name} must be from 0 (no limit) to 0xFFFFFFFE")
    return <uint32_t>value


def pdata_pdvs(data):
    """The PDVs of the P-DATA-TF PDU ``data`` (any buffer, whole PDU first):
    a list of (context_id, message control header, data offset, data length)."""
    cdef Py_buffer view
    cdef uint32_t n = 0, k
    cdef uint64_t err = 0
    cdef fd_pdu_status st
    cdef fd_pdv small[32]
    cdef fd_pdv *pdvs = small
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        st = fd_pdata_parse(<const uint8_t *>view.buf, <uint64_t>view.len, 0, pdvs, 32, &n, &err)
        if st == FD_PDU_ERR_TOO_MANY:
            pdvs = <fd_pdv *>malloc(<size_t>n * sizeof(fd_pdv))
            if pdvs == NULL:
                raise MemoryError()
            st = fd_pdata_parse(<const uint8_t *>view.buf, <uint64_t>view.len, 0, pdvs, n, &n, &err)
        if st != FD_PDU_OK:
            raise _pdu_error(st, err)
        return [(pdvs[k].context_id, pdvs[k].control, pdvs[k].offset, pdvs[k].length)
                for k in range(n)]
    finally:
        if pdvs != small:
            free(pdvs)
        PyBuffer_Release(&view)


def pdu_items(data, begin=None, end=None):
    """The items of ``data``: with ``begin``/``end`` the items in
    data[begin:end], else those of the A-ASSOCIATE-RQ/AC PDU ``data`` (header
    checked). A list of (type, offset, value offset, length, parent index)."""
    cdef Py_buffer view
    cdef uint32_t n = 0, cap = 64, k
    cdef uint64_t err = 0, b = 0, e = 0
    cdef fd_pdu_status st
    cdef fd_pdu_item small[64]
    cdef fd_pdu_item *items = small
    cdef bint whole = begin is None
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        if not whole:
            b = begin
            e = <uint64_t>view.len if end is None else end
            if b > e or e > <uint64_t>view.len:
                raise ValueError("item range outside the data")
        while True:
            if whole:
                st = fd_assoc_walk(<const uint8_t *>view.buf, <uint64_t>view.len, 0, items, cap, &n, &err)
            else:
                st = fd_pdu_walk_items(<const uint8_t *>view.buf, b, e, items, cap, &n, &err)
            if st != FD_PDU_ERR_TOO_MANY or items != small:
                break
            items = <fd_pdu_item *>malloc(<size_t>n * sizeof(fd_pdu_item))
            if items == NULL:
                raise MemoryError()
            cap = n
        if st != FD_PDU_OK:
            raise _pdu_error(st, err)
        return [(items[k].type, items[k].offset, items[k].value_offset, items[k].length,
                 items[k].parent) for k in range(n)]
    finally:
        if items != small:
            free(items)
        PyBuffer_Release(&view)


def encode_pdata(pdvs, max_pdu=0):
    """P-DATA-TF PDUs carrying ``pdvs`` as bytes, fragmented and packed in C.

    ``pdvs`` is a sequence of ``(context_id, is_command, data)`` or
    ``(context_id, is_command, data, is_last)`` (``is_last`` default True):
    each ``data`` (any buffer: a command set, a data set or a piece of one) is
    cut into fragments; its final fragment gets the last-fragment bit when
    ``is_last``. PDVs are packed several to a PDU while another one with at
    least one data byte fits, and no PDU has a PDU-length above ``max_pdu``
    (the peer's maximum length; 0 = no limit). Copying runs without the GIL.
    Invalid input raises :class:`fastdicom.net.errors.LocalProtocolError`.
    """
    cdef Py_ssize_t count, k, got = 0
    cdef fd_pdata_src *src = NULL
    cdef Py_buffer *views = NULL
    cdef uint64_t size = 0, written = 0
    cdef uint32_t mx
    cdef fd_pdu_status st
    cdef uint8_t *outp
    _pdu_modules()
    if not 0 <= max_pdu <= 0xFFFFFFFF:
        raise _net_errors.LocalProtocolError(f"maximum PDU length {max_pdu} out of range")
    mx = <uint32_t>max_pdu
    if 0 < mx < 7:
        raise _net_errors.LocalProtocolError(
            f"a maximum PDU length of {max_pdu} leaves no room for a PDV", None, FD_PDU_ERR_ARGUMENT)
    pdvs = list(pdvs)
    count = len(pdvs)
    if count > 0xFFFFFFFF:
        raise _net_errors.LocalProtocolError("too many PDVs")
    src = <fd_pdata_src *>malloc(sizeof(fd_pdata_src) * (count + 1))
    views = <Py_buffer *>malloc(sizeof(Py_buffer) * (count + 1))
    try:
        if src == NULL or views == NULL:
            raise MemoryError()
        for k in range(count):
            entry = pdvs[k]
            if len(entry) == 3:
                ctx, is_command, data = entry
                last = True
            else:
                ctx, is_command, data, last = entry
            if not (isinstance(ctx, int) and 1 <= ctx <= 255 and ctx & 1):
                raise _net_errors.LocalProtocolError(
                    f"presentation context ID {ctx!r} is not an odd number from 1 to 255",
                    None, FD_PDU_ERR_CONTEXT_ID)
            PyObject_GetBuffer(data, &views[k], PyBUF_SIMPLE)
            got += 1
            src[k].data = <const uint8_t *>views[k].buf
            src[k].length = <uint64_t>views[k].len
            src[k].context_id = <uint8_t>ctx
            src[k].control = (1 if is_command else 0) | (2 if last else 0)
        st = fd_pdata_measure(src, <uint32_t>count, mx, &size, NULL, NULL)
        if st != FD_PDU_OK:
            raise _pdu_error(st, 0, True)
        if size > <uint64_t>PY_SSIZE_T_MAX:
            raise MemoryError()
        out = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>size)
        outp = <uint8_t *>PyBytes_AS_STRING(out)
        with nogil:
            st = fd_pdata_encode(src, <uint32_t>count, mx, outp, size, &written)
        if st != FD_PDU_OK or written != size:
            raise _pdu_error(st if st != FD_PDU_OK else FD_PDU_ERR_BUFFER, 0, True)
        return out
    finally:
        for k in range(got):
            PyBuffer_Release(&views[k])
        free(src)
        free(views)
