"""Malformed input on purpose.

Every malformed input must raise a specific :class:`fastdicom.errors.DicomError`
subclass with a sane ``offset`` (never crash, hang, IndexError, struct.error,
or a MemoryError caused by a declared length); every successful parse must
keep the record invariants (see ``check_tokens`` in conftest.py).
"""
from __future__ import annotations

import array
import io
import mmap
import os
import random
import resource
import struct
import time

import numpy as np
import pytest

from fastdicom import _core, errors, tokenize

pydicom_data = pytest.importorskip("pydicom.data")

UNDEF = 0xFFFFFFFF
ITEM = 0xFFFEE000
ITEM_DELIM = 0xFFFEE00D
SEQ_DELIM = 0xFFFEE0DD
LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}

PN = 0x00100010  # Patient's Name
PID = 0x00100020  # Patient ID
REF_IMG_SQ = 0x00081140  # Referenced Image Sequence
REF_SER_SQ = 0x00081115  # Referenced Series Sequence
PIXEL = 0x7FE00010


# ---------------------------------------------------------------- builders
def tagb(tag, little=True):
    return struct.pack("<HH" if little else ">HH", tag >> 16, tag & 0xFFFF)


def u32(v, little=True):
    return struct.pack("<L" if little else ">L", v)


def el(tag, vr, value=b"", *, explicit=True, little=True, length=None):
    """One data element; ``length`` overrides the declared length."""
    n = len(value) if length is None else length
    if not explicit:
        return tagb(tag, little) + u32(n, little) + value
    if vr in LONG_VRS:
        return tagb(tag, little) + vr.encode() + b"\0\0" + u32(n, little) + value
    return tagb(tag, little) + vr.encode() + struct.pack("<H" if little else ">H", n) + value


def delim(tag, length=0, little=True):
    return tagb(tag, little) + u32(length, little)


def item(content=b"", *, undefined=False, little=True, length=None):
    if undefined:
        return tagb(ITEM, little) + u32(UNDEF, little) + content + delim(ITEM_DELIM, 0, little)
    n = len(content) if length is None else length
    return tagb(ITEM, little) + u32(n, little) + content


def sq(tag, items=b"", *, undefined=False, explicit=True, little=True, length=None):
    if undefined:
        return el(tag, "SQ", b"", explicit=explicit, little=little, length=UNDEF) + items + delim(
            SEQ_DELIM, 0, little
        )
    return el(tag, "SQ", items, explicit=explicit, little=little, length=length)


def encap(fragments, *, little=True, delimited=True):
    out = el(PIXEL, "OB", b"", little=little, length=UNDEF)
    for f in fragments:
        out += item(f, little=little)
    if delimited:
        out += delim(SEQ_DELIM, 0, little)
    return out


NAME = el(PN, "PN", b"DOE^JOHN")
ID = el(PID, "LO", b"12")
ID_IMPL = el(PID, "LO", b"12", explicit=False)


def raises_at(exc, buf, offset=None, **kw):
    """tokenize(buf) must raise ``exc`` (exactly that class) at ``offset``."""
    with pytest.raises(errors.DicomError) as info:
        tokenize(buf, **kw)
    assert type(info.value) is exc, repr(info.value)
    assert isinstance(info.value, errors.InvalidDicomError)
    assert isinstance(info.value, ValueError)
    off = info.value.offset
    assert off is not None and 0 <= off <= len(buf)
    if offset is not None:
        assert off == offset, (off, offset)
    return info.value


def ok(buf, check_tokens, **kw):
    t = tokenize(buf, **kw)
    check_tokens(t, len(buf))
    return t


def read_testfile(name):
    with open(pydicom_data.get_testdata_file(name), "rb") as f:
        return f.read()


# ------------------------------------------------------- sanity of builders
def test_builders_make_valid_data(check_tokens):
    buf = NAME + sq(REF_IMG_SQ, item(ID) + item(ID, undefined=True), undefined=True) + ID
    t = ok(buf, check_tokens)
    assert [hex(x) for x in t.records["tag"]] == [
        hex(x) for x in (PN, REF_IMG_SQ, ITEM, PID, ITEM, PID, ITEM_DELIM, SEQ_DELIM, PID)
    ]
    assert t.end_offset == len(buf) and t.trailing == 0


# ------------------------------------------------------ lengths: 0xFFFFFFFE
@pytest.mark.parametrize("little", [True, False])
def test_element_length_fffffffe_explicit(little):
    head = el(PN, "PN", b"DOE^", little=little)
    buf = head + el(0x00091010, "OB", b"\0" * 16, little=little, length=0xFFFFFFFE)
    raises_at(errors.BadLengthError, buf, len(head), little_endian=little)


