# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled core of fastdicom: Cython glue over the C tokenizer in csrc/."""

include "_core_src/ctokenizer.pxi"
include "_core_src/filetail.pxi"
include "_core_src/tokens.pxi"
include "_core_src/dataset_core.pxi"
include "_core_src/values_fast.pxi"
include "_core_src/fileread.pxi"
include "_core_src/rle.pxi"
include "_core_src/native.pxi"
include "_core_src/pdu.pxi"
include "_core_src/pdu_reader.pxi"
