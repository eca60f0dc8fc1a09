"""Small synthetic instances for the Query/Retrieve tests (written with
pydicom, so that what we read is not what we wrote ourselves)."""
from __future__ import annotations

import hashlib
import os

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"


def uid(label: str) -> str:
    digest = hashlib.sha256(f"fastdicom-qr/{label}".encode()).digest()
    return "2.25." + str(int.from_bytes(digest[:15], "big"))


def instance(directory: str, label: str, *, study: str = "s1", series: str = "se1",
             patient_id: str = "P1", patient_name: str = "DOE^JOHN", modality: str = "CT",
             size: int = 8, **attrs: object) -> str:
    """Write one small instance; ``attrs`` are extra keywords (StudyDate ...).
    Returns its path (``directory/<label>.dcm``)."""
    ds = Dataset()
    ds.SOPClassUID = CT if modality == "CT" else MR
    ds.SOPInstanceUID = uid(label)
    ds.PatientID = patient_id
    ds.PatientName = patient_name
    ds.StudyInstanceUID = uid(study)
    ds.SeriesInstanceUID = uid(series)
    ds.Modality = modality
    ds.StudyID = study
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    for key, value in attrs.items():
        if key.endswith("Sequence"):  # a list of dicts: the items
            items = []
            for fields in value:
                item = Dataset()
                for k, v in fields.items():
                    setattr(item, k, v)
                items.append(item)
            value = items
        setattr(ds, key, value)
    ds.Rows = ds.Columns = size
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = (np.arange(size * size, dtype="<u2") % 4096).tobytes()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{label}.dcm")
    ds.save_as(path, enforce_file_format=True)
    return path


def small_archive(directory: str) -> list[str]:
    """Three patients, four studies, six series, ten instances."""
    out = []
    add = out.append
    add(instance(directory, "a1", study="A", series="A1", PatientBirthDate="19700101",
                 StudyDate="20200115", StudyTime="101500", AccessionNumber="ACC1",
                 StudyDescription="CHEST", PatientSex="M",
                 RequestAttributesSequence=[{"RequestedProcedureID": "RP2",
                                             "ScheduledProcedureStepID": "S9"}],
                 ProcedureCodeSequence=[
                     {"CodeValue": "CTABD", "CodingSchemeDesignator": "LOCAL",
                      "CodeMeaning": "CT abdomen"},
                     {"CodeValue": "CTCHEST", "CodingSchemeDesignator": "LOCAL",
                      "CodeMeaning": "CT chest"}],
                 ReferencedStudySequence=[{"ReferencedSOPClassUID": "1.2.840.10008.3.1.2.3.1",
                                           "ReferencedSOPInstanceUID": "1.2.3.999"}]))
    add(instance(directory, "a2", study="A", series="A1", StudyDate="20200115",
                 StudyTime="101500", AccessionNumber="ACC1", InstanceNumber=2))
    add(instance(directory, "a3", study="A", series="A2", modality="MR", StudyDate="20200115",
                 StudyTime="101500", AccessionNumber="ACC1", SeriesNumber=2))
    add(instance(directory, "b1", study="B", series="B1", StudyDate="20201231",
                 StudyTime="235959.5", AccessionNumber="ACC2", StudyDescription="HEAD"))
    add(instance(directory, "c1", study="C", series="C1", patient_id="P2",
                 patient_name="doe^jane", StudyDate="20210601", StudyTime="08",
                 AccessionNumber="ACC3", PatientSex="F", StudyDescription="chest",
                 AcquisitionDateTime="20210601083000.123456",
                 ProcedureCodeSequence=[{"CodeValue": "CTCHEST", "CodingSchemeDesignator": "LOCAL",
                                         "CodeMeaning": "CT chest"}],
                 RequestAttributesSequence=[
                     {"RequestedProcedureID": "RP1", "ScheduledProcedureStepID": "S1"},
                     {"RequestedProcedureID": "RP2", "ScheduledProcedureStepID": "S2"}]))
    add(instance(directory, "c2", study="C", series="C1", patient_id="P2",
                 patient_name="doe^jane", StudyDate="20210601", InstanceNumber=2))
    add(instance(directory, "c3", study="C", series="C2", patient_id="P2",
                 patient_name="doe^jane", modality="MR", StudyDate="20210601",
                 SeriesNumber=2))
    add(instance(directory, "d1", study="D", series="D1", patient_id="P3",
                 patient_name="Müller^Hans", StudyDate="20190301",
                 SpecificCharacterSet="ISO_IR 192", AccessionNumber="A_%1"))
    add(instance(directory, "d2", study="D", series="D2", patient_id="P3",
                 patient_name="Müller^Hans", StudyDate="20190301",
                 SpecificCharacterSet="ISO_IR 192", modality="MR"))
    add(instance(directory, "d3", study="D", series="D2", patient_id="P3",
                 patient_name="Müller^Hans", StudyDate="20190301",
                 SpecificCharacterSet="ISO_IR 192", modality="MR", InstanceNumber=2))
    return out
