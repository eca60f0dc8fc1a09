"""File layer: find the dataset in a DICOM file and tokenize it.

Handles the 128-byte preamble and ``DICM`` prefix, the File Meta Information
group (explicit VR little endian, its group length checked but not trusted),
the choice of encoding from the Transfer Syntax UID, files without preamble or
file meta (``force=True``), deflated datasets (inflated with a size limit) and
explicit VR big endian.
"""
from __future__ import annotations

import mmap
import os
import warnings
import zlib
from typing import Any, BinaryIO, Iterable, Union

from fastdicom import uid as _uid
from fastdicom._preamble import EXECUTABLE_MAGIC, preamble_is_executable
from fastdicom import _core
from fastdicom._core import tokenize
from fastdicom.dataset import FileDataset
from fastdicom.errors import DeflateError, NotDicomError, TruncatedDataError

PathType = Union[str, "os.PathLike[str]"]

#: Default upper bound on the size of an inflated (deflated transfer syntax) dataset.
MAX_INFLATED_SIZE = 1 << 30

_PIXEL_TAGS = (0x7FE00008, 0x7FE00009, 0x7FE00010)
_KNOWN_VRS = frozenset(
    b"AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV".split()
)


def _read_path(path: str) -> Any:
    """A read-only mmap of the file (b"" when it is empty)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        if os.fstat(fd).st_size == 0:
            return b""
        return mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)


def _open_buffer(fp: Any) -> tuple[Any, str | None]:
    """(buffer, filename) for a path, a bytes-like object or a binary file."""
    if isinstance(fp, (str, os.PathLike)):
        path = os.fspath(fp)
        return _read_path(path), path
    if isinstance(fp, (bytes, bytearray, memoryview, mmap.mmap)):
        return fp, None
    read = getattr(fp, "read", None)
    if read is None:
        try:
            return memoryview(fp), None  # any other object with the buffer protocol
        except TypeError:
            raise TypeError(
                "dcmread() expects a path, a bytes-like object or a binary file-like object, "
                f"not {type(fp).__name__}"
            ) from None
    data = read()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("dcmread() needs a file opened in binary mode")
    return data, getattr(fp, "name", None)


def _has_dicm(buf: memoryview) -> bool:
    return len(buf) >= 132 and buf[128:132] == b"DICM"


def _group_at(buf: memoryview, pos: int) -> int:
    if len(buf) - pos < 2:
        return -1
    return buf[pos] | (buf[pos + 1] << 8)


def _guess_encoding(buf: memoryview, pos: int) -> _uid.Encoding:
    """Encoding of a dataset with no transfer syntax (pydicom's heuristic):
    explicit if bytes 4-5 are a VR; then big endian if the group read little
    endian is implausibly large."""
    if len(buf) - pos >= 6 and bytes(buf[pos + 4 : pos + 6]) in _KNOWN_VRS:
        group = buf[pos] | (buf[pos + 1] << 8)
        return _uid.Encoding(False, group < 1024)
    return _uid.Encoding(True, True)


def _inflate(data: memoryview, limit: int) -> bytes:
    """Inflate raw deflate data, never producing more than ``limit`` bytes."""
    d = zlib.decompressobj(-zlib.MAX_WBITS)
    out = []
    total = 0
    chunk = 1 << 20
    try:
        pending = bytes(data)
        while pending and not d.eof:
            part = d.decompress(pending, chunk)
            total += len(part)
            if total > limit:
                raise DeflateError(f"deflated dataset inflates past the limit of {limit} bytes")
            out.append(part)
            pending = d.unconsumed_tail
        while True:  # flush whatever remains buffered, still bounded
            part = d.flush(chunk) if not d.eof else b""
            if not part:
                break
            total += len(part)
            if total > limit:
                raise DeflateError(f"deflated dataset inflates past the limit of {limit} bytes")
            out.append(part)
    except zlib.error as exc:
        raise DeflateError(f"cannot inflate the deflated dataset: {exc}") from None
    if not d.eof:
        raise DeflateError("deflated dataset ends before the end of its deflate stream")
    return b"".join(out)


def dcmread(
    fp: PathType | BinaryIO | bytes | bytearray | memoryview,
    defer_size: int | str | float | None = None,
    stop_before_pixels: bool = False,
    force: bool = False,
    specific_tags: Iterable[Any] | None = None,
    *,
    max_depth: int = 64,
    max_inflated_size: int = MAX_INFLATED_SIZE,
) -> FileDataset:
    """Read a DICOM file: pydicom's ``dcmread`` signature and semantics.

    ``fp`` is a path (read through mmap, zero-copy; when only the header is
    wanted, with ``stop_before_pixels`` or ``specific_tags``, only the start of
    the file is read; small files are read whole, and a native pixel data
    value that ends the file is left in it until it is used: then the file is
    mapped, or for ``pixel_array`` the value read straight into the array), a
    bytes-like object, or a binary file-like object (read from its current
    position). ``defer_size`` is accepted for compatibility:
    values are always decoded lazily.
    """
    if not specific_tags:  # as pydicom: an empty list filters nothing
        specific_tags = None
    tags = stop_after = only = None
    if specific_tags is not None:
        from fastdicom.tag import Tag  # local: only needed here

        tags = [int(Tag(t)) for t in specific_tags]
        if tags:
            stop_after = max(max(tags), 0x00080005)
        only = frozenset(tags) | {0x00080005}
    if isinstance(fp, (str, os.PathLike)):
        # the common path reads just the start of the file: all that is wanted
        # (the header), or all but a trailing pixel data value, read on demand
        path = os.fspath(fp)
        if type(path) is str:
            ds = _core.read_path_header(path, stop_before_pixels, stop_after, only, max_depth)
            if ds is not None:
                return ds
    buf_obj, filename = _open_buffer(fp)
    return _read(buf_obj, filename, stop_before_pixels, force, stop_after, only, max_depth,
                 max_inflated_size)


def _read(buf_obj: Any, filename: str | None, stop_before_pixels: bool, force: bool,
          stop_after: int | None, only: frozenset | None, max_depth: int,
          max_inflated_size: int) -> FileDataset:
    buf = buf_obj if isinstance(buf_obj, (bytes, mmap.mmap)) else memoryview(buf_obj).cast("B")
    if len(buf) == 0:
        raise NotDicomError("empty file: no DICOM data")
    got = _core.read_tokens(buf_obj, stop_before_pixels, stop_after, max_depth)
    if got is not None:  # the common path, in one compiled call
        tokens, meta_tokens, ts, enc = got
        return _core.new_file_dataset(FileDataset, tokens, meta_tokens, bytes(buf[:128]), filename,
                                      ts, enc.implicit_vr, enc.little_endian, False, only)

    preamble = None
    pos = 0
    if _has_dicm(buf):
        preamble = bytes(buf[:128])
        pos = 132
        if preamble_is_executable(preamble):
            warnings.warn(f"the preamble looks like an executable (it starts with {preamble[:4]!r})",
                          UserWarning, stacklevel=3)
    elif not force:
        raise NotDicomError(
            "File is missing DICOM File Meta Information header or the 'DICM' prefix "
            "is missing from the header. Use force=True to force reading."
        )

    # File Meta Information: always explicit VR little endian; walk group 0002
    meta_tokens = None
    meta_end = pos
    if _group_at(buf, pos) == 2:
        meta_tokens = tokenize(buf_obj, pos, only_group=2, max_depth=max_depth)
        meta_end = meta_tokens.end_offset
    elif preamble is not None and len(buf) - pos < 8 and len(buf) - pos > 0:
        raise TruncatedDataError("file ends inside the File Meta Information", pos)
    ts = None
    if meta_tokens is not None:
        i = meta_tokens.find(0x00020010)
        if i >= 0:
            ts = meta_tokens.value_bytes(i).rstrip(b"\x00 ").decode("ascii", "replace").strip()
        i = meta_tokens.find(0x00020000)
        gl = meta_tokens.value_bytes(i) if i >= 0 else b""
        if len(gl) == 4:
            declared = int.from_bytes(gl, "little")
            actual = meta_end - (meta_tokens.value_offset(i) + 4)
            if declared != actual:
                warnings.warn(
                    f"File Meta Information Group Length is {declared} but the group holds "
                    f"{actual} bytes; reading by the elements found",
                    UserWarning,
                    stacklevel=2,
                )

    if ts:
        enc = _uid.encoding_for_transfer_syntax(ts)
    else:
        enc = _guess_encoding(buf, meta_end)

    if enc.deflated:
        data_obj: Any = _inflate(buf[meta_end:], max_inflated_size)
        data_pos = 0
    else:
        data_obj = buf_obj
        data_pos = meta_end

    tokens = tokenize(
        data_obj,
        data_pos,
        implicit_vr=enc.implicit_vr,
        little_endian=enc.little_endian,
        stop_before_pixels=stop_before_pixels,
        stop_after_tag=stop_after,
        max_depth=max_depth,
    )
    if tokens.root_explicit_vr == enc.implicit_vr and len(tokens):
        found = "explicit" if tokens.root_explicit_vr else "implicit"
        expected = "implicit" if enc.implicit_vr else "explicit"
        warnings.warn(
            f"Expected {expected} VR, but found {found} VR - using {found} VR for reading",
            UserWarning,
            stacklevel=2,
        )
    return _core.new_file_dataset(FileDataset, tokens, meta_tokens, preamble, filename, ts,
                                  enc.implicit_vr, enc.little_endian, enc.deflated, only)


def read_tokens(buf: Any, stop_before_pixels: bool = False, stop_after_tag: int | None = None,
                max_depth: int = 64) -> tuple | None:
    """``(tokens, meta_tokens, transfer_syntax, encoding)`` of the bytes of a
    DICOM file when it is on the common path of :func:`dcmread` (preamble,
    ``DICM``, File Meta Information with the right group length, a transfer
    syntax that is not deflated and names the VR encoding the data uses), else
    None: ``dcmread`` then warns, guesses the encoding or inflates."""
    return _core.read_tokens(buf, stop_before_pixels, stop_after_tag, max_depth)


_core.configure_reader(FileDataset, _uid.encoding_for_transfer_syntax, dict(_uid._NATIVE),
                       preamble_is_executable, [m[0] for m in EXECUTABLE_MAGIC])
