"""Synthetic DICOM dataset builders of the benchmark corpus (fastdicom only: no pydicom).

* :func:`ct_dataset` + :func:`write_ct_slice`: a CT Image Storage slice with a
  realistic ~200-element header (patient/study/series/frame-of-reference/
  equipment/image-plane/image-pixel/CT/VOI/SOP-common modules, a few sequences
  and two private blocks) and 512x512 signed 16-bit pixels.
* :func:`mr_dataset`: an Enhanced MR Image Storage multi-frame dataset whose
  header is dominated by a PerFrameFunctionalGroupsSequence (one item per
  frame, each with 12 nested functional-group sequences) plus a
  SharedFunctionalGroupsSequence.
* :func:`set_undefined_lengths`: mark every sequence/item as undefined length.

Everything is derived from fixed labels: UIDs are hashes, dates are constants,
pixel data is a cheap arithmetic pattern, so the written bytes never change.
"""
from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
from fastdicom import Dataset, Sequence
from fastdicom.writer import encode_dataset, write_file_meta_info

ExplicitVRLittleEndian = "1.2.840.10008.1.2.1"
IMPLICIT_VR_LE = "1.2.840.10008.1.2"
EXPLICIT_VR_BE = "1.2.840.10008.1.2.2"

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4.1"
IMPLEMENTATION_UID = "2.25.2873498237498237498237"  # fixed: not pydicom's (version-dependent)
DATE, TIME = "20240315", "101530.250000"


# --------------------------------------------------------------------------- helpers
def uid(label: str) -> str:
    """Deterministic UID under the 2.25 (integer) root derived from ``label``."""
    digest = hashlib.sha256(f"fastdicom-bench/{label}".encode()).digest()
    return "2.25." + str(int.from_bytes(digest[:15], "big"))


def item(**elements) -> Dataset:
    """A sequence item from keyword arguments (DICOM keywords -> values)."""
    ds = Dataset()
    for keyword, value in elements.items():
        setattr(ds, keyword, value)
    return ds


def code(value: str, scheme: str, meaning: str) -> Dataset:
    """A code sequence item (Code Value, Coding Scheme Designator, Code Meaning)."""
    return item(CodeValue=value, CodingSchemeDesignator=scheme, CodeMeaning=meaning)


def seq(*items: Dataset) -> Sequence:
    return Sequence(list(items))


def set_undefined_lengths(ds: Dataset) -> None:
    """Mark every sequence and item in ``ds`` (recursively) as undefined length."""
    for elem in ds:
        if elem.VR == "SQ":
            elem.is_undefined_length = True
            for sub in elem.value:
                sub.is_undefined_length_sequence_item = True
                set_undefined_lengths(sub)


def file_meta(sop_class: str, sop_instance: str) -> Dataset:
    meta = Dataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_UID
    meta.ImplementationVersionName = "FDBENCH_1"
    return meta


def write_file(ds: Dataset, path: Path) -> None:
    """Write ``ds`` as a DICOM file (preamble + meta), atomically."""
    write_bytes(path, file_bytes(ds))


