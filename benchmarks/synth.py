"""Synthetic DICOM dataset builders used by benchmarks/corpus.py.

They moved into the package (:mod:`fastdicom.bench.synth`, written with
fastdicom's own writer, no pydicom needed) so that ``fastdicom bench`` and
these pytest-benchmark suites share one corpus generator; the files written
are byte for byte those the pydicom-based builders wrote before.
"""
from fastdicom.bench.synth import (  # noqa: F401 - re-exported
    CT_IMAGE_STORAGE, DATE, ENHANCED_MR_STORAGE, IMPLEMENTATION_UID, TIME, add_common_modules,
    add_private_blocks, code, ct_dataset, ct_pattern, file_bytes, file_meta, item, mr_dataset,
    seq, set_undefined_lengths, uid, write_bytes, write_ct_slice, write_file)
