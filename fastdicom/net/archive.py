"""The archive behind the Query/Retrieve SCP: stored instances indexed in a
relational database (SQLite by default, PostgreSQL for larger sites).

>>> archive = Archive.open("sqlite:///data/pacs/index.sqlite")
>>> archive.index_file("/data/pacs/1.2.3.dcm")               # an existing file
>>> rows = archive.find(identifier, "STUDY")                   # C-FIND, as SQL
>>> files = archive.retrieve(identifier, "STUDY")              # C-GET / C-MOVE

Four tables (patients, studies, series, instances) hold the attributes of
the four Q/R levels (:data:`fastdicom.net.matching.ATTRIBUTES`) and, per
instance, its path, SOP class and transfer syntax. Queries are translated to
SQL (:mod:`fastdicom.net.matching`); files are never opened to answer them.

A received instance is indexed in the same transaction that renames it into
place (:meth:`Archive.commit_file`, called by
:meth:`fastdicom.net.storage.IncomingFile.commit`): the row is written, the
file renamed, then the transaction committed; if the rename fails the rows
are rolled back. Re-storing an SOP Instance UID replaces its row (and its
file, whose name is the UID).
"""
from __future__ import annotations

import os
import threading
from typing import Any, Callable, Iterable, Iterator

from fastdicom.net import matching as _m
from fastdicom.net.matching import ATTRIBUTES, LEVELS, TABLES, UNIQUE_KEYS, QueryError

__all__ = ["Archive", "QueryError", "open_archive", "MODELS"]

#: Query/Retrieve information models: name -> the levels they have, top first.
MODELS = {"PATIENT": LEVELS, "STUDY": LEVELS[1:]}
_PARENT = {"STUDY": ("patient_id", "PATIENT"), "SERIES": ("study_id", "STUDY"),
           "IMAGE": ("series_id", "SERIES")}
#: Columns of each table besides the attributes' (and its id and parent id).
_EXTRA = {"PATIENT": ("charset",), "STUDY": ("charset",), "SERIES": ("charset",),
          "IMAGE": ("charset", "path", "transfer_syntax", "size")}
_SPECIAL_KEYS = {"QueryRetrieveLevel", "SpecificCharacterSet", "RetrieveAETitle",
                 "InstanceAvailability"}


def _columns(level: str) -> list[str]:
    out = []
    for a in ATTRIBUTES:
        if a.level == level and not a.computed:
            out.append(a.column)
            if a.vr in ("TM", "DT"):
                out.append(a.key_column)
            if a.vr == "PN":
                out.append(a.column + "_f")
    return out + list(_EXTRA[level])


#: The version of the index's schema (kept in its ``fastdicom_index`` table).
SCHEMA_VERSION = 2  # 2: study-level sequences (procedure codes, referenced studies)


def schema(id_type: str) -> list[str]:
    """The DDL of the index (``id_type``: the backend's auto-increment key)."""
    out = ["CREATE TABLE IF NOT EXISTS fastdicom_index (version INTEGER NOT NULL)"]
    for level in LEVELS:
        table = TABLES[level][0]
        cols = [f"id {id_type}"]
        if level in _PARENT:
            parent_col, parent = _PARENT[level]
            cols.append(f"{parent_col} BIGINT NOT NULL REFERENCES {TABLES[parent][0]}(id)")
        for c in _columns(level):
            not_null = c in ("patient_id", "issuer", "study_uid", "series_uid", "sop_uid")
            kind = "BIGINT" if c == "size" else "TEXT"
            cols.append(f"{c} {kind}" + (" NOT NULL DEFAULT ''" if not_null else ""))
        unique = {"PATIENT": "UNIQUE (patient_id, issuer)", "STUDY": "UNIQUE (study_uid)",
                  "SERIES": "UNIQUE (series_uid)", "IMAGE": "UNIQUE (sop_uid)"}[level]
        out.append(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)}, {unique})")
    for seq in _m.SEQUENCES.values():
        parent = TABLES[seq.level][0]
        cols = ", ".join(f"{a.column} TEXT" for a in seq.items)
        out.append(f"CREATE TABLE IF NOT EXISTS {seq.table} (owner_id BIGINT NOT NULL "
                   f"REFERENCES {parent}(id), {cols})")
        out.append(f"CREATE INDEX IF NOT EXISTS {seq.table}_owner ON {seq.table} (owner_id)")
    out += [
        "CREATE INDEX IF NOT EXISTS patients_name ON patients (patient_name)",
        "CREATE INDEX IF NOT EXISTS studies_patient ON studies (patient_id)",
        "CREATE INDEX IF NOT EXISTS studies_date ON studies (study_date)",
        "CREATE INDEX IF NOT EXISTS studies_accession ON studies (accession)",
        "CREATE INDEX IF NOT EXISTS series_study ON series (study_id)",
        "CREATE INDEX IF NOT EXISTS instances_series ON instances (series_id)",
    ]
    return out


