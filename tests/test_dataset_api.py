"""The pydicom reading API of fastdicom's datasets, checked against pydicom.

Each API point is exercised on the same input with both libraries and the
results compared: access by keyword/tag/tuple, ``get``/``in``/``len``,
iteration, ``keys``/``values``/``items``, ``dir``, ``walk``/``iterall``,
slicing and ``group_dataset``, private blocks, ``top``; the element properties;
``Tag``; sequences; ``specific_tags``/``stop_before_pixels``; editing (which
must never touch the data read: neither the file on disk nor a caller's
buffer); and the DA/DT/TM conversion switch.
"""
from __future__ import annotations

import copy
import gc
import hashlib
import os
import warnings

import numpy as np
import pydicom
import pydicom.config
import pydicom.datadict
import pytest
from corpus import corpus_id
from pydicom.data import get_testdata_file
from test_differential_dataset import READABLE, compare_values, names_agree, strip_name
from test_differential_tokenizer import read_pydicom

import fastdicom
import fastdicom.config
import fastdicom.datadict
from fastdicom import DataElement, Dataset, Sequence, Tag

# -- helpers --------------------------------------------------------------------------

MISSING = object()

#: keys probed with ``in`` and ``get`` on every dataset (present in some, absent in others)
PROBES = [
    "PatientName", "PixelData", "BeamSequence", "SOPInstanceUID", "SpecificCharacterSet",
    "NotAKeyword", "patientname", 0x00100010, (0x7FE0, 0x0010), 0x00080005, Tag(0x00200013),
    0x00091001, (0x0043, 0x0010), 0xFFFFFFFF,
]

BYTES_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "UN"}


def datafile(name: str) -> str:
    path = get_testdata_file(name)
    assert path is not None, name
    return path


