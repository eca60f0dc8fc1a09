# Values of the most common VRs converted in C, bit for bit what the Python
# converters in fastdicom/values.py give. Anything unusual (several values,
# escape sequences, other character sets, whitespace to strip, odd lengths)
# returns _UNSET and takes the Python path.
from cpython.unicode cimport PyUnicode_DecodeLatin1, PyUnicode_Check, PyUnicode_GET_LENGTH, PyUnicode_READ_CHAR
from libc.string cimport memchr, memcpy
from libc.stdint cimport int16_t
from cpython.ref cimport Py_DECREF, Py_INCREF, Py_XDECREF

cdef dict _FAST_KIND = {
    "CS": 1, "AS": 1, "DA": 2, "DT": 2, "TM": 2, "UI": 4, "DS": 7, "IS": 8,
    "SH": 5, "LO": 5, "UC": 5, "ST": 6, "LT": 6, "UT": 6,
    "US": 10, "SS": 11, "UL": 12, "SL": 13, "FL": 14, "FD": 15,
}
cdef unsigned char _KIND_OF[676]   # _FAST_KIND by VR letters (0: not fast)
for _vr, _kind in _FAST_KIND.items():
    _KIND_OF[(ord(_vr[0]) - 65) * 26 + ord(_vr[1]) - 65] = _kind
del _vr, _kind


cdef inline int _vr_kind(object vr):
    cdef int a, b
    if not PyUnicode_Check(vr) or PyUnicode_GET_LENGTH(vr) != 2:
        return 0
    a = <int>PyUnicode_READ_CHAR(vr, 0)
    b = <int>PyUnicode_READ_CHAR(vr, 1)
    if 65 <= a <= 90 and 65 <= b <= 90:
        return _KIND_OF[(a - 65) * 26 + b - 65]
    return 0


cdef object _LATIN1_NAMES = frozenset(["iso8859", "latin_1"])
cdef object _UID = None
cdef object _str_type = str
cdef object _int_type = int
cdef object _config = None
cdef dict _config_dict = {}
cdef object _DSfloat = None
cdef object _IS = None
cdef object _MultiValue = None


cdef bint _config_flag(str name) except -1:
    """fastdicom.config.<name> (read from the module's dict: it may change at any time)."""
    cdef PyObject *p = PyDict_GetItem(_config_dict, name)
    if p != NULL:
        return bool(<object>p)
    return bool(getattr(_config, name))


def configure_values(uid_class, config_module, dsfloat_class, is_class, multivalue_class):
    global _UID, _config, _config_dict, _DSfloat, _IS, _MultiValue
    _UID = uid_class
    _config = config_module
    _config_dict = config_module.__dict__
    _DSfloat = dsfloat_class
    global _DS_ORIG, _DS_AUTO
    _DS_ORIG = _slot_offset(dsfloat_class, "original_string")
    _DS_AUTO = _slot_offset(dsfloat_class, "auto_format")
    _IS = is_class
    _MultiValue = multivalue_class


cdef extern from "Python.h":
    ctypedef struct PyFloatObject:
        double ob_fval
    PyObject *PyType_GenericAlloc(PyTypeObject *t, Py_ssize_t n) except NULL
    double PyOS_string_to_double(const char *s, char **endptr, PyObject *exc)
    PyObject *PyErr_Occurred()
    void PyErr_Clear()


cdef extern from "structmember.h":
    ctypedef struct PyMemberDef:
        const char *name
        int type
        Py_ssize_t offset

cdef extern from "Python.h":
    ctypedef struct PyMemberDescrObject:
        PyMemberDef *d_member

# offsets of DSfloat's slots original_string and auto_format (-1: use setattr)
cdef Py_ssize_t _DS_ORIG = -1
cdef Py_ssize_t _DS_AUTO = -1


