"""Attribute matching of PS3.4 C.2.2.2 against the archive's index, as a
table of cases (each one a rule of the standard), plus the index's
behaviour: unique keys of the levels above (A900), re-storing replaces."""
from __future__ import annotations

import pytest
import qrdata
from pgserver import new_database, postgres_url  # noqa: F401  (a fixture)
from pydicom.dataset import Dataset as PyDataset

from fastdicom import from_pydicom
from fastdicom.net.archive import open_archive
from fastdicom.net.matching import QueryError, condition, BY_KEYWORD, range_key


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def archive(request, tmp_path_factory):
    """The same files indexed in SQLite and in PostgreSQL: every test below
    runs on both and expects the same answers."""
    d = tmp_path_factory.mktemp("arch")
    files = qrdata.small_archive(str(d / "files"))
    if request.param == "sqlite":
        url = f"sqlite:///{d}/index.sqlite"
    else:
        url = new_database(request.getfixturevalue("postgres_url"))
    a = open_archive(url)
    assert a.index_paths(files) == len(files)
    yield a
    a.close()


def query(archive, level, model="STUDY", fuzzy=False, **keys):
    ds = PyDataset()
    ds.QueryRetrieveLevel = level
    for k, v in keys.items():
        setattr(ds, k, v)
    rows, unsupported = archive.find(from_pydicom(ds), model, fuzzy_pn=fuzzy)
    return rows, unsupported


U = qrdata.uid
#: (rule, level, keys, the key whose values identify the matches, expected values)
CASES = [
    ("single value", "STUDY", {"AccessionNumber": "ACC2"}, "StudyID", {"B"}),
    ("single value is case-sensitive", "STUDY", {"StudyDescription": "CHEST"}, "StudyID",
     {"A"}),
    ("universal: empty key matches all", "STUDY", {"AccessionNumber": ""}, "StudyID",
     {"A", "B", "C", "D"}),
    ("'*' alone is universal, empty values too", "STUDY", {"StudyDescription": "*"},
     "StudyID", {"A", "B", "C", "D"}),
    ("wildcard * matches any run", "STUDY", {"PatientName": "DOE*"}, "StudyID", {"A", "B"}),
    ("wildcard ? matches one character", "STUDY", {"AccessionNumber": "ACC?"}, "StudyID",
     {"A", "B", "C"}),
    ("wildcards do not take % and _ as patterns", "STUDY", {"AccessionNumber": "A_%*"},
     "StudyID", {"D"}),
    ("wildcards on a value with a non-ASCII character", "STUDY", {"PatientName": "M?ller*"},
     "StudyID", {"D"}),
    ("empty values do not match a non-universal key", "STUDY", {"StudyDescription": "*E*"},
     "StudyID", {"A", "B"}),
    ("UID list", "STUDY", {"StudyInstanceUID": [U("A"), U("C"), "1.2.3"]}, "StudyID",
     {"A", "C"}),
    ("single UID", "STUDY", {"StudyInstanceUID": U("B")}, "StudyID", {"B"}),
    ("date range a-b, inclusive", "STUDY", {"StudyDate": "20200115-20201231"}, "StudyID",
     {"A", "B"}),
    ("date range -b", "STUDY", {"StudyDate": "-20200115"}, "StudyID", {"A", "D"}),
    ("date range a-", "STUDY", {"StudyDate": "20201231-"}, "StudyID", {"B", "C"}),
    ("single date", "STUDY", {"StudyDate": "20190301"}, "StudyID", {"D"}),
    ("time range a-b at minute precision", "STUDY", {"StudyTime": "1000-1015"}, "StudyID",
     {"A"}),
    ("time range upper bound covers its precision", "STUDY", {"StudyTime": "2359-"},
     "StudyID", {"B"}),
    ("time range -b with hour values stored", "STUDY", {"StudyTime": "-0830"}, "StudyID",
     {"C"}),
    ("single time value matches its precision", "STUDY", {"StudyTime": "10"}, "StudyID",
     {"A"}),
    ("date-time range", "IMAGE",
     {"StudyInstanceUID": U("C"), "SeriesInstanceUID": U("C1"),
      "AcquisitionDateTime": "2021060108-202106010830"}, "SOPInstanceUID", {U("c1")}),
    ("date-time range excludes", "IMAGE",
     {"StudyInstanceUID": U("C"), "SeriesInstanceUID": U("C1"),
      "AcquisitionDateTime": "-20210601082959"}, "SOPInstanceUID", set()),
    ("multi-valued attribute: any of its values", "STUDY", {"ModalitiesInStudy": "MR"},
     "StudyID", {"A", "C", "D"}),
    ("multi-valued key: any value matches", "STUDY", {"ModalitiesInStudy": ["XA", "CT"]},
     "StudyID", {"A", "B", "C", "D"}),
    ("several keys: all must match", "STUDY",
     {"PatientName": "DOE*", "StudyDate": "20201201-"}, "StudyID", {"B"}),
    ("series level below a study", "SERIES", {"StudyInstanceUID": U("A"), "Modality": ""},
     "SeriesInstanceUID", {U("A1"), U("A2")}),
    ("image level below a series", "IMAGE",
     {"StudyInstanceUID": U("D"), "SeriesInstanceUID": U("D2"), "InstanceNumber": "2"},
     "SOPInstanceUID", {U("d3")}),
]