def read_both_file(name_or_path: str, **kw):
    path = name_or_path if os.path.isabs(name_or_path) else datafile(name_or_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw.setdefault("force", True)  # e.g. rtstruct.dcm has no preamble
        return fastdicom.dcmread(path, **kw), pydicom.dcmread(path, **kw)


def read_corpus_pair(path, **kw):
    """(ours, theirs) for a corpus file, or (None, None) if pydicom refuses it."""
    theirs, force = read_pydicom(path, **kw)
    if isinstance(theirs, Exception):
        return None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fastdicom.dcmread(path, force=force, **kw), pydicom.dcmread(path, force=force, **kw)


def dataset_pairs(o, t, where="top"):
    """(ours, theirs, label) for the dataset and every sequence item at every depth."""
    yield o, t, where
    for te in t:
        if te.VR == "SQ":
            oseq = o[te.tag].value
            assert len(oseq) == len(te.value), f"{where} {te.tag}: number of items"
            for k, (oi, ti) in enumerate(zip(oseq, te.value)):
                yield from dataset_pairs(oi, ti, f"{where} {te.tag}[{k}]")


def element_pairs(o, t):
    for od, td, where in dataset_pairs(o, t):
        for te in td:
            yield od[te.tag], te, f"{where} {te.tag}"


def int_keys(ds) -> list[int]:
    return [int(k) for k in ds.keys()]


def dump_lines(ds, top=False) -> list[str]:
    text = ds.top() if top else str(ds)
    return [strip_name(line) for line in text.splitlines()]


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def retired_agree(o, t) -> bool:
    """``is_retired`` is equal, but where the dictionaries differ: ours is
    PS3.6-2026b, pydicom 3.0's older (e.g. Ethnic Group, retired since)."""
    if o.is_retired == t.is_retired:
        return True
    return (pydicom.datadict.dictionary_has_tag(t.tag)
            and fastdicom.datadict.dictionary_is_retired(o.tag) == o.is_retired
            and pydicom.datadict.dictionary_is_retired(t.tag) == t.is_retired)


def same_value(a, b, label):
    if isinstance(b, pydicom.Sequence):
        assert isinstance(a, Sequence), label
        assert len(a) == len(b), label
    else:
        compare_values(a, b, label)


# -- access: every dataset of every corpus file ---------------------------------------

def check_access(o, t, where):
    assert isinstance(o, Dataset), where
    assert len(o) == len(t), where
    # iteration: DataElements in tag order
    elems = list(o)
    assert all(isinstance(e, DataElement) for e in elems), where
    assert [int(e.tag) for e in elems] == [int(e.tag) for e in t], where
    tags = [e.tag for e in elems]
    assert tags == sorted(tags), where
    # keys/values/items
    keys = list(o.keys())
    assert all(isinstance(k, Tag) for k in keys), where
    assert keys == tags, where
    assert sorted(int_keys(o)) == sorted(int_keys(t)), where
    assert [e.tag for e in o.values()] == keys, where
    items = list(o.items())
    assert [k for k, _ in items] == keys, where
    for k, e in items:
        assert e.tag == k and o[k] is e, f"{where} {k}"

    for te in t:
        tag = te.tag
        label = f"{where} {tag}"
        pair = (tag.group, tag.element)
        oe = o[int(tag)]
        assert o[pair] is oe and o[Tag(tag)] is oe, label
        assert int(tag) in o and pair in o and Tag(tag) in o, label
        got = o.get(int(tag))
        assert isinstance(got, DataElement) and got.tag == tag, label
        assert o.get(pair).tag == tag, label
        kw = te.keyword
        if kw:
            assert kw in o, label
            assert o[kw] is oe, label
            assert o.data_element(kw) is oe, label
            same_value(getattr(o, kw), getattr(t, kw), label)
            same_value(o.get(kw), t.get(kw), label)
        # the element's own API
        otag = oe.tag
        assert isinstance(otag, Tag) and isinstance(otag, int), label
        assert (otag.group, otag.element, otag.is_private, str(otag)) == (
            tag.group, tag.element, tag.is_private, str(tag)), label
        assert oe.VR == te.VR, f"{label}: VR {oe.VR} != {te.VR}"
        assert oe.keyword == te.keyword, label
        assert names_agree(oe, te), f"{label}: {oe.name!r} != {te.name!r}"
        assert oe.is_private == te.is_private, label
        assert retired_agree(oe, te), label
        assert oe.is_undefined_length == te.is_undefined_length, label
        if te.VR != "SQ":
            same_value(oe.value, te.value, label)
            assert oe.VM == te.VM, label
            assert oe.repval == te.repval, f"{label}: {oe.repval!r} != {te.repval!r}"

    for key in PROBES:
        label = f"{where} probe {key!r}"
        assert (key in o) == (key in t), label
        if isinstance(key, str):
            ours, theirs = o.get(key, MISSING), t.get(key, MISSING)
            assert (ours is MISSING) == (theirs is MISSING), label
            if theirs is not MISSING:
                same_value(ours, theirs, label)
        else:
            ours, theirs = o.get(key), t.get(key)
            assert (ours is None) == (theirs is None), label
            if theirs is not None:
                assert ours.tag == theirs.tag, label
            assert o.get(key, "dflt") == ("dflt" if theirs is None else ours), label

    # dir
    assert o.dir() == t.dir(), where
    for filters in (("Patient",), ("patient",), ("uid",), ("Date", "Time"), ("Sequence",), ("xyz",)):
        assert o.dir(*filters) == t.dir(*filters), f"{where} dir{filters}"

    def keyword_names(ds):
        return [n for n in dir(ds) if pydicom.datadict.tag_for_keyword(n) is not None]

    assert keyword_names(o) == keyword_names(t), where
    assert set(o.dir()) <= set(dir(o)), where

    # group_dataset and slices
    for group in sorted({e.tag.group for e in t}):
        g = o.group_dataset(group)
        assert isinstance(g, Dataset), where
        assert int_keys(g) == sorted(int_keys(t.group_dataset(group))), f"{where} group {group:04X}"
    for s in (slice(0x00100000, 0x00200000), slice(None, 0x00080020), slice(0x00280000, None),
              slice((0x0008, 0x0000), (0x0009, 0x0000)), slice(None, None)):
        sub = o[s]
        assert isinstance(sub, Dataset), where
        assert int_keys(sub) == sorted(int_keys(t[s])), f"{where} [{s}]"

    # private creators and blocks
    for group in sorted({e.tag.group for e in t if e.tag.is_private}):
        label = f"{where} group {group:04X}"
        assert o.private_creators(group) == t.private_creators(group), label
        for ce in t[(group, 0x10):(group, 0x100)]:
            creator = ce.value
            if not isinstance(creator, str) or not creator:
                continue
            tb = t.private_block(group, creator)
            ob = o.private_block(group, creator)
            assert ob.block_start == tb.block_start, label
            assert ob.get_tag(0x01) == tb.get_tag(0x01), label
            for te in t:
                if te.tag.group != group or te.tag.element & 0xFF00 != tb.block_start:
                    continue
                offset = te.tag.element & 0xFF
                assert offset in ob, f"{label} {te.tag}"
                assert ob[offset].tag == te.tag, f"{label} {te.tag}"
                if te.VR != "SQ":
                    same_value(ob[offset].value, te.value, f"{label} {te.tag}")

    # top(): the top level only
    assert dump_lines(o, top=True) == dump_lines(t, top=True), where


@pytest.mark.parametrize("path", READABLE, ids=[corpus_id(p) for p in READABLE])
def test_access_api_matches_pydicom(path):
    ours, theirs = read_corpus_pair(path)
    if theirs is None:  # refused by pydicom: see test_differential_tokenizer
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if theirs.file_meta is not None and len(theirs.file_meta):
            check_access(ours.file_meta, theirs.file_meta, "file_meta")
        for od, td, where in dataset_pairs(ours, theirs, corpus_id(path)):
            check_access(od, td, where)

        # walk: every element at every depth, in pydicom's order, with its own dataset
        def recorder(seen):
            def callback(ds, elem):
                assert ds[elem.tag] is elem
                seen.append((int(elem.tag), elem.VR, len(ds)))
            return callback

        ours_seen, their_seen = [], []
        ours.walk(recorder(ours_seen))
        theirs.walk(recorder(their_seen))
        assert ours_seen == their_seen
        ours_seen, their_seen = [], []
        ours.walk(recorder(ours_seen), recursive=False)
        theirs.walk(recorder(their_seen), recursive=False)
        assert ours_seen == their_seen

        # iterall: the same, flattened
        assert [(int(e.tag), e.VR) for e in ours.iterall()] == [
            (int(e.tag), e.VR) for e in theirs.iterall()]
        assert all(isinstance(e, DataElement) for e in ours.iterall())


@pytest.mark.parametrize("path", READABLE, ids=[corpus_id(p) for p in READABLE])
def test_raw_bytes_and_sequence_flags_match_pydicom(path):
    ours, theirs = read_corpus_pair(path)
    if theirs is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for oe, te, label in element_pairs(ours, theirs):
            if te.VR == "SQ":
                seq = oe.value
                assert isinstance(seq, Sequence), label
                # pydicom sets its Sequence's flag only for some sequences
                flag = getattr(te.value, "is_undefined_length", None)
                if flag is not None:
                    assert seq.is_undefined_length == flag, label
                assert oe.is_undefined_length == te.is_undefined_length, label
                for k, (oi, ti) in enumerate(zip(seq, te.value)):
                    assert isinstance(oi, Dataset), label
                    assert oi.is_undefined_length_sequence_item == \
                        ti.is_undefined_length_sequence_item, f"{label}[{k}]"
            elif te.VR in BYTES_VRS and isinstance(te.value, bytes):
                raw = oe.raw_bytes
                assert isinstance(raw, memoryview), label
                assert raw.readonly, label  # a path is mapped read-only
                assert raw.tobytes() == te.value, label


# -- access: explicit checks of each form -----------------------------------------------

def test_access_forms_ct_small():
    ours, theirs = read_both_file("CT_small.dcm")
    assert ours.PatientName == theirs.PatientName == "CompressedSamples^CT1"
    for key in (0x00100010, (0x0010, 0x0010), "PatientName", Tag(0x00100010)):
        assert ours[key].value == theirs[key].value
        assert ours[key].tag == 0x00100010
    assert ours.get("PatientName") == theirs.get("PatientName")
    assert isinstance(ours.get(0x00100010), DataElement)
    assert ours.get(0x00100010).value == theirs.get(0x00100010).value
    assert ours.get((0x0010, 0x0010)).value == theirs.get((0x0010, 0x0010)).value
    assert ours.get("BeamSequence") is None and theirs.get("BeamSequence") is None
    assert ours.get("BeamSequence", 7) == theirs.get("BeamSequence", 7) == 7
    assert ours.get(0x300A00B0, 7) == theirs.get(0x300A00B0, 7) == 7
    assert ours.get("NotAKeyword", "x") == theirs.get("NotAKeyword", "x") == "x"
    for key in ("PatientName", 0x00100010, (0x0010, 0x0010), "BeamSequence", 0x300A00B0):
        assert (key in ours) == (key in theirs)
    assert len(ours) == len(theirs)
    assert ours.data_element("PatientName").value == theirs.data_element("PatientName").value
    assert ours.data_element("NotAKeyword") is None and theirs.data_element("NotAKeyword") is None
    assert ours.dir("Patient") == theirs.dir("Patient")
    assert "PatientName" in dir(ours)
    with pytest.raises(KeyError):
        ours[0x300A00B0]
    with pytest.raises(KeyError):
        ours["BeamSequence"]
    with pytest.raises(AttributeError):
        ours.BeamSequence
    with pytest.raises(AttributeError):
        ours.NotAKeyword
    sub = ours[0x00100000:0x00200000]
    assert int_keys(sub) == int_keys(theirs[0x00100000:0x00200000])
    assert int_keys(ours.group_dataset(0x0010)) == int_keys(theirs.group_dataset(0x0010))
    assert ours.group_dataset(0x0010).PatientName == "CompressedSamples^CT1"


def test_lowercase_keyword_dBdt():
    """``dBdt`` (0018,1318) is the one keyword that starts in lower case."""
    ours, theirs = read_both_file("examples_overlay.dcm")
    assert ours.dBdt == theirs.dBdt
    assert "dBdt" in ours and ours.get("dBdt") == theirs.get("dBdt")
    assert ours["dBdt"].tag == 0x00181318
    assert theirs.data_element("dBdt").tag == 0x00181318
    elem = ours.data_element("dBdt")
    assert elem is not None and elem.tag == 0x00181318
    for ds in (ours, theirs):
        ds.dBdt = "5"
    assert ours[0x00181318].value == theirs[0x00181318].value == 5
    assert ours.dBdt == 5
    for ds in (ours, theirs):
        del ds.dBdt
    assert 0x00181318 not in ours and 0x00181318 not in theirs
    built = Dataset()
    built.dBdt = "1"
    assert 0x00181318 in built and len(built) == 1


def test_private_blocks_ct_small():
    ours, theirs = read_both_file("CT_small.dcm")
    assert ours.private_creators(0x0009) == theirs.private_creators(0x0009) == ["GEMS_IDEN_01"]
    assert ours.private_creators(0x0043) == theirs.private_creators(0x0043) == ["GEMS_PARM_01"]
    assert ours.private_creators(0x0045) == theirs.private_creators(0x0045) == []
    ob, tb = ours.private_block(0x0043, "GEMS_PARM_01"), theirs.private_block(0x0043, "GEMS_PARM_01")
    assert ob.block_start == tb.block_start == 0x1000
    offsets = [e.tag.element & 0xFF for e in theirs if e.tag.group == 0x0043 and e.tag.element >= 0x1000]
    assert offsets
    for off in offsets:
        assert off in ob
        assert ob[off].tag == tb[off].tag
        assert ob[off].VR == tb[off].VR
        compare_values(ob[off].value, tb[off].value, str(tb[off].tag))
        assert ob[off].name == tb[off].name  # e.g. "[Bitmap of prescan options]"
        assert ob[off].private_creator == "GEMS_PARM_01"
    assert ours.private_block(0x0009, "GEMS_IDEN_01")[0x01].value == \
        theirs.private_block(0x0009, "GEMS_IDEN_01")[0x01].value == "GE_GENESIS_FF"
    for ds in (ours, theirs):
        with pytest.raises(KeyError):
            ds.private_block(0x0009, "NOT A CREATOR")
        with pytest.raises(ValueError):
            ds.private_block(0x0010, "GEMS_IDEN_01")
        with pytest.raises(ValueError):
            ds.private_creators(0x0010)


def test_private_block_empty_creator_raises_value_error_like_pydicom():
    ours, theirs = read_both_file("CT_small.dcm")
    with pytest.raises(ValueError):
        theirs.private_block(0x0009, "")
    with pytest.raises(ValueError):
        ours.private_block(0x0009, "")


def test_private_block_create_matches_pydicom():
    ours, theirs = read_both_file("CT_small.dcm")
    for ds in (ours, theirs):
        block = ds.private_block(0x0009, "MY CREATOR", create=True)
        block.add_new(0x05, "LO", "hello")
    assert int_keys(ours.group_dataset(0x0009)) == int_keys(theirs.group_dataset(0x0009))
    assert ours.private_creators(0x0009) == theirs.private_creators(0x0009)
    tb = theirs.private_block(0x0009, "MY CREATOR")
    ob = ours.private_block(0x0009, "MY CREATOR")
    assert ob.block_start == tb.block_start
    assert ob[0x05].value == tb[0x05].value == "hello"


def test_walk_with_a_deleting_callback_matches_pydicom():
    """pydicom's walk does not recurse into a sequence the callback deleted
    (the pattern of ``remove_private_tags``)."""
    ours, theirs = read_both_file("rtplan.dcm")

    def remover(seen):
        def callback(ds, elem):
            seen.append(int(elem.tag))
            if elem.VR == "SQ" or elem.tag.element == 0x0012:
                del ds[elem.tag]
        return callback

    ours_seen, their_seen = [], []
    ours.walk(remover(ours_seen))
    theirs.walk(remover(their_seen))
    assert ours_seen == their_seen
    assert int_keys(ours) == sorted(int_keys(theirs))
    assert dump_lines(ours) == dump_lines(theirs)


def test_iterall_and_walk_on_nested_file():
    ours, theirs = read_both_file("rtplan.dcm")
    assert [int(e.tag) for e in ours.iterall()] == [int(e.tag) for e in theirs.iterall()]
    depths_ours, depths_theirs = [], []
    ours.walk(lambda ds, e: depths_ours.append((id(ds) != id(ours), int(e.tag))))
    theirs.walk(lambda ds, e: depths_theirs.append((id(ds) != id(theirs), int(e.tag))))
    assert depths_ours == depths_theirs
    assert any(nested for nested, _ in depths_ours)


# -- DataElement --------------------------------------------------------------------------

def test_data_element_properties_ct_small():
    ours, theirs = read_both_file("CT_small.dcm")
    for key in (0x00100010, 0x00080008, 0x00280030, 0x7FE00010, 0x00091001, 0x00090010,
                0x00431028, 0x00080005, 0x00280010):
        oe, te = ours[key], theirs[key]
        assert isinstance(oe.tag, Tag)
        assert (oe.tag.group, oe.tag.element, oe.tag.is_private) == (
            te.tag.group, te.tag.element, te.tag.is_private)
        assert (oe.VR, oe.VM, oe.keyword, oe.name, oe.is_private, oe.is_retired, oe.repval,
                oe.is_undefined_length) == (te.VR, te.VM, te.keyword, te.name, te.is_private,
                                            te.is_retired, te.repval, te.is_undefined_length)
        compare_values(oe.value, te.value, str(key))
        assert str(oe) == str(te)
    pixels = ours[0x7FE00010]
    raw = pixels.raw_bytes
    assert isinstance(raw, memoryview)
    assert raw.tobytes() == theirs.PixelData
    assert ours.PixelData == theirs.PixelData


def test_raw_bytes_is_zero_copy_view_of_the_input():
    path = datafile("CT_small.dcm")
    with open(path, "rb") as f:
        data = f.read()
    ds = fastdicom.dcmread(data)
    theirs = pydicom.dcmread(path)
    base = np.frombuffer(data, np.uint8).ctypes.data
    checked = 0
    for elem in ds.iterall():
        if elem.VR in BYTES_VRS and elem.VR != "SQ":
            raw = elem.raw_bytes
            assert isinstance(raw, memoryview)
            assert raw.tobytes() == bytes(theirs[elem.tag].value)
            if raw.nbytes:
                addr = np.frombuffer(raw, np.uint8).ctypes.data
                assert base <= addr and addr + raw.nbytes <= base + len(data), elem.tag
                assert data[addr - base : addr - base + raw.nbytes] == raw.tobytes()
                checked += 1
    assert checked >= 2  # PixelData and the OB/OW private data


def test_is_undefined_length_on_sequences_and_items():
    for name, expected in (("rtstruct.dcm", True), ("rtplan.dcm", False)):
        ours, theirs = read_both_file(name)
        for te in theirs:
            if te.VR != "SQ":
                continue
            oe = ours[te.tag]
            assert oe.is_undefined_length == te.is_undefined_length == expected
            assert oe.value.is_undefined_length == te.value.is_undefined_length
            for oi, ti in zip(oe.value, te.value):
                assert oi.is_undefined_length_sequence_item == ti.is_undefined_length_sequence_item


# -- Tag --------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    (0x00100010,), (0x0010, 0x0010), ((0x10, 0x10),), ("PatientName",), ("0x00100010",),
    ("00100010",), (0x7FE00010,), (0x00431028,), ((0x0043, 0x1028),), ("PixelData",),
    (0xFFFEE000,), (0,), ("BeamSequence",),
])
def test_tag_forms_match_pydicom(args):
    ours, theirs = Tag(*args), pydicom.tag.Tag(*args)
    assert isinstance(ours, int) and type(ours) is Tag
    assert int(ours) == int(theirs)
    assert ours == theirs and hash(ours) == hash(theirs) == hash(int(theirs))
    assert str(ours) == str(theirs)
    assert (ours.group, ours.element, ours.is_private) == (theirs.group, theirs.element, theirs.is_private)
    assert {ours: 1}[int(theirs)] == 1


