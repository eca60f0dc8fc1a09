"""Differential test of the tokenizer against pydicom, the oracle.

For every file of the corpus, the element structure found by fastdicom (tags in
order, VR, declared length, value bytes, sequences and items at every depth)
must equal what pydicom reads. Files pydicom cannot read must be rejected with
an InvalidDicomError subclass.
"""
from __future__ import annotations

import os
import warnings

import pydicom
import pydicom.datadict
import pytest
from corpus import CORPUS, corpus_id
from pydicom.dataelem import RawDataElement

import fastdicom
from fastdicom import _core
from fastdicom.errors import InvalidDicomError

# Dictionary pseudo-VRs (context dependent) and what pydicom may resolve them to.
PSEUDO = {
    "xs": {"US", "SS", "US or SS"},
    "ox": {"OB", "OW", "OB or OW"},
    "px": {"OB", "OW", "OB or OW"},
    "lt": {"US", "SS", "OW", "US or SS or OW", "US or OW"},
    "up": {"UL"},
}


class ReadPastEnd(Exception):
    """pydicom returned a value shorter than its declared length: it read past
    the end of the data (it does so silently); a strict reader must refuse."""


# Files pydicom reads leniently, without a warning, that a strict reader
# must refuse; each with the fault and the error we give.
KNOWN_MALFORMED = {
    # the last directory record item declares 0xF8 bytes; only 224 remain
    "DICOMDIR-nooffset": ("BadLengthError", 10860),
}

# pydicom's warnings that mean it read past the end of the data
TRUNCATION_WARNINGS = ("End of file reached",)


