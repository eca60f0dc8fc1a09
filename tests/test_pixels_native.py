"""Pixel data against pydicom, the oracle: ``pixel_array``, ``frame``,
``iter_frames`` and ``native_view``.

Every corpus file with pixel data that pydicom decodes (with the installed
plugins) gives the same shape, dtype and values. One documented difference:
pydicom returns Explicit VR Big Endian data in a big-endian dtype (``>u2``);
ours is native byte order, so dtypes are compared byte-order-free.
Compressed files are compared too (``fastdicom.pixels.codecs``; without it
they must raise our clear error); lossy JPEG within a stated tolerance, see
LOSSY_TOLERANCE. Datasets the corpus lacks (float and
double float pixel data, odd bit depths, big endian 8-bit OW, 1-bit frames
that do not end on a byte...) are generated with pydicom.
"""
from __future__ import annotations

import gc
import importlib.util
import io
import os
import warnings

import numpy as np
import pydicom
import pytest
from corpus import CORPUS, corpus_id
from pydicom.dataset import Dataset as PdDataset
from pydicom.dataset import FileMetaDataset
from pydicom.uid import UID

import fastdicom
from fastdicom import pixels
from fastdicom.errors import InvalidDicomError

NATIVE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"}
EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
# Lossy JPEG (baseline, extended): ``pixel_array`` decodes with imagecodecs
# (libjpeg-turbo) first, pydicom with pylibjpeg-libjpeg (IJG libjpeg 9): their
# IDCTs and chroma upsampling differ within ISO 10918-1 accuracy, so values may
# differ by a few grey levels (corpus: at most 5, on < 9 % of the samples).
# Decoded with pylibjpeg, our frames give exactly pydicom's array.
LOSSY_JPEG = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"}
LOSSY_TOLERANCE = 8
HAVE_CODECS = importlib.util.find_spec("fastdicom.pixels.codecs") is not None
PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def _pixel_files():
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in CORPUS:
            try:
                ds = pydicom.dcmread(path)
            except Exception:
                continue
            if any(k in ds for k in PIXEL_KEYWORDS):
                ts = str(getattr(ds, "file_meta", {}).get("TransferSyntaxUID", ""))
                out.append(pytest.param(path, ts, id=corpus_id(path)))
    return out


PIXEL_FILES = _pixel_files()