@pytest.mark.parametrize("little", [True, False])
def test_element_length_fffffffe_implicit(little):
    head = el(PN, "PN", b"DOE^", explicit=False, little=little)
    buf = head + el(PID, "LO", b"\0" * 16, explicit=False, little=little, length=0xFFFFFFFE)
    raises_at(errors.BadLengthError, buf, len(head), implicit_vr=True, little_endian=little)


@pytest.mark.parametrize("vr", ["PN", "OB", "UT", "US"])
def test_element_length_one_past_end(vr, check_tokens):
    value = b"ABCD"
    good = NAME + el(0x00211000 if vr in ("OB", "US") else PID, vr, value)
    ok(good, check_tokens)
    bad = NAME + el(0x00211000 if vr in ("OB", "US") else PID, vr, value, length=len(value) + 1)
    raises_at(errors.BadLengthError, bad, len(NAME))


def test_short_length_ffff_past_end():
    raises_at(errors.BadLengthError, NAME + el(PID, "LO", b"AB", length=0xFFFF), len(NAME))


def test_huge_length_inside_item():
    # the element claims more than the item holds, although the buffer is long
    inner = el(PID, "LO", b"AB", length=0xFFF0)
    buf = NAME + sq(REF_IMG_SQ, item(inner), undefined=True) + b"\0" * 0x10000
    raises_at(errors.BadLengthError, buf, len(NAME) + 12 + 8)


@pytest.mark.parametrize("little", [True, False])
@pytest.mark.parametrize("length", [0xFFFFFFFE, 0x7FFFFFFF, 64])
def test_item_length_past_end(little, length):
    head = el(PN, "PN", b"DOE^JOHN", little=little)
    body = item(b"", little=little, length=length) + el(PID, "LO", b"12", little=little)
    buf = head + sq(REF_IMG_SQ, body, undefined=True, little=little)
    raises_at(errors.BadLengthError, buf, len(head) + 12, little_endian=little)


def test_item_longer_than_parent_sequence():
    # sequence holds one 10-byte item but the item claims 20: the buffer has
    # plenty of bytes after, the item must still not run past its sequence.
    it = item(ID)  # 8 + 10
    declared = len(it)
    it_bad = item(ID, length=len(ID) + 10)
    buf = NAME + sq(REF_IMG_SQ, it_bad, length=declared) + el(0x00200010, "SH", b"ABCDEFGHIJ") + ID
    raises_at(errors.BadLengthError, buf, len(NAME) + 12)


def test_element_longer_than_parent_item():
    inner = el(PID, "LO", b"AB", length=12)  # claims 12 but the item holds 10 bytes
    it = item(inner + b"\0" * 0, length=len(inner))
    buf = NAME + sq(REF_IMG_SQ, it, length=len(it)) + b"\0" * 64
    raises_at(errors.BadLengthError, buf, len(NAME) + 12 + 8)


@pytest.mark.parametrize("length", [0xFFFFFFFE, 0xFFFF0000, 1000])
@pytest.mark.parametrize("explicit", [True, False])
def test_sequence_length_past_end(length, explicit):
    head = NAME if explicit else el(PN, "PN", b"DOE^JOHN", explicit=False)
    buf = head + sq(REF_IMG_SQ, item(ID if explicit else ID_IMPL), explicit=explicit, length=length)
    raises_at(errors.BadLengthError, buf, len(head), implicit_vr=not explicit)


def test_sequence_longer_than_parent_item():
    inner_sq = sq(REF_SER_SQ, item(ID), length=100)
    it = item(inner_sq, length=len(inner_sq))
    buf = NAME + sq(REF_IMG_SQ, it, undefined=True) + b"\0" * 200
    raises_at(errors.BadLengthError, buf, len(NAME) + 12 + 8)


@pytest.mark.parametrize("length", [0xFFFFFFFE, 0x80000000, 9])
def test_fragment_length_past_end(length):
    head = NAME + el(PIXEL, "OB", b"", length=UNDEF) + item(b"")
    buf = head + item(b"\1" * 8, length=length)
    raises_at(errors.BadLengthError, buf, len(head))


def test_fragment_undefined_length():
    head = NAME + el(PIXEL, "OB", b"", length=UNDEF) + item(b"")
    buf = head + item(b"\1" * 8, length=UNDEF) + delim(SEQ_DELIM)
    raises_at(errors.BadFragmentError, buf, len(head))


def test_offset_table_undefined_length():
    head = NAME + el(PIXEL, "OB", b"", length=UNDEF)
    raises_at(errors.BadFragmentError, head + item(b"", undefined=True) + delim(SEQ_DELIM), len(head))


