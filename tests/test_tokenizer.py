"""Unit tests of the tokenizer on hand-built data: records, flags, nesting,
navigation, encodings, stop conditions and thread safety."""
from __future__ import annotations

import mmap
import threading

import numpy as np
import pytest
from dicombytes import UNDEF, delim, elem, encapsulated, item, seq

import fastdicom
from fastdicom import _core
from fastdicom.errors import NestingTooDeepError, UnexpectedTagError


def walk(tok):
    r = tok.records
    return [(int(x["tag"]), x["vr"].decode(), int(x["depth"]), int(x["parent"])) for x in r]


def test_flat_explicit_le_records():
    data = elem(0x00080016, "UI", b"1.2\0") + elem(0x00100010, "PN", b"DOE^J ") + elem(0x00280010, "US", b"\x00\x02")
    tok = fastdicom.tokenize(data)
    assert len(tok) == 3
    r = tok.records
    assert list(r["tag"]) == [0x00080016, 0x00100010, 0x00280010]
    assert list(r["vr"]) == [b"UI", b"PN", b"US"]
    assert list(r["header_offset"]) == [0, 12, 26]
    assert list(r["value_offset"]) == [8, 20, 34]
    assert list(r["value_length"]) == [4, 6, 2]
    assert list(r["next"]) == [1, 2, 3]
    assert list(r["parent"]) == [-1, -1, -1]
    assert bytes(tok.value(1)) == b"DOE^J "
    assert tok.end_offset == len(data)
    assert r.dtype == _core.RECORD_DTYPE and r.dtype.itemsize == 48


def test_long_length_vrs_use_four_byte_lengths():
    for vr in ["OB", "OD", "OF", "OL", "OV", "OW", "SV", "UC", "UN", "UR", "UT", "UV"]:
        data = elem(0x00091001 if vr == "UN" else 0x00420011, vr, b"x" * 70000)
        tok = fastdicom.tokenize(data)
        assert int(tok.records["value_length"][0]) == 70000, vr
        assert int(tok.records["value_offset"][0]) == 12, vr


def test_implicit_vr_takes_vr_from_dictionary():
    data = (elem(0x00100010, "", b"DOE ", explicit=False) + elem(0x00280010, "", b"\0\2", explicit=False)
            + elem(0x00091010, "", b"abcd", explicit=False) + elem(0x00090010, "", b"ACME", explicit=False)
            + elem(0x00280106, "", b"\0\0", explicit=False) + elem(0x60020010, "", b"\0\2", explicit=False))
    tok = fastdicom.tokenize(data, implicit_vr=True)
    r = tok.records
    assert [v.decode() for v in r["vr"]] == ["PN", "US", "UN", "LO", "xs", "US"]
    assert all(int(f) & _core.F_IMPLICIT and int(f) & _core.F_VR_DICT for f in r["flags"])
    assert int(r["flags"][2]) & _core.F_VR_UNKNOWN
    assert not int(r["flags"][0]) & _core.F_VR_UNKNOWN


@pytest.mark.parametrize("undefined_seq", [False, True])
@pytest.mark.parametrize("undefined_item", [False, True])
@pytest.mark.parametrize("explicit,little", [(False, True), (True, True), (True, False)],
                         ids=["implicit-le", "explicit-le", "explicit-be"])
def test_nested_sequences_all_length_kinds(undefined_seq, undefined_item, explicit, little):
    kw = dict(explicit=explicit, little=little)
    inner = seq(0x0040A730,
                [item(elem(0x0040A040, "CS", b"TEXT", **kw), undefined=undefined_item, little=little)],
                undefined=undefined_seq, **kw)
    outer = seq(0x00081140, [item(elem(0x00081150, "UI", b"1.2\0", **kw) + inner, undefined=undefined_item, little=little),
                             item(b"", undefined=undefined_item, little=little)],
                undefined=undefined_seq, **kw)
    data = elem(0x00080060, "CS", b"CT", **kw) + outer + elem(0x00100010, "PN", b"X ", **kw)
    tok = fastdicom.tokenize(data, implicit_vr=not explicit, little_endian=little)
    r = tok.records
    structural = [(t, d) for t, _, d, _ in walk(tok)]
    expected = [(0x00080060, 0), (0x00081140, 0), (0xFFFEE000, 1), (0x00081150, 2), (0x0040A730, 2),
                (0xFFFEE000, 3), (0x0040A040, 4)]
    if undefined_item:
        expected.append((0xFFFEE00D, 4))
    if undefined_seq:
        expected.append((0xFFFEE0DD, 3))
    if undefined_item:
        expected.append((0xFFFEE00D, 2))
    expected.append((0xFFFEE000, 1))
    if undefined_item:
        expected.append((0xFFFEE00D, 2))
    if undefined_seq:
        expected.append((0xFFFEE0DD, 1))
    expected.append((0x00100010, 0))
    assert structural == expected
    # skip-to-next-sibling: the whole sequence in one step
    assert tok.next(1) == len(tok) - 1
    assert list(tok.children(-1)) == [0, 1, len(tok) - 1]
    items = tok.children(1)
    assert len(items) == 2
    assert all(int(r["flags"][i]) & _core.F_ITEM for i in items)
    assert int(r["flags"][1]) & _core.F_SEQUENCE
    assert bool(int(r["flags"][1]) & _core.F_UNDEFINED) == undefined_seq
    # value_length of an undefined sequence spans its items, up to the delimiter
    seq_len = int(r["value_length"][1])
    assert seq_len == len(outer) - (12 if explicit else 8) - (8 if undefined_seq else 0)
    assert tok.find(0x00100010) == len(tok) - 1
    assert tok.find(0x0040A730, int(items[0])) == 4
    assert tok.find(0x00200020) == -1
    assert bytes(tok.value(tok.find(0x0040A040, 5))) == b"TEXT"


