"""IncomingFile (the SCP's side of a C-STORE, issue 7): gathered writes,
short writes, the writev fallback, and no file left behind."""
import gc
import os

import pytest

from fastdicom.net import storage
from fastdicom.net.storage import IncomingFile, StorageError

CT = "1.2.840.10008.5.1.4.1.1.2"
LE = "1.2.840.10008.1.2.1"


def test_fragments_of_any_size_arrive_in_order(tmp_path):
    sink = IncomingFile(str(tmp_path), CT, "1.2.3", LE, "AE")
    parts = [os.urandom(n) for n in (1, 2, 300_000, 7, 100_000, 0, 262_144)] * 3
    for p in parts:
        sink.write(memoryview(p))
    path = sink.commit()
    data = open(path, "rb").read()
    assert data.endswith(b"".join(parts)) and sink.size == sum(map(len, parts))
    assert [f for f in os.listdir(tmp_path) if f.startswith(".incoming")] == []
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_short_writes_and_the_fallback_without_writev(tmp_path, monkeypatch):
    calls = []

    def short_writev(fd, pieces):   # takes at most 1000 bytes a call
        data = b"".join(bytes(p) for p in pieces)[:1000]
        calls.append(len(data))
        return os.write(fd, data)

    for fake in (short_writev, storage._write_each):
        monkeypatch.setattr(storage, "_writev", fake)
        sink = IncomingFile(str(tmp_path), CT, f"1.2.{len(calls)}", LE)
        payload = os.urandom(300_001)
        sink.write(payload[:5])
        sink.write(payload[5:])
        assert open(sink.commit(), "rb").read().endswith(payload)
    assert len(calls) > 300


def test_dropped_or_discarded_files_leave_nothing(tmp_path):
    sink = IncomingFile(str(tmp_path), CT, "1.2.9", LE)
    sink.write(b"x" * 10)
    assert any(f.startswith(".incoming") for f in os.listdir(tmp_path))
    sink.discard()
    sink.discard()
    assert os.listdir(tmp_path) == []
    sink = IncomingFile(str(tmp_path), CT, "1.2.10", LE)
    sink.write(b"x" * 300_000)
    del sink
    gc.collect()
    assert os.listdir(tmp_path) == []
    with pytest.raises(StorageError):
        IncomingFile(str(tmp_path), CT, "../../etc/passwd", LE)
    assert os.listdir(tmp_path) == []