def test_encapsulated_ok(check_tokens):
    buf = NAME + encap([b"", b"\1\2\3", b"\4" * 10])
    t = ok(buf, check_tokens)
    f = t.records["flags"]
    assert f[1] & _core.F_ENCAPSULATED and f[1] & _core.F_UNDEFINED
    assert f[2] & _core.F_OFFSET_TABLE and f[2] & _core.F_FRAGMENT
    assert f[3] & _core.F_FRAGMENT and not f[3] & _core.F_OFFSET_TABLE
    assert bytes(t.value(3)) == b"\1\2\3"
    assert f[5] & _core.F_SEQ_DELIM


# ------------------------------------------------------------- truncation
@pytest.mark.parametrize("little", [True, False])
@pytest.mark.parametrize("explicit", [True, False])
def test_truncated_undefined_sequence(little, explicit):
    kw = dict(explicit=explicit, little=little)
    idv = el(PID, "LO", b"12", **kw)
    full = el(PN, "PN", b"DOE^", **kw) + sq(REF_IMG_SQ, item(idv, undefined=True, little=little), undefined=True, **kw)
    opts = dict(implicit_vr=not explicit, little_endian=little)
    tokenize(full, **opts)
    # without its sequence delimiter: the data ends before it
    raises_at(errors.TruncatedDataError, full[:-8], len(full) - 8, **opts)
    # without both delimiters
    raises_at(errors.TruncatedDataError, full[:-16], len(full) - 16, **opts)
    # ends inside the delimiter header
    raises_at(errors.TruncatedDataError, full[:-3], len(full) - 8, **opts)


def test_truncated_undefined_sequence_inside_defined_item():
    inner = sq(REF_SER_SQ, item(ID), undefined=True)[:-8]  # no delimiter
    it = item(inner)
    buf = NAME + sq(REF_IMG_SQ, it) + ID
    # the inner sequence meets the end of its item before its delimiter
    raises_at(errors.TruncatedDataError, buf, len(NAME) + 12 + len(it))


def test_truncated_encapsulated():
    buf = NAME + encap([b"", b"\1\2\3\4"], delimited=False)
    raises_at(errors.TruncatedDataError, buf, len(buf))


def test_truncated_long_header():
    buf = NAME + el(0x00091010, "OB", b"\0" * 4)
    raises_at(errors.TruncatedDataError, buf[: len(NAME) + 10], len(NAME))


def test_empty_and_tiny_inputs(check_tokens):
    for n in range(8):
        t = ok(b"\0" * n, check_tokens)
        assert len(t) == 0 and t.trailing == n and t.end_offset == 0


# --------------------------------------------------------------- nesting
def nested(levels, *, undefined, explicit=True, leaf=None):
    """``levels`` sequences each holding one item holding the next one."""
    leaf = (ID if explicit else ID_IMPL) if leaf is None else leaf
    sqtag = REF_IMG_SQ
    if undefined:
        open_ = el(sqtag, "SQ", b"", explicit=explicit, length=UNDEF) + tagb(ITEM) + u32(UNDEF)
        close = delim(ITEM_DELIM) + delim(SEQ_DELIM)
        return open_ * levels + leaf + close * levels
    heads = []
    inner = len(leaf)
    for _ in range(levels):
        heads.append(tagb(ITEM) + u32(inner))
        inner += 8
        h = el(sqtag, "SQ", b"", explicit=explicit, length=inner)
        heads.append(h)
        inner += len(h)
    return b"".join(reversed(heads)) + leaf


@pytest.mark.parametrize("explicit", [True, False])
@pytest.mark.parametrize("undefined", [True, False])
def test_nesting_10000_default_limit(undefined, explicit):
    buf = nested(10000, undefined=undefined, explicit=explicit)
    e = raises_at(errors.NestingTooDeepError, buf, implicit_vr=not explicit)
    assert 0 < e.offset < 200 * 64


@pytest.mark.parametrize("undefined", [True, False])
def test_nesting_10000_max_depth_32767(undefined, check_tokens):
    levels = 10000
    buf = nested(levels, undefined=undefined)
    t = tokenize(buf, max_depth=32767)
    per_level = 4 if undefined else 2
    assert len(t) == per_level * levels + 1
    r = t.records
    leaf = levels * 2
    assert r["depth"].max() == 2 * levels
    assert r["tag"][leaf] == PID and r["depth"][leaf] == 2 * levels
    assert bytes(t.value(leaf)) == b"12"
    check_tokens(t, len(buf))


@pytest.mark.parametrize("undefined", [True, False])
def test_nesting_beyond_32767(undefined):
    buf = nested(33000, undefined=undefined)
    raises_at(errors.NestingTooDeepError, buf, max_depth=32767)


