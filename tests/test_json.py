"""DICOM JSON Model (PS3.18 Annex F): fastdicom.dicomjson against pydicom.

For every corpus file pydicom can serialise, ``to_json_dict`` is exactly
pydicom's (and ``to_json`` the same text); ``from_json`` of pydicom's JSON
builds the dataset pydicom's ``from_json`` builds, element by element, and
serialises back to the same JSON. Then the Annex's rules one by one: PN
groups, AT, IS, DS, empty values, sequences, private tags, InlineBinary and
BulkDataURI with their handlers, invalid values.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import warnings

import pydicom
import pytest
from corpus import CORPUS, corpus_id
from pydicom.data import get_testdata_file
from test_differential_dataset import compare_datasets
from test_differential_tokenizer import KNOWN_MALFORMED, read_pydicom

import fastdicom
from fastdicom import DataElement, Dataset, Sequence, dicomjson

READABLE = [p for p in CORPUS if os.path.basename(p) not in KNOWN_MALFORMED]


def read_both(path):
    """(ours, pydicom's) datasets of ``path``, or (None, None) when pydicom cannot read it."""
    theirs, force = read_pydicom(path)
    if isinstance(theirs, Exception):
        return None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pydicom.dcmread(path, force=force)
        ours = fastdicom.dcmread(path, force=force)
    return ours, theirs


def pydicom_json(ds, **kw):
    """pydicom's to_json_dict, or the exception it raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ds.to_json_dict(**kw)
        except Exception as exc:  # noqa: BLE001 - pydicom's failures are part of the oracle
            return exc




# ------------------------------------------------------------------ the corpus

@pytest.mark.parametrize("path", READABLE, ids=[corpus_id(p) for p in READABLE])
def test_to_json_dict_equals_pydicom(path):
    ours, theirs = read_both(path)
    if theirs is None:
        return
    expected = pydicom_json(theirs)
    if isinstance(expected, Exception):
        # pydicom cannot serialise it (e.g. IS '1A'): neither can we, by default ...
        with pytest.raises(type(expected)):
            ours.to_json_dict()
        # ... and with suppress_invalid_tags both leave the bad elements out; pydicom
        # also validates every value then (strict reading) and drops more (here a
        # sequence holding a UID with a leading zero): what it keeps we give alike
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.disable(logging.CRITICAL)
            try:
                suppressed = pydicom_json(theirs, suppress_invalid_tags=True)
                got = ours.to_json_dict(suppress_invalid_tags=True)
            finally:
                logging.disable(logging.NOTSET)
        assert {k: got.get(k) for k in suppressed} == suppressed
        assert set(ours.to_json_dict(suppress_invalid_tags=True)) < {f"{int(t):08X}" for t in ours.keys()}
        return
    got = ours.to_json_dict()
    assert got == expected
    assert json.loads(json.dumps(got)) == json.loads(json.dumps(expected))
    assert ours.to_json() == theirs.to_json()


@pytest.mark.parametrize("path", READABLE, ids=[corpus_id(p) for p in READABLE])
def test_from_json_equals_pydicom(path):
    _, theirs = read_both(path)
    if theirs is None:
        return
    js = pydicom_json(theirs)
    if isinstance(js, Exception):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pydicom.Dataset.from_json(js)
        ours = Dataset.from_json(js)
        compare_datasets(ours, expected, corpus_id(path))
        assert ours.to_json_dict() == js  # and back to the same JSON
        assert dicomjson.from_json(json.dumps(js)).to_json_dict() == js


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "SC_rgb.dcm",
                                  "waveform_ecg.dcm"])
@pytest.mark.parametrize("threshold", [1, 64, 1024])
def test_bulk_data_handler_equals_pydicom(name, threshold):
    path = get_testdata_file(name)
    ours, theirs = fastdicom.dcmread(path), pydicom.dcmread(path)
    seen = []

    def handler(elem):
        seen.append(int(elem.tag))
        return f"https://example.org/bulk/{int(elem.tag):08X}/{len(elem.value)}"

    expected = theirs.to_json_dict(bulk_data_threshold=threshold, bulk_data_element_handler=handler)
    n = len(seen)
    assert ours.to_json_dict(bulk_data_threshold=threshold, bulk_data_element_handler=handler) == expected
    assert seen[n:] == seen[:n]  # the handler is given the same elements, in the same order


# ------------------------------------------------------------------ the Annex's rules, one by one

def both(elements):
    """(ours, pydicom's) dataset holding ``elements`` ((tag, VR, value) triples)."""
    ours, theirs = Dataset(), pydicom.Dataset()
    for tag, vr, value in elements:
        ours.add(DataElement(tag, vr, value))
        theirs.add(pydicom.DataElement(tag, vr, value))
    return ours, theirs


@pytest.mark.parametrize("value", [
    "Yamada^Tarou=山田^太郎=やまだ^たろう",
    "Yamada^Tarou=山田^太郎",
    "Yamada^Tarou==やまだ^たろう",
    "=山田^太郎",
    "Smith^John",
    "",
    ["Smith^John", "Doe^Jane=ド^ジェ"],
])
def test_person_name_groups(value):
    ours, theirs = both([(0x00100010, "PN", value)])
    assert ours.to_json_dict() == theirs.to_json_dict()
    back = dicomjson.from_json(ours.to_json_dict())
    assert back.PatientName == theirs.PatientName
    assert back.to_json_dict() == ours.to_json_dict()


def test_person_name_groups_shape():
    ds = Dataset()
    ds.PatientName = "Yamada^Tarou==やまだ^たろう"
    assert ds.to_json_dict()["00100010"] == {
        "vr": "PN", "Value": [{"Alphabetic": "Yamada^Tarou", "Ideographic": "",
                               "Phonetic": "やまだ^たろう"}]}


def test_empty_entries_of_several_are_null():
    # pydicom raises on these (IndexError, ValueError); the Annex gives null
    ds = Dataset()
    ds.add(DataElement(0x00100010, "PN", ["A^B", ""]))
    ds.add(DataElement(0x00280030, "DS", ["1.5", ""]))
    ds.add(DataElement(0x00201041, "IS", ["", "3"]))
    ds.add(DataElement(0x00080008, "CS", ["ORIGINAL", ""]))
    d = ds.to_json_dict()
    assert d["00100010"]["Value"] == [{"Alphabetic": "A^B"}, None]
    assert d["00280030"]["Value"] == [1.5, None]
    assert d["00201041"]["Value"] == [None, 3]
    assert d["00080008"]["Value"] == ["ORIGINAL", ""]  # text keeps "" (as pydicom)
    back = dicomjson.from_json(d)
    assert back[0x00280030].value == [1.5, None]  # as pydicom's from_json
    assert back.to_json_dict() == d
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_datasets(back, pydicom.Dataset.from_json(d), "nulls")


def test_numbers_at_is_ds_and_empty_values():
    elements = [
        (0x00080005, "CS", "ISO_IR 100"),
        (0x00080018, "UI", "1.2.3.4"),
        (0x00181020, "LO", ["v1", "v2"]),
        (0x00200013, "IS", "12"),
        (0x00201041, "DS", "-1.50"),
        (0x00280030, "DS", ["0.5", "0.25"]),
        (0x00280010, "US", 512),
        (0x00283002, "US", [256, 0, 16]),
        (0x00186020, "SL", -5),
        (0x00189087, "FD", 1.25),
        (0x00209241, "FL", [0.5, 2.0]),
        (0x00209165, "AT", 0x00100010),
        (0x00209167, "AT", [0x00100010, 0x7FE00010]),
        (0x00100020, "LO", ""),
        (0x00100030, "DA", ""),
        (0x00200011, "IS", None),
        (0x00280011, "US", None),
        (0x00209222, "AT", None),
        (0x00100010, "PN", ""),
        (0x00082112, "SQ", []),
        (0x7FE00010, "OB", b""),
    ]
    ours, theirs = both(elements)
    d = ours.to_json_dict()
    assert d == theirs.to_json_dict()
    assert d["00200013"] == {"vr": "IS", "Value": [12]}
    assert d["00201041"] == {"vr": "DS", "Value": [-1.5]}
    assert type(d["00200013"]["Value"][0]) is int and type(d["00201041"]["Value"][0]) is float
    assert d["00209167"] == {"vr": "AT", "Value": ["00100010", "7FE00010"]}
    assert d["00082112"] == {"vr": "SQ", "Value": []}
    for key in ("00100020", "00100030", "00200011", "00280011", "00209222", "00100010", "7FE00010"):
        assert set(d[key]) == {"vr"}, key
    # and back: ours from_json equals pydicom's, element by element
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_datasets(dicomjson.from_json(d), pydicom.Dataset.from_json(d), "built")


def test_sequences_nested_and_private_tags():
    ds = Dataset()
    ds.add(DataElement(0x00090010, "LO", "ACME 1.1"))
    ds.add(DataElement(0x00091001, "DS", "3.5"))
    ds.add(DataElement(0x00091002, "UN", b"\x01\x02\x03"))
    inner = Dataset()
    inner.add(DataElement(0x00081150, "UI", "1.2.840.10008.5.1.4.1.1.2"))
    inner.add(DataElement(0x00081155, "UI", "1.2.3"))
    item = Dataset()
    item.add(DataElement(0x00081199, "SQ", [inner, Dataset()]))
    ds.add(DataElement(0x00081115, "SQ", Sequence([item])))
    d = ds.to_json_dict()
    assert d["00081115"]["Value"][0]["00081199"]["Value"][1] == {}
    assert d["00091002"] == {"vr": "UN", "InlineBinary": base64.b64encode(b"\x01\x02\x03").decode()}
    theirs = pydicom.Dataset.from_json(d)
    assert theirs.to_json_dict() == d
    back = dicomjson.from_json(d)
    assert back.to_json_dict() == d
    assert back[0x00091001].private_creator == "ACME 1.1"
    assert back[0x00091001].value == 3.5
    assert back[0x00081115].value[0][0x00081199].value[0].ReferencedSOPInstanceUID == "1.2.3"


def test_inline_binary_threshold_and_big_endian_bytes_kept():
    data = bytes(range(256)) * 8
    ds = Dataset()
    ds.add(DataElement(0x7FE00010, "OW", data))
    assert ds.to_json_dict() == {"7FE00010": {"vr": "OW", "InlineBinary": base64.b64encode(data).decode()}}
    # the threshold counts base64 characters: 3 bytes are 4 characters
    handler = lambda elem: "uri"  # noqa: E731
    inline = -(-len(data) // 3) * 4  # the base64 length of the value
    assert "InlineBinary" in ds.to_json_dict(bulk_data_threshold=inline,
                                             bulk_data_element_handler=handler)["7FE00010"]
    assert ds.to_json_dict(bulk_data_threshold=inline - 4,
                           bulk_data_element_handler=handler)["7FE00010"] == {
        "vr": "OW", "BulkDataURI": "uri"}
    # a big endian file: the bytes as held, like pydicom
    path = get_testdata_file("MR_small_bigendian.dcm")
    assert fastdicom.dcmread(path).to_json_dict() == pydicom.dcmread(path).to_json_dict()


def test_from_json_bulk_data_uri_handlers():
    js = {"7FE00010": {"vr": "OB", "BulkDataURI": "https://x/1"},
          "00100010": {"vr": "PN", "Value": [{"Alphabetic": "A^B"}]}}
    calls = []

    def three(tag, vr, uri):
        calls.append((tag, vr, uri))
        return b"\x00\x01"

    ds = dicomjson.from_json(js, three)
    assert calls == [("7FE00010", "OB", "https://x/1")]
    assert ds.PixelData == b"\x00\x01"
    ds = Dataset.from_json(js, lambda uri: uri.encode())  # one parameter: the URI only
    assert ds.PixelData == b"https://x/1"
    with pytest.warns(UserWarning, match="No bulk data URI handler"):
        ds = dicomjson.from_json(js)
    assert ds[0x7FE00010].value is None and ds[0x7FE00010].VM == 0
    # InlineBinary and BulkDataURI also in an array (PS3.18's example)
    ds = dicomjson.from_json({"7FE00010": {"vr": "OB", "InlineBinary": [base64.b64encode(b"ab").decode()]}})
    assert ds.PixelData == b"ab"


def test_from_json_un_and_odd_inputs():
    # a known public tag given as UN gets its dictionary VR and its value decoded
    # (implicit VR little endian); pydicom fails on this one (single US value)
    js = {"00280010": {"vr": "UN", "InlineBinary": base64.b64encode(b"\x00\x02").decode()},
          "00100010": {"vr": "UN", "InlineBinary": base64.b64encode(b"Doe^John").decode()},
          "00091001": {"vr": "UN", "InlineBinary": base64.b64encode(b"\x01\x02").decode()},
          "00090010": {"vr": "UN", "InlineBinary": base64.b64encode(b"ACME ").decode()}}
    ds = dicomjson.from_json(js)
    assert (ds[0x00280010].VR, ds.Rows) == ("US", 512)
    assert (ds[0x00100010].VR, ds.PatientName) == ("PN", "Doe^John")
    assert (ds[0x00091001].VR, ds[0x00091001].value) == ("UN", b"\x01\x02")
    assert (ds[0x00090010].VR, ds[0x00090010].value) == ("LO", "ACME")
    # PN as a plain string (some servers): accepted, with a warning
    with pytest.warns(UserWarning, match="not formatted correctly"):
        ds = dicomjson.from_json({"00100010": {"vr": "PN", "Value": ["Doe^John"]}})
    assert ds.PatientName == "Doe^John"
    with pytest.warns(UserWarning, match="Invalid value"):
        ds = dicomjson.from_json({"00209165": {"vr": "AT", "Value": ["zz"]}})
    assert ds[0x00209165].value is None
    with pytest.raises(KeyError, match="vr"):
        dicomjson.from_json({"00100010": {"Value": ["x"]}})
    with pytest.raises(TypeError, match="must be a list"):
        dicomjson.from_json({"00100020": {"vr": "LO", "Value": "x"}})
    with pytest.raises(TypeError):
        dicomjson.from_json([1, 2])
    assert dicomjson.from_json(b'{"00100020": {"vr": "LO", "Value": ["id"]}}').PatientID == "id"


def test_suppress_invalid_tags(caplog):
    ds = Dataset()
    ds.add(DataElement(0x00100020, "LO", "id"))
    bad = DataElement(0x00200013, "IS", "1")
    bad._value = "1A"  # a value pydicom's reader too keeps as text
    ds.add(bad)
    item = Dataset()
    item.add(bad)
    item.add(DataElement(0x00081155, "UI", "1.2.3"))
    ds.add(DataElement(0x00081115, "SQ", [item]))
    with pytest.raises(ValueError):
        ds.to_json_dict()
    with caplog.at_level(logging.WARNING, logger="fastdicom"):
        d = ds.to_json_dict(suppress_invalid_tags=True)
    assert "00200013" not in d and d["00100020"] == {"vr": "LO", "Value": ["id"]}
    # left out where it is: the sequence keeps its other elements
    assert d["00081115"]["Value"] == [{"00081155": {"vr": "UI", "Value": ["1.2.3"]}}]
    assert "00200013" in caplog.text


def test_to_json_text_and_dump_handler():
    path = get_testdata_file("CT_small.dcm")
    ours, theirs = fastdicom.dcmread(path), pydicom.dcmread(path)
    assert ours.to_json() == theirs.to_json()
    assert ours.to_json(dump_handler=lambda d: json.dumps(d, indent=2)) == \
        theirs.to_json(dump_handler=lambda d: json.dumps(d, indent=2))
    assert json.loads(ours.to_json(bulk_data_threshold=10, bulk_data_element_handler=lambda e: "u")) == \
        ours.to_json_dict(bulk_data_threshold=10, bulk_data_element_handler=lambda e: "u")


def test_edited_and_datetime_values():
    path = get_testdata_file("rtplan.dcm")
    ds = fastdicom.dcmread(path)
    ds.PatientName = "New^Name"
    ds.add(DataElement(0x00181030, "LO", "edited"))
    ds[0x300A0010].value[0].DoseReferenceNumber = 7
    d = ds.to_json_dict()
    assert d["00100010"]["Value"] == [{"Alphabetic": "New^Name"}]
    assert d["300A0010"]["Value"][0]["300A0012"]["Value"] == [7]
    assert d["00181030"]["Value"] == ["edited"]
    from fastdicom import config

    old = config.datetime_conversion
    config.datetime_conversion = True
    try:
        fresh = fastdicom.dcmread(path)
        d2 = fresh.to_json_dict()
    finally:
        config.datetime_conversion = old
    assert d2["00080012"] == {"vr": "DA", "Value": ["20030903"]}  # text, not a date object
    json.dumps(d2)


def test_items_inherit_the_character_set():
    js = {"00080005": {"vr": "CS", "Value": ["ISO_IR 100"]},
          "00081115": {"vr": "SQ", "Value": [
              {"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Müller^Jürgen"}]}}]}}
    ds = dicomjson.from_json(js)
    item = ds[0x00081115].value[0]
    assert item._character_set() == ["latin_1"]
    try:
        from fastdicom.writer import dcmwrite
    except ImportError:
        return
    import io

    buf = io.BytesIO()
    dcmwrite(buf, ds, implicit_vr=False, little_endian=True)
    assert "Müller^Jürgen".encode("latin-1") in buf.getvalue()
