"""The command line: ``fastdicom`` / ``python -m fastdicom``, run in-process
(``main(argv)``) and as a subprocess.

``dump`` shows pydicom's values for corpus files (tag, VR, VM and value of every
top-level element; sequence items indented), ``json`` prints what
``to_json_dict`` gives, ``convert`` round trips through the transfer syntaxes,
bad files give a non-zero exit and one line on stderr, never a traceback.
"""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pydicom
import pytest
from corpus import CORPUS

import fastdicom
from fastdicom.__main__ import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC",
            "UI", "UR", "UT", "US", "SS", "UL", "SL", "FL", "FD", "AT"}
TAG_LINE = re.compile(r"^(\s*)(\([0-9A-F]{4},[0-9A-F]{4}\)) (\S\S)\s+(\S+) ")


def corpus_path(name):
    return next(p for p in CORPUS if os.path.basename(p) == name)


def run_main(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def run_process(*argv, **kw):
    env = dict(os.environ)
    env.pop("FASTDICOM_TRACEBACK", None)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "fastdicom", *argv], capture_output=True, text=True,
                          env=env, timeout=120, **kw)


def expected_text(elem):
    """How dump shows a pydicom element's value (uncut)."""
    v = elem.value
    if elem.VR == "AT":
        vals = v if isinstance(v, list) or hasattr(v, "_list") else [v]
        return "\\".join(f"({int(x) >> 16:04X},{int(x) & 0xFFFF:04X})" for x in vals)
    if isinstance(v, (list, pydicom.multival.MultiValue)):
        return "\\".join(str(x) for x in v)
    return str(v)


def top_lines(out):
    """{tag: line} of the top-level element lines of a dump of one file."""
    lines = {}
    in_dataset = False
    for line in out.splitlines():
        if line.startswith("# Dataset"):
            in_dataset = True
        m = TAG_LINE.match(line)
        if m and in_dataset and not m.group(1):
            lines.setdefault(m.group(2), line)
    return lines


# ------------------------------------------------------------------ dump

@pytest.mark.parametrize("name", ["CT_small.dcm", "rtplan.dcm", "MR_small_bigendian.dcm", "image_dfl.dcm",
                                  "chrH32.dcm", "chrSQEncoding.dcm", "waveform_ecg.dcm", "emri_small.dcm"])
def test_dump_shows_pydicom_values(capsys, name):
    path = corpus_path(name)
    status, out, err = run_main(capsys, "dump", "--max-width", "0", path)
    assert status == 0, err
    assert out.splitlines()[0] == f"# {path}"
    theirs = pydicom.dcmread(path)
    lines = top_lines(out)
    checked = 0
    for elem in theirs:
        line = lines.get(str(elem.tag))
        assert line is not None, elem.tag
        fields = line.split()
        assert fields[1] == elem.VR, line
        if elem.VR == "SQ":
            n = len(elem.value)
            assert line.endswith(f"({n} item{'' if n == 1 else 's'})"), line
            continue
        assert int(fields[2]) == elem.VM, line
        if elem.VM == 0:
            assert line.endswith("(no value)"), line
        elif elem.VR in TEXT_VRS:
            assert expected_text(elem) in line, (line, expected_text(elem))
            checked += 1
        else:
            assert f"({len(elem.value)} bytes" in line, line
    assert checked >= 3
    # file meta first, with its own header
    assert "# File Meta Information" in out
    assert f"(0002,0010) UI    1 Transfer Syntax UID" in out


def test_dump_sequences_indented(capsys):
    path = corpus_path("rtplan.dcm")
    status, out, _ = run_main(capsys, "dump", path)
    assert status == 0
    lines = out.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("(300A,0010) SQ"))
    assert lines[i].endswith("(2 items)")
    assert lines[i + 1] == "  --- item 1 of 2"
    assert lines[i + 2].startswith("  (300A,0012) IS    1 Dose Reference Number")
    assert lines[i + 2].rstrip().endswith(" 1")
    assert any(line.startswith("    (300A,") for line in lines)  # depth 2


def test_dump_max_width_stop_before_pixels_and_several_files(capsys):
    ct = corpus_path("CT_small.dcm")
    status, out, _ = run_main(capsys, "dump", "--max-width", "20", ct)
    assert status == 0
    line = next(x for x in out.splitlines() if x.startswith("(7FE0,0010)"))
    value = line.split("Pixel Data", 1)[1].strip()
    assert len(value) == 20 and value.endswith("...")
    status, out, _ = run_main(capsys, "dump", "--stop-before-pixels", ct)
    assert "(7FE0,0010)" not in out and "(0028,0010) US    1 Rows" in out
    status, out, _ = run_main(capsys, "dump", "--no-meta", ct, corpus_path("rtplan.dcm"))
    assert status == 0 and "(0002," not in out
    assert out.count("# Dataset") == 2


