"""The pydicom bridge: ``Dataset.to_pydicom()`` and ``fastdicom.from_pydicom()``.

Over the corpus: ``to_pydicom(dcmread(f))`` equals ``pydicom.dcmread(f)``
(``==``, ``str()``, file meta, preamble, encodings, values of pydicom's own
types at every depth); ``from_pydicom(pydicom.dcmread(f))`` equals
``fastdicom.dcmread(f)`` element by element (``compare_datasets``).
"""
from __future__ import annotations

import os
import sys
import warnings

import pydicom
import pytest
from corpus import CORPUS, corpus_id
from pydicom.data import get_testdata_file
from test_differential_dataset import compare_datasets
from test_differential_tokenizer import KNOWN_MALFORMED, read_pydicom

import fastdicom
from fastdicom import DataElement, Dataset, FileDataset, bridge

READABLE = [p for p in CORPUS if os.path.basename(p) not in KNOWN_MALFORMED]


def read_both(path):
    theirs, force = read_pydicom(path)
    if isinstance(theirs, Exception):
        return None, None, force
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pydicom.dcmread(path, force=force)
        ours = fastdicom.dcmread(path, force=force)
    return ours, theirs, force


def same_types(a, b, where):
    """Every value of the pydicom datasets ``a`` and ``b`` is of the same type
    (items of several values too), at every depth."""
    assert type(a) is type(b), where
    for ea in a:
        eb = b[ea.tag]
        label = f"{where} {ea.tag}"
        va, vb = ea.value, eb.value
        assert type(va) is type(vb), f"{label}: {type(va)} != {type(vb)}"
        assert ea.private_creator == eb.private_creator, label
        assert ea.is_undefined_length == eb.is_undefined_length, label
        if isinstance(vb, pydicom.multival.MultiValue) and not isinstance(vb, pydicom.Sequence):
            assert [type(x) for x in va] == [type(x) for x in vb], label
        if ea.VR == "SQ":
            assert len(va) == len(vb), label
            for k, (x, y) in enumerate(zip(va, vb)):
                assert x.is_undefined_length_sequence_item == y.is_undefined_length_sequence_item
                assert (x._read_implicit, x._read_little) == (y._read_implicit, y._read_little), label
                assert x.original_character_set == y.original_character_set, label
                assert x._parent_encoding == y._parent_encoding, label
                same_types(x, y, f"{label}[{k}]")


@pytest.mark.parametrize("path", READABLE, ids=[corpus_id(p) for p in READABLE])
def test_to_pydicom_equals_dcmread(path):
    ours, theirs, _ = read_both(path)
    if theirs is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        conv = ours.to_pydicom()
        assert type(conv) is pydicom.dataset.FileDataset
        assert conv == theirs
        assert conv.file_meta == theirs.file_meta
        assert type(conv.file_meta) is pydicom.dataset.FileMetaDataset
        assert str(conv) == str(theirs)
        assert conv.preamble == theirs.preamble
        assert conv.filename == theirs.filename
        assert (conv.is_implicit_VR, conv.is_little_endian) == (theirs.is_implicit_VR, theirs.is_little_endian)
        assert conv.original_encoding == theirs.original_encoding
        assert conv.original_character_set == theirs.original_character_set
        same_types(conv, theirs, corpus_id(path))
        same_types(conv.file_meta, theirs.file_meta, "file_meta")


@pytest.mark.parametrize("path", READABLE, ids=[corpus_id(p) for p in READABLE])
def test_from_pydicom_equals_dcmread(path):
    ours, theirs, force = read_both(path)
    if theirs is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = fastdicom.from_pydicom(theirs)
        assert type(back) is FileDataset
        compare_datasets(back.file_meta, ours.file_meta, "file_meta")
        compare_datasets(back, ours, corpus_id(path))
        assert back.preamble == ours.preamble
        assert back.transfer_syntax_uid == ours.transfer_syntax_uid
        assert back.is_deflated == ours.is_deflated
        assert (back.is_implicit_VR, back.is_little_endian) == (ours.is_implicit_VR, ours.is_little_endian)
        assert str(back) == str(ours)


def corpus_path(name):
    return next(p for p in CORPUS if os.path.basename(p) == name)


@pytest.mark.parametrize("name", ["CT_small.dcm", "rtplan.dcm", "chrH32.dcm", "chrSQEncoding.dcm",
                                  "UN_sequence.dcm", "MR_small_bigendian.dcm", "emri_small.dcm"])