@pytest.mark.parametrize("rule,level,keys,ident,expected", CASES, ids=[c[0] for c in CASES])
def test_matching_rule(archive, rule, level, keys, ident, expected):
    rows, _ = query(archive, level, **keys, **{ident: ""})
    assert {r[ident] for r in rows} == expected


def test_pn_case_insensitive_option(archive):
    rows, _ = query(archive, "STUDY", PatientName="doe*", StudyID="")
    assert {r["StudyID"] for r in rows} == {"C"}
    rows, _ = query(archive, "STUDY", fuzzy=True, PatientName="doe*", StudyID="")
    assert {r["StudyID"] for r in rows} == {"A", "B", "C"}
    rows, _ = query(archive, "STUDY", fuzzy=True, PatientName="MÜLLER^HANS", StudyID="")
    assert {r["StudyID"] for r in rows} == {"D"}
    rows, _ = query(archive, "STUDY", fuzzy=True, PatientName="*ÜLL*", StudyID="")
    assert {r["StudyID"] for r in rows} == {"D"}


def test_values_returned(archive):
    rows, unsupported = query(archive, "STUDY", StudyInstanceUID=U("A"), PatientName="",
                              PatientID="", StudyDate="", ModalitiesInStudy="",
                              NumberOfStudyRelatedSeries="", NumberOfStudyRelatedInstances="",
                              PatientComments="")
    assert unsupported == ["PatientComments"]
    (row,) = rows
    assert row["PatientName"] == "DOE^JOHN" and row["PatientID"] == "P1"
    assert row["StudyDate"] == "20200115"
    assert row["ModalitiesInStudy"] == ["CT", "MR"]
    assert row["NumberOfStudyRelatedSeries"] == "2"
    assert row["NumberOfStudyRelatedInstances"] == "3"
    rows, _ = query(archive, "STUDY", StudyInstanceUID=U("D"), PatientName="")
    assert rows[0]["PatientName"] == "Müller^Hans" and rows[0]["_charset"] == "ISO_IR 192"


def test_patient_root(archive):
    rows, _ = query(archive, "PATIENT", "PATIENT", PatientID="", PatientName="",
                    NumberOfPatientRelatedStudies="")
    assert {(r["PatientID"], r["NumberOfPatientRelatedStudies"]) for r in rows} == {
        ("P1", "2"), ("P2", "1"), ("P3", "1")}
    rows, _ = query(archive, "STUDY", "PATIENT", PatientID="P1", StudyID="")
    assert {r["StudyID"] for r in rows} == {"A", "B"}


@pytest.mark.parametrize("level,model,keys", [
    ("SERIES", "STUDY", {}),  # no Study Instance UID above the series level
    ("SERIES", "STUDY", {"StudyInstanceUID": [U("A"), U("B")]}),  # a list above
    ("IMAGE", "STUDY", {"StudyInstanceUID": U("A")}),  # no Series Instance UID
    ("STUDY", "PATIENT", {"PatientID": "P*"}),  # a wildcard above
    ("PATIENT", "STUDY", {}),  # no patient level in Study Root
    ("FRAME", "STUDY", {}),
])
def test_hierarchical_unique_keys_required(archive, level, model, keys):
    with pytest.raises(QueryError) as info:
        query(archive, level, model, **keys)
    assert info.value.status == 0xA900


