"""Encapsulated Pixel Data (PS3.5 A.4): make it from frames, take frames out of it.

The value of an encapsulated Pixel Data element is a Basic Offset Table item
(FFFE,E000) followed by one item per fragment (and, in a file, a sequence
delimiter, which the element's value does not include). A frame is one or
more fragments. Frames are found as pydicom finds them: from the Extended
Offset Table if given, else the Basic Offset Table, else one frame per
fragment when the counts agree, all fragments for a single frame, or, with
more fragments than frames, a frame ending at each fragment whose last 10
bytes hold a JPEG EOI/EOC marker (FF D9).

Functions and signatures follow ``pydicom.encaps`` (3.0); ``buffer`` may be
any bytes-like object (read without copying) or a binary file-like object
positioned at the start of the value.
"""
from __future__ import annotations

import struct
import warnings
from typing import Any, Iterator

__all__ = [
    "encapsulate", "encapsulate_extended", "fragment_frame", "itemize_fragment", "itemize_frame",
    "parse_basic_offsets", "parse_fragments", "generate_fragments", "generate_fragmented_frames",
    "generate_frames", "get_frame", "decapsulate",
]

_ITEM = 0xFFFEE000
_SEQ_DELIM = 0xFFFEE0DD
_EOI = b"\xff\xd9"


def _as_view(buffer: Any) -> tuple[memoryview, Any, int]:
    """(memoryview of the data, file object or None, its start position)."""
    read = getattr(buffer, "read", None)
    if read is not None and not isinstance(buffer, (bytes, bytearray, memoryview)):
        start = buffer.tell()
        return memoryview(read()), buffer, start
    return memoryview(buffer).cast("B"), None, 0


def _tag_length(mv: memoryview, pos: int, endianness: str) -> tuple[int, int] | None:
    """(tag, length) of the item header at ``pos``, or None at the end of the data."""
    if len(mv) - pos < 4:
        return None
    group, elem = struct.unpack_from(endianness + "HH", mv, pos)
    tag = group << 16 | elem
    if tag == _SEQ_DELIM:
        return tag, 0
    if len(mv) - pos < 8:
        if tag == _ITEM:
            raise ValueError(
                f"Unable to determine the length of the item at offset {pos} as the end of "
                "the data has been reached - the encapsulated pixel data may be invalid")
        raise ValueError(f"Unexpected tag '({group:04X},{elem:04X})' at offset {pos} when "
                         "parsing the encapsulated pixel data fragment items")
    (length,) = struct.unpack_from(endianness + "L", mv, pos + 4)
    return tag, length


def _basic_offsets(mv: memoryview, endianness: str) -> tuple[list[int], int]:
    """(Basic Offset Table offsets, position of the first fragment)."""
    if len(mv) < 8:
        raise ValueError("The encapsulated pixel data is too short to hold a Basic Offset Table item")
    group, elem, length = struct.unpack_from(endianness + "HHL", mv, 0)
    if group << 16 | elem != _ITEM:
        raise ValueError(f"Found unexpected tag ({group:04X},{elem:04X}) instead of (FFFE,E000) "
                         "when parsing the Basic Offset Table item")
    if length % 4:
        raise ValueError("The length of the Basic Offset Table item is not a multiple of 4")
    if length > len(mv) - 8:
        raise ValueError("The Basic Offset Table item runs past the end of the data")
    return list(struct.unpack_from(f"{endianness}{length // 4}L", mv, 8)), 8 + length


def _fragment_spans(mv: memoryview, pos: int, endianness: str) -> list[tuple[int, int]]:
    """(start, stop) of the value of every fragment item from ``pos`` on."""
    spans = []
    while True:
        header = _tag_length(mv, pos, endianness)
        if header is None:
            break
        tag, length = header
        if tag == _SEQ_DELIM:
            break
        if tag != _ITEM:
            raise ValueError(f"Unexpected tag '({tag >> 16:04X},{tag & 0xFFFF:04X})' at offset "
                             f"{pos} when parsing the encapsulated pixel data fragment items")
        if length == 0xFFFFFFFF:
            raise ValueError(f"Undefined item length at offset {pos + 4} when parsing the "
                             "encapsulated pixel data fragments")
        start = pos + 8
        if length > len(mv) - start:
            raise ValueError(f"The fragment item at offset {pos} runs past the end of the data")
        spans.append((start, start + length))
        pos = start + length
    return spans


def parse_basic_offsets(buffer: Any, *, endianness: str = "<") -> list[int]:
    """The frame offsets of the Basic Offset Table at the start of ``buffer``
    (empty if the table is empty)."""
    mv, fp, start = _as_view(buffer)
    offsets, end = _basic_offsets(mv, endianness)
    if fp is not None:
        fp.seek(start + end)
    return offsets


