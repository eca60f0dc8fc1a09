"""Adapters of the peers that are not Python readers: dcmtk (``dcmdump`` in a
subprocess) and python-gdcm. See :mod:`fastdicom.bench.tools`."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Any

#: dcmtk's programs by absolute path first (other packages put shims of
#: programs with the same names on PATH).
DCMTK_DIRS = ("/usr/bin", "/usr/local/bin", "/opt/homebrew/bin")
_LINE = re.compile(r"^(\s*)\(([0-9a-fA-F]{4}),([0-9a-fA-F]{4})\) (\S\S) (.*?)\s*#\s*(?:[\d?]+|u/l),")


def dcmdump_path() -> str | None:
    for d in DCMTK_DIRS:
        path = os.path.join(d, "dcmdump")
        if os.access(path, os.X_OK):
            return path
    return shutil.which("dcmdump")


def dcmtk_version() -> str | None:
    exe = dcmdump_path()
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"v(\d+\.\d+\.\d+)", out)
    return m.group(1) if m else "installed"


def _dump(exe: str, path: str) -> str:
    proc = subprocess.run([exe, "-q", "-dc", path], capture_output=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"dcmdump exit status {proc.returncode}: "
                           f"{proc.stderr.decode(errors='replace').strip()[:200]}")
    return proc.stdout.decode("latin-1")


def _value(vr: str, text: str) -> Any:
    if text.startswith("["):
        text = text[1:text.rfind("]")]
    elif text.startswith("(") or text.startswith("="):  # (no value available), =Name
        return None
    parts = text.split("\\")
    return parts if len(parts) > 1 else parts[0]


def parse_dcmdump(text: str) -> tuple[list[int], dict[int, Any]]:
    """(data set tags at every depth in dump order, {top-level tag: value})."""
    tags: list[int] = []
    top: dict[int, Any] = {}
    in_dataset = "# Dicom-Data-Set" not in text
    for line in text.splitlines():
        if line.startswith("# Dicom-Data-Set"):
            in_dataset = True
            continue
        m = _LINE.match(line)
        if not m or not in_dataset:
            continue
        indent, group, elem, vr, rest = m.groups()
        tag = (int(group, 16) << 16) | int(elem, 16)
        if tag >> 16 == 0xFFFE:  # items and delimiters
            continue
        tags.append(tag)
        if not indent:
            top[tag] = _value(vr, rest)
    return tags, top


def dcmtk_adapters() -> dict:
    from fastdicom.bench.tools import HEADER_KEYWORDS, Adapter
    from fastdicom.datadict import tag_for_keyword

    exe = dcmdump_path()
    wanted = [tag_for_keyword(kw) for kw in HEADER_KEYWORDS]

    def header(path):
        _, top = parse_dcmdump(_dump(exe, path))
        return tuple(top.get(t) for t in wanted)

    def walk(path):
        return parse_dcmdump(_dump(exe, path))[0]

    note = "dcmdump -q -dc PATH in a subprocess, output parsed (process start included)"
    return {"header": Adapter(header, note=note), "walk": Adapter(walk, note=note)}


# --------------------------------------------------------------------------- gdcm
def gdcm_version() -> str | None:
    try:
        import gdcm
    except ImportError:
        return None
    try:
        return str(gdcm.Version.GetVersion())
    except Exception:
        return "installed"


def gdcm_adapters() -> dict:
    import gdcm

    from fastdicom.bench.tools import HEADER_KEYWORDS, Adapter
    from fastdicom.datadict import tag_for_keyword

    wanted = [(kw, tag_for_keyword(kw)) for kw in HEADER_KEYWORDS]

    def header(path):
        reader = gdcm.Reader()
        reader.SetFileName(path)
        if not reader.Read():
            raise RuntimeError("gdcm.Reader could not read the file")
        ds = reader.GetFile().GetDataSet()
        sf = gdcm.StringFilter()
        sf.SetFile(reader.GetFile())
        out = []
        for _kw, tag in wanted:
            t = gdcm.Tag(tag >> 16, tag & 0xFFFF)
            if not ds.FindDataElement(t):
                out.append(None)
                continue
            text = sf.ToString(t)
            parts = text.split("\\")
            out.append(parts if len(parts) > 1 else text)
        return tuple(out)

    return {"header": Adapter(header, note="gdcm.Reader + StringFilter")}