def reference(path):
    """pydicom's pixel_array, or the exception it raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(path).pixel_array
        except Exception as exc:  # noqa: BLE001 - the oracle's failure is data
            return exc


def assert_same(ours, ref):
    assert ours.shape == ref.shape
    assert ours.dtype == ref.dtype.newbyteorder("=")
    assert ours.dtype.isnative
    assert np.array_equal(ours, ref)
    assert ours.flags.writeable


def test_corpus_has_pixel_files():
    assert len(PIXEL_FILES) >= 150
    assert sum(1 for p in PIXEL_FILES if p.values[1] in NATIVE) >= 100


@pytest.mark.parametrize("path, ts", PIXEL_FILES)
def test_pixel_array_matches_pydicom(path, ts):
    ref = reference(path)
    native = ts in NATIVE
    if isinstance(ref, Exception):
        if not native:
            # pydicom cannot decode it: a clear error from us, or (libjpeg-turbo
            # decodes more JPEG than pydicom's plugins) an array of the right size
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = fastdicom.dcmread(path)
                try:
                    arr = ds.pixel_array
                except (InvalidDicomError, AttributeError):
                    return
            info = pixels.PixelInfo.from_dataset(ds) if hasattr(pixels, "PixelInfo") else None
            assert arr.size > 0 and (info is None or arr.shape[-2 if info.samples_per_pixel == 1 else -3] == info.columns or arr.shape[-1 if info.samples_per_pixel == 1 else -2] == info.columns)
            return
        # what pydicom refuses, we refuse with a clear error
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises((InvalidDicomError, AttributeError)):
                pixels.pixel_array(fastdicom.dcmread(path))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = fastdicom.dcmread(path)
        if not native and not HAVE_CODECS:
            with pytest.raises(pixels.UnsupportedTransferSyntaxError):
                ds.pixel_array
            return
        ours = ds.pixel_array
        if ts in LOSSY_JPEG:
            same_library = _decode_with_pylibjpeg(ds)
    if ts in LOSSY_JPEG:
        assert_same(same_library, ref)  # the library pydicom uses: equal
        assert ours.shape == ref.shape and ours.dtype == ref.dtype
        diff = np.abs(ours.astype(np.int64) - ref.astype(np.int64))
        assert diff.max() <= LOSSY_TOLERANCE and (diff > 0).mean() < 0.15
        return
    assert_same(ours, ref)


def _decode_with_pylibjpeg(ds):
    """Our frames decoded by pylibjpeg-libjpeg, the plugin pydicom picks."""
    from fastdicom.pixels import codecs

    info = pixels.PixelInfo.from_dataset(ds)
    encoded = pixels.encapsulated_frames(ds, info)[: info.number_of_frames]
    arr = codecs.decode_frames(info.transfer_syntax_uid, encoded, info, plugin="pylibjpeg")
    return arr[0] if arr.shape[0] == 1 else arr


def _multi_frame_native():
    return [p for p in PIXEL_FILES if p.values[1] in NATIVE]


@pytest.mark.parametrize("path, ts", _multi_frame_native())
def test_frames_and_views(path, ts):
    """frame(ds, i) / iter_frames equal pixel_array frame by frame; native_view
    equals pixel_array where it is allowed, and raises our error otherwise."""
    warnings.simplefilter("ignore")  # pytest restores the filters after each test
    try:
        ds = fastdicom.dcmread(path)
        whole = pixels.pixel_array(ds)
    except (InvalidDicomError, AttributeError):
        return
    if True:
        n = pixels.number_of_frames(ds)
        frames = [pixels.frame(ds, i) for i in range(n)]
        iterated = list(pixels.iter_frames(ds))
        try:
            view = pixels.native_view(ds)
        except pixels.PixelDataError:
            view = None
    info = pixels.PixelInfo.from_dataset(ds)
    if n > 1:
        assert len(whole) == n
        for i in range(n):
            assert np.array_equal(frames[i], whole[i])
            assert np.array_equal(iterated[i], whole[i])
        assert np.array_equal(pixels.frame(ds, -1), whole[-1])
    else:
        assert np.array_equal(frames[0], whole)
        assert np.array_equal(iterated[0], whole)
    assert len(iterated) == n
    with pytest.raises(IndexError):
        pixels.frame(ds, n)
    allowed = (info.bits_allocated != 1 and (info.little_endian or info.bits_allocated == 8 and info.pixel_vr != "OW")
               and info.photometric_interpretation not in ("YBR_FULL", "YBR_FULL_422"))
    if view is not None:
        assert allowed
        assert not view.flags.writeable
        assert view.shape == whole.shape and view.dtype == whole.dtype
        assert np.array_equal(view, whole)
        assert np.shares_memory(view, np.frombuffer(ds["PixelData"].raw_bytes, np.uint8))
        if n > 1:
            assert np.array_equal(pixels.native_view(ds, n - 1), whole[n - 1])
    elif allowed:  # refused only because samples use bits above Bits Stored
        assert info.bits_stored < info.bits_allocated
        raw = np.frombuffer(ds["PixelData"].raw_bytes, info.dtype, whole.size)
        assert not np.array_equal(raw.reshape(whole.shape), whole)


# -- generated datasets -----------------------------------------------------------------
def make_file(pixel_bytes, *, ts=EXPLICIT_LE, rows=4, columns=3, spp=1, bits=16, stored=None,
              rep=0, pi=None, planar=0, frames=None, keyword="PixelData", vr=None, extra=None,
              drop=()):
    """A DICOM file (bytes) written by pydicom holding the given pixel data;
    ``extra`` sets (or overrides) attributes, ``drop`` removes them."""
    ds = PdDataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4"
    ds.Rows = rows
    ds.Columns = columns
    ds.SamplesPerPixel = spp
    ds.PhotometricInterpretation = pi or ("MONOCHROME2" if spp == 1 else "RGB")
    if spp > 1:
        ds.PlanarConfiguration = planar
    ds.BitsAllocated = bits
    if keyword == "PixelData":
        ds.BitsStored = stored if stored is not None else bits
        ds.HighBit = ds.BitsStored - 1
        ds.PixelRepresentation = rep
    if frames is not None:
        ds.NumberOfFrames = frames
    if vr is None:
        vr = {"PixelData": "OW" if bits > 8 else "OB", "FloatPixelData": "OF",
              "DoubleFloatPixelData": "OD"}[keyword]
    ds.add_new(pydicom.datadict.tag_for_keyword(keyword), vr, pixel_bytes)
    for k, v in (extra or {}).items():
        setattr(ds, k, v)
    for k in drop:
        delattr(ds, k)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = UID(ts)
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True,
               implicit_vr=ts == IMPLICIT_LE, little_endian=ts != EXPLICIT_BE)
    return buf.getvalue()


def both(data):
    """(ours, pydicom's) pixel arrays of a file, warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pydicom.dcmread(io.BytesIO(data)).pixel_array
        ours = fastdicom.dcmread(data).pixel_array
    return ours, ref


RNG = np.random.default_rng(1234)

CASES = {
    # name: (dtype stored little endian, make_file kwargs)
    "u8": ("u1", dict(bits=8)),
    "i8_stored5": ("u1", dict(bits=8, stored=5, rep=1)),
    "u16_stored12": ("<u2", dict(bits=16, stored=12)),
    "i16_stored12": ("<u2", dict(bits=16, stored=12, rep=1)),
    "i16_stored1": ("<u2", dict(bits=16, stored=1, rep=1)),
    "u32_stored20": ("<u4", dict(bits=32, stored=20)),
    "i32": ("<u4", dict(bits=32, rep=1)),
    "i32_stored31": ("<u4", dict(bits=32, stored=31, rep=1)),
    "u64": ("<u8", dict(bits=64, vr="OV")),
    "i64_stored40": ("<u8", dict(bits=64, stored=40, rep=1, vr="OV")),
    "rgb8_planar0_2f": ("u1", dict(bits=8, spp=3, frames=2)),
    "rgb8_planar1_3f": ("u1", dict(bits=8, spp=3, planar=1, frames=3)),
    "rgb16_planar1": ("<u2", dict(bits=16, spp=3, planar=1, stored=10)),
    "ybr_full": ("u1", dict(bits=8, spp=3, pi="YBR_FULL")),
    "ybr_full_planar1_2f": ("u1", dict(bits=8, spp=3, pi="YBR_FULL", planar=1, frames=2)),
    "float": ("<f4", dict(bits=32, keyword="FloatPixelData", frames=2)),
    "double": ("<f8", dict(bits=64, keyword="DoubleFloatPixelData")),
}


def _stored(dtype, count):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return RNG.standard_normal(count).astype(dt)
    return RNG.integers(0, 1 << (8 * dt.itemsize), count, dtype=np.uint64).astype(dt)


@pytest.mark.parametrize("ts", [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE])
@pytest.mark.parametrize("name", sorted(CASES))
def test_generated(name, ts):
    dtype, kw = CASES[name]
    kw = dict(kw)
    count = 4 * 3 * kw.get("spp", 1) * kw.get("frames", 1)
    arr = _stored(dtype, count)  # random high bits: masking / sign extension matter
    if ts == EXPLICIT_BE:
        arr = arr.astype(np.dtype(dtype).newbyteorder(">"))
    if ts == IMPLICIT_LE and kw.get("vr") in ("OV",):
        kw.pop("vr")
    data = make_file(arr.tobytes(), ts=ts, **kw)
    ours, ref = both(data)
    assert_same(ours, ref)
    ds = fastdicom.dcmread(data)
    n = kw.get("frames", 1)
    for i in range(n):
        assert np.array_equal(pixels.frame(ds, i), ours[i] if n > 1 else ours)


@pytest.mark.parametrize("ts", [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE])
@pytest.mark.parametrize("name", ["u16_stored12", "i16_stored12", "i32_stored31", "rgb16_planar1"])
@pytest.mark.parametrize("edge", ["inside", "lowest", "highest", "one_out"])
def test_samples_within_bits_stored(name, ts, edge):
    """Samples that already fit Bits Stored (the usual case: copied, then only
    checked) and the first value outside it (masked or sign-extended)."""
    dtype, kw = CASES[name]
    count = 4 * 3 * kw.get("spp", 1) * kw.get("frames", 1)
    bs, signed = kw["stored"], kw.get("rep", 0)
    lo, hi = (-(1 << (bs - 1)), (1 << (bs - 1)) - 1) if signed else (0, (1 << bs) - 1)
    values = RNG.integers(lo, hi + 1, count)
    values[count // 2] = {"inside": values[0], "lowest": lo, "highest": hi, "one_out": hi + 1}[edge]
    arr = values.astype(np.dtype(dtype).str.replace("u", "i" if signed else "u"))
    if ts == EXPLICIT_BE:
        arr = arr.astype(arr.dtype.newbyteorder(">"))
    ours, ref = both(make_file(arr.tobytes(), ts=ts, **kw))
    assert_same(ours, ref)


@pytest.mark.parametrize("ts", [EXPLICIT_LE, EXPLICIT_BE])
@pytest.mark.parametrize("rows, columns, frames", [(3, 3, 3), (5, 7, 4), (8, 8, 2), (1, 1, 9), (2, 5, 1)])
def test_one_bit(rows, columns, frames, ts):
    """1-bit frames need not end on a byte boundary: frame i starts at bit i*rows*cols."""
    nbits = rows * columns * frames
    packed = np.packbits(RNG.integers(0, 2, nbits).astype(np.uint8), bitorder="little")
    raw = packed.tobytes()
    data = make_file(raw, ts=ts, rows=rows, columns=columns, bits=1, frames=frames, vr="OB")
    ds = fastdicom.dcmread(data)
    ours = ds.pixel_array
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pydicom.dcmread(io.BytesIO(data)).pixel_array
    assert_same(ours, ref)
    for i in range(frames):
        expect = ours[i] if frames > 1 else ours
        assert np.array_equal(pixels.frame(ds, i), expect)
    with pytest.raises(pixels.PixelDataError):
        pixels.native_view(ds)


@pytest.mark.parametrize("frames", [1, 2, 3])
@pytest.mark.parametrize("columns", [2, 3])
def test_big_endian_8bit_ow(frames, columns):
    """Explicit VR Big Endian 8-bit data in an OW element is stored swapped in
    byte pairs (pydicom's ``be_swap_ow``), odd lengths included."""
    count = 1 * columns * 3 * frames
    samples = RNG.integers(0, 256, count, dtype=np.uint8)
    raw = samples.tobytes() + (b"\x00" if count % 2 else b"")
    swapped = np.frombuffer(raw, ">u2").astype("<u2").tobytes()
    data = make_file(swapped, ts=EXPLICIT_BE, rows=1, columns=columns, spp=3, bits=8,
                     frames=frames, vr="OW")
    ours, ref = both(data)
    assert_same(ours, ref)
    ds = fastdicom.dcmread(data)
    for i in range(frames):
        assert np.array_equal(pixels.frame(ds, i), ours[i] if frames > 1 else ours)
        assert np.array_equal(pixels.frame(ds, i).reshape(-1), samples[i * columns * 3:(i + 1) * columns * 3])
    with pytest.raises(pixels.PixelDataError):
        pixels.native_view(ds)


@pytest.mark.parametrize("frames", [1, 2])
def test_ybr_full_422(frames):
    """Native YBR_FULL_422: upsampled (Y1 Y2 Cb Cr -> two YCbCr pixels), then to RGB."""
    rows, columns = 2, 4
    count = rows * columns * 2 * frames
    raw = RNG.integers(0, 256, count, dtype=np.uint8).tobytes()
    data = make_file(raw, rows=rows, columns=columns, spp=3, bits=8, pi="YBR_FULL_422", frames=frames)
    ours, ref = both(data)
    assert_same(ours, ref)
    ds = fastdicom.dcmread(data)
    for i in range(frames):
        assert np.array_equal(pixels.frame(ds, i), ours[i] if frames > 1 else ours)


def test_odd_length_and_padding():
    raw = bytes(range(15))  # 5 x 3 x 1 8-bit: odd, written with its padding byte
    ours, ref = both(make_file(raw, rows=5, columns=3, bits=8))
    assert_same(ours, ref)
    # excess padding beyond a frame is dropped (pydicom warns and drops it)
    data = make_file(bytes(range(12)) + b"\x00" * 4, rows=4, columns=3, bits=8, frames=1)
    with pytest.warns(UserWarning, match="padding"):
        fastdicom.dcmread(data).pixel_array
    ours, ref = both(data)
    assert_same(ours, ref)


def test_excess_frames_are_returned():
    """Data holding more whole frames than Number of Frames: pydicom returns them all."""
    raw = np.arange(4 * 3 * 3, dtype="<u2").tobytes()
    data = make_file(raw, frames=2)
    with pytest.warns(UserWarning, match="3 frames"):
        arr = fastdicom.dcmread(data).pixel_array
    assert arr.shape == (3, 4, 3)
    ours, ref = both(data)
    assert_same(ours, ref)
    ds = fastdicom.dcmread(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert pixels.number_of_frames(ds) == 3
        assert np.array_equal(pixels.frame(ds, 2), ref[2])


def test_native_view_is_zero_copy_and_read_only():
    raw = np.arange(4 * 3 * 2, dtype="<i2").tobytes()
    ds = fastdicom.dcmread(make_file(raw, rep=1, frames=2))
    view = pixels.native_view(ds)
    assert not view.flags.writeable
    assert np.shares_memory(view, np.frombuffer(ds["PixelData"].raw_bytes, np.uint8))
    arr = ds.pixel_array
    assert np.array_equal(view, arr)
    assert not np.shares_memory(arr, view)
    arr[0, 0, 0] = 999  # the writable array is a copy
    assert view[0, 0, 0] == 0
    one = pixels.native_view(ds, 1)
    assert one.shape == (4, 3) and np.array_equal(one, arr[1])
    # Bits Stored < Bits Allocated: allowed only while no sample needs masking
    ok = fastdicom.dcmread(make_file(np.arange(12, dtype="<u2").tobytes(), stored=12))
    assert np.array_equal(pixels.native_view(ok), ok.pixel_array)
    bad = fastdicom.dcmread(make_file(np.full(12, 0xF000, "<u2").tobytes(), stored=12))
    with pytest.raises(pixels.PixelDataError, match="Bits Stored"):
        pixels.native_view(bad)
    neg = fastdicom.dcmread(make_file(np.full(12, -5, "<i2").tobytes(), stored=12, rep=1))
    assert np.array_equal(pixels.native_view(neg), neg.pixel_array)


def test_deflated_and_user_assigned_pixel_data():
    raw = np.arange(12, dtype="<u2").tobytes()
    ours, ref = both(make_file(raw, ts="1.2.840.10008.1.2.1.99"))
    assert_same(ours, ref)
    ds = fastdicom.dcmread(make_file(raw))
    ds.PixelData = np.arange(12, 24, dtype="<u2").tobytes()  # no longer read from the file
    assert np.array_equal(ds.pixel_array, np.arange(12, 24).reshape(4, 3))


def test_pixel_info():
    ds = fastdicom.dcmread(make_file(np.zeros(36, "<u2").tobytes(), spp=3, planar=1, stored=12,
                                     rep=1, frames="3"))
    info = pixels.PixelInfo.from_dataset(ds)
    assert (info.rows, info.columns, info.samples_per_pixel, info.number_of_frames) == (4, 3, 3, 3)
    assert (info.bits_allocated, info.bits_stored, info.pixel_representation) == (16, 12, 1)
    assert info.planar_configuration == 1 and info.little_endian and not info.is_encapsulated
    assert info.frame_shape == (4, 3, 3) and info.dtype == np.int16
    with pytest.raises(AttributeError):
        info.rows = 5  # frozen


def test_compressed_frames_match_pixel_array():
    """frame(ds, i) and iter_frames agree with pixel_array for compressed files."""
    checked = 0
    for p in PIXEL_FILES:
        path, ts = p.values
        if ts in NATIVE or not ts:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = fastdicom.dcmread(path)
                whole = ds.pixel_array
            except (InvalidDicomError, AttributeError):
                continue  # compared with pydicom's refusal above
            n = pixels.number_of_frames(ds)
            got = list(pixels.iter_frames(ds))
            firsts = [pixels.frame(ds, i) for i in range(min(n, 2))]
        if n == 1:
            whole = whole[None]
        assert len(got) == len(whole) == n
        for i, f in enumerate(got):
            assert f.dtype == whole.dtype and np.array_equal(f, whole[i])
        for i, f in enumerate(firsts):
            assert np.array_equal(f, whole[i])
        checked += 1
    assert checked >= 40


def _rle_file(frames, declared):
    raw = np.arange(4 * 3 * frames, dtype="<u2").tobytes()
    pd = pydicom.dcmread(io.BytesIO(make_file(raw, frames=frames)))
    pd.compress(pydicom.uid.RLELossless, encoding_plugin="pydicom")  # with a Basic Offset Table
    pd.NumberOfFrames = declared
    buf = io.BytesIO()
    pd.save_as(buf)
    return buf.getvalue()


def test_compressed_excess_and_missing_frames():
    """More frames in the offset table than Number of Frames: returned, with
    pydicom's warning; fewer: our error (pydicom leaks a StopIteration)."""
    data = _rle_file(3, 2)
    with pytest.warns(UserWarning, match="3 frames have been found"):
        ours = fastdicom.dcmread(data).pixel_array
    ref = reference(io.BytesIO(data))
    assert_same(ours, ref)
    assert ours.shape == (3, 4, 3)
    ds = fastdicom.dcmread(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frames = list(pixels.iter_frames(ds))
    assert len(frames) == 3 and all(np.array_equal(f, ref[i]) for i, f in enumerate(frames))
    assert np.array_equal(pixels.frame(ds, 2), ref[2])
    data = _rle_file(3, 4)
    with pytest.raises(pixels.PixelDataError, match="fewer than"):
        fastdicom.dcmread(data).pixel_array
    with pytest.raises(StopIteration):
        pydicom.dcmread(io.BytesIO(data)).pixel_array


# -- a big file: reading one frame maps only that frame ----------------------------------
def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_big_multiframe_file_reads_one_frame(tmp_path):
    rows, columns, frames = 256, 200, 1000  # 100 KB a frame, ~100 MB of pixel data
    frame_bytes = rows * columns * 2
    header = make_file(b"", rows=rows, columns=columns, bits=16, frames=frames)
    assert header.endswith(b"\xe0\x7f\x10\x00OW\x00\x00\x00\x00\x00\x00")  # empty Pixel Data last
    path = tmp_path / "big.dcm"
    with open(path, "wb") as f:
        f.write(header[:-4] + (frame_bytes * frames).to_bytes(4, "little"))
        base = np.arange(rows * columns, dtype="<u2")
        for k in range(frames):
            f.write((base + k).astype("<u2").tobytes())
    gc.collect()
    before = _rss()
    ds = fastdicom.dcmread(path)
    one = pixels.frame(ds, 500)
    view = pixels.native_view(ds, 700)
    first = int(view[0, 0])
    grown = _rss() - before
    assert one.shape == (rows, columns)
    assert np.array_equal(one.reshape(-1), base + 500)
    assert first == 700
    assert grown < 12 * frame_bytes + (2 << 20), grown  # a few frames, never the file
    assert sum(1 for _ in zip(range(3), pixels.iter_frames(ds))) == 3
    del ds, one, view


def test_pixel_array_of_a_path_and_namespace(tmp_path):
    path = tmp_path / "one.dcm"
    path.write_bytes(make_file(np.arange(12, dtype="<u2").tobytes()))
    expect = np.arange(12).reshape(4, 3)
    assert np.array_equal(pixels.pixel_array(str(path)), expect)
    with open(path, "rb") as f:
        assert np.array_equal(pixels.pixel_array(f), expect)
    assert callable(pixels.apply_modality_lut) and callable(pixels.overlay_array)
    with pytest.raises(AttributeError):
        pixels.no_such_function
