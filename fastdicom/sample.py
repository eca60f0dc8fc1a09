"""A small deterministic set of DICOM series for trying fastdicom out.

``python -m fastdicom.sample OUTDIR [--series N] [--slices M] [--studies K]``
writes ``N`` series of ``M`` slices each (64x64, 16-bit, a few KB per file),
spread over ``K`` studies (one patient each), as::

    OUTDIR/study1/series1/IM0001.dcm ...

Everything is derived from the arguments (UIDs are hashes of a label, pixel
values a cheap arithmetic pattern), so the same arguments write the same
bytes. Written with :class:`fastdicom.Dataset` and :func:`fastdicom.dcmwrite`
only (pydicom is not needed).

What the set exercises: CT and MR Image Storage; explicit and implicit VR
little endian (every third series is implicit VR); axial, sagittal and oblique
slice orientations with known slice spacing (slices are written in instance
order but their positions step along the slice normal); Specific Character
Set absent, ``ISO_IR 192`` (UTF-8) and ``ISO_IR 100`` (latin-1) with non-ASCII
patient names; multi-valued strings and numbers (Image Type, Window Center,
Image Position/Orientation, Pixel Spacing); dates, times and a date-time; a
Referenced Image Sequence (each slice after the first refers to the one
before it).
"""
from __future__ import annotations

import argparse
import hashlib
import io
import math
import os
import sys
from typing import Iterator, Sequence

__all__ = ["generate", "sample_uid", "main", "SeriesInfo"]

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
EXPLICIT_VR_LE = "1.2.840.10008.1.2.1"
IMPLICIT_VR_LE = "1.2.840.10008.1.2"

ROWS = COLUMNS = 64

# (name, Specific Character Set or None) per study, cycled
_PATIENTS = (
    ("Doe^Jane", None),
    ("Müller^Jürgen", "ISO_IR 192"),
    ("Ærøe^Åse", "ISO_IR 100"),
    ("Smith^John^Q^Dr", None),
)
_BODY_PARTS = ("CHEST", "HEAD", "ABDOMEN", "PELVIS")


def sample_uid(label: str) -> str:
    """A deterministic UID under the 2.25 (UUID-derived) root."""
    digest = hashlib.sha256(f"fastdicom.sample:{label}".encode()).digest()
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


class SeriesInfo:
    """What :func:`generate` wrote for one series (for tests and examples)."""

    def __init__(self, study: int, series: int, modality: str, spacing: float,
                 orientation: list[float], transfer_syntax: str, paths: list[str]) -> None:
        self.study = study
        self.series = series
        self.modality = modality
        self.spacing = spacing
        self.orientation = orientation
        self.transfer_syntax = transfer_syntax
        self.paths = paths
        self.study_uid = sample_uid(f"study{study}")
        self.series_uid = sample_uid(f"series{series}")

    def __repr__(self) -> str:
        return (f"SeriesInfo(study={self.study}, series={self.series}, modality={self.modality!r}, "
                f"slices={len(self.paths)}, spacing={self.spacing})")


def _orientation(series: int) -> list[float]:
    kind = series % 3
    if kind == 0:  # axial
        return [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    if kind == 1:  # sagittal
        return [0.0, 1.0, 0.0, 0.0, 0.0, -1.0]
    # oblique: axial rotated by 30 degrees about the x axis (values exact in 6 digits)
    c, s = round(math.cos(math.pi / 6), 6), 0.5
    return [1.0, 0.0, 0.0, 0.0, c, s]


def _normal(iop: Sequence[float]) -> tuple[float, float, float]:
    r, c = iop[:3], iop[3:]
    return (r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0])


def _ds(x: float) -> str:
    """``x`` as a DS string (at most 16 characters, no needless digits)."""
    text = f"{x:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _pixels(study: int, series: int, k: int) -> bytes:
    import numpy as np

    y, x = np.mgrid[0:ROWS, 0:COLUMNS]
    img = (x * 7 + y * 13 + k * 31 + series * 101 + study * 17) % 4096
    return img.astype("<u2").tobytes()


