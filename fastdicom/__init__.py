"""fastdicom: the fastest and most correct DICOM toolkit for Python."""
from fastdicom._core import Tokens, tokenize
from fastdicom.dataelem import DataElement, Sequence
from fastdicom.dataset import Dataset, FileDataset, PrivateBlock
from fastdicom.errors import DicomError, InvalidDicomError
from fastdicom.reader import dcmread
from fastdicom.tag import Tag
from fastdicom.uid import UID
from fastdicom.valuerep import DSfloat, IS, MultiValue, PersonName
from fastdicom.bridge import from_pydicom
from fastdicom.uid import generate_uid
from fastdicom.writer import dcmwrite

__version__ = "0.1.0"

_LAZY = {"scan": "fastdicom.ingest", "scan_batches": "fastdicom.ingest"}  # need pyarrow


def __getattr__(name: str):  # re-exports that import optional dependencies on use
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fastdicom' has no attribute '{name}'")
    import importlib

    return getattr(importlib.import_module(module), name)

__all__ = [
    "dcmread", "dcmwrite", "from_pydicom", "generate_uid", "scan", "scan_batches", "tokenize", "Tokens", "Dataset", "FileDataset", "DataElement", "Sequence",
    "PrivateBlock", "Tag", "UID", "DSfloat", "IS", "MultiValue", "PersonName", "DicomError",
    "InvalidDicomError", "__version__",
]
