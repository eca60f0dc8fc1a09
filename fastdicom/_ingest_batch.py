"""One chunk of files -> one Arrow record batch, for :mod:`fastdicom.ingest`.

Each file's element table and header bytes are copied end to end into
buffers reused from chunk to chunk (:class:`_Accumulator`), and the file is
released. Then, for the whole chunk at once (numpy and Arrow, no Python per
value): the top-level records of the wanted tags are found with a lookup
table, their VR checked against the dictionary's, and their value bytes
taken into one Arrow binary array (:func:`_matrix`); the columns are
converted a group of same-kind columns at a time
(:func:`fastdicom._ingest_convert.build_group`). Whatever this does not cover
(a VR in the data other than the dictionary's, sequences, big endian numbers,
tags not in the dictionary, values inside sequence items, File Meta
Information tags) is read per file through the Dataset API.
"""
from __future__ import annotations

import functools
import os
import threading
from typing import Any

import numpy as np

from fastdicom import _core
from fastdicom._ingest_convert import SIMPLE_CHARSETS, WS, column_value
from fastdicom._ingest_files import WalkError, error_message, read_header
from fastdicom._ingest_spec import CHARSET_KINDS, NUM_KINDS, ColumnSpec, Plan
from fastdicom.dataset import Dataset

__all__ = ["scan_chunk", "plan_schema"]

_REC_SIZE = _core.RECORD_DTYPE.itemsize
_NUM_KINDS = NUM_KINDS


_MISSING = object()
_SLOW = object()


def _resolve_element(ds: Any, col: ColumnSpec) -> Any:
    """The element at ``col``'s path in the dataset ``ds``, or None."""
    for tag, index in col.steps[:-1]:
        elem = ds.get(tag)
        if elem is None:
            return None
        items = elem.value
        if not isinstance(items, list):
            return None
        try:
            ds = items[index]
        except IndexError:
            return None
        if not hasattr(ds, "get"):
            return None
    return ds.get(col.steps[-1][0])


def _slow_value(ds: Any, col: ColumnSpec) -> Any:
    try:
        elem = _resolve_element(ds, col)
        if elem is None:
            return None
        return column_value(elem.value, col)
    except Exception:
        return None


def _nested_raw(tok: Any, col: ColumnSpec) -> Any:
    """Raw bytes of a value inside sequence items (fast path), or _MISSING, or _SLOW."""

    parent = -1
    charset = col.kind in CHARSET_KINDS
    for tag, index in col.steps[:-1]:
        i = tok.find(tag, parent)
        if i < 0:
            return _MISSING
        if not tok.flags(i) & _core.F_SEQUENCE:
            return _SLOW
        kids = tok.children(i)
        n = len(kids)
        k = index + n if index < 0 else index
        if not 0 <= k < n:
            return _MISSING
        parent = int(kids[k])
        if charset and tok.find(0x00080005, parent) >= 0:
            return _SLOW  # the item has its own character set
    i = tok.find(col.steps[-1][0], parent)
    if i < 0:
        return _MISSING
    if col.fast_vr is None or tok.vr(i) != col.fast_vr or tok.flags(i) & _core.F_BIG_ENDIAN:
        return _SLOW
    return tok.value_bytes(i)


def _uid_text(raw: bytes) -> str:
    return raw.decode("latin-1").rstrip("\x00 ").strip()


# internal columns of the value matrix (after the fast tag columns)
_SOP_CLASS = 0x00080016
_CHARSET = 0x00080005


def _groups(plan: Plan) -> list:
    """The fast columns grouped by how their values are converted (kind,
    multiplicity, and the VR for binary numbers): [(key, [j, ...]), ...]."""
    groups: dict = {}
    for j in plan.fast:
        c = plan.columns[j]
        key = (c.kind, c.multi, c.fast_vr if c.kind in _NUM_KINDS else None)
        groups.setdefault(key, []).append(j)
    return list(groups.items())