@pytest.mark.parametrize("max_depth", [1, 2, 7, 64, 200])
@pytest.mark.parametrize("undefined", [True, False])
def test_nesting_limit_is_number_of_sequence_levels(max_depth, undefined, check_tokens):
    t = ok(nested(max_depth, undefined=undefined), check_tokens, max_depth=max_depth)
    assert t.records["depth"].max() == 2 * max_depth
    raises_at(errors.NestingTooDeepError, nested(max_depth + 1, undefined=undefined), max_depth=max_depth)


def test_max_depth_argument_out_of_range():
    with pytest.raises(ValueError):
        tokenize(NAME, max_depth=32768)


def test_nesting_encapsulated_in_deepest_item(check_tokens):
    # encapsulated data inside the deepest allowed item is still readable
    leaf = ID + el(0x00091010, "OB", b"", length=UNDEF) + item(b"ab") + delim(SEQ_DELIM)
    deep = nested(3, undefined=True, leaf=leaf)
    t = ok(deep, check_tokens, max_depth=3)
    assert t.records["flags"][7] & _core.F_ENCAPSULATED
    assert t.records["depth"][8] == 7 and t.records["flags"][8] & _core.F_FRAGMENT
    raises_at(errors.NestingTooDeepError, deep, max_depth=2)


# ----------------------------------------------------- misplaced delimiters
def test_item_delimiter_at_top_level():
    raises_at(errors.DelimiterError, NAME + delim(ITEM_DELIM) + ID, len(NAME))


def test_sequence_delimiter_at_top_level():
    raises_at(errors.DelimiterError, NAME + delim(SEQ_DELIM) + ID, len(NAME))


def test_sequence_delimiter_inside_item():
    head = NAME + el(REF_IMG_SQ, "SQ", b"", length=UNDEF) + tagb(ITEM) + u32(UNDEF) + ID
    buf = head + delim(SEQ_DELIM) + delim(ITEM_DELIM) + delim(SEQ_DELIM)
    raises_at(errors.DelimiterError, buf, len(head))


def test_sequence_delimiter_inside_defined_item():
    it_body = ID + delim(SEQ_DELIM)
    buf = NAME + sq(REF_IMG_SQ, item(it_body), undefined=True)
    raises_at(errors.DelimiterError, buf, len(NAME) + 12 + 8 + len(ID))


def test_item_delimiter_directly_in_sequence():
    head = NAME + el(REF_IMG_SQ, "SQ", b"", length=UNDEF) + item(ID)
    raises_at(errors.DelimiterError, head + delim(ITEM_DELIM) + delim(SEQ_DELIM), len(head))


@pytest.mark.parametrize("which", [ITEM_DELIM, SEQ_DELIM])
@pytest.mark.parametrize("length", [1, 4, 0xFFFFFFFF])
def test_delimiter_with_nonzero_length(which, length):
    head = NAME + el(REF_IMG_SQ, "SQ", b"", length=UNDEF) + tagb(ITEM) + u32(UNDEF) + ID
    if which == ITEM_DELIM:
        buf = head + delim(ITEM_DELIM, length) + delim(SEQ_DELIM) + b"\0" * 8
        raises_at(errors.DelimiterError, buf, len(head))
    else:
        head += delim(ITEM_DELIM)
        buf = head + delim(SEQ_DELIM, length) + b"\0" * 8
        raises_at(errors.DelimiterError, buf, len(head))


def test_delimiter_in_middle_of_defined_item():
    body = ID + delim(ITEM_DELIM) + ID
    buf = NAME + sq(REF_IMG_SQ, item(body))
    raises_at(errors.DelimiterError, buf, len(NAME) + 12 + 8 + len(ID))


def test_delimiter_in_middle_of_defined_sequence():
    body = item(ID) + delim(SEQ_DELIM) + item(ID)
    buf = NAME + sq(REF_IMG_SQ, body) + ID
    raises_at(errors.DelimiterError, buf, len(NAME) + 12 + len(item(ID)))


def test_delimiters_closing_defined_length_containers(check_tokens):
    # tolerated: a delimiter that is the last thing of a defined-length container
    it = item(ID + delim(ITEM_DELIM))
    buf = NAME + sq(REF_IMG_SQ, it + delim(SEQ_DELIM)) + ID
    t = ok(buf, check_tokens)
    assert t.records["tag"].tolist() == [PN, REF_IMG_SQ, ITEM, PID, ITEM_DELIM, SEQ_DELIM, PID]
    assert t.records["parent"].tolist() == [-1, -1, 1, 2, 2, 1, -1]
    assert t.children(1).tolist() == [2]


