"""Frames: where each frame of the pixel data is, without copying the rest.

Native data: a frame is a slice of the (memory-mapped) file buffer, or,
when the pixel data value was left in the file (``dcmread`` of a path), only
its bytes are read from the file; :func:`frame` costs one frame's time and
memory whatever the file size.

Encapsulated data: the fragments come from the element table (the Pixel
Data record has ``F_ENCAPSULATED``, its children are the Basic Offset Table
item then the fragment items), as zero-copy memoryviews. Frames are found as
pydicom 3 finds them (``pydicom.encaps.generate_fragmented_frames``): the
Extended Offset Table (7FE0,0001)/(7FE0,0002) first, then the Basic Offset
Table, else one frame per fragment when the counts agree, all fragments for
one frame, or, with more fragments than frames, a frame ending at each
fragment whose last 10 bytes hold a JPEG EOI marker (FF D9).
"""
from __future__ import annotations

import struct
import warnings
from typing import Any, Iterator

import numpy as np

from fastdicom import _core
from fastdicom.pixels._info import PIXEL_TAGS, PixelDataError, PixelInfo, element_getter
from fastdicom.pixels import native as _native

__all__ = [
    "pixel_element",
    "pixel_bytes",
    "Fragments",
    "fragments",
    "encapsulated_frames",
    "encapsulated_frame",
    "encoded_frame_spans",
    "number_of_frames",
    "frame",
    "iter_frames",
]

_ITEM = 0xFFFEE000
_SEQ_DELIM = 0xFFFEE0DD
_EOI = b"\xff\xd9"


def pixel_element(ds: Any) -> Any:
    """The dataset's pixel data element (Pixel Data, Float or Double Float Pixel Data)."""
    get = element_getter(ds)
    for tag, _ in PIXEL_TAGS:
        elem = get(tag)
        if elem is not None:
            return elem
    from fastdicom.pixels._info import MissingPixelElementError

    raise MissingPixelElementError(
        "The dataset has no 'Pixel Data', 'Float Pixel Data' or 'Double Float Pixel Data' "
        "element, no pixel data to decode"
    )


def pixel_bytes(elem: Any) -> memoryview:
    """The element's value bytes: zero-copy over the file buffer when it was
    read from data, else a memoryview of the value the user assigned."""
    raw = elem.raw_bytes
    if raw is not None:
        return raw
    value = elem.value
    if value is None:
        return memoryview(b"")
    if isinstance(value, np.ndarray):
        return memoryview(np.ascontiguousarray(value)).cast("B")
    try:
        return memoryview(value).cast("B")
    except TypeError:
        raise PixelDataError(f"the pixel data value is a {type(value).__name__}, not bytes") from None


# -- encapsulated data ----------------------------------------------------------------
class Fragments:
    """The fragments of encapsulated pixel data, all as offsets into ``base``.

    ``offsets``/``lengths``: each fragment's value (int64 arrays);
    ``positions``: each fragment's item tag, from the first item after the
    Basic Offset Table (the origin of both offset tables); ``bot``: the Basic
    Offset Table (empty when absent); ``region``: bytes of items after it.
    """

    __slots__ = ("base", "offsets", "lengths", "positions", "bot", "region")

    def __init__(self, base: memoryview, offsets: np.ndarray, lengths: np.ndarray,
                 positions: np.ndarray, bot: list[int], region: int) -> None:
        self.base = base
        self.offsets = offsets
        self.lengths = lengths
        self.positions = positions
        self.bot = bot
        self.region = region

    def __len__(self) -> int:
        return len(self.offsets)

    def data(self, k: int) -> memoryview:
        o = int(self.offsets[k])
        return self.base[o:o + int(self.lengths[k])]


def _parse_bot(raw: Any, little: bool) -> list[int]:
    if len(raw) % 4:
        raise PixelDataError("The length of the Basic Offset Table item is not a multiple of 4")
    if not len(raw):
        return []
    return np.frombuffer(raw, "<u4" if little else ">u4").tolist()


