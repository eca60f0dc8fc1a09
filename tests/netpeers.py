"""Helpers of the network tests: peers (dcmtk by absolute path: pynetdicom's
console scripts of the same names may come first on PATH), free ports, and
the corpus files a storage SCP can take."""
from __future__ import annotations

import functools
import os
import re
import shutil
import struct
import subprocess
import warnings

import pytest

from corpus import CORPUS

from fastdicom.bench.net import free_port, wait_for_port  # noqa: F401 - for the tests

_UID = re.compile(r"[0-9]+(\.[0-9]+)*\Z")
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR",
             b"UT", b"UV"}


def dcmtk(tool: str) -> str:
    """The dcmtk program ``tool`` (installed by .ci/run with apt)."""
    for d in ("/usr/bin", "/usr/local/bin", "/bin"):
        path = os.path.join(d, tool)
        if os.access(path, os.X_OK) and _is_dcmtk(path):
            return path
    pytest.fail(f"dcmtk's {tool} is required (apt-get install -y dcmtk)")


@functools.lru_cache(maxsize=None)
def _is_dcmtk(path: str) -> bool:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    return "dcmtk" in (out.stdout + out.stderr).lower()


def dataset_part(data: bytes) -> bytes:
    """The bytes after the preamble and File Meta Information (group 0002,
    explicit VR little endian) of a DICOM file, parsed here independently."""
    assert data[128:132] == b"DICM"
    pos = 132
    while pos + 8 <= len(data) and struct.unpack_from("<H", data, pos)[0] == 2:
        vr = data[pos + 4:pos + 6]
        if vr in _LONG_VRS:
            pos += 12 + struct.unpack_from("<L", data, pos + 8)[0]
        else:
            pos += 8 + struct.unpack_from("<H", data, pos + 6)[0]
    return data[pos:]


@functools.lru_cache(maxsize=None)
def storable_corpus() -> tuple[tuple[str, str, str], ...]:
    """(path, SOP Instance UID, transfer syntax) of the corpus files a storage
    SCP takes: a file meta with a transfer syntax, a Storage SOP class and
    valid, distinct SOP UIDs in the data set (as pydicom reads them)."""
    import pydicom
    from pydicom.uid import UID

    out, seen = [], set()
    for path in CORPUS:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(path, stop_before_pixels=True)
            ts = str(ds.file_meta.TransferSyntaxUID)
            cls, inst = str(ds.SOPClassUID), str(ds.SOPInstanceUID)
        except Exception:
            continue
        if not (_UID.match(cls) and _UID.match(inst) and len(inst) <= 64) or inst in seen:
            continue
        if "Storage" not in UID(cls).name or not UID(ts).is_transfer_syntax:
            continue
        with open(path, "rb") as f:
            if f.read(132)[128:] != b"DICM":
                continue
        seen.add(inst)
        out.append((path, inst, ts))
    return tuple(out)


def copy_corpus(files, target: str) -> list[str]:
    os.makedirs(target, exist_ok=True)
    out = []
    for i, (path, _, _) in enumerate(files):
        dst = os.path.join(target, f"{i:04d}.dcm")
        shutil.copyfile(path, dst)
        out.append(dst)
    return out