def test_item_delimiter_in_encapsulated():
    head = NAME + el(PIXEL, "OB", b"", length=UNDEF) + item(b"")
    raises_at(errors.DelimiterError, head + delim(ITEM_DELIM) + delim(SEQ_DELIM), len(head))


# ---------------------------------------------------------- unexpected tags
@pytest.mark.parametrize("undefined", [True, False])
def test_non_item_tag_in_sequence(undefined):
    body = item(ID) + ID + item(ID)
    buf = NAME + sq(REF_IMG_SQ, body, undefined=undefined)
    raises_at(errors.UnexpectedTagError, buf, len(NAME) + 12 + len(item(ID)))


def test_item_at_top_level():
    raises_at(errors.UnexpectedTagError, NAME + item(ID) + ID, len(NAME))


def test_item_directly_in_item():
    head = NAME + el(REF_IMG_SQ, "SQ", b"", length=UNDEF) + tagb(ITEM) + u32(UNDEF)
    raises_at(errors.UnexpectedTagError, head + item(ID) + delim(ITEM_DELIM) + delim(SEQ_DELIM), len(head))


def test_element_in_encapsulated():
    head = NAME + el(PIXEL, "OB", b"", length=UNDEF) + item(b"")
    raises_at(errors.UnexpectedTagError, head + ID + delim(SEQ_DELIM), len(head))


@pytest.mark.parametrize("tag", [0xFFFE0000, 0xFFFE1234, 0xFFFEE00E, 0xFFFEFFFF])
def test_unknown_fffe_tags(tag):
    raises_at(errors.UnexpectedTagError, NAME + delim(tag) + ID, len(NAME))
    head = NAME + el(REF_IMG_SQ, "SQ", b"", length=UNDEF) + tagb(ITEM) + u32(UNDEF) + ID
    raises_at(errors.UnexpectedTagError, head + delim(tag) + delim(ITEM_DELIM) + delim(SEQ_DELIM), len(head))


def test_explicit_item_content_switches_to_implicit(check_tokens):
    # data inside an item may be implicit VR (e.g. under UN): followed, not an error
    body = ID_IMPL
    buf = NAME + sq(REF_IMG_SQ, item(body, undefined=True), undefined=True)
    t = ok(buf, check_tokens)
    assert t.records["flags"][3] & _core.F_IMPLICIT
    assert t.records["vr"][3] == b"LO"


def test_un_sequence_holding_explicit_vr_items(check_tokens):
    # Non-conformant (PS3.5 6.2.2 says implicit VR LE) but pydicom reads it:
    # an undefined-length UN whose items hold explicit VR little endian data.
    body = item(ID + el(0x00100030, "DA", b"20240101"), undefined=True)
    buf = NAME + el(0x00091010, "UN", b"", length=UNDEF) + body + delim(SEQ_DELIM) + el(0x00200010, "SH", b"12")
    t = ok(buf, check_tokens)
    assert t.records["tag"].tolist() == [PN, 0x00091010, ITEM, PID, 0x00100030, ITEM_DELIM, SEQ_DELIM, 0x00200010]


# -------------------------------------------------------- garbage appended
@pytest.fixture(scope="module")
def datasets(dicom_parts):
    out = {}
    for name in ["CT_small.dcm", "JPEG2000.dcm", "reportsi.dcm", "MR_small_bigendian.dcm", "rtplan.dcm"]:
        buf, off, implicit, little, _ = dicom_parts(read_testfile(name))
        out[name] = (buf[off:], dict(implicit_vr=implicit, little_endian=little))
    return out


@pytest.mark.parametrize("name", ["CT_small.dcm", "JPEG2000.dcm", "reportsi.dcm", "MR_small_bigendian.dcm", "rtplan.dcm"])
def test_garbage_after_dataset(name, datasets, check_tokens):
    data, opts = datasets[name]
    full = tokenize(data, **opts)
    n = len(full)
    ref = full.records.tobytes()
    rng = random.Random(name)
    outcomes = set()
    for k in range(1, 8):
        t = tokenize(data + rng.randbytes(k), **opts)
        assert t.trailing == k and t.end_offset == len(data)
        assert t.records.tobytes() == ref
    for _ in range(300):
        junk = rng.randbytes(rng.randint(8, 80))
        buf = data + junk
        try:
            t = tokenize(buf, **opts)
        except errors.DicomError as e:
            assert isinstance(e, errors.InvalidDicomError)
            assert len(data) <= e.offset <= len(buf)
            outcomes.add(type(e).__name__)
            continue
        check_tokens(t, len(buf))
        assert t.records[:n].tobytes() == ref
        outcomes.add("ok")
    assert outcomes  # something happened