def file_bytes(ds: Dataset) -> bytes:
    """Preamble, 'DICM', ``ds.file_meta`` as it is (our Implementation Class UID
    kept: dcmwrite's ``enforce_file_format`` would put fastdicom's and its version
    there) and ``ds`` in its file meta's transfer syntax (the uncompressed ones)."""
    meta = Dataset()
    meta.add_new(0x00020000, "UL", 0)  # value computed when written
    for elem in ds.file_meta:
        meta.add(elem)
    ts = str(ds.file_meta.TransferSyntaxUID)
    buf = io.BytesIO()
    buf.write(b"\x00" * 128 + b"DICM")
    write_file_meta_info(buf, meta, enforce_standard=False)
    implicit, little = ts == IMPLICIT_VR_LE, ts != EXPLICIT_VR_BE
    buf.write(encode_dataset(ds, implicit, little, deflated=False))
    return buf.getvalue()


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- modules
def add_common_modules(ds: Dataset, modality: str, series: str) -> None:
    """Patient, study, series, frame-of-reference, equipment and SOP-common modules."""
    elements = dict(
        SpecificCharacterSet="ISO_IR 100", InstanceCreationDate=DATE,
        InstanceCreationTime=TIME, InstanceCreatorUID=uid("creator"),
        TimezoneOffsetFromUTC="+0100",
        StudyDate=DATE, SeriesDate=DATE, AcquisitionDate=DATE, ContentDate=DATE,
        StudyTime=TIME, SeriesTime=TIME, AcquisitionTime=TIME, ContentTime=TIME,
        AccessionNumber="ACC0012345", Modality=modality, Manufacturer="FDBench Medical",
        InstitutionName="Synthetic General Hospital",
        InstitutionAddress="1 Benchmark Way, Testville",
        ReferringPhysicianName="Referrer^Rita^^Dr", StationName="FDB-" + modality + "01",
        StudyDescription="CHEST ABDOMEN PELVIS", SeriesDescription=series,
        InstitutionalDepartmentName="Radiology", PhysiciansOfRecord="Record^Rob",
        PerformingPhysicianName="Perform^Paula", NameOfPhysiciansReadingStudy="Reader^Ray",
        OperatorsName=["Op^One", "Op^Two"], AdmittingDiagnosesDescription="R10.9",
        ManufacturerModelName="SynthScan 9000",
        PatientName="Synthetic^Patient^Q", PatientID="FDB-000042",
        IssuerOfPatientID="FDBENCH", PatientBirthDate="19700101", PatientBirthTime="0830",
        PatientSex="O", PatientAge="054Y", PatientSize="1.75", PatientWeight="72.5",
        MedicalAlerts="None known", Allergies="None", EthnicGroup="Synthetic",
        SmokingStatus="NO", AdditionalPatientHistory="Synthetic history for benchmarks",
        PregnancyStatus=4, PatientComments="Generated by benchmarks/corpus.py",
        PatientIdentityRemoved="YES", DeviceSerialNumber="SN-0001-FDB",
        SoftwareVersions=["VB10A", "FDB-1.0"], DateOfLastCalibration=DATE,
        TimeOfLastCalibration="070000", ProtocolName=series + " PROTOCOL",
        PatientPosition="HFS", BodyPartExamined="CHEST",
        StudyInstanceUID=uid("study"), SeriesInstanceUID=uid("series/" + modality),
        StudyID="S1", SeriesNumber=3 if modality == "CT" else 7, AcquisitionNumber=1,
        FrameOfReferenceUID=uid("for/" + modality), PositionReferenceIndicator="XY",
        RequestingPhysician="Request^Rachel", RequestedProcedureDescription="CT/MR survey",
        PerformedProcedureStepStartDate=DATE, PerformedProcedureStepStartTime=TIME,
        PerformedProcedureStepID="PPS-77", PerformedProcedureStepDescription="Survey",
        QualityControlImage="NO", BurnedInAnnotation="NO", LossyImageCompression="00",
        PresentationLUTShape="IDENTITY",
    )
    for keyword, value in elements.items():
        setattr(ds, keyword, value)
    ds.ReferencedStudySequence = seq(item(
        ReferencedSOPClassUID="1.2.840.10008.3.1.2.3.1",
        ReferencedSOPInstanceUID=uid("refstudy")))
    ds.ProcedureCodeSequence = seq(
        code("CTCAP", "99FDB", "CT chest abdomen pelvis"),
        code("SURV", "99FDB", "Survey"))
    ds.RequestAttributesSequence = seq(item(
        RequestedProcedureID="RP-1234", ScheduledProcedureStepID="SPS-5678",
        ScheduledProcedureStepDescription="Survey",
        ScheduledProtocolCodeSequence=seq(code("P1", "99FDB", "Protocol one"))))
    ds.AnatomicRegionSequence = seq(code("T-D3000", "SRT", "Chest"))


def add_private_blocks(ds: Dataset, group: int, creator: str, n: int) -> None:
    """A private block with ``n`` assorted private elements and one private sequence."""
    block = ds.private_block(group, creator, create=True)
    vrs = ("LO", "DS", "IS", "SH", "US", "FD", "UL", "SS")
    for k in range(n):
        vr = vrs[k % len(vrs)]
        value = {"LO": f"private text {k}", "DS": f"{k}.5", "IS": str(k * 3),
                 "SH": f"P{k}", "US": k, "FD": k / 7.0, "UL": k * 1000, "SS": -k}[vr]
        block.add_new(0x10 + k, vr, value)
    block.add_new(0x10 + n, "SQ", seq(item(PatientID="PRIV-A"), item(PatientID="PRIV-B")))


