"""The AE API, handlers, AE-title checks, pipelining, timeouts, TLS, storage
failures and the echo/store/scp command line, between our SCU and our SCP."""
from __future__ import annotations

import asyncio
import os
import resource
import signal
import ssl
import subprocess
import sys
import time

import pydicom
import pytest
from netpeers import dataset_part, free_port, wait_for_port
from pydicom.data import get_testdata_file

import fastdicom
from fastdicom.net import pdu
from fastdicom.net.ae import AE
from fastdicom.net.errors import AssociationClosed, AssociationRejected, NetworkTimeout

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
CT_SMALL = get_testdata_file("CT_small.dcm")
MR_SMALL = get_testdata_file("MR_small.dcm")


def _serve(tmp_path, ae=None, **kw):
    ae = ae or AE("FDSCP")
    kw.setdefault("storage_dir", tmp_path / "in")
    return ae.serve("127.0.0.1", 0, block=False, **kw)


def test_ae_title_checks(tmp_path):
    ae = AE("ARCHIVE", require_called_aet=True, allowed_calling_aets=["GOOD"])
    with _serve(tmp_path, ae) as h:
        with pytest.raises(AssociationRejected) as exc:
            AE("GOOD").associate("127.0.0.1", h.port, ae_title="OTHER")
        assert exc.value.reason == pdu.REJECT_USER_CALLED_AE_NOT_RECOGNIZED
        with pytest.raises(AssociationRejected) as exc:
            AE("BAD").associate("127.0.0.1", h.port, ae_title="ARCHIVE")
        assert exc.value.reason == pdu.REJECT_USER_CALLING_AE_NOT_RECOGNIZED
        with AE("GOOD").associate("127.0.0.1", h.port, ae_title="ARCHIVE") as assoc:
            assert assoc.echo() == 0
    with pytest.raises(ValueError):
        AE("A" * 17)


def test_no_acceptable_context_is_rejected(tmp_path):
    with _serve(tmp_path, storage_dir=None) as h:  # verification only
        with pytest.raises(AssociationRejected):
            AE("SCU").associate("127.0.0.1", h.port, contexts=[CT])


def test_handlers_plain_and_async(tmp_path):
    seen = []

    def on_echo(event):
        seen.append(("echo", event.calling_ae_title, event.called_ae_title))
        return 0x0000

    async def on_store(event):
        ds = event.dataset
        seen.append(("store", os.path.basename(event.path), str(ds.PatientName),
                     event.sop_instance_uid, event.transfer_syntax))
        return 0xB000 if "MR" in str(ds.Modality) else 0x0000

    with _serve(tmp_path, handlers={"echo": on_echo, "store": on_store}) as h:
        with AE("SCU").associate("127.0.0.1", h.port, ae_title="ME",
                                 contexts=["1.2.840.10008.1.1", CT, MR]) as assoc:
            assert assoc.echo() == 0
            ct, mr = assoc.store(CT_SMALL), assoc.store(MR_SMALL)
    assert (ct.status, mr.status) == (0, 0xB000)
    assert ct.ok and mr.ok and mr.category == "Warning"
    ct_ds = pydicom.dcmread(CT_SMALL)
    assert seen[0] == ("echo", "SCU", "ME")
    assert seen[1] == ("store", ct_ds.SOPInstanceUID + ".dcm", str(ct_ds.PatientName),
                       ct_ds.SOPInstanceUID, "1.2.840.10008.1.2.1")


def test_store_a_dataset_object(tmp_path):
    ds = fastdicom.dcmread(CT_SMALL)
    ds.PatientName = "EDITED^NAME"
    with _serve(tmp_path) as h:
        with AE("SCU").associate("127.0.0.1", h.port, contexts=[
                (CT, ["1.2.840.10008.1.2"])]) as assoc:  # implicit VR only: re-encoded
            assert assoc.store(ds).status == 0
    stored = pydicom.dcmread(tmp_path / "in" / f"{ds.SOPInstanceUID}.dcm")
    assert stored.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2"
    assert stored.PatientName == "EDITED^NAME"
    original = pydicom.dcmread(CT_SMALL)
    for elem in original:
        if elem.keyword != "PatientName":
            assert stored[elem.tag].value == elem.value, elem.tag