def _fragments_from_table(tok: Any, index: int, little: bool) -> Fragments:
    kids = tok.children(index)
    if not len(kids):
        raise PixelDataError("encapsulated pixel data without a Basic Offset Table item")
    rec = tok.records[kids]
    flags = rec["flags"]
    if not flags[0] & _core.F_OFFSET_TABLE or ((flags[1:] & _core.F_FRAGMENT) == 0).any():
        raise PixelDataError("encapsulated pixel data holds something other than items")
    base = memoryview(tok.obj).cast("B")
    bot_off = int(rec["value_offset"][0])
    bot_len = int(rec["value_length"][0])
    bot = _parse_bot(base[bot_off:bot_off + bot_len], little)
    origin = bot_off + bot_len
    offsets = rec["value_offset"][1:].astype(np.int64)
    lengths = rec["value_length"][1:].astype(np.int64)
    positions = rec["header_offset"][1:].astype(np.int64) - origin
    elem_end = int(tok.records[index]["value_offset"]) + int(tok.records[index]["value_length"])
    return Fragments(base, offsets, lengths, positions, bot, elem_end - origin)


def _fragments_from_bytes(data: memoryview, little: bool) -> Fragments:
    """Parse the items of encapsulated pixel data held as plain bytes."""
    fmt = "<HHL" if little else ">HHL"
    n = len(data)
    if n < 8:
        raise PixelDataError("encapsulated pixel data too short to hold a Basic Offset Table item")
    group, elem, length = struct.unpack_from(fmt, data, 0)
    if (group << 16 | elem) != _ITEM:
        raise PixelDataError(
            f"Found unexpected tag ({group:04X},{elem:04X}) instead of (FFFE,E000) when parsing "
            "the Basic Offset Table item", 0)
    if length == 0xFFFFFFFF or 8 + length > n:
        raise PixelDataError("the Basic Offset Table item runs past the end of the pixel data", 4)
    bot = _parse_bot(data[8:8 + length], little)
    origin = pos = 8 + length
    offs, lens, poss = [], [], []
    while n - pos >= 8:
        group, elem, length = struct.unpack_from(fmt, data, pos)
        tag = group << 16 | elem
        if tag == _SEQ_DELIM:
            break
        if tag != _ITEM:
            raise PixelDataError(
                f"Unexpected tag ({group:04X},{elem:04X}) when parsing the encapsulated pixel "
                "data fragment items", pos)
        if length == 0xFFFFFFFF:
            raise PixelDataError("Undefined item length when parsing the encapsulated pixel data "
                                 "fragments", pos + 4)
        if length > n - pos - 8:
            raise PixelDataError(
                f"pixel data fragment of {length} bytes runs past the end of the data", pos)
        offs.append(pos + 8)
        lens.append(length)
        poss.append(pos - origin)
        pos += 8 + length
    return Fragments(data, np.array(offs, np.int64), np.array(lens, np.int64),
                     np.array(poss, np.int64), bot, pos - origin)


def fragments(ds: Any, info: PixelInfo | None = None) -> Fragments:
    """The fragments of the dataset's encapsulated pixel data (zero-copy)."""
    elem = pixel_element(ds)
    little = info.little_endian if info is not None else True
    tok = getattr(elem, "_tokens", None)
    index = getattr(elem, "_index", -1)
    if tok is not None and index >= 0 and tok.flags(index) & _core.F_ENCAPSULATED:
        return _fragments_from_table(tok, index, little)
    return _fragments_from_bytes(pixel_bytes(elem), little)


def _extended_offsets(ds: Any, little: bool) -> tuple[list[int], list[int]] | None:
    get = element_getter(ds)
    eot = get(0x7FE00001)
    eotl = get(0x7FE00002)
    if eot is None or eotl is None:
        return None
    raw_o = pixel_bytes(eot)
    raw_l = pixel_bytes(eotl)
    if len(raw_o) % 8 or len(raw_l) % 8:
        raise PixelDataError("the Extended Offset Table (or its Lengths) is not a whole number "
                             "of 64-bit values")
    fmt = "<u8" if little else ">u8"
    offsets = np.frombuffer(raw_o, fmt).tolist()
    lengths = np.frombuffer(raw_l, fmt).tolist()
    if not offsets:
        return None
    if len(offsets) != len(lengths):
        warnings.warn(
            "The number of items in (7FE0,0001) 'Extended Offset Table' and (7FE0,0002) "
            "'Extended Offset Table Lengths' don't match - the extended offset table will be "
            "ignored", UserWarning, stacklevel=3)
        return None
    return offsets, lengths


