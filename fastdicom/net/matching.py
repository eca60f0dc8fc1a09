"""Attribute matching of PS3.4 C.2.2.2 as SQL conditions (no I/O, no database).

The Query/Retrieve keys an archive indexes (:data:`ATTRIBUTES`: keyword, VR,
level, column) and the translation of one key's value into a condition on
its column (:func:`condition`):

- zero length, or ``*`` alone: universal matching (no condition; the
  attribute's value is returned);
- a list of UIDs (``a\\b\\c``): list matching (``IN``); other lists match
  when any of their values does;
- ``*`` and ``?`` anywhere else: wildcard matching (``LIKE``, with ``%``,
  ``_`` and the escape character escaped);
- DA, TM, DT with a ``-``: range matching (``a-b``, ``-b``, ``a-``), on a
  normalised column that sorts as the values do (a time ``10`` is 10:00:00
  to 10:59:59.999999 as an upper bound); a single TM/DT value matches its
  whole precision;
- otherwise single value matching, case-insensitive for PN when asked
  (on a lower-cased copy of the name, folded by Python: the same on every
  backend and for every script).

Values are stored normalised (:func:`normalise`): trailing spaces and empty
PN components removed, dates as ``YYYYMMDD``; empty values are NULL, which
no condition matches (PS3.4: only universal matching returns them).
Conditions use ``?`` placeholders and a :class:`Dialect` for the few
functions that differ between SQLite and PostgreSQL.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

__all__ = ["Attribute", "ATTRIBUTES", "BY_KEYWORD", "LEVELS", "UNIQUE_KEYS", "Dialect",
           "SQLITE", "POSTGRESQL", "QueryError", "condition", "normalise", "range_key",
           "values_of"]

LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")
#: The table of each level and its alias in queries.
TABLES = {"PATIENT": ("patients", "p"), "STUDY": ("studies", "st"),
          "SERIES": ("series", "se"), "IMAGE": ("instances", "i")}
UNIQUE_KEYS = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID",
               "SERIES": "SeriesInstanceUID", "IMAGE": "SOPInstanceUID"}


class QueryError(Exception):
    """An identifier that cannot be answered: ``status`` (0xA900, 0xC000 ...)
    and a short comment for the response's Error Comment."""

    def __init__(self, status: int, comment: str) -> None:
        super().__init__(comment)
        self.status = status
        self.comment = comment


@dataclass(frozen=True)
class Attribute:
    """A key the archive indexes: stored in ``column`` of its level's table, or
    computed (``computed``: an SQL expression over the level's row)."""

    keyword: str
    vr: str
    level: str
    column: str
    computed: str | None = None
    multi: bool = False  #: several values, stored joined with a backslash
    alias: str | None = None  #: the table alias, when not the level's (sequence items)

    @property
    def ranged(self) -> bool:
        return self.vr in ("DA", "TM", "DT")

    @property
    def key_column(self) -> str:
        """The column conditions use: a sortable form for times and date-times."""
        return self.column + "_k" if self.vr in ("TM", "DT") else self.column

    def expr(self) -> str:
        return self.computed or f"{self.alias or TABLES[self.level][1]}.{self.column}"

    def key_expr(self) -> str:
        return self.computed or f"{self.alias or TABLES[self.level][1]}.{self.key_column}"


def _a(keyword: str, vr: str, level: str, column: str, **kw: Any) -> Attribute:
    return Attribute(keyword, vr, level, column, **kw)


_COUNT_STUDY_SERIES = "(SELECT count(*) FROM series x WHERE x.study_id = st.id)"
_COUNT_STUDY_INSTANCES = ("(SELECT count(*) FROM instances x JOIN series y ON x.series_id = y.id"
                          " WHERE y.study_id = st.id)")
_COUNT_SERIES_INSTANCES = "(SELECT count(*) FROM instances x WHERE x.series_id = se.id)"
_COUNT_PATIENT_STUDIES = "(SELECT count(*) FROM studies x WHERE x.patient_id = p.id)"
_COUNT_PATIENT_SERIES = ("(SELECT count(*) FROM series x JOIN studies y ON x.study_id = y.id"
                         " WHERE y.patient_id = p.id)")
_COUNT_PATIENT_INSTANCES = (
    "(SELECT count(*) FROM instances x JOIN series y ON x.series_id = y.id"
    " JOIN studies z ON y.study_id = z.id WHERE z.patient_id = p.id)")

