"""File layer: preamble and DICM, file meta, transfer syntax, deflate, inputs."""
from __future__ import annotations

import io
import os
import struct
import warnings
import zlib

import pydicom
import pytest
from dicombytes import elem
from pydicom.data import get_testdata_file

import fastdicom
from fastdicom.errors import DeflateError, NotDicomError


def meta(ts: str, group_length: int | None = None) -> bytes:
    uid = ts.encode() + (b"\0" if len(ts) % 2 else b"")
    body = elem(0x00020001, "OB", b"\0\1") + elem(0x00020010, "UI", uid)
    gl = len(body) if group_length is None else group_length
    return elem(0x00020000, "UL", struct.pack("<L", gl)) + body


def file_bytes(ts: str, dataset: bytes, preamble: bytes = b"\0" * 128, **kw) -> bytes:
    return preamble + b"DICM" + meta(ts, **kw) + dataset


DS = elem(0x00080060, "CS", b"CT") + elem(0x00100010, "PN", b"DOE^JOHN")


def test_explicit_le_file_from_bytes_path_and_file_object(tmp_path):
    data = file_bytes("1.2.840.10008.1.2.1", DS)
    p = tmp_path / "a.dcm"
    p.write_bytes(data)
    for src in (data, bytearray(data), memoryview(data), str(p), p, io.BytesIO(data), open(p, "rb")):
        ds = fastdicom.dcmread(src)
        assert ds.preamble == b"\0" * 128
        assert ds.transfer_syntax_uid == "1.2.840.10008.1.2.1"
        assert not ds.is_implicit_VR and ds.is_little_endian
        assert ds.keys() == [0x00080060, 0x00100010]
        assert ds[0x00100010].value == "DOE^JOHN" and ds.PatientName == "DOE^JOHN"
        assert ds[(0x0008, 0x0060)].VR == "CS"
        assert ds.file_meta.keys() == [0x00020000, 0x00020001, 0x00020010]
    assert fastdicom.dcmread(str(p)).filename == str(p)


def test_implicit_and_big_endian_files():
    implicit = elem(0x00080060, "", b"CT", explicit=False) + elem(0x00100010, "", b"DOE^JOHN", explicit=False)
    ds = fastdicom.dcmread(file_bytes("1.2.840.10008.1.2", implicit))
    assert ds.is_implicit_VR and ds[0x00100010].VR == "PN"
    big = elem(0x00080060, "CS", b"CT", little=False) + elem(0x00280010, "US", b"\x02\x00", little=False)
    ds = fastdicom.dcmread(file_bytes("1.2.840.10008.1.2.2", big))
    assert not ds.is_little_endian and ds.keys() == [0x00080060, 0x00280010]
    assert ds[0x00280010].value == 512 and ds.Modality == "CT"


def test_deflated_dataset_is_inflated():
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = c.compress(DS) + c.flush()
    ds = fastdicom.dcmread(file_bytes("1.2.840.10008.1.2.1.99", deflated))
    assert ds.is_deflated and ds.PatientName == "DOE^JOHN"


def test_deflated_corpus_file_matches_pydicom():
    path = get_testdata_file("image_dfl.dcm")
    theirs = pydicom.dcmread(path)
    ours = fastdicom.dcmread(path)
    assert [int(t) for t in ours.keys()] == [int(t) for t in theirs.keys()]
    assert ours.PatientName == theirs.PatientName