def test_dump_offsets(capsys):
    path = corpus_path("rtplan.dcm")
    ds = fastdicom.dcmread(path)
    status, out, _ = run_main(capsys, "dump", "--offsets", path)
    assert status == 0
    rec = ds.tokens.records[ds[0x300A0010]._index]
    line = next(x for x in out.splitlines() if "(300A,0010) SQ" in x)
    assert line.split()[:2] == [f"@{int(rec['header_offset'])}", f"#{int(rec['raw_length'])}"]
    assert any(x.startswith("@") and "  (300A,0012) IS" in x for x in out.splitlines())


def test_dump_force_reads_a_dataset_without_meta(capsys, tmp_path):
    data = open(corpus_path("rtplan.dcm"), "rb").read()
    ds = fastdicom.dcmread(data)
    raw = tmp_path / "raw.dcm"
    raw.write_bytes(data[ds.tokens.offset:])  # the dataset alone: no preamble, no meta
    status, out, err = run_main(capsys, "dump", str(raw))
    assert status == 1 and "--force" in err and out == ""
    status, out, err = run_main(capsys, "dump", "--force", str(raw))
    assert status == 0 and "(0010,0010) PN    1 Patient's Name" in out


# ------------------------------------------------------------------ json

@pytest.mark.parametrize("name", ["CT_small.dcm", "rtplan.dcm", "chrSQEncoding.dcm", "image_dfl.dcm"])
def test_json_equals_to_json_dict(capsys, name):
    path = corpus_path(name)
    status, out, err = run_main(capsys, "json", path)
    assert status == 0, err
    ds = fastdicom.dcmread(path)
    assert json.loads(out) == ds.to_json_dict() == pydicom.dcmread(path).to_json_dict()
    assert out == ds.to_json() + "\n"
    status, out, _ = run_main(capsys, "json", "--indent", "2", path)
    assert status == 0 and out.startswith("{\n  ")
    assert json.loads(out) == ds.to_json_dict()
    status, out, _ = run_main(capsys, "json", "--stop-before-pixels", path)
    assert "7FE00010" not in json.loads(out)


def test_json_invalid_value(capsys):
    path = corpus_path("badVR.dcm")  # IS '1A': pydicom cannot serialise it either
    status, out, err = run_main(capsys, "json", "--force", path)
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and "--suppress-invalid-tags" in err and "Traceback" not in err
    assert "00280008" in err  # where it failed
    status, out, err = run_main(capsys, "json", "--force", "--suppress-invalid-tags", path)
    assert status == 0 and "00280008" not in json.loads(out)


# ------------------------------------------------------------------ bad input

def bad_files(tmp_path):
    data = open(corpus_path("CT_small.dcm"), "rb").read()
    (tmp_path / "truncated.dcm").write_bytes(data[:1000])
    (tmp_path / "text.txt").write_text("this is not DICOM\n")
    (tmp_path / "empty.dcm").write_bytes(b"")
    (tmp_path / "meta_only.dcm").write_bytes(data[:140])
    return {
        "missing": str(tmp_path / "missing.dcm"),
        "not DICOM": str(tmp_path / "text.txt"),
        "empty": str(tmp_path / "empty.dcm"),
        "truncated": str(tmp_path / "truncated.dcm"),
        "truncated meta": str(tmp_path / "meta_only.dcm"),
        "directory": str(tmp_path),
    }


@pytest.mark.parametrize("command", ["dump", "json"])
def test_bad_files_in_process(capsys, tmp_path, command):
    for kind, path in bad_files(tmp_path).items():
        status, out, err = run_main(capsys, command, path)
        assert status == 1, kind
        assert err.count("\n") == 1, (kind, err)
        assert path in err and "error" in err and "Traceback" not in err, (kind, err)
    # dump goes on with the other files, and fails at the end
    good = corpus_path("CT_small.dcm")
    status, out, err = run_main(capsys, "dump", str(tmp_path / "missing.dcm"), good)
    assert status == 1 and "(0010,0010) PN" in out and "no such file" in err


def test_bad_files_subprocess(tmp_path):
    files = bad_files(tmp_path)
    for kind in ("missing", "not DICOM", "truncated"):
        r = run_process("dump", files[kind])
        assert r.returncode == 1, kind
        assert r.stdout == ""
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.startswith("fastdicom dump: error: " + files[kind]), r.stderr
    r = run_process("json", files["truncated"])
    assert r.returncode == 1 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1


