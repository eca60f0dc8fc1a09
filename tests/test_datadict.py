"""Differential tests of the data dictionary, private dictionaries and UIDs against pydicom.

fastdicom's dictionary follows PS3.6-2026b (DCMTK's dicom.dic); pydicom 3.0.2's
follows PS3.6-2024c. Where the standard changed in between, the disagreements
are collected, printed (``pytest -s``) and asserted to be few.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pydicom.datadict as pdd
import pydicom.uid as puid
import pytest
from pydicom._dicom_dict import DicomDictionary as PYDICOM_DICT
from pydicom._dicom_dict import RepeatersDictionary as PYDICOM_REPEATERS
from pydicom._private_dict import private_dictionaries as PYDICOM_PRIVATE

from fastdicom import datadict as dd
from fastdicom import uid as fuid
from fastdicom._dictdata import DICTIONARY, REPEATERS
from fastdicom._privatedata import PRIVATE_DICTIONARIES
from fastdicom._uiddata import UID_DICTIONARY
from fastdicom.tag import Tag

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STANDARD = os.path.join(ROOT, "..", "shared", "dicom-standard")

# Changes of PS3.6 between pydicom's 2024c dictionary and our 2026b one.
KEYWORD_CHANGES = {
    0x003A0320: "SummarizedFilterLookupTableSequence",  # was SummarizedFilterLookupTable
    0x003A0325: "AnalogFilterTypeCodeSequence",  # was AnalogFilterType
}
RETIREMENT_CHANGES = {0x00102160: True, 0x30040012: False}  # Ethnic Group retired, Dose Value back
# PS3.6 rows without name, keyword or VR: pydicom makes them 'OB' 'Retired-blank', we 'UN' ''.
BLANK_RETIRED = {0x00080202, 0x00189445, 0x00280020}


def _common_tags():
    """Tags in both dictionaries whose keyword is the same (the same attribute)."""
    return [t for t, e in PYDICOM_DICT.items() if t in DICTIONARY and DICTIONARY[t][4] == e[4]]


def _report(title, rows):
    print(f"\n{title}: {len(rows)}")
    for row in rows:
        print("   ", *row)


def test_every_pydicom_tag_is_known():
    assert [f"{t:08X}" for t in PYDICOM_DICT if t not in DICTIONARY] == []
    new = [t for t in DICTIONARY if t not in PYDICOM_DICT]
    _report("tags new since pydicom's dictionary", [(f"{t:08X}", DICTIONARY[t][4]) for t in new])
    assert len(new) < 150


def test_keywords_match_pydicom():
    diff = {t: DICTIONARY[t][4] for t, e in PYDICOM_DICT.items() if DICTIONARY[t][4] != e[4]}
    _report("keyword changes", [(f"{t:08X}", PYDICOM_DICT[t][4], kw) for t, kw in diff.items()])
    assert diff == KEYWORD_CHANGES


@pytest.mark.parametrize("field, index", [("VR", 0), ("VM", 1), ("retired", 3)])
def test_vr_vm_retired_match_pydicom(field, index):
    common = _common_tags()
    diff = [t for t in common if DICTIONARY[t][index] != PYDICOM_DICT[t][index]]
    _report(f"{field} disagreements", [
        (f"{t:08X}", DICTIONARY[t][4], repr(PYDICOM_DICT[t][index]), "->", repr(DICTIONARY[t][index]))
        for t in diff])
    assert len(common) > 5000
    assert len(diff) <= 0.01 * len(common)
    if field == "VR":
        assert set(diff) == BLANK_RETIRED
    elif field == "retired":
        assert {t: DICTIONARY[t][3] == "Retired" for t in diff} == RETIREMENT_CHANGES
    else:
        assert diff == []


def test_names_match_pydicom():
    common = _common_tags()
    diff = [t for t in common if DICTIONARY[t][2] != PYDICOM_DICT[t][2]]
    _report("name disagreements",
            [(f"{t:08X}", repr(PYDICOM_DICT[t][2]), "->", repr(DICTIONARY[t][2])) for t in diff])
    assert len(diff) <= 0.02 * len(common)


def test_lookup_functions_match_pydicom():
    funcs = ["dictionary_VR", "dictionary_VM", "dictionary_description", "dictionary_is_retired",
             "dictionary_keyword", "get_entry"]
    for t in _common_tags():
        if t in BLANK_RETIRED or t in RETIREMENT_CHANGES or DICTIONARY[t][2] != PYDICOM_DICT[t][2]:
            continue  # reported by the tests above
        for f in funcs:
            assert getattr(dd, f)(t) == getattr(pdd, f)(t), (f, hex(t))
        assert dd.keyword_for_tag(t) == pdd.keyword_for_tag(t)
        assert dd.dictionary_has_tag(t) and pdd.dictionary_has_tag(t)


@pytest.mark.parametrize("tag", [
    0x00100010, (0x0010, 0x0010), "PatientName", "0x00100010", "00100010", ("0010", "0010"),
    Tag(0x00100010), 0x7FE00010, 0xFFFEE000, 0x00020010, 0x00000000, 0x00280106, 0x00283006,
    0x00281200, 0x00041200,
])
def test_tag_forms(tag):
    assert dd.get_entry(tag) == pdd.get_entry(tag)
    assert dd.dictionary_has_tag(tag) == pdd.dictionary_has_tag(tag)


def test_tag_string_forms():
    assert dd.get_entry("(0010,0010)") == dd.get_entry("PatientName") == dd.get_entry(Tag(0x00100010))
    assert dd.dictionary_VR("(7FE0,0010)") == "OB or OW"
    with pytest.raises(ValueError):
        dd.get_entry("NotAKeyword")
    with pytest.raises(ValueError):
        dd.keyword_for_tag("NotAKeyword")  # as pydicom
    assert dd.dictionary_has_tag("NotAKeyword") is False


@pytest.mark.parametrize("tag", [0x00100000, 0x00090010, 0x00091001, 0x60010010, 0x7F110010,
                                 0x00009000, 0xFFFFFFFF, 0x00190010])
def test_unknown_tags(tag):
    for f in ("get_entry", "dictionary_VR", "dictionary_VM", "dictionary_description",
              "dictionary_is_retired", "dictionary_keyword"):
        with pytest.raises(KeyError):
            getattr(pdd, f)(tag)
        with pytest.raises(KeyError):
            getattr(dd, f)(tag)
    assert dd.keyword_for_tag(tag) == pdd.keyword_for_tag(tag) == ""
    assert dd.dictionary_has_tag(tag) is pdd.dictionary_has_tag(tag) is False


def test_keyword_round_trip():
    seen = {}
    for tag, entry in DICTIONARY.items():
        kw = entry[4]
        if not kw:
            continue
        assert kw not in seen, (kw, hex(tag), hex(seen[kw]))
        seen[kw] = tag
        assert dd.tag_for_keyword(dd.keyword_for_tag(tag)) == tag
        assert Tag(kw) == tag
    for kw, tag in pdd.keyword_dict.items():
        if kw and tag not in KEYWORD_CHANGES:
            assert dd.tag_for_keyword(kw) == tag, kw
    assert dd.tag_for_keyword("NotAKeyword") is None
    assert dd.tag_for_keyword("") is None
    assert dd.tag_for_keyword("OverlayRows") is None  # repeaters have no single tag
    assert dd.keyword_dict["PatientName"] == 0x00100010


def test_pseudo_vrs():
    assert dd.dictionary_VR(0xFFFEE000) == "NONE"
    assert dd.dictionary_VR(0x7FE00010) == "OB or OW"
    assert dd.dictionary_VR(0x00280106) == "US or SS"
    assert dd.dictionary_VR(0x00283006) == "US or OW"
    assert dd.dictionary_VR(0x00281200) == "US or SS or OW"
    assert dd.dictionary_VR(0x00041200) == "UL"
    assert dd.dictionary_VR(0x60003000) == "OB or OW"


def test_repeaters_match_pydicom():
    assert REPEATERS == PYDICOM_REPEATERS


@pytest.mark.parametrize("tag, keyword", [
    (0x60020010, "OverlayRows"), (0x60FE3000, "OverlayData"), (0x50100005, "CurveDimensions"),
    (0x00203105, "SourceImageIDs"), (0x7F100010, "VariablePixelData"),
    (0x00280410, "RowsForNthOrderCoefficients"), (0x002808F8, "ImageDataLocation"),
    (0x10001235, "ShiftTableTriplet"), (0x10101234, "ZonalMap"),
])
def test_repeater_tags(tag, keyword):
    assert dd.keyword_for_tag(tag) == pdd.keyword_for_tag(tag) == keyword
    assert dd.get_entry(tag) == pdd.get_entry(tag)
    assert dd.repeater_has_tag(tag) and pdd.repeater_has_tag(tag)
    assert not dd.dictionary_has_tag(tag)
    assert dd.repeater_has_keyword(keyword) and pdd.repeater_has_keyword(keyword)


def test_repeater_sweep_matches_pydicom():
    elements = sorted({int(k[4:].replace("x", "0"), 16) for k in REPEATERS if k[:2] in "50 60 7F"})
    groups = list(range(0x4FFE, 0x5102)) + list(range(0x5FFE, 0x6102)) + list(range(0x7EFE, 0x8002))
    tags = [(g << 16) | e for g in groups for e in elements]
    tags += [0x00200000 | e for e in range(0x3000, 0x3300)]
    tags += [0x00280000 | e for e in range(0x0390, 0x0910)]
    tags += [0x10000000 | e for e in range(0, 0x10000, 7)] + [0x10100000 | e for e in range(0, 0x10000, 13)]
    for t in tags:
        assert dd.repeater_has_tag(t) == pdd.repeater_has_tag(t), hex(t)
        assert dd.keyword_for_tag(t) == pdd.keyword_for_tag(t), hex(t)
    assert dd.repeater_has_tag(0x7F110010)  # the mask alone decides, as in pydicom
    assert dd.mask_match(0x60020010) == "60xx0010"
    assert not dd.repeater_has_keyword("PatientName")
    assert sorted(dd.REPEATER_KEYWORDS) == sorted(pdd.REPEATER_KEYWORDS)


def _block_tag(key, block=0x10):
    """A tag for a private dictionary key: 'ggggxxee' -> (gggg, bbee), 'ggxxxxee' -> (gg01, bbee)."""
    group, elem = key[:4], key[4:]
    if "x" in group:
        group = group.replace("xx", "01")
    elem = elem.replace("xx", f"{block:02X}")
    return int(group + elem, 16)


@pytest.mark.parametrize("creator", ["SIEMENS CSA HEADER", "SIEMENS MR HEADER", "GEMS_ACQU_01",
                                     "GEMS_PARM_01", "Philips Imaging DD 001", "Philips MR Imaging DD 001"])
def test_private_well_known_creators(creator, capsys):
    n = agree = 0
    diffs = []
    for key in PYDICOM_PRIVATE[creator]:
        if key[4:6] != "xx" and "x" in key:
            continue  # pydicom's ggggeexx keys cannot be looked up
        for block in (0x10, 0x23):
            tag = _block_tag(key, block)
            try:
                expected = pdd.private_dictionary_VR(tag, creator)
            except KeyError:
                continue
            n += 1
            got = dd.private_dictionary_VR(tag, creator)
            agree += got == expected
            if got != expected:
                diffs.append((f"{tag:08X}", expected, "->", got))
            assert dd.private_dictionary_VM(tag, creator)
            assert isinstance(dd.private_dictionary_description(tag, creator), str)
    _report(f"{creator}: VR disagreements", diffs)
    assert n and agree >= 0.99 * n


def test_private_examples():
    assert dd.get_private_entry(0x00291010, "SIEMENS CSA HEADER") == ("OB", "1", "CSA Image Header Info", "")
    assert dd.private_dictionary_VR(0x00291120, "SIEMENS CSA HEADER") == "OB"  # any block
    assert dd.private_dictionary_VR((0x0019, 0x10BB), "GEMS_ACQU_01") == pdd.private_dictionary_VR(
        0x001910BB, "GEMS_ACQU_01")
    # ggxx group range; GDCM (pydicom's source) says LT where DCMTK says US: GDCM wins
    assert dd.private_dictionary_VR(0x60211001, "DLX_LKUP_01") == "LT"
    assert dd.private_dictionary_VR(0x00091040, "GEMS_GENIE_1") == "PN"  # DCMTK: LO
    with pytest.raises(KeyError):
        dd.get_private_entry(0x00291010, "NO SUCH CREATOR")
    with pytest.raises(KeyError):
        dd.get_private_entry(0x002910FF, "SIEMENS CSA HEADER")
    assert "SIEMENS CSA HEADER" in dd.private_dictionaries


def test_private_overall_agreement():
    n = agree = missing = 0
    for creator, entries in PYDICOM_PRIVATE.items():
        ours = PRIVATE_DICTIONARIES.get(creator, {})
        for key, entry in entries.items():
            n += 1
            if key not in ours:
                missing += 1
            else:
                agree += ours[key][0] == entry[0]
    print(f"\nprivate: {n} pydicom entries, {agree} same VR, {missing} unknown to us")
    assert set(PYDICOM_PRIVATE) <= set(PRIVATE_DICTIONARIES)
    assert missing <= 0.01 * n
    # GDCM (pydicom's source) comes first; the rest are entries a newer GDCM marks UN
    assert agree >= 0.99 * n


def test_add_entries():
    assert not dd.dictionary_has_tag(0x00981000)
    dd.add_dict_entry(0x00981000, "UL", "TestOneFd", "Test One Fd")
    assert dd.get_entry(0x00981000) == ("UL", "1", "Test One Fd", "", "TestOneFd")
    assert dd.tag_for_keyword("TestOneFd") == 0x00981000
    with pytest.raises(ValueError):
        dd.add_dict_entries({0x00991000: ("UL", "1", "Private", "", "Private")})
    dd.add_private_dict_entry("FASTDICOM TEST", 0x00411001, "US", "Test Three")
    assert dd.get_private_entry(0x00411201, "FASTDICOM TEST") == ("US", "1", "Test Three", "")
    with pytest.raises(ValueError):
        dd.add_private_dict_entries("FASTDICOM TEST", {0x00401001: ("US", "1", "x", "")})
    del DICTIONARY[0x00981000], dd.keyword_dict["TestOneFd"], dd.private_dictionaries["FASTDICOM TEST"]


# ---------------------------------------------------------------- UIDs

def test_uid_dictionary_matches_pydicom():
    # pydicom's dictionary can grow at run time (codec plugins register the
    # transfer syntaxes they add); ours is the one pydicom 3.0.2 ships
    assert set(UID_DICTIONARY) <= set(puid.UID_dictionary)
    assert {k: puid.UID_dictionary[k] for k in UID_DICTIONARY} == UID_DICTIONARY


def test_uid_names_and_types():
    for uid in UID_DICTIONARY:  # pydicom's shipped entries (see above)
        ours, theirs = fuid.UID(uid), puid.UID(uid)
        for attr in ("name", "keyword", "type", "info", "is_retired", "is_private",
                     "is_transfer_syntax", "is_valid"):
            assert getattr(ours, attr) == getattr(theirs, attr), (uid, attr)
    unknown = fuid.UID("1.2.3.4")
    assert unknown.name == "1.2.3.4" and unknown.keyword == unknown.type == unknown.info == ""
    assert unknown.is_private and not unknown.is_retired and not unknown.is_transfer_syntax


# pydicom says not deflated; PS3.5 A.7 deflates their dataset (and fastdicom's reader inflates it).
DEFLATE_EXCEPTIONS = {fuid.JPIPReferencedDeflate, fuid.JPIPHTJ2KReferencedDeflate}
TS_PROPERTIES = ("is_implicit_VR", "is_little_endian", "is_deflated", "is_compressed", "is_encapsulated")


def test_transfer_syntax_properties_match_pydicom():
    ts = [u for u, e in UID_DICTIONARY.items() if e[1] == "Transfer Syntax"]
    assert len(ts) > 50
    for uid in ts:
        ours, theirs = fuid.UID(uid), puid.UID(uid)
        for attr in TS_PROPERTIES:
            if attr == "is_deflated" and uid in DEFLATE_EXCEPTIONS:
                assert ours.is_deflated and not theirs.is_deflated
                continue
            assert getattr(ours, attr) == getattr(theirs, attr), (uid, ours.keyword, attr)
        # the reader's encoding table and the UID class agree
        enc = fuid.encoding_for_transfer_syntax(uid)
        assert (enc.implicit_vr, enc.little_endian, enc.deflated) == (
            ours.is_implicit_VR, ours.is_little_endian, ours.is_deflated)


@pytest.mark.parametrize("uid", ["1.2.840.10008.5.1.4.1.1.2", "1.2.3.4", "1.2.840.10008.1.1"])
def test_non_transfer_syntax_raises(uid):
    for attr in TS_PROPERTIES:
        with pytest.raises(ValueError):
            getattr(puid.UID(uid), attr)
        with pytest.raises(ValueError):
            getattr(fuid.UID(uid), attr)


@pytest.mark.parametrize("value, valid", [
    ("1.2.840.10008.1.2", True), ("0", True), ("0.0.1", True), ("2.25." + "9" * 59, True),
    ("2.25." + "9" * 60, False), ("1.02.3", False), ("01.2", False), ("1..2", False),
    ("1.2.", False), (".1.2", False), ("1.2a.3", False), ("", False), ("1.2.3 ", True),
    ("1.2.-3", False), ("1.2\n", True), ("1.2.3\n.4", False), ("1.2.3.4.5.6.7.8.9.10", True),
    ("1.2.840.10008.1.2\x00", True), ("١.٢", False),
])
def test_is_valid(value, valid):
    assert fuid.UID(value).is_valid is valid
    if "\x00" not in value:  # pydicom keeps a trailing NUL; we strip it like padding
        assert puid.UID(value).is_valid is valid


def test_uid_constants_and_lists():
    for name in dir(puid):
        value = getattr(puid, name)
        if isinstance(value, puid.UID) and name[0].isupper() and not name.startswith("PYDICOM"):
            assert getattr(fuid, name) == value, name
            assert isinstance(getattr(fuid, name), fuid.UID)
    for name in ("UncompressedTransferSyntaxes", "JPEGTransferSyntaxes", "JPEGLSTransferSyntaxes",
                 "JPEG2000TransferSyntaxes", "MPEGTransferSyntaxes", "RLETransferSyntaxes"):
        assert getattr(fuid, name) == getattr(puid, name), name
    extra = set(fuid.AllTransferSyntaxes) - set(puid.AllTransferSyntaxes)
    assert set(puid.AllTransferSyntaxes) <= set(fuid.AllTransferSyntaxes)
    # current transfer syntaxes that pydicom leaves out of its list
    assert extra == {fuid.EncapsulatedUncompressedExplicitVRLittleEndian, fuid.JPIPReferenced,
                     fuid.JPIPReferencedDeflate}
    assert fuid.CTImageStorage == "1.2.840.10008.5.1.4.1.1.2"
    with pytest.raises(AttributeError):
        fuid.NotAUidKeyword  # noqa: B018


def test_uid_is_a_str():
    u = fuid.UID(" 1.2.840.10008.1.2.1 ")
    assert u == "1.2.840.10008.1.2.1" and isinstance(u, str)
    assert {u: 1}["1.2.840.10008.1.2.1"] == 1
    assert fuid.UID(u) == u and fuid.UID(u).name == "Explicit VR Little Endian"
    with pytest.raises(TypeError):
        fuid.UID(12)


def test_private_transfer_syntax():
    u = fuid.UID("1.2.3.4.5")
    assert not u.is_transfer_syntax
    u.set_private_encoding(False, False)
    assert u.is_transfer_syntax and not u.is_implicit_VR and not u.is_little_endian
    assert not u.is_deflated
    assert fuid.UID(u).is_transfer_syntax  # the encoding follows the UID
    r = fuid.register_transfer_syntax("1.2.3.4.6", True, True)
    try:
        assert r in fuid.PrivateTransferSyntaxes
        assert fuid.encoding_for_transfer_syntax("1.2.3.4.6") == fuid.Encoding(True, True)
    finally:
        fuid.PrivateTransferSyntaxes.remove(r)
    with pytest.raises(ValueError):
        fuid.register_transfer_syntax("1.2.3.4.7")


# ---------------------------------------------------------------- generated files

def test_no_pydicom_at_runtime():
    code = ("import sys, fastdicom.datadict as d, fastdicom.uid as u; "
            "d.get_private_entry(0x00291010, 'SIEMENS CSA HEADER'); d.tag_for_keyword('Rows'); "
            "u.CTImageStorage; assert 'pydicom' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.skipif(not os.path.isdir(STANDARD), reason="../shared/dicom-standard not available")
def test_generated_files_are_up_to_date(tmp_path):
    spec = importlib.util.spec_from_file_location("gen_dicts", os.path.join(ROOT, "tools", "gen_dicts.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    exact, repeaters = gen.build_public_dictionary(STANDARD)
    gen.gen_py_dictionary(exact, repeaters, tmp_path / "_dictdata.py")
    gen.gen_py_private(gen.build_private_dictionaries(STANDARD), tmp_path / "_privatedata.py")
    gen.gen_py_uids(gen.build_uid_dictionary(STANDARD), tmp_path / "_uiddata.py")
    gen.gen_c_vr_table(exact, repeaters, tmp_path / "fd_dict_vr.c")
    for name, committed in [("_dictdata.py", "fastdicom"), ("_privatedata.py", "fastdicom"),
                            ("_uiddata.py", "fastdicom"), ("fd_dict_vr.c", "csrc")]:
        with open(os.path.join(ROOT, committed, name), "rb") as f:
            assert (tmp_path / name).read_bytes() == f.read(), name