def test_tag_details():
    t = Tag(0x0010, 0x0010)
    assert t == 0x00100010 and str(t) == "(0010,0010)"
    assert Tag((0x10, 0x10)) == Tag("PatientName") == Tag("0x00100010") == t
    assert (t.group, t.element, t.is_private) == (0x0010, 0x0010, False)
    p = Tag(0x00431028)
    assert p.is_private and str(p) == "(0043,1028)"
    assert str(Tag(0x7FE00010)) == str(pydicom.tag.Tag(0x7FE00010)) == "(7FE0,0010)"
    assert sorted([Tag(0x00200010), Tag(0x00100010)]) == [0x00100010, 0x00200010]
    for bad in ("NotAKeyword", 2**32, -1):
        with pytest.raises(Exception):
            pydicom.tag.Tag(bad)
        with pytest.raises(Exception):
            Tag(bad)


# -- sequences ----------------------------------------------------------------------------

def _live_datasets() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, Dataset))


def test_sequence_items_are_datasets_built_when_touched():
    path = datafile("rtplan.dcm")
    theirs = pydicom.dcmread(path)
    gc.collect()
    before = _live_datasets()
    ours = fastdicom.dcmread(path)
    base = _live_datasets()
    assert base - before <= 2  # the dataset and its file meta
    assert ours.PatientName == theirs.PatientName
    assert len(ours) == len(theirs)
    assert int_keys(ours) == int_keys(theirs)
    assert _live_datasets() == base, "items were made before any sequence was touched"
    beams = ours.BeamSequence
    assert len(beams) == len(theirs.BeamSequence) == 1
    assert _live_datasets() == base + len(beams), "nested items were made with their parent"
    cps = beams[0].ControlPointSequence
    assert len(cps) == len(theirs.BeamSequence[0].ControlPointSequence) == 2
    assert _live_datasets() == base + len(beams) + len(cps)
    assert all(isinstance(item, Dataset) for item in cps)
    # items of items compare equal to pydicom's
    o_cp, t_cp = cps[0], theirs.BeamSequence[0].ControlPointSequence[0]
    assert int_keys(o_cp) == int_keys(t_cp)
    for te in t_cp:
        if te.VR != "SQ":
            compare_values(o_cp[te.tag].value, te.value, str(te.tag))
    o_bld = o_cp.BeamLimitingDevicePositionSequence
    t_bld = t_cp.BeamLimitingDevicePositionSequence
    assert len(o_bld) == len(t_bld)
    assert [list(i.LeafJawPositions) for i in o_bld] == [list(i.LeafJawPositions) for i in t_bld]
    assert ours[0x300A00B0][0][0x300A0111][1].ControlPointIndex == \
        theirs[0x300A00B0][0][0x300A0111][1].ControlPointIndex
    assert isinstance(ours.BeamSequence, Sequence) and isinstance(ours.BeamSequence, list)
    assert ours.BeamSequence is ours.BeamSequence  # made once