def test_encapsulated_pixel_data_offset_table_and_fragments():
    data = elem(0x00280010, "US", b"\0\2") + encapsulated([b"abcd", b"efgh12"], offsets=b"\0\0\0\0\x0c\0\0\0")
    tok = fastdicom.tokenize(data)
    r = tok.records
    assert int(r["flags"][1]) & _core.F_ENCAPSULATED and int(r["flags"][1]) & _core.F_UNDEFINED
    frags = tok.children(1)
    assert len(frags) == 3
    assert int(r["flags"][frags[0]]) & _core.F_OFFSET_TABLE
    assert all(int(r["flags"][f]) & _core.F_FRAGMENT for f in frags)
    assert [bytes(tok.value(int(f))) for f in frags] == [b"\0\0\0\0\x0c\0\0\0", b"abcd", b"efgh12"]
    assert tok.next(1) == len(tok)


def test_undefined_length_un_is_an_implicit_le_sequence():
    inner = item(elem(0x00100010, "", b"DOE ", explicit=False), undefined=True)
    data = seq(0x00091010, [inner], undefined=True, vr="UN") + elem(0x00100020, "LO", b"ID")
    tok = fastdicom.tokenize(data)
    r = tok.records
    assert int(r["flags"][0]) & _core.F_UN_SEQUENCE and int(r["flags"][0]) & _core.F_SEQUENCE
    i = tok.find(0x00100010, int(tok.children(0)[0]))
    assert r["vr"][i] == b"PN" and int(r["flags"][i]) & _core.F_IMPLICIT
    assert tok.find(0x00100020) == len(tok) - 1


def test_defined_length_un_with_sequence_in_dictionary_is_a_sequence():
    inner = item(elem(0x00080100, "", b"113691", explicit=False))
    data = seq(0x00189346, [inner], vr="UN")
    tok = fastdicom.tokenize(data)
    assert int(tok.records["flags"][0]) & _core.F_UN_SEQUENCE
    assert tok.records["vr"][tok.find(0x00080100, 1)] == b"SH"


def test_delimiter_closing_a_defined_length_item_and_sequence():
    content = elem(0x00100010, "PN", b"X ") + delim(0xFFFEE00D)
    body = item(content) + delim(0xFFFEE0DD)
    data = elem(0x00081140, "SQ", body)
    tok = fastdicom.tokenize(data)
    assert [t for t, *_ in walk(tok)] == [0x00081140, 0xFFFEE000, 0x00100010, 0xFFFEE00D, 0xFFFEE0DD]
    assert tok.next(0) == 5


def test_stop_before_pixels_and_stop_after_tag():
    data = (elem(0x00080016, "UI", b"1\0") + elem(0x00280010, "US", b"\0\2")
            + elem(0x7FE00010, "OW", b"\0" * 16) + elem(0xFFFAFFFA, "SQ", b""))
    tok = fastdicom.tokenize(data, stop_before_pixels=True)
    assert len(tok) == 2 and tok.stop_reason == _core.STOP_PIXELS
    assert tok.end_offset == len(elem(0x00080016, "UI", b"1\0") + elem(0x00280010, "US", b"\0\2"))
    tok = fastdicom.tokenize(data, stop_after_tag=0x00100000)
    assert len(tok) == 1 and tok.stop_reason == _core.STOP_AFTER_TAG
    tok = fastdicom.tokenize(data)
    assert len(tok) == 4 and tok.stop_reason == _core.STOP_NONE
    # float pixel data too
    data2 = elem(0x00280010, "US", b"\0\2") + elem(0x7FE00008, "OF", b"\0" * 8)
    assert len(fastdicom.tokenize(data2, stop_before_pixels=True)) == 1


