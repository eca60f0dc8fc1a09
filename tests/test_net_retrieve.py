"""C-MOVE and C-GET with the archive behind our SCP: our SCU, dcmtk movescu
(its own store SCP as destination) and getscu, dcmtk dcmqrscp, pynetdicom;
faults: unknown or unreachable destination, cancel, abort mid-move."""
from __future__ import annotations

import os
import subprocess
import time

import pytest
import qrdata
from netpeers import dcmtk, free_port, wait_for_port
from pgserver import new_database, postgres_url  # noqa: F401  (a fixture)

from fastdicom.cli import main
from fastdicom.net import query
from fastdicom.net.ae import AE
from fastdicom.net.archive import open_archive
from fastdicom.net.services import archive_handlers

U = qrdata.uid
STUDY_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
STUDY_GET = "1.2.840.10008.5.1.4.1.2.2.3"
ALL = ("a1", "a2", "a3", "b1", "c1", "c2", "c3", "d1", "d2", "d3")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return qrdata.small_archive(str(tmp_path_factory.mktemp("src")))


def _serve_archive(directory, files=(), **ae_kw):
    os.makedirs(directory, exist_ok=True)
    archive = open_archive("", directory)
    archive.index_paths(files)
    ae = AE("FDQR", **ae_kw)
    handle = ae.serve("127.0.0.1", 0, block=False, storage_dir=directory, archive=archive,
                      handlers=archive_handlers(archive))
    handle.dir, handle.archive, handle.ae = directory, archive, ae
    return handle


@pytest.fixture
def pacs(tmp_path, files):
    handle = _serve_archive(str(tmp_path / "pacs"), files)
    yield handle
    handle.shutdown()
    handle.archive.close()


@pytest.fixture
def store_scp(tmp_path):
    """Our plain storage SCP as a move destination."""
    directory = tmp_path / "dest"
    handle = AE("DEST").serve("127.0.0.1", 0, block=False, storage_dir=directory)
    handle.dir = str(directory)
    yield handle
    handle.shutdown()


def _received(directory):
    return {n[:-4] for n in os.listdir(directory) if n.endswith(".dcm")}


def _move_contexts():
    return query.contexts("move", "STUDY") + query.contexts("move", "PATIENT")


def test_move_to_our_store_scp(pacs, store_scp, files):
    pacs.ae.known_aes["DEST"] = ("127.0.0.1", store_scp.port)
    pending = []
    with AE("FDSCU").associate("127.0.0.1", pacs.port, contexts=_move_contexts()) as assoc:
        r = assoc.move({"StudyInstanceUID": [U("A"), U("C")]}, "DEST",
                       on_pending=lambda res: pending.append(
                           (res.remaining, res.completed, res.failed)))
        assert r.status == 0 and (r.completed, r.failed, r.warning) == (6, 0, 0)
        assert not r.failed_uids
        assert pending == [(5 - i, i + 1, 0) for i in range(5)]
        assert _received(store_scp.dir) == {U(x) for x in
                                            ("a1", "a2", "a3", "c1", "c2", "c3")}
        r = assoc.move({"PatientID": "P3", "StudyInstanceUID": U("D"),
                        "SeriesInstanceUID": U("D2")}, "DEST", model="PATIENT", level="SERIES")
        assert r.status == 0 and r.completed == 2
        r = assoc.move({"StudyInstanceUID": "9.9.9"}, "DEST")  # nothing matches
        assert r.status == 0 and r.completed == 0
        r = assoc.move({"StudyInstanceUID": U("A")}, "DEST", level="SERIES")  # no series UID
        assert r.status == 0xA900
    for label in ("a1", "d3"):
        source = next(p for p in files if os.path.basename(p) == f"{label}.dcm")
        with open(os.path.join(store_scp.dir, U(label) + ".dcm"), "rb") as a, \
                open(source, "rb") as b:
            assert a.read()[-200:] == b.read()[-200:]


