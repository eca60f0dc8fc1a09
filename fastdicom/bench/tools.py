"""The tools ``fastdicom bench`` compares: one adapter per tool per workload.

Workloads (every adapter takes a file's path, so opening the file is timed):

``header``
    Open, parse without pixel data where the tool can, read ten attributes
    (:data:`HEADER_KEYWORDS`, ``None`` when absent at the top level).
``walk``
    Parse the whole file and touch every element value at every depth (file
    meta excluded); the check compares the tags visited, in order.
``pixels``
    Decode all frames to an array (stored values, no rescale).
``write``
    Read, change Patient's Name, write to memory; the check reads what was
    written back with fastdicom (the new name, the same elements).
``scan``
    Index the files: one pass over all of them reading :data:`SCAN_KEYWORDS`
    (fastdicom: ``fastdicom.scan(paths, workers=1)``, an Arrow table; the
    others a loop); the check compares nine identifying columns.

Peers are imported lazily: a tool whose module (or program) is missing is
reported as "not installed". :func:`register` adds a tool (tests use it for
deliberately broken ones). The dcmtk and gdcm adapters are in
:mod:`fastdicom.bench._peers`.
"""
from __future__ import annotations

import importlib.util
import io
import math
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["WORKLOADS", "HEADER_KEYWORDS", "SCAN_KEYWORDS", "Adapter", "Tool", "TOOLS",
           "register", "compare", "write_summary", "NEW_NAME"]

WORKLOADS = ("header", "walk", "pixels", "write", "scan")
HEADER_KEYWORDS = (
    "PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "Modality",
    "Rows", "Columns", "InstanceNumber", "ImagePositionPatient", "PixelSpacing",
)
#: Compared by the scan check (the tools read all of ``fastdicom.ingest.DEFAULT_TAGS``).
SCAN_KEYWORDS = ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                 "Modality", "Rows", "Columns", "InstanceNumber", "NumberOfFrames")
NEW_NAME = "Anonymous^Patient"


@dataclass(frozen=True)
class Adapter:
    """``run(path)`` is timed (``run(paths)`` when ``batch``); ``check(path)``
    (default ``run``) gives the result compared with fastdicom's."""

    run: Callable[[Any], Any]
    check: Callable[[Any], Any] | None = None
    batch: bool = False
    note: str = ""

    def result(self, arg: Any) -> Any:
        return (self.check or self.run)(arg)


@dataclass
class Tool:
    """``version()`` -> version text, or None when not installed;
    ``adapters()`` -> {workload: Adapter} (called only when installed)."""

    name: str
    version: Callable[[], str | None]
    adapters: Callable[[], dict[str, Adapter]]
    note: str = ""
    _cache: dict = field(default_factory=dict, repr=False)

    def get(self) -> dict[str, Adapter]:
        if "adapters" not in self._cache:
            self._cache["adapters"] = self.adapters()
        return self._cache["adapters"]


TOOLS: dict[str, Tool] = {}


def register(tool: Tool) -> Tool:
    """Add (or replace) a tool; returns it."""
    TOOLS[tool.name] = tool
    return tool


def _module_version(name: str) -> str | None:
    import importlib

    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    version = getattr(module, "__version__", None)
    if version is None:
        try:
            from importlib.metadata import version as dist_version

            version = dist_version(name)
        except Exception:
            version = "installed"
    return str(version)