def test_stops_only_at_top_level():
    nested = seq(0x00081140, [item(elem(0x7FE00010, "OB", b"ab"))])
    data = nested + elem(0x7FE00010, "OB", b"cd")
    tok = fastdicom.tokenize(data, stop_before_pixels=True)
    assert [t for t, *_ in walk(tok)] == [0x00081140, 0xFFFEE000, 0x7FE00010]


def test_only_group():
    data = elem(0x00020000, "UL", b"\0\0\0\0") + elem(0x00020010, "UI", b"1.2\0") + elem(0x00080016, "UI", b"1\0")
    tok = fastdicom.tokenize(data, only_group=2)
    assert len(tok) == 2 and tok.stop_reason == _core.STOP_GROUP and tok.end_offset == 24


def test_detects_implicit_data_declared_explicit():
    data = elem(0x00100010, "", b"DOE ", explicit=False)
    tok = fastdicom.tokenize(data)
    assert not tok.root_explicit_vr and tok.records["vr"][0] == b"PN"
    # without detection, the element with a non-letter VR is still read as
    # implicit (one element at a time, as pydicom does)
    tok = fastdicom.tokenize(data, detect_vr=False)
    assert tok.root_explicit_vr and int(tok.records["flags"][0]) & _core.F_IMPLICIT


def test_trailing_bytes_too_short_for_a_header():
    data = elem(0x00100010, "PN", b"X ") + b"\0\0\0"
    tok = fastdicom.tokenize(data)
    assert len(tok) == 1 and tok.trailing == 3


def test_depth_limit():
    data = elem(0x00100010, "PN", b"X ")
    for _ in range(10):
        data = seq(0x00081140, [item(data)])
    assert len(fastdicom.tokenize(data, max_depth=10)) == 21
    with pytest.raises(NestingTooDeepError):
        fastdicom.tokenize(data, max_depth=9)


def test_item_outside_sequence_and_element_inside_sequence():
    with pytest.raises(UnexpectedTagError) as info:
        fastdicom.tokenize(item(b""))
    assert info.value.offset == 0
    bad = elem(0x00081140, "SQ", elem(0x00100010, "PN", b"X "))
    with pytest.raises(UnexpectedTagError) as info:
        fastdicom.tokenize(bad)
    assert info.value.offset == 12


def test_any_buffer_zero_copy():
    data = elem(0x00080016, "UI", b"1.2\0") + seq(0x00081140, [item(elem(0x00100010, "PN", b"X "))], undefined=True)
    expected = fastdicom.tokenize(data).records.tobytes()
    arr = np.frombuffer(data, dtype=np.uint8)
    m = mmap.mmap(-1, len(data))
    m.write(data)
    for buf in (data, bytearray(data), memoryview(data), arr, m):
        tok = fastdicom.tokenize(buf)
        assert tok.records.tobytes() == expected
        assert tok.obj is buf
    # the value is a view of the caller's buffer
    ba = bytearray(data)
    tok = fastdicom.tokenize(ba)
    v = tok.value(0)
    assert v.obj is ba or bytes(v) == b"1.2\0"
    del tok, v
    m.close()
    # offset into a larger buffer
    tok = fastdicom.tokenize(b"\xff" * 7 + data, 7)
    assert int(tok.records["header_offset"][0]) == 7


def test_records_are_a_view_not_a_copy():
    tok = fastdicom.tokenize(elem(0x00100010, "PN", b"X "))
    r = tok.records
    assert r.base is not None and not r.flags.writeable


def test_many_threads_give_the_same_tables():
    parts = [elem(0x00080016, "UI", b"1.2\0")]
    for i in range(200):
        parts.append(seq(0x00081140 + 0, [item(elem(0x00100010, "PN", b"X " * (i % 7 + 1)), undefined=i % 2 == 0)],
                         undefined=i % 3 == 0))
    data = b"".join(parts[:1]) + b"".join(
        seq(0x00081140, [item(p, undefined=True)], undefined=True) for p in parts[1:]
    )
    data = elem(0x00080016, "UI", b"1.2\0") + seq(0x00081140, [item(b"".join(parts[1:]))])
    expected = fastdicom.tokenize(data).records.tobytes()
    results = []

    def work():
        for _ in range(200):
            results.append(fastdicom.tokenize(data).records.tobytes() == expected)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 1600 and all(results)


def test_dictionary_vr_table():
    assert _core.dictionary_vr(0x00100010) == "PN"
    assert _core.dictionary_vr(0x7FE00010) == "ox"
    assert _core.dictionary_vr(0x60120010) == "US"  # repeating group 60xx
    assert _core.dictionary_vr(0x00091010) == ""
    assert _core.dictionary_vr(0x00190010) == "LO"  # private creator
    assert _core.dictionary_vr(0x00280000) == "UL"  # group length
    assert _core.dictionary_vr(0x00290000) == ""  # a private group's length: unknown (UN)