def _group_by_bot(frags: Fragments) -> list[tuple[int, int]]:
    """(first, stop) fragment ranges of each frame from the Basic Offset Table
    (pydicom's rule: a frame continues until a fragment starts at or past the
    next offset)."""
    bot = frags.bot
    pos = frags.positions.tolist()
    for k, off in enumerate(bot):
        if off >= frags.region or (k and off <= bot[k - 1]):
            raise PixelDataError(
                f"Basic Offset Table entry {k} ({off}) points outside the fragments "
                f"({frags.region} bytes) or does not increase")
    starts = set(pos)
    for k, off in enumerate(bot[1:], 1):
        if off not in starts:
            raise PixelDataError(
                f"Basic Offset Table entry {k} ({off}) is not the start of a fragment item")
    if not pos:
        raise PixelDataError("encapsulated pixel data has no fragments")
    ranges = []
    first = 0
    cur = 0
    last = len(bot) - 1
    for j, p in enumerate(pos):
        if cur < last and p >= bot[cur + 1]:
            ranges.append((first, j))
            first = j
            cur += 1
    ranges.append((first, len(pos)))
    return ranges


def _group_without_tables(frags: Fragments, nframes: int) -> list[tuple[int, int]]:
    n = len(frags)
    if n == 0:
        raise PixelDataError("encapsulated pixel data has no fragments")
    if n == 1:
        return [(0, 1)]
    if n == nframes:
        return [(k, k + 1) for k in range(n)]
    if nframes == 1:
        return [(0, n)]
    if n < nframes:
        raise PixelDataError(
            "Unable to generate frames from the encapsulated pixel data as there are fewer "
            f"fragments ({n}) than frames ({nframes}); the dataset may be corrupt or the number "
            "of frames may be incorrect")
    ranges = []
    first = 0
    base = frags.base
    for k in range(n):
        o = int(frags.offsets[k])
        ln = int(frags.lengths[k])
        if _EOI in base[o + max(ln - 10, 0):o + ln].tobytes():
            ranges.append((first, k + 1))
            first = k + 1
    if first < n:
        if len(ranges) >= nframes:
            msg = ("The end of the encapsulated pixel data has been reached but no JPEG EOI/EOC "
                   "marker was found, the final frame may be be invalid")
        else:
            msg = ("The end of the encapsulated pixel data has been reached but fewer frames "
                   "than expected have been found. Please confirm that the generated frame data "
                   "is correct")
        warnings.warn(msg, UserWarning, stacklevel=4)
        ranges.append((first, n))
    elif len(ranges) < nframes:
        warnings.warn("The end of the encapsulated pixel data has been reached but fewer frames "
                      "than expected have been found", UserWarning, stacklevel=4)
    return ranges


def _frame_spans(ds: Any, info: PixelInfo, frags: Fragments) -> list[Any]:
    """Per frame: a (start, length) slice of ``frags.base`` (Extended Offset
    Table) or a (first, stop) fragment range tagged 'f'."""
    eot = _extended_offsets(ds, info.little_endian)
    if eot is not None:
        origin = int(frags.offsets[0]) - 8 - int(frags.positions[0]) if len(frags) else None
        if origin is None:
            raise PixelDataError("encapsulated pixel data has no fragments")
        spans = []
        for k, (off, ln) in enumerate(zip(*eot)):
            if off + 8 + ln > frags.region:
                raise PixelDataError(
                    f"Extended Offset Table entry {k} (offset {off}, length {ln}) points outside "
                    f"the fragments ({frags.region} bytes)")
            spans.append(("s", origin + off + 8, ln))
        return spans
    if frags.bot:
        ranges = _group_by_bot(frags)
    else:
        ranges = _group_without_tables(frags, info.number_of_frames)
    return [("f", a, b) for a, b in ranges]


def _span_data(frags: Fragments, span: Any) -> Any:
    kind, a, b = span
    if kind == "s":
        return frags.base[a:a + b]
    if b - a == 1:
        return frags.data(a)
    return b"".join(frags.data(k) for k in range(a, b))


def encapsulated_frames(ds: Any, info: PixelInfo | None = None) -> list[Any]:
    """The encoded frames of the dataset's encapsulated pixel data, in order:
    a zero-copy memoryview when a frame is one fragment (or an Extended Offset
    Table slice), else the ``bytes`` concatenation of its fragments. May hold
    more frames than Number of Frames (as pydicom, when the tables or the JPEG
    markers say so)."""
    if info is None:
        info = PixelInfo.from_dataset(ds)
    frags = fragments(ds, info)
    return [_span_data(frags, s) for s in _frame_spans(ds, info, frags)]