def parse_fragments(buffer: Any, *, endianness: str = "<") -> tuple[int, list[int]]:
    """(number of fragments, offset of each fragment's item tag) in ``buffer``,
    which starts at the first fragment item (after the Basic Offset Table)."""
    mv, fp, start = _as_view(buffer)
    spans = _fragment_spans(mv, 0, endianness)
    if fp is not None:
        fp.seek(start)
    return len(spans), [start + a - 8 for a, _ in spans]


def generate_fragments(buffer: Any, *, endianness: str = "<") -> Iterator[bytes]:
    """Yield the fragments of ``buffer``, which starts at the first fragment item."""
    mv, _fp, _start = _as_view(buffer)
    for a, b in _fragment_spans(mv, 0, endianness):
        yield bytes(mv[a:b])


def _extended(extended_offsets: Any, endianness: str) -> tuple[list[int], list[int]]:
    offsets, lengths = extended_offsets
    if isinstance(offsets, (bytes, bytearray, memoryview)):
        offsets = list(struct.unpack(f"{endianness}{len(offsets) // 8}Q", offsets))
    if isinstance(lengths, (bytes, bytearray, memoryview)):
        lengths = list(struct.unpack(f"{endianness}{len(lengths) // 8}Q", lengths))
    return list(offsets), list(lengths)


def _frames(mv: memoryview, number_of_frames: int | None, extended_offsets: Any,
            endianness: str) -> Iterator[list[tuple[int, int]]]:
    """Yield each frame as a list of fragment (start, stop) spans of ``mv``."""
    basic, first = _basic_offsets(mv, endianness)
    if extended_offsets:
        offsets, lengths = _extended(extended_offsets, endianness)
        for offset, length in zip(offsets, lengths):
            a = first + offset + 8
            if a + length > len(mv):
                raise ValueError("An Extended Offset Table entry runs past the end of the data")
            yield [(a, a + length)]
        return
    spans = _fragment_spans(mv, first, endianness)
    if basic:
        # a new frame starts at the first fragment at or past the next offset
        frame: list = []
        current = 0
        position = 0
        last = len(basic) - 1
        for a, b in spans:
            if current < last and position >= basic[current + 1]:
                yield frame
                frame = []
                current += 1
            frame.append((a, b))
            position += b - a + 8
        yield frame
        return
    if len(spans) == 1:
        yield spans
        return
    if not number_of_frames:
        raise ValueError(
            "Unable to determine the frame boundaries for the encapsulated pixel data as there "
            "is no Basic or Extended Offset Table and the number of frames has not been supplied")
    if len(spans) == number_of_frames:
        for span in spans:
            yield [span]
        return
    if number_of_frames == 1:
        yield spans
        return
    if len(spans) < number_of_frames:
        raise ValueError(
            "Unable to generate frames from the encapsulated pixel data as there are fewer "
            "fragments than frames; the dataset may be corrupt or the number of frames may be "
            "incorrect")
    frame = []
    count = 0
    for a, b in spans:
        frame.append((a, b))
        if _EOI in mv[max(a, b - 10):b].tobytes():
            yield frame
            frame = []
            count += 1
    if frame:
        if count >= number_of_frames:
            msg = ("The end of the encapsulated pixel data has been reached but no JPEG EOI/EOC "
                   "marker was found, the final frame may be be invalid")
        else:
            msg = ("The end of the encapsulated pixel data has been reached but fewer frames than "
                   "expected have been found. Please confirm that the generated frame data is "
                   "correct")
        warnings.warn(msg, UserWarning, stacklevel=3)
        yield frame
    elif count < number_of_frames:
        warnings.warn("The end of the encapsulated pixel data has been reached but fewer frames "
                      "than expected have been found", UserWarning, stacklevel=3)


def generate_fragmented_frames(buffer: Any, *, number_of_frames: int | None = None,
                               extended_offsets: Any = None,
                               endianness: str = "<") -> Iterator[tuple[bytes, ...]]:
    """Yield each frame of the encapsulated ``buffer`` as a tuple of its fragments."""
    mv, _fp, _start = _as_view(buffer)
    for frame in _frames(mv, number_of_frames, extended_offsets, endianness):
        yield tuple(bytes(mv[a:b]) for a, b in frame)


def generate_frames(buffer: Any, number_of_frames: int | None = None, *,
                    extended_offsets: Any = None, endianness: str = "<") -> Iterator[bytes]:
    """Yield each frame of the encapsulated ``buffer`` (an encapsulated Pixel Data
    value: Basic Offset Table item first) as bytes."""
    mv, _fp, _start = _as_view(buffer)
    for frame in _frames(mv, number_of_frames, extended_offsets, endianness):
        if len(frame) == 1:
            a, b = frame[0]
            yield bytes(mv[a:b])
        else:
            yield b"".join([mv[a:b] for a, b in frame])


def decapsulate(buffer: Any, number_of_frames: int | None = None, *,
                extended_offsets: Any = None, endianness: str = "<") -> list[bytes]:
    """All the frames of the encapsulated ``buffer``, as a list."""
    return list(generate_frames(buffer, number_of_frames, extended_offsets=extended_offsets,
                                endianness=endianness))


