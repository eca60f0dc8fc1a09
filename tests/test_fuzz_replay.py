"""Replay the fuzz seed corpus through the fuzz harness, then a short
deterministic mutation run over it: only fastdicom.errors.DicomError may
escape (the harness also asserts the record invariants)."""
from __future__ import annotations

import importlib.util
import pathlib
import random
import struct
import warnings

import pytest

pytest.importorskip("atheris")

from fastdicom import _core, tokenize  # noqa: E402
from fastdicom.errors import DicomError  # noqa: E402

FUZZ_DIR = pathlib.Path(__file__).parent / "fuzz"
CORPUS = sorted(p for p in (FUZZ_DIR / "corpus").iterdir() if p.is_file())


def _load_harness():
    spec = importlib.util.spec_from_file_location("fuzz_tokenizer", FUZZ_DIR / "fuzz_tokenizer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def harness():
    return _load_harness()


def run_one(harness, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        harness.TestOneInput(data)


def test_corpus_present():
    assert 10 <= len(CORPUS) <= 30
    assert all(p.stat().st_size < 20 * 1024 for p in CORPUS)


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_replay_seed(path, harness):
    run_one(harness, path.read_bytes())


def test_harness_options_cover_all_flags(harness):
    seen = set()
    for flags in range(256):
        off, kw = harness.options(flags, b"\x05" + b"\0" * 20)
        seen.add((kw["implicit_vr"], kw["little_endian"], kw["detect_vr"], kw["stop_before_pixels"],
                  kw["max_depth"], "max_records" in kw, off > 0))
    assert len(seen) == 256


# ----------------------------------------------------------- mutations
UNDEF_LIKE = (0xFFFFFFFF, 0xFFFFFFFE, 0x7FFFFFFF, 0x80000000, 0x00000000, 0x00000001)


def _length_fields(body, flags):
    """Offsets and sizes of the length fields of a seed's records (body
    tokenized as the harness would), to aim mutations at them."""
    try:
        t = tokenize(body, implicit_vr=bool(flags & 1), little_endian=not flags & 2, max_depth=32767)
    except DicomError:
        return []
    r = t.records
    out = []
    for hdr, voff in zip(r["header_offset"].tolist(), r["value_offset"].tolist()):
        hlen = voff - hdr
        if hlen == 12:
            out.append((hdr + 8, 4))
        elif r["flags"][len(out)] & _core.F_IMPLICIT or (r["tag"][len(out)] >> 16) == 0xFFFE:
            out.append((hdr + 4, 4))
        else:
            out.append((hdr + 6, 2))
    return out


def mutate(rng, data, fields, seeds):
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        n = len(buf)
        if op == 0 and n:  # bit flip
            i = rng.randrange(n)
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1:  # insert bytes
            i = rng.randint(0, n)
            buf[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 2 and n > 1:  # delete a run
            i = rng.randrange(1, n)
            del buf[i:i + rng.randint(1, 16)]
        elif op in (3, 4) and fields:  # a length field set to a nasty value
            at, size = rng.choice(fields)
            at += 1  # the flag byte
            if at + size <= len(buf):
                v = rng.choice(UNDEF_LIKE) if op == 3 else rng.randrange(1 << 32)
                little = not buf[0] & 2
                fmt = ("<" if little else ">") + ("L" if size == 4 else "H")
                buf[at:at + size] = struct.pack(fmt, v & (0xFFFFFFFF if size == 4 else 0xFFFF))
        elif op == 5 and n > 8:  # any 4 bytes set to an undefined-like value
            i = rng.randrange(1, n - 4)
            buf[i:i + 4] = struct.pack("<L", rng.choice(UNDEF_LIKE))
        elif op == 6 and n > 1:  # truncate
            del buf[rng.randrange(1, n):]
        elif op == 7:  # splice a chunk of another seed
            other = rng.choice(seeds)
            if len(other) > 2:
                a = rng.randrange(1, len(other) - 1)
                chunk = other[a:a + rng.randint(8, 200)]
                i = rng.randint(1, n) if n > 1 else n
                buf[i:i] = chunk
        else:  # new option byte
            if n:
                buf[0] = rng.randrange(256)
    return bytes(buf)


N_MUTATIONS = 2000


def test_mutations(harness):
    seeds = [p.read_bytes() for p in CORPUS]
    fields = [_length_fields(s[1:], s[0]) if s else [] for s in seeds]
    rng = random.Random(0xD1C0)
    for k in range(N_MUTATIONS):
        j = rng.randrange(len(seeds))
        data = mutate(rng, seeds[j], fields[j], seeds)
        try:
            run_one(harness, data)
        except Exception as e:  # report a reproducer, not just the exception
            raise AssertionError(f"mutation {k} of {CORPUS[j].name} failed: {e!r}; input={data.hex()}") from e
