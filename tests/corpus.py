"""The differential corpus: every file of pydicom's bundled data (test files,
character set files, palettes) and of the pydicom-data package. Both are test
dependencies, read locally, never downloaded."""
from __future__ import annotations

import os

import pytest


def corpus_files() -> list[str]:
    try:
        import pydicom.data
    except ImportError:  # pragma: no cover - pydicom is a test dependency
        pytest.fail("pydicom is required for the differential tests")
    roots = [os.path.dirname(pydicom.data.__file__)]
    try:
        import data_store  # the pydicom-data package

        roots.append(os.path.join(os.path.dirname(data_store.__file__), "data"))
    except ImportError:
        pytest.fail("pydicom-data is required for the differential tests")
    files = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in filenames:
                if name.endswith((".py", ".pyc")):
                    continue
                files.append(os.path.join(dirpath, name))
    return sorted(files)


def corpus_id(path: str) -> str:
    parts = path.replace(os.sep, "/").split("/")
    for anchor in ("data_store", "data"):
        if anchor in parts:
            return "/".join(parts[len(parts) - parts[::-1].index(anchor) :])
    return parts[-1]


CORPUS = corpus_files()


def transfer_syntax_of(path: str) -> str | None:
    """The Transfer Syntax UID pydicom reads from ``path``'s file meta ('' when
    it has none), or None when pydicom cannot read the file."""
    import warnings

    import pydicom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception:
        return None
    meta = getattr(ds, "file_meta", None)
    return str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""


def files_with_transfer_syntax(accept) -> list[str]:
    """Corpus files whose transfer syntax satisfies ``accept(uid)``."""
    return [p for p in CORPUS if (ts := transfer_syntax_of(p)) is not None and accept(ts)]
