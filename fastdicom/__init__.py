"""fastdicom: the fastest and most correct DICOM toolkit for Python."""
from fastdicom._core import Tokens, tokenize
from fastdicom.dataelem import DataElement, Sequence
from fastdicom.dataset import Dataset, FileDataset, PrivateBlock
from fastdicom.errors import DicomError, InvalidDicomError
from fastdicom.reader import dcmread
from fastdicom.tag import Tag
from fastdicom.uid import UID
from fastdicom.valuerep import DSfloat, IS, MultiValue, PersonName


def dcmwrite(fp, dataset, enforce_file_format=False, **kwargs):  # noqa: ANN001
    """Write ``dataset`` to ``fp`` (see :func:`fastdicom.writer.dcmwrite`)."""
    from fastdicom.writer import dcmwrite as _dcmwrite

    return _dcmwrite(fp, dataset, enforce_file_format=enforce_file_format, **kwargs)


def from_pydicom(ds):  # noqa: ANN001
    """A fastdicom Dataset equal to the ``pydicom.Dataset`` ``ds``."""
    from fastdicom.bridge import from_pydicom as _from_pydicom

    return _from_pydicom(ds)

__version__ = "0.1.0"

__all__ = [
    "dcmread", "dcmwrite", "from_pydicom", "tokenize", "Tokens", "Dataset", "FileDataset", "DataElement", "Sequence",
    "PrivateBlock", "Tag", "UID", "DSfloat", "IS", "MultiValue", "PersonName", "DicomError",
    "InvalidDicomError", "__version__",
]