def encoded_frame_spans(ds: Any, info: PixelInfo) -> tuple[int, Iterator[Any]]:
    """(number of encoded frames, a lazy iterator over them): each frame's
    fragments are joined only when it is reached."""
    frags = fragments(ds, info)
    spans = _frame_spans(ds, info, frags)
    return len(spans), (_span_data(frags, s) for s in spans)


def encapsulated_frame(ds: Any, index: int, info: PixelInfo | None = None) -> Any:
    """The encoded frame ``index`` (bytes-like, as :func:`encapsulated_frames`)."""
    if info is None:
        info = PixelInfo.from_dataset(ds)
    frags = fragments(ds, info)
    spans = _frame_spans(ds, info, frags)
    if index < 0:
        index += len(spans)
    if not 0 <= index < len(spans):
        raise IndexError(f"frame index out of range: the pixel data holds {len(spans)} frame(s)")
    return _span_data(frags, spans[index])


# -- decoded frames -------------------------------------------------------------------
def number_of_frames(ds: Any) -> int:
    """Frames :func:`frame` can return: Number of Frames, or more when the data
    holds more (native: whole frames in the data; encapsulated: encoded frames
    the offset tables or JPEG markers delimit, as pydicom counts them)."""
    info = PixelInfo.from_dataset(ds)
    if info.is_encapsulated:
        count = len(_frame_spans(ds, info, fragments(ds, info)))
        if count < info.number_of_frames:
            raise PixelDataError(
                f"the encapsulated pixel data holds {count} frame(s), fewer than the "
                f"(0028,0008) 'Number of Frames' value of {info.number_of_frames}")
        return count
    return _native.native_layout(info, len(pixel_bytes(pixel_element(ds)))).frames


def frame(ds: Any, index: int) -> np.ndarray:
    """Frame ``index`` (negative counts from the end) as a writable array equal
    to ``pixel_array(ds)[index]`` (for a multi-frame dataset), shaped (rows,
    columns) or (rows, columns, samples). Native data: only that frame's bytes
    are read and copied."""
    info = PixelInfo.from_dataset(ds)
    if info.is_encapsulated:
        from fastdicom.pixels import _decode_encoded_frame

        return _decode_encoded_frame(info, encapsulated_frame(ds, index, info), index)
    elem = pixel_element(ds)
    tok = getattr(elem, "_tokens", None)
    if tok is not None and tok.tail is not None and elem._index >= 0:
        arr = _read_frame_outside(tok, elem._index, info, index)
        if arr is not None:
            return arr
    return _native.decode_native(info, pixel_bytes(elem), index)


def _read_frame_outside(tok: Any, i: int, info: PixelInfo, index: int) -> np.ndarray | None:
    """Frame ``index`` of a value still in the file (see fastdicom.dcmread): only
    its bytes read, into the array; None when the frame does not start on a
    byte or its bytes are swapped in pairs (the file is mapped instead)."""
    if not tok.is_outside(i) or _native._needs_pair_swap(info):
        return None
    length = tok.info(i)[3]
    layout = _native.native_layout(info, length)
    first, nbytes, skip = layout.frame_span(layout.check_index(index))
    if skip:
        return None
    nbytes = min(nbytes, length - first)  # odd-length data without its padding byte
    raw = tok.read_outside(i, start=first, length=nbytes)
    if raw is None:
        return None
    one = _native.NativeLayout(info, 1, layout.frame_bits, nbytes)
    return _native.decode_native(info, raw, 0, one, owned=True)


def iter_frames(ds: Any) -> Iterator[np.ndarray]:
    """Yield each frame as :func:`frame` returns it, one at a time."""
    info = PixelInfo.from_dataset(ds)
    if info.is_encapsulated:
        from fastdicom.pixels import _iter_encoded

        yield from _iter_encoded(ds, info)
        return
    buf = pixel_bytes(pixel_element(ds))
    layout = _native.native_layout(info, len(buf))
    for i in range(layout.frames):
        yield _native.decode_native(info, buf, i, layout)