def test_move_faults_unknown_and_unreachable_destination(pacs):
    with AE("FDSCU").associate("127.0.0.1", pacs.port, contexts=_move_contexts()) as assoc:
        r = assoc.move({"StudyInstanceUID": U("A")}, "NOBODY")
        assert r.status == 0xA801
        pacs.ae.known_aes["GONE"] = ("127.0.0.1", free_port())  # nothing listens there
        r = assoc.move({"StudyInstanceUID": U("A")}, "GONE")
        assert r.status == 0xA801
        assert (r.completed, r.failed, r.warning) == (0, 3, 0)
        assert set(r.failed_uids) == {U("a1"), U("a2"), U("a3")}
        assert assoc.is_established


def test_move_some_sub_operations_fail(pacs, tmp_path):
    """The destination takes CT only: B000 with the MR instances failed and listed;
    A702 when every sub-operation failed."""
    directory = tmp_path / "ctonly"
    dest = AE("CTONLY")
    dest.add_supported_context(qrdata.CT)
    handle = dest.serve("127.0.0.1", 0, block=False, storage_dir=directory)
    pacs.ae.known_aes["CTONLY"] = ("127.0.0.1", handle.port)
    try:
        with AE("FDSCU").associate("127.0.0.1", pacs.port, contexts=_move_contexts()) as a:
            r = a.move({"StudyInstanceUID": U("A")}, "CTONLY")
            assert r.status == 0xB000 and (r.completed, r.failed) == (2, 1)
            assert r.failed_uids == [U("a3")]
            # no context for MR at all: the association is refused, every sub-operation fails
            r = a.move({"StudyInstanceUID": U("D"), "SeriesInstanceUID": U("D2")}, "CTONLY",
                       level="SERIES")
            assert r.status == 0xA801 and (r.completed, r.failed) == (0, 2)
    finally:
        handle.shutdown()
    refuse = AE("REFUSE").serve("127.0.0.1", 0, block=False, storage_dir=tmp_path / "r",
                                handlers={"store": lambda event: 0xA700})
    pacs.ae.known_aes["REFUSE"] = ("127.0.0.1", refuse.port)
    try:
        with AE("FDSCU").associate("127.0.0.1", pacs.port, contexts=_move_contexts()) as a:
            r = a.move({"StudyInstanceUID": U("D")}, "REFUSE")
            assert r.status == 0xA702 and (r.completed, r.failed) == (0, 3)
            assert set(r.failed_uids) == {U("d1"), U("d2"), U("d3")}
    finally:
        refuse.shutdown()


def _slow_destination(tmp_path, delay):
    """A storage SCP taking ``delay`` seconds per instance."""
    def slow(event):
        time.sleep(delay)
        return 0
    return AE("SLOW").serve("127.0.0.1", 0, block=False, storage_dir=tmp_path / "slow",
                            handlers={"store": slow})


def test_move_cancelled_by_the_peer(pacs, tmp_path):
    handle = _slow_destination(tmp_path, 0.05)
    pacs.ae.known_aes["SLOW"] = ("127.0.0.1", handle.port)
    try:
        with AE("FDSCU").associate("127.0.0.1", pacs.port, contexts=_move_contexts()) as a:
            r = a.move({"StudyInstanceUID": [U(s) for s in "ABCD"]}, "SLOW", cancel_after=1)
            assert r.status == 0xFE00
            assert r.completed >= 1 and r.completed + r.remaining == 10 and r.failed == 0
            r = a.move({"StudyInstanceUID": U("B")}, "SLOW")  # the association goes on
            assert r.status == 0 and r.completed == 1
    finally:
        handle.shutdown()


