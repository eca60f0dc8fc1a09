"""RLE Lossless (PS3.5 Annex G): the C decoder against pydicom.

* every RLE file of the corpus, frame by frame, against pydicom's pixel_array;
* hypothesis round trips through pydicom's RLE encoders (both plugins);
* malformed frames: each error code, truncation at every byte, random
  mutations compared with pydicom's pure-Python decoder (what it accepts we
  accept, with the same pixels), and huge geometries on tiny data (refused
  before any allocation).
"""
from __future__ import annotations

import io
import struct
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pydicom
from pydicom.encaps import generate_frames
from pydicom.pixels.decoders.rle import _rle_decode_frame as pydicom_rle_decode
from pydicom.pixels.encoders import RLELosslessEncoder

from corpus import corpus_id, files_with_transfer_syntax
from fastdicom import _core
from fastdicom.errors import InvalidDicomError
from fastdicom.pixels import codecs
from fastdicom.pixels._info import PixelDataError, PixelInfo
from fastdicom.pixels.codecs import RLEError, rle_decode_frame

RLE = "1.2.840.10008.1.2.5"


RLE_FILES = files_with_transfer_syntax(lambda ts: ts == RLE)


def test_corpus_has_rle_files():
    assert len(RLE_FILES) >= 10


@pytest.mark.parametrize("path", RLE_FILES, ids=[corpus_id(p) for p in RLE_FILES])
def test_corpus_rle_matches_pydicom(path):
    ds = pydicom.dcmread(path)
    ref = ds.pixel_array
    info = PixelInfo.from_dataset(ds)
    frames = list(generate_frames(ds.PixelData, number_of_frames=info.number_of_frames))
    # the raw binding, frame by frame
    raw = np.stack([
        _core.rle_decode_frame(f, ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.BitsAllocated)
        for f in frames
    ])
    # the codec layer (dtype, unused-bit correction, colour), serial and threaded
    ours = codecs.decode_frames(RLE, frames, info, threads=1)
    threaded = codecs.decode_frames(RLE, frames, info, threads=2)
    if info.number_of_frames == 1:
        raw, ours, threaded = raw[0], ours[0], threaded[0]
    assert ours.dtype == ref.dtype and ours.shape == ref.shape
    np.testing.assert_array_equal(ours, ref)
    np.testing.assert_array_equal(threaded, ref)
    if info.bits_stored == info.bits_allocated:
        np.testing.assert_array_equal(raw.view(ref.dtype), ref)
    single = codecs.decode_frame(RLE, frames[0], info)
    np.testing.assert_array_equal(single, ref[0] if info.number_of_frames > 1 else ref)


# -- round trips ------------------------------------------------------------------------

def _encode(arr, bits, spp, plugin):
    rows, cols = arr.shape[:2]
    return RLELosslessEncoder.encode(
        arr, validate=False, encoding_plugin=plugin, rows=rows, columns=cols,
        samples_per_pixel=spp, bits_allocated=bits, bits_stored=bits, pixel_representation=0,
        photometric_interpretation="RGB" if spp == 3 else "MONOCHROME2",
        planar_configuration=0, number_of_frames=1,
    )


@st.composite
def images(draw):
    bits = draw(st.sampled_from([8, 16, 32, 64]))
    spp = draw(st.sampled_from([1, 3] if bits <= 32 else [1]))
    rows = draw(st.integers(1, 40))
    cols = draw(st.integers(1, 40))
    shape = (rows, cols, spp) if spp == 3 else (rows, cols)
    kind = draw(st.sampled_from(["random", "runs", "flat"]))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    dtype = np.dtype(f"u{bits // 8}")
    if kind == "random":
        arr = rng.integers(0, np.iinfo(dtype).max, size=shape, dtype=dtype, endpoint=True)
    elif kind == "runs":  # long runs with a few values: replicate runs of every length
        arr = np.repeat(rng.integers(0, 4, size=rows * cols * spp), rng.integers(1, 300, size=rows * cols * spp))
        arr = arr[: rows * cols * spp].astype(dtype)
        arr = np.resize(arr, shape)
    else:
        arr = np.full(shape, rng.integers(0, 255), dtype=dtype)
    return arr, bits, spp


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(images(), st.sampled_from(["pydicom", "pylibjpeg"]))
def test_round_trip_pydicom_encoder(image, plugin):
    arr, bits, spp = image
    encoded = _encode(arr, bits, spp, plugin)
    rows, cols = arr.shape[:2]
    out = rle_decode_frame(encoded, rows, cols, spp, bits)
    assert out.dtype == np.dtype(f"<u{bits // 8}") and out.shape == arr.shape
    np.testing.assert_array_equal(out, arr)
    # decoded into a caller's buffer: the same bytes
    target = np.empty(arr.nbytes, dtype=np.uint8)
    assert rle_decode_frame(bytearray(encoded), rows, cols, spp, bits, out=target) is target
    assert target.tobytes() == out.tobytes()