def test_pipelined_stores_in_order(tmp_path):
    import shutil

    paths = []
    for i in range(24):  # distinct instances: copies with new SOP Instance UIDs
        ds = pydicom.dcmread(CT_SMALL if i % 2 else MR_SMALL)
        ds.SOPInstanceUID = f"1.2.3.4.{i + 1}"
        p = tmp_path / f"f{i}.dcm"
        ds.save_as(p)
        paths.append(str(p))
    with _serve(tmp_path, AE("FDSCP", async_ops_window=8)) as h:
        with AE("SCU", async_ops_window=8).associate("127.0.0.1", h.port,
                                                     contexts=[CT, MR]) as assoc:
            assert assoc.window == 8
            results = assoc.store_many(paths)
    assert [r.source for r in results] == paths
    assert all(r.status == 0 for r in results)
    for i, p in enumerate(paths):
        stored = tmp_path / "in" / f"1.2.3.4.{i + 1}.dcm"
        assert dataset_part(stored.read_bytes()) == dataset_part(open(p, "rb").read())
    shutil.rmtree(tmp_path / "in")


def test_store_many_opens_files_ahead_in_bounded_batches(tmp_path, monkeypatch):
    """Files are prepared in a worker thread, a batch at a time, never more than
    window + batch open; unreadable items give error results in their place;
    every file is closed at the end."""
    from fastdicom.net import client, storage

    open_now, most = [0], [0]
    real_prepare = storage.prepare

    def counting_prepare(item):
        prepared = real_prepare(item)
        open_now[0] += 1
        most[0] = max(most[0], open_now[0])
        real_close = prepared.close

        def close():
            if not getattr(prepared, "_counted_closed", False):
                prepared._counted_closed = True
                open_now[0] -= 1
            real_close()

        prepared.close = close
        return prepared

    monkeypatch.setattr(client, "prepare", counting_prepare)
    (tmp_path / "junk.dcm").write_bytes(b"not DICOM at all" * 10)
    items = [CT_SMALL] * 60
    items[7] = str(tmp_path / "missing.dcm")
    items[30] = str(tmp_path / "junk.dcm")
    items[45] = fastdicom.dcmread(MR_SMALL)
    with _serve(tmp_path, AE("FDSCP", async_ops_window=4)) as h:
        with AE("SCU", async_ops_window=4).associate("127.0.0.1", h.port,
                                                     contexts=[CT, MR]) as assoc:
            results = assoc.store_many(items)
    assert [r.source for r in results] == items
    assert [k for k, r in enumerate(results) if not r.ok] == [7, 30]
    assert results[7].error and results[30].error and results[45].status == 0
    assert most[0] <= 4 + client.PREPARE_BATCH and open_now[0] == 0


def test_synchronous_peer_gets_one_at_a_time(tmp_path):
    with _serve(tmp_path, AE("FDSCP", async_ops_window=1)) as h:
        with AE("SCU").associate("127.0.0.1", h.port, contexts=[CT]) as assoc:
            assert assoc.window == 1
            assert [r.status for r in assoc.store_many([CT_SMALL] * 3)] == [0, 0, 0]


def test_dimse_timeout_aborts(tmp_path):
    async def slow(event):
        await asyncio.sleep(3)
        return 0

    with _serve(tmp_path, handlers={"echo": slow}) as h:
        assoc = AE("SCU", dimse_timeout=0.3).associate("127.0.0.1", h.port)
        start = time.monotonic()
        with pytest.raises(NetworkTimeout):
            assoc.echo()
        assert time.monotonic() - start < 2
        assert not assoc.is_established
        with pytest.raises(AssociationClosed):
            assoc.echo()


def test_unreachable_peer_is_an_oserror():
    port = free_port()
    with pytest.raises(OSError):
        AE("SCU").associate("127.0.0.1", port)