#: The keys indexed, by level (and computed ones: counts, modalities in a study).
ATTRIBUTES: tuple[Attribute, ...] = (
    _a("PatientID", "LO", "PATIENT", "patient_id"),
    _a("IssuerOfPatientID", "LO", "PATIENT", "issuer"),
    _a("PatientName", "PN", "PATIENT", "patient_name"),
    _a("PatientBirthDate", "DA", "PATIENT", "birth_date"),
    _a("PatientSex", "CS", "PATIENT", "sex"),
    _a("NumberOfPatientRelatedStudies", "IS", "PATIENT", "", computed=_COUNT_PATIENT_STUDIES),
    _a("NumberOfPatientRelatedSeries", "IS", "PATIENT", "", computed=_COUNT_PATIENT_SERIES),
    _a("NumberOfPatientRelatedInstances", "IS", "PATIENT", "",
       computed=_COUNT_PATIENT_INSTANCES),
    _a("StudyInstanceUID", "UI", "STUDY", "study_uid"),
    _a("StudyDate", "DA", "STUDY", "study_date"),
    _a("StudyTime", "TM", "STUDY", "study_time"),
    _a("AccessionNumber", "SH", "STUDY", "accession"),
    _a("StudyID", "SH", "STUDY", "study_id"),
    _a("StudyDescription", "LO", "STUDY", "description"),
    _a("ReferringPhysicianName", "PN", "STUDY", "referring"),
    _a("ModalitiesInStudy", "CS", "STUDY", "modalities", multi=True),
    _a("NumberOfStudyRelatedSeries", "IS", "STUDY", "", computed=_COUNT_STUDY_SERIES),
    _a("NumberOfStudyRelatedInstances", "IS", "STUDY", "", computed=_COUNT_STUDY_INSTANCES),
    _a("SeriesInstanceUID", "UI", "SERIES", "series_uid"),
    _a("Modality", "CS", "SERIES", "modality"),
    _a("SeriesNumber", "IS", "SERIES", "series_number"),
    _a("SeriesDescription", "LO", "SERIES", "description"),
    _a("SeriesDate", "DA", "SERIES", "series_date"),
    _a("SeriesTime", "TM", "SERIES", "series_time"),
    _a("BodyPartExamined", "CS", "SERIES", "body_part"),
    _a("NumberOfSeriesRelatedInstances", "IS", "SERIES", "", computed=_COUNT_SERIES_INSTANCES),
    _a("SOPInstanceUID", "UI", "IMAGE", "sop_uid"),
    _a("SOPClassUID", "UI", "IMAGE", "sop_class"),
    _a("InstanceNumber", "IS", "IMAGE", "instance_number"),
    _a("ContentDate", "DA", "IMAGE", "content_date"),
    _a("ContentTime", "TM", "IMAGE", "content_time"),
    _a("AcquisitionDateTime", "DT", "IMAGE", "acquisition_dt"),
    _a("Rows", "US", "IMAGE", "rows_"),
    _a("Columns", "US", "IMAGE", "columns_"),
    _a("NumberOfFrames", "IS", "IMAGE", "frames"),
)
BY_KEYWORD = {a.keyword: a for a in ATTRIBUTES}


@dataclass(frozen=True)
class Dialect:
    """What differs between the SQL of the backends."""

    name: str
    placeholder: str = "?"

    def sql(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)


SQLITE = Dialect("sqlite")
POSTGRESQL = Dialect("postgresql", "%s")