def test_round_trip_through_pydicom(name):
    path = corpus_path(name)
    ours = fastdicom.dcmread(path)
    back = fastdicom.from_pydicom(ours.to_pydicom())
    compare_datasets(back, ours, name)
    assert back == ours
    # and the other way
    theirs = pydicom.dcmread(path)
    assert fastdicom.from_pydicom(theirs).to_pydicom() == theirs


def test_edited_and_built_datasets():
    path = get_testdata_file("rtplan.dcm")
    ours = fastdicom.dcmread(path)
    ours.PatientName = "Edited^Name"
    ours.add(DataElement(0x00181030, "LO", ["a", "b"]))
    ours.add(DataElement(0x00280030, "DS", ["0.5", "1.25"]))
    ours[0x300A0010].value[0].DoseReferenceNumber = 9
    del ours[0x00080070]
    conv = ours.to_pydicom()
    assert conv.PatientName == "Edited^Name"
    assert isinstance(conv.PatientName, pydicom.valuerep.PersonName)
    assert conv.ProtocolName == ["a", "b"] and isinstance(conv.ProtocolName, pydicom.multival.MultiValue)
    assert [str(x) for x in conv.PixelSpacing] == ["0.5", "1.25"]
    assert all(isinstance(x, pydicom.valuerep.DSfloat) for x in conv.PixelSpacing)
    assert conv.DoseReferenceSequence[0].DoseReferenceNumber == 9
    assert isinstance(conv.DoseReferenceSequence[0].DoseReferenceNumber, pydicom.valuerep.IS)
    assert "Manufacturer" not in conv
    # a dataset built by hand gives a plain pydicom Dataset
    ds = Dataset()
    ds.PatientID = "id"
    ds.add(DataElement(0x00209165, "AT", [0x00100010, 0x00100020]))
    ds.add(DataElement(0x00082112, "SQ", [Dataset()]))
    pds = ds.to_pydicom()
    assert type(pds) is pydicom.Dataset
    assert pds.PatientID == "id" and pds[0x00209165].value == [0x00100010, 0x00100020]
    assert all(isinstance(t, pydicom.tag.BaseTag) for t in pds[0x00209165].value)
    assert len(pds[0x00082112].value) == 1
    back = fastdicom.from_pydicom(pds)
    assert type(back) is Dataset and back == ds


def test_from_pydicom_values_of_fastdicom_types():
    pds = pydicom.Dataset()
    pds.PatientName = "Yamada^Tarou=山田^太郎"
    pds.SpecificCharacterSet = ["ISO_IR 100", "ISO 2022 IR 87"]
    pds.SliceThickness = "1.50"
    pds.InstanceNumber = "0012"
    pds.ImagePositionPatient = ["1", "2.5", "-3"]
    pds.SOPInstanceUID = "1.2.3"
    pds.Rows = 512
    pds.add_new(0x00091010, "LO", "x")
    block = pds.private_block(0x0011, "ACME", create=True)
    block.add_new(0x01, "SH", "private")
    ds = fastdicom.from_pydicom(pds)
    assert isinstance(ds.PatientName, fastdicom.PersonName)
    assert ds.PatientName.ideographic == "山田^太郎"
    assert isinstance(ds.SliceThickness, fastdicom.DSfloat) and str(ds.SliceThickness) == "1.50"
    assert isinstance(ds.InstanceNumber, fastdicom.IS) and str(ds.InstanceNumber) == "0012"
    assert isinstance(ds.ImagePositionPatient, fastdicom.MultiValue)
    assert isinstance(ds.SOPInstanceUID, fastdicom.UID)
    assert ds[0x00111001].private_creator == "ACME" and ds[0x00111001].value == "private"
    assert ds.Rows == 512


def test_pydicom_missing(monkeypatch):
    monkeypatch.setattr(bridge, "_PYDICOM", None)
    monkeypatch.setitem(sys.modules, "pydicom", None)
    with pytest.raises(ImportError, match="pip install pydicom"):
        Dataset().to_pydicom()
    with pytest.raises(ImportError, match="needs pydicom"):
        fastdicom.from_pydicom(object())


def test_from_pydicom_needs_a_dataset():
    with pytest.raises(TypeError, match="pydicom Dataset"):
        fastdicom.from_pydicom({"a": 1})


def test_items_inherit_the_character_set():
    pds = pydicom.Dataset()
    pds.SpecificCharacterSet = "ISO_IR 100"
    item = pydicom.Dataset()
    item.PatientName = "Müller^Jürgen"
    pds.ReferencedStudySequence = [item]
    ds = fastdicom.from_pydicom(pds)
    assert ds.ReferencedStudySequence[0]._character_set() == ["latin_1"]
    assert ds.ReferencedStudySequence[0].PatientName == "Müller^Jürgen"
