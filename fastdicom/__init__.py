"""fastdicom: the fastest and most correct DICOM toolkit for Python."""
from fastdicom._core import Tokens, tokenize
from fastdicom.errors import DicomError, InvalidDicomError
from fastdicom.reader import dcmread

__version__ = "0.1.0"

__all__ = ["dcmread", "tokenize", "Tokens", "DicomError", "InvalidDicomError", "__version__"]
