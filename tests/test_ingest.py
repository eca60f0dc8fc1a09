"""fastdicom.ingest (issue 6 "Ingestion at scale"): scan(), scan_batches(),
scan_pandas(), series/study summaries, the ``fastdicom index`` command and the
sample generator.

The table is checked against what ``fastdicom.dcmread`` gives for every file
of the corpus (pydicom's test files and pydicom-data) and against pydicom's
``str()`` for text; the vectorized path against the Dataset-API path on every
tag found in the corpus; bad files (truncated, not DICOM, empty, vanished,
directories, FIFOs) become error rows; threads, processes, batches and a
single pass give the same table.
"""
from __future__ import annotations

import datetime
import io
import json
import os
import subprocess
import sys
import warnings
from decimal import Decimal

import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import pydicom  # noqa: E402
from corpus import CORPUS, corpus_id  # noqa: E402

import fastdicom  # noqa: E402
from fastdicom import datadict, ingest, sample  # noqa: E402
from fastdicom._ingest_convert import parse_da, parse_dt, parse_tm  # noqa: E402
from fastdicom.cli import main as cli_main  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# many VRs, multiplicities, nested paths, private and meta tags
WIDE_TAGS = list(ingest.DEFAULT_TAGS) + [
    "SpecificCharacterSet", "ReferencedImageSequence", "WindowCenter", "WindowWidth",
    "RescaleIntercept", "RescaleSlope", "PatientWeight", "PatientSize", "EchoTime",
    "RepetitionTime", "FlipAngle", "AcquisitionMatrix", "LargestImagePixelValue",
    "SmallestImagePixelValue", "RedPaletteColorLookupTableDescriptor", "FrameIncrementPointer",
    "ReferencedFrameNumber", "StationName", "OperatorsName", "OtherPatientIDs", "ImageComments",
    "DerivationDescription", "InstanceCreationTime", "InstanceCreationDate", "PatientBirthTime",
    "PixelPaddingValue", "BitsStored", "HighBit", "PlanarConfiguration", "Laterality",
    "ImagesInAcquisition", "RealWorldValueMappingSequence", "PatientOrientation",
    "ImagerPixelSpacing", "RetrieveAETitle", "ExposureTime", "KVP", "GantryDetectorTilt",
    "ContentLabel", "DateOfLastCalibration", "TimeOfLastCalibration", "IconImageSequence",
    "RedPaletteColorLookupTableData", "TransferSyntaxUID", "ImplementationVersionName",
    "ReferencedImageSequence[0].ReferencedSOPInstanceUID",
    "SourceImageSequence[0].ReferencedSOPClassUID",
    "ProcedureCodeSequence[0].CodeValue",
    "RequestAttributesSequence[0].ScheduledProcedureStepID",
    "SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing",
    "PerFrameFunctionalGroupsSequence[-1].FrameContentSequence[0].InStackPositionNumber",
    "IconImageSequence[0].Rows", "ReferencedStudySequence[0].ReferencedSOPClassUID",
    "0009,0010", "0009,1001", "0029,1010", "0043,1001",
]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("sample")
    infos = sample.generate(d, series=4, slices=6, studies=2)
    return str(d), infos


@pytest.fixture(scope="module")
def corpus_table():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ingest.scan(CORPUS, WIDE_TAGS, workers=2, batch_size=64)


def _rows_by_path(table):
    return {r["path"]: r for r in table.to_pylist()}


# ------------------------------------------------------------------ an independent oracle

def _resolve(ds, col):
    for tag, index in col.steps[:-1]:
        elem = ds.get(tag)
        if elem is None or not isinstance(elem.value, list):
            return None
        items = elem.value
        if not -len(items) <= index < len(items):
            return None
        ds = items[index]
    tag = col.steps[-1][0]
    if tag >> 16 == 2 and not col.nested:
        ds = ds.file_meta
    return ds.get(tag)


def _as_list(v):
    if isinstance(v, (list, tuple)) or type(v).__name__ in ("MultiValue", "Sequence"):
        return list(v)
    return [v]


def _number(x, want_int):
    if isinstance(x, bool) or x is None:
        return None
    if want_int:
        return int(x) if isinstance(x, int) else None
    if isinstance(x, (int, float, Decimal)):
        return float(x)
    return None


def expected(value, col):
    """What the column should hold for an element whose value (as dcmread
    gives it) is ``value``: written from the documented rules, not from
    fastdicom.ingest's code."""
    kind, multi = col.kind, col.multi
    if kind == "seq":
        return len(value)
    if kind in ("ae", "cs", "ui", "ur", "text", "text1", "pn", "any"):
        if value is None:
            return [] if multi else (None if kind == "any" else "")
        items = _as_list(value)
        strs = [x.hex() if isinstance(x, bytes) else ("" if x is None else str(x)) for x in items]
        if multi:
            return [] if strs == [""] else strs
        return "\\".join(strs)
    if kind in ("ds", "float", "is", "int", "uint", "at"):
        want_int = kind in ("is", "int", "uint", "at")
        if value is None or (isinstance(value, str) and not value.strip()):
            return [] if multi else None
        items = _as_list(value)
        if any(isinstance(x, str) and x.strip() for x in items):
            return None
        nums = [None if isinstance(x, str) else _number(x, want_int) for x in items]
        if not multi:
            return nums[0] if len(items) == 1 else None
        return nums
    if kind in ("da", "tm", "dt"):
        parse = {"da": parse_da, "tm": parse_tm, "dt": parse_dt}[kind]
        if value is None:
            return [] if multi else None
        items = [str(x) for x in _as_list(value)]
        if multi:
            return [] if items == [""] else [parse(x) for x in items]
        return parse(items[0]) if len(items) == 1 else None
    if kind == "bytes":
        return b"" if value is None else (bytes(value) if isinstance(value, bytes) else None)
    raise AssertionError(kind)


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


