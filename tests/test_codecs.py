"""fastdicom.pixels.codecs against pydicom 3's pixel_array.

Every corpus file of the JPEG, JPEG-LS and JPEG 2000 syntaxes, and generated
files for the syntaxes the corpus lacks (HTJ2K, JPEG lossless process 14,
12-bit signed JPEG-LS), frame by frame and with both codec libraries.

Tolerance: exact equality whenever the same library decodes as in pydicom, and
for every lossless syntax and JPEG-LS/JPEG 2000 whatever the library (their
decoding is exactly specified; pydicom uses pylibjpeg-openjpeg = OpenJPEG, as
imagecodecs does). The one exception is lossy JPEG (baseline, extended)
decoded by imagecodecs: libjpeg-turbo's IDCT and chroma upsampling differ from
pylibjpeg-libjpeg's (both conform to ISO 10918-2 accuracy). Measured on the
16 lossy corpus files: 5 identical, the others differ by at most 5 levels
(color3d_jpeg_baseline, 4:2:2 upsampling) on at most 8.5% of the samples,
mean absolute difference at most 0.12; the test allows 8 levels max and a
mean of 0.25. With ``plugin="pylibjpeg"`` those files match exactly too.
"""
from __future__ import annotations

import sys
import threading
import warnings

import numpy as np
import pytest

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_frames

from corpus import corpus_id, files_with_transfer_syntax
import fastdicom
from fastdicom.errors import InvalidDicomError
from fastdicom.pixels import codecs
from fastdicom.pixels._info import PixelInfo, UnsupportedTransferSyntaxError
from fastdicom.pixels.codecs import CodecError, CodecUnavailableError

LOSSY_JPEG = {codecs.JPEG_BASELINE, codecs.JPEG_EXTENDED}


CODEC_FILES = files_with_transfer_syntax(lambda ts: ts in codecs.CODEC_SYNTAXES)


def _frames(ds, info):
    return list(generate_frames(ds.PixelData, number_of_frames=info.number_of_frames))


def _compare(ours, ref, exact):
    assert ours.dtype == ref.dtype and ours.shape == ref.shape
    if exact:
        np.testing.assert_array_equal(ours, ref)
    else:
        diff = np.abs(ours.astype(np.int64) - ref.astype(np.int64))
        assert diff.max() <= 8 and diff.mean() <= 0.25, (diff.max(), diff.mean())


def test_corpus_covers_the_families():
    syntaxes = set()
    for path in CODEC_FILES:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        syntaxes.add(str(ds.file_meta.TransferSyntaxUID))
    assert {codecs.JPEG_BASELINE, codecs.JPEG_EXTENDED, codecs.JPEG_LOSSLESS_SV1,
            codecs.JPEGLS_LOSSLESS, codecs.JPEGLS_NEAR_LOSSLESS, codecs.JPEG2000_LOSSLESS,
            codecs.JPEG2000} <= syntaxes


@pytest.mark.parametrize("path", CODEC_FILES, ids=[corpus_id(p) for p in CODEC_FILES])
def test_corpus_matches_pydicom(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path)
        try:
            info = PixelInfo.from_dataset(ds)
            frames = _frames(ds, info)
        except Exception:  # no pixel data, unreadable fragments: a clear error from us
            with pytest.raises((InvalidDicomError, AttributeError)):
                fastdicom.dcmread(path).pixel_array
            return
        try:
            ref = ds.pixel_array
        except Exception:
            ref = None
    ts = info.transfer_syntax_uid
    if ref is None:
        # pydicom cannot decode it: a clear error, or (libjpeg-turbo decodes
        # more JPEG than pylibjpeg-libjpeg) a frame of the right shape
        try:
            out = codecs.decode_frames(ts, frames, info)
        except CodecError:
            return
        assert out.shape == (len(frames),) + info.frame_shape
        return
    if info.number_of_frames == 1:
        ref = ref[None]
    default = codecs.available_plugins(ts)[0]
    ours = codecs.decode_frames(ts, frames, info, threads=1)
    _compare(ours, ref, exact=not (ts in LOSSY_JPEG and default == "imagecodecs"))
    _compare(codecs.decode_frame(ts, frames[-1], info), ref[-1],
             exact=not (ts in LOSSY_JPEG and default == "imagecodecs"))
    # the pylibjpeg plugins, which pydicom uses: exact everywhere
    ours = codecs.decode_frames(ts, frames, info, plugin="pylibjpeg")
    _compare(ours, ref, exact=True)