def test_move_peer_aborts_mid_move(pacs, tmp_path):
    handle = _slow_destination(tmp_path, 0.1)
    pacs.ae.known_aes["SLOW"] = ("127.0.0.1", handle.port)
    try:
        async def abort_after_first_pending():
            assoc = await AE("FDSCU").connect("127.0.0.1", pacs.port, contexts=_move_contexts())
            message = query._request(assoc, 0x0021, "STUDY", "move",
                                     {"StudyInstanceUID": [U(s) for s in "ABCD"]}, None, 0,
                                     MoveDestination="SLOW")
            async for response in assoc.request(message):
                if response.status == 0xFF00:
                    assoc.abort()
                    break

        from fastdicom.net.blocking import run
        run(abort_after_first_pending())
        # the SCP stops the move (no more sub-operations), releases the destination and serves on
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (handle.server.sessions or
                                               pacs.server.sessions):
            time.sleep(0.05)
        assert not handle.server.sessions and not pacs.server.sessions
        assert handle.server.stats["stored"] < 10
        with AE("FDSCU").associate("127.0.0.1", pacs.port, contexts=_move_contexts()) as a:
            assert a.move({"StudyInstanceUID": U("B")}, "SLOW").status == 0
    finally:
        handle.shutdown()


def test_movescu_with_its_own_store_scp(pacs, tmp_path):
    port = free_port()
    pacs.ae.known_aes["MOVESCU"] = ("127.0.0.1", port)
    out_dir = tmp_path / "movescu"
    out_dir.mkdir()
    out = subprocess.run(
        [dcmtk("movescu"), "-v", "-S", "-aet", "MOVESCU", "-aem", "MOVESCU", "--port",
         str(port), "-od", str(out_dir), "-k", "QueryRetrieveLevel=STUDY", "-k",
         f"StudyInstanceUID={U('A')}\\{U('D')}", "127.0.0.1", str(pacs.port)],
        capture_output=True, text=True, timeout=120, errors="replace")
    assert out.returncode == 0, out.stderr[-2000:]
    names = os.listdir(out_dir)
    assert {n.split(".", 1)[1] for n in names} == {U(x) for x in
                                                   ("a1", "a2", "a3", "d1", "d2", "d3")}
    assert "Received Final Move Response (Success)" in out.stderr + out.stdout


