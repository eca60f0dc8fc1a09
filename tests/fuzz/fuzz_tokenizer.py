"""Fuzz harness of the tokenizer and the file reader (atheris / libFuzzer).

    python tests/fuzz/fuzz_tokenizer.py CORPUS_DIR -max_total_time=180

The first input byte picks the options (see ``options``); the rest is the
data. Any exception that is not a :class:`fastdicom.errors.DicomError` is a
bug, and so is a successful parse whose records break the table invariants
(checked here with plain asserts). ``TestOneInput`` is importable without
running the fuzzer (tests/test_fuzz_replay.py replays the corpus through it).
"""
from __future__ import annotations

import io
import sys
import warnings

import atheris
import numpy  # noqa: F401  (imported first so that it is not instrumented)

if __name__ == "__main__":
    # coverage feedback from the Python layers (the C core is not instrumented)
    with atheris.instrument_imports(include=["fastdicom"]):
        import fastdicom.reader  # noqa: F401
import fastdicom
from fastdicom import errors

DEPTHS = (64, 1, 3, 32767)
_CONTAINER = 0
_DELIM = 0


def _flag_masks():
    from fastdicom import _core

    global _CONTAINER, _DELIM
    _CONTAINER = _core.F_SEQUENCE | _core.F_ITEM | _core.F_ENCAPSULATED
    _DELIM = _core.F_ITEM_DELIM | _core.F_SEQ_DELIM


_flag_masks()


def options(flags, body):
    """Tokenizer keyword arguments and start offset chosen by the flag byte.

    bit 0: implicit VR       bit 1: big endian      bit 2: no VR detection
    bit 3: stop before pixels  bits 4-5: max_depth (DEPTHS)
    bit 6: a small record limit  bit 7: start at an offset taken from the data
    """
    kw = dict(
        implicit_vr=bool(flags & 1),
        little_endian=not flags & 2,
        detect_vr=not flags & 4,
        stop_before_pixels=bool(flags & 8),
        max_depth=DEPTHS[(flags >> 4) & 3],
    )
    if flags & 0x40:
        kw["max_records"] = 1 + (len(body) % 64)
    offset = 0
    if flags & 0x80 and body:
        offset = body[0] % (len(body) + 1)
    return offset, kw


def check(t, buf, offset):
    """Invariants of a successful tokenization (AssertionError: a bug)."""
    size = len(buf)
    r = t.records
    n = len(t)
    assert len(r) == n
    assert offset <= t.end_offset <= size
    hdr = r["header_offset"].tolist()
    voff = r["value_offset"].tolist()
    vlen = r["value_length"].tolist()
    nxt = r["next"].tolist()
    par = r["parent"].tolist()
    flags = r["flags"].tolist()
    depth = r["depth"].tolist()
    prev = -1
    for i in range(n):
        assert hdr[i] > prev and hdr[i] >= offset, i
        prev = hdr[i]
        assert hdr[i] + 8 <= voff[i] and voff[i] + vlen[i] <= size, i
        assert i < nxt[i] <= n, i
        p = par[i]
        assert -1 <= p < i, i
        if p >= 0:
            assert depth[i] == depth[p] + 1, i
            assert nxt[i] <= nxt[p], i
            assert flags[p] & _CONTAINER, i
            assert hdr[i] >= voff[p], i
            if not flags[i] & _DELIM:
                assert voff[i] + vlen[i] <= voff[p] + vlen[p], i
        else:
            assert depth[i] == 0, i
        if not flags[i] & _CONTAINER:
            assert nxt[i] == i + 1, i
            if i + 1 < n:
                assert hdr[i + 1] == voff[i] + vlen[i], i
        elif i + 1 < n:
            assert hdr[i + 1] == voff[i], i
        v = t.value(i)
        assert v.nbytes == vlen[i], i
        if vlen[i] <= 64:
            assert bytes(v) == bytes(buf[voff[i]:voff[i] + vlen[i]]), i
    i = 0
    while i < n:
        assert par[i] == -1, i
        i = nxt[i]
    assert i == n
    kids = t.children()
    for k in kids[:4].tolist():
        t.children(k)
        assert t.find(r["tag"][k]) >= 0


def _dcmread(data):
    fn = getattr(fastdicom, "dcmread", None)
    if fn is None:
        return
    for force in (True, False):
        try:
            ds = fn(io.BytesIO(data), force=force)
        except errors.DicomError:
            continue
        except NotImplementedError:
            return
        tok = ds.tokens
        buf = tok.obj
        check(tok, memoryview(buf).cast("B"), tok.offset)


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    flags = fdp.ConsumeUInt(1)
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    offset, kw = options(flags, body)
    try:
        t = fastdicom.tokenize(body, offset, **kw)
    except errors.DicomError as e:
        assert isinstance(e, errors.InvalidDicomError), repr(e)
        assert e.offset is not None and offset <= e.offset <= len(body), (e.offset, offset, len(body))
    else:
        check(t, body, offset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _dcmread(body)


def main(argv=None):
    atheris.Setup(sys.argv if argv is None else argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