# -- reading the attributes of a file -------------------------------------------------------
def _text(ds: Any, keyword: str) -> Any:
    try:
        elem = ds.get(keyword)
    except Exception:  # an undecodable value: not indexed
        return None
    return elem


def record_of(ds: Any, path: str, transfer_syntax: str | None = None,
              size: int | None = None) -> dict[str, dict[str, Any]]:
    """The rows (level -> column -> value) of a dataset read from ``path``."""
    rows: dict[str, dict[str, Any]] = {level: {} for level in LEVELS}
    for a in ATTRIBUTES:
        if a.computed or a.multi:
            continue
        value = _m.normalise(a.vr, _text(ds, a.keyword))
        rows[a.level][a.column] = value
        if a.vr in ("TM", "DT"):
            rows[a.level][a.key_column] = None if value is None else \
                _m.range_key(a.vr, value.split("\\")[0])
        if a.vr == "PN":
            rows[a.level][a.column + "_f"] = None if value is None else value.lower()
    for key in ("patient_id", "issuer"):
        rows["PATIENT"][key] = rows["PATIENT"][key] or ""
    charset = _m.normalise("CS", _text(ds, "SpecificCharacterSet"))
    for level in LEVELS:
        rows[level]["charset"] = charset
    if transfer_syntax is None:
        meta = getattr(ds, "file_meta", None)
        transfer_syntax = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    rows["IMAGE"].update(path=os.path.abspath(path), transfer_syntax=transfer_syntax,
                         size=os.path.getsize(path) if size is None else size)
    for level in ("STUDY", "SERIES", "IMAGE"):
        key = UNIQUE_KEYS[level]
        col = _m.BY_KEYWORD[key].column
        if not rows[level][col]:
            raise ValueError(f"{path}: no {key}")
    if not rows["IMAGE"]["sop_class"]:
        raise ValueError(f"{path}: no SOPClassUID")
    for seq in _m.SEQUENCES.values():
        try:
            items = ds.get(seq.keyword) or []
        except Exception:
            items = []
        rows[seq.level]["@" + seq.table] = [  # type: ignore[assignment]
            tuple(_m.normalise(a.vr, _text(item, a.keyword)) for a in seq.items)
            for item in items]
    return rows


def read_record(path: str) -> dict[str, dict[str, Any]]:
    from fastdicom.reader import dcmread

    ds = dcmread(path, stop_before_pixels=True)
    return record_of(ds, path)


