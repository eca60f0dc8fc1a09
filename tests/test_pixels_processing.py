"""Differential tests of fastdicom.pixels.processing (colour spaces, palette,
modality, VOI and presentation LUTs) and fastdicom.pixels.overlays against
pydicom's functions.

The input arrays come from pydicom (``pixel_array``) and are given to both;
results must be equal: the same type (ndarray or the input itself), dtype and
shape, and bit-equal values (floats compared as their bytes). Hand-built
datasets cover each branch: the same keywords are assigned to a
fastdicom.Dataset and a pydicom.Dataset.

Deliberate deviations (see fastdicom.pixels.processing) are tested against a
reference of their own: LUT indices that pydicom wraps around, big endian
palette / overlay data that pydicom reads in the wrong byte order. The named
(well-known) palettes are tested in test_pixels_palettes.py.
"""
from __future__ import annotations

import functools
import struct
import warnings

import numpy as np
import pytest

import fastdicom
from fastdicom.errors import InvalidDicomError
import pydicom
from pydicom.dataset import FileMetaDataset
from pydicom.pixels import processing as P

from corpus import CORPUS, corpus_id
from fastdicom.pixels import processing as F
from fastdicom.pixels.overlays import overlay_array

EXPLICIT_LE = "1.2.840.10008.1.2.1"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
RNG = np.random.default_rng(20261125)


# ------------------------------------------------------------------- helpers

def assert_same(ours, theirs, ours_in=None, theirs_in=None):
    """Same result: ndarray of the same dtype, shape and bytes, and the input
    itself exactly when pydicom returned its input."""
    assert type(ours) is type(theirs)
    if theirs_in is not None:
        assert (ours is ours_in) == (theirs is theirs_in)
    if isinstance(theirs, np.ndarray):
        assert ours.dtype == theirs.dtype
        assert ours.shape == theirs.shape
        assert np.ascontiguousarray(ours).tobytes() == np.ascontiguousarray(theirs).tobytes()
    else:
        assert ours == theirs


