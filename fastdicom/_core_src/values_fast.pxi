# Values of the most common VRs converted in C, bit for bit what the Python
# converters in fastdicom/values.py give. Anything unusual (several values,
# escape sequences, other character sets, whitespace to strip, odd lengths)
# returns _UNSET and takes the Python path.
from cpython.unicode cimport PyUnicode_DecodeLatin1
from libc.string cimport memchr, memcpy
from libc.stdint cimport int16_t

cdef dict _FAST_KIND = {
    "CS": 1, "AS": 1, "DA": 2, "DT": 2, "TM": 2, "UI": 4, "DS": 7, "IS": 8,
    "SH": 5, "LO": 5, "UC": 5, "ST": 6, "LT": 6, "UT": 6,
    "US": 10, "SS": 11, "UL": 12, "SL": 13, "FL": 14, "FD": 15,
}
cdef object _LATIN1_NAMES = frozenset(["iso8859", "latin_1"])
cdef object _UID = None
cdef object _str_new = str.__new__
cdef object _float_new = float.__new__
cdef object _object_new = object.__new__
cdef object _config = None
cdef object _DSfloat = None
cdef object _IS = None
cdef object _MultiValue = None


def configure_values(uid_class, config_module, dsfloat_class, is_class, multivalue_class):
    global _UID, _config, _DSfloat, _IS, _MultiValue
    _UID = uid_class
    _config = config_module
    _DSfloat = dsfloat_class
    _IS = is_class
    _MultiValue = multivalue_class


cdef object _ds_one(str part):
    """DSfloat of one value's text, or _UNSET when the Python path must decide."""
    try:
        v = _float_new(_DSfloat, part)
    except ValueError:
        return _UNSET
    v.original_string = part.strip()
    v.auto_format = False
    return v


cdef object _ds_value(const unsigned char *b, Py_ssize_t n):
    cdef Py_ssize_t i
    cdef list items
    if _config.use_DS_decimal:
        return _UNSET
    for i in range(n):
        if b[i] >= 0x80:
            return _UNSET
    s = PyUnicode_DecodeLatin1(<const char *>b, n, NULL).strip().rstrip(" \x00")
    if "\\" not in s:
        return _ds_one(s)
    items = []
    for part in s.split("\\"):
        v = _ds_one(part)
        if v is _UNSET:
            return _UNSET
        items.append(v)
    mv = _object_new(_MultiValue)
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
        v = _int_new(_IS, s)
    except ValueError:
        return _UNSET
    v.original_string = s.strip()
    return v


cdef inline bint _is_ws(unsigned char c):
    # characters str.strip() would remove, in latin-1
    return c == 0x20 or (0x09 <= c <= 0x0D) or (0x1C <= c <= 0x1F) or c == 0x85 or c == 0xA0


cdef object _fast_value(object vr, bytes raw, bint le, object enc):
    cdef PyObject *p = PyDict_GetItem(_FAST_KIND, vr)
    cdef int kind
    cdef const unsigned char *b = raw
    cdef Py_ssize_t n = len(raw), end
    cdef uint32_t u32
    cdef uint64_t u64
    cdef float f32
    cdef double f64
    if p == NULL or n == 0:
        return _UNSET
    kind = <int>(<object>p)
    if kind >= 10:
        if kind == 10 and n == 2:
            return (b[0] | (b[1] << 8)) if le else ((b[0] << 8) | b[1])
        if kind == 11 and n == 2:
            return <int16_t>((b[0] | (b[1] << 8)) if le else ((b[0] << 8) | b[1]))
        if (kind == 12 or kind == 13 or kind == 14) and n == 4:
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
        if kind == 15 and n == 8:
            u64 = 0
            for end in range(8):
                u64 |= (<uint64_t>b[end if le else 7 - end]) << (8 * end)
            memcpy(&f64, &u64, 8)
            return f64
        return _UNSET
    if kind == 7:
        return _ds_value(b, n)
    if kind == 8:
        return _is_value(b, n)
    if memchr(b, 0x5C, n) != NULL:  # a backslash: several values
        return _UNSET
    if kind >= 5:
        if enc[0] not in _LATIN1_NAMES or memchr(b, 0x1B, n) != NULL:
            return _UNSET
    elif kind == 2 and _config.datetime_conversion:
        return _UNSET
    end = n
    while end > 0 and (b[end - 1] == 0x20 or b[end - 1] == 0):
        end -= 1
    if kind == 4:
        if end and (_is_ws(b[0]) or _is_ws(b[end - 1])):
            return _UNSET
        return _str_new(_UID, PyUnicode_DecodeLatin1(<const char *>b, end, NULL))
    return PyUnicode_DecodeLatin1(<const char *>b, end, NULL)