# ------------------------------------------------------------------ the corpus

def test_corpus_values_equal_dcmread(corpus_table):
    """Every cell of every corpus file is what fastdicom.dcmread gives (converted)."""
    cols = ingest.resolve_columns(WIDE_TAGS)
    rows = _rows_by_path(corpus_table)
    assert len(rows) == len(CORPUS)
    checked = 0
    for path in CORPUS:
        row = rows[path]
        try:
            ds = fastdicom.dcmread(path, stop_before_pixels=True)
        except Exception as exc:
            assert row["error"] and row["error"].startswith(type(exc).__name__), (path, row["error"])
            assert all(row[c.name] is None for c in cols)
            continue
        assert row["error"] is None, (corpus_id(path), row["error"])
        assert row["size"] == os.path.getsize(path)
        assert row["transfer_syntax"] == (ds.file_meta.get("TransferSyntaxUID") or None)
        sop = ds.get("SOPClassUID") or ds.file_meta.get("MediaStorageSOPClassUID")
        assert row["sop_class_uid"] == (str(sop) if sop else None), corpus_id(path)
        for col in cols:
            elem = _resolve(ds, col)
            if elem is None:
                want = None
            else:
                try:
                    value = elem.value
                except Exception:
                    want = None
                else:
                    want = expected(value, col)
            assert _same(row[col.name], want), (corpus_id(path), col.name, row[col.name], want)
            checked += 1
    assert checked > 10000


def test_corpus_strings_equal_pydicom(corpus_table):
    """Text columns hold pydicom's str() of the value (lists: of each value)."""
    rows = _rows_by_path(corpus_table)
    cols = [c for c in ingest.resolve_columns(WIDE_TAGS)
            if c.kind in ("cs", "ui", "text", "text1", "pn", "ae", "ur") and not c.nested
            and not c.meta]
    compared = 0
    for path in CORPUS:
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        row = rows[path]
        if row["error"]:
            continue
        for col in cols:
            elem = ds.get(col.tag)
            if elem is None or elem.VR in ("SQ", "UN") or elem.VR != col.vr:
                continue
            v = elem.value
            if col.multi:
                want = [str(x) for x in v] if isinstance(v, pydicom.multival.MultiValue) \
                    else ([] if str(v) == "" else [str(v)])
            elif isinstance(v, pydicom.multival.MultiValue):
                want = "\\".join(str(x) for x in v)
            else:
                want = str(v)
            assert row[col.name] == want, (corpus_id(path), col.name, row[col.name], want)
            compared += 1
    assert compared > 2000


def test_vectorized_path_equals_dataset_path():
    """The batch (Arrow) conversion and the Dataset-API conversion agree on
    every public top-level tag present anywhere in the corpus."""
    tags = set()
    for path in CORPUS:
        try:
            ds = fastdicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        tags.update(int(e.tag) for e in ds if datadict.keyword_for_tag(e.tag))
    spec = {f"{t >> 16:04X},{t & 0xFFFF:04X}": f"{t >> 16:04X},{t & 0xFFFF:04X}"
            for t in sorted(tags)}
    assert len(spec) > 300
    fast = ingest.scan(CORPUS, spec, workers=1, batch_size=100)
    slow = ingest.scan(CORPUS, spec, workers=1, batch_size=100, _slow_only=True)
    assert fast.schema == slow.schema
    for name in fast.column_names:
        a, b = fast.column(name).to_pylist(), slow.column(name).to_pylist()
        bad = [(corpus_id(fast["path"][i].as_py()), x, y) for i, (x, y) in enumerate(zip(a, b))
               if not _same(x, y)]
        assert not bad, (name, bad[:3])


def test_corpus_error_rows(corpus_table):
    errors = corpus_table.filter(pc.is_valid(corpus_table["error"]))
    assert 0 < errors.num_rows < 40
    for row in errors.to_pylist():
        assert ":" in row["error"] and "\n" not in row["error"]
        assert row["PatientID"] is None and row["transfer_syntax"] is None


# raw values of every kind, the odd ones first: what the batch conversion must
# turn into exactly what the Python conversion of fastdicom's value gives
_TEXT_RAWS = [b"A", b"A ", b" A", b"A\x00", b"", b"  ", b"A\\B", b"A \\ B ", b"\\", b"A\\",
              b"M\xfcller", b"=", b"A^B==", b"A=B", b"\tA\t", b"A\x1c", None]
_NUMBER_RAWS = [b"1", b"1.5", b" 2 ", b"-0", b"+5", b"1_0", b"nan", b"nan(1)", b"inf", b"1e999",
                b"1.", b".5", b"1e5", b"abc", b"", b"  ", b"1\\2", b"1\\\\2", b"1\\abc",
                b"12345678901234567", b"123456789012345", b"\xb21", b"007", b"1.0", None]
_DATE_RAWS = [b"20240315", b"2024.03.15", b"20240230", b"2024-03-15", b"", b"20240315\\20240316",
              b"101530.25", b"10", b"1061", b"10:15", b"20240315101530+0100", b"2024", b"x",
              b"20240315 ", b"\xff", None]


@pytest.mark.parametrize("keyword", [
    "Modality", "ImageType", "Manufacturer", "OtherPatientIDs", "SOPInstanceUID",
    "RelatedGeneralSOPClassUID", "RetrieveAETitle", "StationAETitle", "PatientName",
    "OperatorsName", "RetrieveURL", "ImageComments", "DerivationDescription", "TextValue",
    "SliceThickness", "WindowCenter", "InstanceNumber", "ReferencedFrameNumber", "StudyDate",
    "CalibrationDate", "StudyTime", "CalibrationTime", "DateTime", "PatientAge"])