def get_frame(buffer: Any, index: int, *, extended_offsets: Any = None,
              number_of_frames: int | None = None, endianness: str = "<") -> bytes:
    """Frame ``index`` (from 0) of the encapsulated ``buffer``."""
    mv, fp, start = _as_view(buffer)
    if extended_offsets:
        offsets, _lengths = _extended(extended_offsets, endianness)
        if index >= len(offsets):
            raise ValueError("There aren't enough offsets in the Extended Offset Table for "
                             f"{index + 1} frames")
    else:
        basic, first = _basic_offsets(mv, endianness)
        if basic and index >= len(basic):
            raise ValueError("There aren't enough offsets in the Basic Offset Table for "
                             f"{index + 1} frames")
        if not basic:
            nr = len(_fragment_spans(mv, first, endianness))
            if nr == 1 and index != 0:
                raise ValueError("Found 1 frame fragment in the encapsulated pixel data, "
                                 "'index' must be 0")
            if nr > 1 and number_of_frames == 1 and index != 0:
                raise ValueError("The 'index' must be 0 if the number of frames is 1")
            if nr > 1 and nr == number_of_frames and index > nr - 1:
                raise ValueError(f"Found {nr} frame fragments in the encapsulated pixel data, "
                                 f"an 'index' of {index} is invalid")
    for k, frame in enumerate(_frames(mv, number_of_frames, extended_offsets, endianness)):
        if k == index:
            if fp is not None:
                fp.seek(start)
            return b"".join([mv[a:b] for a, b in frame])
    raise ValueError(f"There is insufficient pixel data to contain {index + 1} frames")


# ---------------------------------------------------------------- encapsulating

def fragment_frame(frame: bytes, nr_fragments: int = 1) -> Iterator[bytes]:
    """Yield ``frame`` in ``nr_fragments`` fragments of even length (the last one
    padded with a NUL if needed)."""
    frame_length = len(frame)
    if nr_fragments > (frame_length + 1) / 2.0:
        raise ValueError("Too many fragments requested (the minimum fragment size is 2 bytes)")
    length = frame_length // nr_fragments
    length += length % 2
    for offset in range(0, length * (nr_fragments - 1), length):
        yield bytes(frame[offset:offset + length])
    offset = length * (nr_fragments - 1)
    fragment = bytes(frame[offset:])
    if (frame_length - offset) % 2:
        fragment += b"\x00"
    yield fragment


def itemize_fragment(fragment: bytes) -> bytes:
    """``fragment`` as an item: (FFFE,E000), its length (little endian), the data."""
    return struct.pack("<HHL", 0xFFFE, 0xE000, len(fragment)) + bytes(fragment)


def itemize_frame(frame: bytes, nr_fragments: int = 1) -> Iterator[bytes]:
    """Yield the items of ``frame`` split in ``nr_fragments`` fragments."""
    for fragment in fragment_frame(frame, nr_fragments):
        yield itemize_fragment(fragment)


def encapsulate(frames: list, fragments_per_frame: int = 1, has_bot: bool = True) -> bytes:
    """The encapsulated Pixel Data value of ``frames`` (each already encoded):
    a Basic Offset Table item (with the frame offsets if ``has_bot``, else empty),
    then ``fragments_per_frame`` fragment items per frame."""
    nr_frames = len(frames)
    if has_bot:
        total = (nr_frames - 1) * 8 + sum(len(f) for f in frames[:-1])
        if total > 2 ** 32 - 1:
            raise ValueError(
                f"The total length of the encapsulated frame data ({total} bytes) will be "
                "greater than the maximum allowed by the Basic Offset Table "
                f"({2 ** 32 - 1} bytes), it's recommended that you use the Extended Offset "
                "Table instead (see the 'encapsulate_extended' function for more information)")
    items: list = []
    offsets = []
    position = 0
    for frame in frames:
        offsets.append(position)
        for item in itemize_frame(frame, fragments_per_frame):
            items.append(item)
            position += len(item)
    if has_bot:
        bot = struct.pack(f"<HHL{nr_frames}L", 0xFFFE, 0xE000, 4 * nr_frames, *offsets)
    else:
        bot = struct.pack("<HHL", 0xFFFE, 0xE000, 0)
    return b"".join([bot] + items)


def encapsulate_extended(frames: list) -> tuple[bytes, bytes, bytes]:
    """(encapsulated value with an empty Basic Offset Table, Extended Offset Table,
    Extended Offset Table Lengths) of ``frames``, one fragment per frame: for
    (7FE0,0010), (7FE0,0001) and (7FE0,0002)."""
    nr_frames = len(frames)
    lengths = [len(f) + len(f) % 2 for f in frames]
    offsets = [0]
    for length in lengths[:-1]:
        offsets.append(offsets[-1] + length + 8)
    return (encapsulate(frames, has_bot=False), struct.pack(f"<{nr_frames}Q", *offsets),
            struct.pack(f"<{nr_frames}Q", *lengths))