# -- specific_tags and stop_before_pixels -----------------------------------------------------

SPECIFIC_TAGS = [
    ["PatientName"],
    ["PatientName", (0x0010, 0x0020), 0x00080018, Tag(0x00280010)],
    [0x7FE00010, "Rows"],
    ["BeamSequence", "ROIContourSequence"],
    [(0x0009, 0x0010), 0x00091001],
]


@pytest.mark.parametrize("path", READABLE, ids=[corpus_id(p) for p in READABLE])
@pytest.mark.filterwarnings("ignore")
def test_specific_tags_and_stop_before_pixels_keys_match_pydicom(path):
    ours, theirs = read_corpus_pair(path, stop_before_pixels=True)
    if theirs is None:
        return
    assert int_keys(ours) == sorted(int_keys(theirs))
    assert [int(e.tag) for e in ours.iterall()] == [int(e.tag) for e in theirs.iterall()]
    for tags in SPECIFIC_TAGS:
        ours, theirs = read_corpus_pair(path, specific_tags=tags)
        if theirs is None:
            continue
        assert int_keys(ours) == sorted(int_keys(theirs)), tags
        assert len(ours) == len(theirs), tags
        for te in theirs:
            if te.VR != "SQ":
                compare_values(ours[te.tag].value, te.value, f"{tags} {te.tag}")
        ours, theirs = read_corpus_pair(path, specific_tags=tags, stop_before_pixels=True)
        if theirs is None:
            continue
        assert int_keys(ours) == sorted(int_keys(theirs)), tags