def test_batch_conversion_equals_python(keyword):
    from fastdicom._ingest_convert import build_group, raw_column_value
    import numpy as np

    col = ingest.resolve_columns([keyword])[0]
    raws = _TEXT_RAWS + _NUMBER_RAWS + _DATE_RAWS
    n = len(raws)
    valid = np.array([r is not None for r in raws])
    lens = np.array([len(r) if r is not None else 0 for r in raws], np.int64)
    offs = np.zeros(n + 1, np.int64)
    np.cumsum(lens, out=offs[1:])
    data = np.frombuffer(b"".join(r for r in raws if r is not None), np.uint8)
    got = build_group([col], n, valid, offs, data, {}, [b""] * n, np.ones(n, bool), {})[0]
    want = [None if r is None else raw_column_value(r, col) for r in raws]
    assert got.type == col.arrow_type
    bad = [(r, x, y) for r, x, y in zip(raws, got.to_pylist(), want) if not _same(x, y)]
    assert not bad, bad


@pytest.mark.parametrize("keyword,raws", [
    ("Rows", [b"\x00\x02", b"", b"\x01\x00\x02\x00", b"\x01", None]),
    ("AcquisitionMatrix", [b"\x00\x02" * 4, b"", b"\x01\x00\x02\x00", b"\x01", None]),
    ("TableSpeed", [b"\x00" * 7 + b"\x40", b"", b"\x00" * 16, b"\x00" * 5, None]),
    ("RecommendedDisplayFrameRateInFloat", [b"\x00\x00\xc0\x3f", b"", b"\x00" * 3, None]),
    ("SelectorSVValue", [b"\xff" * 8, b"\x01" + b"\x00" * 15, b"", None]),
    ("SelectorUVValue", [b"\xff" * 8, b"", None]),
    ("EncapsulatedDocument", [b"%PDF", b"", None])])
def test_batch_binary_conversion_equals_python(keyword, raws):
    from fastdicom._ingest_convert import build_group, raw_column_value
    import numpy as np

    col = ingest.resolve_columns([keyword])[0]
    n = len(raws)
    valid = np.array([r is not None for r in raws])
    offs = np.zeros(n + 1, np.int64)
    np.cumsum([len(r) if r is not None else 0 for r in raws], out=offs[1:])
    data = np.frombuffer(b"".join(r for r in raws if r is not None), np.uint8)
    got = build_group([col], n, valid, offs, data, {}, [b""] * n, np.ones(n, bool), {})[0]
    want = [None if r is None else raw_column_value(r, col) for r in raws]
    assert got.to_pylist() == want


# ------------------------------------------------------------------ the generated series

def test_sample_values(sample_dir):
    d, infos = sample_dir
    t = ingest.scan(d, sort=True)
    assert t.num_rows == 24 and t["error"].null_count == 24
    assert t.schema == ingest.schema()
    rows = _rows_by_path(t)
    for info in infos:
        for k, path in enumerate(info.paths):
            row = rows[path]
            ds = fastdicom.dcmread(path)
            assert row["SeriesInstanceUID"] == info.series_uid
            assert row["StudyInstanceUID"] == info.study_uid
            assert row["InstanceNumber"] == k + 1
            assert row["Modality"] == info.modality
            assert row["PatientName"] == str(ds.PatientName)
            assert row["ImagePositionPatient"] == [float(x) for x in ds.ImagePositionPatient]
            assert row["PixelSpacing"] == [0.5, 0.5]
            assert row["Rows"] == 64 and row["Columns"] == 64
            assert row["ImageType"] == list(ds.ImageType)
            assert row["StudyDate"] == datetime.datetime.strptime(ds.StudyDate, "%Y%m%d").date()
            assert row["StudyTime"] == datetime.time(int(ds.StudyTime[:2]), int(ds.StudyTime[2:4]),
                                                     30, 250000)
            # 20240311100003.5+0100 -> 09:00:03.5 UTC
            dt = datetime.datetime.strptime(ds.AcquisitionDateTime[:14], "%Y%m%d%H%M%S")
            assert row["AcquisitionDateTime"] == dt + datetime.timedelta(microseconds=500000) \
                - datetime.timedelta(hours=1)
            assert row["transfer_syntax"] == info.transfer_syntax
            assert row["size"] == os.path.getsize(path)
    names = set(t["PatientName"].to_pylist())
    assert {"Doe^Jane", "Müller^Jürgen"} <= names


def test_sample_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    sample.generate(a, series=2, slices=3)
    sample.generate(b, series=2, slices=3)
    files = sorted(p.relative_to(a) for p in a.rglob("*.dcm"))
    assert len(files) == 6
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes()
        ds = pydicom.dcmread(a / rel)
        assert ds.pixel_array.shape == (64, 64)


