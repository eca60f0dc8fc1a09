"""``fastdicom bench``: the corpus, the checks (a crashing tool, a wrong reader)
and the command end to end on a tiny generated corpus, with whichever peers
are installed (pydicom, dicomsdl, dcmtk's dcmdump, python-gdcm)."""
from __future__ import annotations

import ctypes
import importlib.util
import json
import os

import numpy as np
import pytest

import fastdicom
from fastdicom.bench import corpus as bench_corpus
from fastdicom.bench._peers import dcmdump_path, parse_dcmdump
from fastdicom.bench.net import private_namespace_available
from fastdicom.bench.runner import Runner
from fastdicom.bench.tools import TOOLS, Adapter, Tool, compare
from fastdicom.cli import main

HAVE = {name: importlib.util.find_spec(name) is not None
        for name in ("pydicom", "dicomsdl", "gdcm", "pyarrow", "imagecodecs")}
HAVE["dcmtk"] = dcmdump_path() is not None
KINDS = "ct,mr_undefined,ct_rle"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-corpus")
    files, notes = bench_corpus.ensure_corpus(out, "tiny", kinds=KINDS.split(","))
    return out, files, notes


def run_cli(capsys, *argv):
    status = main(["bench", "-q", "--repeats", "1", "--min-time", "0.001", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_corpus_is_deterministic_and_readable(tiny, tmp_path):
    out, files, notes = tiny
    assert [len(files[k]) for k in ("ct", "mr_undefined")] == [3, 1]
    if HAVE["imagecodecs"]:
        assert len(files["ct_rle"]) == 2 and not notes
    else:
        assert "ct_rle" not in files and any("ct_rle skipped" in n for n in notes)
    written = []
    again, _ = bench_corpus.ensure_corpus(out, "tiny", kinds=KINDS.split(","),
                                          progress=written.append)
    assert written == [] and again == files  # reused, nothing rewritten
    other, _ = bench_corpus.ensure_corpus(tmp_path, "tiny", kinds=["mr_undefined"])
    assert other["mr_undefined"][0].read_bytes() == files["mr_undefined"][0].read_bytes()
    ds = fastdicom.dcmread(files["mr_undefined"][0])
    assert ds.PerFrameFunctionalGroupsSequence.is_undefined_length
    assert ds.pixel_array.shape == (8, 64, 64)
    if "ct_rle" in files:
        rle = fastdicom.dcmread(files["ct_rle"][0])
        assert rle.file_meta.TransferSyntaxUID == bench_corpus.RLE_LOSSLESS
        native = np.frombuffer(fastdicom.dcmread(files["ct"][0]).PixelData, "<i2")
        assert np.array_equal(rle.pixel_array.ravel().astype(np.int32), native.astype(np.int32) + 1024)


def test_end_to_end_json(tiny, tmp_path, capsys):
    out, files, _ = tiny
    report, md, png = tmp_path / "out.json", tmp_path / "perf.md", tmp_path / "chart.png"
    status, text, err = run_cli(capsys, "--corpus", str(out), "--size", "tiny", "--kinds", KINDS,
                                "--json", str(report), "--cold", "--markdown", str(md),
                                "--chart", str(png))
    assert status == 0, err
    if importlib.util.find_spec("matplotlib") is None:
        assert "chart: matplotlib is not installed: no chart" in err and not png.exists()
    else:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    section = md.read_text()
    assert "`fastdicom bench --size tiny --kinds ct,mr_undefined,ct_rle --repeats 1 " \
           "--min-time 0.001 --cold`" in section
    assert "| workload | kind | mode | files | fastdicom | pydicom" in section
    assert "| header | ct | warm | 3 | " in section
    payload = json.loads(report.read_text())
    assert payload["fastdicom_bench"] == 1
    assert {"machine", "settings", "corpus", "versions", "checks", "results", "skipped",
            "adapter_notes"} <= set(payload)
    assert payload["settings"]["baseline"] == "pydicom"
    assert payload["settings"]["modes"] == ["warm", "cold"]
    assert payload["corpus"]["kinds"]["ct"] == {
        "files": 3, "bytes": sum(p.stat().st_size for p in files["ct"])}
    installed = {t for t, v in payload["versions"].items() if v}
    assert installed == {"fastdicom"} | {t for t in ("pydicom", "dicomsdl", "gdcm", "dcmtk")
                                         if HAVE[t]}
    for tool in set(payload["versions"]) - installed:
        assert {"tool": tool, "workload": None, "reason": "not installed"} in payload["skipped"]
        assert f"{tool}: not installed" in text
    assert all(c["status"] == "ok" for c in payload["checks"]), payload["checks"]
    timed = {(r["workload"], r["kind"], r["mode"], r["tool"]) for r in payload["results"]}
    workloads = ["header", "walk", "pixels", "write"] + (["scan"] if HAVE["pyarrow"] else [])
    for w in workloads:
        for kind in KINDS.split(","):
            if kind in files:
                assert (w, kind, "cold", "fastdicom") in timed
                if HAVE["pydicom"]:
                    assert (w, kind, "warm", "pydicom") in timed
    if HAVE["dcmtk"]:
        assert ("walk", "mr_undefined", "warm", "dcmtk") in timed
    for r in payload["results"]:
        assert r["min_s"] <= r["median_s"] <= r["max_s"]
        assert r["files_per_s"] == pytest.approx(1 / r["median_s"])
        assert len(r["samples"]) == 1 and r["files"] == len(files[r["kind"]])
        if r["tool"] == "pydicom":
            assert r["ratio"] == pytest.approx(1.0)
    assert "vs pydicom" in text and "header   ct" in text


def _crasher(path):
    name = os.path.basename(path)
    if name == "ct_0000.dcm":
        ctypes.string_at(0)  # SIGSEGV
    if name == "ct_0001.dcm":
        os.abort()  # SIGABRT
    return TOOLS["fastdicom"].get()["header"].run(path)


def _wrong_header(path):
    values = list(TOOLS["fastdicom"].get()["header"].run(path))
    values[0] = "NOT-" + str(values[0])  # PatientID
    return tuple(values)


def _wrong_pixels(path):
    return fastdicom.dcmread(path).pixel_array.astype(np.int32) + (path.endswith("0002.dcm"))


@pytest.fixture
def test_tools(monkeypatch):
    """Deliberately broken tools, registered for one test only."""
    monkeypatch.setitem(TOOLS, "crasher", Tool("crasher", lambda: "test",
                                                lambda: {"header": Adapter(_crasher)}))
    monkeypatch.setitem(TOOLS, "wrong", Tool("wrong", lambda: "test", lambda: {
        "header": Adapter(_wrong_header), "pixels": Adapter(_wrong_pixels)}))


def test_crashing_tool_is_isolated_and_reported(tiny, test_tools):
    _, files, _ = tiny
    runner = Runner({"ct": files["ct"]}, ["fastdicom", "crasher"], ["header"],
                    baseline="fastdicom", repeats=1, min_time=0.001)
    runner.run()  # the crashes happen in child processes: this process goes on
    check = next(c for c in runner.checks if c.tool == "crasher")
    assert check.status == "crashed" and check.checked == 3
    problems = {os.path.basename(p["file"]): p["detail"] for p in check.problems}
    assert "SIGSEGV" in problems["ct_0000.dcm"] and "SIGABRT" in problems["ct_0001.dcm"]
    assert "ct_0002.dcm" not in problems
    assert [r.tool for r in runner.results] == ["fastdicom"]  # the crasher is not timed


def test_wrong_reader_is_caught(tiny, test_tools, capsys):
    _, files, _ = tiny
    status, text, _ = run_cli(capsys, *map(str, files["ct"]), "--tools", "fastdicom,wrong",
                              "--workloads", "header,pixels", "--baseline", "fastdicom")
    assert status == 0
    assert "wrong: header on explicit-le: MISMATCH (3 of 3 checked" in text
    assert "PatientID: 'NOT-FDB-000042', fastdicom 'FDB-000042'" in text
    assert "wrong: pixels on explicit-le: MISMATCH (1 of 3 checked" in text
    assert "ct_0002.dcm: 262144 of 262144 values differ" in text
    table = text.split("\n", 1)[1].split("median/min/max")[0]
    assert "fastdicom" in table and "wrong" not in table  # not timed


def test_compare_and_dcmdump_parsing():
    assert compare("header", ("A", 512, ["1.5", "2"]), ("A", "512", [1.5, 2.0])) is None
    ref, got = [None] * 10, [None] * 10
    ref[5], got[5] = 512, "511"
    assert compare("header", ref, got).startswith("Rows: '511'")
    assert "first difference at element 1" in compare("walk", [1, 2, 3], [1, 3])
    dump = ("# Dicom-Meta-Information-Header\n(0002,0010) UI =LittleEndianExplicit  #  20, 1 X\n"
            "# Dicom-Data-Set\n(0008,1032) SQ (Sequence with undefined length #=1) # u/l, 1 P\n"
            "  (fffe,e000) na (Item with undefined length #=1) # u/l, 1 Item\n"
            "    (0008,0100) SH [CTCAP ]  #   6, 1 CodeValue\n"
            "(0020,0032) DS [-190\\-350\\-96.25]   #  18, 3 ImagePositionPatient\n"
            "(0028,0010) US 512     #   2, 1 Rows\n")
    tags, top = parse_dcmdump(dump)
    assert tags == [0x00081032, 0x00080100, 0x00200032, 0x00280010]
    assert top[0x00200032] == ["-190", "-350", "-96.25"] and top[0x00280010] == "512"


def test_usage_errors(capsys):
    status, _, err = run_cli(capsys, "--tools", "fastdicom,nosuchtool")
    assert status == 2 and "unknown tool(s) nosuchtool" in err
    status, _, err = run_cli(capsys, "--workloads", "header,nosuch")
    assert status == 2 and "unknown workload(s) nosuch" in err
    status, _, err = run_cli(capsys, "--tools", "fastdicom", "--baseline", "pydicom")
    assert status == 2 and "--baseline pydicom is not one of --tools" in err


def test_user_paths_grouped_and_unreadable_files_left_out(tiny, tmp_path, capsys):
    _, files, _ = tiny
    (tmp_path / "notes.txt").write_text("not DICOM")
    (tmp_path / "a.dcm").write_bytes(files["ct"][0].read_bytes())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.dcm").write_bytes(files["mr_undefined"][0].read_bytes())
    report = tmp_path / "out.json"
    status, text, _ = run_cli(capsys, str(tmp_path), "--tools", "fastdicom",
                              "--baseline", "fastdicom", "--workloads", "header",
                              "--json", str(report))
    assert status == 0
    payload = json.loads(report.read_text())
    assert payload["corpus"]["source"] == "paths"
    assert {k: v["files"] for k, v in payload["corpus"]["kinds"].items()} == {
        "explicit-le": 2, "unreadable": 1}
    check = next(c for c in payload["checks"] if c["kind"] == "unreadable")
    assert check["status"] == "reference failed"
    assert check["problems"][0]["file"].endswith("notes.txt")
    assert "files left out for every tool" in text
    assert [(r["kind"], r["files"]) for r in payload["results"]] == [("explicit-le", 2)]


def test_net_pairs(tiny, tmp_path, capsys):
    """C-ECHO and C-STORE over loopback for each SCU>SCP pair installed here."""
    _, files, _ = tiny
    report = tmp_path / "out.json"
    status, text, err = run_cli(capsys, "--corpus", str(tiny[0]), "--size", "tiny", "--kinds",
                                "ct", "--workloads", "net", "--echoes", "2", "--tools",
                                "fastdicom,pynetdicom" + (",dcmtk" if HAVE["dcmtk"] else ""),
                                "--baseline", "fastdicom", "--json", str(report))
    assert status == 0, err
    payload = json.loads(report.read_text())
    peers = ["fastdicom"] + [t for t in ("pynetdicom", "dcmtk")
                             if t == "dcmtk" and HAVE["dcmtk"] or
                             t == "pynetdicom" and importlib.util.find_spec("pynetdicom")]
    pairs = {f"{a}>{b}" for a in peers for b in peers}
    assert all(c["status"] == "ok" for c in payload["checks"]), payload["checks"]
    assert {(c["kind"], c["tool"]) for c in payload["checks"]} == \
        {(k, p) for k in ("echo", "store:ct") for p in pairs}
    timed = {(r["kind"], r["tool"]): r for r in payload["results"]}
    assert set(timed) == {(k, p) for k in ("echo", "store:ct") for p in pairs}
    assert timed[("store:ct", "fastdicom>fastdicom")]["files"] == 3
    if "pynetdicom" in peers:
        assert timed[("echo", "pynetdicom>pynetdicom")]["ratio"] == pytest.approx(1.0)
    assert "net fastdicom: TCP_NODELAY set" in text
    if HAVE["dcmtk"]:
        isolated = "of a private network namespace" in text
        assert isolated == private_namespace_available()