def test_empty_specific_tags_reads_everything_like_pydicom():
    """pydicom treats ``specific_tags=[]`` as no restriction (it tests the
    list's truth value)."""
    for name in ("CT_small.dcm", "rtplan.dcm"):
        ours, theirs = read_both_file(name, specific_tags=[])
        assert len(theirs) > 2
        assert int_keys(ours) == sorted(int_keys(theirs))


# -- editing ----------------------------------------------------------------------------

def test_set_attribute_like_pydicom():
    ours, theirs = read_both_file("CT_small.dcm")
    for ds in (ours, theirs):
        ds.PatientName = "X"
    assert ours.PatientName == theirs.PatientName == "X"
    assert ours["PatientName"].value == "X"
    assert str(ours[0x00100010]) == str(theirs[0x00100010])
    assert "(0010,0010) Patient's Name                      PN: 'X'" in str(ours).splitlines()
    assert dump_lines(ours) == dump_lines(theirs)
    # a new element, by keyword
    for ds in (ours, theirs):
        ds.PatientComments = "new"
    assert ours[0x00104000].VR == theirs[0x00104000].VR == "LT"
    assert dump_lines(ours) == dump_lines(theirs)
    # a plain (non-DICOM) attribute
    ours.my_note = 5
    assert ours.my_note == 5 and "my_note" not in ours.dir()
    del ours.my_note
    assert not hasattr(ours, "my_note")


@pytest.mark.parametrize("keyword, value", [
    ("PatientName", "Doe^John"),
    ("PatientWeight", 70),
    ("PatientSize", "1.5"),
    ("SeriesNumber", "5"),
    ("InstanceNumber", 7),
    ("ImageType", ["ORIGINAL", "PRIMARY"]),
    ("PixelSpacing", [0.5, "0.25"]),
    ("StudyDate", "20240102"),
    ("SOPInstanceUID", "1.2.3.4"),
    ("PatientAge", None),
])
def test_assigned_values_are_converted_like_pydicom(keyword, value):
    ours, theirs = read_both_file("CT_small.dcm")
    setattr(ours, keyword, copy.copy(value))
    setattr(theirs, keyword, copy.copy(value))
    o, t = getattr(ours, keyword), getattr(theirs, keyword)
    assert o == t
    assert type(o).__name__ == type(t).__name__, f"{keyword}: {type(o)} vs {type(t)}"
    assert str(o) == str(t) and repr(o) == repr(t)
    assert str(ours.data_element(keyword)) == str(theirs.data_element(keyword))
    assert ours.data_element(keyword).VM == theirs.data_element(keyword).VM
    if keyword == "PatientName":
        assert ours.PatientName.family_name == theirs.PatientName.family_name == "Doe"


