"""C-FIND with the archive behind our SCP: our SCU, dcmtk findscu and
pynetdicom against it; our SCU against dcmtk dcmqrscp and a pynetdicom SCP;
C-CANCEL mid-stream; Specific Character Set; the command line."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess

import pytest
import qrdata
from netpeers import dcmtk, free_port, wait_for_port

from fastdicom.cli import main
from fastdicom.net import query
from fastdicom.net.ae import AE
from fastdicom.net.archive import open_archive
from fastdicom.net.services import archive_handlers

U = qrdata.uid
STUDY_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
PATIENT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return qrdata.small_archive(str(tmp_path_factory.mktemp("src")))


@pytest.fixture
def pacs(tmp_path, files):
    """Our SCP with an archive in tmp_path/pacs, filled over the network by our SCU."""
    directory = str(tmp_path / "pacs")
    os.makedirs(directory)
    archive = open_archive("", directory)
    ae = AE("FDQR")
    handle = ae.serve("127.0.0.1", 0, block=False, storage_dir=directory, archive=archive,
                      handlers=archive_handlers(archive))
    with AE("LOADER").associate("127.0.0.1", handle.port,
                                contexts=[qrdata.CT, qrdata.MR]) as assoc:
        assert all(r.status == 0 for r in assoc.store_many(files))
    handle.dir, handle.archive, handle.ae = directory, archive, ae
    yield handle
    handle.shutdown()
    archive.close()


def _contexts():
    return query.contexts("find", "STUDY") + query.contexts("find", "PATIENT") + \
        ["1.2.840.10008.1.1"]


def test_stored_instances_are_indexed_at_rename(pacs):
    assert pacs.archive.count("IMAGE") == 10 and pacs.archive.count("STUDY") == 4
    names = sorted(os.listdir(pacs.dir))
    assert names.count("index.sqlite") == 1
    assert len([n for n in names if n.endswith(".dcm")]) == 10
    assert not [n for n in names if n.startswith(".incoming")]
    paths = set(pacs.archive.paths())
    assert paths == {os.path.join(pacs.dir, f"{U(x)}.dcm") for x in
                     ("a1", "a2", "a3", "b1", "c1", "c2", "c3", "d1", "d2", "d3")}


def test_our_scu_every_level_both_models(pacs):
    with AE("FDSCU").associate("127.0.0.1", pacs.port, contexts=_contexts()) as assoc:
        r = assoc.find({"PatientName": "DOE*", "StudyInstanceUID": "", "StudyDate": "",
                        "ModalitiesInStudy": ""})
        assert r.status == 0 and set(r.statuses) == {0xFF00}
        assert {m.StudyInstanceUID for m in r.matches} == {U("A"), U("B")}
        assert {m.QueryRetrieveLevel for m in r.matches} == {"STUDY"}
        r = assoc.find({"StudyInstanceUID": U("A"), "SeriesInstanceUID": "", "Modality": ""},
                       level="SERIES")
        assert sorted(m.Modality for m in r.matches) == ["CT", "MR"]
        r = assoc.find({"StudyInstanceUID": U("D"), "SeriesInstanceUID": U("D2"),
                        "SOPInstanceUID": "", "InstanceNumber": ""}, level="IMAGE")
        assert {m.SOPInstanceUID for m in r.matches} == {U("d2"), U("d3")}
        r = assoc.find({"PatientID": "", "PatientName": "",
                        "NumberOfPatientRelatedStudies": ""}, level="PATIENT", model="PATIENT")
        assert {(m.PatientID, int(m.NumberOfPatientRelatedStudies)) for m in r.matches} == {
            ("P1", 2), ("P2", 1), ("P3", 1)}
        r = assoc.find({"PatientID": "P2", "StudyInstanceUID": ""}, level="STUDY",
                       model="PATIENT")
        assert [m.StudyInstanceUID for m in r.matches] == [U("C")]


def test_failures_and_warnings(pacs):
    with AE("FDSCU").associate("127.0.0.1", pacs.port, contexts=_contexts()) as assoc:
        r = assoc.find({"SeriesInstanceUID": ""}, level="SERIES")  # no study above
        assert r.status == 0xA900 and not r.matches
        r = assoc.find({"PatientID": ""}, level="PATIENT")  # no patient level in Study Root
        assert r.status == 0xA900
        r = assoc.find({"StudyInstanceUID": U("B"), "PatientComments": ""})
        assert r.status == 0 and r.statuses == [0xFF01]  # an optional key not supported
        assert r.matches[0].PatientComments == ""
        assert assoc.is_established


def test_specific_character_set_in_responses(pacs):
    with AE("FDSCU").associate("127.0.0.1", pacs.port, contexts=_contexts()) as assoc:
        r = assoc.find({"PatientName": "M*ller*", "StudyInstanceUID": ""})
        (m,) = r.matches
        assert m.SpecificCharacterSet == "ISO_IR 192" and str(m.PatientName) == "Müller^Hans"
        raw = m.tokens  # the name travelled as UTF-8
        assert raw is not None
        r = assoc.find({"PatientName": "DOE^JOHN", "StudyInstanceUID": U("B")})
        assert "SpecificCharacterSet" not in r.matches[0]


def test_cancel_mid_stream(tmp_path):
    """C-CANCEL after the first match of a long stream: the final status is
    Cancel and the association goes on."""
    started = []

    async def endless(event):
        started.append(event)
        for i in range(100000):
            ds = query.make_identifier({"StudyInstanceUID": f"1.2.{i + 1}"})
            yield ds
            await asyncio.sleep(0.001)

    handle = AE("FDQR").serve("127.0.0.1", 0, block=False, handlers={"find": endless})
    try:
        with AE("FDSCU").associate("127.0.0.1", handle.port, contexts=_contexts()) as assoc:
            r = assoc.find({"StudyInstanceUID": ""}, cancel_after=1)
            assert r.status == 0xFE00
            assert 1 <= len(r.matches) < 1000
            assert assoc.echo() == 0  # the association is still usable
            r = assoc.find({"StudyInstanceUID": ""}, cancel_after=3)
            assert r.status == 0xFE00 and len(r.matches) >= 3
    finally:
        handle.shutdown()


def test_findscu_against_our_scp(pacs):
    out = subprocess.run(
        [dcmtk("findscu"), "-v", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k",
         "PatientName=DOE*", "-k", "StudyDate=20200101-20201231", "-k", "StudyInstanceUID",
         "-k", "ModalitiesInStudy", "127.0.0.1", str(pacs.port)],
        capture_output=True, text=True, timeout=60, errors="replace")
    assert out.returncode == 0, out.stderr
    log = out.stderr + out.stdout
    assert log.count("Find Response:") == 2 and "(Success)" in log
    assert U("A") in log and U("B") in log and "CT\\MR" in log
    out = subprocess.run(
        [dcmtk("findscu"), "-v", "-P", "-k", "QueryRetrieveLevel=PATIENT", "-k",
         "PatientName=*ller*", "-k", "PatientID", "127.0.0.1", str(pacs.port)],
        capture_output=True, timeout=60)
    log = (out.stderr + out.stdout).decode("utf-8", "replace")
    assert "ISO_IR 192" in log and "Müller^Hans" in log and "P3" in log


def test_findscu_cancel_against_our_scp(tmp_path):
    async def slow(event):
        for i in range(200):
            yield query.make_identifier({"StudyInstanceUID": f"1.2.{i + 1}"})
            await asyncio.sleep(0.005)

    handle = AE("FDQR").serve("127.0.0.1", 0, block=False, handlers={"find": slow})
    try:
        out = subprocess.run(
            [dcmtk("findscu"), "-v", "-S", "--cancel", "2", "-k", "QueryRetrieveLevel=STUDY",
             "-k", "StudyInstanceUID", "127.0.0.1", str(handle.port)],
            capture_output=True, text=True, timeout=60, errors="replace")
        log = out.stderr + out.stdout
        assert "Sending Cancel Request" in log
        assert "Received Final Find Response (Cancel" in log or "Matching Terminated" in log \
            or "FE00" in log.upper(), log[-1500:]
        assert log.count("Find Response:") < 50
    finally:
        handle.shutdown()


def _dcmqrscp(tmp_path, files):
    port = free_port()
    db = tmp_path / "qrdb"
    db.mkdir()
    cfg = tmp_path / "dcmqrscp.cfg"
    cfg.write_text(f"NetworkTCPPort = {port}\nMaxPDUSize = 16384\nMaxAssociations = 16\n"
                   "HostTable BEGIN\nHostTable END\nVendorTable BEGIN\nVendorTable END\n"
                   f"AETable BEGIN\nCOMMON {db} RW (200, 1024mb) ANY\nAETable END\n")
    proc = subprocess.Popen([dcmtk("dcmqrscp"), "-c", str(cfg), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    out = subprocess.run([dcmtk("storescu"), "-aec", "COMMON", "127.0.0.1", str(port),
                          *files], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return proc, port


def test_our_scu_against_dcmqrscp(tmp_path, files):
    proc, port = _dcmqrscp(tmp_path, files)
    try:
        with AE("FDSCU").associate("127.0.0.1", port, ae_title="COMMON",
                                   contexts=_contexts()) as assoc:
            r = assoc.find({"PatientName": "DOE*", "StudyInstanceUID": "", "StudyDate": ""})
            assert r.status == 0
            assert {m.StudyInstanceUID for m in r.matches} == {U("A"), U("B")}
            r = assoc.find({"StudyInstanceUID": U("A"), "SeriesInstanceUID": "",
                            "Modality": ""}, level="SERIES")
            assert sorted(m.Modality for m in r.matches) == ["CT", "MR"]
            r = assoc.find({"PatientID": "P2", "StudyInstanceUID": ""}, model="PATIENT")
            assert [m.StudyInstanceUID for m in r.matches] == [U("C")]
    finally:
        proc.terminate()
        proc.wait(10)


def test_pynetdicom_scu_against_our_scp(pacs):
    from pydicom.dataset import Dataset
    from pynetdicom import AE as PynAE

    ae = PynAE(ae_title="PYNSCU")
    ae.add_requested_context(STUDY_FIND)
    assoc = ae.associate("127.0.0.1", pacs.port)
    assert assoc.is_established
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.PatientName = "doe*"
    ds.StudyInstanceUID = ""
    got = []
    for status, identifier in assoc.send_c_find(ds, STUDY_FIND):
        got.append((status.Status, identifier))
    assoc.release()
    assert got[-1][0] == 0
    assert [i.StudyInstanceUID for s, i in got[:-1]] == [U("C")]


def test_our_scu_against_pynetdicom_scp(files):
    import pydicom
    from pynetdicom import AE as PynAE
    from pynetdicom import evt

    instances = [pydicom.dcmread(p, stop_before_pixels=True) for p in files]

    def handle_find(event):
        wanted = event.identifier.get("PatientID", "")
        for ds in instances:
            if ds.SOPInstanceUID == U("a1") and wanted in ("", ds.PatientID):
                out = pydicom.Dataset()
                out.QueryRetrieveLevel = "STUDY"
                out.StudyInstanceUID = ds.StudyInstanceUID
                out.PatientName = ds.PatientName
                yield 0xFF00, out

    ae = PynAE(ae_title="PYNSCP")
    ae.add_supported_context(STUDY_FIND)
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False,
                             evt_handlers=[(evt.EVT_C_FIND, handle_find)])
    try:
        with AE("FDSCU").associate("127.0.0.1", port, contexts=[STUDY_FIND]) as assoc:
            r = assoc.find({"PatientID": "P1", "StudyInstanceUID": "", "PatientName": ""})
            assert r.status == 0
            assert [(m.StudyInstanceUID, str(m.PatientName)) for m in r.matches] == [
                (U("A"), "DOE^JOHN")]
    finally:
        server.shutdown()


def test_find_command_line(pacs, capsys):
    status = main(["find", "127.0.0.1", str(pacs.port), "-k", "PatientName=DOE*", "-k",
                   "StudyDate=20200101-20201231", "--level", "STUDY", "-k",
                   "StudyInstanceUID", "-k", "0008,0061"])
    out = capsys.readouterr()
    assert status == 0
    lines = out.out.strip().splitlines()
    assert lines[0].split() == ["PatientName", "StudyDate", "StudyInstanceUID",
                                "ModalitiesInStudy"]
    assert len(lines) == 3 and "CT\\MR" in out.out
    assert "2 matches" in out.err
    status = main(["find", "127.0.0.1", str(pacs.port), "-k", "PatientID=P3", "-k",
                   "PatientName", "--level", "PATIENT", "--model", "patient", "--json"])
    out = capsys.readouterr()
    assert status == 0
    (match,) = json.loads(out.out)
    assert match["00100010"]["Value"] == [{"Alphabetic": "Müller^Hans"}]
    assert main(["find", "127.0.0.1", str(pacs.port), "-k", "NoSuchKey=1"]) == 2


def test_extended_negotiation_relational_and_fuzzy(pacs):
    from fastdicom.net.services import extended_negotiation, negotiated_options

    items = extended_negotiation(["relational", "fuzzy", "timezone"], ["find"])
    with AE("FDSCU").associate("127.0.0.1", pacs.port, contexts=_contexts(),
                               user_items=items) as assoc:
        assert negotiated_options(assoc.accept, STUDY_FIND) == {"relational", "fuzzy"}
        r = assoc.find({"PatientName": "doe*", "Modality": "MR", "SeriesInstanceUID": ""},
                       level="SERIES")
        assert r.status == 0
        assert {m.SeriesInstanceUID for m in r.matches} == {U("A2"), U("C2")}
    with AE("FDSCU").associate("127.0.0.1", pacs.port, contexts=_contexts()) as assoc:
        assert negotiated_options(assoc.accept, STUDY_FIND) == set()
        r = assoc.find({"Modality": "MR", "SeriesInstanceUID": ""}, level="SERIES")
        assert r.status == 0xA900


def test_modality_worklist_scu_against_wlmscpfs(tmp_path, capsys):
    """Our Modality Worklist C-FIND (sequence keys) against dcmtk's worklist SCP."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    root = tmp_path / "wl"
    (root / "WLM").mkdir(parents=True)
    (root / "WLM" / "lockfile").touch()
    for i, (name, modality) in enumerate([("DOE^JOHN", "CT"), ("ROE^JANE", "MR")]):
        ds = Dataset()
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.PatientName, ds.PatientID, ds.AccessionNumber = name, f"W{i}", f"ACC{i}"
        ds.StudyInstanceUID = U(f"wl{i}")
        ds.RequestedProcedureID = f"RP{i}"
        ds.RequestedProcedureDescription = "EXAM"  # wlmscpfs wants the type 1 keys
        step = Dataset()
        step.Modality = modality
        step.ScheduledStationAETitle = "SCANNER"
        step.ScheduledProcedureStepStartDate = f"2024010{i + 1}"
        step.ScheduledProcedureStepStartTime = "0900"
        step.ScheduledProcedureStepID = f"SPS{i}"
        step.ScheduledProcedureStepDescription = "STEP"
        step.ScheduledPerformingPhysicianName = ""
        ds.ScheduledProcedureStepSequence = [step]
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.31"
        ds.file_meta.MediaStorageSOPInstanceUID = U(f"wlf{i}")
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.save_as(root / "WLM" / f"{i}.wl", enforce_file_format=True)
    port = free_port()
    proc = subprocess.Popen([dcmtk("wlmscpfs"), "-dfp", str(root), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        with AE("FDSCU").associate("127.0.0.1", port, ae_title="WLM",
                                   contexts=query.contexts("find", "WORKLIST")) as assoc:
            r = assoc.find({"PatientName": "", "AccessionNumber": "",
                            "ScheduledProcedureStepSequence": {
                                "Modality": "MR", "ScheduledProcedureStepStartDate": ""}},
                           model="WORKLIST")
            assert r.status == 0
            (m,) = r.matches
            assert str(m.PatientName) == "ROE^JANE" and m.AccessionNumber == "ACC1"
            step = m.ScheduledProcedureStepSequence[0]
            assert step.Modality == "MR" and step.ScheduledProcedureStepStartDate == "20240102"
        status = main(["find", "127.0.0.1", str(port), "--aec", "WLM", "-m", "worklist",
                       "-k", "PatientName", "-k",
                       "ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate="
                       "20240101-20240101"])
        out = capsys.readouterr()
        assert status == 0 and "DOE^JOHN" in out.out and "ROE^JANE" not in out.out, out
    finally:
        proc.terminate()
        proc.wait(10)


def test_find_handler_may_yield_pydicom_datasets_and_fail():
    from pydicom.dataset import Dataset as PyDataset

    from fastdicom.net.matching import QueryError

    def handler(event):
        if event.dataset.get("PatientID") == "BAD":
            raise QueryError(0xA900, "bad identifier")
        ds = PyDataset()
        ds.PatientID = "P9"
        ds.QueryRetrieveLevel = "PATIENT"
        return [ds]

    handle = AE("FDQR").serve("127.0.0.1", 0, block=False, handlers={"find": handler})
    try:
        with AE("FDSCU").associate("127.0.0.1", handle.port, contexts=_contexts()) as assoc:
            r = assoc.find({"PatientID": ""}, level="PATIENT", model="PATIENT")
            assert r.status == 0 and [m.PatientID for m in r.matches] == ["P9"]
            r = assoc.find({"PatientID": "BAD"}, level="PATIENT", model="PATIENT")
            assert r.status == 0xA900 and not r.matches
    finally:
        handle.shutdown()


def test_query_in_another_character_set(pacs):
    """A Latin-1 identifier matches the UTF-8 names stored; the response comes
    in the stored instance's character set."""
    with AE("FDSCU").associate("127.0.0.1", pacs.port, contexts=_contexts()) as assoc:
        message = query._request(assoc.client, 0x0020, "STUDY", "find",
                                 {"SpecificCharacterSet": "ISO_IR 100",
                                  "PatientName": "Müller*", "StudyInstanceUID": ""},
                                 None, 0)
        assert "Müller".encode("latin-1") in bytes(message.data)
        responses = assoc.send(message)
        assert [int(r.status) for r in responses] == [0xFF00, 0]
        ctx = assoc.accepted_contexts[message.context_id]
        from fastdicom.net.services import decode_identifier

        ds = decode_identifier(responses[0].data, ctx.transfer_syntax)
        assert ds.SpecificCharacterSet == "ISO_IR 192"
        assert "Müller".encode("utf-8") in bytes(responses[0].data)


def test_sequence_key_over_the_network(pacs):
    with AE("FDSCU").associate("127.0.0.1", pacs.port, contexts=_contexts()) as assoc:
        r = assoc.find({"StudyInstanceUID": U("C"), "SeriesInstanceUID": "",
                        "RequestAttributesSequence": {"RequestedProcedureID": "RP1",
                                                      "ScheduledProcedureStepID": ""}},
                       level="SERIES")
        assert r.status == 0 and set(r.statuses) == {0xFF00}
        (m,) = r.matches
        assert m.SeriesInstanceUID == U("C1")
        (item,) = m.RequestAttributesSequence
        assert (item.RequestedProcedureID, item.ScheduledProcedureStepID) == ("RP1", "S1")


def test_concurrent_stores_are_all_indexed(tmp_path, files):
    """Four associations store at once (the same instances twice over): every
    instance indexed once, each row pointing at its file."""
    from fastdicom.net.blocking import run

    directory = str(tmp_path / "pacs")
    os.makedirs(directory)
    archive = open_archive("", directory)
    handle = AE("FDQR").serve("127.0.0.1", 0, block=False, storage_dir=directory,
                              archive=archive, handlers=archive_handlers(archive))

    async def store(chunk):
        assoc = await AE("LOADER").connect("127.0.0.1", handle.port,
                                           contexts=[qrdata.CT, qrdata.MR])
        try:
            return [r.status for r in await assoc.store_many(chunk)]
        finally:
            await assoc.release()

    async def main():
        return await asyncio.gather(*(store(files[i::2]) for i in (0, 1, 0, 1)))

    try:
        statuses = run(main())
        assert all(s == 0 for chunk in statuses for s in chunk)
        assert archive.count("IMAGE") == 10 and archive.count("STUDY") == 4
        for path in archive.paths():
            assert os.path.exists(path)
    finally:
        handle.shutdown()
        archive.close()