def _certificate(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


def test_tls(tmp_path):
    cert, key = _certificate(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=cert)
    with _serve(tmp_path, ssl=server_ctx) as h:
        with AE("SCU").associate("127.0.0.1", h.port, contexts=["1.2.840.10008.1.1", CT],
                                 ssl=client_ctx, server_hostname="127.0.0.1") as assoc:
            assert assoc.echo() == 0
            assert assoc.store(CT_SMALL).status == 0
        with pytest.raises(Exception):  # plain TCP to a TLS port: no association
            AE("SCU", acse_timeout=2).associate("127.0.0.1", h.port)
        with pytest.raises(ssl.SSLError):  # a certificate we do not trust
            AE("SCU").associate("127.0.0.1", h.port, ssl=ssl.create_default_context())


# -- the command line ------------------------------------------------------------------------
def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "fastdicom", *args], capture_output=True,
                          text=True, timeout=120, **kw)


@pytest.fixture
def scp_process(tmp_path):
    procs = []

    def start(*args, preexec_fn=None):
        port = free_port()
        directory = tmp_path / f"scp{len(procs)}"
        p = subprocess.Popen([sys.executable, "-m", "fastdicom", "scp", "--bind", "127.0.0.1",
                              "--port", str(port), "--dir", str(directory), *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=preexec_fn)
        procs.append(p)
        wait_for_port(port)
        return port, directory, p

    yield start
    for p in procs:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def test_cli_echo_store_scp(scp_process, tmp_path):
    port, directory, proc = scp_process("--aet", "ARCHIVE")
    out = _cli("echo", "127.0.0.1", str(port), "--aec", "ARCHIVE", "--repeat", "2")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("Success") == 2
    out = _cli("echo", "127.0.0.1", str(port), "--aec", "WRONG")
    assert out.returncode == 1 and "rejected" in out.stderr
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    for name, target in ((CT_SMALL, src / "a.dcm"), (MR_SMALL, src / "sub" / "b.dcm")):
        target.write_bytes(open(name, "rb").read())
    (src / "notes.txt").write_text("not DICOM")
    out = _cli("store", "127.0.0.1", str(port), str(src), "--aec", "ARCHIVE", "-v")
    assert out.returncode == 1  # the text file is reported as failed
    assert "notes.txt" in out.stderr and "stored 2 of 3 files" in out.stderr
    assert out.stdout.count("Success") == 2
    assert sorted(n for n in os.listdir(directory) if not n.startswith("index.sqlite")) == sorted(
        f"{pydicom.dcmread(p).SOPInstanceUID}.dcm" for p in (CT_SMALL, MR_SMALL))
    out = _cli("store", "127.0.0.1", str(free_port()), str(src / "a.dcm"))
    assert out.returncode == 1 and out.stderr.count("\n") == 1  # one line: refused


def test_cli_usage_errors():
    out = _cli("store", "127.0.0.1", "104")
    assert out.returncode == 2
    out = _cli("echo", "127.0.0.1", "104", "--aet", "A" * 20)
    assert out.returncode == 2 and "AE title" in out.stderr


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))


def test_disk_write_failure_returns_out_of_resources_and_leaves_nothing(scp_process):
    """Writes past 8 kB fail in the SCP's process (EFBIG, a real write error):
    the store fails with A700, no file is left, the next store works."""
    port, directory, _ = scp_process("--no-index", preexec_fn=_limit_file_size)
    small = get_testdata_file("rtplan.dcm")
    assert os.path.getsize(small) < 8000
    with AE("SCU").associate("127.0.0.1", port, contexts=[
            CT, pydicom.dcmread(small).SOPClassUID]) as assoc:
        big = assoc.store(CT_SMALL)
        ok = assoc.store(small)
    assert big.status == 0xA700 and not big.ok
    assert ok.status == 0
    assert [n for n in os.listdir(directory) if not n.startswith("index.sqlite")] == \
        [f"{pydicom.dcmread(small).SOPInstanceUID}.dcm"]