def read_pydicom(path, **kwargs):
    """pydicom's dataset and the force flag it needed, or the error it raised."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for force in (False, True):
            try:
                ds = pydicom.dcmread(path, force=force, **kwargs)
                if any(w in str(m.message) for m in seen for w in TRUNCATION_WARNINGS):
                    raise ReadPastEnd("pydicom warned that the data ended early")
                # converting every element proves pydicom really read it
                list(oracle_walk(ds))
                return ds, force
            except Exception as exc:  # pydicom could not read it
                error = exc
        return error, True


def oracle_walk(ds, depth=0):
    """(depth, tag, VR, length, value or None, n_items or None) in file order."""
    for tag, raw in list(ds._dict.items()):
        elem = ds[tag]  # converts: parses SQ values pydicom read as raw bytes
        if elem.VR == "SQ":
            length = raw.length if isinstance(raw, RawDataElement) else None
            yield (depth, int(tag), "SQ", length, None, len(elem.value))
            for item in elem.value:
                yield from oracle_walk(item, depth + 2)
        else:
            if isinstance(raw, RawDataElement):
                value = b"" if raw.value is None else bytes(raw.value)
                if raw.length != 0xFFFFFFFF and len(value) != raw.length:
                    raise ReadPastEnd(f"{tag}: {len(value)} bytes of {raw.length}")
                yield (depth, int(tag), raw.VR, raw.length, value, None, elem.VR)
            else:  # already converted by pydicom (e.g. file meta): no raw bytes left
                yield (depth, int(tag), elem.VR, None, None, None, elem.VR)


def dataset_children(tokens, parent):
    """Children of a dataset as pydicom keeps them: a repeated tag keeps its
    first position and its last value (a dict)."""
    by_tag = {}
    for i in tokens.children(parent):
        by_tag[int(tokens.records["tag"][i])] = i
    return list(by_tag.values())


def ours_walk(tokens, parent=-1, depth=0):
    rec = tokens.records
    for i in dataset_children(tokens, parent):
        r = rec[i]
        flags = int(r["flags"])
        vr = r["vr"].decode("latin-1")
        if flags & _core.F_SEQUENCE:
            items = tokens.children(int(i))
            yield (depth, int(r["tag"]), "SQ", int(r["raw_length"]), None, len(items), flags)
            for item in items:
                yield from ours_walk(tokens, int(item), depth + 2)
        else:
            yield (depth, int(r["tag"]), vr, int(r["raw_length"]), bytes(tokens.value(int(i))), None, flags)


def dictionary_vr(tag):
    try:
        return pydicom.datadict.dictionary_VR(tag)
    except KeyError:
        return None


def compare(ours, theirs, where):
    ours = list(ours)
    theirs = list(theirs)
    assert [t[:2] for t in ours] == [t[:2] for t in theirs], f"{where}: tags differ"
    for o, t in zip(ours, theirs):
        depth, tag = o[:2]
        label = f"{where} ({tag >> 16:04X},{tag & 0xFFFF:04X}) at depth {depth}"
        if t[2] == "SQ":
            assert o[2] == "SQ", label
            assert o[5] == t[5], f"{label}: item count"
            if t[3] is not None:
                assert o[3] == t[3], f"{label}: length"
            continue
        flags = o[6]
        if t[2] is None or flags & _core.F_VR_DICT:
            # implicit VR: compare with the VR pydicom's dictionary gives
            theirs_vr = t[6]
            if o[2] in PSEUDO:
                assert theirs_vr in PSEUDO[o[2]], f"{label}: VR {o[2]} vs {theirs_vr}"
            elif flags & _core.F_VR_UNKNOWN:
                assert theirs_vr in ("UN", "LO") or theirs_vr, label
            else:
                assert o[2] == theirs_vr or theirs_vr in PSEUDO.get(o[2].lower(), ()), f"{label}: VR {o[2]} vs {theirs_vr}"
        elif o[2] == "UN" and t[2] in (dictionary_vr(tag), t[6]):
            # the data says UN; pydicom replaces it by the VR of its public or
            # private dictionary (config.replace_un_with_known_vr)
            pass
        else:
            assert o[2] == t[2], f"{label}: VR {o[2]} vs {t[2]}"
        if t[3] is not None:
            assert o[3] == t[3], f"{label}: length"
        if t[4] is not None:
            assert o[4] == t[4], f"{label}: value bytes"


@pytest.mark.parametrize("path", CORPUS, ids=[corpus_id(p) for p in CORPUS])
def test_structure_matches_pydicom(path):
    name = os.path.basename(path)
    if name in KNOWN_MALFORMED:
        cls, offset = KNOWN_MALFORMED[name]
        with pytest.raises(InvalidDicomError) as info:
            fastdicom.dcmread(path)
        assert type(info.value).__name__ == cls
        assert info.value.offset == offset
        return
    theirs, force = read_pydicom(path)
    if isinstance(theirs, Exception):
        with pytest.raises(InvalidDicomError), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fastdicom.dcmread(path, force=True)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = fastdicom.dcmread(path, force=force)
    if theirs.file_meta is not None and len(theirs.file_meta._dict):
        assert ours.file_meta is not None
        compare(ours_walk(ours.file_meta.tokens), oracle_walk(theirs.file_meta), "file meta")
    compare(ours_walk(ours.tokens), oracle_walk(theirs), corpus_id(path))
    assert ours.preamble == theirs.preamble
    assert ours.is_little_endian == theirs.is_little_endian
    assert ours.is_implicit_VR == theirs.is_implicit_VR


READABLE = [p for p in CORPUS if os.path.basename(p) not in KNOWN_MALFORMED]


@pytest.mark.parametrize("path", READABLE, ids=[corpus_id(p) for p in READABLE])
def test_stop_before_pixels_matches_pydicom(path):
    theirs, force = read_pydicom(path, stop_before_pixels=True)
    if isinstance(theirs, Exception):
        with pytest.raises(InvalidDicomError), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fastdicom.dcmread(path, force=True, stop_before_pixels=True)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = fastdicom.dcmread(path, force=force, stop_before_pixels=True)
    compare(ours_walk(ours.tokens), oracle_walk(theirs), corpus_id(path))
    tags = ours.tokens.records["tag"][ours.tokens.children(-1)]
    assert not set(int(t) for t in tags) & {0x7FE00008, 0x7FE00009, 0x7FE00010}