def _dcmqrscp(tmp_path, files, hosts=""):
    port = free_port()
    db = tmp_path / "qrdb"
    db.mkdir()
    cfg = tmp_path / "dcmqrscp.cfg"
    cfg.write_text(f"NetworkTCPPort = {port}\nMaxPDUSize = 16384\nMaxAssociations = 16\n"
                   f"HostTable BEGIN\n{hosts}HostTable END\nVendorTable BEGIN\nVendorTable END\n"
                   f"AETable BEGIN\nCOMMON {db} RW (200, 1024mb) ANY\nAETable END\n")
    proc = subprocess.Popen([dcmtk("dcmqrscp"), "-c", str(cfg), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    out = subprocess.run([dcmtk("storescu"), "-aec", "COMMON", "127.0.0.1", str(port),
                          *files], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return proc, port


def test_our_move_and_get_against_dcmqrscp(tmp_path, files, store_scp):
    proc, port = _dcmqrscp(tmp_path, files,
                           f"dest = (DEST, 127.0.0.1, {store_scp.port})\n")
    try:
        with AE("FDSCU").associate("127.0.0.1", port, ae_title="COMMON",
                                   contexts=_move_contexts()) as assoc:
            r = assoc.move({"StudyInstanceUID": U("A")}, "DEST")
            assert r.status == 0 and r.completed == 3
        assert _received(store_scp.dir) == {U("a1"), U("a2"), U("a3")}
        out = tmp_path / "got"
        with AE("FDSCU").associate("127.0.0.1", port, ae_title="COMMON",
                                   contexts=query.contexts("get", storage_classes=[
                                       qrdata.CT, qrdata.MR]),
                                   role_selection=query.get_role_selection(
                                       [qrdata.CT, qrdata.MR])) as assoc:
            r = assoc.get({"StudyInstanceUID": U("C")}, directory=str(out))
            assert r.status == 0 and r.completed == 3
        assert _received(out) == {U("c1"), U("c2"), U("c3")}
    finally:
        proc.terminate()
        proc.wait(10)


def _get_assoc(port, classes=(qrdata.CT, qrdata.MR)):
    return AE("FDSCU").associate(
        "127.0.0.1", port, contexts=query.contexts("get", storage_classes=list(classes)),
        role_selection=query.get_role_selection(list(classes)))


def test_get_from_our_scp(pacs, tmp_path, files):
    out = tmp_path / "got"
    with _get_assoc(pacs.port) as assoc:
        r = assoc.get({"StudyInstanceUID": [U("A"), U("D")]}, directory=str(out))
        assert r.status == 0 and (r.completed, r.failed) == (6, 0)
        assert len(r.stored) == 6
    assert _received(out) == {U(x) for x in ("a1", "a2", "a3", "d1", "d2", "d3")}
    src = {os.path.basename(p)[:-4]: p for p in files}
    for label in ("a1", "d3"):
        with open(out / f"{U(label)}.dcm", "rb") as a, open(src[label], "rb") as b:
            assert a.read()[-300:] == b.read()[-300:]
    # without the SCP role for MR, the MR instance fails and is listed
    with _get_assoc(pacs.port, classes=(qrdata.CT,)) as assoc:
        r = assoc.get({"StudyInstanceUID": U("A")}, directory=str(tmp_path / "ct"))
        assert r.status == 0xB000 and (r.completed, r.failed) == (2, 1)
        assert r.failed_uids == [U("a3")]


def test_get_cancelled(pacs, tmp_path):
    with _get_assoc(pacs.port) as assoc:
        r = assoc.get({"StudyInstanceUID": [U(s) for s in "ABCD"]},
                      directory=str(tmp_path / "c"), cancel_after=1)
        assert r.status in (0xFE00, 0)  # the SCP may have finished before the cancel
        if r.status == 0xFE00:
            assert r.completed < 10


def test_getscu_against_our_scp(pacs, tmp_path):
    out_dir = tmp_path / "getscu"
    out_dir.mkdir()
    out = subprocess.run(
        [dcmtk("getscu"), "-v", "-S", "-od", str(out_dir), "-k", "QueryRetrieveLevel=SERIES",
         "-k", f"StudyInstanceUID={U('C')}", "-k", f"SeriesInstanceUID={U('C1')}",
         "127.0.0.1", str(pacs.port)],
        capture_output=True, text=True, timeout=120, errors="replace")
    assert out.returncode == 0, out.stderr[-2000:]
    assert {n.split(".", 1)[1] for n in os.listdir(out_dir)} == {U("c1"), U("c2")}


def test_pynetdicom_move_and_get_against_our_scp(pacs, store_scp, tmp_path):
    from pydicom.dataset import Dataset
    from pynetdicom import AE as PynAE
    from pynetdicom import build_role, evt

    pacs.ae.known_aes["DEST"] = ("127.0.0.1", store_scp.port)
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.StudyInstanceUID = U("B")
    ae = PynAE(ae_title="PYNSCU")
    ae.add_requested_context(STUDY_MOVE)
    ae.add_requested_context(STUDY_GET)
    ae.add_requested_context(qrdata.CT)
    got = []

    def on_store(event):
        got.append(event.dataset.SOPInstanceUID)
        return 0

    assoc = ae.associate("127.0.0.1", pacs.port, ext_neg=[build_role(qrdata.CT, scp_role=True)],
                         evt_handlers=[(evt.EVT_C_STORE, on_store)])
    assert assoc.is_established
    statuses = [s.Status for s, _ in assoc.send_c_move(ds, "DEST", STUDY_MOVE)]
    assert statuses[-1] == 0
    statuses = [s.Status for s, _ in assoc.send_c_get(ds, STUDY_GET)]
    assoc.release()
    assert statuses[-1] == 0 and got == [U("b1")]
    assert U("b1") in _received(store_scp.dir)


def test_our_move_and_get_against_pynetdicom_scp(files, store_scp, tmp_path):
    import pydicom
    from pynetdicom import AE as PynAE
    from pynetdicom import evt
    from pynetdicom.sop_class import CTImageStorage, MRImageStorage

    def matching(identifier):
        return [p for p in files if pydicom.dcmread(p).StudyInstanceUID ==
                identifier.StudyInstanceUID]

    def on_move(event):
        yield "127.0.0.1", store_scp.port
        paths = matching(event.identifier)
        yield len(paths)
        for p in paths:
            yield 0xFF00, pydicom.dcmread(p)

    def on_get(event):
        paths = matching(event.identifier)
        yield len(paths)
        for p in paths:
            yield 0xFF00, pydicom.dcmread(p)

    ae = PynAE(ae_title="PYNSCP")
    ae.add_supported_context(STUDY_MOVE)
    ae.add_supported_context(STUDY_GET)
    for cls in (CTImageStorage, MRImageStorage):
        ae.add_supported_context(cls, scu_role=True, scp_role=True)
        ae.add_requested_context(cls)
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False,
                             evt_handlers=[(evt.EVT_C_MOVE, on_move), (evt.EVT_C_GET, on_get)])
    try:
        with AE("FDSCU").associate("127.0.0.1", port, contexts=_move_contexts()) as assoc:
            r = assoc.move({"StudyInstanceUID": U("A")}, "DEST")
            assert r.status == 0 and r.completed == 3
        assert {U("a1"), U("a2"), U("a3")} <= _received(store_scp.dir)
        with _get_assoc(port) as assoc:
            r = assoc.get({"StudyInstanceUID": U("C")}, directory=str(tmp_path / "g"))
            assert r.status == 0 and r.completed == 3
        assert _received(tmp_path / "g") == {U("c1"), U("c2"), U("c3")}
    finally:
        server.shutdown()


def test_move_and_get_command_line(pacs, store_scp, tmp_path, capsys):
    pacs.ae.known_aes["DEST"] = ("127.0.0.1", store_scp.port)
    assert main(["move", "127.0.0.1", str(pacs.port), "-k", f"StudyInstanceUID={U('B')}",
                 "--dest", "DEST"]) == 0
    assert "1 completed, 0 failed" in capsys.readouterr().out
    assert main(["move", "127.0.0.1", str(pacs.port), "-k", f"StudyInstanceUID={U('B')}",
                 "--dest", "NOBODY"]) == 1
    out = tmp_path / "cli-get"
    assert main(["get", "127.0.0.1", str(pacs.port), "-k", f"StudyInstanceUID={U('C')}",
                 "--dir", str(out)]) == 0
    assert "3 completed" in capsys.readouterr().out
    assert _received(out) == {U("c1"), U("c2"), U("c3")}


def test_scp_command_line_with_ae_table(tmp_path, files, store_scp):
    port = free_port()
    table = tmp_path / "aes.txt"
    table.write_text(f"# destinations\nDEST 127.0.0.1 {store_scp.port}\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(qrdata.__file__)) +
               os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        ["python", "-m", "fastdicom", "scp", "--port", str(port), "--bind", "127.0.0.1",
         "--dir", str(tmp_path / "pacs"), "--ae-table", str(table), "-q"], env=env)
    try:
        wait_for_port(port)
        with AE("LOADER").associate("127.0.0.1", port,
                                    contexts=[qrdata.CT, qrdata.MR]) as assoc:
            assert all(r.ok for r in assoc.store_many(files))
        with AE("FDSCU").associate("127.0.0.1", port, contexts=_move_contexts()) as assoc:
            r = assoc.move({"StudyInstanceUID": U("C")}, "DEST")
            assert r.status == 0 and r.completed == 3
        assert os.path.exists(tmp_path / "pacs" / "index.sqlite")
    finally:
        proc.terminate()
        proc.wait(10)


def test_pacs_on_postgresql(tmp_path, files, postgres_url, store_scp):
    """The SCP with its index in PostgreSQL: stored over the network, then the
    same answers as with SQLite."""
    directory = str(tmp_path / "pgpacs")
    os.makedirs(directory)
    answers = {}
    for backend, url in (("sqlite", ""), ("postgresql", new_database(postgres_url))):
        archive = open_archive(url, os.path.join(directory, backend))
        ae = AE("FDQR")
        ae.known_aes["DEST"] = ("127.0.0.1", store_scp.port)
        handle = ae.serve("127.0.0.1", 0, block=False,
                          storage_dir=os.path.join(directory, backend), archive=archive,
                          handlers=archive_handlers(archive))
        try:
            with AE("LOADER").associate("127.0.0.1", handle.port,
                                        contexts=[qrdata.CT, qrdata.MR]) as assoc:
                assert all(r.status == 0 for r in assoc.store_many(files + files[:2]))
            contexts = query.contexts("find") + _move_contexts()
            with AE("FDSCU").associate("127.0.0.1", handle.port, contexts=contexts) as assoc:
                found = assoc.find({"PatientName": "*", "StudyDate": "20200101-",
                                    "StudyInstanceUID": "", "ModalitiesInStudy": "",
                                    "NumberOfStudyRelatedInstances": ""})
                moved = assoc.move({"StudyInstanceUID": U("D")}, "DEST")
            # in the order the instances were indexed: stores run concurrently
            matches = sorted((m.to_json_dict() for m in found.matches),
                             key=lambda m: m["0020000D"]["Value"][0])
            answers[backend] = (found.status, matches, moved.status, moved.completed)
            assert archive.count("IMAGE") == 10  # the two re-stored replaced their rows
        finally:
            handle.shutdown()
            archive.close()
    assert answers["sqlite"] == answers["postgresql"]
    assert answers["sqlite"][0] == 0 and len(answers["sqlite"][1]) == 3
    assert answers["sqlite"][2:] == (0, 3)


def test_get_peer_aborts_mid_get(pacs, tmp_path):
    """The C-GET SCU aborts after the first sub-operation: the SCP stops sending,
    its session ends, and it serves the next association."""
    from fastdicom.net.blocking import run

    async def abort_after_first_pending():
        classes = [qrdata.CT, qrdata.MR]
        assoc = await AE("FDSCU").connect(
            "127.0.0.1", pacs.port, contexts=query.contexts("get", storage_classes=classes),
            role_selection=query.get_role_selection(classes))
        assoc.on_store = lambda message: 0
        message = query._request(assoc, 0x0010, "STUDY", "get",
                                 {"StudyInstanceUID": [U(s) for s in "ABCD"]}, None, 0)
        async for response in assoc.request(message):
            if response.status == 0xFF00:
                assoc.abort()
                break

    run(abort_after_first_pending())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and pacs.server.sessions:
        time.sleep(0.05)
    assert not pacs.server.sessions
    with _get_assoc(pacs.port) as assoc:
        r = assoc.get({"StudyInstanceUID": U("B")}, directory=str(tmp_path / "after"))
        assert r.status == 0 and r.completed == 1


def test_index_command_line_then_serve(tmp_path, files):
    db = f"sqlite:///{tmp_path}/idx.sqlite"
    assert main(["index", "--db", db, os.path.dirname(files[0])]) == 0
    archive = open_archive(db)
    try:
        assert archive.count("IMAGE") == 10 and archive.count("PATIENT") == 3
        assert set(archive.paths()) == {os.path.abspath(p) for p in files}
    finally:
        archive.close()
    assert main(["index", "--db", db, "-o", "x.parquet", files[0]]) == 2


def test_get_streams_into_files(pacs, tmp_path):
    """C-GET into a directory streams each data set into its file as it arrives:
    an in-memory limit far below the instances' size does not apply, and no
    temporary file is left."""
    out = tmp_path / "streamed"
    with _get_assoc(pacs.port) as assoc:
        assoc.assoc._assembler.max_dataset_length = 64  # what assembling in memory would hit
        r = assoc.get({"StudyInstanceUID": U("A")}, directory=str(out))
        assert r.status == 0 and (r.completed, r.failed) == (3, 0)
        assert assoc.assoc.dataset_sink is None  # restored after the C-GET
    assert _received(out) == {U("a1"), U("a2"), U("a3")}
    assert sorted(os.listdir(out)) == sorted(f"{U(x)}.dcm" for x in ("a1", "a2", "a3"))