# --------------------------------------------------------------------------- comparison
def _loose(value: Any) -> Any:
    """A comparable form across tools: numbers -> float, multi-values -> lists,
    empty -> None, other values -> stripped text."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        out = [_loose(v) for v in value]
        return out if len(out) != 1 else out[0]
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if hasattr(value, "item") and not isinstance(value, (bytes, str)):  # numpy scalars
        return _loose(value.item())
    text = str(value).strip(" \x00")
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _compare_values(keywords, ref, got) -> str | None:
    if len(ref) != len(got):
        return f"{len(got)} values, expected {len(ref)}"
    for kw, a, b in zip(keywords, ref, got):
        if not _close(_loose(a), _loose(b)):
            return f"{kw}: {str(b)[:60]!r}, fastdicom {str(a)[:60]!r}"
    return None


def compare(workload: str, ref: Any, got: Any, atol: float = 0) -> str | None:
    """None when ``got`` (a tool's check result) agrees with ``ref`` (fastdicom's),
    else what differs."""
    if workload == "header":
        return _compare_values(HEADER_KEYWORDS, ref, got)
    if workload == "walk":
        ref, got = list(ref), list(got)
        if ref == got:
            return None
        n = next((i for i, (a, b) in enumerate(zip(ref, got)) if a != b), min(len(ref), len(got)))
        where = (f"element {n}: ({got[n] >> 16:04X},{got[n] & 0xFFFF:04X}) instead of "
                 f"({ref[n] >> 16:04X},{ref[n] & 0xFFFF:04X})" if n < min(len(ref), len(got))
                 else f"element {n}")
        return f"visits {len(got)} elements, fastdicom {len(ref)}; first difference at {where}"
    if workload == "pixels":
        import numpy as np

        a, b = np.asarray(ref), np.asarray(got)
        if a.shape != b.shape:
            return f"shape {b.shape}, fastdicom {a.shape}"
        if atol == 0 and np.array_equal(a, b):
            return None
        count, worst = 0, 0.0
        rows = a.shape[0] if a.ndim > 2 else 1  # a frame at a time: large files stay small
        for fa, fb in zip(a.reshape(rows, -1), b.reshape(rows, -1)):
            diff = np.abs(fa.astype(np.float64) - fb.astype(np.float64))
            count += int((diff > atol).sum())
            worst = max(worst, float(diff.max(initial=0.0)))
        if count:
            return (f"{count} of {a.size} values differ (max {worst:g}; dtype {b.dtype}, "
                    f"fastdicom {a.dtype})")
        return None
    if workload == "write":
        return None if ref == got else f"wrote {got!r:.120}, fastdicom {ref!r:.120}"
    if workload == "scan":
        if len(ref) != len(got):
            return f"{len(got)} rows, fastdicom {len(ref)}"
        for a, b in zip(ref, got):
            msg = _compare_values(SCAN_KEYWORDS, a, b)
            if msg:
                return msg
        return None
    return None if ref == got else f"{got!r:.80} != fastdicom {ref!r:.80}"


def write_summary(data: bytes) -> tuple:
    """What the write check compares: the written file read by fastdicom
    (its Patient's Name, SOP Instance UID and top-level tags)."""
    import fastdicom

    ds = fastdicom.dcmread(bytes(data))
    return (str(ds.PatientName), str(ds.SOPInstanceUID), tuple(int(e.tag) for e in ds))


# --------------------------------------------------------------------------- fastdicom
def _fastdicom_adapters() -> dict[str, Adapter]:
    import fastdicom

    def header(path):
        ds = fastdicom.dcmread(path, stop_before_pixels=True)
        return tuple(getattr(ds, kw, None) for kw in HEADER_KEYWORDS)

    def visit(ds, tags):
        for elem in ds:
            value = elem.value
            if tags is not None:
                tags.append(int(elem.tag))
            if elem.VR == "SQ":
                for item in value:
                    visit(item, tags)

    def walk(path):
        visit(fastdicom.dcmread(path), None)

    def walk_tags(path):
        tags: list[int] = []
        visit(fastdicom.dcmread(path), tags)
        return tags

    def pixels(path):
        return fastdicom.dcmread(path).pixel_array

    def write(path):
        ds = fastdicom.dcmread(path)
        ds.PatientName = NEW_NAME
        out = io.BytesIO()
        fastdicom.dcmwrite(out, ds)
        return out.getvalue()

    def scan(paths):
        return fastdicom.scan(list(paths), workers=1)

    def scan_rows(paths):
        table = scan(paths)
        columns = [table.column(kw).to_pylist() for kw in SCAN_KEYWORDS]
        return [tuple(row) for row in zip(*columns)]

    adapters = {"header": Adapter(header), "walk": Adapter(walk, walk_tags),
                "pixels": Adapter(pixels),
                "write": Adapter(write, lambda p: write_summary(write(p)))}
    if importlib.util.find_spec("pyarrow") is not None:  # fastdicom.scan builds Arrow tables
        adapters["scan"] = Adapter(scan, scan_rows, batch=True,
                                   note="fastdicom.scan(paths, workers=1): Arrow table")
    return adapters


# --------------------------------------------------------------------------- pydicom
def _scan_keywords() -> tuple[str, ...]:
    from fastdicom.ingest import DEFAULT_TAGS

    return tuple(DEFAULT_TAGS)


def _pydicom_adapters() -> dict[str, Adapter]:
    import pydicom

    keywords = _scan_keywords()

    def header(path):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        return tuple(getattr(ds, kw, None) for kw in HEADER_KEYWORDS)

    def walk_tags(path, keep=True):
        tags: list[int] = []

        def touch(_ds, elem):
            elem.value  # noqa: B018 - the conversion is the work
            if keep:
                tags.append(int(elem.tag))

        pydicom.dcmread(path).walk(touch)
        return tags

    def pixels(path):
        return pydicom.dcmread(path).pixel_array

    def write(path):
        ds = pydicom.dcmread(path)
        ds.PatientName = NEW_NAME
        out = io.BytesIO()
        pydicom.dcmwrite(out, ds)
        return out.getvalue()

    def scan(paths):
        rows = []
        for path in paths:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            rows.append(tuple(getattr(ds, kw, None) for kw in keywords))
        return rows

    def scan_rows(paths):
        index = [keywords.index(kw) for kw in SCAN_KEYWORDS]
        return [tuple(row[i] for i in index) for row in scan(paths)]

    return {"header": Adapter(header), "walk": Adapter(lambda p: walk_tags(p, False), walk_tags),
            "pixels": Adapter(pixels),
            "write": Adapter(write, lambda p: write_summary(write(p))),
            "scan": Adapter(scan, scan_rows, batch=True,
                            note="dcmread(stop_before_pixels=True) loop, 43 values per file")}


# --------------------------------------------------------------------------- dicomsdl
def _dicomsdl_adapters() -> dict[str, Adapter]:
    import dicomsdl

    keywords = _scan_keywords()
    sq = dicomsdl.VR.SQ

    def header(path):
        ds = dicomsdl.open(path)
        return tuple(getattr(ds, kw, None) for kw in HEADER_KEYWORDS)

    def visit(ds, tags, top):
        for de in ds:
            tag = de.tag()
            if top and tag < 0x00030000:  # the file meta group: not part of the data set
                continue
            if tags is not None:
                tags.append(tag)
            if de.vr() == sq:
                seq = de.toSequence()
                for i in range(len(seq)):
                    visit(seq[i], tags, False)
            else:
                de.value()

    def walk(path):
        visit(dicomsdl.open(path), None, True)

    def walk_tags(path):
        tags: list[int] = []
        visit(dicomsdl.open(path), tags, True)
        return tags

    def pixels(path):
        import numpy as np

        ds = dicomsdl.open(path)
        frames = int(ds.NumberOfFrames or 1)
        if frames == 1:
            return ds.pixelData(storedvalue=True)
        return np.stack([ds.pixelData(i, storedvalue=True) for i in range(frames)])

    def write(path):
        ds = dicomsdl.open(path)
        ds.PatientName = NEW_NAME
        return ds.saveToMemory()

    def scan(paths):
        rows = []
        for path in paths:
            ds = dicomsdl.open(path)
            rows.append(tuple(getattr(ds, kw, None) for kw in keywords))
        return rows

    def scan_rows(paths):
        index = [keywords.index(kw) for kw in SCAN_KEYWORDS]
        return [tuple(row[i] for i in index) for row in scan(paths)]

    return {"header": Adapter(header, note="dicomsdl.open(path) (no stop before pixels)"),
            "walk": Adapter(walk, walk_tags), "pixels": Adapter(
                pixels, note="pixelData(i, storedvalue=True) per frame, stacked"),
            "write": Adapter(write, lambda p: write_summary(write(p)),
                             note="saveToMemory()"),
            "scan": Adapter(scan, scan_rows, batch=True, note="dicomsdl.open loop")}


def _builtin_tools() -> None:
    from fastdicom.bench import _peers

    register(Tool("fastdicom", lambda: _module_version("fastdicom"), _fastdicom_adapters))
    register(Tool("pydicom", lambda: _module_version("pydicom"), _pydicom_adapters))
    register(Tool("dicomsdl", lambda: _module_version("dicomsdl"), _dicomsdl_adapters))
    register(Tool("gdcm", _peers.gdcm_version, _peers.gdcm_adapters,
                  note="python-gdcm: header only"))
    register(Tool("dcmtk", _peers.dcmtk_version, _peers.dcmtk_adapters,
                  note="dcmdump in a subprocess per file (process start included)"))


_builtin_tools()