def test_bad_range_is_a900():
    with pytest.raises(QueryError):
        condition(BY_KEYWORD["StudyDate"], "2020-2021x")


def test_range_keys():
    assert range_key("TM", "10", upper=True) == "105959.999999"
    assert range_key("TM", "1015") == "101500.000000"
    assert range_key("TM", "10:15:30.5") == "101530.500000"
    assert range_key("DT", "2021", upper=True) == "20211231235959.999999"
    assert range_key("DT", "20210601083000.1+0100") == "20210601083000.100000"
    assert range_key("DA", "2021.06.01") == "20210601"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "i.sqlite")
    return new_database(request.getfixturevalue("postgres_url"))


def test_retrieve_and_restore(tmp_path, empty_url):
    files = qrdata.small_archive(str(tmp_path / "f"))
    a = open_archive(empty_url)
    a.index_paths(files)
    ds = PyDataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.StudyInstanceUID = [U("A"), U("C")]
    got = a.retrieve(from_pydicom(ds), "STUDY")
    assert {r[2] for r in got} == {U(x) for x in ("a1", "a2", "a3", "c1", "c2", "c3")}
    ds.QueryRetrieveLevel = "SERIES"
    ds.StudyInstanceUID = U("A")
    with pytest.raises(QueryError):  # the series level's unique key is required
        a.retrieve(from_pydicom(ds), "STUDY")
    # re-store b1 into study A: one row, and study B (now empty) is gone
    path = qrdata.instance(str(tmp_path / "g"), "b1", study="A", series="A1")
    a.index_file(path)
    assert a.count("IMAGE") == 10 and a.count("STUDY") == 3
    rows, _ = query(a, "IMAGE", StudyInstanceUID=U("A"), SeriesInstanceUID=U("A1"),
                    SOPInstanceUID="")
    assert U("b1") in {r["SOPInstanceUID"] for r in rows}
    a.close()


def test_relational_queries(archive):
    with pytest.raises(QueryError):
        query(archive, "SERIES", Modality="MR", SeriesInstanceUID="")
    ds = PyDataset()
    ds.QueryRetrieveLevel = "SERIES"
    ds.PatientName = "doe*"
    ds.Modality = "MR"
    ds.SeriesInstanceUID = ""
    rows, _ = archive.find(from_pydicom(ds), "STUDY", relational=True)
    assert [r["SeriesInstanceUID"] for r in rows] == [U("C2")]
    ds = PyDataset()
    ds.QueryRetrieveLevel = "IMAGE"
    ds.SOPInstanceUID = U("d3")
    assert [r[2] for r in archive.retrieve(from_pydicom(ds), "STUDY", relational=True)] == \
        [U("d3")]


@pytest.mark.parametrize("date,time,expected", [
    # 15 Jan 10:15 (A), 31 Dec 23:59:59.5 (B), 1 Jun 2021 08h (C)
    ("20200115-20201231", "1100-2359", {"B"}),  # A is before 11:00 on the first day
    ("20200115-20201231", "1000-1200", {"A"}),  # B is after 12:00 on the last day
    ("20200115-20210601", "1000-0800", {"A", "B", "C"}),  # every instant between
    ("-20210601", "-0759", {"A", "B", "D"}),  # D has no time: its day counts from 00:00
])
def test_combined_date_time_matching(archive, date, time, expected):
    ds = PyDataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.StudyDate = date
    ds.StudyTime = time
    ds.StudyID = ""
    rows, _ = archive.find(from_pydicom(ds), "STUDY", combined_datetime=True)
    assert {r["StudyID"] for r in rows} == expected


def test_index_rolled_back_when_the_rename_fails(tmp_path, empty_url):
    path = qrdata.instance(str(tmp_path), "x1")
    a = open_archive(empty_url)

    def rename():
        raise OSError("disk full")

    with pytest.raises(OSError):
        a.commit_file(path, str(tmp_path / "final.dcm"), rename)
    assert a.count("IMAGE") == 0 and a.count("PATIENT") == 0
    done = []
    a.commit_file(path, str(tmp_path / "final.dcm"), lambda: done.append(1))
    assert done and a.count("IMAGE") == 1
    assert list(a.paths()) == [str(tmp_path / "final.dcm")]
    a.close()