def _slice_dataset(study: int, series: int, k: int, slices: int, ts: str) -> object:
    from fastdicom import Dataset

    name, charset = _PATIENTS[study % len(_PATIENTS)]
    modality = "CT" if series % 2 == 0 else "MR"
    spacing = 2.5 if modality == "CT" else 4.0
    iop = _orientation(series)
    normal = _normal(iop)
    origin = (-80.0, -80.0, -40.0)
    pos = [origin[i] + normal[i] * spacing * k for i in range(3)]

    ds = Dataset()
    ds.file_meta = Dataset()
    ds.file_meta.TransferSyntaxUID = ts
    if charset:
        ds.SpecificCharacterSet = charset
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL" if series % 3 == 0 else "OTHER"]
    ds.SOPClassUID = CT_IMAGE_STORAGE if modality == "CT" else MR_IMAGE_STORAGE
    ds.SOPInstanceUID = sample_uid(f"series{series}.slice{k}")
    ds.StudyDate = f"2024{3 + study % 9:02d}{10 + study:02d}"
    ds.SeriesDate = ds.StudyDate
    ds.ContentDate = ds.StudyDate
    ds.StudyTime = f"{9 + study % 10:02d}{15 + study % 40:02d}30.250000"
    ds.ContentTime = f"{10 + study % 10:02d}{k // 60 % 60:02d}{k % 60:02d}"
    ds.AcquisitionDateTime = f"{ds.StudyDate}{10 + study % 10:02d}{k // 60 % 60:02d}{k % 60:02d}.5+0100"
    ds.AccessionNumber = f"ACC{study + 1:05d}"
    ds.Modality = modality
    ds.Manufacturer = "fastdicom sample"
    ds.InstitutionName = "Sample Hospital"
    ds.ReferringPhysicianName = "Welby^Marcus"
    ds.StudyDescription = f"SAMPLE STUDY {study + 1}"
    ds.SeriesDescription = f"{modality} series {series + 1}"
    if k > 0:
        ref = Dataset()
        ref.ReferencedSOPClassUID = ds.SOPClassUID
        ref.ReferencedSOPInstanceUID = sample_uid(f"series{series}.slice{k - 1}")
        ds.ReferencedImageSequence = [ref]
    ds.PatientName = name
    ds.PatientID = f"SAMPLE{study + 1:03d}"
    ds.PatientBirthDate = f"{1950 + 7 * study}0{1 + study % 9}15"
    ds.PatientSex = "FMOF"[study % 4]
    ds.PatientAge = f"{45 + study:03d}Y"
    ds.BodyPartExamined = _BODY_PARTS[series % len(_BODY_PARTS)]
    ds.SliceThickness = _ds(spacing)
    if modality == "MR":
        ds.EchoTime = "12.5"
        ds.RepetitionTime = "500"
        ds.MagneticFieldStrength = "1.5"
    else:
        ds.KVP = "120"
    ds.StudyInstanceUID = sample_uid(f"study{study}")
    ds.SeriesInstanceUID = sample_uid(f"series{series}")
    ds.StudyID = f"S{study + 1}"
    ds.SeriesNumber = series + 1
    ds.InstanceNumber = k + 1
    ds.ImagePositionPatient = [_ds(v) for v in pos]
    ds.ImageOrientationPatient = [_ds(v) for v in iop]
    ds.FrameOfReferenceUID = sample_uid(f"frame{study}")
    ds.SliceLocation = _ds(sum(p * n for p, n in zip(pos, normal)))
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ROWS
    ds.Columns = COLUMNS
    ds.PixelSpacing = ["0.5", "0.5"]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.WindowCenter = ["40", "400"] if modality == "CT" else "600"
    ds.WindowWidth = ["400", "1500"] if modality == "CT" else "1200"
    if modality == "CT":
        ds.RescaleIntercept = "-1024"
        ds.RescaleSlope = "1"
    ds.add_new(0x7FE00010, "OW", _pixels(study, series, k))
    return ds


def iter_sample(series: int = 4, slices: int = 16, studies: int = 2) -> Iterator[tuple[str, object, int]]:
    """(relative path, dataset, series index) of every file of the sample set."""
    if series < 1 or slices < 1 or studies < 1:
        raise ValueError("series, slices and studies must be at least 1")
    studies = min(studies, series)
    for s in range(series):
        study = s % studies
        ts = IMPLICIT_VR_LE if s % 3 == 2 else EXPLICIT_VR_LE
        for k in range(slices):
            rel = os.path.join(f"study{study + 1}", f"series{s + 1}", f"IM{k + 1:04d}.dcm")
            yield rel, _slice_dataset(study, s, k, slices, ts), s


def generate(outdir: str | os.PathLike, series: int = 4, slices: int = 16,
             studies: int = 2) -> list[SeriesInfo]:
    """Write the sample set under ``outdir`` (created if needed); returns what
    was written per series. Existing files of the same names are replaced."""
    from fastdicom import dcmwrite

    outdir = os.fspath(outdir)
    studies = max(1, min(studies, series))
    infos: dict[int, SeriesInfo] = {}
    for rel, ds, s in iter_sample(series, slices, studies):
        path = os.path.join(outdir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        buf = io.BytesIO()  # dcmwrite to a path fsyncs every file: slow for many small ones
        dcmwrite(buf, ds, enforce_file_format=True)
        with open(path, "wb") as f:
            f.write(buf.getvalue())
        info = infos.get(s)
        if info is None:
            info = infos[s] = SeriesInfo(
                s % studies, s, str(ds.Modality), 2.5 if s % 2 == 0 else 4.0,
                _orientation(s), str(ds.file_meta.TransferSyntaxUID), [])
        info.paths.append(path)
    return [infos[s] for s in sorted(infos)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fastdicom.sample",
        description="Write a small deterministic set of DICOM series (64x64 16-bit slices).")
    parser.add_argument("outdir", help="directory to write into (created if needed)")
    parser.add_argument("--series", type=int, default=4, help="number of series (default 4)")
    parser.add_argument("--slices", type=int, default=16, help="slices per series (default 16)")
    parser.add_argument("--studies", type=int, default=2,
                        help="number of studies the series are spread over (default 2)")
    args = parser.parse_args(argv)
    try:
        infos = generate(args.outdir, args.series, args.slices, args.studies)
    except (ValueError, OSError) as exc:
        print(f"python -m fastdicom.sample: error: {exc}", file=sys.stderr)
        return 1
    files = sum(len(i.paths) for i in infos)
    studies = len({i.study for i in infos})
    print(f"wrote {files} files ({len(infos)} series in {studies} studies) to {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