# -- values ---------------------------------------------------------------------------------
def values_of(value: Any) -> list[str]:
    """An element's value as a list of strings (a multi-valued key gives several)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value]
    text = str(value)
    return text.split("\\") if "\\" in text else [text]


_PN_TAIL = re.compile(r"[\^=]+$")


def normalise(vr: str, value: Any) -> str | None:
    """A value as the index stores it (None when empty)."""
    values = [_one(vr, v) for v in values_of(value)]
    values = [v for v in values if v]
    return "\\".join(values) if values else None


def _one(vr: str, text: str) -> str:
    text = text.strip(" \x00")
    if vr == "PN":
        return "=".join(_PN_TAIL.sub("", group) for group in text.split("=")).rstrip("=")
    if vr == "DA":
        return text.replace(".", "") if re.fullmatch(r"\d{4}\.\d{2}\.\d{2}", text) else text
    return text


_TIME = re.compile(r"(\d{2})(?::?(\d{2})(?::?(\d{2})(?:\.(\d{1,6}))?)?)?\Z")
_DATETIME = re.compile(r"(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6}))?"
                       r"(?:[+-]\d{4})?\Z")


def range_key(vr: str, text: str, upper: bool = False) -> str | None:
    """A DA/TM/DT value in its sortable form: the earliest instant it stands for
    (or the latest, ``upper``); None when it is not a valid value."""
    text = text.strip(" \x00")
    if vr == "DA":
        text = _one("DA", text)
        return text if re.fullmatch(r"\d{8}", text) else None
    if vr == "TM":
        m = _TIME.match(text)
        if not m:
            return None
        hh, mm, ss, frac = m.groups()
        fill = "9" if upper else "0"
        edge = "59" if upper else "00"
        return hh + (mm or edge) + (ss or edge) + "." + (frac or "").ljust(6, fill)
    m = _DATETIME.match(text)
    if not m:
        return None
    parts = m.groups()
    low, high = ("", "01", "01", "00", "00", "00"), ("", "12", "31", "23", "59", "59")
    pad = high if upper else low
    head = "".join(p if p is not None else pad[i] for i, p in enumerate(parts[:6]))
    frac = parts[6]
    if frac is None:
        frac = "999999" if upper else "000000"
    else:
        frac = frac.ljust(6, "9" if upper else "0")
    return head + "." + frac


def _like(pattern: str) -> str:
    """A wildcard value as a LIKE pattern (escape character ``!``)."""
    out = []
    for ch in pattern:
        if ch in "!%_":
            out.append("!" + ch)
        elif ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        else:
            out.append(ch)
    return "".join(out)


# -- conditions -----------------------------------------------------------------------------
def condition(attr: Attribute, value: Any, *, fuzzy_pn: bool = False
              ) -> tuple[str, list[Any]] | None:
    """The SQL condition (``?`` placeholders, parameters) for a key's value, or
    None for universal matching. Raises :class:`QueryError` (0xA900) for a
    range or date that is not one."""
    values = [v.strip(" \x00") for v in values_of(value)]
    values = [v for v in values if v]
    if not values or values == ["*"]:
        return None
    parts = [_single(attr, v, fuzzy_pn) for v in values]
    if attr.vr == "UI" and len(values) > 1 and all(p[0].endswith("= ?") for p in parts):
        return (f"{attr.key_expr()} IN ({', '.join('?' * len(values))})",
                [p[1][0] for p in parts])
    if len(parts) == 1:
        return parts[0]
    return "(" + " OR ".join(p[0] for p in parts) + ")", [x for p in parts for x in p[1]]


_LIKE = "LIKE ? ESCAPE '!'"


def _single(attr: Attribute, v: str, fuzzy_pn: bool) -> tuple[str, list[Any]]:
    expr = attr.key_expr()
    if attr.multi:  # one of the stored values (joined with backslashes) matches
        return f"('\\' || {expr} || '\\') {_LIKE}", ["%\\" + _like(v) + "\\%"]
    if attr.ranged:
        return _ranged(attr, expr, v)
    if attr.vr == "PN":
        v = _one("PN", v)
    if attr.vr in ("US", "IS") and not attr.computed:
        v = v.lstrip("+")
    fold = fuzzy_pn and attr.vr == "PN" and not attr.computed
    col = f"{TABLES[attr.level][1]}.{attr.column}_f" if fold else expr  # lower-cased copy
    if ("*" in v or "?" in v) and attr.vr not in ("UI", "US", "IS"):
        return f"{col} {_LIKE}", [_like(v.lower() if fold else v)]
    if attr.computed:
        return f"{expr} = ?", [int(v) if v.isdigit() else -1]
    return f"{col} = ?", [v.lower() if fold else v]


def _ranged(attr: Attribute, expr: str, v: str) -> tuple[str, list[Any]]:
    vr = attr.vr
    split = _split_range(vr, v)
    if split is not None:
        low, high = split
        conds, params = [], []
        if low:
            conds.append(f"{expr} >= ?")
            params.append(range_key(vr, low))
        if high:
            conds.append(f"{expr} <= ?")
            params.append(range_key(vr, high, upper=True))
        if not conds:
            return f"{expr} IS NOT NULL", []
        return " AND ".join(conds), params
    if "*" in v or "?" in v:
        return f"{attr.expr()} {_LIKE}", [_like(v)]
    low, high = range_key(vr, v), range_key(vr, v, upper=True)
    if low is None or high is None:
        raise QueryError(0xA900, f"{attr.keyword}: not a {vr} value or range: {v[:40]}")
    if vr == "DA":
        return f"{expr} = ?", [low]
    return f"{expr} >= ? AND {expr} <= ?", [low, high]


def _split_range(vr: str, v: str) -> tuple[str, str] | None:
    """``(low, high)`` of a range value (either may be empty), None for a single
    value. A DT's ``-`` may be the sign of a UTC offset: the split is at the
    ``-`` that leaves valid values (or nothing) on both sides."""
    if "-" not in v:
        return None
    for i, ch in enumerate(v):
        if ch != "-":
            continue
        low, high = v[:i].strip(), v[i + 1:].strip()
        if (not low or range_key(vr, low) is not None) and \
                (not high or range_key(vr, high, upper=True) is not None):
            if vr == "DT" and high and range_key(vr, v) is not None and len(high) == 4 \
                    and len(low) > 8:
                continue  # 20200101120000-0500: a single value with an offset
            return low, high
    if vr == "DT" and range_key(vr, v) is not None:
        return None
    raise QueryError(0xA900, f"not a {vr} range: {v[:40]}")


def identifier_keys(keywords: Iterable[str]) -> list[Attribute]:
    """The indexed attributes among ``keywords``."""
    return [BY_KEYWORD[k] for k in keywords if k in BY_KEYWORD]


#: The date and time attributes matched together as one date-time with combined
#: date-time matching (PS3.4 C.2.2.2.5.1).
DATE_TIME_PAIRS = (("StudyDate", "StudyTime"), ("SeriesDate", "SeriesTime"),
                   ("ContentDate", "ContentTime"))


def combined_condition(date: Attribute, date_value: Any, time: Attribute, time_value: Any
                       ) -> tuple[str, list[Any]] | None:
    """Combined date-time range matching: a date range and a time range as one
    range of instants (``20200101-20200102`` and ``1800-0600``: from 1 January
    18:00 to 2 January 06:00:59.999999); None when the two are not both ranges
    (each is then matched on its own)."""
    d = [v.strip() for v in values_of(date_value)]
    t = [v.strip() for v in values_of(time_value)]
    if len(d) != 1 or len(t) != 1 or "-" not in d[0] or "-" not in t[0]:
        return None
    d_range, t_range = _split_range("DA", d[0]), _split_range("TM", t[0])
    if d_range is None or t_range is None:
        return None
    expr = f"({date.key_expr()} || COALESCE({time.key_expr()}, '000000.000000'))"
    conds, params = [f"{date.key_expr()} IS NOT NULL"], []
    if d_range[0]:
        conds.append(f"{expr} >= ?")
        params.append(range_key("DA", d_range[0]) + (range_key("TM", t_range[0]) if t_range[0]
                                                     else "000000.000000"))
    if d_range[1]:
        conds.append(f"{expr} <= ?")
        params.append(range_key("DA", d_range[1]) + (
            range_key("TM", t_range[1], upper=True) if t_range[1] else "235959.999999"))
    return " AND ".join(conds), params


@dataclass(frozen=True)
class SequenceKey:
    """A sequence the index holds as a child table of its level's (sequence
    matching, PS3.4 C.2.2.2.6): its items' keys as attributes whose ``level``
    is the sequence's and ``column`` the child table's."""

    keyword: str
    level: str
    table: str
    items: tuple[Attribute, ...]

    def item(self, keyword: str) -> Attribute | None:
        return next((a for a in self.items if a.keyword == keyword), None)


def _seq_item(keyword: str, vr: str, column: str, level: str = "SERIES") -> Attribute:
    return Attribute(keyword, vr, level, column, alias="r")


def _code_items(level: str) -> tuple[Attribute, ...]:
    """The keys of a code sequence item (PS3.3 Table 8.8-1, basic code attributes)."""
    return (_seq_item("CodeValue", "SH", "code_value", level),
            _seq_item("CodingSchemeDesignator", "SH", "scheme", level),
            _seq_item("CodingSchemeVersion", "SH", "scheme_version", level),
            _seq_item("CodeMeaning", "LO", "meaning", level))


#: Sequences matched (PS3.4 C.6 keys): the Request Attributes Sequence of a
#: series (which order and procedure step the series was acquired for), and of
#: a study its Procedure Code Sequence and Referenced Study Sequence.
SEQUENCES = {
    "RequestAttributesSequence": SequenceKey(
        "RequestAttributesSequence", "SERIES", "series_requests",
        (_seq_item("RequestedProcedureID", "SH", "procedure_id"),
         _seq_item("ScheduledProcedureStepID", "SH", "step_id"),
         _seq_item("RequestedProcedureDescription", "LO", "description"),
         _seq_item("AccessionNumber", "SH", "accession"))),
    "ProcedureCodeSequence": SequenceKey(
        "ProcedureCodeSequence", "STUDY", "study_procedure_codes", _code_items("STUDY")),
    "ReferencedStudySequence": SequenceKey(
        "ReferencedStudySequence", "STUDY", "study_references",
        (_seq_item("ReferencedSOPClassUID", "UI", "ref_class", "STUDY"),
         _seq_item("ReferencedSOPInstanceUID", "UI", "ref_instance", "STUDY"))),
}


def sequence_condition(seq: SequenceKey, items: Any) -> tuple[str | None, list[Any]]:
    """The condition on a sequence key's (first) item, as the inside of an
    ``EXISTS`` over the child table (alias ``r``); (None, []) when every key
    of the item is universal. Item keys the index does not hold are ignored."""
    conds, params = [], []
    for item in list(items or [])[:1]:
        for elem in item:
            a = seq.item(elem.keyword or "")
            if a is None:
                continue
            cond = condition(a, elem.value)
            if cond is not None:
                conds.append(cond[0])
                params.extend(cond[1])
    return (" AND ".join(conds) if conds else None), params