def test_assignment_updates_the_stored_element_like_pydicom():
    """pydicom assigns into the element held by the dataset: a reference
    taken before the assignment sees the new value."""
    ours, theirs = read_both_file("CT_small.dcm")
    oe, te = ours["PatientSex"], theirs["PatientSex"]
    ours.PatientSex = "F"
    theirs.PatientSex = "F"
    assert te.value == "F"
    assert oe.value == te.value
    assert ours["PatientSex"] is oe
    # and the reverse: assigning to an element's value edits the dataset
    ours[0x00100020].value = "ID2"
    theirs[0x00100020].value = "ID2"
    assert ours.PatientID == theirs.PatientID == "ID2"
    assert dump_lines(ours) == dump_lines(theirs)


def test_delete_add_and_set_elements_like_pydicom():
    ours, theirs = read_both_file("CT_small.dcm")
    for ds, mod in ((ours, fastdicom), (theirs, pydicom)):
        del ds.PatientID
        del ds[0x00100030]
        del ds[(0x0010, 0x0040)]
        del ds["PatientAge"]
        del ds[0x00431000:0x00431030]
        ds.add_new(0x00100021, "LO", "Issuer")
        ds.add_new((0x0011, 0x1099), "LO", "private")
        ds[0x00104000] = mod.DataElement(0x00104000, "LT", "comments")
        ds.add(mod.DataElement(0x00102000, "LO", ["a", "b"]))
    for key in ("PatientID", 0x00100030, (0x0010, 0x0040), "PatientAge", 0x00431010):
        assert key not in ours and key not in theirs
    assert ours.IssuerOfPatientID == theirs.IssuerOfPatientID == "Issuer"
    assert ours[0x00111099].value == "private"
    assert ours.PatientComments == "comments"
    assert list(ours.MedicalAlerts) == ["a", "b"]
    assert int_keys(ours) == sorted(int_keys(theirs))
    assert len(ours) == len(theirs)
    assert [int(e.tag) for e in ours] == int_keys(ours)
    assert dump_lines(ours) == dump_lines(theirs)
    for ds in (ours, theirs):
        with pytest.raises(AttributeError):
            del ds.PatientID  # already gone
        with pytest.raises(KeyError):
            del ds[0x00100020]
        with pytest.raises(ValueError):
            ds[0x00100010] = type(ds[0x00100010])(0x00100020, "LO", "x")
        with pytest.raises(TypeError):
            ds[0x00100010] = "x"


def test_setdefault_pop_update_like_pydicom():
    ours, theirs = read_both_file("CT_small.dcm")
    for ds in (ours, theirs):
        assert ds.setdefault("PatientSex", "F").value == "O"
        assert ds.setdefault(0x00100040, "M").value == "O"
        assert ds.setdefault("PatientComments", "M").value == "M"
        assert ds.setdefault((0x0010, 0x2000)).value is None
    for ds, mod in ((ours, fastdicom), (theirs, pydicom)):
        elem = ds.setdefault(0x00101001, mod.DataElement(0x00101001, "PN", "Other"))
        assert elem.value == "Other"
    assert dump_lines(ours) == dump_lines(theirs)

    theirs["PatientID"]  # convert pydicom's raw element, so pop returns a DataElement
    theirs[0x00100030]
    o, t = ours.pop("PatientID"), theirs.pop("PatientID")
    assert isinstance(o, DataElement) and o.tag == t.tag and o.value == t.value
    o, t = ours.pop(0x00100030), theirs.pop(0x00100030)
    assert o.tag == t.tag and o.value == t.value
    assert ours.pop(0x00100030, "gone") == theirs.pop(0x00100030, "gone") == "gone"
    assert ours.pop("PatientID", None) is None and theirs.pop("PatientID", None) is None
    for ds in (ours, theirs):
        with pytest.raises(KeyError):
            ds.pop(0x00100030)
    assert "PatientID" not in ours and 0x00100030 not in ours

    for ds, mod in ((ours, fastdicom), (theirs, pydicom)):
        ds.update({"PatientName": "Updated^Name", "StudyID": "S1",
                   0x00100021: mod.DataElement(0x00100021, "LO", "Iss")})
    assert ours.PatientName == theirs.PatientName == "Updated^Name"
    assert ours.StudyID == "S1" and ours.IssuerOfPatientID == "Iss"
    assert dump_lines(ours) == dump_lines(theirs)
    # update from another dataset
    other_o, other_t = fastdicom.Dataset(), pydicom.Dataset()
    other_o.Modality = other_t.Modality = "MR"
    ours.update(other_o)
    theirs.update(other_t)
    assert ours.Modality == theirs.Modality == "MR"
    assert dump_lines(ours) == dump_lines(theirs)


def test_setdefault_private_tag_like_pydicom():
    """pydicom gives a private tag without a DataElement default the VR UN."""
    ours, theirs = read_both_file("CT_small.dcm")
    t = theirs.setdefault(0x00991001, b"x")
    o = ours.setdefault(0x00991001, b"x")
    assert (o.VR, o.value) == (t.VR, t.value) == ("UN", b"x")