# ------------------------------------------------------------ max_records
def test_max_records(datasets, check_tokens):
    data, opts = datasets["CT_small.dcm"]
    full = tokenize(data, **opts)
    n = len(full)
    assert n > 200
    t = tokenize(data, max_records=n, **opts)
    assert len(t) == n
    for k in [1, 2, 16, 17, 63, 64, 65, 128, n - 1]:
        e = raises_at(errors.TooManyElementsError, data, max_records=k, **opts)
        assert e.offset == full.records["header_offset"][k]


def test_max_records_nested(check_tokens):
    buf = nested(50, undefined=True)
    n = len(tokenize(buf))
    for k in range(1, n, 7):
        with pytest.raises(errors.TooManyElementsError):
            tokenize(buf, max_records=k)
    assert len(tokenize(buf, max_records=n)) == n


# ----------------------------------------------------------------- memory
_UNDER_SANITIZER = "asan" in os.environ.get("LD_PRELOAD", "") or "ASAN_OPTIONS" in os.environ


def _small_liars():
    pad = b"\0" * 100
    cases = [
        el(PID, "LO", b"", explicit=False, length=0xFFFFFFF0),
        el(0x00091010, "OB", b"", length=0xFFFFFFFE),
        el(0x00091010, "UN", b"", length=0xFFFFFFFD),
        NAME + sq(REF_IMG_SQ, b"", length=0xFFFFFFFE),
        NAME + el(REF_IMG_SQ, "SQ", b"", length=UNDEF) + item(b"", length=0xFFFFFFF0),
        NAME + el(PIXEL, "OB", b"", length=UNDEF) + item(b"") + item(b"", length=0xFFFFFFF8),
        NAME + el(REF_IMG_SQ, "SQ", b"", length=UNDEF) + tagb(ITEM) + u32(UNDEF) + el(PID, "UT", b"", length=0xFFFFFFFE),
        (el(REF_IMG_SQ, "SQ", b"", length=UNDEF) + tagb(ITEM) + u32(UNDEF)) * 5,
    ]
    return [(c + pad)[:100] for c in cases]


def test_small_input_claiming_huge_lengths_allocates_little():
    cases = _small_liars()
    for c in cases:
        for md in (64, 32767):
            with pytest.raises(errors.InvalidDicomError):
                tokenize(c, max_depth=md)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    t0 = time.perf_counter()
    for _ in range(1000):
        for c in cases:
            try:
                tokenize(c)
            except errors.InvalidDicomError:
                pass
            try:
                tokenize(c, implicit_vr=True, little_endian=False, max_depth=32767)
            except errors.InvalidDicomError:
                pass
    elapsed = time.perf_counter() - t0
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    if not _UNDER_SANITIZER:  # ASan's quarantine keeps freed blocks resident
        assert grown < 64 * 1024, f"peak RSS grew by {grown} KiB"
    assert elapsed < 30, elapsed


def test_records_memory_bounded_by_input():
    # 1 MB of zero-length elements: each record costs 8 input bytes at least
    buf = b"".join(el(0x00090000 | (i & 0xFFFF) , "LO", b"") for i in range(1 << 17))
    t = tokenize(buf, detect_vr=False)
    assert len(t) == 1 << 17
    assert t.records.nbytes == 48 * len(t)


