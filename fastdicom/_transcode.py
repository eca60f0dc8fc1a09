"""Vectorized transcoding of untouched element subtrees to another encoding.

When a dataset is written in an encoding other than the one it was read in,
every element needs a new header (explicit/implicit VR, byte order), every
defined-length sequence and item a new length, and binary values may need
byte swapping. For elements nobody changed this is done here for whole runs
of records at once with numpy, from the element table alone: header sizes,
container lengths (sums over each subtree, from a cumulative sum over the
table), header bytes and the value bytes (a gather from the source buffer,
byte-swapped per VR) of every record of the run.

Records that need the dataset layer are left to the element-by-element path
(:mod:`fastdicom._dsencode`): a VR the dictionary does not know or that
depends on context (implicit VR pseudo-VRs, UN), Pixel Data (its byte order
follows Bits Allocated), group lengths, encapsulated data, and short-length
values too long for their VR in explicit VR (written as UN, with a warning).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from fastdicom import _core
from fastdicom._encode import LONG_VRS

F_UNDEF = _core.F_UNDEFINED
F_SEQ = _core.F_SEQUENCE
F_ITEM = _core.F_ITEM
F_DELIM = _core.F_ITEM_DELIM | _core.F_SEQ_DELIM
F_BE = _core.F_BIG_ENDIAN
F_HARD = (_core.F_VR_UNKNOWN | _core.F_ENCAPSULATED | _core.F_FRAGMENT | _core.F_OFFSET_TABLE
          | _core.F_UN_SEQUENCE)


def _codes(names: Any) -> np.ndarray:
    return np.array([ord(v[0]) << 8 | ord(v[1]) for v in names], dtype=np.uint16)


_LONG = _codes(sorted(LONG_VRS))
_HARD_VRS = _codes(["UN", "xs", "ox", "px", "lt", "up"])
_UNITS = {2: _codes(["US", "SS", "OW", "AT"]), 4: _codes(["UL", "SL", "FL", "OF", "OL"]),
          8: _codes(["FD", "SV", "UV", "OD", "OV"])}


class Transcoder:
    """Per-record tables of one element table (``tok``) for one target encoding."""

    def __init__(self, tok: Any, implicit: bool, little: bool) -> None:
        rec = tok.records
        self.tok = tok
        self.implicit = implicit
        self.little = little
        n = len(rec)
        flags = rec["flags"].astype(np.int64)
        tags = rec["tag"].astype(np.int64)
        vlen = rec["value_length"].astype(np.int64)
        vr = np.ascontiguousarray(rec["vr"]).view(">u2").astype(np.uint16)
        item = (flags & F_ITEM) != 0
        delim = (flags & F_DELIM) != 0
        element = ~(item | delim)
        seq = (flags & F_SEQ) != 0
        leaf = element & ~seq
        long = np.isin(vr, _LONG) & element
        if implicit:
            hdr = np.full(n, 8, dtype=np.int64)
        else:
            hdr = np.where(long, 12, 8).astype(np.int64)
        size = hdr + np.where(leaf, vlen, 0)
        bad = element & (((flags & F_HARD) != 0) | np.isin(vr, _HARD_VRS)
                         | (tags == 0x7FE00010) | ((tags & 0xFFFF) == 0))
        if not implicit:
            bad |= leaf & ~long & (vlen > 0xFFFE)
        self.badcum = np.concatenate(([0], np.cumsum(bad)))
        total = np.concatenate(([0], np.cumsum(size)))
        nxt = rec["next"].astype(np.int64)
        content = total[nxt] - total[np.arange(1, n + 1)]
        undefined = (flags & F_UNDEF) != 0
        self.length = np.where(leaf, vlen, np.where(delim, 0, np.where(undefined, 0xFFFFFFFF, content)))
        self.hdr = hdr
        self.size = size
        self.leaf_len = np.where(leaf, vlen, 0)
        self.explicit_elem = element & (not implicit)
        self.vr = vr
        self.tags = tags
        self.voff = rec["value_offset"].astype(np.int64)
        self.next = nxt
        swap = ((flags & F_BE) != 0) == little  # the byte order changes
        unit = np.ones(n, dtype=np.int64)
        if swap.any():
            for u, codes in _UNITS.items():
                unit[np.isin(vr, codes) & leaf & swap] = u
        self.unit = unit
        self.any_swap = bool((unit > 1).any())

    def ok(self, i: int) -> bool:
        """Whether the subtree of record ``i`` can be transcoded here."""
        return self.badcum[self.next[i]] == self.badcum[i]

    def end(self, i: int) -> int:
        return int(self.next[i])

    def encode(self, ranges: list) -> memoryview:
        """The bytes of the records in ``ranges`` ([start, stop) record indices,
        whole subtrees, in order) in the target encoding."""
        idx = np.concatenate([np.arange(a, b) for a, b in ranges]) if len(ranges) > 1 \
            else np.arange(ranges[0][0], ranges[0][1])
        m = len(idx)
        size = self.size[idx]
        off = np.cumsum(size) - size
        out = np.empty(int(size.sum()), dtype=np.uint8)
        end = "<" if self.little else ">"
        tags = self.tags[idx]
        length = self.length[idx]
        hdr = self.hdr[idx]
        head = np.zeros((m, 12), dtype=np.uint8)
        words = np.empty((m, 2), dtype=end + "u2")
        words[:, 0] = tags >> 16
        words[:, 1] = tags & 0xFFFF
        head[:, 0:4] = words.view(np.uint8).reshape(m, 4)
        explicit = self.explicit_elem[idx]
        long = explicit & (hdr == 12)
        short = explicit & (hdr == 8)
        plain = ~explicit
        u32 = length.astype(end + "u4").view(np.uint8).reshape(m, 4)
        head[plain, 4:8] = u32[plain]
        if explicit.any():
            vr = self.vr[idx].astype(">u2").view(np.uint8).reshape(m, 2)
            head[explicit, 4:6] = vr[explicit]
            head[long, 8:12] = u32[long]
            u16 = (length & 0xFFFF).astype(end + "u2").view(np.uint8).reshape(m, 2)
            head[short, 6:8] = u16[short]
        for width in (8, 12):
            sel = hdr == width
            if sel.any():
                pos = off[sel, None] + np.arange(width)
                out[pos] = head[sel, :width]
        lens = self.leaf_len[idx]
        nbytes = int(lens.sum())
        if nbytes:
            rid = np.repeat(np.arange(m), lens)
            starts = np.cumsum(lens) - lens
            within = np.arange(nbytes) - starts[rid]
            src_within = within
            if self.any_swap:
                unit = self.unit[idx]
                if (unit > 1).any():
                    ur = unit[rid]
                    full = (lens - lens % unit)[rid]
                    swapped = (within // ur) * ur + (ur - 1 - within % ur)
                    src_within = np.where(within < full, swapped, within)
            buf = np.frombuffer(self.tok.obj, dtype=np.uint8)
            out[(off + hdr)[rid] + within] = buf[self.voff[idx][rid] + src_within]
        return memoryview(out)