def test_edit_sequences_like_pydicom():
    ours, theirs = read_both_file("rtplan.dcm")
    for ds in (ours, theirs):
        ds.BeamSequence[0].BeamName = "NEWBEAM"
        ds.BeamSequence[0].ControlPointSequence[1].CumulativeMetersetWeight = "0.5"
        ds.FractionGroupSequence[0].add_new(0x300A0072, "LO", "desc")
        del ds.PatientSetupSequence[0].PatientPosition
    assert ours.BeamSequence[0].BeamName == theirs.BeamSequence[0].BeamName == "NEWBEAM"
    assert ours[0x300A00B0][0].BeamName == "NEWBEAM"
    assert ours.BeamSequence[0].ControlPointSequence[1].CumulativeMetersetWeight == \
        theirs.BeamSequence[0].ControlPointSequence[1].CumulativeMetersetWeight
    assert "PatientPosition" not in ours.PatientSetupSequence[0]
    assert ours.FractionGroupSequence[0][0x300A0072].value == "desc"
    assert dump_lines(ours) == dump_lines(theirs)

    # append, insert, remove items
    for ds, mod in ((ours, fastdicom), (theirs, pydicom)):
        new = mod.Dataset()
        new.DoseReferenceNumber = "3"  # (conversion on assignment: tested on its own)
        new.DoseReferenceStructureType = "SITE"
        ds.DoseReferenceSequence.append(new)
        ds.BeamSequence.append(ds.BeamSequence[0].copy())
        del ds.DoseReferenceSequence[0]
        ds.ReferencedStructureSetSequence.pop()
        ds.FractionGroupSequence.insert(0, mod.Dataset())
    assert len(ours.DoseReferenceSequence) == len(theirs.DoseReferenceSequence) == 2
    assert ours.DoseReferenceSequence[1].DoseReferenceNumber == 3 or \
        ours.DoseReferenceSequence[1].DoseReferenceNumber == "3"
    assert len(ours.BeamSequence) == 2 and ours.BeamSequence[1].BeamName == "NEWBEAM"
    assert len(ours.ReferencedStructureSetSequence) == 0
    assert len(ours.FractionGroupSequence) == 2
    assert dump_lines(ours) == dump_lines(theirs)

    # a whole new sequence, from a list of datasets
    for ds, mod in ((ours, fastdicom), (theirs, pydicom)):
        item = mod.Dataset()
        item.CodeValue = "121"
        ds.ReferencedImageSequence = [item]
    assert isinstance(ours.ReferencedImageSequence, Sequence)
    assert ours.ReferencedImageSequence[0].CodeValue == "121"
    assert ours[0x00081140].VR == "SQ"
    assert dump_lines(ours) == dump_lines(theirs)


def _build(mod):
    ds = mod.Dataset()
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "12345"
    ds.Modality = "CT"
    ds.Rows = 512
    ds.PixelSpacing = [0.5, 0.5]
    ds.add_new(0x00091001, "LO", "private value")
    item = mod.Dataset()
    uid = fastdicom.UID if mod is fastdicom else pydicom.uid.UID
    item.ReferencedSOPInstanceUID = uid("1.2.3.4")  # (conversion on assignment: tested on its own)
    ds.ReferencedImageSequence = [item]
    return ds


def test_dataset_built_from_scratch_like_pydicom():
    ours, theirs = _build(fastdicom), _build(pydicom)
    assert isinstance(ours, Dataset)
    assert len(ours) == len(theirs)
    assert int_keys(ours) == sorted(int_keys(theirs))  # pydicom's keys(): insertion order
    assert ours.PatientName == "Doe^Jane" and ours.Rows == 512
    assert ours[0x00280010].VR == theirs[0x00280010].VR == "US"
    assert ours.ReferencedImageSequence[0].ReferencedSOPInstanceUID == "1.2.3.4"
    assert str(ours) == str(theirs)
    assert ours.top() == theirs.top()
    assert ours.dir() == theirs.dir()
    assert [int(e.tag) for e in ours.iterall()] == [int(e.tag) for e in theirs.iterall()]
    assert _build(fastdicom) == ours
    empty = fastdicom.Dataset()
    assert len(empty) == 0 and list(empty) == [] and "PatientName" not in empty
    assert str(empty) == str(pydicom.Dataset())


def test_copy_is_independent():
    ours, theirs = read_both_file("rtplan.dcm")
    c = ours.copy()
    assert c == ours and c is not ours
    assert isinstance(c, type(ours))
    assert int_keys(c) == int_keys(ours)
    c.PatientName = "Copy^Name"
    del c.PatientID
    c.add_new(0x00100021, "LO", "copy only")
    assert ours.PatientName == theirs.PatientName
    assert "PatientID" in ours and 0x00100021 not in ours
    assert c.PatientName == "Copy^Name" and "PatientID" not in c
    assert c != ours
    assert dump_lines(ours) == dump_lines(theirs)  # the original is untouched
    # and the other way round
    ours.StudyID = "orig only"
    assert c.get("StudyID") != "orig only"


def test_deepcopy_like_pydicom():
    ours, theirs = read_both_file("rtplan.dcm")
    o2, t2 = copy.deepcopy(ours), copy.deepcopy(theirs)
    assert o2 == ours and t2 == theirs
    for ds in (o2, t2):
        ds.BeamSequence[0].BeamName = "DEEP"
    assert ours.BeamSequence[0].BeamName == theirs.BeamSequence[0].BeamName == "Field 1"
    assert o2 != ours
    assert dump_lines(o2) == dump_lines(t2)


def test_equality_after_edit_and_undo():
    path = datafile("rtplan.dcm")
    a, b = fastdicom.dcmread(path), fastdicom.dcmread(path)
    pa, pb = pydicom.dcmread(path), pydicom.dcmread(path)
    assert a == b and a == a and (pa == pb)
    for x, y in ((a, b), (pa, pb)):
        old = x.PatientName
        x.PatientName = "Changed"
        assert x != y
        x.PatientName = old
        assert x == y
        sex = x.pop("PatientSex")
        assert x != y
        x.add(sex)
        assert x == y
        beam = x.BeamSequence[0]
        old_name = beam.BeamName
        beam.BeamName = "B"
        assert x != y and beam != y.BeamSequence[0]
        beam.BeamName = old_name
        assert x == y and beam == y.BeamSequence[0]
        item = x.DoseReferenceSequence.pop()
        assert x != y
        x.DoseReferenceSequence.append(item)
        assert x == y
    assert a != "not a dataset"


