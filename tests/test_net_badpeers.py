"""Our SCP against peers that break the protocol, stall or vanish: it closes
them within its timeouts, keeps serving others, leaves no partial file, and
neither memory nor open file descriptors grow over many such connections."""
from __future__ import annotations

import gc
import os
import socket
import struct
import time

import pytest
from pydicom.data import get_testdata_file

from fastdicom.net import dimse, pdu
from fastdicom.net.ae import AE
from fastdicom.net.association import REQUESTOR, Association, AssociateRequest, propose_contexts

CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT = "1.2.840.10008.1.2.1"


@pytest.fixture
def scp(tmp_path):
    ae = AE("FDSCP", acse_timeout=0.5, idle_timeout=1.0, dimse_timeout=5)
    handle = ae.serve("127.0.0.1", 0, block=False, storage_dir=tmp_path / "in")
    handle.dir = str(tmp_path / "in")
    yield handle
    handle.shutdown()


def _connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.settimeout(10)
    return s


def _read_until_closed(s: socket.socket, limit: float = 10.0) -> tuple[bytes, float]:
    """Everything the SCP sends until it closes, and how long that took."""
    start = time.monotonic()
    out = b""
    while time.monotonic() - start < limit:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        out += chunk
    return out, time.monotonic() - start


def _still_serves(scp) -> None:
    with AE("CHECK").associate("127.0.0.1", scp.port) as assoc:
        assert assoc.echo() == 0


def _files(directory: str) -> list[str]:
    return os.listdir(directory) if os.path.isdir(directory) else []


def _established(port: int) -> tuple[socket.socket, Association]:
    """A raw socket with an association established through our sans-IO requestor."""
    assoc = Association(REQUESTOR)
    assoc.send(AssociateRequest(calling_ae_title="RAW", called_ae_title="FDSCP",
                                presentation_contexts=propose_contexts([(CT, [EXPLICIT])])))
    s = _connect(port)
    s.sendall(assoc.connection_made())
    while not assoc.is_established:
        data = s.recv(65536)
        assert data, "the SCP closed the connection"
        assoc.receive_data(data)
        assoc.next_event()
    return s, assoc


def test_http_request_is_aborted(scp):
    s = _connect(scp.port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data, took = _read_until_closed(s)
    s.close()
    assert data[:1] in (b"\x07", b"")  # an A-ABORT, or just closed
    assert took < 5
    _still_serves(scp)


def test_huge_pdu_length_is_refused_before_buffering(scp):
    s = _connect(scp.port)
    s.sendall(struct.pack(">BBL", 1, 0, 0xFFFFFFFF) + b"\x00" * 100)
    data, took = _read_until_closed(s)
    s.close()
    assert data[:1] == b"\x07"  # A-ABORT
    assert took < 5
    _still_serves(scp)


def test_idle_peer_without_associate_request_is_closed_by_artim(scp):
    s = _connect(scp.port)
    data, took = _read_until_closed(s)
    s.close()
    assert data == b"" and 0.3 < took < 5  # ARTIM (acse_timeout 0.5 s)
    _still_serves(scp)


def test_idle_association_is_aborted(scp):
    s, _ = _established(scp.port)
    data, took = _read_until_closed(s)
    s.close()
    assert data[:1] == b"\x07" and 0.7 < took < 5  # idle_timeout 1 s
    _still_serves(scp)


def _store_parts(assoc: Association, path: str) -> list[bytes]:
    """The P-DATA-TF PDUs of a C-STORE of ``path``, one PDV each (max PDU 4 KB)."""
    with open(path, "rb") as f:
        data = f.read()
    import pydicom

    ds = pydicom.dcmread(path)
    from netpeers import dataset_part

    body = dataset_part(data)
    command = dimse.build_command(dimse.C_STORE_RQ, MessageID=1, AffectedSOPClassUID=CT,
                                  AffectedSOPInstanceUID=ds.SOPInstanceUID, Priority=0,
                                  CommandDataSetType=1)
    pdvs = list(dimse.fragment(1, dimse.encode_command(command), body, 4096))
    return [pdu.encode_pdata([(p.context_id, p.is_command, p.data, p.is_last)], 0) for p in pdvs]


@pytest.mark.parametrize("ending", ["drop", "abort"])
def test_transfer_cut_in_the_middle_leaves_no_file(scp, ending):
    s, assoc = _established(scp.port)
    parts = _store_parts(assoc, get_testdata_file("CT_small.dcm"))
    for part in parts[: len(parts) // 2]:
        s.sendall(part)
    if ending == "abort":
        s.sendall(pdu.AAbort(0).encode())
    s.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and scp.server.sessions:
        time.sleep(0.02)
    assert not scp.server.sessions
    assert _files(scp.dir) == []  # not even a temporary file
    _still_serves(scp)


def test_complete_raw_store_is_kept(scp):
    """The same raw client, sent to the end, stores the file (the test above is not vacuous)."""
    s, assoc = _established(scp.port)
    for part in _store_parts(assoc, get_testdata_file("CT_small.dcm")):
        s.sendall(part)
    assoc.receive_data(s.recv(65536))
    response = assoc.next_event()
    assert response.status == 0
    s.close()
    assert [n for n in _files(scp.dir) if n.endswith(".dcm")] and \
        not [n for n in _files(scp.dir) if not n.endswith(".dcm")]


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_thousand_bad_connections_do_not_leak(scp):
    """HTTP, huge lengths, drops mid-transfer and silent peers, 1,000 in all:
    no growth in open files or memory, no files left, the SCP still serves."""
    with open(get_testdata_file("CT_small.dcm"), "rb"):
        pass

    def bad(i: int) -> None:
        kind = i % 4
        if kind == 3:  # a drop in the middle of a P-DATA
            s, assoc = _established(scp.port)
            part = _store_parts(assoc, get_testdata_file("CT_small.dcm"))[1]
            s.sendall(part[: len(part) // 2])
            s.close()
            return
        s = _connect(scp.port)
        if kind == 0:
            s.sendall(b"GET / HTTP/1.1\r\n\r\n")
        elif kind == 1:
            s.sendall(struct.pack(">BBL", 4, 0, 0xFFFFFFFF))
        s.close()  # kind 2: connect and vanish

    for i in range(100):  # warm up: caches, the thread pool, the allocator
        bad(i)
    time.sleep(0.5)
    gc.collect()
    fds, rss = _fds(), _rss_kb()
    for i in range(1000):
        bad(i)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and scp.server.sessions:
        time.sleep(0.05)
    gc.collect()
    assert not scp.server.sessions
    assert _fds() <= fds + 2
    assert _rss_kb() - rss < 20_000  # kB: no per-connection growth
    assert _files(scp.dir) == []
    _still_serves(scp)