def test_codestream_parameters_match_pydicom():
    from pydicom.pixels.utils import _get_jpg_parameters, get_j2k_parameters

    for path in CODEC_FILES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path)
            try:
                info = PixelInfo.from_dataset(ds)
                frame = _frames(ds, info)[0]
            except Exception:
                continue
        if info.transfer_syntax_uid in codecs.J2K_SYNTAXES:
            ref = get_j2k_parameters(frame)
            ref.pop("jp2", None)
            assert codecs._j2k_params(frame) == ref, path
        else:
            ref = _get_jpg_parameters(frame)
            got = codecs._jpeg_params(frame)
            for key in ("precision", "component_ids"):
                assert got.get(key) == ref.get(key), path
            assert sorted(got.get("app", {}).values()) == sorted(ref.get("app", {}).values()), path
    for garbage in (b"", b"\xff\xd8", b"\xff\xd8\xff\xe0\x00\x10JFIF", b"\xff\xd8\xff\xc0\x00\x11\x08"):
        assert codecs._jpeg_params(garbage) == _get_jpg_parameters(garbage) == {}
    for garbage in (b"", b"\xff\x4f\xff\x51", b"\x00\x00\x00\x0cjP  \r\n\x87\n"):
        assert codecs._j2k_params(garbage) == {}


# -- generated data for the syntaxes the corpus lacks -------------------------------------

def _dataset(ts, frames, rows, cols, spp, ba, bs, pr, pi):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ts
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, spp
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = ba, bs, bs - 1, pr
    ds.PhotometricInterpretation = pi
    if spp == 3:
        ds.PlanarConfiguration = 0
    ds.NumberOfFrames = len(frames)
    ds.PixelData = encapsulate(frames)
    ds["PixelData"].VR = "OB"
    return ds


def _generated():
    imagecodecs = pytest.importorskip("imagecodecs")
    from pydicom.pixels.encoders import JPEGLSLosslessEncoder

    rng = np.random.default_rng(5)
    img = rng.integers(0, 4096, (64, 48)).astype(np.uint16)
    img[:20] = 100
    signed = rng.integers(-2048, 2048, (40, 30)).astype(np.int16)
    mono12 = (64, 48, 1, 16, 12, 0, "MONOCHROME2")
    cases = {
        "htj2k-lossless": (codecs.HTJ2K_LOSSLESS, [imagecodecs.htj2k_encode(img)], mono12),
        "htj2k-rpcl": (codecs.HTJ2K_LOSSLESS_RPCL, [imagecodecs.htj2k_encode(img[::-1].copy())], mono12),
        "htj2k-lossy": (codecs.HTJ2K, [imagecodecs.htj2k_encode(img, 100, reversible=False)], mono12),
        "jpeg-lossless-p14": (codecs.JPEG_LOSSLESS,
                              [imagecodecs.jpeg8_encode(img, lossless=True, predictor=6, bitspersample=12)],
                              mono12),
        "jpeg-lossless-sv1-2frames": (codecs.JPEG_LOSSLESS_SV1, [
            imagecodecs.jpeg8_encode(img, lossless=True, predictor=1, bitspersample=12),
            imagecodecs.jpeg8_encode(img[::-1].copy(), lossless=True, predictor=1, bitspersample=12),
        ], mono12),
        "jpegls-signed-12bit": (codecs.JPEGLS_LOSSLESS, [JPEGLSLosslessEncoder.encode(
            signed, rows=40, columns=30, samples_per_pixel=1, bits_allocated=16, bits_stored=12,
            pixel_representation=1, photometric_interpretation="MONOCHROME2", number_of_frames=1,
        )], (40, 30, 1, 16, 12, 1, "MONOCHROME2")),
        "j2k-signed": (codecs.JPEG2000_LOSSLESS, [imagecodecs.jpeg2k_encode(signed, level=0)],
                       (40, 30, 1, 16, 16, 1, "MONOCHROME2")),
        "j2k-jp2-container": (codecs.JPEG2000_LOSSLESS,
                              [imagecodecs.jpeg2k_encode(img, level=0, codecformat="JP2")], mono12),
        "j2k-ict-lossy": (codecs.JPEG2000, [imagecodecs.jpeg2k_encode(
            rng.integers(0, 256, (32, 40, 3), dtype=np.uint8), 30, reversible=False)],
            (32, 40, 3, 8, 8, 0, "YBR_ICT")),
    }
    return cases


@pytest.fixture(scope="module")
def generated():
    return _generated()


GENERATED = ["htj2k-lossless", "htj2k-rpcl", "htj2k-lossy", "jpeg-lossless-p14",
             "jpeg-lossless-sv1-2frames", "jpegls-signed-12bit", "j2k-signed",
             "j2k-jp2-container", "j2k-ict-lossy"]