class _Accumulator:
    """The element tables and header bytes of a chunk's files, copied end to
    end into buffers reused from chunk to chunk (one per thread): the files
    themselves are released as soon as they are read (holding a chunk of
    buffers alive would grow the heap, and fresh memory costs a page fault
    per 4 KB)."""

    def __init__(self) -> None:
        self.rec = bytearray(1 << 20)
        self.dat = bytearray(1 << 20)
        self.reset()

    def reset(self) -> None:
        self.rpos = 0
        self.dpos = 0
        self.counts: list[int] = []  # records per row (0 for error rows)
        self.lens: list[int] = []    # data bytes per row

    @staticmethod
    def _grown(buf: bytearray, used: int, need: int) -> bytearray:
        new = bytearray(max(need, 2 * len(buf)))
        new[:used] = buf[:used]
        return new

    def add(self, tok: Any) -> None:
        n = len(tok)
        rpos = self.rpos
        end = rpos + _REC_SIZE * n
        rec = self.rec
        if end > len(rec):
            rec = self.rec = self._grown(rec, rpos, end)
        rec[rpos:end] = tok
        self.rpos = end
        obj = tok.obj
        dl = tok.end_offset
        dpos = self.dpos
        dend = dpos + dl
        dat = self.dat
        if dend > len(dat):
            dat = self.dat = self._grown(dat, dpos, dend)
        if dl == len(obj) and type(obj) is bytes:
            dat[dpos:dend] = obj
        else:
            dat[dpos:dend] = memoryview(obj).cast("B")[:dl]
        self.dpos = dend
        self.counts.append(n)
        self.lens.append(dl)

    def skip(self) -> None:
        self.counts.append(0)
        self.lens.append(0)


# accumulators not in use, kept (with their grown buffers) for the next chunks
# of any thread: new threads, e.g. of a new pool, start with warm memory
_free: list = []
_free_lock = threading.Lock()
_KEEP = 64 << 20  # buffers larger than this are not kept
_MAX_FREE = 8


def _take_accumulator() -> _Accumulator:
    with _free_lock:
        acc = _free.pop() if _free else None
    if acc is None:
        acc = _Accumulator()
    acc.reset()
    return acc


def _give_back(acc: _Accumulator) -> None:
    acc.reset()
    if len(acc.rec) + len(acc.dat) <= _KEEP:
        with _free_lock:
            if len(_free) < _MAX_FREE:
                _free.append(acc)


@functools.lru_cache(maxsize=32)
def _tag_lut(qtags: tuple) -> tuple:
    """Two lookup tables for the tags ``qtags``: ``groups`` (65536 int16: group
    -> row of ``elements``, 0 for groups not wanted) and ``elements`` (int16,
    flat rows of 65536: element -> 1 + the first column asking for the tag, 0
    for none); about 128 KB per group wanted."""
    wanted = sorted({t >> 16 for t in qtags})
    groups = np.zeros(1 << 16, np.int16)
    elements = np.zeros((len(wanted) + 1, 1 << 16), np.int16)
    for k, g in enumerate(wanted, 1):
        groups[g] = k
    for c in range(len(qtags) - 1, -1, -1):
        elements[groups[qtags[c] >> 16], qtags[c] & 0xFFFF] = c + 1
    return groups, elements.ravel()