# --------------------------------------------------------------------------- CT
def ct_pattern() -> np.ndarray:
    y, x = np.mgrid[0:512, 0:512]
    return (x * 3 + y * 5).astype(np.int32)


def ct_dataset(bits_stored: int = 12) -> Dataset:
    """The CT template (slice-independent parts)."""
    ds = Dataset()
    add_common_modules(ds, "CT", "AXIAL 1.25mm")
    elements = dict(
        SOPClassUID=CT_IMAGE_STORAGE, ImageType=["ORIGINAL", "PRIMARY", "AXIAL"],
        AcquisitionDateTime=DATE + TIME,
        ScanOptions="HELICAL MODE", SliceThickness="1.25", KVP="120",
        DataCollectionDiameter="500.0", ReconstructionDiameter="380.0",
        DistanceSourceToDetector="949.075012", DistanceSourceToPatient="541.0",
        GantryDetectorTilt="0.0", TableHeight="160.0", RotationDirection="CW",
        ExposureTime="570", XRayTubeCurrent="300", Exposure="171",
        FilterType="BODY FILTER", GeneratorPower="36000", FocalSpots="0.7",
        ConvolutionKernel="STANDARD", RevolutionTime=0.5, SingleCollimationWidth=0.625,
        TotalCollimationWidth=40.0, TableSpeed=78.75, TableFeedPerRotation=39.375,
        SpiralPitchFactor=0.984375, DataCollectionCenterPatient=[0.0, -160.0, 0.0],
        ReconstructionTargetCenterPatient=[0.0, -160.0, 0.0],
        ExposureModulationType="XYZ_EC", CTDIvol=12.34, EstimatedDoseSaving=23.5,
        ContrastBolusAgent="IOHEXOL 350", ContrastBolusRoute="IV",
        ContrastBolusVolume="90", ContrastBolusStartTime="101000",
        ContrastBolusTotalDose="31.5", ContrastBolusIngredient="IODINE",
        ContrastBolusIngredientConcentration="350",
        PatientOrientation=["L", "P"], ImageOrientationPatient=[1, 0, 0, 0, 1, 0],
        PixelSpacing=[0.742188, 0.742188], SpacingBetweenSlices="1.25",
        SamplesPerPixel=1, PhotometricInterpretation="MONOCHROME2", Rows=512, Columns=512,
        BitsAllocated=16, BitsStored=bits_stored, HighBit=bits_stored - 1,
        PixelRepresentation=1, PixelPaddingValue=-2000 if bits_stored == 16 else -1024,
        RescaleIntercept="-1024", RescaleSlope="1", RescaleType="HU",
        WindowCenter=["40", "-600"], WindowWidth=["400", "1500"],
        WindowCenterWidthExplanation=["WINDOW1", "WINDOW2"],
        DerivationDescription="none", ImageComments="synthetic slice",
        IrradiationEventUID=uid("ct/irradiation"), AcquisitionDuration=12.5,
    )
    for keyword, value in elements.items():
        setattr(ds, keyword, value)
    ds.CTDIPhantomTypeCodeSequence = seq(code("113691", "DCM", "IEC Body Dosimetry Phantom"))
    ds.ContrastBolusAgentSequence = seq(code("C-B0322", "SRT", "Iohexol"))
    ds.ReferencedPerformedProcedureStepSequence = seq(item(
        ReferencedSOPClassUID="1.2.840.10008.3.1.2.3.3",
        ReferencedSOPInstanceUID=uid("pps")))
    add_private_blocks(ds, 0x0019, "FDBENCH CT 1.0", 16)
    add_private_blocks(ds, 0x0043, "FDBENCH RECON", 12)
    return ds


def write_ct_slice(ds: Dataset, index: int, pattern: np.ndarray, path: Path) -> None:
    """Fill the slice-dependent elements of template ``ds`` and write slice ``index``."""
    sop_uid = uid(f"ct/sop/{index}")
    z = -100.0 + 1.25 * index
    ds.file_meta = file_meta(CT_IMAGE_STORAGE, sop_uid)
    ds.SOPInstanceUID = sop_uid
    ds.InstanceNumber = index + 1
    ds.ImagePositionPatient = [-190.0, -350.0, z]
    ds.SliceLocation = f"{z:.2f}"
    ds.ReferencedImageSequence = seq(*(
        item(ReferencedSOPClassUID="1.2.840.10008.5.1.4.1.1.2",
             ReferencedSOPInstanceUID=uid(f"ct/localizer/{k}")) for k in range(2)))
    ds.SourceImageSequence = seq(item(
        ReferencedSOPClassUID=CT_IMAGE_STORAGE,
        ReferencedSOPInstanceUID=uid(f"ct/source/{index}")))
    pixels = ((pattern + 17 * index) % 3072 - 1024).astype("<i2")
    ds.add_new(0x7FE00010, "OW", pixels.tobytes())
    write_file(ds, path)