def test_sample_command(tmp_path):
    out = tmp_path / "s"
    r = subprocess.run([sys.executable, "-m", "fastdicom.sample", str(out), "--series", "2",
                        "--slices", "3"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "wrote 6 files" in r.stdout
    assert len(list(out.rglob("*.dcm"))) == 6


def test_nested_paths(sample_dir):
    d, infos = sample_dir
    tags = ["ReferencedImageSequence[0].ReferencedSOPInstanceUID",
            ("ReferencedImageSequence", 0, "ReferencedSOPClassUID"),
            "ReferencedImageSequence[-1].ReferencedSOPInstanceUID",
            "ReferencedImageSequence[1].ReferencedSOPInstanceUID",
            "(0008,1140).(0008,1155)", "ReferencedImageSequence"]
    t = ingest.scan(d, tags)
    assert t.column_names[1:7] == [
        "ReferencedImageSequence[0].ReferencedSOPInstanceUID",
        "ReferencedImageSequence[0].ReferencedSOPClassUID",
        "ReferencedImageSequence[-1].ReferencedSOPInstanceUID",
        "ReferencedImageSequence[1].ReferencedSOPInstanceUID",
        "(0008,1140).(0008,1155)", "ReferencedImageSequence"]
    rows = _rows_by_path(t)
    for info in infos:
        for k, path in enumerate(info.paths):
            row = rows[path]
            prev = sample.sample_uid(f"series{info.series}.slice{k - 1}") if k else None
            assert row["ReferencedImageSequence[0].ReferencedSOPInstanceUID"] == prev
            assert row["ReferencedImageSequence[-1].ReferencedSOPInstanceUID"] == prev
            assert row["(0008,1140).(0008,1155)"] == prev
            assert row["ReferencedImageSequence[1].ReferencedSOPInstanceUID"] is None
            assert row["ReferencedImageSequence[0].ReferencedSOPClassUID"] == (
                (sample.CT_IMAGE_STORAGE if info.modality == "CT" else sample.MR_IMAGE_STORAGE)
                if k else None)
            assert row["ReferencedImageSequence"] == (1 if k else None)


def test_tag_specifications():
    cols = ingest.resolve_columns([
        "PatientName", 0x00100020, (0x0010, 0x0030), "0010,0040", "(0020,000D)", "0020000E",
        "7FE1,1010"])
    assert [c.name for c in cols] == ["PatientName", "PatientID", "PatientBirthDate", "0010,0040",
                                      "(0020,000D)", "0020000E", "7FE1,1010"]
    assert [c.tag for c in cols] == [0x00100010, 0x00100020, 0x00100030, 0x00100040,
                                     0x0020000D, 0x0020000E, 0x7FE11010]
    assert [str(c.arrow_type) for c in cols] == ["string", "string", "date32[day]", "string",
                                                 "string", "string", "string"]
    named = ingest.resolve_columns({"name": "PatientName", "ref": "ReferencedImageSequence.ReferencedSOPInstanceUID"})
    assert [c.name for c in named] == ["name", "ref"]
    assert named[1].steps == ((0x00081140, 0), (0x00081155, None))
    types = {c.name: str(c.arrow_type) for c in ingest.resolve_columns(
        ["ImagePositionPatient", "InstanceNumber", "StudyTime", "AcquisitionDateTime",
         "FrameIncrementPointer", "ImageType", "Rows", "RedPaletteColorLookupTableData",
         "ReferencedImageSequence", "SimpleFrameList", "PatientWeight"])}
    assert types == {
        "ImagePositionPatient": "list<item: double>", "InstanceNumber": "int64",
        "StudyTime": "time64[us]", "AcquisitionDateTime": "timestamp[us]",
        "FrameIncrementPointer": "list<item: int64>", "ImageType": "list<item: string>",
        "Rows": "int64", "RedPaletteColorLookupTableData": "binary",
        "ReferencedImageSequence": "int64", "SimpleFrameList": "list<item: int64>",
        "PatientWeight": "double"}
    for bad, err in [("NotAKeyword", ValueError), ("PatientName[0]", ValueError),
                     ("PatientName.PatientID", ValueError), (["PatientID", "PatientID"], ValueError),
                     ({"path": "PatientID"}, ValueError), (1.5, TypeError)]:
        with pytest.raises(err):
            ingest.resolve_columns(bad if isinstance(bad, (list, dict)) else [bad])


def test_schema_does_not_depend_on_values(tmp_path, sample_dir):
    d, _ = sample_dir
    empty = ingest.scan(str(tmp_path))
    assert empty.num_rows == 0 and empty.schema == ingest.schema()
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom")
    t1 = ingest.scan([str(junk)])
    t2 = ingest.scan(d)
    assert t1.schema == t2.schema == ingest.schema()
    for batch in ingest.scan_batches([str(junk), d], batch_size=1):
        assert batch.schema == ingest.schema()


# ------------------------------------------------------------------ bad files

def _bad_files(tmp, good):
    data = open(good, "rb").read()
    files = {}
    files["empty"] = tmp / "empty.dcm"
    files["empty"].write_bytes(b"")
    files["text"] = tmp / "notes.txt"
    files["text"].write_text("not a DICOM file\n" * 20)
    files["short"] = tmp / "short.dcm"
    files["short"].write_bytes(data[:100])
    files["in_meta"] = tmp / "in_meta.dcm"
    files["in_meta"].write_bytes(data[:200])
    ds = fastdicom.dcmread(good)
    cut = ds.tokens.value_offset(ds.tokens.find(0x00100010)) + 2  # inside Patient's Name
    files["in_dataset"] = tmp / "in_dataset.dcm"
    files["in_dataset"].write_bytes(data[:cut])
    files["garbage_len"] = tmp / "garbage_len.dcm"
    i = ds.tokens.find(0x00100020)
    hdr = ds.tokens.records[i]["header_offset"]
    bad = bytearray(data)
    bad[hdr + 6:hdr + 8] = b"\xff\xff"
    files["garbage_len"].write_bytes(bytes(bad))
    return files


def test_bad_files_are_error_rows(tmp_path, sample_dir):
    d, infos = sample_dir
    good = infos[0].paths[0]
    bad = _bad_files(tmp_path, good)
    sub = tmp_path / "subdir"
    sub.mkdir()
    missing = str(tmp_path / "vanished.dcm")
    paths = [good] + [str(p) for p in bad.values()] + [missing, str(sub) + "/*.nothing"]
    t = ingest.scan(paths + [good], workers=1)
    rows = t.to_pylist()
    by = {r["path"]: r for r in rows}
    assert by[good]["error"] is None and by[good]["PatientID"] == "SAMPLE001"
    assert by[missing]["error"].startswith("FileNotFoundError")
    assert by[missing]["size"] is None
    assert by[str(bad["empty"])]["error"].startswith("NotDicomError")
    assert by[str(bad["empty"])]["size"] == 0
    assert by[str(bad["text"])]["error"].startswith("NotDicomError")
    assert by[str(bad["text"])]["size"] == 340
    for key in ("short", "in_meta", "in_dataset", "garbage_len"):
        row = by[str(bad[key])]
        assert row["error"] is not None, key
        assert row["PatientID"] is None and row["size"] == os.path.getsize(bad[key])
    for path in bad.values():  # an error row exactly when dcmread raises, of its type
        try:
            fastdicom.dcmread(str(path), stop_before_pixels=True)
        except Exception as exc:
            assert by[str(path)]["error"].startswith(type(exc).__name__ + ": ")
        else:
            assert by[str(path)]["error"] is None
    assert len(rows) == 9  # the glob matching nothing adds no row


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_directory_and_fifo_rows(tmp_path, sample_dir):
    d, infos = sample_dir
    fifo = tmp_path / "pipe.dcm"
    os.mkfifo(fifo)
    (tmp_path / "a.dcm").write_bytes(open(infos[0].paths[0], "rb").read())
    # walking skips the FIFO; given by name it is an error row, without blocking
    walked = ingest.scan(str(tmp_path))
    assert walked["path"].to_pylist() == [str(tmp_path / "a.dcm")]
    t = ingest.scan([str(fifo)], workers=1)
    assert "not a regular file" in t["error"][0].as_py()
    assert ingest.iter_files([str(tmp_path)], recursive=False, sort=True).__next__() == \
        str(tmp_path / "a.dcm")


def test_vanishing_entries(tmp_path, sample_dir):
    """Files and directories that disappear between listing and reading."""
    d, infos = sample_dir
    src = open(infos[0].paths[0], "rb").read()
    (tmp_path / "x.dcm").write_bytes(src)
    (tmp_path / "y.dcm").write_bytes(src)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "z.dcm").write_bytes(src)
    it = ingest.iter_files(str(tmp_path), sort=True)
    first = next(it)
    assert first == str(tmp_path / "x.dcm")
    os.remove(tmp_path / "y.dcm")      # listed already? no: the walk is lazy...
    os.remove(sub / "z.dcm")
    os.rmdir(sub)                      # ...so the directory is gone when it is reached
    rest = list(it)
    assert [getattr(p, "path", p) for p in rest] == [str(tmp_path / "y.dcm"), str(sub)]
    assert isinstance(rest[1], ingest.WalkError)
    t = ingest.scan([first] + rest, workers=1)
    errors = t["error"].to_pylist()
    assert errors[0] is None
    assert errors[1].startswith("FileNotFoundError")
    assert errors[2].startswith("FileNotFoundError")


def test_warnings_and_values_as_dcmread(tmp_path, sample_dir):
    """Files off the common path (an executable-looking preamble, a wrong group
    length, data in the other VR encoding than the transfer syntax says) give
    dcmread's warnings and values."""
    d, infos = sample_dir
    src = open(infos[0].paths[0], "rb").read()
    exe = bytearray(src)
    exe[:4] = b"MZ\x90\x00"
    gl = bytearray(src)
    gl[140:144] = (int.from_bytes(src[140:144], "little") + 2).to_bytes(4, "little")
    other_vr = bytearray(src)
    i = other_vr.index(b"1.2.840.10008.1.2.1\x00")
    other_vr[i:i + 20] = b"1.2.840.10008.1.2\x00\x00\x00"
    tags = ["PatientName", "Rows", "PixelSpacing"]
    for name, data in (("exe", exe), ("gl", gl), ("vr", other_vr)):
        path = tmp_path / f"{name}.dcm"
        path.write_bytes(bytes(data))
        with warnings.catch_warnings(record=True) as want:
            warnings.simplefilter("always")
            ds = fastdicom.dcmread(str(path), stop_before_pixels=True)
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            row = ingest.scan([str(path)], tags, workers=1).to_pylist()[0]
        assert want, name
        assert {str(w.message) for w in got} == {str(w.message) for w in want}, name
        assert row["error"] is None
        assert row["PatientName"] == str(ds.PatientName) and row["Rows"] == ds.Rows
        assert row["PixelSpacing"] == [float(x) for x in ds.PixelSpacing]


def test_force_and_no_preamble(tmp_path, sample_dir):
    d, infos = sample_dir
    ds = fastdicom.dcmread(infos[0].paths[0])
    raw = tmp_path / "raw.dcm"
    buf = io.BytesIO()
    fastdicom.dcmwrite(buf, ds, enforce_file_format=False, preamble=None)
    data = buf.getvalue()
    dataset = data[data.index(b"\x08\x00"):] if data[128:132] == b"DICM" else data
    raw.write_bytes(fastdicom.writer.encode_dataset(ds, False, True))
    assert ingest.scan([str(raw)])["error"][0].as_py().startswith("NotDicomError")
    t = ingest.scan([str(raw)], force=True)
    assert t["error"][0].as_py() is None
    assert t["PatientID"][0].as_py() == "SAMPLE001"
    assert t["transfer_syntax"][0].as_py() is None
    assert len(dataset) > 0


@pytest.mark.parametrize("comment", [10000, 40000, 100000])
def test_large_header_and_tags_after_pixels(tmp_path, sample_dir, comment):
    """Headers longer than the first read (8 KB) are read on (doubling, then
    the whole file past 64 KB); tags after the Pixel Data need
    stop_before_pixels=False."""
    d, infos = sample_dir
    ds = fastdicom.dcmread(infos[0].paths[0])
    # an LT value fits a 16-bit length; longer headers take two of them (a longer
    # value would be written as UN, which reads back as UN, as in pydicom)
    ds.ImageComments = "x" * min(comment, 60000)
    if comment > 60000:
        ds.PatientComments = "y" * (comment - 60000)
    ds.DataSetTrailingPadding = b"\x00" * 8
    big = tmp_path / "big.dcm"
    fastdicom.dcmwrite(str(big), ds, enforce_file_format=True)
    tags = ["ImageComments", "Rows", "SOPInstanceUID", "DataSetTrailingPadding", "PixelSpacing"]
    for workers in (1, 2):
        row = ingest.scan([str(big)], tags, workers=workers).to_pylist()[0]
        assert row["error"] is None
        assert row["ImageComments"] == "x" * min(comment, 60000) and row["Rows"] == 64
        assert row["DataSetTrailingPadding"] is None and row["PixelSpacing"] == [0.5, 0.5]
    row = ingest.scan([str(big)], tags, stop_before_pixels=False).to_pylist()[0]
    assert row["DataSetTrailingPadding"] == b"\x00" * 8 and row["Rows"] == 64


def test_path_not_utf8(tmp_path, sample_dir):
    d, infos = sample_dir
    name = os.fsdecode(b"slice\xff.dcm")
    (tmp_path / name).write_bytes(open(infos[0].paths[0], "rb").read())
    t = ingest.scan(str(tmp_path), ["PatientID"])
    assert t["PatientID"].to_pylist() == ["SAMPLE001"]
    assert t["path"][0].as_py().endswith("slice\ufffd.dcm")


# ------------------------------------------------------------------ parallelism and batches

def test_threads_processes_batches_agree(sample_dir):
    d, _ = sample_dir
    tags = ["PatientName", "ImagePositionPatient", "StudyDate",
            "ReferencedImageSequence[0].ReferencedSOPInstanceUID"]
    one = ingest.scan(d, tags, workers=1).sort_by("path")
    threads = ingest.scan(d, tags, workers=2, batch_size=5).sort_by("path")
    procs = ingest.scan(d, tags, workers=2, executor="process", batch_size=7).sort_by("path")
    assert one.equals(threads) and one.equals(procs)
    batches = list(ingest.scan_batches(d, tags, batch_size=5, workers=2))
    assert [b.num_rows for b in batches] == [5, 5, 5, 5, 4]
    assert pa.Table.from_batches(batches).sort_by("path").equals(one)


def test_executor_instance_and_generator_input(sample_dir):
    from concurrent.futures import ThreadPoolExecutor

    d, infos = sample_dir
    paths = (p for info in infos for p in info.paths)  # consumed lazily
    with ThreadPoolExecutor(2) as pool:
        t = ingest.scan(paths, ["SOPInstanceUID"], executor=pool, workers=2, batch_size=4)
    assert t.num_rows == 24 and t["error"].null_count == 24
    assert t["path"].to_pylist() == [p for info in infos for p in info.paths]


def test_scan_pandas(sample_dir):
    pd = pytest.importorskip("pandas")
    d, _ = sample_dir
    df = ingest.scan_pandas(d, ["PatientID", "InstanceNumber", "NumberOfFrames", "PixelSpacing"])
    assert len(df) == 24
    assert isinstance(df["InstanceNumber"].dtype, pd.ArrowDtype)
    assert df["NumberOfFrames"].isna().all()
    plain = ingest.scan(d, ["InstanceNumber"]).to_pandas()
    assert sorted(plain["InstanceNumber"]) == sorted(df["InstanceNumber"])


def test_fastdicom_scan_entry_points(sample_dir):
    d, _ = sample_dir
    if not hasattr(fastdicom, "scan"):
        pytest.skip("fastdicom.scan / scan_batches not exported by fastdicom/__init__.py yet")
    assert fastdicom.scan(d, ["PatientID"]).equals(ingest.scan(d, ["PatientID"]))
    assert sum(b.num_rows for b in fastdicom.scan_batches(d, batch_size=10)) == 24


def test_import_without_pyarrow():
    code = ("import sys; sys.modules['pyarrow'] = None\n"
            "import fastdicom, fastdicom.ingest, fastdicom.cli\n"
            "try:\n    fastdicom.ingest.scan('.')\n"
            "except ImportError as e:\n    print('ImportError', e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "ImportError" in r.stdout and "fastdicom[arrow]" in r.stdout


# ------------------------------------------------------------------ dates and times

@pytest.mark.parametrize("text,want", [
    ("20240315", datetime.date(2024, 3, 15)), ("2024.03.15", datetime.date(2024, 3, 15)),
    ("20240230", None), ("2024031", None), ("", None), (" 20240315 ", datetime.date(2024, 3, 15)),
    ("00000000", None), ("2024-03-15", None), ("２０２４０３１５", None)])
def test_parse_da(text, want):
    assert parse_da(text) == want


@pytest.mark.parametrize("text,want", [
    ("101530.25", datetime.time(10, 15, 30, 250000)), ("10", datetime.time(10)),
    ("1015", datetime.time(10, 15)), ("101560", datetime.time(10, 15, 59)),
    ("10:15:30.5", datetime.time(10, 15, 30, 500000)), ("101530.", datetime.time(10, 15, 30)),
    ("2500", None), ("1061", None), ("1015.5", None), ("abc", None), ("101530.1234567", None)])
def test_parse_tm(text, want):
    assert parse_tm(text) == want


@pytest.mark.parametrize("text,want", [
    ("20240315101530.5+0100", datetime.datetime(2024, 3, 15, 9, 15, 30, 500000)),
    ("20240315101530-0230", datetime.datetime(2024, 3, 15, 12, 45, 30)),
    ("2024", datetime.datetime(2024, 1, 1)), ("202403151015", datetime.datetime(2024, 3, 15, 10, 15)),
    ("20241315", None), ("20240315+2500", None), ("x", None)])
def test_parse_dt(text, want):
    assert parse_dt(text) == want


def test_invalid_values_are_null(tmp_path, sample_dir):
    d, infos = sample_dir
    ds = fastdicom.dcmread(infos[0].paths[0])
    # valid values of the right lengths, replaced in the bytes afterwards
    del ds[0x7FE00010]
    ds.StudyDate = "20991231"
    ds.SliceThickness = "7777.5"
    ds.InstanceNumber = "9876"
    ds.SeriesNumber = "5432"
    ds.PatientWeight = "88.25"
    ds.WindowCenter = ["40", "65", "1e2"]
    ds.StudyDescription = "QQQQ"
    ds.AccessionNumber = ""
    buf = io.BytesIO()
    fastdicom.dcmwrite(buf, ds, enforce_file_format=True)
    data = bytearray(buf.getvalue())
    for tag, value in [(0x00080020, b"2024-3-1"), (0x00180050, b"thick "), (0x00200013, b"1.5 "),
                       (0x00200011, b"7\\8 "), (0x00101030, b" 72.5 "),
                       (0x00281050, b"40\\  \\1e2 "), (0x00081030, b"A\\B ")]:
        head = (tag >> 16).to_bytes(2, "little") + (tag & 0xFFFF).to_bytes(2, "little")
        i = data.index(head)
        length = int.from_bytes(data[i + 6:i + 8], "little")
        assert length == len(value), (hex(tag), length, value)
        data[i + 8:i + 8 + length] = value
    path = tmp_path / "odd.dcm"
    path.write_bytes(bytes(data))
    tags = ["StudyDate", "SliceThickness", "InstanceNumber", "SeriesNumber", "PatientWeight",
            "WindowCenter", "StudyDescription", "AccessionNumber", "NumberOfFrames"]
    for slow in (False, True):
        row = ingest.scan([str(path)], tags, _slow_only=slow).to_pylist()[0]
        assert row["error"] is None
        assert row["StudyDate"] is None and row["SliceThickness"] is None
        assert row["InstanceNumber"] is None and row["SeriesNumber"] is None
        assert row["PatientWeight"] == 72.5
        assert row["WindowCenter"] == [40.0, None, 100.0]
        assert row["StudyDescription"] == "A\\B"
        assert row["AccessionNumber"] == "" and row["NumberOfFrames"] is None


def test_big_endian_and_implicit(tmp_path, sample_dir):
    d, infos = sample_dir
    ds = fastdicom.dcmread(infos[0].paths[0])
    out = {}
    for name, ts in (("be", "1.2.840.10008.1.2.2"), ("implicit", "1.2.840.10008.1.2")):
        ds2 = fastdicom.writer.convert(ds, ts)
        p = tmp_path / f"{name}.dcm"
        fastdicom.dcmwrite(str(p), ds2, enforce_file_format=True)
        out[name] = str(p)
    tags = ["Rows", "Columns", "PixelSpacing", "PatientName", "BitsAllocated"]
    t = ingest.scan([infos[0].paths[0], out["be"], out["implicit"]], tags, workers=1)
    rows = t.to_pylist()
    for r in rows:
        assert r["error"] is None
        assert (r["Rows"], r["Columns"], r["BitsAllocated"]) == (64, 64, 16)
        assert r["PixelSpacing"] == [0.5, 0.5] and r["PatientName"] == "Doe^Jane"
    assert rows[1]["transfer_syntax"] == "1.2.840.10008.1.2.2"


# ------------------------------------------------------------------ summaries

def test_series_and_study_summary(sample_dir):
    d, infos = sample_dir
    t = ingest.scan(d)
    s = ingest.series_summary(t)
    assert s.num_rows == 4
    by = {r["SeriesInstanceUID"]: r for r in s.to_pylist()}
    for info in infos:
        r = by[info.series_uid]
        assert r["StudyInstanceUID"] == info.study_uid and r["Modality"] == info.modality
        assert r["count"] == 6 and r["instances"] == 6
        assert r["instance_numbers"] == [1, 2, 3, 4, 5, 6]
        assert (r["instance_number_min"], r["instance_number_max"]) == (1, 6)
        assert r["slice_spacing"] == pytest.approx(info.spacing, abs=1e-4), info
        assert r["total_bytes"] == sum(os.path.getsize(p) for p in info.paths)
    st = ingest.study_summary(t)
    assert st.num_rows == 2
    rows = {r["StudyInstanceUID"]: r for r in st.to_pylist()}
    for info in infos:
        r = rows[info.study_uid]
        assert r["series"] == 2 and r["count"] == 12
        assert r["modalities"] == sorted({i.modality for i in infos if i.study == info.study})
    assert {r["PatientName"] for r in rows.values()} == {"Doe^Jane", "Müller^Jürgen"}


def test_summary_spacing_from_slice_location_and_errors(tmp_path):
    t = pa.table({
        "StudyInstanceUID": ["1", "1", "1", "1", None, "1"],
        "SeriesInstanceUID": ["a", "a", "a", "b", "c", "a"],
        "SliceLocation": [0.0, 5.0, 2.5, 1.0, 0.0, 7.5],
        "InstanceNumber": pa.array([3, 1, 2, None, 1, 9], pa.int64()),
        "size": [10, 10, 10, 10, 10, 10],
        "error": [None, None, None, None, None, "NotDicomError: x"]})
    s = ingest.series_summary(t).to_pylist()
    assert [r["SeriesInstanceUID"] for r in s] == ["a", "b", "c"]  # "c": no study UID
    assert s[0]["slice_spacing"] == 2.5 and s[0]["instance_numbers"] == [1, 2, 3]
    assert s[0]["count"] == 3 and s[0]["total_bytes"] == 30
    assert s[1]["slice_spacing"] is None and s[1]["instance_numbers"] == []
    with pytest.raises(ValueError):
        ingest.series_summary(pa.table({"x": [1]}))
    assert ingest.slice_spacing([[0, 0, 0], [0, 0, 1.5], [0, 0, 3], [0, 0, 3]],
                                [1, 0, 0, 0, 1, 0]) == 1.5


# ------------------------------------------------------------------ the command line

def test_cli_index_formats(tmp_path, sample_dir, capsys):
    d, infos = sample_dir
    want = ingest.scan(d).sort_by("path")
    out = tmp_path / "i.parquet"
    assert cli_main(["index", d, "-o", str(out), "--no-progress"]) == 0
    summary = capsys.readouterr().out.strip()
    assert summary.startswith("indexed 24 files, 2 studies, 4 series, 0 errors in ")
    assert summary.endswith(f"-> {out}")
    got = pq.read_table(out).sort_by("path")
    assert got.equals(want)

    csv_out = tmp_path / "i.csv"
    assert cli_main(["index", d, "-o", str(csv_out), "--tags", "PatientName,0020,0013",
                     "--tags", "ImagePositionPatient", "--workers", "1"]) == 0
    import pyarrow.csv as pcsv

    c = pcsv.read_csv(csv_out).sort_by("path")
    assert c.column_names == ["path", "PatientName", "0020,0013", "ImagePositionPatient", "size",
                              "transfer_syntax", "sop_class_uid", "error"]
    ref = ingest.scan(d, ["PatientName", "0020,0013", "ImagePositionPatient"]).sort_by("path")
    assert c["PatientName"].to_pylist() == ref["PatientName"].to_pylist()
    assert c["0020,0013"].to_pylist() == ref["0020,0013"].to_pylist()
    assert [[float(x) for x in v.split("\\")] for v in c["ImagePositionPatient"].to_pylist()] \
        == ref["ImagePositionPatient"].to_pylist()

    jl = tmp_path / "i.jsonl"
    assert cli_main(["index", d, "-o", str(jl), "--processes", "--workers", "2",
                     "--tags", "default,ReferencedImageSequence[0].ReferencedSOPInstanceUID"]) == 0
    lines = [json.loads(x) for x in jl.read_text().splitlines()]
    assert len(lines) == 24
    first = {r["path"]: r for r in lines}[infos[0].paths[1]]
    assert first["StudyDate"] == "2024-03-10" and first["Rows"] == 64
    assert first["ReferencedImageSequence[0].ReferencedSOPInstanceUID"] == \
        sample.sample_uid("series0.slice0")
    capsys.readouterr()


def test_cli_index_stdout_errors_and_usage(tmp_path, sample_dir, capsys):
    d, _ = sample_dir
    (tmp_path / "junk.dcm").write_bytes(b"junk")
    assert cli_main(["index", str(tmp_path), "-o", "-", "--format", "csv",
                     "--tags", "PatientID"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == '"path","PatientID","size","transfer_syntax","sop_class_uid","error"'
    assert "NotDicomError" in out and "indexed 1 file, 0 studies" not in err
    assert "1 error" in err
    assert cli_main(["index", str(tmp_path), "--fail-on-error"]) == 1
    capsys.readouterr()
    assert cli_main(["index", d, "-o", str(tmp_path / "x.txt")]) == 2
    assert "cannot tell the format" in capsys.readouterr().err
    assert cli_main(["index"]) == 2
    assert cli_main(["index", d, "--tags", "NoSuchKeyword"]) == 2
    assert "NoSuchKeyword" in capsys.readouterr().err
    assert not list(tmp_path.glob(".fastdicom-index-*"))


def test_cli_progress(sample_dir, capsys):
    d, _ = sample_dir
    assert cli_main(["index", d, "--progress", "--batch-size", "4"]) == 0
    out, err = capsys.readouterr()
    assert "indexing: " in err and "files/s" in err and "MB/s" in err and "errors" in err
    assert out.startswith("indexed 24 files")
    assert cli_main(["index", d]) == 0  # not a terminal: no progress
    assert capsys.readouterr().err == ""


def test_cli_sample_subprocess(tmp_path):
    """The README's first command: fastdicom index --sample -o sample.parquet."""
    out = tmp_path / "sample.parquet"
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "fastdicom", "index", "--sample", "-o", str(out)],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("indexed 64 files, 2 studies, 4 series, 0 errors in ")
    t = pq.read_table(out)
    assert t.num_rows == 64 and t["error"].null_count == 64
    assert ingest.series_summary(t).num_rows == 4


def test_auto_workers_choose_threads_for_waiting_reads(sample_dir, monkeypatch):
    """workers=None: a first batch that waited for its files sends the rest to
    a thread pool, one that kept the CPU busy keeps the calling thread; the
    table is the same either way."""
    d, _ = sample_dir
    import threading

    want = ingest.scan(d, ["SOPInstanceUID"], workers=1, batch_size=5)
    real = ingest.scan_chunk
    for bound, threaded in ((10.0, True), (0.0, False)):
        monkeypatch.setattr(ingest, "CPU_BOUND", bound)
        seen = set()

        def spy(paths, plan):
            seen.add(threading.current_thread().name.startswith("fastdicom-scan"))
            return real(paths, plan)

        monkeypatch.setattr(ingest, "scan_chunk", spy)
        got = ingest.scan(d, ["SOPInstanceUID"], batch_size=5)
        assert got.equals(want)
        assert seen == ({False, True} if threaded else {False})


def test_cli_tags_argument_split():
    from fastdicom.cli.index import _split_tags, _tags

    assert _split_tags("PatientName,0020,0013, (0008,1140)[0].(0008,1155),Rows") == [
        "PatientName", "0020,0013", "(0008,1140)[0].(0008,1155)", "Rows"]
    assert _split_tags("0008,1140[-1].0008,1155") == ["0008,1140[-1].0008,1155"]
    assert _tags(["default,EchoTime", "Rows"])[-1] == "EchoTime"
    assert _tags(["default,EchoTime", "Rows"])[:len(ingest.DEFAULT_TAGS)] == list(ingest.DEFAULT_TAGS)
    assert _tags([]) is None
