"""Malformed pixel data: every problem is a clear ``fastdicom.errors`` exception
(``PixelDataError`` and its kin, all ``InvalidDicomError``), never a crash, a
wrong array or a huge allocation. Where pydicom also refuses, both refuse."""
from __future__ import annotations

import io
import struct
import tracemalloc
import warnings

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate, generate_frames
from test_pixels_native import EXPLICIT_LE, make_file

import fastdicom
from fastdicom import pixels
from fastdicom.errors import InvalidDicomError
from fastdicom.pixels import (
    MissingPixelElementError,
    PixelDataError,
    UnsupportedPixelDataError,
    UnsupportedTransferSyntaxError,
)

JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
RLE = "1.2.840.10008.1.2.5"
U16 = np.arange(12, dtype="<u2").tobytes()  # a 4 x 3 16-bit frame


def ours(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fastdicom.dcmread(data).pixel_array


def theirs(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(io.BytesIO(data)).pixel_array


def both_refuse(data, ours_exc=PixelDataError, theirs_exc=Exception):
    with pytest.raises(ours_exc) as info:
        ours(data)
    assert isinstance(info.value, InvalidDicomError)
    with pytest.raises(theirs_exc):
        theirs(data)
    return info.value


def test_error_hierarchy():
    assert issubclass(PixelDataError, InvalidDicomError)
    assert issubclass(MissingPixelElementError, (PixelDataError, AttributeError))
    assert issubclass(UnsupportedPixelDataError, NotImplementedError)
    assert issubclass(UnsupportedTransferSyntaxError, UnsupportedPixelDataError)


# -- lengths ------------------------------------------------------------------------------
@pytest.mark.parametrize("length", [0, 2, 20, 22])
def test_too_short(length):
    exc = both_refuse(make_file(U16[:length]))
    assert "less than expected" in str(exc)


def test_too_short_for_frames_and_frame_access():
    data = make_file(U16 * 2, frames=3)
    both_refuse(data, theirs_exc=ValueError)
    ds = fastdicom.dcmread(data)
    for call in (lambda: pixels.frame(ds, 0), lambda: list(pixels.iter_frames(ds)),
                 lambda: pixels.native_view(ds), lambda: pixels.number_of_frames(ds)):
        with pytest.raises(PixelDataError):
            call()


def test_missing_odd_padding_byte_is_accepted():
    """A 15-byte 8-bit image without its padding byte: accepted, as pydicom."""
    data = make_file(bytes(range(15)), rows=5, columns=3, bits=8)
    value_end = data.rindex(bytes(range(15))) + 15
    assert data[value_end:] == b"\x00"
    length_at = data.rindex(b"\xe0\x7f\x10\x00OB") + 8
    trimmed = data[:length_at] + struct.pack("<L", 15) + data[length_at + 4:value_end]
    arr = ours(trimmed)
    assert np.array_equal(arr.reshape(-1), np.arange(15))


def test_longer_data():
    """Longer data: padding dropped with a warning; extra whole frames returned."""
    data = make_file(U16 + b"\x00" * 6)
    with pytest.warns(UserWarning, match="excess padding"):
        arr = fastdicom.dcmread(data).pixel_array
    assert np.array_equal(arr, theirs(data))
    data = make_file(U16 * 3, frames=1)
    with pytest.warns(UserWarning, match="3 frames"):
        arr = fastdicom.dcmread(data).pixel_array
    assert arr.shape == (3, 4, 3) and np.array_equal(arr, theirs(data))


def test_ybr_full_422_with_full_size_data():
    raw = bytes(4 * 3 * 3)
    exc = both_refuse(make_file(raw, spp=3, bits=8, pi="YBR_FULL_422"), theirs_exc=ValueError)
    assert "YBR_FULL_422" in str(exc)


@pytest.mark.parametrize("rows, columns, frames, bits, spp", [
    (65535, 65535, "2147483647", 64, 3),
    (65535, 65535, "999999999999", 16, 1),
    (65535, 65535, None, 1, 1),
    (1, 1, "2147483647", 8, 1),
])
def test_absurd_sizes_never_allocate(rows, columns, frames, bits, spp):
    """Sizes are checked against the data before any allocation."""
    data = make_file(U16, rows=rows, columns=columns, bits=bits, spp=spp, frames=frames,
                     vr="OB" if bits == 1 else None)
    ds = fastdicom.dcmread(data)
    tracemalloc.start()
    try:
        for call in (lambda: ds.pixel_array, lambda: pixels.frame(ds, 10**9),
                     lambda: pixels.frame(ds, 0)):
            with pytest.raises(PixelDataError, match="less than expected"):
                call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


# -- Image Pixel module values ---------------------------------------------------------
@pytest.mark.parametrize("bits", [0, 3, 7, 12, 65, 128])
def test_bad_bits_allocated(bits):
    exc = both_refuse(make_file(U16, extra={"BitsAllocated": bits, "BitsStored": 1}),
                      theirs_exc=ValueError)
    assert "Bits Allocated" in str(exc)


def test_bits_allocated_24_is_unsupported():
    raw = bytes(4 * 3 * 3)
    both_refuse(make_file(raw, bits=24, vr="OB"), ours_exc=UnsupportedPixelDataError,
                theirs_exc=NotImplementedError)


@pytest.mark.parametrize("stored", [0, 17])
def test_bad_bits_stored(stored):
    exc = both_refuse(make_file(U16, extra={"BitsStored": stored}), theirs_exc=ValueError)
    assert "Bits Stored" in str(exc)


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom, on writing the bad values
@pytest.mark.parametrize("keyword, value", [
    ("SamplesPerPixel", 2), ("SamplesPerPixel", 4), ("PixelRepresentation", 2),
    ("PhotometricInterpretation", "NOT_A_COLOUR_SPACE"), ("Rows", 0), ("Columns", 0),
    ("NumberOfFrames", "-1"),
])
def test_bad_values(keyword, value):
    both_refuse(make_file(U16, extra={keyword: value}), theirs_exc=ValueError)


def test_bad_planar_configuration():
    both_refuse(make_file(bytes(36), spp=3, bits=8, planar=2), theirs_exc=ValueError)


def test_number_of_frames_zero_or_empty_means_one():
    for value in ("0", ""):
        data = make_file(U16, frames=value)
        assert np.array_equal(ours(data), theirs(data))


def test_non_integer_number_of_frames():
    data = make_file(U16, frames="17")
    at = data.index(b"\x28\x00\x08\x00IS\x02\x0017")
    data = data[:at + 8] + b"1A" + data[at + 10:]
    with pytest.raises(PixelDataError, match="not an integer"):
        ours(data)


@pytest.mark.parametrize("keyword", [
    "Rows", "Columns", "BitsAllocated", "BitsStored", "PixelRepresentation",
    "PhotometricInterpretation", "SamplesPerPixel",
])
def test_missing_required_element(keyword):
    exc = both_refuse(make_file(U16, drop=[keyword]), MissingPixelElementError, AttributeError)
    assert isinstance(exc, AttributeError)


def test_missing_planar_configuration():
    both_refuse(make_file(bytes(36), spp=3, bits=8, drop=["PlanarConfiguration"]),
                MissingPixelElementError, AttributeError)


def test_missing_pixel_data_and_two_pixel_elements():
    both_refuse(make_file(U16, drop=["PixelData"]), MissingPixelElementError, AttributeError)
    data = make_file(U16, extra={"FloatPixelData": np.zeros(12, "<f4").tobytes()})
    both_refuse(data, PixelDataError, AttributeError)


def test_no_or_unknown_transfer_syntax():
    data = make_file(U16)
    meta_end = 132 + 12 + struct.unpack_from("<L", data, 140)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = fastdicom.dcmread(data[meta_end:], force=True)
    with pytest.raises(MissingPixelElementError, match="Transfer Syntax"):
        ds.pixel_array
    ds = fastdicom.dcmread(make_file(U16))
    ds.file_meta.TransferSyntaxUID = "1.2.3.4.5"
    ds.transfer_syntax_uid = "1.2.3.4.5"
    with pytest.raises(UnsupportedTransferSyntaxError):
        ds.pixel_array


def test_colour_conversion_needs_8_bits():
    both_refuse(make_file(bytes(72), spp=3, pi="YBR_FULL"), PixelDataError, ValueError)


def test_frame_index_out_of_range():
    ds = fastdicom.dcmread(make_file(U16 * 2, frames=2))
    for i in (2, 100, -3):
        with pytest.raises(IndexError):
            pixels.frame(ds, i)
        with pytest.raises(IndexError):
            pixels.native_view(ds, i)
    assert np.array_equal(pixels.frame(ds, -2), pixels.frame(ds, 0))


def test_native_view_refusals():
    cases = [
        make_file(bytes(2), rows=4, columns=4, bits=1, vr="OB"),
        make_file(np.arange(12, dtype=">u2").tobytes(), ts="1.2.840.10008.1.2.2"),
        make_file(bytes(36), spp=3, bits=8, pi="YBR_FULL"),
    ]
    for data in cases:
        with pytest.raises(PixelDataError, match="zero-copy"):
            pixels.native_view(fastdicom.dcmread(data))


# -- encapsulated data ------------------------------------------------------------------
def item(payload):
    return b"\xfe\xff\x00\xe0" + struct.pack("<L", len(payload)) + payload


def encapsulated(fragments, bot=None):
    """Encapsulated Pixel Data value: a Basic Offset Table item then fragments."""
    table = b"".join(struct.pack("<L", o) for o in (bot or []))
    return item(table) + b"".join(item(f) for f in fragments)


def jpeg(n, size=30):
    """A fake JPEG frame: SOI ... EOI (the codec is not involved here)."""
    return b"\xff\xd8" + bytes([n]) * (size - 4) + b"\xff\xd9"


def enc_file(value, frames=1, ts=JPEG_BASELINE, **kw):
    return make_file(value, ts=ts, bits=8, frames=frames, **kw)


def frames_of(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [bytes(f) for f in pixels.encapsulated_frames(fastdicom.dcmread(data))]


def pydicom_frames(data, frames):
    ds = pydicom.dcmread(io.BytesIO(data))
    eot = None
    if "ExtendedOffsetTable" in ds:
        eot = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(generate_frames(ds.PixelData, number_of_frames=frames, extended_offsets=eot))


@pytest.mark.parametrize("layout", ["bot", "1:1", "one frame", "eoi"])
def test_valid_layouts_match_pydicom(layout):
    f = [jpeg(k) for k in range(3)]
    if layout == "bot":
        value, frames = encapsulated([f[0][:10], f[0][10:], f[1], f[2]], bot=[0, 46, 84]), 3
    elif layout == "1:1":
        value, frames = encapsulated(f), 3
    elif layout == "one frame":
        value, frames = encapsulated([f[0][:7], f[0][7:]]), 1
    else:  # more fragments than frames, no table: frames end at a JPEG EOI marker
        value, frames = encapsulated([f[0][:12], f[0][12:], f[1][:5], f[1][5:], f[2]]), 3
    data = enc_file(value, frames)
    got = frames_of(data)
    assert got == pydicom_frames(data, frames)
    assert got == f[:frames]
    ds = fastdicom.dcmread(data)
    assert bytes(pixels.encapsulated_frame(ds, frames - 1)) == f[frames - 1]
    with pytest.raises(IndexError):
        pixels.encapsulated_frame(ds, frames)


def test_single_fragment_frames_are_zero_copy():
    data = enc_file(encapsulated([jpeg(1), jpeg(2)]), 2)
    ds = fastdicom.dcmread(data)
    got = pixels.encapsulated_frames(ds)
    assert all(isinstance(f, memoryview) for f in got)
    base = np.frombuffer(ds["PixelData"].raw_bytes, np.uint8)
    assert all(np.shares_memory(np.frombuffer(f, np.uint8), base) for f in got)


def test_extended_offset_table():
    f = [jpeg(k, 20 + 2 * k) for k in range(3)]
    value = encapsulated(f)
    offsets, pos = [], 0
    for x in f:
        offsets.append(pos)
        pos += 8 + len(x)
    eot = {"ExtendedOffsetTable": struct.pack("<3Q", *offsets),
           "ExtendedOffsetTableLengths": struct.pack("<3Q", *map(len, f))}
    data = enc_file(value, 3, extra=eot)
    assert frames_of(data) == f == pydicom_frames(data, 3)
    bad = dict(eot, ExtendedOffsetTable=struct.pack("<3Q", 0, offsets[1], 10_000))
    with pytest.raises(PixelDataError, match="Extended Offset Table"):
        frames_of(enc_file(value, 3, extra=bad))
    bad = dict(eot, ExtendedOffsetTableLengths=struct.pack("<3Q", 20, 22, 10_000))
    with pytest.raises(PixelDataError, match="outside"):
        frames_of(enc_file(value, 3, extra=bad))
    odd = dict(eot, ExtendedOffsetTable=b"\x00" * 12)
    with pytest.raises(PixelDataError, match="64-bit"):
        frames_of(enc_file(value, 3, extra=odd))
    # counts that disagree: the table is ignored with a warning (as pydicom)
    short = dict(eot, ExtendedOffsetTableLengths=struct.pack("<2Q", 20, 22))
    with pytest.warns(UserWarning, match="don't match"):
        got = pixels.encapsulated_frames(fastdicom.dcmread(enc_file(value, 3, extra=short)))
    assert [bytes(x) for x in got] == f


@pytest.mark.parametrize("bot, match", [
    ([0, 38, 5000], "outside"),
    ([0, 68, 38], "does not increase"),
    ([0, 38, 38], "does not increase"),
    ([0, 40, 68], "not the start of a fragment"),
])
def test_bad_basic_offset_table(bot, match):
    f = [jpeg(k) for k in range(3)]
    value = encapsulated([f[0][:10], f[0][10:], f[1], f[2]], bot=bot)
    with pytest.raises(PixelDataError, match=match):
        frames_of(enc_file(value, 3))


def test_basic_offset_table_not_a_multiple_of_4():
    value = item(b"\x00" * 6) + item(jpeg(1))
    with pytest.raises(PixelDataError, match="multiple of 4"):
        frames_of(enc_file(value))


def test_fewer_fragments_than_frames():
    value = encapsulated([jpeg(1), jpeg(2)])
    with pytest.raises(PixelDataError, match="fewer fragments"):
        frames_of(enc_file(value, 3))
    with pytest.raises(ValueError):
        pydicom_frames(enc_file(value, 3), 3)


def test_missing_eoi_warns_and_keeps_the_rest():
    f = [jpeg(1), jpeg(2)[:-2] + b"\x00\x00"]
    value = encapsulated([f[0][:9], f[0][9:], f[1][:9], f[1][9:]])
    data = enc_file(value, 2)
    with pytest.warns(UserWarning, match="fewer frames than expected"):
        got = [bytes(x) for x in pixels.encapsulated_frames(fastdicom.dcmread(data))]
    assert got == f == pydicom_frames(data, 2)


def test_no_fragments():
    with pytest.raises(PixelDataError, match="no fragments"):
        frames_of(enc_file(item(b"")))


def test_fragment_past_the_end_of_the_file():
    data = enc_file(encapsulated([jpeg(1)]))
    at = data.rindex(struct.pack("<L", 30))
    broken = data[:at] + struct.pack("<L", 3000) + data[at + 4:]
    with pytest.raises(InvalidDicomError):
        frames_of(broken)


@pytest.mark.parametrize("value, match", [
    (item(b"") + b"\xfe\xff\x00\xe0" + struct.pack("<L", 500) + b"abc", "past the end"),
    (item(b"") + b"\xfe\xff\x00\xe0\xff\xff\xff\xff" + b"abcd", "Undefined item length"),
    (item(b"") + b"\x10\x00\x10\x00" + struct.pack("<L", 2) + b"ab", "Unexpected tag"),
    (b"\x10\x00\x10\x00\x00\x00\x00\x00", "instead of"),
    (b"\xfe\xff\x00\xe0" + struct.pack("<L", 100), "Basic Offset Table"),
    (b"\xfe\xff", "too short"),
])
def test_user_assigned_encapsulated_bytes(value, match):
    """Items parsed from a value the user assigned (not from the element table)."""
    ds = fastdicom.dcmread(enc_file(encapsulated([jpeg(1)])))
    ds.PixelData = value
    with pytest.raises(PixelDataError, match=match):
        pixels.encapsulated_frames(ds)


def test_user_assigned_encapsulated_bytes_valid():
    f = [jpeg(1), jpeg(2)]
    ds = fastdicom.dcmread(enc_file(encapsulated([jpeg(9)]), 2))
    ds.PixelData = encapsulate(f, has_bot=True)
    assert [bytes(x) for x in pixels.encapsulated_frames(ds)] == f


def test_encapsulated_data_in_a_native_transfer_syntax():
    data = make_file(encapsulate([jpeg(1)]), ts=JPEG_BASELINE, bits=8)
    ds = fastdicom.dcmread(data)
    ds.file_meta.TransferSyntaxUID = EXPLICIT_LE
    ds.transfer_syntax_uid = EXPLICIT_LE
    with pytest.raises(PixelDataError, match="encapsulated"):
        ds.pixel_array


def test_compressed_without_codec_or_with_it():
    data = enc_file(encapsulated([jpeg(1)]), ts=RLE)
    ds = fastdicom.dcmread(data)
    try:
        ds.pixel_array
    except UnsupportedTransferSyntaxError as exc:
        assert "codecs" in str(exc)
    except InvalidDicomError:
        pass  # a codec exists and refuses the fake RLE data: fine
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"not a fastdicom error: {exc!r}")
