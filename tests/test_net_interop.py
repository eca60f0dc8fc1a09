"""Interoperability of fastdicom's Verification and Storage SCU/SCP with dcmtk
(echoscu, storescu, storescp) and pynetdicom, both ways, on 127.0.0.1."""
from __future__ import annotations

import os
import subprocess
import threading

import pydicom
import pytest
from netpeers import (
    copy_corpus, dataset_part, dcmtk, free_port, storable_corpus, wait_for_port)

from fastdicom.net.ae import AE
from fastdicom.net.errors import AssociationAborted, AssociationClosed, AssociationRejected

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


@pytest.fixture
def scp(tmp_path):
    """Our storage SCP on a free port, storing into tmp_path/"in"."""
    directory = tmp_path / "in"
    handle = AE("FDSCP").serve("127.0.0.1", 0, block=False, storage_dir=directory)
    handle.dir = str(directory)
    yield handle
    handle.shutdown()


@pytest.fixture
def storescp(tmp_path):
    """dcmtk's storescp, bit-preserving, accepting every transfer syntax it knows;
    ``start(*options)`` -> (port, directory)."""
    procs = []

    def start(*options: str) -> tuple[int, str]:
        port = free_port()
        directory = tmp_path / f"dcmtk{len(procs)}"
        directory.mkdir()
        procs.append(subprocess.Popen(
            [dcmtk("storescp"), "+B", "+xa", "-od", str(directory), *options, str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for_port(port)
        return port, str(directory)

    yield start
    for p in procs:
        p.terminate()
        p.wait(10)


def _by_uid(directory: str) -> dict[str, str]:
    """dcmtk names files <modality>.<SOP Instance UID>; we name <UID>.dcm."""
    out = {}
    for name in os.listdir(directory):
        uid = name[:-4] if name.endswith(".dcm") else name.split(".", 1)[1]
        out[uid] = os.path.join(directory, name)
    return out


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _sent(path: str) -> bytes:
    """The data set bytes we send for a file: as in the file, padded to an even
    length (PDVs are even; a deflated data set may be odd in a file)."""
    data = dataset_part(_read(path))
    return data + b"\x00" if len(data) % 2 else data


def test_dcmtk_echoscu_to_our_scp(scp):
    out = subprocess.run([dcmtk("echoscu"), "-v", "127.0.0.1", str(scp.port)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Success" in out.stderr


def test_our_echo_to_dcmtk_storescp(storescp):
    port, _ = storescp()
    with AE("FDSCU").associate("127.0.0.1", port, ae_title="STORESCP") as assoc:
        assert assoc.echo() == 0


def test_dcmtk_storescu_to_our_scp_arrives_as_sent(scp, storescp, tmp_path):
    """Every corpus file dcmtk's storescu sends arrives with the data set bytes
    dcmtk's own storescp (bit-preserving) receives from the same storescu."""
    files = storable_corpus()
    sources = copy_corpus(files, str(tmp_path / "src"))
    port, theirs_dir = storescp()
    args = [dcmtk("storescu"), "-R", "-nh", "-xs", "127.0.0.1"]
    for p in (scp.port, port):
        out = subprocess.run(args + [str(p)] + sources, capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
    ours, theirs = _by_uid(scp.dir), _by_uid(theirs_dir)
    # dcmtk's storescp has no Color Palette Storage; we keep every storage class
    assert set(theirs) <= set(ours)
    assert len(theirs) >= 120
    for uid in theirs:
        assert dataset_part(_read(ours[uid])) == dataset_part(_read(theirs[uid])), uid
    assert not [n for n in os.listdir(scp.dir) if not n.endswith(".dcm")]  # no temporaries


def test_our_scu_to_dcmtk_storescp_byte_identical(storescp):
    """Our SCU sends each file's data set bytes as they are in the file."""
    port, directory = storescp()
    files = storable_corpus()
    contexts = sorted({(str(pydicom.dcmread(p, stop_before_pixels=True).SOPClassUID), ts)
                       for p, _, ts in files})
    ok = 0
    ae = AE("FDSCU")
    for start in range(0, len(contexts), 128):  # a request proposes at most 128 contexts
        chunk = contexts[start:start + 128]
        wanted = [f for f in files if any(f[2] == ts for _, ts in chunk)]
        with ae.associate("127.0.0.1", port, contexts=[(c, [t]) for c, t in chunk]) as assoc:
            for result in assoc.store_many([p for p, _, _ in wanted]):
                ok += result.ok
    stored = _by_uid(directory)
    assert ok == len(stored) >= 120
    for path, uid, _ in files:
        if uid in stored:
            assert dataset_part(_read(stored[uid])) == _sent(path), path


def test_our_scu_to_our_scp_whole_corpus(scp):
    files = storable_corpus()
    classes = {}
    for path, _, ts in files:
        uid = str(pydicom.dcmread(path, stop_before_pixels=True).SOPClassUID)
        classes.setdefault(uid, set()).add(ts)
    contexts = [(uid, [ts]) for uid, tss in classes.items() for ts in sorted(tss)]
    assert len(contexts) <= 128
    with AE("FDSCU").associate("127.0.0.1", scp.port, contexts=contexts) as assoc:
        results = assoc.store_many([p for p, _, _ in files])
    assert all(r.ok for r in results), [r for r in results if not r.ok][:3]
    stored = _by_uid(scp.dir)
    assert len(stored) == len(files)
    for path, uid, ts in files:
        data = _read(stored[uid])
        assert dataset_part(data) == _sent(path), path
        meta = pydicom.dcmread(stored[uid], stop_before_pixels=True).file_meta
        assert meta.TransferSyntaxUID == ts
        assert meta.MediaStorageSOPInstanceUID == uid
        assert meta.SourceApplicationEntityTitle == "FDSCU"


@pytest.mark.parametrize("option,error", [("--abort-after", AssociationAborted),
                                          ("--abort-during", AssociationAborted),
                                          ("--refuse", AssociationRejected)])
def test_dcmtk_storescp_refusing_or_aborting(storescp, option, error):
    from pydicom.data import get_testdata_file

    port, directory = storescp(option)
    ae = AE("FDSCU", dimse_timeout=20)
    with pytest.raises((error, AssociationClosed)):
        with ae.associate("127.0.0.1", port, contexts=[CT_IMAGE_STORAGE]) as assoc:
            assoc.store(get_testdata_file("CT_small.dcm"))
    # and a well-behaved run still works against a normal storescp
    port, _ = storescp()
    with ae.associate("127.0.0.1", port, contexts=[CT_IMAGE_STORAGE]) as assoc:
        assert assoc.store(get_testdata_file("CT_small.dcm")).status == 0


def test_storescp_reject_accepts_us_we_send_an_implementation_class_uid(storescp):
    port, _ = storescp("--reject")
    with AE("FDSCU").associate("127.0.0.1", port) as assoc:
        assert assoc.echo() == 0


# -- pynetdicom, both ways ------------------------------------------------------------------
def test_pynetdicom_scu_to_our_scp(scp):
    from pydicom.data import get_testdata_file
    from pynetdicom import AE as PynetAE
    from pynetdicom import StoragePresentationContexts

    names = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "JPEG2000.dcm"]
    ae = PynetAE(ae_title="PYNETSCU")
    ae.requested_contexts = StoragePresentationContexts[:120]
    ae.add_requested_context("1.2.840.10008.1.1")
    ds = {n: pydicom.dcmread(get_testdata_file(n)) for n in names}
    for d in ds.values():  # compressed files: propose their own syntax too
        ts = d.file_meta.TransferSyntaxUID
        if ts.is_compressed:
            ae.add_requested_context(d.SOPClassUID, [ts])
    assoc = ae.associate("127.0.0.1", scp.port, ae_title="FDSCP")
    assert assoc.is_established
    try:
        assert assoc.send_c_echo().Status == 0
        for name, d in ds.items():
            status = assoc.send_c_store(d)
            assert status.Status == 0, name
    finally:
        assoc.release()
    stored = _by_uid(scp.dir)
    for name, d in ds.items():
        ours = pydicom.dcmread(stored[d.SOPInstanceUID])
        assert ours == d, name


def test_our_scu_to_pynetdicom_scp(tmp_path):
    from pydicom.data import get_testdata_file
    from pynetdicom import AE as PynetAE
    from pynetdicom import ALL_TRANSFER_SYNTAXES, StoragePresentationContexts, evt

    received = {}
    lock = threading.Lock()

    def on_store(event):
        with lock:
            received[event.request.AffectedSOPInstanceUID] = (
                event.context.transfer_syntax, bytes(event.request.DataSet.getvalue()))
        return 0x0000

    ae = PynetAE(ae_title="PYNETSCP")
    for cx in StoragePresentationContexts:
        ae.add_supported_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES)
    ae.add_supported_context("1.2.840.10008.1.1")
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False,
                             evt_handlers=[(evt.EVT_C_STORE, on_store)])
    try:
        names = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "JPEG2000.dcm",
                 "ExplVR_BigEnd.dcm"]
        paths = [get_testdata_file(n) for n in names]
        contexts = sorted({(str(pydicom.dcmread(p).SOPClassUID),
                            str(pydicom.dcmread(p).file_meta.TransferSyntaxUID)) for p in paths})
        with AE("FDSCU").associate("127.0.0.1", port, ae_title="PYNETSCP",
                                   contexts=["1.2.840.10008.1.1"] +
                                   [(c, [t]) for c, t in contexts]) as assoc:
            assert assoc.echo() == 0
            results = assoc.store_many(paths)
        assert [r.status for r in results] == [0] * len(paths)
    finally:
        server.shutdown()
    for path in paths:
        ds = pydicom.dcmread(path)
        ts, data = received[ds.SOPInstanceUID]
        assert ts == ds.file_meta.TransferSyntaxUID
        assert data == _sent(path)


def test_conversion_when_the_peer_takes_another_syntax(storescp):
    """An explicit VR file sent where only implicit VR LE is accepted is
    converted; dcmtk reads the same values."""
    from pydicom.data import get_testdata_file

    port, directory = storescp()
    path = get_testdata_file("CT_small.dcm")
    with AE("FDSCU").associate("127.0.0.1", port,
                               contexts=[(CT_IMAGE_STORAGE, ["1.2.840.10008.1.2"])]) as assoc:
        assert assoc.store(path).status == 0
    (stored,) = _by_uid(directory).values()
    theirs = pydicom.dcmread(stored)
    assert theirs.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2"
    original = pydicom.dcmread(path)
    for elem in original:
        assert theirs[elem.tag].value == elem.value, elem.tag
