"""Column specifications of :mod:`fastdicom.ingest`: which element each column
reads (a tag, or a path through sequence items) and its Arrow type, derived
from the data dictionary's VR and VM of the tag (never from the values seen,
so every batch has the same schema).

No pyarrow at import: the Arrow types are made on demand.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from fastdicom import datadict

__all__ = ["ColumnSpec", "Plan", "DEFAULT_TAGS", "BASE_COLUMNS", "resolve_columns",
           "parse_tag_spec", "arrow_type", "KINDS"]

#: The default columns: what indexing by patient, study, series and instance
#: (and sorting slices in space) needs.
DEFAULT_TAGS: tuple[str, ...] = (
    "PatientID", "PatientName", "PatientBirthDate", "PatientSex", "PatientAge",
    "StudyInstanceUID", "StudyID", "StudyDate", "StudyTime", "StudyDescription",
    "AccessionNumber", "ReferringPhysicianName", "InstitutionName",
    "SeriesInstanceUID", "SeriesNumber", "SeriesDescription", "SeriesDate", "Modality",
    "BodyPartExamined", "Manufacturer", "ManufacturerModelName", "FrameOfReferenceUID",
    "SOPInstanceUID", "SOPClassUID", "InstanceNumber", "ImageType", "AcquisitionNumber",
    "ContentDate", "ContentTime", "AcquisitionDateTime",
    "Rows", "Columns", "NumberOfFrames", "SamplesPerPixel", "PhotometricInterpretation",
    "BitsAllocated", "PixelRepresentation",
    "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness",
    "SpacingBetweenSlices", "SliceLocation",
)

#: Columns every table has besides the requested tags (in this order, after them).
BASE_COLUMNS: tuple[str, ...] = ("size", "transfer_syntax", "sop_class_uid", "error")

# dictionary VR -> column kind; how values become column values (see _ingest_convert)
_VR_KIND = {
    "AE": "ae", "AS": "cs", "CS": "cs", "DA": "da", "DT": "dt", "TM": "tm",
    "DS": "ds", "IS": "is", "UI": "ui", "UR": "ur",
    "SH": "text", "LO": "text", "UC": "text", "ST": "text1", "LT": "text1", "UT": "text1",
    "PN": "pn", "AT": "at",
    "US": "int", "SS": "int", "UL": "int", "SL": "int", "SV": "int", "UV": "uint",
    "FL": "float", "FD": "float",
    "OB": "bytes", "OD": "bytes", "OF": "bytes", "OL": "bytes", "OV": "bytes", "OW": "bytes",
    "UN": "bytes", "NONE": "bytes",
    "SQ": "seq",
    "US or SS": "int", "OB or OW": "bytes", "US or OW": "bytes", "US or SS or OW": "bytes",
}

#: kind -> Arrow type name of one value
KINDS = {
    "ae": "string", "cs": "string", "ui": "string", "ur": "string", "text": "string",
    "text1": "string", "pn": "string", "any": "string",
    "da": "date32", "tm": "time64", "dt": "timestamp",
    "ds": "float64", "float": "float64",
    "is": "int64", "int": "int64", "at": "int64", "seq": "int64", "uint": "uint64",
    "bytes": "binary",
}
# kinds whose text is decoded with the Specific Character Set
CHARSET_KINDS = frozenset({"text", "text1", "pn"})
# kinds read from binary numbers
NUM_KINDS = frozenset({"int", "uint", "float"})
# kinds that are never multi-valued (one value whatever the VM says)
_SINGLE_KINDS = frozenset({"text1", "ur", "bytes", "seq"})

_HEX_PAIR = re.compile(r"\(?\s*([0-9A-Fa-f]{4})\s*,\s*([0-9A-Fa-f]{4})\s*\)?")
_HEX8 = re.compile(r"[0-9A-Fa-f]{8}")
_STEP = re.compile(r"\s*([^\[\]]+?)\s*(?:\[\s*(-?\d+)\s*\])?\s*")


@dataclass(frozen=True)
class ColumnSpec:
    """One tag column: ``name``; ``steps``: ``((seq_tag, item_index), ...,
    (tag, None))``, the path from the top-level dataset to the element (only
    the last step has no item index); ``vr``/``vm`` from the dictionary
    (``None`` when the tag is not in it); ``kind`` (see :data:`KINDS`);
    ``multi``: a list column (VM other than 1)."""

    name: str
    steps: tuple
    vr: str | None
    vm: str | None
    kind: str
    multi: bool
    fast_vr: str | None = field(default=None)  # the VR the element must have in the data for the fast path

    @property
    def tag(self) -> int:
        return self.steps[-1][0]

    @property
    def top_tag(self) -> int:
        return self.steps[0][0]

    @property
    def nested(self) -> bool:
        return len(self.steps) > 1

    @property
    def meta(self) -> bool:
        """Read from the File Meta Information (group 0002)."""
        return not self.nested and self.tag >> 16 == 0x0002

    @property
    def arrow_type(self) -> Any:
        return arrow_type(self.kind, self.multi)


def arrow_type(kind: str, multi: bool = False) -> Any:
    """The Arrow type of a column of ``kind`` (a list of it if ``multi``)."""
    import pyarrow as pa

    name = KINDS[kind]
    t = {"string": pa.string(), "date32": pa.date32(), "time64": pa.time64("us"),
         "timestamp": pa.timestamp("us"), "float64": pa.float64(), "int64": pa.int64(),
         "uint64": pa.uint64(), "binary": pa.binary()}[name]
    return pa.list_(t) if multi else t


def _tag_name(tag: int) -> str:
    kw = datadict.keyword_for_tag(tag)
    return kw if kw else f"{tag >> 16:04X},{tag & 0xFFFF:04X}"


def _one_tag(spec: Any) -> int:
    """The tag of one path step given as a keyword, ``"gggg,eeee"``,
    ``"(gggg,eeee)"``, ``"ggggeeee"``, an int or a ``(group, element)`` pair."""
    if isinstance(spec, bool):
        raise TypeError(f"{spec!r} is not a tag")
    if isinstance(spec, int):
        if not 0 <= spec <= 0xFFFFFFFF:
            raise ValueError(f"{spec:#x} is not a 32-bit tag")
        return int(spec)
    if isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(x, int) for x in spec):
        g, e = spec
        if not (0 <= g <= 0xFFFF and 0 <= e <= 0xFFFF):
            raise ValueError(f"{spec!r}: group and element must each fit in 16 bits")
        return (g << 16) | e
    if isinstance(spec, str):
        s = spec.strip()
        tag = datadict.tag_for_keyword(s)
        if tag is not None:
            return tag
        m = _HEX_PAIR.fullmatch(s)
        if m:
            return (int(m.group(1), 16) << 16) | int(m.group(2), 16)
        if _HEX8.fullmatch(s):
            return int(s, 16)
        raise ValueError(f"{spec!r} is not a DICOM keyword or a tag ('gggg,eeee')")
    raise TypeError(f"cannot make a tag from {spec!r}")


def _is_pair(spec: Any) -> bool:
    return (isinstance(spec, tuple) and len(spec) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 0xFFFF for x in spec))


def parse_tag_spec(spec: Any) -> tuple[tuple, str]:
    """(steps, default column name) of one tag specification.

    A keyword (``"PatientName"``), a tag as ``"0010,0010"``, ``"(0010,0010)"``,
    ``"00100010"``, an int (``0x00100010``) or a ``(group, element)`` pair; or a
    path into sequences: a string of steps joined by ``.`` where a sequence step
    may give the item (``"ReferencedImageSequence[0].ReferencedSOPInstanceUID"``;
    no index means the first item, ``[-1]`` the last), or a tuple/list of steps
    (``("ReferencedImageSequence", 0, "ReferencedSOPInstanceUID")``; ints below
    0x10000 after a step are item indices).
    """
    if isinstance(spec, str):
        parts = spec.split(".")
        steps: list[list] = []
        for part in parts:
            m = _STEP.fullmatch(part)
            if not m or not m.group(1):
                raise ValueError(f"{spec!r}: cannot read the path step {part!r}")
            steps.append([_one_tag(m.group(1)), int(m.group(2)) if m.group(2) is not None else None])
        name = spec.strip()
    elif isinstance(spec, (tuple, list)) and not _is_pair(spec):
        steps = []
        for x in spec:
            if (isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 0x10000 and steps
                    and steps[-1][1] is None):
                steps[-1][1] = x  # an item index
            elif isinstance(x, int) and not isinstance(x, bool) and x < 0:
                if not steps or steps[-1][1] is not None:
                    raise ValueError(f"{spec!r}: an item index must follow a sequence")
                steps[-1][1] = x
            else:
                steps.append([_one_tag(x), None])
        if not steps:
            raise ValueError("an empty tag path")
        name = ".".join(_tag_name(t) + (f"[{0 if i is None else i}]" if k < len(steps) - 1 else "")
                        for k, (t, i) in enumerate(steps))
    else:
        tag = _one_tag(spec)
        steps = [[tag, None]]
        name = _tag_name(tag)
    if steps[-1][1] is not None:
        raise ValueError(f"{spec!r}: an item index is only allowed after a sequence, "
                         "not on the last step")
    for tag, _ in steps[:-1]:
        vr = _dict_entry(tag)[0]
        if vr is not None and vr != "SQ":
            raise ValueError(f"{spec!r}: {_tag_name(tag)} is not a sequence (VR {vr})")
    out = tuple((t, (0 if i is None else i)) for t, i in steps[:-1]) + ((steps[-1][0], None),)
    return out, name


def _dict_entry(tag: int) -> tuple[str | None, str | None]:
    try:
        entry = datadict.get_entry(tag)
    except KeyError:
        return None, None
    return entry[0], entry[1]


def column_spec(spec: Any, name: str | None = None) -> ColumnSpec:
    steps, default_name = parse_tag_spec(spec)
    tag = steps[-1][0]
    vr, vm = _dict_entry(tag)  # (None, None) for private tags: values as text ("any")
    kind = _VR_KIND.get(vr, "any") if vr is not None else "any"
    multi = kind not in _SINGLE_KINDS and kind != "any" and vm not in (None, "1")
    fast_vr = vr if vr is not None and len(vr) == 2 and kind not in ("any", "seq") else None
    if vr == "NONE":
        fast_vr = None
    return ColumnSpec(name if name is not None else default_name, steps, vr, vm, kind, multi,
                      fast_vr)


def _hashable(tags: Any) -> Any:
    """A list or mapping of tag specifications as a hashable key (None when a
    part is not hashable)."""
    try:
        if isinstance(tags, Mapping):
            key = ("map",) + tuple(tags.items())
        else:
            key = ("seq",) + tuple(tuple(t) if isinstance(t, list) else t for t in tags)
        hash(key)
        return key
    except TypeError:
        return None


@functools.lru_cache(maxsize=64)
def _resolve_cached(key: Any) -> tuple:
    specs = dict(key[1:]) if key[0] == "map" else list(key[1:])
    return tuple(_resolve(specs))


def resolve_columns(tags: Iterable[Any] | Mapping[str, Any] | None) -> list[ColumnSpec]:
    """The column specs for ``tags`` (default :data:`DEFAULT_TAGS`): one tag
    specification (see :func:`parse_tag_spec`), a sequence of them (the column
    is named by the string as given, or the keyword of an int/pair), or a
    mapping ``{column name: tag specification}``. (Results are cached.)"""
    if tags is None:
        tags = DEFAULT_TAGS
    if isinstance(tags, (str, int)) or _is_pair(tags):
        tags = [tags]
    elif not isinstance(tags, (tuple, list, Mapping)):
        tags = list(tags)  # an iterator: read it once
    key = _hashable(tags)
    if key is not None:
        return list(_resolve_cached(key))
    return _resolve(tags)


def _resolve(tags: Any) -> list[ColumnSpec]:
    if isinstance(tags, Mapping):
        cols = [column_spec(spec, str(name)) for name, spec in tags.items()]
    else:
        cols = [column_spec(spec) for spec in tags]
    seen: set[str] = {"path", *BASE_COLUMNS}
    for c in cols:
        if c.name in seen:
            what = "a column every table has" if c.name in BASE_COLUMNS or c.name == "path" \
                else "given twice"
            raise ValueError(f"column name {c.name!r} is {what}")
        seen.add(c.name)
    return cols


@dataclass
class Plan:
    """What a scan reads, shared by every chunk (picklable: sent to worker
    processes): the columns; ``specific`` (the ``specific_tags`` given to
    :func:`fastdicom.dcmread`: the last top-level tag wanted, so the walk stops
    there) and ``stop_after`` (the tokenizer's stop tag); ``fast``: columns
    read from the element tables of a whole chunk at once (top-level tags of
    the dictionary with a plain VR); ``other``: the rest (values in sequence
    items, File Meta Information, sequences, AT, tags not in the dictionary),
    read per file."""

    columns: list
    stop_before_pixels: bool = True
    force: bool = False
    slow_only: bool = False  # testing: read every value through the Dataset API
    specific: list | None = field(default=None)
    stop_after: int | None = None
    fast: list = field(default_factory=list)
    other: list = field(default_factory=list)

    def __post_init__(self) -> None:
        tops = [c.top_tag for c in self.columns if not c.meta]
        if tops:
            self.specific = [max(max(tops), 0x00080016)]  # SOP Class UID: always wanted
        elif not self.stop_before_pixels:
            self.specific = None
        else:
            self.specific = [0x00080016]
        self.stop_after = max(self.specific[0], 0x00080005) if self.specific else None
        self.fast, self.other = [], []
        for j, c in enumerate(self.columns):
            if self.slow_only or c.nested or c.meta or c.fast_vr is None or c.kind in ("seq", "at"):
                self.other.append(j)
            else:
                self.fast.append(j)

    @property
    def header_only(self) -> bool:
        return self.stop_before_pixels or self.specific is not None

    def schema(self) -> Any:
        """The ``pyarrow.Schema`` of the batches (made once)."""
        got = self.__dict__.get("_schema")
        if got is None:
            import pyarrow as pa

            fields = [pa.field("path", pa.string())]
            fields += [pa.field(c.name, c.arrow_type) for c in self.columns]
            fields += [pa.field("size", pa.int64()), pa.field("transfer_syntax", pa.string()),
                       pa.field("sop_class_uid", pa.string()), pa.field("error", pa.string())]
            got = self.__dict__["_schema"] = pa.schema(fields)
        return got