def test_sequence_matching(archive):
    """PS3.4 C.2.2.2.6: a sequence key's item matches when its keys match; the
    matching items are returned (universal item keys: every item)."""
    ds = PyDataset()
    ds.QueryRetrieveLevel = "SERIES"
    ds.SeriesInstanceUID = ""
    item = PyDataset()
    item.RequestedProcedureID = "RP2"
    item.ScheduledProcedureStepID = ""
    ds.RequestAttributesSequence = [item]
    rows, unsupported = archive.find(from_pydicom(ds), "STUDY", relational=True)
    assert not unsupported
    got = {r["SeriesInstanceUID"]: r["RequestAttributesSequence"] for r in rows}
    assert set(got) == {U("A1"), U("C1")}
    assert [i["ScheduledProcedureStepID"] for i in got[U("C1")]] == ["S2"]
    assert [i["ScheduledProcedureStepID"] for i in got[U("A1")]] == ["S9"]
    item.RequestedProcedureID = ""
    item.ScheduledProcedureStepID = "S?"
    ds.StudyInstanceUID = U("C")
    rows, _ = archive.find(from_pydicom(ds), "STUDY")
    (row,) = [r for r in rows if r["RequestAttributesSequence"]]
    assert sorted(i["RequestedProcedureID"] for i in row["RequestAttributesSequence"]) == \
        ["RP1", "RP2"]
    item.ScheduledProcedureStepID = "nothing"
    rows, _ = archive.find(from_pydicom(ds), "STUDY")
    assert rows == []


def _study_query(**sequences):
    ds = PyDataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.StudyInstanceUID = ""
    for keyword, fields in sequences.items():
        item = PyDataset()
        for k, v in fields.items():
            setattr(item, k, v)
        setattr(ds, keyword, [item])
    return from_pydicom(ds)


def test_study_level_sequence_matching(archive):
    """Procedure Code Sequence and Referenced Study Sequence at STUDY level:
    single value, wildcard and universal item keys; only matching items return."""
    rows, unsupported = archive.find(_study_query(ProcedureCodeSequence={
        "CodeValue": "CTCHEST", "CodeMeaning": ""}), "STUDY")
    assert not unsupported
    got = {r["StudyInstanceUID"]: r["ProcedureCodeSequence"] for r in rows}
    assert set(got) == {U("A"), U("C")}
    assert [i["CodeMeaning"] for i in got[U("A")]] == ["CT chest"]
    rows, _ = archive.find(_study_query(ProcedureCodeSequence={"CodeMeaning": "CT a*"}),
                           "STUDY")
    assert [(r["StudyInstanceUID"], [i["CodeValue"] for i in r["ProcedureCodeSequence"]])
            for r in rows] == [(U("A"), ["CTABD"])]
    rows, _ = archive.find(_study_query(ProcedureCodeSequence={"CodeValue": ""}), "STUDY")
    got = {r["StudyInstanceUID"]: len(r["ProcedureCodeSequence"]) for r in rows}
    assert got[U("A")] == 2 and got[U("C")] == 1 and got[U("B")] == 0  # universal: all
    rows, _ = archive.find(_study_query(ReferencedStudySequence={
        "ReferencedSOPInstanceUID": "1.2.3.999", "ReferencedSOPClassUID": ""}), "STUDY")
    assert [r["StudyInstanceUID"] for r in rows] == [U("A")]
    assert rows[0]["ReferencedStudySequence"][0]["ReferencedSOPClassUID"] == \
        "1.2.840.10008.3.1.2.3.1"
    rows, _ = archive.find(_study_query(ProcedureCodeSequence={"CodeValue": "MRHEAD"}),
                           "STUDY")
    assert rows == []


def test_schema_version_is_checked(tmp_path):
    import sqlite3

    path = str(tmp_path / "i.sqlite")
    open_archive(path).close()
    open_archive(path).close()  # the same version: fine
    con = sqlite3.connect(path)
    con.execute("UPDATE fastdicom_index SET version = 999")
    con.commit()
    con.close()
    with pytest.raises(ValueError, match="schema version 999"):
        open_archive(path)
