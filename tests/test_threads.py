"""Concurrency: reading from many threads gives the results of one thread.

- 8 threads each read the whole corpus (dcmread, every value at every depth,
  ``str(ds)``), each in its own order, and get what a single-threaded pass got;
- many threads share one freshly read dataset (nothing decoded yet) and read
  different attributes at every depth at once: every value is right, and every
  thread sees the same element and sequence objects.
"""
from __future__ import annotations

import hashlib
import random
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest
from corpus import CORPUS, corpus_id
from pydicom.data import get_testdata_file

import fastdicom

N_THREADS = 8


@pytest.fixture(autouse=True)
def _busy_switching():
    """Switch threads often (every 10 µs) to make interleavings likely, and
    silence warnings once for all threads (``catch_warnings`` is not thread-safe)."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        sys.setswitchinterval(old)


def _value_text(value) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "bytes " + hashlib.sha256(bytes(value)).hexdigest()
    return f"{type(value).__name__} {value!r}"


def _walk(ds, h, depth: int) -> None:
    for elem in ds:
        h.update(f"{depth} {elem.tag} {elem.VR} {elem.VM} {elem.keyword} {elem.name}\n".encode())
        value = elem.value
        if elem.VR == "SQ":
            h.update(f"items {len(value)} {value.is_undefined_length}\n".encode())
            for item in value:
                h.update(f"item {item.is_undefined_length_sequence_item} {len(item)}\n".encode())
                _walk(item, h, depth + 1)
        else:
            h.update(_value_text(value).encode("utf-8", "surrogatepass"))
            raw = elem.raw_bytes
            if raw is not None:
                h.update(hashlib.sha256(raw).digest())


def summary(path: str) -> str:
    """A digest of all a reader sees of a file (or of the error it raises)."""
    try:
        ds = fastdicom.dcmread(path, force=True)
    except Exception as exc:  # the same refusal is expected from every thread
        return f"error {type(exc).__name__}: {exc}"
    h = hashlib.sha256()
    if ds.file_meta is not None:
        _walk(ds.file_meta, h, -1)
    _walk(ds, h, 0)
    h.update(str(ds).encode("utf-8", "surrogatepass"))
    h.update(ds.top().encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def test_threads_reading_the_corpus_match_a_single_thread():
    expected = {path: summary(path) for path in CORPUS}
    assert sum(not v.startswith("error") for v in expected.values()) > 200
    barrier = threading.Barrier(N_THREADS)

    def worker(seed: int) -> dict[str, str]:
        order = list(CORPUS)
        random.Random(seed).shuffle(order)
        barrier.wait()
        return {path: summary(path) for path in order}

    with ThreadPoolExecutor(N_THREADS) as pool:
        results = list(pool.map(worker, range(N_THREADS)))
    for n, got in enumerate(results):
        wrong = [corpus_id(p) for p in CORPUS if got[p] != expected[p]]
        assert not wrong, f"thread {n}: {wrong}"


# -- one dataset shared by many threads ---------------------------------------------------

SHARED_FILES = ["rtplan.dcm", "CT_small.dcm", "liver.dcm", "DICOMDIR", "JPEG2000.dcm",
                "MR_small_bigendian.dcm", "image_dfl.dcm"]


def _paths(ds, prefix=()):
    """Access paths to every element at every depth: (tag, item, tag, ...)."""
    for elem in ds:
        path = prefix + (int(elem.tag),)
        yield path
        if elem.VR == "SQ":
            for k, item in enumerate(elem.value):
                yield from _paths(item, path + (k,))


def _resolve(ds, path, by_keyword: bool):
    cur = ds
    elem = None
    for i, step in enumerate(path):
        if i % 2 == 0:
            elem = cur[step]
            if by_keyword and elem.keyword and i == len(path) - 1:
                return elem, getattr(cur, elem.keyword)
        else:
            cur = elem.value[step]
    return elem, elem.value


def _text(elem, value) -> str:
    if elem.VR == "SQ":
        return f"SQ {len(value)}"
    return f"{elem.VR} {elem.VM} " + _value_text(value)


def _read(name):
    return fastdicom.dcmread(get_testdata_file(name), force=True)


@pytest.mark.parametrize("name", SHARED_FILES)
def test_threads_sharing_one_dataset(name):
    reference = _read(name)
    paths = list(_paths(reference))
    expected = {p: _text(*_resolve(reference, p, False)) for p in paths}
    expected_str = str(reference)
    n_threads = 16
    rounds = 6 if len(paths) < 2000 else 2
    for rnd in range(rounds):
        shared = _read(name)  # fresh: nothing decoded or made yet
        barrier = threading.Barrier(n_threads)

        def worker(n: int):
            rng = random.Random(rnd * 100 + n)
            mine = paths[n::n_threads] + rng.sample(paths, min(len(paths), 50))
            rng.shuffle(mine)
            barrier.wait()
            got = {}
            elems = {}
            for p in mine:
                elem, value = _resolve(shared, p, by_keyword=bool(n % 2))
                got[p] = _text(elem, value)
                elems[p] = (elem, value if elem.VR == "SQ" else None)
            extra = {}
            if n % 4 == 0:
                extra["str"] = str(shared)
            elif n % 4 == 1:
                extra["iterall"] = [int(e.tag) for e in shared.iterall()]
            elif n % 4 == 2:
                extra["keys"] = [int(t) for t in shared.keys()]
                extra["len"] = len(shared)
            return got, elems, extra

        with ThreadPoolExecutor(n_threads) as pool:
            results = list(pool.map(worker, range(n_threads)))
        for n, (got, _, extra) in enumerate(results):
            wrong = [p for p, text in got.items() if text != expected[p]]
            assert not wrong, f"round {rnd} thread {n}: {wrong[:5]}"
            if "str" in extra:
                assert extra["str"] == expected_str
            if "iterall" in extra:
                assert extra["iterall"] == [int(e.tag) for e in reference.iterall()]
            if "keys" in extra:
                assert extra["keys"] == [int(t) for t in reference.keys()]
                assert extra["len"] == len(reference)
        assert str(shared) == expected_str


@pytest.mark.parametrize("name", ["rtplan.dcm", "liver.dcm"])
def test_concurrent_first_touches_share_one_object(name):
    """Threads racing to touch the same element first all get the element and
    sequence the dataset keeps: an edit made through any of them is not lost."""
    reference = _read(name)
    seq_paths = [p for p in _paths(reference) if _resolve(reference, p, False)[0].VR == "SQ"]
    assert seq_paths
    n_threads = 12
    for rnd in range(30):
        shared = _read(name)
        barrier = threading.Barrier(n_threads)

        def worker(n: int):
            barrier.wait()
            out = {}
            for p in seq_paths:
                elem, value = _resolve(shared, p, by_keyword=bool(n % 2))
                out[p] = (elem, value)  # kept alive, so ids are not reused
            return out

        with ThreadPoolExecutor(n_threads) as pool:
            results = list(pool.map(worker, range(n_threads)))
        for p in seq_paths:
            elem, value = _resolve(shared, p, False)
            ids = {(id(r[p][0]), id(r[p][1])) for r in results}
            assert ids == {(id(elem), id(value))}, f"round {rnd}: {p} seen as {len(ids)} objects"
