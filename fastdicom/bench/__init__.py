"""``fastdicom bench``: DICOM readers and stacks compared on the same files.

See :mod:`fastdicom.bench.runner` (method), :mod:`fastdicom.bench.tools`
(what each tool does per workload) and :mod:`fastdicom.bench.corpus` (the
synthetic corpus).
"""
from fastdicom.bench.corpus import KINDS, SIZES, ensure_corpus

__all__ = ["KINDS", "SIZES", "ensure_corpus"]
