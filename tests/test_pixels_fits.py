"""The one-pass Bits Stored check of native samples (csrc/fd_native.c via
_core.samples_fit): equal to a numpy range test for every width and
signedness, including values at and just past the limits and in late blocks."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastdicom import _core
from fastdicom.pixels import PixelInfo
from fastdicom.pixels.native import correct_unused_bits, fits_bits_stored

DTYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]


def limits(dtype, bits_stored):
    if np.dtype(dtype).kind == "i":
        return -(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1
    return 0, (1 << bits_stored) - 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_limits_and_one_sample_outside(dtype):
    width = np.dtype(dtype).itemsize
    for bs in sorted({1, 2, width * 8 // 2, width * 8 - 1}):
        lo, hi = limits(dtype, bs)
        arr = np.full(50_000, lo, dtype)
        arr[1::2] = hi
        assert _core.samples_fit(arr, width, lo, hi)
        for pos in (0, 8191, 8192, 49_999):          # first, block edges, last
            for bad in (lo - 1, hi + 1):
                if not np.iinfo(dtype).min <= bad <= np.iinfo(dtype).max:
                    continue
                b = arr.copy()
                b[pos] = bad
                assert not _core.samples_fit(b, width, lo, hi)


def test_empty_and_bad_arguments():
    assert _core.samples_fit(b"", 2, -2048, 2047)
    with pytest.raises(ValueError):
        _core.samples_fit(b"abc", 2, 0, 1)            # not whole samples
    with pytest.raises(ValueError):
        _core.samples_fit(b"ab", 3, 0, 1)             # no such width
    with pytest.raises(ValueError):
        _core.samples_fit(b"ab", 1, 0, 256)           # limits wider than the samples
    with pytest.raises(ValueError):
        _core.samples_fit(b"ab", 2, 5, 4)             # lo > hi


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(DTYPES), st.integers(1, 64), st.lists(st.integers(-(1 << 64), 1 << 64),
                                                             max_size=300))
def test_hypothesis_same_as_numpy(dtype, bs, values):
    info_dtype = np.dtype(dtype)
    bs = min(bs, info_dtype.itemsize * 8)
    ii = np.iinfo(dtype)
    arr = np.array([ii.min + (v - ii.min) % (int(ii.max) - ii.min + 1) for v in values], dtype)
    lo, hi = limits(dtype, bs)
    expected = bool(arr.size == 0 or (int(arr.min()) >= lo and int(arr.max()) <= hi))
    if bs < info_dtype.itemsize * 8:   # (64 bits stored in 64: no check is ever made)
        assert _core.samples_fit(arr, info_dtype.itemsize, lo, hi) == expected
    info = PixelInfo(rows=1, columns=max(1, arr.size), samples_per_pixel=1,
                     bits_allocated=info_dtype.itemsize * 8, bits_stored=bs,
                     pixel_representation=int(info_dtype.kind == "i"), planar_configuration=0,
                     photometric_interpretation="MONOCHROME2", number_of_frames=1,
                     transfer_syntax_uid="1.2.840.10008.1.2.1")
    assert fits_bits_stored(arr, info) == expected
    assert fits_bits_stored(arr[::-1], info) == expected          # strided: the numpy path
    if expected:   # then the correction changes nothing, as pydicom's shifts would not
        assert np.array_equal(correct_unused_bits(arr.copy(), info.bits_allocated, bs), arr)
