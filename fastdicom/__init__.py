"""fastdicom: the fastest and most correct DICOM toolkit for Python."""
from fastdicom._core import Tokens, tokenize
from fastdicom.dataelem import DataElement, Sequence
from fastdicom.dataset import Dataset, FileDataset, PrivateBlock
from fastdicom.errors import DicomError, InvalidDicomError
from fastdicom.reader import dcmread
from fastdicom.tag import Tag
from fastdicom.uid import UID
from fastdicom.valuerep import DSfloat, IS, MultiValue, PersonName

__version__ = "0.1.0"

__all__ = [
    "dcmread", "tokenize", "Tokens", "Dataset", "FileDataset", "DataElement", "Sequence",
    "PrivateBlock", "Tag", "UID", "DSfloat", "IS", "MultiValue", "PersonName", "DicomError",
    "InvalidDicomError", "__version__",
]