def run_both(name, arr, fds, pds, *args, **kwargs):
    """Apply function `name` of both libraries to copies of `arr`; compare
    results, or exception classes, and warnings."""
    a, b = arr.copy(), arr.copy()
    with warnings.catch_warnings(record=True) as theirs_w:
        warnings.simplefilter("always")
        try:
            theirs = getattr(P, name)(b, pds, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - compared below
            theirs = exc
    with warnings.catch_warnings(record=True) as ours_w:
        warnings.simplefilter("always")
        try:
            ours = getattr(F, name)(a, fds, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            ours = exc
    if isinstance(theirs, Exception):
        assert isinstance(ours, type(theirs)), (ours, theirs)
        return ours
    assert not isinstance(ours, Exception), ours
    assert_same(ours, theirs, a, b)
    assert sorted(str(w.message) for w in ours_w if w.category is UserWarning) == sorted(
        str(w.message) for w in theirs_w if w.category is UserWarning
    )
    return ours


def _encoding(fds, pds, tsyntax):
    if tsyntax is None:
        return
    pds.file_meta = FileMetaDataset()
    pds.file_meta.TransferSyntaxUID = tsyntax
    meta = fastdicom.Dataset()
    meta.TransferSyntaxUID = tsyntax
    fds.file_meta = meta


def build(spec, tsyntax=EXPLICIT_LE):
    """The same dataset for fastdicom and pydicom: `spec` maps keywords or
    tags to values, or to (VR, value); a list of dicts is a sequence."""
    fds, pds = fastdicom.Dataset(), pydicom.Dataset()
    for key, value in spec.items():
        vr = None
        if isinstance(value, tuple):
            vr, value = value
        if isinstance(value, list) and value and isinstance(value[0], dict):
            items = [build(item, None) for item in value]
            fval, pval = [i[0] for i in items], [i[1] for i in items]
        else:
            fval = pval = value
        if vr is None:
            setattr(fds, key, fval)
            with warnings.catch_warnings():  # pydicom's value checks (e.g. 'sigmoid')
                warnings.simplefilter("ignore")
                setattr(pds, key, pval)
        else:
            tag = pydicom.datadict.tag_for_keyword(key) if isinstance(key, str) else key
            fds.add_new(tag, vr, fval)
            pds.add_new(tag, vr, pval)
    _encoding(fds, pds, tsyntax)
    return fds, pds


def ow(values, little=True):
    values = [int(v) for v in values]
    return struct.pack(f"{'<' if little else '>'}{len(values)}H", *values)


def as_bytes_be_words(data: bytes) -> bytes:
    """16-bit words of little endian OW data as a big endian file holds them."""
    return np.frombuffer(data, "<u2").astype(">u2").tobytes()


# -------------------------------------------------------------------- corpus

_LUT_KEYWORDS = (
    "RescaleSlope", "RescaleIntercept", "ModalityLUTSequence", "VOILUTSequence",
    "WindowCenter", "WindowWidth", "RedPaletteColorLookupTableDescriptor",
    "PresentationLUTSequence", "PresentationLUTShape",
)


def _header(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fastdicom.dcmread(path, force=True, stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - not a dataset this test can use
            return None


def _select(predicate):
    out = []
    for path in CORPUS:
        ds = _header(path)
        if ds is not None and predicate(ds):
            out.append(path)
    return out


def _photometric(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path, force=True, stop_before_pixels=True).get("PhotometricInterpretation")


def _has_overlay(ds):
    return any(0x6000 <= tag.group <= 0x60FF and tag.element == 0x3000 for tag in ds.keys())


LUT_FILES = _select(lambda ds: any(k in ds for k in _LUT_KEYWORDS))
COLOUR_FILES = _select(lambda ds: ds.get("SamplesPerPixel") == 3
                       and ds.get("BitsAllocated") == 8)
OVERLAY_FILES = _select(_has_overlay)
PALETTE_FILES = [p for p in CORPUS if "/palettes/" in p.replace("\\", "/") and p.endswith(".dcm")]
# big endian twins whose palette LUT Data pydicom reads byte-swapped
BE_PALETTE_TWINS = {"OBXXXX1A_expb.dcm": "OBXXXX1A.dcm",
                    "OBXXXX1A_expb_2frame.dcm": "OBXXXX1A_2frame.dcm"}


def test_corpus_selection():
    assert len(LUT_FILES) >= 60
    assert len(COLOUR_FILES) >= 30
    assert len(OVERLAY_FILES) >= 2
    assert len(PALETTE_FILES) == 8
    names = {p.rsplit("/", 1)[-1] for p in LUT_FILES}
    for needed in ("CT_small.dcm", "mlut_18.dcm", "vlut_04.dcm", "OT-PAL-8-face.dcm",
                   "gdcm-US-ALOKA-16.dcm", "examples_palette.dcm", "MR_small.dcm"):
        assert needed in names


@functools.lru_cache(maxsize=4)
def _decoded(path):
    """pydicom's dataset and pixel array; (None, None) when pydicom can't decode
    it, after checking that fastdicom refuses it with a clear error too."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pds = pydicom.dcmread(path, force=True)
        if "TransferSyntaxUID" not in pds.file_meta:  # no meta (OT-PAL-8-face.dcm)
            implicit, little = pds.original_encoding
            if little:
                pds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian \
                    if implicit else pydicom.uid.ExplicitVRLittleEndian
        try:
            arr = pds.pixel_array
        except Exception:  # noqa: BLE001
            with pytest.raises((InvalidDicomError, AttributeError)):
                fastdicom.dcmread(path, force=True).pixel_array
            return None, None
    return pds, arr


def _ours(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fastdicom.dcmread(path, force=True)


@pytest.mark.parametrize("path", LUT_FILES, ids=corpus_id)
def test_corpus_luts(path):
    pds, arr = _decoded(path)
    if pds is None:
        return
    fds = _ours(path)
    run_both("apply_modality_lut", arr, fds, pds)
    run_both("apply_voi_lut", arr, fds, pds)
    run_both("apply_voi_lut", arr, fds, pds, prefer_lut=False)
    run_both("apply_voi", arr, fds, pds)
    centers = pds["WindowCenter"].VM if "WindowCenter" in pds else 1
    for index in range(max(centers, 1)):
        run_both("apply_windowing", arr, fds, pds, index)
    run_both("apply_presentation_lut", arr, fds, pds)
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if name in BE_PALETTE_TWINS:  # ours == pydicom's on the little endian twin
        twin = next(p for p in CORPUS if p.endswith("/" + BE_PALETTE_TWINS[name]))
        tpds, tarr = _decoded(twin)
        assert np.array_equal(tarr, arr)
        assert_same(F.apply_color_lut(arr, fds), P.apply_color_lut(tarr, tpds))
        assert_same(F.apply_color_lut(arr, fds), F.apply_color_lut(tarr, _ours(twin)))
    else:
        run_both("apply_color_lut", arr, fds, pds)


GREY_LUT_FILES = [p for p in LUT_FILES if _photometric(p) in ("MONOCHROME1", "MONOCHROME2")]


@pytest.mark.parametrize("path", GREY_LUT_FILES, ids=corpus_id)
def test_corpus_pipeline(path):
    """Modality LUT / rescale, then VOI LUT / windowing on its (float) output."""
    pds, arr = _decoded(path)
    if pds is None:
        return
    fds = _ours(path)
    theirs = P.apply_modality_lut(arr, pds)
    ours = F.apply_modality_lut(arr, fds)
    assert_same(ours, theirs)
    run_both("apply_voi_lut", theirs, fds, pds)


@pytest.mark.parametrize("path", COLOUR_FILES, ids=corpus_id)
def test_corpus_colour(path):
    pds, arr = _decoded(path)
    if pds is None:
        return
    assert arr.dtype == np.uint8  # selected for Bits Allocated 8
    pi = pds.PhotometricInterpretation
    frames = int(pds.get("NumberOfFrames") or 1)
    if frames > 3:  # enough frames for the per-frame path, and quicker
        arr = arr[:3]
    pairs = [("RGB", "YBR_FULL"), ("RGB", "YBR_FULL_422"), ("YBR_FULL", "RGB"),
             ("YBR_FULL_422", "RGB"), ("RGB", "RGB"), ("YBR_FULL", "YBR_FULL_422")]
    for current, desired in pairs:
        for per_frame in (False, True):
            assert_same(F.convert_color_space(arr.copy(), current, desired, per_frame),
                        P.convert_color_space(arr.copy(), current, desired, per_frame))
    if pi in ("YBR_FULL", "YBR_FULL_422"):  # the stored YBR values, as decoded
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = pydicom.pixels.pixel_array(path, raw=True, index=0 if frames > 1 else None)
        assert_same(F.convert_color_space(raw, pi, "RGB"), P.convert_color_space(raw, pi, "RGB"))


@pytest.mark.parametrize("path", OVERLAY_FILES, ids=corpus_id)
def test_corpus_overlays(path):
    pds = pydicom.dcmread(path, force=True)
    fds = _ours(path)
    groups = sorted({t.group for t in pds.keys() if 0x6000 <= t.group <= 0x60FF
                     and (t.group, 0x3000) in pds})
    assert groups
    for group in groups:
        ours = overlay_array(fds, group)
        assert_same(ours, pds.overlay_array(group))
        assert ours.any()


@pytest.mark.parametrize("path", PALETTE_FILES, ids=corpus_id)
def test_palette_files(path):
    """The well-known palettes, read from their Color Palette IODs."""
    arr = np.arange(256, dtype=np.uint8).reshape(16, 16)
    fds, pds = _ours(path), pydicom.dcmread(path)
    run_both("apply_color_lut", arr, fds, pds)
    run_both("apply_color_lut", arr.astype(np.int16)[::-1] - 3, fds, pds)


# ------------------------------------------------------------ colour spaces

def _cube():
    v = np.arange(256, dtype=np.uint8)
    return np.stack(np.meshgrid(v, v, v, indexing="ij"), axis=-1)  # (256,256,256,3)


@pytest.mark.parametrize("current,desired", [("RGB", "YBR_FULL"), ("YBR_FULL", "RGB"),
                                             ("YBR_FULL_422", "RGB"), ("RGB", "YBR_FULL_422")])
def test_colour_every_value(current, desired):
    """Every 8-bit triple, frame by frame (in place) and as whole arrays."""
    cube = _cube()
    ours = F.convert_color_space(cube.copy(), current, desired, per_frame=True)
    theirs = P.convert_color_space(cube.copy(), current, desired, per_frame=True)
    assert_same(ours, theirs)
    for part in (cube[:40], cube[100, :, :50], cube[7, 3]):
        assert_same(F.convert_color_space(part, current, desired),
                    P.convert_color_space(part, current, desired))


def test_colour_per_frame_in_place_and_identity():
    arr = RNG.integers(0, 256, (3, 5, 7, 3), dtype=np.uint8)
    work = arr.copy()
    out = F.convert_color_space(work, "RGB", "YBR_FULL", per_frame=True)
    assert out is work
    assert_same(out, P.convert_color_space(arr.copy(), "RGB", "YBR_FULL"))
    assert F.convert_color_space(arr, "YBR_FULL", "YBR_FULL_422") is arr
    assert F.convert_color_space(arr, "RGB", "RGB") is P.convert_color_space(arr, "RGB", "RGB")
    fresh = F.convert_color_space(arr, "RGB", "YBR_FULL")
    assert fresh is not arr and not np.shares_memory(fresh, arr)


@pytest.mark.parametrize("current,desired", [("YBR_RCT", "RGB"), ("YBR_ICT", "RGB"),
                                             ("RGB", "YBR_ICT"), ("YBR_PARTIAL_422", "RGB"),
                                             ("RGB", "MONOCHROME2")])
def test_colour_unsupported(current, desired):
    arr = np.zeros((2, 2, 3), np.uint8)
    with pytest.raises(NotImplementedError):
        P.convert_color_space(arr, current, desired)
    with pytest.raises(NotImplementedError, match="not supported"):
        F.convert_color_space(arr, current, desired)


def test_colour_dtype_error():
    arr = np.zeros((2, 2, 3), np.uint16)
    with pytest.raises(ValueError):
        P.convert_color_space(arr, "RGB", "YBR_FULL")
    with pytest.raises(ValueError, match="uint8"):
        F.convert_color_space(arr, "RGB", "YBR_FULL")


# ------------------------------------------------------------- modality LUT

INPUTS = {
    "uint8": RNG.integers(0, 256, (7, 9), dtype=np.uint8),
    "uint16": RNG.integers(0, 4096, (7, 9), dtype=np.uint16),
    "int16": RNG.integers(-2048, 2048, (7, 9), dtype=np.int16),
    "int16_big": RNG.integers(-2048, 2048, (300, 200), dtype=np.int16),  # the full-table path
    "uint16_big": RNG.integers(0, 4096, (2, 150, 200), dtype=np.uint16),
    "int32": RNG.integers(-2048, 4096, (5, 4), dtype=np.int32),
    "float32": RNG.uniform(-2000, 4000, (6, 6)).astype(np.float32),
    "float64": RNG.uniform(-2000, 4000, (6, 6)),
}


@pytest.mark.parametrize("kind", sorted(INPUTS))
@pytest.mark.parametrize("slope,intercept", [(1, 0), ("1", "-1024"), (0.5, 3.25),
                                             ("2.5", "-1000.7"), ("0.000123", "7")])
def test_rescale(kind, slope, intercept):
    fds, pds = build({"RescaleSlope": slope, "RescaleIntercept": intercept})
    out = run_both("apply_modality_lut", INPUTS[kind], fds, pds)
    assert out.dtype == np.float64
    run_both("apply_rescale", INPUTS[kind], fds, pds)


@pytest.mark.parametrize("spec", [{}, {"RescaleSlope": 2}, {"RescaleIntercept": 5},
                                  {"ModalityLUTSequence": ("SQ", [])}])
def test_modality_nothing_to_apply(spec):
    fds, pds = build(spec)
    arr = INPUTS["int16"]
    assert F.apply_modality_lut(arr, fds) is arr
    run_both("apply_modality_lut", arr, fds, pds)


def _lut_item(nr, first, depth, values, vr="US", little=True):
    data = ow(values, little) if vr == "OW" else [int(v) for v in values]
    return {"LUTDescriptor": [nr, first, depth], "LUTData": (vr, data)}


@pytest.mark.parametrize("vr,little", [("US", True), ("OW", True), ("OW", False)])
@pytest.mark.parametrize("kind", ["int16", "int16_big", "int32"])
def test_modality_lut_signed(vr, little, kind):
    """4096 entries from -2048 (as mlut_18.dcm), 16-bit."""
    values = (np.arange(4096) * 13 + 7) % 65536
    fds, pds = build({"ModalityLUTSequence": [_lut_item(4096, -2048, 16, values, vr, little)]},
                     EXPLICIT_LE if little else EXPLICIT_BE)
    out = run_both("apply_modality_lut", INPUTS[kind], fds, pds)
    assert out.dtype == np.uint16


@pytest.mark.parametrize("vr", ["US", "OW"])
@pytest.mark.parametrize("kind", ["uint8", "uint16", "uint16_big"])
def test_modality_lut_8bit_entries(vr, kind):
    """8 bits per entry, stored in 16-bit words; inputs below and past the table."""
    values = np.arange(1000) % 256
    fds, pds = build({"ModalityLUTSequence": [_lut_item(1000, 100, 8, values, vr)]})
    arr = INPUTS[kind]
    if arr.dtype == np.uint16:
        arr = arr % 1200  # below 100, mapped, past 1099 (pydicom's index is arr.dtype)
    out = run_both("apply_modality_lut", arr, fds, pds)
    assert out.dtype == np.uint8


def test_modality_lut_65536_entries():
    """A first descriptor value of 0 means 65536 entries."""
    values = 65535 - np.arange(65536)
    fds, pds = build({"ModalityLUTSequence": [_lut_item(0, 0, 16, values, "OW")]})
    arr = RNG.integers(0, 65536, (64, 64), dtype=np.uint16)
    run_both("apply_modality_lut", arr, fds, pds)
    run_both("apply_modality_lut", arr[:3, :3], fds, pds)


def test_modality_lut_read_descriptor_first_value():
    """An SS descriptor read from data gives its first value as unsigned
    (0xFFFF -> 65535), as pydicom does."""
    path = next(p for p in CORPUS if p.endswith("/mlut_18.dcm"))
    fds = _ours(path)
    pds = pydicom.dcmread(path)
    assert list(fds.ModalityLUTSequence[0].LUTDescriptor) == list(
        pds.ModalityLUTSequence[0].LUTDescriptor)


def test_modality_lut_endianness_required():
    """OW LUT Data of a dataset whose byte order is unknown: AttributeError, as pydicom."""
    fds, pds = build({"ModalityLUTSequence": [_lut_item(4, 0, 16, [1, 2, 3, 4], "OW")]}, None)
    run_both("apply_modality_lut", INPUTS["uint8"], fds, pds)
    with pytest.raises(AttributeError, match="endianness"):
        F.apply_modality_lut(INPUTS["uint8"], fds)
    fds.is_little_endian = True  # a dataset read from data knows its byte order
    assert F.apply_modality_lut(INPUTS["uint8"], fds).dtype == np.uint16


def test_modality_lut_index_never_wraps():
    """Deviation: pydicom computes the index in the input dtype (int16 here),
    which overflows for inputs near 32767; the index here is clamped."""
    values = np.arange(4096) % 65536
    fds, _ = build({"ModalityLUTSequence": [_lut_item(4096, -2048, 16, values)]})
    arr = np.array([-32768, -2049, -2048, 0, 2047, 2048, 32767], np.int16)
    assert F.apply_modality_lut(arr, fds).tolist() == [0, 0, 0, 2048, 4095, 4095, 4095]


# ------------------------------------------------------------------ VOI LUT

@pytest.mark.parametrize("depth", [8, 10, 12, 16])
@pytest.mark.parametrize("vr,little", [("US", True), ("OW", True), ("OW", False)])
@pytest.mark.parametrize("kind", ["uint8", "uint16", "uint16_big", "int16", "int16_big"])
def test_voi_lut(depth, vr, little, kind):
    values = (np.arange(256) * 7) % (1 << depth)
    first = -100 if kind.startswith("int") else 20
    fds, pds = build({"VOILUTSequence": [_lut_item(256, first, depth, values, vr, little)]},
                     EXPLICIT_LE if little else EXPLICIT_BE)
    arr = INPUTS[kind]
    if depth == 8 and arr.dtype.itemsize > 1:
        arr = np.clip(arr, -300, 255 + first)  # no wrap-around in pydicom's uint8 index
    for func in ("apply_voi", "apply_voi_lut"):
        out = run_both(func, arr, fds, pds)
        assert out.dtype == (np.uint8 if depth == 8 else np.uint16)


def test_voi_lut_index_and_65536_entries():
    items = [_lut_item(0, 0, 16, np.arange(65536)[::-1], "OW"),
             _lut_item(4096, 0, 12, np.arange(4096) // 2)]
    fds, pds = build({"VOILUTSequence": items, "WindowCenter": 100, "WindowWidth": 50,
                      "PhotometricInterpretation": "MONOCHROME2", "BitsStored": 16,
                      "PixelRepresentation": 0})
    arr = RNG.integers(0, 65536, (40, 30), dtype=np.uint16)
    for index in (0, 1):
        run_both("apply_voi", arr, fds, pds, index)
        run_both("apply_voi_lut", arr, fds, pds, index)
        run_both("apply_voi_lut", arr, fds, pds, index, prefer_lut=False)


def test_voi_lut_float_input_warns():
    fds, pds = build({"VOILUTSequence": [_lut_item(4096, -1024, 12, np.arange(4096))]})
    arr = np.array([[-5000.0, -1024.5, -1023.5, 0.25], [3071.0, 3071.9, 3072.0, 1e6]])
    run_both("apply_voi", arr, fds, pds)  # the warnings are compared there
    with pytest.warns(UserWarning, match="float input"):
        F.apply_voi(arr, fds)
    run_both("apply_voi", arr.astype(np.float32), fds, pds)


@pytest.mark.parametrize("depth", [7, 9, 17])
def test_voi_lut_unsupported_depth(depth):
    fds, pds = build({"VOILUTSequence": [_lut_item(4, 0, depth, [0, 1, 2, 3])]})
    err = run_both("apply_voi", INPUTS["uint8"], fds, pds)
    assert isinstance(err, NotImplementedError)


def test_voi_lut_8bit_index_never_wraps():
    """Deviation: a VOI LUT of 8-bit entries mapping 12-bit values (common);
    pydicom's uint8 index wraps modulo 256, here values are clamped."""
    fds, _ = build({"VOILUTSequence": [_lut_item(4096, 0, 8, np.arange(4096) // 16)]})
    arr = np.array([0, 100, 255, 256, 300, 4095, 5000], np.uint16)
    assert F.apply_voi(arr, fds).tolist() == [0, 6, 15, 16, 18, 255, 255]


def test_voi_lut_8bit_entries_high_byte():
    """Deviation: 8-bit entries in 16-bit words keep their low byte (pydicom:
    NumPy OverflowError)."""
    fds, _ = build({"VOILUTSequence": [_lut_item(3, 0, 8, [0x0101, 0xFF02, 3], "OW")]})
    assert F.apply_voi(np.array([0, 1, 2], np.uint8), fds).tolist() == [1, 2, 3]


# ---------------------------------------------------------------- windowing

_WINDOW_BASE = {"PhotometricInterpretation": "MONOCHROME2", "BitsStored": 12,
                "PixelRepresentation": 0}


def _window_input(lo, hi, centers, widths):
    """Values across the range, and at and next to every window edge."""
    edges = []
    for c, w in zip(centers, widths):
        for e in (c - 0.5 - (w - 1) / 2, c - 0.5 + (w - 1) / 2, c - w / 2, c + w / 2, c):
            edges.extend([np.floor(e) - 1, np.floor(e), np.ceil(e), np.ceil(e) + 1])
    values = np.concatenate([np.linspace(lo, hi, 257), np.array(edges)])
    return np.clip(values, lo, hi)


@pytest.mark.parametrize("function", [None, "LINEAR", "LINEAR_EXACT", "SIGMOID", "sigmoid"])
@pytest.mark.parametrize("signed,bits", [(0, 12), (1, 16), (0, 8), (1, 10)])
@pytest.mark.parametrize("rescale", [None, ("1", "-1024"), ("0.5", "10.25")])
def test_windowing(function, signed, bits, rescale):
    centers, widths = [40.0, 1000.5, 3.0], [400.0, 1.0, 2.5]
    spec = dict(_WINDOW_BASE, BitsStored=bits, PixelRepresentation=signed,
                WindowCenter=centers, WindowWidth=widths)
    if function is not None:
        spec["VOILUTFunction"] = function
    if rescale:
        spec["RescaleSlope"], spec["RescaleIntercept"] = rescale
    fds, pds = build(spec)
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    values = _window_input(lo, hi, centers, widths)
    dtype = {8: np.uint8, 12: np.uint16, 16: np.int16, 10: np.int16}[bits]
    arrays = [values.astype(dtype), values, values.astype(np.float32) + 0.25,
              RNG.integers(lo, hi + 1, (50, 60)).astype(dtype)]
    for arr in arrays:
        for index in range(3):
            run_both("apply_windowing", arr, fds, pds, index)
            run_both("apply_voi_lut", arr, fds, pds, index)


@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.int8])
@pytest.mark.parametrize("rescale", [None, ("0.75", "-1024.5")])
def test_windowing_every_value(function, dtype, rescale):
    """Every value of the dtype, shuffled, in arrays large enough for the
    table of every value (and small enough for the direct computation)."""
    info = np.iinfo(dtype)
    values = RNG.permutation(np.arange(info.min, info.max + 1)).astype(dtype)
    spec = dict(_WINDOW_BASE, BitsStored=info.bits, PixelRepresentation=int(info.min < 0),
                WindowCenter=[-20.0, 300.0], WindowWidth=[100.0, 2001.0],
                VOILUTFunction=function)
    if rescale:
        spec["RescaleSlope"], spec["RescaleIntercept"] = rescale
    fds, pds = build(spec)
    for index in (0, 1):
        run_both("apply_windowing", values.reshape(16, -1), fds, pds, index)
        run_both("apply_windowing", values[:1000], fds, pds, index)
        run_both("apply_windowing", values.reshape(16, -1)[:, ::3], fds, pds, index)


def test_windowing_single_values_and_index():
    """VM 1 centre/width: the index is ignored (as pydicom)."""
    fds, pds = build(dict(_WINDOW_BASE, WindowCenter="2047.5", WindowWidth="4096"))
    arr = np.arange(4096, dtype=np.uint16).reshape(64, 64)
    for index in (0, 3):
        out = run_both("apply_windowing", arr, fds, pds, index)
        assert out.dtype == np.float64


@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
def test_windowing_with_modality_lut(function):
    """After a Modality LUT the output range is that of the LUT's entries."""
    spec = dict(_WINDOW_BASE, PixelRepresentation=1, WindowCenter=[30000.0, 100.0],
                WindowWidth=[20000.0, 50.0], VOILUTFunction=function,
                ModalityLUTSequence=[_lut_item(4096, -2048, 16, np.arange(4096) * 16)])
    fds, pds = build(spec)
    arr = RNG.integers(0, 65536, (30, 30)).astype(np.uint16)
    for index in (0, 1):
        run_both("apply_windowing", arr, fds, pds, index)
    modality = run_both("apply_modality_lut", INPUTS["int16_big"], fds, pds)
    run_both("apply_voi_lut", modality, fds, pds, 1)


@pytest.mark.parametrize("function,width", [("LINEAR", 0.5), ("LINEAR", 0), ("LINEAR_EXACT", 0),
                                            ("LINEAR_EXACT", -1), ("SIGMOID", 0),
                                            ("SIGMOID", -2), ("CUBIC", 10), ("", 10)])
def test_windowing_errors(function, width):
    fds, pds = build(dict(_WINDOW_BASE, WindowCenter=100, WindowWidth=width,
                          VOILUTFunction=function))
    err = run_both("apply_windowing", INPUTS["uint16"], fds, pds)
    assert isinstance(err, ValueError)


def test_windowing_width_one_linear():
    """LINEAR with width 1: a step at the centre (no division warnings)."""
    fds, pds = build(dict(_WINDOW_BASE, WindowCenter=100, WindowWidth=1))
    arr = np.array([98, 99, 100, 101, 102], np.uint16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.apply_windowing(arr, fds)
    assert out.tolist() == [0, 0, 4095, 4095, 4095]
    run_both("apply_windowing", arr, fds, pds)


@pytest.mark.parametrize("pi", ["RGB", "PALETTE COLOR"])
def test_windowing_colour_refused(pi):
    fds, pds = build(dict(_WINDOW_BASE, PhotometricInterpretation=pi, WindowCenter=1,
                          WindowWidth=2))
    assert isinstance(run_both("apply_windowing", INPUTS["uint8"], fds, pds), ValueError)


def test_windowing_half_present():
    fds, pds = build(dict(_WINDOW_BASE, WindowCenter=40))
    run_both("apply_windowing", INPUTS["uint16"], fds, pds)  # KeyError in both
    arr = INPUTS["uint16"]
    assert F.apply_voi_lut(arr, fds) is arr


@pytest.mark.parametrize("has_lut,has_window", [(True, True), (True, False), (False, True),
                                                (False, False)])
@pytest.mark.parametrize("prefer_lut", [True, False])
def test_voi_lut_choice(has_lut, has_window, prefer_lut):
    spec = dict(_WINDOW_BASE)
    if has_lut:
        spec["VOILUTSequence"] = [_lut_item(4096, 0, 16, np.arange(4096)[::-1]),
                                  _lut_item(4096, 0, 12, np.arange(4096) // 3)]
    if has_window:
        spec.update(WindowCenter=[1000, 2000], WindowWidth=[500, 100])
    fds, pds = build(spec)
    out = run_both("apply_voi_lut", INPUTS["uint16_big"], fds, pds, 1, prefer_lut)
    if has_lut and (prefer_lut or not has_window):
        assert out.dtype == np.uint16
    elif has_window:
        assert out.dtype == np.float64


# --------------------------------------------------------- presentation LUT

@pytest.mark.parametrize("depth,vr,entries", [(8, "OW", 256), (8, "US", 256), (12, "US", 4096),
                                              (16, "OW", 4096), (10, "OW", 1024),
                                              (6, "US", 64), (16, "US", 0)])
@pytest.mark.parametrize("kind", ["uint8", "uint16_big", "int16", "float64"])
def test_presentation_lut(depth, vr, entries, kind):
    n = entries or 65536
    values = RNG.integers(0, 65536, n)  # high bits set on purpose: they are cleared
    if vr == "OW" and depth <= 8:
        data = bytes(int(v) & 0xFF for v in values)
    elif vr == "OW":
        data = ow(values)
    else:
        data = [int(v) for v in values]
    item = {"LUTDescriptor": [entries, 0, depth], "LUTData": (vr, data)}
    fds, pds = build({"PresentationLUTSequence": [item]})
    run_both("apply_presentation_lut", INPUTS[kind], fds, pds)


def test_presentation_lut_constant_image():
    item = {"LUTDescriptor": [256, 0, 8], "LUTData": ("OW", bytes(range(1, 256)) + b"\0")}
    fds, pds = build({"PresentationLUTSequence": [item]})
    arr = np.full((4, 4), 7, np.uint16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = P.apply_presentation_lut(arr, pds)
    assert_same(F.apply_presentation_lut(arr, fds), theirs)


@pytest.mark.parametrize("shape", ["IDENTITY", "INVERSE", " inverse ", "LOG"])
@pytest.mark.parametrize("kind", ["uint8", "int16", "float32"])
def test_presentation_lut_shape(shape, kind):
    fds, pds = build({"PresentationLUTShape": shape})
    run_both("apply_presentation_lut", INPUTS[kind], fds, pds)


# ------------------------------------------------------------ palette colour

def _palette(nr, first, nominal, luts, little=True, vr="OW", alpha=None):
    spec = {}
    for colour, lut in zip(("Red", "Green", "Blue"), luts):
        spec[f"{colour}PaletteColorLookupTableDescriptor"] = [nr, first, nominal]
        spec[f"{colour}PaletteColorLookupTableData"] = (vr, lut)
    if alpha is not None:
        spec["AlphaPaletteColorLookupTableData"] = (vr, alpha)
    return build(spec, EXPLICIT_LE if little else EXPLICIT_BE)


def _entries(nr, bits, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 1 << bits, nr)


@pytest.mark.parametrize("bits,stored", [(8, 8), (16, 16), (8, 16)])  # 8-bit entries in words
@pytest.mark.parametrize("kind", ["uint8", "uint16", "uint16_big"])
@pytest.mark.parametrize("alpha", [False, True])
def test_palette(bits, stored, kind, alpha):
    nr = 256
    def pack(values):
        return bytes(int(v) for v in values) if stored == 8 else ow(values)
    luts = [pack(_entries(nr, bits, s)) for s in range(3)]
    fds, pds = _palette(nr, 0, bits, luts, alpha=pack(_entries(nr, bits, 9)) if alpha else None)
    arr = INPUTS[kind]
    if stored == 8:
        arr = np.clip(arr, 0, 255).astype(arr.dtype)  # pydicom's uint8 index wraps past 255
    out = run_both("apply_color_lut", arr, fds, pds)
    assert out.shape == arr.shape + (4 if alpha else 3,)
    assert out.dtype == (np.uint8 if stored == 8 else np.uint16)


@pytest.mark.parametrize("kind", ["int16", "int16_big"])
def test_palette_signed_first_mapped(kind):
    nr = 3000
    luts = [ow(_entries(nr, 16, s)) for s in range(3)]
    fds, pds = _palette(nr, -1000, 16, luts)
    run_both("apply_color_lut", INPUTS[kind], fds, pds)


@pytest.mark.parametrize("bits", [8, 16])
def test_palette_65536_entries(bits):
    luts = [(bytes(int(v) for v in _entries(65536, 8, s)) if bits == 8
             else ow(_entries(65536, 16, s))) for s in range(3)]
    fds, pds = _palette(0, 0, bits, luts)
    arr = RNG.integers(0, 65536, (128, 200), dtype=np.uint16)
    if bits == 16:
        run_both("apply_color_lut", arr, fds, pds)
        run_both("apply_color_lut", arr[:5, :5], fds, pds)
    else:  # pydicom's uint8 index wraps past 255: compare below that and with the tables
        run_both("apply_color_lut", arr % 256, fds, pds)
        tables = np.stack([np.frombuffer(x, np.uint8) for x in luts], axis=-1)
        assert_same(F.apply_color_lut(arr, fds), tables[arr])
        assert_same(F.apply_color_lut(arr[:5, :5], fds), tables[arr[:5, :5]])


def test_palette_big_endian_words():
    """Deviation: 16-bit entries of a big endian dataset are read in its byte
    order (pydicom reads them as little endian)."""
    le = [ow(_entries(256, 16, s)) for s in range(3)]
    fle, ple = _palette(256, 0, 16, le)
    fbe, _ = _palette(256, 0, 16, [as_bytes_be_words(x) for x in le], little=False)
    arr = INPUTS["uint8"]
    assert_same(F.apply_color_lut(arr, fbe), P.apply_color_lut(arr, ple))


def test_palette_us_values():
    """Palette LUT Data as a list of ints (US): pydicom can't, here 16-bit entries."""
    values = [list(map(int, _entries(16, 16, s))) for s in range(3)]
    fds, _ = _palette(16, 0, 16, values, vr="US")
    fref, _ = _palette(16, 0, 16, [ow(v) for v in values])
    arr = np.arange(20, dtype=np.uint8)
    assert_same(F.apply_color_lut(arr, fds), F.apply_color_lut(arr, fref))


def test_palette_8bit_index_never_wraps():
    """Deviation: pydicom's uint8 index wraps for 8-bit palettes and 16-bit input."""
    lut = bytes(range(256))
    fds, _ = _palette(256, 0, 8, [lut, lut, lut])
    arr = np.array([0, 255, 256, 300, 65535], np.uint16)
    assert F.apply_color_lut(arr, fds)[:, 0].tolist() == [0, 255, 255, 255, 255]


def test_palette_errors():
    arr = INPUTS["uint8"]
    lut = ow(range(256))
    for fds, pds in [build({}), build({"PixelPresentation": "MIXED"}),
                     _palette(256, 0, 16, [lut, lut, lut[:-2]]),
                     build({"RedPaletteColorLookupTableDescriptor": [256, 0, 16]})]:
        assert isinstance(run_both("apply_color_lut", arr, fds, pds), ValueError)
    data = ow([0, 4, 1, 2, 3, 4])
    for prefix in ("", "Segmented"):  # no Green LUT Data
        fds, pds = build({"RedPaletteColorLookupTableDescriptor": [4, 0, 16],
                          f"{prefix}RedPaletteColorLookupTableData": ("OW", data),
                          f"{prefix}BluePaletteColorLookupTableData": ("OW", data)})
        assert isinstance(run_both("apply_color_lut", arr, fds, pds), AttributeError)
    # 300 bytes for 256 entries: pydicom fails in NumPy (TypeError 'uint9')
    fds, pds = _palette(256, 0, 16, [lut[:300]] * 3)
    with pytest.raises(TypeError):
        P.apply_color_lut(arr, pds)
    with pytest.raises(ValueError, match="bit depth"):
        F.apply_color_lut(arr, fds)
    with pytest.raises(ValueError, match="Either"):
        F.apply_color_lut(arr)
    with pytest.raises(ValueError, match="Either"):
        P.apply_color_lut(arr)


def test_palette_unknown_name():
    with pytest.raises(ValueError, match="Unknown palette"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        P.apply_color_lut(INPUTS["uint8"], palette="NOPE")
    with pytest.raises(ValueError, match="Unknown palette"):
        F.apply_color_lut(INPUTS["uint8"], palette="NOPE")


# segmented palettes (PS3.3 C.7.9.2): discrete 0, linear 1, indirect 2

def _segments16(seed, offset):
    """Discrete, linear (rounding half to even), indirect copy of the first
    two segments from word `offset`, linear back down."""
    rng = np.random.default_rng(seed)
    d = [int(v) for v in rng.integers(0, 65536, 3)]
    words = [0, 3, *d, 1, 10, int(rng.integers(0, 65536)), 1, 4, d[0] + 2]
    words += [2, 2, offset & 0xFFFF, offset >> 16, 1, 25, 0, 0, 7, 5, 0, 5, 1, 2, 3]
    return words


def _segments8(seed, little):
    rng = np.random.default_rng(seed)
    d = [int(v) for v in rng.integers(0, 256, 3)]
    data = [0, 3, *d, 1, 10, int(rng.integers(0, 256)), 1, 5, (d[0] + 1) & 0xFF]
    offset = [5, 0, 0, 0] if little else [0, 5, 0, 0]  # the second segment
    data += [2, 2, *offset, 1, 30, 0, 0, 2, 9, 9]
    return bytes(data)


@pytest.mark.parametrize("little", [True, False])
@pytest.mark.parametrize("offset", [0, 5])
@pytest.mark.parametrize("alpha", [False, True])
def test_segmented_palette_16bit(little, offset, alpha):
    segs = [ow(_segments16(s, offset), little) for s in range(4)]
    nr = len(P._expand_segmented_lut(tuple(_segments16(0, offset)), "<H"))
    spec = {}
    for colour, seg in zip(("Red", "Green", "Blue"), segs):
        spec[f"{colour}PaletteColorLookupTableDescriptor"] = [nr, 10, 16]
        spec[f"Segmented{colour}PaletteColorLookupTableData"] = ("OW", seg)
    if alpha:
        spec["SegmentedAlphaPaletteColorLookupTableData"] = ("OW", segs[3])
    fds, pds = build(spec, EXPLICIT_LE if little else EXPLICIT_BE)
    arr = np.arange(nr + 20, dtype=np.uint16).reshape(1, -1)
    out = run_both("apply_color_lut", arr, fds, pds)
    assert out.dtype == np.uint16 and out.shape[-1] == (4 if alpha else 3)


@pytest.mark.parametrize("little", [True, False])
def test_segmented_palette_8bit(little):
    segs = [_segments8(s, little) for s in range(3)]
    fmt = "<" if little else ">"
    nr = len(P._expand_segmented_lut(tuple(segs[0]), fmt + "B"))
    spec = {}
    for colour, seg in zip(("Red", "Green", "Blue"), segs):
        spec[f"{colour}PaletteColorLookupTableDescriptor"] = [nr, 0, 8]
        spec[f"Segmented{colour}PaletteColorLookupTableData"] = ("OW", seg)
    fds, pds = build(spec, EXPLICIT_LE if little else EXPLICIT_BE)
    arr = np.arange(nr + 3, dtype=np.uint8)
    out = run_both("apply_color_lut", arr, fds, pds)
    assert out.dtype == np.uint8


def test_segmented_palette_errors():
    for words in ([1, 3, 5], [2, 1, 0, 0], [0, 1, 5, 7, 1, 2]):
        spec = {}
        for colour in ("Red", "Green", "Blue"):
            spec[f"{colour}PaletteColorLookupTableDescriptor"] = [4, 0, 16]
            spec[f"Segmented{colour}PaletteColorLookupTableData"] = ("OW", ow(words))
        fds, pds = build(spec)
        assert isinstance(run_both("apply_color_lut", INPUTS["uint8"], fds, pds), ValueError)
    fds, pds = build({"RedPaletteColorLookupTableDescriptor": [4, 0, 16],
                      "SegmentedRedPaletteColorLookupTableData": ("OW", ow([0, 4, 1, 2, 3, 4]))},
                     None)
    run_both("apply_color_lut", INPUTS["uint8"], fds, pds)  # byte order unknown


def test_segmented_palette_malformed_bounded():
    """An indirect segment copying itself: ValueError (pydicom: RecursionError)."""
    spec = {}
    for colour in ("Red", "Green", "Blue"):
        spec[f"{colour}PaletteColorLookupTableDescriptor"] = [4, 0, 16]
        spec[f"Segmented{colour}PaletteColorLookupTableData"] = ("OW", ow([0, 1, 5, 2, 2, 0, 0]))
    fds, _ = build(spec)
    with pytest.raises(ValueError, match="too deeply|too many"):
        F.apply_color_lut(INPUTS["uint8"], fds)


# ----------------------------------------------------------------- overlays

def _overlay(rows, cols, frames, data, little=True, group=0x6000, vr="OW"):
    spec = {(group, 0x0010): ("US", rows), (group, 0x0011): ("US", cols),
            (group, 0x0100): ("US", 1), (group, 0x0102): ("US", 0),
            (group, 0x3000): (vr, data)}
    if frames is not None:
        spec[(group, 0x0015)] = ("IS", str(frames))
    return build(spec, EXPLICIT_LE if little else EXPLICIT_BE)


def _both_overlay(fds, pds, group=0x6000):
    with warnings.catch_warnings(record=True) as theirs_w:
        warnings.simplefilter("always")
        try:
            theirs = pds.overlay_array(group)
        except Exception as exc:  # noqa: BLE001
            theirs = exc
    with warnings.catch_warnings(record=True) as ours_w:
        warnings.simplefilter("always")
        try:
            ours = overlay_array(fds, group)
        except Exception as exc:  # noqa: BLE001
            ours = exc
    if isinstance(theirs, Exception):
        assert type(ours) is type(theirs), (ours, theirs)
        assert str(ours) == str(theirs)
    else:
        assert_same(ours, theirs)
    assert [str(w.message) for w in ours_w] == [str(w.message) for w in theirs_w]
    return ours


@pytest.mark.parametrize("rows,cols,frames", [(5, 7, None), (5, 7, 1), (4, 4, 3), (3, 5, 2),
                                              (16, 16, 1), (1, 1, None), (2, 9, 5)])
@pytest.mark.parametrize("extra", [0, 1, 3])
def test_overlay(rows, cols, frames, extra):
    n = rows * cols * (frames or 1)
    nbytes = (n + 7) // 8
    data = RNG.integers(0, 256, nbytes + nbytes % 2 + extra, dtype=np.uint8).tobytes()
    fds, pds = _overlay(rows, cols, frames, data)
    out = _both_overlay(fds, pds)
    assert out.dtype == np.uint8


def test_overlay_odd_length_and_short():
    fds, pds = _overlay(3, 3, None, b"\xff\x01")  # 9 bits, 2 bytes: exact
    _both_overlay(fds, pds)
    fds, pds = _overlay(5, 5, 1, b"\xff\x01\x00\x00")  # 25 bits -> 4 bytes
    _both_overlay(fds, pds)
    fds, pds = _overlay(5, 5, 1, b"\xff\x01\x00")  # odd, misses its padding: warning
    _both_overlay(fds, pds)
    fds, pds = _overlay(5, 5, 1, b"\xff\x01")  # short
    assert isinstance(_both_overlay(fds, pds), ValueError)
    fds, pds = _overlay(4, 4, 0, b"\xff\x01")  # no frames
    assert isinstance(_both_overlay(fds, pds), ValueError)


def test_overlay_groups_and_missing():
    fds, pds = _overlay(4, 4, None, b"\x0f\xf0", group=0x6002)
    _both_overlay(fds, pds, 0x6002)
    assert isinstance(_both_overlay(fds, pds, 0x6000), AttributeError)
    for group in (0x5FFF, 0x6100):
        with pytest.raises(ValueError):
            overlay_array(fds, group)
        with pytest.raises(ValueError):
            pds.overlay_array(group)
    fds, pds = build({(0x6000, 0x3000): ("OW", b"\x01\x02"), (0x6000, 0x0010): ("US", 4)})
    err = _both_overlay(fds, pds)
    assert "OverlayBitsAllocated, OverlayColumns" in str(err)


def test_overlay_ob():
    fds, pds = _overlay(4, 4, None, b"\x0f\xf0", vr="OB")
    _both_overlay(fds, pds)


def test_overlay_big_endian():
    """Deviation: OW overlay data of a big endian dataset is unswapped first
    (pydicom unpacks the swapped bytes)."""
    data = RNG.integers(0, 256, 30, dtype=np.uint8).tobytes()
    fle, ple = _overlay(6, 10, 4, data)
    fbe, _ = _overlay(6, 10, 4, as_bytes_be_words(data), little=False)
    assert_same(overlay_array(fbe, 0x6000), ple.overlay_array(0x6000))
    assert_same(overlay_array(fle, 0x6000), ple.overlay_array(0x6000))


def test_overlay_zero_copy_from_file():
    path = next(p for p in OVERLAY_FILES if p.endswith("examples_overlay.dcm"))
    fds = _ours(path)
    elem = fds[(0x6000, 0x3000)]
    assert isinstance(elem.raw_bytes, memoryview)
    assert_same(overlay_array(fds, 0x6000), pydicom.dcmread(path).overlay_array(0x6000))


# --------------------------------------------------------------------- misc

def test_no_pydicom_import():
    """fastdicom's processing modules never import pydicom."""
    import subprocess
    import sys

    code = ("import sys, numpy as np, fastdicom\n"
            "from fastdicom.pixels import processing, overlays\n"
            "ds = fastdicom.Dataset(); ds.RescaleSlope = 2; ds.RescaleIntercept = 1\n"
            "processing.apply_modality_lut(np.arange(4), ds)\n"
            "processing.convert_color_space(np.zeros((2, 2, 3), np.uint8), 'RGB', 'YBR_FULL')\n"
            "assert not any(m == 'pydicom' or m.startswith('pydicom.') for m in sys.modules)\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_lookup_paths_agree():
    """The full-table path (large 8/16-bit inputs) and the clamped-index path
    give the same values."""
    from fastdicom.pixels import _lut

    table = np.arange(5000, dtype=np.uint16)[::-1].copy()
    for dtype in (np.uint8, np.int8, np.uint16, np.int16):
        info = np.iinfo(dtype)
        arr = np.arange(info.min, info.max + 1, dtype=np.int64).astype(dtype)
        for first in (-40000, -300, -1, 0, 7, 200, 70000):
            full = _lut._lookup(arr, table, first, len(table))
            ref = table[np.clip(arr.astype(np.int64) - first, 0, len(table) - 1)]
            assert np.array_equal(full, ref)
            small = np.concatenate([_lut._lookup(part, table, first, len(table))
                                    for part in np.array_split(arr, 64)])
            assert np.array_equal(small, ref)
        swapped = arr.astype(arr.dtype.newbyteorder(">"))
        assert np.array_equal(_lut._lookup(swapped, table, 5, len(table)),
                              _lut._lookup(arr, table, 5, len(table)))


@pytest.mark.filterwarnings("ignore:Applying a VOI LUT on a float")
@pytest.mark.parametrize("kind", ["uint8", "uint16_big", "float64"])
def test_lut_shorter_than_descriptor(kind):
    """LUT Data with fewer entries than its descriptor says: pydicom maps the
    values that reach only the entries present (else IndexError, or
    struct.error for OW data); here the same values, else ValueError."""
    arr = INPUTS[kind]
    arr = np.clip(arr, 0, 99).astype(arr.dtype)
    item = _lut_item(4096, 0, 16, np.arange(100) * 3)
    fds, pds = build({"ModalityLUTSequence": [item], "VOILUTSequence": [item]})
    if arr.dtype.kind != "f":  # pydicom's Modality LUT refuses float input (IndexError)
        run_both("apply_modality_lut", arr, fds, pds)
    run_both("apply_voi", arr, fds, pds)
    item = _lut_item(4096, 0, 16, np.arange(100) * 3, "OW")
    fds, _ = build({"ModalityLUTSequence": [item], "VOILUTSequence": [item]})
    for func in (F.apply_modality_lut, F.apply_voi):
        assert np.array_equal(func(arr, fds), (np.arange(100) * 3)[arr.astype(int)])
        with pytest.raises(ValueError, match="fewer than"):
            func(arr + 1, fds)
    seg = ow([0, 3, 7, 8, 9])  # 3 entries for a descriptor of 256
    spec = {}
    for colour in ("Red", "Green", "Blue"):
        spec[f"{colour}PaletteColorLookupTableDescriptor"] = [256, 0, 16]
        spec[f"Segmented{colour}PaletteColorLookupTableData"] = ("OW", seg)
    fds, pds = build(spec)
    small = np.array([[0, 1, 2, 1]], np.uint8)
    run_both("apply_color_lut", small, fds, pds)
    with pytest.raises(IndexError):
        P.apply_color_lut(small + 1, pds)
    with pytest.raises(ValueError, match="fewer than"):
        F.apply_color_lut(small + 1, fds)