def test_round_trip_large_16bit_multichunk():
    """Frames larger than the C decoder's chunk, 1 and 3 samples."""
    rng = np.random.default_rng(7)
    for shape, spp in (((300, 257), 1), ((129, 70, 3), 3)):
        arr = rng.integers(0, 1 << 16, size=shape, dtype=np.uint16)
        arr[: shape[0] // 2] >>= 12  # compressible half: replicate runs
        encoded = _encode(arr, 16, spp, "pylibjpeg")
        np.testing.assert_array_equal(rle_decode_frame(encoded, shape[0], shape[1], spp, 16), arr)


def test_binding_accepts_any_buffer():
    arr = np.arange(60, dtype=np.uint16).reshape(6, 10)
    encoded = _encode(arr, 16, 1, "pydicom")
    for buf in (encoded, bytearray(encoded), memoryview(encoded), np.frombuffer(encoded, np.uint8)):
        np.testing.assert_array_equal(_core.rle_decode_frame(buf, 6, 10, 1, 16), arr)


# -- malformed frames -------------------------------------------------------------------

def header(offsets, count=None):
    count = len(offsets) if count is None else count
    values = [count] + list(offsets)
    values += [0] * (16 - len(values))
    return struct.pack("<16L", *values)


def _status(data, rows, cols, spp, bits):
    with pytest.raises(RLEError) as info:
        rle_decode_frame(data, rows, cols, spp, bits)
    assert isinstance(info.value, PixelDataError) and isinstance(info.value, InvalidDicomError)
    assert isinstance(info.value, ValueError)
    return info.value.rle_status, info.value.offset


@pytest.mark.parametrize("data, geometry, status", [
    (b"", (1, 1, 1, 8), _core.RLE_ERR_HEADER),
    (b"\x01\x00\x00\x00" + b"\x00" * 59, (1, 1, 1, 8), _core.RLE_ERR_HEADER),
    (header([]) + b"\x00\x07", (1, 1, 1, 8), _core.RLE_ERR_SEGMENT_COUNT),
    (struct.pack("<L", 16) + struct.pack("<15L", *range(64, 94, 2)) + b"\x00\x07" * 16,
     (1, 1, 1, 8), _core.RLE_ERR_SEGMENT_COUNT),
    (struct.pack("<L", 0xFFFFFFFF) + b"\x00" * 60 + b"\x00\x07", (1, 1, 1, 8), _core.RLE_ERR_SEGMENT_COUNT),
    (header([64, 66]) + b"\x00\x07\x00\x08", (1, 1, 1, 8), _core.RLE_ERR_SEGMENT_MISMATCH),
    (header([64]) + b"\x00\x07", (1, 1, 3, 8), _core.RLE_ERR_SEGMENT_MISMATCH),
    (header([64]) + b"\x00\x07", (1, 1, 1, 16), _core.RLE_ERR_SEGMENT_MISMATCH),
    (header([0]) + b"\x00\x07", (1, 1, 1, 8), _core.RLE_ERR_OFFSET),
    (header([60]) + b"\x00\x07", (1, 1, 1, 8), _core.RLE_ERR_OFFSET),
    (header([66]) + b"\x00\x07", (1, 1, 1, 8), _core.RLE_ERR_OFFSET),
    (header([64, 200]) + b"\x00\x07\x00\x08", (1, 1, 1, 16), _core.RLE_ERR_OFFSET),
    (header([64, 66]) + b"\x00\x07", (1, 1, 1, 16), _core.RLE_ERR_OFFSET),
    (header([66, 64]) + b"\x00\x07\x00\x08", (1, 1, 1, 16), _core.RLE_ERR_OFFSET),
    (header([64, 64]) + b"\x00\x07\x00\x08", (1, 1, 1, 16), _core.RLE_ERR_OFFSET),
    (header([64]) + b"\x00\x07\x00", (2, 1, 1, 8), _core.RLE_ERR_SHORT_SEGMENT),
    (header([64]) + b"\xff", (1, 1, 1, 8), _core.RLE_ERR_TOO_LITTLE_DATA),
    (header([64]) + b"\xff\x07\x80", (3, 1, 1, 8), _core.RLE_ERR_SHORT_SEGMENT),
    # the segment may not run into the next one (pylibjpeg-rle 2.2 panics on this one)
    (header([64, 66]) + b"\x02\x01\x02\x03\x00\x09", (2, 1, 1, 16), _core.RLE_ERR_SHORT_SEGMENT),
    (header([64]) + b"\x81\x07\x80\x80", (129, 1, 1, 8), _core.RLE_ERR_SHORT_SEGMENT),
    (header([64]) + b"\x81\x07", (65, 2, 1, 8), _core.RLE_ERR_TOO_LITTLE_DATA),
], ids=lambda v: None if isinstance(v, (bytes, tuple)) else str(v))
def test_malformed_errors(data, geometry, status):
    """Each error code (the ids are the case numbers)."""
    got, offset = _status(data, *geometry)
    assert got == status
    assert 0 <= offset <= len(data)


@pytest.mark.parametrize("geometry", [(0, 1, 1, 8), (1, 0, 1, 8), (1, 1, 0, 8), (1, 1, 16, 8),
                                      (1, 1, 1, 12), (1, 1, 1, 1), (1, 1, 1, 0), (-1, 1, 1, 8),
                                      (2 ** 32, 1, 1, 8), (1, 1, 1, 24)])
def test_bad_arguments(geometry):
    with pytest.raises(RLEError):
        rle_decode_frame(header([64]) + b"\x00\x07", *geometry)


def test_out_buffer_must_fit():
    data = header([64]) + b"\x01\x07\x08"
    with pytest.raises(ValueError):
        rle_decode_frame(data, 1, 2, 1, 8, out=np.empty(3, np.uint8))
    with pytest.raises((ValueError, BufferError, TypeError)):
        rle_decode_frame(data, 1, 2, 1, 8, out=b"xx")  # read-only


def test_huge_geometry_tiny_data_no_allocation():
    """65535 x 65535 x 3 x 64-bit would be 100 GiB: refused from the header,
    before the output is allocated (at most 64x the input may be allocated)."""
    data = header([64]) + b"\x81\x00" * 8
    tracemalloc.start()
    try:
        for geometry in ((65535, 65535, 1, 8), (65535, 65535, 1, 64), (2 ** 32 - 1, 2 ** 32 - 1, 1, 8)):
            status, _ = _status(data, *geometry)
            assert status in (_core.RLE_ERR_TOO_LITTLE_DATA, _core.RLE_ERR_SEGMENT_MISMATCH)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    # the bound is exact: 8 replicate runs of 128 make exactly 1024 pixels
    assert rle_decode_frame(data, 32, 32, 1, 8).sum() == 0
    assert _status(data, 32, 33, 1, 8)[0] == _core.RLE_ERR_TOO_LITTLE_DATA


def test_tolerances_match_pydicom():
    """What pydicom accepts: trailing bytes after a full segment (padding), a
    literal run cut short by the segment's end, 0x80 no-ops, non-zero unused
    header offsets."""
    cases = [
        (header([64]) + b"\x00\x07\x00\x08\x05", (1, 1, 1, 8)),
        (header([64]) + b"\x01\x07\x08\x00", (1, 2, 1, 8)),
        (header([64]) + b"\x05\x07\x08", (1, 2, 1, 8)),
        (header([64]) + b"\x80\x80\xfe\x07", (3, 1, 1, 8)),
        (struct.pack("<16L", 1, 64, 99, 7, *([0] * 12)) + b"\x00\x07", (1, 1, 1, 8)),
        (header([64, 67]) + b"\x05\x07\x08\xff\x01", (1, 2, 1, 16)),
    ]
    for data, (rows, cols, spp, bits) in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom warns about the padding
            ref = np.frombuffer(pydicom_rle_decode(data, rows, cols, spp, bits), f"<u{bits // 8}")
        out = rle_decode_frame(data, rows, cols, spp, bits)
        np.testing.assert_array_equal(out.ravel(), ref)


def _pydicom_reference(data, rows, cols, spp, bits):
    """pydicom's pure-Python decoder, reshaped to our layout; None if it fails."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            planar = pydicom_rle_decode(bytes(data), rows, cols, spp, bits)
    except Exception:
        return None
    arr = np.frombuffer(planar, f"<u{bits // 8}").reshape(spp, rows, cols)
    return arr[0] if spp == 1 else arr.transpose(1, 2, 0)


def _valid_frame(seed):
    rng = np.random.default_rng(seed)
    bits = int(rng.choice([8, 16, 32]))
    spp = int(rng.choice([1, 3]))
    rows, cols = int(rng.integers(1, 12)), int(rng.integers(1, 12))
    shape = (rows, cols, spp) if spp == 3 else (rows, cols)
    arr = (rng.integers(0, 3, size=shape) * rng.integers(1, 2 ** 20)).astype(f"u{bits // 8}")
    return _encode(arr, bits, spp, "pydicom"), (rows, cols, spp, bits)


def test_truncation_at_every_byte():
    for seed in range(6):
        data, geometry = _valid_frame(seed)
        for cut in range(len(data)):
            chunk = data[:cut]
            ref = _pydicom_reference(chunk, *geometry)
            try:
                out = rle_decode_frame(chunk, *geometry)
            except RLEError:
                assert ref is None
                continue
            assert ref is not None
            np.testing.assert_array_equal(out, ref)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 50), st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 255)),
                                    min_size=1, max_size=6))
def test_mutations_agree_with_pydicom(seed, edits):
    """Differential: our decoder succeeds exactly when pydicom's pure-Python
    decoder does, with the same pixels -- except that we refuse a segment
    starting inside the 64-byte header (pydicom would decode header bytes)."""
    data, geometry = _valid_frame(seed)
    mutated = bytearray(data)
    for pos, value in edits:
        mutated[pos % len(mutated)] = value
    ref = _pydicom_reference(mutated, *geometry)
    try:
        out = rle_decode_frame(mutated, *geometry)
    except RLEError as exc:
        if ref is not None:
            nseg = struct.unpack_from("<L", mutated, 0)[0]
            offsets = struct.unpack_from(f"<{min(nseg, 15)}L", mutated, 4)
            assert exc.rle_status == _core.RLE_ERR_OFFSET and min(offsets) < 64
        return
    assert ref is not None
    np.testing.assert_array_equal(out, ref)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 300), st.integers(1, 300), st.sampled_from([1, 3]),
       st.sampled_from([8, 16, 32, 64]))
def test_garbage_never_crashes(data, rows, cols, spp, bits):
    try:
        out = rle_decode_frame(data, rows, cols, spp, bits)
    except RLEError:
        return
    assert out.nbytes == rows * cols * spp * bits // 8 <= 64 * len(data)


def test_segment_decoder():
    assert _core.rle_decode_segment(b"\x01\x02\x03\x80", 10) == b"\x02\x03"
    assert _core.rle_decode_segment(b"\x7f" + b"\x40" * 128 + b"\x80", 1000) == b"\x40" * 128
    assert _core.rle_decode_segment(b"\xff\x02\x80", 10) == b"\x02\x02"
    assert _core.rle_decode_segment(b"\x81\x02", 1000) == b"\x02" * 128
    assert _core.rle_decode_segment(b"\x81\x02", 5) == b"\x02" * 5
    assert _core.rle_decode_segment(b"\x02", 10) == b""
    assert _core.rle_decode_segment(b"\x02\x01", 10) == b"\x01"
    assert _core.rle_decode_segment(b"", 10) == b""


def test_ct_slice_through_dataset_compress():
    """A 16-bit signed CT slice compressed by pydicom (``ds.compress``)."""
    from pydicom.data import get_testdata_file

    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ref = ds.pixel_array.copy()
    ds.compress(RLE)
    buf = io.BytesIO()
    ds.save_as(buf)
    ds = pydicom.dcmread(io.BytesIO(buf.getvalue()))
    info = PixelInfo.from_dataset(ds)
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    out = codecs.decode_frame(RLE, frame, info)
    assert out.dtype == ref.dtype
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(out, ds.pixel_array)
