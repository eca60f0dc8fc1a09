"""Exceptions raised by fastdicom.

Every problem with the data being read surfaces as a :class:`DicomError`;
problems with the bytes themselves as :class:`InvalidDicomError`, which is
also a :class:`ValueError` (as in pydicom). Errors found in the data carry
the byte ``offset`` where reading went wrong (``None`` when not known).
"""
from __future__ import annotations

__all__ = [
    "DicomError",
    "InvalidDicomError",
    "NotDicomError",
    "TruncatedDataError",
    "BadLengthError",
    "NestingTooDeepError",
    "UnexpectedTagError",
    "DelimiterError",
    "BadFragmentError",
    "TooManyElementsError",
    "DeflateError",
    "DicomMemoryError",
]


class DicomError(Exception):
    """Base class of every fastdicom error."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        self.offset = offset
        if offset is not None:
            message = f"{message} (at byte offset {offset} / 0x{offset:X})"
        super().__init__(message)


class InvalidDicomError(DicomError, ValueError):
    """The data is not valid DICOM."""


class NotDicomError(InvalidDicomError):
    """No DICOM file structure found (no preamble/DICM and no dataset)."""


class TruncatedDataError(InvalidDicomError):
    """The data ends inside an element header, or before a delimiter."""


class BadLengthError(InvalidDicomError):
    """A declared length runs past the end of its container."""


class NestingTooDeepError(InvalidDicomError):
    """Sequences are nested deeper than the configured limit."""


class UnexpectedTagError(InvalidDicomError):
    """A tag where the structure does not allow one (e.g. not an item inside a sequence)."""


class DelimiterError(InvalidDicomError):
    """An item or sequence delimiter out of place, or with a non-zero length."""


class BadFragmentError(InvalidDicomError):
    """An encapsulated fragment with an undefined length."""


class TooManyElementsError(InvalidDicomError):
    """More elements than the configured limit."""


class DeflateError(InvalidDicomError):
    """A deflated dataset could not be inflated, or inflates past the limit."""


class DicomMemoryError(DicomError, MemoryError):
    """Memory for the element table (sized by the input, never by a declared length) ran out."""