cdef Py_ssize_t _slot_offset(cls, str name):
    """Offset of the __slots__ member ``name`` of ``cls`` in its instances, or -1."""
    d = cls.__dict__.get(name)
    if type(d).__name__ != "member_descriptor" or d.__objclass__ is not cls:
        return -1
    return (<PyMemberDescrObject *><PyObject *>d).d_member.offset


cdef inline void _set_new_slot(object o, Py_ssize_t offset, object v):
    """Fill an empty object slot of a new instance (as setattr would)."""
    cdef PyObject **p = <PyObject **>(<char *><PyObject *>o + offset)
    Py_INCREF(v)
    Py_XDECREF(p[0])
    p[0] = <PyObject *>v


cdef inline object _new_of(cls):
    """``object.__new__(cls)``, without the method call."""
    return (<PyTypeObject *>cls).tp_new(<type>cls, <PyObject *>_NO_ARGS, NULL)


cdef inline object _new_from(base, cls, arg):
    """``base.__new__(cls, arg)`` (base: str or int), without the method call."""
    cdef tuple args = (arg,)
    return (<PyTypeObject *>base).tp_new(<type>cls, <PyObject *>args, NULL)


cdef object _ds_one(const unsigned char *b, Py_ssize_t a, Py_ssize_t z):
    """DSfloat of the text b[a:z] (ASCII), or _UNSET when the Python path must
    decide: ``float(part)``, its text ``part.strip()``."""
    cdef char text[40]
    cdef double d
    cdef Py_ssize_t i
    while a < z and _is_ws(b[a]):
        a += 1
    while z > a and _is_ws(b[z - 1]):
        z -= 1
    if z == a or z - a >= 40:
        return _UNSET
    for i in range(a, z):
        if b[i] == 0:
            return _UNSET
    memcpy(text, b + a, <size_t>(z - a))
    text[z - a] = 0
    d = PyOS_string_to_double(text, NULL, NULL)  # float()'s parser (no underscores)
    if d == -1.0 and PyErr_Occurred() != NULL:
        PyErr_Clear()
        return _UNSET
    v = <object>PyType_GenericAlloc(<PyTypeObject *>_DSfloat, 0)
    Py_DECREF(v)  # <object> took a reference of its own
    (<PyFloatObject *><PyObject *>v).ob_fval = d
    orig = PyUnicode_DecodeLatin1(text, z - a, NULL)
    if _DS_ORIG >= 0 and _DS_AUTO >= 0:
        _set_new_slot(v, _DS_ORIG, orig)
        _set_new_slot(v, _DS_AUTO, False)
    else:
        v.original_string = orig
        v.auto_format = False
    return v


cdef object _ds_value(const unsigned char *b, Py_ssize_t n):
    """As DS(text) for ``text.strip().rstrip(" \\x00")`` split at backslashes."""
    cdef Py_ssize_t i, a = 0, z = n, start
    cdef list items
    if _config_flag("use_DS_decimal"):
        return _UNSET
    for i in range(n):
        if b[i] >= 0x80:
            return _UNSET
    while a < z and _is_ws(b[a]):
        a += 1
    while z > a and _is_ws(b[z - 1]):
        z -= 1
    while z > a and (b[z - 1] == 0x20 or b[z - 1] == 0):
        z -= 1
    if memchr(b + a, 0x5C, <size_t>(z - a)) == NULL:
        return _ds_one(b, a, z)
    items = []
    start = a
    for i in range(a, z + 1):
        if i == z or b[i] == 0x5C:
            v = _ds_one(b, start, i)
            if v is _UNSET:
                return _UNSET
            items.append(v)
            start = i + 1
    mv = _new_of(_MultiValue)
    mv._constructor = _DSfloat
    mv._list = items
    return mv


cdef object _is_value(const unsigned char *b, Py_ssize_t n):
    cdef Py_ssize_t end = n
    while end > 0 and (b[end - 1] == 0x20 or b[end - 1] == 0):
        end -= 1
    if end == 0 or end > 15 or memchr(b, 0x5C, n) != NULL:
        return _UNSET
    s = PyUnicode_DecodeLatin1(<const char *>b, end, NULL)
    try:
        v = _new_from(_int_type, _IS, s)
    except ValueError:
        return _UNSET
    v.original_string = s.strip()
    return v