def test_usage_version_and_subprocess_dump():
    r = run_process("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"fastdicom {fastdicom.__version__}"
    r = run_process()
    assert r.returncode == 2 and "command" in r.stderr
    r = run_process("dump", "--max-width", "x", "f.dcm")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    path = corpus_path("CT_small.dcm")
    r = run_process("dump", path)
    assert r.returncode == 0, r.stderr
    assert "(0010,0010) PN    1 Patient's Name" in r.stdout and "CompressedSamples^CT1" in r.stdout
    r = run_process("json", path)
    assert r.returncode == 0 and json.loads(r.stdout) == fastdicom.dcmread(path).to_json_dict()


def test_in_process_usage(capsys):
    status, out, _ = run_main(capsys, "--version")
    assert status == 0 and out.strip() == f"fastdicom {fastdicom.__version__}"
    status, _, err = run_main(capsys)
    assert status == 2
    status, out, _ = run_main(capsys, "--help")
    assert status == 0 and "dump" in out and "json" in out and "convert" in out
    status, _, err = run_main(capsys, "convert", "a", "b", "--transfer-syntax", "nonsense")
    assert status == 2 and "nonsense" in err


def test_entry_point_and_registry():
    from importlib.metadata import entry_points

    eps = [ep for ep in entry_points(group="console_scripts") if ep.name == "fastdicom"]
    if eps:
        assert eps[0].value == "fastdicom.__main__:main"
        assert eps[0].load() is main
    from fastdicom import cli

    assert cli.main is main
    for module in cli.COMMANDS:  # every subcommand module has add_parser
        assert callable(__import__(module, fromlist=["add_parser"]).add_parser)


# ------------------------------------------------------------------ convert

def _need_writer():
    try:
        from fastdicom import writer as w
    except ImportError:
        pytest.skip("fastdicom.writer is not available yet")
    if not hasattr(w, "dcmwrite") or not hasattr(w, "convert"):
        pytest.skip("fastdicom.writer has no dcmwrite/convert yet")
    return w


TS = {"implicit": "1.2.840.10008.1.2", "explicit": "1.2.840.10008.1.2.1",
      "big": "1.2.840.10008.1.2.2", "deflated": "1.2.840.10008.1.2.1.99"}


@pytest.mark.parametrize("name", ["CT_small.dcm", "rtplan.dcm", "MR_small_bigendian.dcm"])
@pytest.mark.parametrize("ts", list(TS) + ["1.2.840.10008.1.2.1"])
def test_convert_round_trip(capsys, tmp_path, name, ts):
    _need_writer()
    src = corpus_path(name)
    out = tmp_path / "out.dcm"
    status, _, err = run_main(capsys, "convert", src, str(out), "--transfer-syntax", ts)
    assert status == 0, err
    uid = TS.get(ts, ts)
    theirs = pydicom.dcmread(str(out))
    assert theirs.file_meta.TransferSyntaxUID == uid
    ours = fastdicom.dcmread(str(out))
    assert ours.transfer_syntax_uid == uid
    original = pydicom.dcmread(src)
    for elem in original:  # every element again, values equal (pixels compared as arrays)
        if elem.tag == 0x7FE00010:
            continue
        assert theirs[elem.tag] == elem, elem.tag
    if "PixelData" in original:
        assert (theirs.pixel_array == original.pixel_array).all()
    # and back to where it came from: the same dataset
    back = tmp_path / "back.dcm"
    first = original.file_meta.TransferSyntaxUID
    status, _, err = run_main(capsys, "convert", str(out), str(back), "-t", str(first))
    assert status == 0, err
    assert pydicom.dcmread(str(back)) == original


def test_convert_in_place_errors_and_stdout(capsys, tmp_path):
    _need_writer()
    src = corpus_path("CT_small.dcm")
    work = tmp_path / "ct.dcm"
    work.write_bytes(open(src, "rb").read())
    status, _, err = run_main(capsys, "convert", str(work), str(work), "-t", "big")
    assert status == 0, err
    assert pydicom.dcmread(str(work)).file_meta.TransferSyntaxUID == TS["big"]
    # refused conversion: one line, non-zero
    status, _, err = run_main(capsys, "convert", src, str(tmp_path / "x.dcm"), "-t", "1.2.840.10008.1.2.4.50")
    assert status == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "x.dcm").exists()
    status, _, err = run_main(capsys, "convert", str(tmp_path / "missing.dcm"), str(tmp_path / "y.dcm"), "-t", "big")
    assert status == 1 and "no such file" in err
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, "-m", "fastdicom", "convert", src, "-", "-t", "implicit"],
                       capture_output=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert pydicom.dcmread(io.BytesIO(r.stdout)).file_meta.TransferSyntaxUID == TS["implicit"]