# ------------------------------------------------------------ buffer types
def test_buffer_types_give_identical_records(tmp_path, check_tokens, dicom_parts):
    data = read_testfile("JPEG2000.dcm")
    off = dicom_parts(data)[1]
    ref = tokenize(data, off)
    check_tokens(ref, len(data))
    ref_bytes = ref.records.tobytes()
    ref_values = [bytes(ref.value(i)) for i in range(len(ref))]
    assert len(ref) > 100

    prefixed = b"\x55" * 7 + data
    arr16 = np.frombuffer(data + b"\0" * (len(data) % 2), dtype=np.uint16)
    candidates = {
        "bytes": data,
        "bytearray": bytearray(data),
        "memoryview": memoryview(data),
        "memoryview_slice": memoryview(prefixed)[7:],
        "memoryview_bytearray_slice": memoryview(bytearray(prefixed))[7:],
        "numpy_uint8": np.frombuffer(data, dtype=np.uint8),
        "numpy_uint8_copy": np.array(bytearray(data), dtype=np.uint8),
        "numpy_slice": np.frombuffer(prefixed, dtype=np.uint8)[7:],
        "array": array.array("B", data),
    }
    for name, obj in candidates.items():
        t = tokenize(obj, off)
        assert t.records.tobytes() == ref_bytes, name
        assert [bytes(t.value(i)) for i in range(len(t))] == ref_values, name
    # numpy of a wider dtype or more dimensions: the same bytes
    arr2d = np.frombuffer(data + b"\0" * (-len(data) % 4), dtype=np.uint8).reshape(-1, 4)
    for obj in (arr16, arr2d):
        t = tokenize(obj, off)
        assert t.records.tobytes() == ref_bytes
        assert [bytes(t.value(i)) for i in range(len(t))] == ref_values
    # mmap of a file
    p = tmp_path / "f.dcm"
    p.write_bytes(data)
    with open(p, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        t = tokenize(mm, off)
        assert t.records.tobytes() == ref_bytes
        assert [bytes(t.value(i)) for i in range(len(t))] == ref_values
        del t
        mm.close()


def test_non_contiguous_buffers_rejected_cleanly():
    data = read_testfile("JPEG2000.dcm")
    with pytest.raises((BufferError, ValueError, TypeError)):
        tokenize(memoryview(data)[::2])
    with pytest.raises((BufferError, ValueError, TypeError)):
        tokenize(np.frombuffer(data, dtype=np.uint8)[::3])
    with pytest.raises(TypeError):
        tokenize("not a buffer")


def test_offset_argument():
    with pytest.raises(ValueError):
        tokenize(NAME, len(NAME) + 1)
    with pytest.raises((ValueError, OverflowError)):
        tokenize(NAME, -1)
    t = tokenize(NAME, len(NAME))
    assert len(t) == 0


# ----------------------------------------- every file, every encoding guess
def _small_test_files():
    import glob

    base = os.path.dirname(pydicom_data.get_testdata_file("CT_small.dcm"))
    out = []
    for p in sorted(glob.glob(os.path.join(base, "*.dcm"))):
        if os.path.getsize(p) <= 64 * 1024:
            out.append(p)
    return out


def test_all_small_files_every_encoding(check_tokens, dicom_parts):
    files = _small_test_files()
    assert len(files) > 30
    combos = [(i, l, d) for i in (False, True) for l in (False, True) for d in (False, True)]
    for p in files:
        with open(p, "rb") as f:
            data = f.read()
        offsets = {0, 128, 132}
        try:
            buf, off, *_ = dicom_parts(data)
            offsets.add(off)
        except (ValueError, struct.error):
            buf = data
        for off in sorted(o for o in offsets if o <= len(buf)):
            for implicit, little, detect in combos:
                try:
                    t = tokenize(buf, off, implicit_vr=implicit, little_endian=little, detect_vr=detect)
                except errors.DicomError as e:
                    assert isinstance(e, errors.InvalidDicomError), (p, e)
                    assert off <= e.offset <= len(buf), (p, e)
                    continue
                check_tokens(t, len(buf))


# ----------------------------------------------- truncation at every byte
TRUNCATION_FILES = [
    "CT_small.dcm",  # explicit LE, defined-length sequences
    "liver_1frame.dcm",  # explicit LE, undefined-length sequences, 8 deep
    "reportsi.dcm",  # explicit LE, undefined-length sequences
    "test-SR.dcm",  # explicit LE, 10 deep
    "MR_small_bigendian.dcm",  # explicit BE
    "rtdose_expb_1frame.dcm",  # explicit BE with sequences
    "JPEG2000.dcm",  # encapsulated pixel data + undefined sequences
    "SC_rgb_rle.dcm",  # encapsulated, RLE
    "rtplan.dcm",  # implicit LE, sequences
    "nested_priv_SQ.dcm",  # implicit LE, unknown private undefined-length sequences
    "UN_sequence.dcm",  # explicit VR UN holding implicit VR LE sequences
    "image_dfl.dcm",  # deflated (inflated here)
]


def predict_cut(rec, c):
    """What tokenizing the prefix [0, c) of the fully tokenized data must give.

    The walk is sequential: the first record whose header is cut or whose
    defined length runs past ``c`` fails; a cut header at the top level is
    trailing padding; otherwise undefined-length containers still open at
    ``c`` mean the data ended before a delimiter.
    """
    hdr, hlen, defined, vend, undef, nxt, depth = rec
    i = int(np.searchsorted(hdr, c, side="left"))  # records whose header starts before c
    bad = np.flatnonzero(defined[:i] & (vend[:i] > c))
    first_bad = int(bad[0]) if len(bad) else None
    if i > 0:
        j = i - 1
        if c < hdr[j] + hlen[j] and (first_bad is None or first_bad >= j):
            if depth[j] == 0 and c - hdr[j] < 8:
                return ("ok", j, c - int(hdr[j]))
            return (errors.TruncatedDataError, int(hdr[j]))
    if first_bad is not None:
        return (errors.BadLengthError, int(hdr[first_bad]))
    if np.any(undef[:i] & (nxt[:i] > i)):
        return (errors.TruncatedDataError, c)
    return ("ok", i, 0)


def cut_points(start, size, last_header):
    """Every offset through the last header plus 2 KB, then a stride."""
    dense_end = min(size, last_header + 2048)
    return list(range(start, dense_end + 1)) + list(range(dense_end + 1, size + 1, 61)) + [size]


@pytest.mark.parametrize("name", TRUNCATION_FILES)
def test_truncation_at_every_offset(name, dicom_parts, check_tokens):
    buf, off, implicit, little, _ = dicom_parts(read_testfile(name))
    opts = dict(implicit_vr=implicit, little_endian=little)
    full = tokenize(buf, off, **opts)
    check_tokens(full, len(buf))
    r = full.records
    n = len(r)
    assert full.end_offset == len(buf)
    ref = r.tobytes()
    flags = r["flags"]
    undef = (flags & _core.F_UNDEFINED) != 0
    rec = (
        r["header_offset"].astype(np.int64),
        (r["value_offset"] - r["header_offset"]).astype(np.int64),
        ~undef,
        (r["value_offset"] + r["value_length"]).astype(np.int64),
        undef,
        r["next"].astype(np.int64),
        r["depth"],
    )
    seen = {}
    last = int(r["header_offset"][-1])
    for c in cut_points(off, len(buf), last):
        want = predict_cut(rec, c)
        part = buf[:c]
        try:
            t = tokenize(part, off, **opts)
        except errors.DicomError as e:
            assert want[0] is type(e), (name, c, want, repr(e))
            assert e.offset == want[1], (name, c, want, e.offset)
            seen[type(e).__name__] = seen.get(type(e).__name__, 0) + 1
            continue
        assert want[0] == "ok", (name, c, want, len(t))
        k = want[1]
        assert len(t) == k, (name, c, k, len(t))
        assert t.trailing == want[2], (name, c)
        assert t.end_offset + t.trailing == c, (name, c)
        assert t.records.tobytes() == ref[: 48 * k], (name, c)
        seen["ok"] = seen.get("ok", 0) + 1
    assert seen.get("ok", 0) >= 1
    assert sum(seen.values()) == len(cut_points(off, len(buf), last))
    if undef[r["depth"] == 0].any():
        # a truncated undefined-length sequence must be reported as truncated
        assert seen.get("TruncatedDataError", 0) > 0, seen
    assert n > 0


def test_truncated_undefined_sequence_real_file(dicom_parts):
    buf, off, implicit, little, _ = dicom_parts(read_testfile("reportsi.dcm"))
    full = tokenize(buf, off, implicit_vr=implicit, little_endian=little)
    r = full.records
    tops = np.flatnonzero((r["depth"] == 0) & ((r["flags"] & _core.F_UNDEFINED) != 0) & ((r["flags"] & _core.F_SEQUENCE) != 0))
    assert len(tops)
    for i in tops:
        delim_hdr = int(r["header_offset"][r["next"][i] - 1])
        assert r["tag"][r["next"][i] - 1] == SEQ_DELIM
        for c in (delim_hdr, delim_hdr + 4, delim_hdr + 7):
            with pytest.raises(errors.TruncatedDataError) as info:
                tokenize(buf[:c], off, implicit_vr=implicit, little_endian=little)
            assert info.value.offset == delim_hdr


# ------------------------------------------------- file level: dcmread
DCMREAD_FILES = ["CT_small.dcm", "JPEG2000.dcm", "MR_small_bigendian.dcm", "rtplan.dcm", "image_dfl.dcm", "reportsi.dcm"]


def _tokens_size(tok):
    return memoryview(tok.obj).nbytes


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", DCMREAD_FILES)
def test_dcmread_truncated_file(name, fd_dcmread, check_tokens):
    data = read_testfile(name)
    ds = fd_dcmread(io.BytesIO(data))
    check_tokens(ds.tokens, _tokens_size(ds.tokens))
    cuts = list(range(0, min(len(data), 1200))) + list(range(1200, len(data), 53))
    for c in cuts:
        for force in (False, True):
            try:
                ds = fd_dcmread(io.BytesIO(data[:c]), force=force)
            except errors.DicomError:
                continue
            check_tokens(ds.tokens, _tokens_size(ds.tokens))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_dcmread_not_dicom(fd_dcmread):
    for junk in (b"", b"\0" * 10, b"\0" * 131, b"\0" * 128 + b"DICN" + b"\0" * 64, b"hello world" * 20):
        with pytest.raises(errors.DicomError):
            fd_dcmread(io.BytesIO(junk))