def test_large_data_sets_are_sent_in_pieces(tmp_path):
    """A 6 MB data set goes out as several P-DATA pieces (never encoded whole);
    two of them pipelined arrive intact (their fragments not interleaved)."""
    import numpy as np

    from fastdicom.net.association import REQUESTOR, Association

    paths = []
    for i in range(2):
        ds = pydicom.dcmread(CT_SMALL)
        ds.Rows, ds.Columns = 2048, 1536
        ds.PixelData = (np.arange(2048 * 1536, dtype=np.uint16) * (i + 1)).tobytes()
        ds.SOPInstanceUID = f"1.2.3.5.{i + 1}"
        paths.append(tmp_path / f"big{i}.dcm")
        ds.save_as(paths[-1])
    with _serve(tmp_path, AE("FDSCP", async_ops_window=4)) as h:
        with AE("SCU", async_ops_window=4).associate("127.0.0.1", h.port,
                                                     contexts=[CT]) as assoc:
            results = assoc.store_many(paths)
            raw = assoc.assoc  # the sans-IO association: count the pieces of one message
            assert isinstance(raw, Association) and raw.role == REQUESTOR
    assert [r.status for r in results] == [0, 0]
    for i, p in enumerate(paths):
        stored = tmp_path / "in" / f"1.2.3.5.{i + 1}.dcm"
        assert dataset_part(stored.read_bytes()) == dataset_part(p.read_bytes())


def test_send_message_pieces():
    from fastdicom.net import dimse
    from fastdicom.net.association import ACCEPTOR, REQUESTOR, Association, AssociateRequest
    from fastdicom.net.association import accept_request, propose_contexts

    scu, scp = Association(REQUESTOR), Association(ACCEPTOR)
    scu.send(AssociateRequest(presentation_contexts=propose_contexts([CT])))
    scp.connection_made()
    scp.receive_data(scu.connection_made())
    request = scp.next_event()
    scu.receive_data(scp.send(accept_request(request, {CT: ["1.2.840.10008.1.2.1"]})))
    scu.next_event()
    data = bytes(range(256)) * 20000  # 5 MB
    command = dimse.build_command(dimse.C_STORE_RQ, MessageID=7, AffectedSOPClassUID=CT,
                                  AffectedSOPInstanceUID="1.2.3", Priority=0)
    pieces = list(scu.send_message(dimse.DimseMessage(1, command, data), 1 << 20))
    assert len(pieces) == 6  # the command, then 5 pieces of 1 MB of data set
    assert max(len(p) for p in pieces) < (1 << 20) * 1.01
    for p in pieces:
        scp.receive_data(p)
    message = scp.next_event()
    assert message.message_id == 7 and message.data == data


@pytest.mark.parametrize("ae", ["AE1", "", "ODD-TITLE"])
def test_stored_file_meta_is_what_the_writer_writes(ae):
    """The SCP's directly encoded File Meta Information equals the writer's."""
    import io

    from fastdicom.net.storage import _file_meta
    from fastdicom.writer import write_file_meta_info

    meta = fastdicom.Dataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = CT
    meta.MediaStorageSOPInstanceUID = "1.2.345"
    meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    if ae:
        meta.SourceApplicationEntityTitle = ae
    out = io.BytesIO()
    write_file_meta_info(out, meta, enforce_standard=True)
    assert _file_meta(CT, "1.2.345", "1.2.840.10008.1.2.1", ae) == \
        b"\x00" * 128 + b"DICM" + out.getvalue()


def test_directory_fsyncs_are_shared(tmp_path, monkeypatch):
    """Concurrent commits share directory fsyncs, and each caller returns only
    after an fsync that began after its call."""
    import threading

    from fastdicom import writer
    from fastdicom.net import storage

    calls = []
    real = writer._fsync_directory

    def counted(directory):
        calls.append(("start", time.monotonic()))
        time.sleep(0.02)
        real(directory)
        calls.append(("end", time.monotonic()))

    monkeypatch.setattr(writer, "_fsync_directory", counted)
    returned = []

    def commit():
        asked = time.monotonic()
        storage._fsync_directory(str(tmp_path))
        returned.append((asked, time.monotonic()))

    threads = [threading.Thread(target=commit) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts = [t for kind, t in calls if kind == "start"]
    ends = [t for kind, t in calls if kind == "end"]
    assert len(returned) == 16 and 1 <= len(starts) < 16
    for asked, done in returned:  # some fsync started after the call and ended before return
        assert any(asked <= s and e <= done for s, e in zip(starts, ends))