@pytest.mark.parametrize("name", GENERATED)
@pytest.mark.parametrize("plugin", [None, "pylibjpeg"])
def test_generated_matches_pydicom(generated, name, plugin):
    ts, frames, geometry = generated[name]
    ds = _dataset(ts, frames, *geometry)
    ref = ds.pixel_array
    if len(frames) == 1:
        ref = ref[None]
    info = PixelInfo.from_dataset(ds)
    _compare(codecs.decode_frames(ts, frames, info, plugin=plugin), ref, exact=True)


def test_as_rgb_false_keeps_ybr():
    from pydicom.data import get_testdata_file
    from pydicom.pixels import pixel_array

    path = get_testdata_file("SC_rgb_dcmtk_+eb+cy+s2.dcm")  # YBR_FULL_422, JFIF
    ds = pydicom.dcmread(path)
    info = PixelInfo.from_dataset(ds)
    frame = _frames(ds, info)[0]
    for plugin in ("pylibjpeg", None):
        ybr = codecs.decode_frame(info.transfer_syntax_uid, frame, info, as_rgb=False, plugin=plugin)
        np.testing.assert_array_equal(ybr, pixel_array(path, as_rgb=False))
        rgb = codecs.decode_frame(info.transfer_syntax_uid, frame, info, plugin=plugin)
        np.testing.assert_array_equal(rgb, ds.pixel_array)
        assert not np.array_equal(rgb, ybr)


def test_ybr_conversion_blocks_match_whole_array():
    """The blocked conversion gives what the formula gives on the whole image."""
    rng = np.random.default_rng(3)
    for shape in ((480, 640, 3), (7, 3, 3), (1, 20000, 3), (3000, 2, 3)):
        arr = rng.integers(0, 256, shape, dtype=np.uint8)
        f = arr.astype(np.float32) - [0, 128, 128]
        f = np.floor(np.matmul(f.astype(np.float32), codecs._YBR_TO_RGB) + 0.5)
        expected = np.clip(f, 0, 255).astype(np.uint8)
        np.testing.assert_array_equal(codecs._ybr_to_rgb(arr), expected)


# -- threads -----------------------------------------------------------------------------

def _testdata(name):
    from pydicom.data import get_testdata_file

    ds = pydicom.dcmread(get_testdata_file(name))
    info = PixelInfo.from_dataset(ds)
    return ds, info, _frames(ds, info)


def test_parallel_equals_serial():
    ds, info, frames = _testdata("color3d_jpeg_baseline.dcm")  # 120 YBR_FULL_422 frames
    ts = info.transfer_syntax_uid
    serial = codecs.decode_frames(ts, frames, info, threads=1)
    parallel = codecs.decode_frames(ts, frames, info, threads=2)
    auto = codecs.decode_frames(ts, frames, info)
    np.testing.assert_array_equal(serial, parallel)
    np.testing.assert_array_equal(serial, auto)


def test_parallel_uses_worker_threads(monkeypatch):
    ds, info, frames = _testdata("emri_small_jpeg_2k_lossless.dcm")  # 10 small frames
    seen = set()
    original = codecs._ic_j2k

    def spy(ts, data, info):
        seen.add(threading.current_thread().name)
        return original(ts, data, info)

    monkeypatch.setattr(codecs, "_ic_j2k", spy)
    monkeypatch.setattr(codecs, "_PARALLEL_MIN_BYTES", 0)
    out = codecs.decode_frames(info.transfer_syntax_uid, frames, info, threads=3)
    np.testing.assert_array_equal(out, ds.pixel_array)
    assert seen and all(name.startswith("fastdicom-decode") for name in seen)
    seen.clear()
    codecs.decode_frames(info.transfer_syntax_uid, frames, info, threads=1)
    assert seen == {threading.current_thread().name}


def test_parallel_failure_is_raised(monkeypatch):
    ds, info, frames = _testdata("emri_small_jpeg_2k_lossless.dcm")
    monkeypatch.setattr(codecs, "_PARALLEL_MIN_BYTES", 0)
    frames[6] = b"\x00" * 100
    frames[8] = b"\xff\x4f\xff\x51" + b"\x00" * 100
    for threads in (1, 2):
        with pytest.raises(CodecError) as info_:
            codecs.decode_frames(info.transfer_syntax_uid, frames, info, threads=threads)
        assert "imagecodecs" in str(info_.value) and "pylibjpeg" in str(info_.value)
    with pytest.raises(ValueError):
        codecs.decode_frames(info.transfer_syntax_uid, frames, info, threads=-1)


# -- errors ------------------------------------------------------------------------------