# --------------------------------------------------------------------------- MR
def _mr_frame_item(frame: int, n_frames: int) -> Dataset:
    """One PerFrameFunctionalGroupsSequence item (frames = 4 echoes x positions)."""
    per_echo = max(1, n_frames // 4)
    echo, pos = divmod(frame, per_echo)
    dt = f"{DATE}1015{30 + frame // 100:02d}.{(frame % 100) * 10000:06d}"
    return item(
        FrameContentSequence=seq(item(
            FrameAcquisitionNumber=frame + 1, FrameReferenceDateTime=dt,
            FrameAcquisitionDateTime=dt, FrameAcquisitionDuration=12.5,
            StackID="1", InStackPositionNumber=pos + 1, TemporalPositionIndex=echo + 1,
            DimensionIndexValues=[1, pos + 1, echo + 1])),
        PlanePositionSequence=seq(item(ImagePositionPatient=[-120.0, -110.5, -60.0 + 2.5 * pos])),
        PlaneOrientationSequence=seq(item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])),
        PixelMeasuresSequence=seq(item(PixelSpacing=[3.75, 3.75], SliceThickness="2.5",
                                       SpacingBetweenSlices="2.5")),
        MRImageFrameTypeSequence=seq(item(
            FrameType=["ORIGINAL", "PRIMARY", "M", "NONE"], PixelPresentation="MONOCHROME",
            VolumetricProperties="VOLUME", VolumeBasedCalculationTechnique="NONE",
            ComplexImageComponent="MAGNITUDE", AcquisitionContrast="T2")),
        MREchoSequence=seq(item(EffectiveEchoTime=10.0 * (echo + 1))),
        MRTimingAndRelatedParametersSequence=seq(item(
            RepetitionTime=2000.0 + echo, FlipAngle=90.0, EchoTrainLength=4,
            RFEchoTrainLength=4, GradientEchoTrainLength=0)),
        MRAveragesSequence=seq(item(NumberOfAverages=1.0)),
        MRDiffusionSequence=seq(item(DiffusionBValue=0.0, DiffusionDirectionality="NONE")),
        PixelValueTransformationSequence=seq(item(
            RescaleIntercept="0", RescaleSlope="1.2", RescaleType="US")),
        FrameVOILUTSequence=seq(item(WindowCenter=f"{600 + echo}", WindowWidth="1200")),
        DerivationImageSequence=seq(item(
            DerivationDescription="synthetic",
            SourceImageSequence=seq(item(
                ReferencedSOPClassUID="1.2.840.10008.5.1.4.1.1.4",
                ReferencedSOPInstanceUID=uid(f"mr/src/{frame}"),
                PurposeOfReferenceCodeSequence=seq(code("121322", "DCM", "Source image")))))),
    )