def _matrix(acc: _Accumulator, n: int, qtags: Any, want: Any, num: Any) -> tuple:
    """Look up ``qtags`` (uint64, one per matrix column) at the top level of every
    row's table at once. Returns (valid, offs, data, slow): cell ``c * n + r``
    is the value of column ``c`` in row ``r``; ``valid`` where found with the
    VR ``want[c]`` (b"" accepts any) and not a sequence, nor big endian when
    ``num[c]``; ``slow`` where found but not valid (to read through the Dataset
    API); ``offs``/``data`` the value bytes (empty for cells not valid)."""
    import pyarrow as pa

    ncol = len(qtags)
    total = ncol * n
    empty = np.zeros(total, bool)
    nothing = (empty, np.zeros(total + 1, np.int64), np.zeros(0, np.uint8), empty)
    if not ncol or not acc.rpos:
        return nothing
    counts = np.asarray(acc.counts, np.int64)
    cum = np.cumsum(counts)
    R = np.frombuffer(acc.rec, _core.RECORD_DTYPE, count=int(cum[-1]))
    joined = np.frombuffer(acc.dat, np.uint8, count=acc.dpos)
    lens = np.asarray(acc.lens, np.int64)
    ends = np.cumsum(lens)  # where each row's data ends in ``joined``
    # the records of a wanted tag at the top level ("candidates"), in data order
    tags = np.ascontiguousarray(R["tag"])
    groups, elements = _tag_lut(tuple(int(t) for t in qtags))
    col1 = elements.take((groups.take(tags >> 16).astype(np.intp) << 16) | (tags & 0xFFFF))
    cand = np.flatnonzero(col1)
    cand = cand[R["depth"][cand] == 0]
    if not len(cand):
        return nothing
    crow = np.searchsorted(cum, cand, side="right")
    cstart = (ends - lens)[crow] + R["value_offset"][cand].astype(np.int64)
    cend = cstart + R["value_length"][cand].astype(np.int64)
    inside = cend <= ends[crow]
    cflags = R["flags"][cand]
    cvr = np.ascontiguousarray(R["vr"][cand]).view(np.uint16)
    # one entry per (candidate, column asking for its tag)
    ent = np.arange(len(cand))
    ecol = col1[cand].astype(np.int64) - 1
    first_of = {}
    for c in range(ncol):
        first_of.setdefault(int(qtags[c]), c)
    extra = [(c, first_of[int(qtags[c])]) for c in range(ncol) if first_of[int(qtags[c])] != c]
    if extra:
        more_ent, more_col = [ent], [ecol]
        for c, f in extra:
            sel = np.flatnonzero(ecol[: len(cand)] == f)
            more_ent.append(sel)
            more_col.append(np.full(len(sel), c, np.int64))
        ent = np.concatenate(more_ent)
        ecol = np.concatenate(more_col)
    erow = crow[ent]
    cell = ecol * n + erow
    # the first of repeated elements (malformed data) is the one read
    owner = np.full(total, -1, np.int64)
    owner[cell[::-1]] = np.arange(len(cell) - 1, -1, -1)
    keep = owner[cell] == np.arange(len(cell))
    if not keep.all():
        ent, ecol, cell = ent[keep], ecol[keep], cell[keep]
    wanted = np.ascontiguousarray(want).view(np.uint16)
    f = cflags[ent]
    ok = (cvr[ent] == wanted[ecol]) | (wanted[ecol] == 0)
    ok &= (f & (_core.F_SEQUENCE | _core.F_VR_UNKNOWN)) == 0
    ok &= ~(((f & _core.F_BIG_ENDIAN) != 0) & num[ecol])
    ok &= inside[ent]
    valid = np.zeros(total, bool)
    slow = np.zeros(total, bool)
    valid[cell[ok]] = True
    slow[cell[~ok]] = True
    # the candidates' values as one Arrow array over ``joined``: element 2t is
    # candidate t's value, 2t + 1 the bytes up to the next candidate (values at
    # the top level follow each other in the data); then taken cell by cell
    bounds = np.empty(2 * len(cand) + 1, np.int64)
    bounds[0:-1:2] = cstart
    bounds[1:-1:2] = cend
    bounds[-1] = cend[-1]
    which = np.zeros(total, np.int64)
    which[cell] = ent
    if bounds[0] >= 0 and (bounds[1:] >= bounds[:-1]).all():
        values = pa.Array.from_buffers(pa.large_binary(), 2 * len(cand),
                                       [None, pa.py_buffer(bounds), pa.py_buffer(joined)])
        got = values.take(pa.array(2 * which, mask=~valid))
        bufs = got.buffers()
        offs = np.frombuffer(bufs[1], np.int64)[got.offset: got.offset + total + 1]
        data = np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
        return valid, offs, data, slow
    # values that overlap (not expected): gather byte by byte
    starts = cstart[which]
    vlens = np.where(valid, (cend - cstart)[which], 0)
    offs = np.zeros(total + 1, np.int64)
    np.cumsum(vlens, out=offs[1:])
    m = int(offs[-1])
    if m:
        take = np.flatnonzero(vlens)
        gidx = np.repeat(starts[take] - offs[take], vlens[take]) + np.arange(m, dtype=np.int64)
        data = joined[gidx]
    else:
        data = np.zeros(0, np.uint8)
    return valid, offs, data, slow


def scan_chunk(paths: list, plan: Plan) -> Any:
    """One Arrow record batch for the files ``paths`` (rows in that order)."""
    acc = _take_accumulator()
    try:
        return _scan_chunk(paths, plan, acc)
    finally:
        _give_back(acc)