def test_inflate_limit_and_corrupt_stream():
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = c.compress(elem(0x00420011, "OB", b"\0" * 5_000_000)) + c.flush()
    assert len(bomb) < 10_000
    with pytest.raises(DeflateError):
        fastdicom.dcmread(file_bytes("1.2.840.10008.1.2.1.99", bomb), max_inflated_size=1_000_000)
    assert len(fastdicom.dcmread(file_bytes("1.2.840.10008.1.2.1.99", bomb))) == 1
    with pytest.raises(DeflateError):
        fastdicom.dcmread(file_bytes("1.2.840.10008.1.2.1.99", b"\xff\xfe garbage"))
    with pytest.raises(DeflateError):  # stream cut short
        fastdicom.dcmread(file_bytes("1.2.840.10008.1.2.1.99", bomb[: len(bomb) // 2]))


def test_missing_dicm_needs_force():
    with pytest.raises(NotDicomError):
        fastdicom.dcmread(DS)
    ds = fastdicom.dcmread(DS, force=True)
    assert ds.preamble is None and len(ds.file_meta) == 0
    assert not ds.is_implicit_VR  # guessed from the data, as pydicom does
    implicit = elem(0x00100010, "", b"DOE^JOHN", explicit=False)
    assert fastdicom.dcmread(implicit, force=True).is_implicit_VR
    # explicit big endian without meta: a group number too large read little endian
    big = elem(0x00080060, "CS", b"CT", little=False)
    ds = fastdicom.dcmread(big, force=True)
    assert not ds.is_little_endian and ds.keys() == [0x00080060]
    # meta without preamble
    ds = fastdicom.dcmread(meta("1.2.840.10008.1.2.1") + DS, force=True)
    assert ds.transfer_syntax_uid == "1.2.840.10008.1.2.1" and len(ds) == 2


def test_empty_and_non_dicom_input(tmp_path):
    p = tmp_path / "empty.dcm"
    p.write_bytes(b"")
    for src in (b"", str(p)):
        with pytest.raises(NotDicomError):
            fastdicom.dcmread(src, force=True)
    with pytest.raises(NotDicomError):
        fastdicom.dcmread(b"hello world" * 20)
    with pytest.raises(TypeError):
        fastdicom.dcmread(12345)


def test_group_length_is_checked_not_trusted():
    data = file_bytes("1.2.840.10008.1.2.1", DS, group_length=4)
    with pytest.warns(UserWarning, match="Group Length"):
        ds = fastdicom.dcmread(data)
    assert len(ds.file_meta) == 3 and len(ds) == 2


def test_transfer_syntax_disagreeing_with_data_warns_and_follows_data():
    implicit = elem(0x00100010, "", b"DOE^JOHN", explicit=False)
    with pytest.warns(UserWarning, match="Expected explicit VR, but found implicit VR"):
        ds = fastdicom.dcmread(file_bytes("1.2.840.10008.1.2.1", implicit))
    assert ds[0x00100010].VR == "PN"


def test_specific_tags_stop_early_and_filter():
    data = file_bytes("1.2.840.10008.1.2.1", elem(0x00080005, "CS", b"ISO_IR 100") + DS
                      + elem(0x00200013, "IS", b"1 ") + elem(0x7FE00010, "OW", b"\0" * 8))
    ds = fastdicom.dcmread(data, specific_tags=[0x00100010, (0x0008, 0x0060)])
    assert ds.keys() == [0x00080005, 0x00080060, 0x00100010]
    assert 0x00200013 not in ds
    # the walk stopped after the last wanted tag
    assert len(ds.tokens) == 3


def test_path_read_is_memory_mapped(tmp_path):
    """Small files are read whole; longer ones are mapped (when pixel data
    ends them, only once its value is used: see test_pixels_lazy.py)."""
    import mmap

    p = tmp_path / "a.dcm"
    p.write_bytes(file_bytes("1.2.840.10008.1.2.1", DS))
    ds = fastdicom.dcmread(str(p))
    assert isinstance(ds.tokens.obj, bytes) and ds.tokens.tail is None
    assert ds.PatientName == "DOE^JOHN"
    big = elem(0x00091010, "OB", b"\x01" * 70000)  # longer than a first read, not pixel data
    p.write_bytes(file_bytes("1.2.840.10008.1.2.1", DS + big))
    ds = fastdicom.dcmread(str(p))
    assert isinstance(ds.tokens.obj, mmap.mmap) and ds.tokens.tail is None
    assert ds[0x00091010].value == b"\x01" * 70000


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small_bigendian.dcm", "rtplan.dcm", "no_meta_group_length.dcm"])
def test_corpus_file_reads_like_pydicom(name):
    path = get_testdata_file(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pydicom.dcmread(path, force=True)
        ours = fastdicom.dcmread(path, force=True)
    assert [int(t) for t in ours.keys()] == [int(t) for t in theirs.keys()]
    assert os.path.samefile(ours.filename, path)


@pytest.mark.parametrize("size", [0xFFFE, 0xFFFF, 0x10000])
def test_explicit_un_of_a_known_tag_is_replaced_unless_too_long(size):
    """An explicit UN of a public tag takes the dictionary VR when its value
    would fit a 16-bit length; a longer one stays UN (pydicom's rule)."""
    value = b"A" * size
    data = file_bytes("1.2.840.10008.1.2.1",
                      elem(0x00081030, "UN", value) +  # Study Description, LO
                      elem(0x00091010, "UN", b"XYZ "))  # private, no creator: stays UN
    ours = fastdicom.dcmread(data)
    theirs = pydicom.dcmread(io.BytesIO(data))
    for tag in (0x00081030, 0x00091010):
        assert ours[tag].VR == theirs[tag].VR
    assert ours[0x00081030].VR == ("UN" if size >= 0xFFFF else "LO")
    assert ours[0x00081030].value == theirs[0x00081030].value