def _edit_everything(ds):
    ds.PatientName = "Anon"
    del ds.PatientID
    ds.add_new(0x00100021, "LO", "Issuer")
    ds.setdefault("PatientComments", "c")
    ds.pop("PatientSex", None)
    ds.update({"StudyID": "S"})
    for elem in list(ds.iterall()):
        if elem.VR in ("OB", "OW") and elem.tag.group != 0x7FE0:
            elem.value = b"\xff" * 4
    if "PixelData" in ds:
        ds.PixelData = b"\x00" * 16
    for elem in list(ds):
        if elem.VR == "SQ":
            for item in elem.value:
                for sub in list(item):
                    if sub.VR in ("LO", "SH", "CS", "PN") and sub.VM == 1:
                        sub.value = "Z"
                    elif sub.VR == "UI":
                        del item[sub.tag]
            if len(elem.value):
                elem.value.pop()
            elem.value.append(type(ds)() if type(ds) is not fastdicom.FileDataset else Dataset())
    del ds[0x00200000:0x00210000]


@pytest.mark.parametrize("name", ["rtplan.dcm", "CT_small.dcm", "rtstruct.dcm", "JPEG2000.dcm",
                                  "MR_small_bigendian.dcm", "image_dfl.dcm", "OBXXXX1A.dcm"])
def test_editing_never_changes_the_file(name):
    path = datafile(name)
    before = sha256(path)
    size = os.path.getsize(path)
    mtime = os.stat(path).st_mtime_ns
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pydicom.dcmread(path, force=True)
        ours = fastdicom.dcmread(path, force=True)
        pristine = str(ours)
        _edit_everything(ours)
        edited = str(ours)
        assert edited != pristine
        assert ours.PatientName == "Anon" and "PatientID" not in ours
        assert sha256(path) == before
        assert os.path.getsize(path) == size and os.stat(path).st_mtime_ns == mtime
        # the file reads again, as it was, while the edited dataset is alive
        again = fastdicom.dcmread(path, force=True)
        assert str(again) == pristine
        assert dump_lines(again) == dump_lines(theirs)
        assert str(ours) == edited
        del ours
        gc.collect()
        assert str(fastdicom.dcmread(path, force=True)) == pristine
    assert sha256(path) == before


@pytest.mark.parametrize("kind", ["bytearray", "bytes", "memoryview"])
def test_editing_never_changes_the_callers_buffer(kind):
    path = datafile("rtplan.dcm")
    with open(path, "rb") as f:
        original = f.read()
    buf = {"bytearray": bytearray(original), "bytes": original,
           "memoryview": memoryview(bytearray(original))}[kind]
    ds = fastdicom.dcmread(buf)
    pristine = str(ds)
    _edit_everything(ds)
    ds.BeamSequence[0].BeamName = "EDITED"
    assert bytes(buf) == original
    assert ds.BeamSequence[0].BeamName == "EDITED"
    again = fastdicom.dcmread(buf)
    assert str(again) == pristine
    assert str(ds) != pristine
    # the untouched raw bytes still agree with the file
    for elem in again.iterall():
        if elem.raw_bytes is not None and elem.VR != "SQ":
            assert elem.raw_bytes.tobytes() in original


def test_editing_one_read_does_not_affect_another():
    path = datafile("rtplan.dcm")
    a, b = fastdicom.dcmread(path), fastdicom.dcmread(path)
    a.PatientName = "A"
    a.BeamSequence[0].BeamName = "A"
    del a.PatientID
    assert b.PatientName == "Last^First^mid^pre" and b.BeamSequence[0].BeamName == "Field 1"
    assert "PatientID" in b


# -- DA/DT/TM conversion -----------------------------------------------------------------

@pytest.fixture
def datetime_conversion():
    saved = (fastdicom.config.datetime_conversion, pydicom.config.datetime_conversion)
    fastdicom.config.datetime_conversion = True
    pydicom.config.datetime_conversion = True
    try:
        yield
    finally:
        fastdicom.config.datetime_conversion, pydicom.config.datetime_conversion = saved


def test_datetime_conversion_is_off_by_default():
    assert fastdicom.config.datetime_conversion is False
    ours, theirs = read_both_file("CT_small.dcm")
    assert isinstance(ours.StudyDate, str) and ours.StudyDate == theirs.StudyDate
    assert isinstance(ours.StudyTime, str) and ours.StudyTime == theirs.StudyTime


@pytest.mark.parametrize("path", READABLE, ids=[corpus_id(p) for p in READABLE])
def test_datetime_conversion_matches_pydicom(path, datetime_conversion):
    ours, theirs = read_corpus_pair(path)
    if theirs is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for oe, te, label in element_pairs(ours, theirs):
            if te.VR not in ("DA", "DT", "TM"):
                continue
            o, t = oe.value, te.value
            assert type(o).__name__ == type(t).__name__, f"{label}: {type(o)} vs {type(t)}"
            assert o == t, label
            assert str(o) == str(t), label
            assert str(oe) == str(te) or strip_name(str(oe)) == strip_name(str(te)), label
            values = list(o) if te.VM > 1 else [o]
            theirs_values = list(t) if te.VM > 1 else [t]
            for a, b in zip(values, theirs_values):
                assert type(a).__name__ == type(b).__name__, label
                assert a == b, label


def test_datetime_conversion_types():
    import datetime

    saved = (fastdicom.config.datetime_conversion, pydicom.config.datetime_conversion)
    try:
        fastdicom.config.datetime_conversion = pydicom.config.datetime_conversion = True
        ours, theirs = read_both_file("CT_small.dcm")
        assert isinstance(ours.StudyDate, datetime.date) and ours.StudyDate == theirs.StudyDate
        assert isinstance(ours.StudyTime, datetime.time) and ours.StudyTime == theirs.StudyTime
        assert str(ours.StudyDate) == str(theirs.StudyDate)
    finally:
        fastdicom.config.datetime_conversion, pydicom.config.datetime_conversion = saved
    assert fastdicom.config.datetime_conversion is saved[0]
    ours = fastdicom.dcmread(datafile("CT_small.dcm"))
    assert isinstance(ours.StudyDate, str)
