"""Interoperability of the files fastdicom writes: DCMTK's ``dcmdump`` reads
them without errors or warnings, and pydicom reads them equal.

``dcmdump`` runs without ``-q`` (which would silence the warnings checked for);
a file passes if it exits with status 0 and prints no ``W:``, ``E:`` or ``F:``
line. DCMTK is required: without ``dcmdump`` on the PATH every test here fails
with instructions (``apt-get install -y dcmtk``); set ``FASTDICOM_SKIP_DCMTK=1``
to skip them explicitly (reported as skipped, with the reason).

Corpus files are judged against the original: a file DCMTK reads cleanly must
be written so that it still does (round trip, and each of the 4 uncompressed
transfer syntaxes with ``enforce_file_format=True``); a file with problems of
its own (odd lengths, garbage pydicom reads with force=True...) may keep those
problems but get no new ones. One notice is expected and allowed: in implicit
VR a *private* sequence of undefined length is read by DCMTK as UN with
undefined length (CP-246), since implicit VR cannot tell DCMTK it is a sequence.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import warnings

import numpy as np
import pydicom
import pytest
from corpus import CORPUS, corpus_id
from test_differential_dataset import compare_datasets
from test_differential_tokenizer import KNOWN_MALFORMED, read_pydicom
from test_writer import (DEFLATED, ENCODINGS, IMPLICIT, SYNTAXES, Dataset, Sequence,
                         assert_same_content, file_specs, _build)

import fastdicom
from fastdicom import encaps
from fastdicom.writer import FileMetaError, convert, dcmwrite

from hypothesis import HealthCheck, given, settings  # noqa: E402

READABLE = [p for p in CORPUS if os.path.basename(p) not in KNOWN_MALFORMED]
_CP246 = re.compile(r"^W: Found element \(([0-9a-f]{4}),[0-9a-f]{4}\) with VR UN and undefined "
                    r"length, reading a sequence with transfer syntax LittleEndianImplicit")


@pytest.fixture(scope="session")
def dcmdump():
    path = shutil.which("dcmdump")
    if path is None:
        if os.environ.get("FASTDICOM_SKIP_DCMTK") == "1":
            pytest.skip("DCMTK's dcmdump is not installed and FASTDICOM_SKIP_DCMTK=1")
        pytest.fail("DCMTK's dcmdump is required by tests/test_writer_interop.py and is not on "
                    "the PATH: install DCMTK (apt-get install -y dcmtk; brew install dcmtk; "
                    "conda install -c conda-forge dcmtk), or set FASTDICOM_SKIP_DCMTK=1 to "
                    "skip these tests explicitly", pytrace=False)
    return path


def problems(dcmdump, path, implicit=False):
    """(exit status, the W:/E:/F: lines) of ``dcmdump path``; with ``implicit``
    the CP-246 notice for private sequences is left out."""
    run = subprocess.run([dcmdump, str(path)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, errors="replace", timeout=120)
    lines = [line for line in run.stderr.splitlines() if line[:2] in ("W:", "E:", "F:")]
    if implicit:
        lines = [line for line in lines
                 if not ((m := _CP246.match(line)) and int(m[1], 16) % 2 == 1)]
    return run.returncode, lines


def assert_clean(dcmdump, path, implicit=False):
    status, lines = problems(dcmdump, path, implicit)
    assert status == 0 and not lines, f"dcmdump {path}: status {status}: {lines}"


def _read_both(path):
    theirs, force = read_pydicom(path)
    if isinstance(theirs, Exception):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fastdicom.dcmread(path, force=force), pydicom.dcmread(path, force=force)


def _pd(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path, force=True)


@pytest.mark.parametrize("path", READABLE, ids=[corpus_id(p) for p in READABLE])
def test_corpus_files_written_are_read_by_dcmtk(path, dcmdump, tmp_path):
    both = _read_both(path)
    if both is None:
        return
    ours, theirs = both
    status0, lines0 = problems(dcmdump, path)
    outputs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        round_trip = tmp_path / "round_trip.dcm"
        dcmwrite(round_trip, ours)
        outputs.append((round_trip, bool(ours.is_implicit_VR), None))
        for ts in SYNTAXES:
            try:
                converted = convert(ours, ts)
            except ValueError:  # compressed pixel data: cannot change syntax
                continue
            target = tmp_path / f"{ts}.dcm"
            try:
                dcmwrite(target, converted, enforce_file_format=True)
            except FileMetaError:  # no SOP Class/Instance UID to make a file meta of
                assert not (ours.get("SOPClassUID") and ours.get("SOPInstanceUID"))
                dcmwrite(target, converted)
            outputs.append((target, ts == IMPLICIT, ts))
    for target, implicit, ts in outputs:
        status, lines = problems(dcmdump, target, implicit)
        if status0 == 0 and not lines0:
            assert status == 0 and not lines, f"{target.name}: {lines}"
        else:  # problems of the original's may stay; none may be added
            assert status == 0 or status0 != 0, f"{target.name}: status {status}: {lines}"
            assert set(lines) <= set(lines0), f"{target.name}: {set(lines) - set(lines0)}"
        written = _pd(target)
        if ts is None:
            assert written == theirs
        else:
            assert_same_content(theirs, written, bool(ours.is_little_endian), ENCODINGS[ts][1],
                                bool(ours.is_implicit_VR) or ts == IMPLICIT, corpus_id(path))


# ------------------------------------------------------------ made by fastdicom
def _image(rows=4, cols=6, bits=16, frames=1):
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = fastdicom.uid.generate_uid()
    ds.PatientName = "Interop^Test"
    ds.Modality = "OT"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated = ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    pixels = np.arange(rows * cols * frames, dtype=f"<u{bits // 8}")
    ds.add_new(0x7FE00010, "OW" if bits > 8 else "OB", pixels.tobytes())
    return ds, pixels


@pytest.mark.parametrize("ts", SYNTAXES)
def test_new_images_in_every_syntax(ts, dcmdump, tmp_path):
    for bits in (8, 16, 32):
        ds, pixels = _image(bits=bits, frames=2)
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "121", "DCM", "odd length"
        ds.add_new(0x00081032, "SQ", Sequence([item]))
        ds[0x00081032].is_undefined_length = True
        ds.file_meta = Dataset()
        ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
        target = tmp_path / f"{bits}.dcm"
        dcmwrite(target, convert(ds, ts), enforce_file_format=True)
        assert_clean(dcmdump, target, ts == IMPLICIT)
        theirs = _pd(target)
        assert np.array_equal(theirs.pixel_array.ravel(), pixels)
        assert theirs.ProcedureCodeSequence[0].CodeMeaning == "odd length"


def test_encapsulated_pixel_data(dcmdump, tmp_path):
    frames = [b"\xff\xd8\xff\xe0" + bytes(range(k, k + 33)) + b"\xff\xd9" for k in range(3)]
    for extended in (False, True):
        ds, _ = _image(frames=3)
        ds.file_meta = Dataset()
        ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.50"
        if extended:
            value, offsets, lengths = encaps.encapsulate_extended(frames)
            ds.PixelData = value
            ds.ExtendedOffsetTable = offsets
            ds.ExtendedOffsetTableLengths = lengths
        else:
            ds.PixelData = encaps.encapsulate(frames)
        target = tmp_path / f"jpeg{extended}.dcm"
        dcmwrite(target, ds, enforce_file_format=True)
        assert_clean(dcmdump, target)
        theirs = _pd(target)
        frames_read = pydicom.encaps.generate_frames(
            theirs.PixelData, number_of_frames=3,
            extended_offsets=(theirs.ExtendedOffsetTable, theirs.ExtendedOffsetTableLengths)
            if extended else None)
        assert [f.rstrip(b"\x00") for f in frames_read] == frames


def test_long_values_and_deflate(dcmdump, tmp_path):
    ds, _ = _image()
    ds.add_new(0x00081030, "LO", "x" * 70001)  # too long for LO: UN in explicit VR
    ds.add_new(0x00091001, "UN", b"\x01\x02\x03")  # odd: padded
    ds.file_meta = Dataset()
    for ts in SYNTAXES:
        ds.file_meta.TransferSyntaxUID = ts
        target = tmp_path / "long.dcm"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dcmwrite(target, ds, enforce_file_format=True)
        assert_clean(dcmdump, target, ts == IMPLICIT)
        value = _pd(target)[0x00081030].value  # UN (bytes) in explicit VR, LO in implicit
        assert (value.encode() if isinstance(value, str) else value).rstrip(b" ") == b"x" * 70001


_FEW = settings(max_examples=int(os.environ.get("FASTDICOM_HYPOTHESIS_EXAMPLES", "0")) or 25,
                deadline=None, derandomize=not os.environ.get("FASTDICOM_HYPOTHESIS_EXAMPLES"),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture], database=None)


@_FEW
@given(drawn=file_specs())
def test_random_datasets_read_by_dcmtk(drawn, dcmdump, tmp_path):
    _wide, specs = drawn
    ds = _build(specs, Dataset, Sequence)
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4"
    ds.file_meta = Dataset()
    for ts in SYNTAXES:
        ds.file_meta.TransferSyntaxUID = ts
        target = tmp_path / "random.dcm"
        dcmwrite(target, ds, enforce_file_format=True)
        assert_clean(dcmdump, target, ts == IMPLICIT)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compare_datasets(fastdicom.dcmread(target), _pd(target), ts)