def test_corrupt_and_mismatched_frames():
    ds, info, frames = _testdata("SC_rgb_jpeg_dcmtk.dcm")
    ts = info.transfer_syntax_uid
    with pytest.raises(CodecError) as exc:
        codecs.decode_frame(ts, b"garbage" * 10, info)
    assert isinstance(exc.value, InvalidDicomError)
    # a valid codestream that does not match the Image Pixel module
    with pytest.raises(CodecError, match="samples"):
        codecs.decode_frame(ts, frames[0], info.replace(rows=info.rows + 1))
    with pytest.raises(UnsupportedTransferSyntaxError):
        codecs.decode_frame("1.2.3.4", frames[0], info)
    with pytest.raises(ValueError, match="plugin"):
        codecs.decode_frame(ts, frames[0], info, plugin="gdcm")


def _hide(monkeypatch, *modules):
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import name` fail


def test_missing_libraries(monkeypatch):
    _hide(monkeypatch, "imagecodecs", "libjpeg", "openjpeg")
    for name in ("SC_rgb_jpeg_dcmtk.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm"):
        ds, info, frames = _testdata(name)
        ts = info.transfer_syntax_uid
        assert not codecs.can_decode(ts) and codecs.available_plugins(ts) == []
        with pytest.raises(CodecUnavailableError) as exc:
            codecs.decode_frame(ts, frames[0], info)
        assert codecs.INSTALL_HINT in str(exc.value)
        assert 'pip install "fastdicom[codecs]"' in str(exc.value)
        assert isinstance(exc.value, UnsupportedTransferSyntaxError)
        assert isinstance(exc.value, InvalidDicomError) and isinstance(exc.value, NotImplementedError)
        with pytest.raises(CodecUnavailableError):
            codecs.decode_frames(ts, frames, info)
    # RLE is ours: always there
    assert codecs.can_decode(codecs.RLE_LOSSLESS)
    ds, info, frames = _testdata("MR_small_RLE.dcm")
    np.testing.assert_array_equal(codecs.decode_frame(codecs.RLE_LOSSLESS, frames[0], info), ds.pixel_array)


def test_fallback_when_imagecodecs_is_missing(monkeypatch):
    _hide(monkeypatch, "imagecodecs")
    ds, info, frames = _testdata("SC_rgb_jpeg_lossy_gdcm.dcm")
    ts = info.transfer_syntax_uid
    assert codecs.available_plugins(ts) == ["pylibjpeg"]
    np.testing.assert_array_equal(codecs.decode_frame(ts, frames[0], info), ds.pixel_array)
    with pytest.raises(CodecUnavailableError, match="imagecodecs"):
        codecs.decode_frame(ts, frames[0], info, plugin="imagecodecs")


def test_lossless_jpeg_falls_back_to_sof3_decoder(monkeypatch):
    imagecodecs = pytest.importorskip("imagecodecs")
    ds, info, frames = _testdata("JPEG-LL.dcm")

    def broken(*args, **kwargs):
        raise imagecodecs.Jpeg8Error("simulated")

    monkeypatch.setattr(imagecodecs, "jpeg8_decode", broken)
    out = codecs.decode_frame(info.transfer_syntax_uid, frames[0], info, plugin="imagecodecs")
    np.testing.assert_array_equal(out, ds.pixel_array)


def test_buffer_types():
    """Frames may be zero-copy memoryviews of the file (what frames.py gives)."""
    for name in ("SC_rgb_jpeg_dcmtk.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm",
                 "SC_rgb_rle.dcm"):
        ds, info, frames = _testdata(name)
        ts = info.transfer_syntax_uid
        padded = b"\x00\x01" + bytes(frames[0]) + b"\x00"
        view = memoryview(padded)[2:-1]  # a slice: not the start of its buffer
        for plugin in (None, "pylibjpeg"):
            if ts == codecs.RLE_LOSSLESS and plugin:
                continue
            for data in (view, bytearray(frames[0]), np.frombuffer(frames[0], np.uint8)):
                np.testing.assert_array_equal(codecs.decode_frame(ts, data, info, plugin=plugin),
                                              ds.pixel_array)


def test_planar_configuration_ignored_for_jpeg_and_j2k():
    """Documented difference: JPEG/JPEG 2000 codecs always give pixel-interleaved
    samples, so a (non-conformant) Planar Configuration of 1 is ignored; pydicom
    would reorder the decoded samples as if they were planar."""
    for name in ("SC_rgb_jpeg_dcmtk.dcm", "US1_J2KR.dcm", "SC_rgb_jls_lossy_line.dcm"):
        ds, info, frames = _testdata(name)
        good = ds.pixel_array
        out = codecs.decode_frame(info.transfer_syntax_uid, frames[0], info.replace(planar_configuration=1),
                                  plugin="pylibjpeg")
        np.testing.assert_array_equal(out, good)