# -- the archive ----------------------------------------------------------------------------
class Archive:
    """An index of stored instances (see the module docstring); a backend
    subclass provides the connections (:class:`SQLiteArchive`,
    :class:`~fastdicom.net.archive_pg.PostgresArchive`): ``connection()``
    gives this thread's DB-API connection, ``close()`` closes them all."""

    dialect = _m.SQLITE
    id_type = "INTEGER PRIMARY KEY"

    def __init__(self) -> None:
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._all: list[Any] = []

    @staticmethod
    def open(url: str) -> "Archive":
        return open_archive(url)

    def _connect(self) -> Any:
        """A new DB-API connection (the backend's)."""
        raise NotImplementedError

    def _usable(self, con: Any) -> bool:
        return con is not None

    def connection(self) -> Any:
        """This thread's connection (made on first use)."""
        con = getattr(self._local, "con", None)
        if not self._usable(con):
            con = self._local.con = self._connect()
            with self._write_lock:
                self._all.append(con)
        return con

    def close(self) -> None:
        """Close every thread's connection."""
        with self._write_lock:
            for con in self._all:
                try:
                    con.close()
                except Exception:
                    pass
            self._all.clear()
        self._local = threading.local()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _sql(self, text: str) -> str:
        return self.dialect.sql(text)

    def create(self) -> None:
        con = self.connection()
        with self._write_lock:
            cur = con.cursor()
            for ddl in schema(self.id_type):
                cur.execute(ddl)
            cur.execute("SELECT version FROM fastdicom_index")
            found = [r[0] for r in cur.fetchall()]
            if not found:
                cur.execute(self._sql("INSERT INTO fastdicom_index (version) VALUES (?)"),
                            [SCHEMA_VERSION])
            con.commit()
        if found and found != [SCHEMA_VERSION]:
            self.close()
            raise ValueError(f"the index has schema version {found[0]}, this fastdicom "
                             f"writes version {SCHEMA_VERSION}: index the files again "
                             "into a new database (fastdicom index --db)")

    # -- writing ----------------------------------------------------------------------
    def _upsert(self, cur: Any, level: str, row: dict[str, Any], parent_id: int | None) -> int:
        table = TABLES[level][0]
        cols = list(row)
        values = [row[c] for c in cols]
        if level in _PARENT:
            cols.insert(0, _PARENT[level][0])
            values.insert(0, parent_id)
        conflict = {"PATIENT": "patient_id, issuer", "STUDY": "study_uid",
                    "SERIES": "series_uid", "IMAGE": "sop_uid"}[level]
        keys = set(conflict.split(", "))
        sets = ", ".join(
            f"{c} = excluded.{c}" if level == "IMAGE" or c == cols[0] and level in _PARENT
            else f"{c} = COALESCE(excluded.{c}, {table}.{c})"
            for c in cols if c not in keys)
        cur.execute(self._sql(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {sets} RETURNING id"), values)
        return int(cur.fetchone()[0])

    def _write(self, cur: Any, rows: dict[str, dict[str, Any]]) -> None:
        cur.execute(self._sql("SELECT i.series_id, se.study_id, st.patient_id FROM instances i "
                              "JOIN series se ON i.series_id = se.id JOIN studies st ON "
                              "se.study_id = st.id WHERE i.sop_uid = ?"),
                    [rows["IMAGE"]["sop_uid"]])
        old = cur.fetchone()
        parent = None
        ids = []
        for level in LEVELS:
            row = {k: v for k, v in rows[level].items() if not k.startswith("@")}
            parent = self._upsert(cur, level, row, parent)
            ids.append(parent)
            for seq in _m.SEQUENCES.values():
                items = rows[level].get("@" + seq.table)
                if seq.level != level or not items:  # an instance without: kept as is
                    continue
                cur.execute(self._sql(f"DELETE FROM {seq.table} WHERE owner_id = ?"), [parent])
                cols = ", ".join(a.column for a in seq.items)
                marks = ", ".join("?" * (len(seq.items) + 1))
                for item in items:
                    cur.execute(self._sql(f"INSERT INTO {seq.table} (owner_id, {cols}) "
                                          f"VALUES ({marks})"), [parent, *item])
        study_id = ids[1]
        cur.execute(self._sql("SELECT DISTINCT modality FROM series WHERE study_id = ? AND "
                              "modality IS NOT NULL"), [study_id])
        modalities = "\\".join(sorted(r[0] for r in cur.fetchall())) or None
        cur.execute(self._sql("UPDATE studies SET modalities = ? WHERE id = ?"),
                    [modalities, study_id])
        if old is not None and tuple(old) != tuple(ids[2::-1]):
            self._prune(cur, *old)

    def _prune(self, cur: Any, series_id: int, study_id: int, patient_id: int) -> None:
        """Remove the parents an instance left when re-stored elsewhere, if empty."""
        for seq in _m.SEQUENCES.values():
            owner = {"SERIES": series_id, "STUDY": study_id, "PATIENT": patient_id}[seq.level]
            cur.execute(self._sql(f"DELETE FROM {seq.table} WHERE owner_id = ? AND NOT EXISTS "
                                  f"(SELECT 1 FROM instances i JOIN series se ON i.series_id = "
                                  f"se.id JOIN studies st ON se.study_id = st.id WHERE "
                                  f"{TABLES[seq.level][1]}.id = ?)"), [owner, owner])
        for table, child, col, ident in (("series", "instances", "series_id", series_id),
                                         ("studies", "series", "study_id", study_id),
                                         ("patients", "studies", "patient_id", patient_id)):
            cur.execute(self._sql(f"DELETE FROM {table} WHERE id = ? AND NOT EXISTS "
                                  f"(SELECT 1 FROM {child} WHERE {col} = ?)"), [ident, ident])
        cur.execute(self._sql("SELECT DISTINCT modality FROM series WHERE study_id = ? AND "
                              "modality IS NOT NULL"), [study_id])
        modalities = "\\".join(sorted(r[0] for r in cur.fetchall())) or None
        cur.execute(self._sql("UPDATE studies SET modalities = ? WHERE id = ?"),
                    [modalities, study_id])

    def add_records(self, records: Iterable[dict[str, dict[str, Any]]]) -> int:
        """Index records (one transaction); the number written."""
        con = self.connection()
        n = 0
        with self._write_lock:
            cur = con.cursor()
            try:
                for rows in records:
                    self._write(cur, rows)
                    n += 1
                con.commit()
            except BaseException:
                con.rollback()
                raise
        return n

    def index_file(self, path: str) -> None:
        """Index an existing file where it is."""
        self.add_records([read_record(path)])

    def index_paths(self, paths: Iterable[str], *, batch: int = 500,
                    on_error: Callable[[str, Exception], None] | None = None) -> int:
        """Index files (in transactions of ``batch`` files); the number indexed.
        Files that cannot be read or have no UIDs are passed to ``on_error``."""
        done = 0
        pending: list[dict[str, dict[str, Any]]] = []
        for path in paths:
            try:
                pending.append(read_record(path))
            except Exception as exc:
                if on_error is not None:
                    on_error(path, exc)
                continue
            if len(pending) >= batch:
                done += self.add_records(pending)
                pending = []
        if pending:
            done += self.add_records(pending)
        return done

    def commit_file(self, temp_path: str, final_path: str, rename: Callable[[], None],
                    transfer_syntax: str | None = None) -> None:
        """Index the file at ``temp_path`` as ``final_path`` and ``rename()`` it
        into place in the same transaction (see the module docstring)."""
        from fastdicom.reader import dcmread

        ds = dcmread(temp_path, stop_before_pixels=True)
        rows = record_of(ds, temp_path, transfer_syntax)
        rows["IMAGE"]["path"] = os.path.abspath(final_path)
        con = self.connection()
        with self._write_lock:
            cur = con.cursor()
            try:
                self._write(cur, rows)
                rename()
            except BaseException:
                con.rollback()
                raise
            con.commit()

    def remove(self, sop_instance_uid: str) -> bool:
        con = self.connection()
        with self._write_lock:
            cur = con.cursor()
            cur.execute(self._sql("SELECT i.series_id, se.study_id, st.patient_id FROM "
                                  "instances i JOIN series se ON i.series_id = se.id JOIN "
                                  "studies st ON se.study_id = st.id WHERE i.sop_uid = ?"),
                        [sop_instance_uid])
            old = cur.fetchone()
            if old is None:
                return False
            cur.execute(self._sql("DELETE FROM instances WHERE sop_uid = ?"),
                        [sop_instance_uid])
            self._prune(cur, *old)
            con.commit()
        return True

    # -- reading ----------------------------------------------------------------------
    def count(self, level: str = "IMAGE") -> int:
        return int(self._rows(f"SELECT count(*) FROM {TABLES[level][0]}", [])[0][0])

    def _rows(self, sql: str, params: list[Any]) -> list[Any]:
        con = self.connection()
        cur = con.cursor()
        cur.execute(self._sql(sql), params)
        rows = cur.fetchall()
        con.commit()  # ends the read transaction (PostgreSQL)
        return rows

    def find(self, identifier: Any, model: str = "STUDY", *, fuzzy_pn: bool = False,
             relational: bool = False, combined_datetime: bool = False,
             limit: int | None = None) -> tuple[list[dict[str, Any]], list[str]]:
        """C-FIND: the matches of ``identifier`` (a dataset with a Query/Retrieve
        Level) in the Patient Root (``"PATIENT"``) or Study Root (``"STUDY"``)
        model (``relational``: without the unique keys of the levels above;
        ``combined_datetime``: a date range and a time range together as one
        date-time range, PS3.4 C.2.2.2.5.1), each a dict keyword -> value (None: empty) with ``"_charset"``;
        and the requested keys the index does not hold (returned empty).
        Raises :class:`QueryError`."""
        level, levels = _level(identifier, model)
        keys = [e.keyword for e in identifier if e.keyword and e.keyword not in _SPECIAL_KEYS]
        depth = levels.index(level)
        visible = set(LEVELS[:LEVELS.index(level) + 1])
        conds, params = self._hierarchy(identifier, levels, depth, unique_only=False,
                                        fuzzy_pn=fuzzy_pn, relational=relational,
                                        combined=combined_datetime)
        selected, unsupported, sequences = [], [], []
        for k in keys:
            a = _m.BY_KEYWORD.get(k)
            seq = _m.SEQUENCES.get(k)
            if seq is not None and seq.level in visible:
                cond, cparams = _m.sequence_condition(seq, _value(identifier, k))
                sequences.append((seq, cond, cparams))
                if cond is not None:
                    conds.append(f"EXISTS (SELECT 1 FROM {seq.table} r WHERE r.owner_id = "
                                 f"{TABLES[seq.level][1]}.id AND {cond})")
                    params.extend(cparams)
                continue
            if a is None or (a.level not in visible):
                unsupported.append(k) if a is None else None
                continue
            selected.append(a)
        table, alias = TABLES[level]
        cols = [f"{alias}.charset"] + [a.expr() for a in selected] + [
            f"{TABLES[seq.level][1]}.id" for seq, _, _ in sequences]
        sql = (f"SELECT {', '.join(cols)} FROM {_joins(level)}" +
               (f" WHERE {' AND '.join(conds)}" if conds else "") + f" ORDER BY {alias}.id")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        out = []
        for row in self._rows(sql, params):
            match = {"_charset": row[0]}
            for a, value in zip(selected, row[1:]):
                if value is not None and a.multi:
                    value = value.split("\\")
                elif value is not None and not isinstance(value, str):
                    value = str(value)
                match[a.keyword] = value
            for (seq, cond, cparams), owner in zip(sequences, row[1 + len(selected):]):
                match[seq.keyword] = self._items(seq, owner, cond, cparams)
            out.append(match)
        return out, unsupported

    def _items(self, seq: Any, owner: int, cond: str | None, params: list[Any]
               ) -> list[dict[str, Any]]:
        """The items of a sequence key that match (sequence matching returns those)."""
        cols = ", ".join(f"r.{a.column}" for a in seq.items)
        sql = f"SELECT {cols} FROM {seq.table} r WHERE r.owner_id = ?" + (
            f" AND {cond}" if cond else "")
        return [{a.keyword: v for a, v in zip(seq.items, r)}
                for r in self._rows(sql, [owner, *params])]

    def _hierarchy(self, identifier: Any, levels: tuple[str, ...], depth: int, *,
                   unique_only: bool, fuzzy_pn: bool = False, relational: bool = False,
                   combined: bool = False) -> tuple[list[str], list[Any]]:
        """Conditions of an identifier's keys, after checking the unique keys of
        the levels above the query level (PS3.4 C.4.1.2.2.1, C.4.2.2.1)."""
        conds: list[str] = []
        params: list[Any] = []
        for i, level in enumerate(levels[:depth + 1]):
            key = UNIQUE_KEYS[level]
            values = [v for v in _m.values_of(_value(identifier, key)) if v.strip()]
            if i < depth and not relational and (len(values) != 1 or
                                                 any(c in values[0] for c in "*?")):
                raise QueryError(0xA900, f"a single value of {key} is required above the "
                                         f"{levels[depth]} level")
            if i == depth and unique_only and not values:
                raise QueryError(0xA900, f"{key} is required at the {level} level")
        top = levels[0]
        done: set[str] = set()
        if combined and not unique_only:
            for date_key, time_key in _m.DATE_TIME_PAIRS:
                cond = _m.combined_condition(_m.BY_KEYWORD[date_key], _value(identifier, date_key),
                                             _m.BY_KEYWORD[time_key], _value(identifier, time_key))
                if cond is not None:
                    conds.append(cond[0])
                    params.extend(cond[1])
                    done.update((date_key, time_key))
        for elem in identifier:
            a = _m.BY_KEYWORD.get(elem.keyword or "")
            if a is None or a.keyword in done:
                continue
            if a.level not in levels[:depth + 1] and not (a.level == "PATIENT" and top == "STUDY"):
                continue
            if unique_only and a.keyword != UNIQUE_KEYS.get(a.level):
                continue
            cond = _m.condition(a, _value(identifier, a.keyword), fuzzy_pn=fuzzy_pn)
            if cond is not None:
                conds.append(cond[0])
                params.extend(cond[1])
        return conds, params

    def retrieve(self, identifier: Any, model: str = "STUDY", *,
                 relational: bool = False) -> list[tuple[str, str, str, str]]:
        """C-GET / C-MOVE: ``(path, SOP class, SOP instance, transfer syntax)`` of
        the instances the identifier's unique keys select. Raises
        :class:`QueryError`."""
        level, levels = _level(identifier, model)
        conds, params = self._hierarchy(identifier, levels, levels.index(level),
                                        unique_only=True, relational=relational)
        sql = (f"SELECT i.path, i.sop_class, i.sop_uid, i.transfer_syntax FROM "
               f"{_joins('IMAGE')}" + (f" WHERE {' AND '.join(conds)}" if conds else "") +
               " ORDER BY se.id, i.id")
        return [tuple(r) for r in self._rows(sql, params)]  # type: ignore[misc]

    def paths(self) -> Iterator[str]:
        for (path,) in self._rows("SELECT path FROM instances ORDER BY id", []):
            yield path


def _value(identifier: Any, keyword: str) -> Any:
    elem = identifier.get(keyword)
    return getattr(elem, "value", elem)


def _level(identifier: Any, model: str) -> tuple[str, tuple[str, ...]]:
    levels = MODELS.get(model.upper())
    if levels is None:
        raise ValueError(f"unknown information model {model!r}")
    level = str(_value(identifier, "QueryRetrieveLevel") or "").strip().upper()
    if level not in levels:
        raise QueryError(0xA900, f"Query/Retrieve Level {level or '(none)'} is not one of "
                                 f"{', '.join(levels)}")
    return level, levels


def _joins(level: str) -> str:
    """The level's table joined with its parents."""
    table, alias = TABLES[level]
    out = f"{table} {alias}"
    while level in _PARENT:
        col, parent = _PARENT[level]
        ptable, palias = TABLES[parent]
        out += f" JOIN {ptable} {palias} ON {alias}.{col} = {palias}.id"
        level, alias = parent, palias
    return out


class SQLiteArchive(Archive):
    """The index in one SQLite file (WAL; a connection per thread)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        if path != ":memory:" and os.path.dirname(os.path.abspath(path)):
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.create()

    def _connect(self) -> Any:
        import sqlite3

        con = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("PRAGMA case_sensitive_like=ON")
        return con


def open_archive(url: str, directory: str | None = None) -> Archive:
    """An archive for a database URL: ``sqlite:///path`` (relative paths:
    ``sqlite:///rel/path``; absolute: ``sqlite:////abs/path`` or a plain path),
    ``postgresql://user@host/db``; None or "" with ``directory``: the SQLite
    file ``index.sqlite`` in it."""
    if not url:
        if directory is None:
            raise ValueError("a database URL or a directory is required")
        return SQLiteArchive(os.path.join(directory, "index.sqlite"))
    if url.startswith(("postgresql://", "postgres://")):
        from fastdicom.net.archive_pg import PostgresArchive

        return PostgresArchive(url)
    if url.startswith("sqlite:///"):
        return SQLiteArchive(url[len("sqlite:///"):] or ":memory:")
    if "://" in url:
        raise ValueError(f"unsupported database URL {url!r} (sqlite:///path or postgresql://...)")
    return SQLiteArchive(url)