def _scan_chunk(paths: list, plan: Plan, acc: _Accumulator) -> Any:
    import pyarrow as pa

    from fastdicom._ingest_convert import binary_array, build_group, build_python

    F_SEQUENCE = _core.F_SEQUENCE
    cols = plan.columns
    ncol = len(cols)
    n = len(paths)
    pys: list[dict] = [{} for _ in range(ncol)]
    meta_sop: dict = {}  # row -> Media Storage SOP Class UID, for rows without SOP Class UID
    out_path: list = []
    out_size: list = []
    out_ts: list = []
    out_err: list = []
    other = plan.other
    slow_only = plan.slow_only
    add = acc.add
    path_append, size_append, ts_append, err_append = (
        out_path.append, out_size.append, out_ts.append, out_err.append)
    for row, item in enumerate(paths):
        try:
            if type(item) is not str:
                if isinstance(item, WalkError):
                    path_append(item.path)
                    raise _Failed(item.message)
                item = os.fsdecode(os.fspath(item))
            path_append(item)
            head = read_header(item, plan)
        except Exception as exc:
            size_append(getattr(exc, "fastdicom_size", None))
            ts_append(None)
            err_append(exc.args[0] if isinstance(exc, _Failed) else error_message(exc))
            acc.skip()
            continue
        tok = head.tokens
        mtok = head.meta
        add(tok)
        if mtok is not None and tok.find(_SOP_CLASS, -1) < 0:
            i = mtok.find(0x00020002, -1)
            if i >= 0:
                meta_sop[row] = _uid_text(mtok.value_bytes(i))
        size_append(head.size)
        ts_append(head.transfer_syntax)
        err_append(None)
        if not other:
            continue
        view = None
        for j in other:
            col = cols[j]
            if col.meta:
                if mtok is None or mtok.find(col.tag, -1) < 0:
                    continue
                pys[j][row] = _slow_value(Dataset._view(mtok), col)
                continue
            if not slow_only:
                if col.kind == "seq" and not col.nested:
                    i = tok.find(col.tag, -1)
                    if i < 0:
                        continue
                    if tok.flags(i) & F_SEQUENCE:
                        pys[j][row] = len(tok.children(i))
                        continue
                elif col.nested and col.fast_vr is not None and col.kind not in _NUM_KINDS \
                        and col.kind != "at":
                    raw = _nested_raw(tok, col)
                    if raw is _MISSING:
                        continue
                    if raw is not _SLOW:
                        pys[j][row] = _RawCell(raw)
                        continue
                elif tok.find(col.top_tag, -1) < 0:
                    continue
            if view is None:
                view = Dataset._view(tok)
            pys[j][row] = _slow_value(view, col)

    # the fast columns: one lookup for all rows and columns, then a group at a time
    groups = _groups(plan)
    fast_js = [j for _, js in groups for j in js]
    qtags = np.array([cols[j].tag for j in fast_js] + [_SOP_CLASS, _CHARSET], np.uint64)
    want = np.array([cols[j].fast_vr.encode() for j in fast_js] + [b"", b""], "S2")
    num = np.array([cols[j].kind in _NUM_KINDS for j in fast_js] + [False, False])
    valid, offs, data, slow = _matrix(acc, n, qtags, want, num)
    nf = len(fast_js)
    # Specific Character Set and SOP Class UID (internal columns)
    charsets = _Charsets(binary_array(valid[(nf + 1) * n:], offs[(nf + 1) * n:], data),
                         slow[(nf + 1) * n:])
    simple_rows = charsets.simple()
    sop_col = _sop_classes(binary_array(valid[nf * n:(nf + 1) * n],
                                        offs[nf * n:(nf + 1) * n + 1], data), meta_sop)
    # cells found with another VR (or a sequence, or big endian), and text in
    # rows whose Specific Character Set has an unexpected VR: the Dataset API
    # (rare: the file is read again, it was released)
    redo = slow[: nf * n].copy()
    cs_slow = np.flatnonzero(charsets.slow)
    if len(cs_slow):
        for c, j in enumerate(fast_js):
            if cols[j].kind in CHARSET_KINDS:
                redo[c * n + cs_slow] |= valid[c * n + cs_slow]
        for j in other:
            for r in cs_slow.tolist():
                if isinstance(pys[j].get(r), _RawCell):
                    pys[j][r] = _reread(out_path[r], plan, cols[j])
    views: dict = {}
    gslow: dict = {}
    for k in np.flatnonzero(redo).tolist():
        c, r = divmod(k, n)
        view = views.get(r, _MISSING)
        if view is _MISSING:
            view = views[r] = _view_of(out_path[r], plan)
        gslow[k] = _slow_value(view, cols[fast_js[c]]) if view is not None else None
    cs_cache: dict = {}
    arrays: dict = {}
    start = 0
    for _, js in groups:
        m = len(js)
        a, b = start * n, (start + m) * n
        py = {k - a: v for k, v in gslow.items() if a <= k < b} if gslow else {}
        parts = build_group([cols[j] for j in js], n, valid[a:b], offs[a:b + 1], data, py,
                            charsets, simple_rows, cs_cache)
        for j, arr in zip(js, parts):
            arrays[j] = arr
        start += m
    for j in other:
        col = cols[j]
        py = pys[j]
        raw_cells = {r: v.raw for r, v in py.items() if isinstance(v, _RawCell)}
        if raw_cells:
            # nested values read as raw bytes: convert them as a one-column group
            vmask = np.zeros(n, bool)
            lens = np.zeros(n, np.int64)
            for r, raw in raw_cells.items():
                vmask[r] = True
                lens[r] = len(raw)
            o = np.zeros(n + 1, np.int64)
            np.cumsum(lens, out=o[1:])
            d = np.frombuffer(b"".join(raw_cells[r] for r in sorted(raw_cells)), np.uint8)
            rest = {r: v for r, v in py.items() if not isinstance(v, _RawCell)}
            arrays[j] = build_group([col], n, vmask, o, d, rest, charsets, simple_rows,
                                    cs_cache)[0]
        else:
            arrays[j] = build_python(col, n, py)
    out = [_path_array(out_path)]
    out += [arrays[j] for j in range(ncol)]
    out += [pa.array(out_size, pa.int64()), pa.array(out_ts, pa.string()),
            sop_col, pa.array(out_err, pa.string())]
    return pa.RecordBatch.from_arrays(out, schema=plan_schema(plan))


