"""The well-known colour palettes of PS3.6 Annex B:
``apply_color_lut(arr, palette=NAME or UID)`` against pydicom's.

pydicom reads each palette from its bundled Color Palette IOD; fastdicom's
tables are generated from the same IODs by tools/gen_palettes.py
(fastdicom/pixels/_palettes.py). By UID both must agree on every palette. By
name too, but for FALL and WINTER: pydicom 3.0.2's name table maps FALL to the
UID of WINTER (1.2.840.10008.1.5.8) and WINTER to that of FALL; fastdicom
uses the standard's UIDs (FALL 1.2.840.10008.1.5.7, WINTER
1.2.840.10008.1.5.8, PS3.6 Annex B and the UID registry), so by name those
two are compared with pydicom's result for the standard's UID.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import pydicom
from pydicom.pixels import processing as P

import fastdicom
from fastdicom.pixels import processing as F
from fastdicom.pixels._palettes import PALETTE_TABLES, WELL_KNOWN_PALETTES

PYDICOM_PALETTES = Path(pydicom.__file__).resolve().parent / "data" / "palettes"
STANDARD_UIDS = {
    "HOT_IRON": "1.2.840.10008.1.5.1", "PET": "1.2.840.10008.1.5.2",
    "HOT_METAL_BLUE": "1.2.840.10008.1.5.3", "PET_20_STEP": "1.2.840.10008.1.5.4",
    "SPRING": "1.2.840.10008.1.5.5", "SUMMER": "1.2.840.10008.1.5.6",
    "FALL": "1.2.840.10008.1.5.7", "WINTER": "1.2.840.10008.1.5.8",
}
PYDICOM_SWAPS_NAME = {"FALL", "WINTER"}


def _inputs():
    values = np.arange(256)
    rng = np.random.default_rng(4)
    return {
        "uint8": values.astype(np.uint8).reshape(16, 16),
        "uint16": values.astype(np.uint16)[::-1].reshape(4, 64),
        "int16-image": rng.integers(0, 256, (64, 80)).astype(np.int16),
        "uint16-large": rng.integers(0, 256, (256, 256)).astype(np.uint16),  # full-table path
        "int32": values.astype(np.int32),
        "float64": values.astype(np.float64)[:100],
    }


INPUTS = _inputs()


def pydicom_palette(arr, palette):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return P.apply_color_lut(arr, palette=palette)


def assert_same(ours, theirs):
    assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype
    assert ours.shape == theirs.shape
    assert ours.tobytes() == np.ascontiguousarray(theirs).tobytes()


def test_names_and_uids_are_the_standards():
    assert WELL_KNOWN_PALETTES == STANDARD_UIDS
    assert set(PALETTE_TABLES) == set(STANDARD_UIDS.values())
    assert F.WELL_KNOWN_PALETTES is WELL_KNOWN_PALETTES
    from fastdicom.pixels import WELL_KNOWN_PALETTES as reexported

    assert reexported is WELL_KNOWN_PALETTES


@pytest.mark.parametrize("kind", sorted(INPUTS))
@pytest.mark.parametrize("uid", sorted(STANDARD_UIDS.values()))
def test_by_uid_equals_pydicom(uid, kind):
    arr = INPUTS[kind]
    assert_same(F.apply_color_lut(arr.copy(), palette=uid), pydicom_palette(arr.copy(), uid))


@pytest.mark.parametrize("name", sorted(STANDARD_UIDS))
def test_by_name_equals_pydicom(name):
    arr = INPUTS["uint8"]
    ours = F.apply_color_lut(arr, palette=name)
    assert_same(ours, F.apply_color_lut(arr, palette=STANDARD_UIDS[name]))
    if name in PYDICOM_SWAPS_NAME:  # see the module documentation
        assert_same(ours, pydicom_palette(arr, STANDARD_UIDS[name]))
        assert not np.array_equal(ours, pydicom_palette(arr, name))
    else:
        assert_same(ours, pydicom_palette(arr, name))


@pytest.mark.parametrize("name", sorted(STANDARD_UIDS))
def test_table_equals_the_palette_iod(name):
    """The bundled table gives what the palette's IOD gives when passed as ds."""
    path = next(p for p in PYDICOM_PALETTES.glob("*.dcm")
                if str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID)
                == STANDARD_UIDS[name])
    arr = INPUTS["uint8"]
    assert_same(F.apply_color_lut(arr, palette=name), F.apply_color_lut(arr, fastdicom.dcmread(path)))


def test_palette_wins_over_ds_and_results_are_fresh():
    ds = fastdicom.dcmread(next(PYDICOM_PALETTES.glob("pet.dcm")))
    arr = INPUTS["uint8"]
    ours = F.apply_color_lut(arr, ds, palette="HOT_IRON")
    assert_same(ours, F.apply_color_lut(arr, palette="HOT_IRON"))
    assert ours.flags.writeable
    ours[...] = 0  # the cached table is not shared with the result
    assert F.apply_color_lut(arr, palette="HOT_IRON").any()


def test_values_outside_the_palette_are_clamped():
    """Values below 0 take entry 0 and past 255 entry 255 (PS3.3 C.7.6.3.1.5;
    pydicom wraps them modulo 256 instead, see fastdicom.pixels.processing)."""
    arr = np.array([-5, 0, 255, 256, 70000], dtype=np.int32)
    table = F.apply_color_lut(np.arange(256, dtype=np.uint8), palette="PET")
    assert_same(F.apply_color_lut(arr, palette="PET"), table[[0, 0, 255, 255, 255]])


@pytest.mark.parametrize("palette", ["NOPE", "hot_iron", "1.2.840.10008.1.5.9", ""])
def test_unknown_palettes(palette):
    if palette:
        with pytest.raises(ValueError, match="Unknown palette"):
            F.apply_color_lut(INPUTS["uint8"], palette=palette)
        with pytest.raises(ValueError, match="Unknown palette"):
            pydicom_palette(INPUTS["uint8"], palette)
    else:
        with pytest.raises(ValueError, match="Either"):
            F.apply_color_lut(INPUTS["uint8"], palette=palette)