cdef inline bint _is_ws(unsigned char c):
    # characters str.strip() would remove, in latin-1
    return c == 0x20 or (0x09 <= c <= 0x0D) or (0x1C <= c <= 0x1F) or c == 0x85 or c == 0xA0


cdef object _number_at(int kind, const unsigned char *b, bint le):
    """One value of a binary VR (kind 10-15: US SS UL SL FL FD) at ``b``."""
    cdef uint32_t u32
    cdef uint64_t u64
    cdef float f32
    cdef double f64
    cdef int k
    if kind == 10:
        return (b[0] | (b[1] << 8)) if le else ((b[0] << 8) | b[1])
    if kind == 11:
        return <int16_t>((b[0] | (b[1] << 8)) if le else ((b[0] << 8) | b[1]))
    if kind <= 14:
        if le:
            u32 = b[0] | (<uint32_t>b[1] << 8) | (<uint32_t>b[2] << 16) | (<uint32_t>b[3] << 24)
        else:
            u32 = b[3] | (<uint32_t>b[2] << 8) | (<uint32_t>b[1] << 16) | (<uint32_t>b[0] << 24)
        if kind == 12:
            return u32
        if kind == 13:
            return <int32_t>u32
        memcpy(&f32, &u32, 4)
        return <double>f32
    u64 = 0
    for k in range(8):
        u64 |= (<uint64_t>b[k if le else 7 - k]) << (8 * k)
    memcpy(&f64, &u64, 8)
    return f64


cdef object _numbers(int kind, const unsigned char *b, Py_ssize_t n, bint le):
    """A binary VR's value: one number, or a list of up to 64 (as the Python
    converter gives them); _UNSET for anything else."""
    cdef Py_ssize_t size = 2 if kind <= 11 else (8 if kind == 15 else 4), i
    cdef list out
    if n == size:
        return _number_at(kind, b, le)
    if n % size or n > 64 * size:
        return _UNSET
    out = []
    for i in range(0, n, size):
        out.append(_number_at(kind, b + i, le))
    return out


cdef object _fast_value(object vr, const unsigned char *b, Py_ssize_t n, bint le, Tokens tok,
                        fd_record *r):
    """The value of ``vr`` in ``b[:n]`` (record ``r`` of ``tok``) or _UNSET."""
    cdef int kind = _vr_kind(vr)
    cdef Py_ssize_t end
    if kind == 0 or n == 0:
        return _UNSET
    if kind >= 10:
        return _numbers(kind, b, n, le)
    if kind == 7:
        return _ds_value(b, n)
    if kind == 8:
        return _is_value(b, n)
    if kind == 2 and _config_flag("datetime_conversion"):
        return _UNSET
    end = n
    while end > 0 and (b[end - 1] == 0x20 or b[end - 1] == 0):
        end -= 1
    if memchr(b, 0x5C, n) != NULL:  # a backslash: several values
        if kind > 2:
            return _UNSET
        # CS, AS and (as text) DA, DT, TM: split after stripping the end
        mv = _new_of(_MultiValue)
        mv._constructor = _str_type
        mv._list = PyUnicode_DecodeLatin1(<const char *>b, end, NULL).split("\\")
        return mv
    if kind >= 5:
        if _enc_of(tok, r)[0] not in _LATIN1_NAMES or memchr(b, 0x1B, n) != NULL:
            return _UNSET
    if kind == 4:
        if end and (_is_ws(b[0]) or _is_ws(b[end - 1])):
            return _UNSET
        return _new_from(_str_type, _UID, PyUnicode_DecodeLatin1(<const char *>b, end, NULL))
    return PyUnicode_DecodeLatin1(<const char *>b, end, NULL)