class _Charsets:
    """The Specific Character Set of each row of a chunk (``charsets[r]``: the
    raw value, stripped; ``b""`` when absent)."""

    def __init__(self, cells: Any, slow: Any) -> None:
        self.cells = cells
        self.slow = slow  # rows where it was found with an unexpected encoding

    def __getitem__(self, r: int) -> bytes:
        v = self.cells[r].as_py()
        return v.strip(b" \x00") if v else b""

    def simple(self) -> Any:
        """Rows whose ASCII text decodes to itself (numpy bool)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        cells = self.cells
        if cells.null_count == len(cells):
            return ~self.slow  # no Specific Character Set anywhere
        uniques = pc.unique(cells)
        ok = pa.array([(u.strip(b" \x00") if u else b"") in SIMPLE_CHARSETS
                       for u in uniques.to_pylist()], pa.bool_())
        out = ok.take(pc.index_in(cells, uniques)).to_numpy(zero_copy_only=False)
        return out & ~self.slow


def _sop_classes(cells: Any, meta_sop: dict) -> Any:
    """The sop_class_uid column: the SOP Class UID cells as UI text, else the
    file meta's Media Storage SOP Class UID (``meta_sop``: row -> UID)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = cells.cast(pa.string())
    except pa.ArrowInvalid:
        text = pa.array([None if v is None else v.decode("latin-1") for v in cells.to_pylist()],
                        pa.string())
    text = pc.utf8_trim(pc.utf8_rtrim(text, characters="\x00 "), characters=WS)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    if meta_sop:
        values = text.to_pylist()
        for r, v in meta_sop.items():
            if values[r] is None:
                values[r] = v or None
        text = pa.array(values, pa.string())
    return text


def _view_of(path: str, plan: Plan) -> Any:
    """A Dataset over ``path``'s header read again (None if it is gone)."""
    try:
        return Dataset._view(read_header(path, plan).tokens)
    except Exception:
        return None


def _reread(path: str, plan: Plan, col: ColumnSpec) -> Any:
    view = _view_of(path, plan)
    return _slow_value(view, col) if view is not None else None


def _path_array(paths: list) -> Any:
    """The path column; names that are not valid UTF-8 (kept by Python as
    surrogate escapes) get U+FFFD for their undecodable bytes."""
    import pyarrow as pa

    try:
        return pa.array(paths, pa.string())
    except (UnicodeEncodeError, pa.ArrowException):
        return pa.array([p.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                         for p in paths], pa.string())


class _RawCell:
    """A nested value's raw bytes, converted later with its column."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw


class _Failed(Exception):
    """A row that is an error from the start (a directory that could not be listed)."""


def plan_schema(plan: Plan) -> Any:
    """The ``pyarrow.Schema`` of the batches of ``plan``."""
    return plan.schema()