def mr_dataset(index: int, n_frames: int = 200, rows: int = 64) -> Dataset:
    """A complete Enhanced MR multi-frame dataset for file ``index``."""
    ds = Dataset()
    sop_uid = uid(f"mr/sop/{index}")
    ds.file_meta = file_meta(ENHANCED_MR_STORAGE, sop_uid)
    add_common_modules(ds, "MR", "T2 MULTI-ECHO")
    elements = dict(
        SOPClassUID=ENHANCED_MR_STORAGE, SOPInstanceUID=sop_uid, InstanceNumber=index + 1,
        ImageType=["ORIGINAL", "PRIMARY", "M", "NONE"], AcquisitionDateTime=DATE + TIME,
        AcquisitionContrast="T2", PixelPresentation="MONOCHROME",
        VolumetricProperties="VOLUME", VolumeBasedCalculationTechnique="NONE",
        ComplexImageComponent="MAGNITUDE", ContentQualification="PRODUCT",
        ResonantNucleus="1H", KSpaceFiltering="NONE", MagneticFieldStrength=3.0,
        ApplicableSafetyStandardAgency="IEC", MRAcquisitionType="2D",
        PulseSequenceName="se_mc", EchoPulseSequence="SPIN", MultipleSpinEcho="YES",
        MultiPlanarExcitation="NO", PhaseContrast="NO", TimeOfFlightContrast="NO",
        Spoiling="NONE", SteadyStatePulseSequence="NONE", EchoPlanarPulseSequence="NO",
        SaturationRecovery="NO", SpectrallySelectedSuppression="NONE",
        SpectrallySelectedExcitation="NONE", OversamplingPhase="NONE",
        GeometryOfKSpaceTraversal="RECTILINEAR", SegmentedKSpaceTraversal="SINGLE",
        RectilinearPhaseEncodeReordering="LINEAR", NumberOfKSpaceTrajectories=1,
        CoverageOfKSpace="FULL", InversionRecovery="NO", FlowCompensation="NONE",
        ParallelAcquisition="NO", PartialFourier="NO",
        ContentLabel="LABEL", ContentDescription="synthetic", ContentCreatorName="Bench^Bot",
        NumberOfFrames=n_frames, SamplesPerPixel=1, PhotometricInterpretation="MONOCHROME2",
        Rows=rows, Columns=rows, BitsAllocated=16, BitsStored=12, HighBit=11,
        PixelRepresentation=0, BurnedInAnnotation="NO",
    )
    for keyword, value in elements.items():
        setattr(ds, keyword, value)
    dim_uid = uid(f"mr/dim/{index}")
    ds.DimensionOrganizationSequence = seq(item(DimensionOrganizationUID=dim_uid))
    ds.DimensionIndexSequence = seq(*(
        item(DimensionOrganizationUID=dim_uid, DimensionIndexPointer=pointer,
             FunctionalGroupPointer=group, DimensionDescriptionLabel=label)
        for pointer, group, label in (
            (0x00209056, 0x00209111, "Stack ID"),
            (0x00209057, 0x00209111, "In-Stack Position Number"),
            (0x00209128, 0x00209111, "Temporal Position Index"))))
    ds.SharedFunctionalGroupsSequence = seq(item(
        MRFOVGeometrySequence=seq(item(
            InPlanePhaseEncodingDirection="ROW", MRAcquisitionFrequencyEncodingSteps=rows,
            MRAcquisitionPhaseEncodingStepsInPlane=rows, PercentSampling=100.0,
            PercentPhaseFieldOfView=100.0)),
        MRReceiveCoilSequence=seq(item(
            ReceiveCoilName="HeadNeck_20", ReceiveCoilManufacturerName="FDBench",
            ReceiveCoilType="MULTICOIL", QuadratureReceiveCoil="NO")),
        MRTransmitCoilSequence=seq(item(
            TransmitCoilName="Body", TransmitCoilManufacturerName="FDBench",
            TransmitCoilType="BODY")),
        MRModifierSequence=seq(item(
            InversionRecovery="NO", FlowCompensation="NONE", SpectrallySelectedSuppression="NONE",
            ParallelAcquisition="NO", PartialFourier="NO")),
        MRImagingModifierSequence=seq(item(
            PixelBandwidth=130.0, TransmitterFrequency=123.2, MagnetizationTransfer="NONE",
            BloodSignalNulling="NO", Tagging="NONE")),
        OperatingModeSequence=seq(item(OperatingModeType="STATIC FIELD", OperatingMode="IEC_NORMAL")),
        SpecificAbsorptionRateSequence=seq(item(
            SpecificAbsorptionRateDefinition="IEC_WHOLE_BODY", SpecificAbsorptionRateValue=0.9)),
    ))
    ds.PerFrameFunctionalGroupsSequence = seq(*(
        _mr_frame_item(f, n_frames) for f in range(n_frames)))
    add_private_blocks(ds, 0x0029, "FDBENCH MR 1.0", 12)
    frames = np.arange(n_frames, dtype=np.uint16)[:, None, None]
    y, x = np.mgrid[0:rows, 0:rows].astype(np.uint16)
    ds.add_new(0x7FE00010, "OW",
               ((x * 7 + y * 11 + frames * 13 + index) & 0x0FFF).astype("<u2").tobytes())
    return ds
