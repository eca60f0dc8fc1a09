"""Writing DICOM: :func:`dcmwrite` (pydicom 3's semantics), :func:`encode_dataset`,
:func:`convert` between the uncompressed transfer syntaxes.

Elements read from data and not changed are written as the bytes they were
read from when the encoding is the same (whole stretches of the source buffer
at once), so writing back what was read is fast and lossless: with
``enforce_file_format=False`` (the default) an unchanged file is written byte
for byte as it was read (the dataset always; the file meta too when its group
length was right). Everything else is encoded as pydicom encodes it (see
:mod:`fastdicom._dsencode` and :mod:`fastdicom._encode`), converting the byte
order of binary values (and of native Pixel Data) when the transfer syntax
changes.

Differences from pydicom, on purpose:

* group length elements (gggg,0000) are kept, with their value recomputed
  (pydicom drops those of groups above 6);
* values of VR UN are padded to an even length with a NUL (pydicom writes them
  odd);
* a path is written atomically (a temporary file in the same directory,
  fsync, rename): a failed write leaves no partial file and an existing file
  intact;
* a preamble that looks like an executable (MZ, ELF, Mach-O) is replaced by
  zeros unless ``allow_executable_preamble=True``;
* ``enforce_file_format=True`` always writes fastdicom's Implementation Class
  UID and Version Name (the implementation that wrote the file), and adds a
  missing Transfer Syntax UID for explicit VR little endian too;
* encapsulated Pixel Data is refused, not relabelled, when the transfer
  syntax is changed to an uncompressed one (decompress it first), and is
  always written with VR OB (PS3.5 A.4), even if the element says OW.
"""
from __future__ import annotations

import os
import stat
import tempfile
import warnings
import zlib
from typing import Any, BinaryIO, Union

from fastdicom import uid as _uid
from fastdicom._dsencode import DatasetEncoder
from fastdicom._preamble import EXECUTABLE_MAGIC, preamble_is_executable
from fastdicom.dataelem import DataElement
from fastdicom.dataset import Dataset
from fastdicom.uid import UID

__all__ = ["dcmwrite", "encode_dataset", "convert", "write_file_meta_info",
           "preamble_is_executable", "EXECUTABLE_MAGIC", "FileMetaError"]

PathType = Union[str, "os.PathLike[str]"]

_ZERO_PREAMBLE = b"\x00" * 128
_WRITE_CHUNK = 1 << 16


class FileMetaError(ValueError, AttributeError):
    """The File Meta Information cannot be written as the file format requires
    (pydicom raises ``AttributeError`` or ``ValueError`` for these)."""


def implementation_version_name() -> str:
    import fastdicom

    return f"FASTDICOM_{fastdicom.__version__}"[:16]


# ---------------------------------------------------------------- encoding choice

def _determine_encoding(ds: Any, tsyntax: UID | None, implicit_vr: bool | None,
                        little_endian: bool | None, force_encoding: bool) -> tuple[bool, bool]:
    """(implicit VR, little endian) to write ``ds`` with, in pydicom's order: the
    transfer syntax, the arguments, ``ds.is_implicit_VR``/``is_little_endian``."""
    args = (implicit_vr, little_endian)
    if force_encoding:
        if None in args:
            raise ValueError("'implicit_vr' and 'little_endian' are required if "
                             "'force_encoding' is used")
        return implicit_vr, little_endian  # type: ignore[return-value]
    if implicit_vr is not None and little_endian is None:
        args = (implicit_vr, True)
    own = (getattr(ds, "is_implicit_VR", None), getattr(ds, "is_little_endian", None))
    fallback = args if None not in args else own
    if tsyntax is None:
        if None not in fallback:
            return bool(fallback[0]), bool(fallback[1])
        raise ValueError(
            "Unable to determine the encoding to use for writing the dataset, please set "
            "the file meta's Transfer Syntax UID or use the 'implicit_vr' and "
            "'little_endian' arguments")
    if tsyntax.is_private and not tsyntax.is_transfer_syntax:
        if None in fallback:
            raise ValueError("The 'implicit_vr' and 'little_endian' arguments are required "
                             "when using a private transfer syntax")
        return bool(fallback[0]), bool(fallback[1])
    if not tsyntax.is_transfer_syntax:
        raise ValueError(f"The Transfer Syntax UID '{tsyntax.name}' is not a valid transfer syntax")
    if implicit_vr is not None and implicit_vr != tsyntax.is_implicit_VR:
        raise ValueError("The 'implicit_vr' value is not consistent with the required VR "
                         f"encoding for the '{tsyntax.name}' transfer syntax")
    if little_endian is not None and little_endian != tsyntax.is_little_endian:
        raise ValueError("The 'little_endian' value is not consistent with the required "
                         f"endianness for the '{tsyntax.name}' transfer syntax")
    return tsyntax.is_implicit_VR, tsyntax.is_little_endian


def _transfer_syntax(file_meta: Any) -> UID | None:
    if file_meta is None:
        return None
    ts = file_meta.get("TransferSyntaxUID")
    if ts is None or ts == "":
        return None
    return ts if isinstance(ts, UID) else UID(str(ts))


# ---------------------------------------------------------------- file meta

def _check_meta_group(file_meta: Any) -> None:
    for tag in file_meta.keys():
        if tag >> 16 != 0x0002:
            raise ValueError("Only File Meta Information group (0002,eeee) elements may be "
                             "present in 'file_meta'.")


def _conformant_meta(file_meta: Any, ds: Any, tsyntax: UID | None,
                     encoding: tuple[bool, bool]) -> Dataset:
    """A new File Meta Information dataset as the file format requires it (the
    caller's ``file_meta`` is not changed)."""
    meta = Dataset()
    if file_meta is not None:
        for elem in file_meta:
            meta[elem.tag] = elem
    meta[0x00020000] = DataElement(0x00020000, "UL", 0)  # value computed when written
    version = meta.get(0x00020001)
    if version is None or version.is_empty:
        meta[0x00020001] = DataElement(0x00020001, "OB", b"\x00\x01")
    if tsyntax is None:
        tsyntax = {(True, True): _uid.ImplicitVRLittleEndian,
                   (False, True): _uid.ExplicitVRLittleEndian,
                   (False, False): _uid.ExplicitVRBigEndian}.get(encoding)
        if tsyntax is not None:
            meta[0x00020010] = DataElement(0x00020010, "UI", tsyntax)
    for meta_tag, keyword in ((0x00020002, "SOPClassUID"), (0x00020003, "SOPInstanceUID")):
        current = meta.get(meta_tag)
        current = current.value if current is not None else None
        value = ds.get(keyword)
        if current is None or (value and value != current):
            meta[meta_tag] = DataElement(meta_tag, "UI", value)
    meta[0x00020012] = DataElement(0x00020012, "UI", _uid.FASTDICOM_IMPLEMENTATION_UID)
    meta[0x00020013] = DataElement(0x00020013, "SH", implementation_version_name())
    missing = [f"({t >> 16:04X},{t & 0xFFFF:04X}) {name}" for t, name in (
        (0x00020002, "Media Storage SOP Class UID"), (0x00020003, "Media Storage SOP Instance UID"),
        (0x00020010, "Transfer Syntax UID")) if meta.get(t) is None or meta[t].is_empty]
    if missing:
        raise FileMetaError("Required File Meta Information elements are either missing or "
                            f"have an empty value: {', '.join(missing)}")
    return meta


def _encode_meta(meta: Any) -> list:
    enc = DatasetEncoder(implicit=False, little=True)
    enc.dataset(meta)
    return enc.finish()


def write_file_meta_info(fp: BinaryIO, file_meta: Any, enforce_standard: bool = True) -> None:
    """Write the File Meta Information group ``file_meta`` (explicit VR little
    endian, group length computed) to ``fp``. With ``enforce_standard`` the
    required elements are added as :func:`dcmwrite` does (``file_meta`` itself is
    not changed)."""
    _check_meta_group(file_meta)
    if enforce_standard:
        ts = _transfer_syntax(file_meta)
        encoding = (ts.is_implicit_VR, ts.is_little_endian) if ts and ts.is_transfer_syntax \
            else (False, True)
        file_meta = _conformant_meta(file_meta, Dataset(), ts, encoding)
    _write_parts(fp, _encode_meta(file_meta))


# ---------------------------------------------------------------- datasets

def encode_dataset(ds: Any, implicit_vr: bool, little_endian: bool, deflated: bool = False) -> bytes:
    """The bytes of ``ds`` (no preamble, no file meta) in the given encoding,
    deflated (raw deflate, padded to an even length) if asked: what the network
    layer sends for any transfer syntax. Group 0000/0002 elements are encoded
    like any other (command sets)."""
    _check_dataset(ds)
    if implicit_vr and not little_endian:
        raise ValueError("Implicit VR and big endian is not a valid encoding combination")
    enc = DatasetEncoder(bool(implicit_vr), bool(little_endian))
    enc.dataset(ds)
    data = enc.getvalue()
    return _deflate(data) if deflated else data


def _check_dataset(ds: Any) -> None:
    if not isinstance(ds, Dataset):
        raise TypeError(f"a fastdicom Dataset is required, not {type(ds).__module__}."
                        f"{type(ds).__name__} (see fastdicom.from_pydicom)")


def _deflate(data: bytes) -> bytes:
    """Raw deflate (PS3.5 A.5) of ``data``: even length without a pad byte, never
    starting with two NUL bytes.

    * Odd streams are byte-aligned with a sync flush and ended by hand with an
      empty final block, fixed-Huffman (2 bytes) or stored (5 bytes), whichever
      makes the length even (some inflaters, fastdicom's reader among them,
      mishandle bytes after the end of the stream).
    * A stream that starts with a stored block of a length multiple of 256
      starts with 00 00, which pydicom takes for a command set element before
      inflating; then the first byte is deflated in a block of its own (which
      zlib makes fixed-Huffman), so the stream starts otherwise.
    """
    out = _deflate_even(data, False)
    if out[:2] == b"\x00\x00" and data:
        out = _deflate_even(data, True)
    return out


def _deflate_even(data: bytes, first_apart: bool) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    if first_apart:
        body = compressor.compress(data[:1]) + compressor.flush(zlib.Z_SYNC_FLUSH)
        body += compressor.compress(data[1:])
    else:
        body = compressor.compress(data)
    out = body + compressor.copy().flush()
    if len(out) % 2 == 0:
        return out
    body += compressor.flush(zlib.Z_SYNC_FLUSH)
    for last_block in (b"\x03\x00", b"\x01\x00\x00\xff\xff"):
        out = body + last_block
        if len(out) % 2 == 0:
            return out
    raise AssertionError("unreachable: the two endings differ by 3 bytes")


def _encode_file(dataset: Any, *, enforce_file_format: bool, implicit_vr: bool | None,
                 little_endian: bool | None, force_encoding: bool, preamble: Any,
                 allow_executable_preamble: bool, file_meta: Any = ...,
                 values_little: bool | None = None) -> list:
    """The parts (bytes-like) of the file for :func:`dcmwrite`."""
    _check_dataset(dataset)
    cls_name = type(dataset).__name__
    bad = {t >> 16 for t in _top_level_tags(dataset) if t >> 16 in (0, 2)}
    if 0 in bad:
        raise ValueError("Command Set elements (0000,eeee) are not allowed when using "
                         "dcmwrite(), use write_dataset() instead")
    if bad:
        raise ValueError("File Meta Information Group elements (0002,eeee) must be in a "
                         f"FileMetaDataset instance in the '{cls_name}.file_meta' attribute")
    if force_encoding and enforce_file_format:
        raise ValueError("'force_encoding' cannot be used with 'enforce_file_format'")
    if file_meta is ...:
        file_meta = getattr(dataset, "file_meta", None)
    tsyntax = _transfer_syntax(file_meta)
    encoding = _determine_encoding(dataset, tsyntax, implicit_vr, little_endian, force_encoding)
    if not force_encoding and encoding == (True, False):
        raise ValueError("Implicit VR and big endian is not a valid encoding combination")
    if preamble is None:
        preamble = getattr(dataset, "preamble", None)
    if preamble and len(preamble) != 128:
        raise ValueError(f"'{cls_name}.preamble' must be 128-bytes long")
    if preamble and preamble_is_executable(preamble) and not allow_executable_preamble:
        warnings.warn("The preamble looks like an executable (it starts with "
                      f"{bytes(preamble[:4])!r}): it is replaced by zeros; pass "
                      "allow_executable_preamble=True to keep it", UserWarning, stacklevel=3)
        preamble = _ZERO_PREAMBLE
    if file_meta is not None:
        _check_meta_group(file_meta)
    if enforce_file_format:
        file_meta = _conformant_meta(file_meta, dataset, tsyntax, encoding)
        tsyntax = _transfer_syntax(file_meta)
        if not preamble:
            preamble = _ZERO_PREAMBLE
    pixel_undefined = None
    deflated = False
    if tsyntax is not None and tsyntax.is_transfer_syntax:
        deflated = _uid.encoding_for_transfer_syntax(tsyntax).deflated
        if not tsyntax.is_private:
            pixel_undefined = tsyntax.is_compressed
    parts: list = []
    if preamble:
        parts += [bytes(preamble), b"DICM"]
    if file_meta is not None and len(file_meta):
        parts += _encode_meta(file_meta)
    enc = DatasetEncoder(encoding[0], encoding[1], pixel_undefined, values_little)
    enc.dataset(dataset)
    if deflated:
        parts.append(_deflate(enc.getvalue()))
    else:
        parts += enc.finish()
    return parts


def _top_level_tags(ds: Any) -> list:
    if ds._dict is not None:
        return list(ds._dict)
    if ds._tokens is None:
        return []
    tags = ds._tokens.records["tag"][ds._tokens.children(ds._parent)]
    low = tags < 0x00030000
    return [int(t) for t in tags[low]] if low.any() else []


def dcmwrite(fp: PathType | BinaryIO, dataset: Any, enforce_file_format: bool = False, *,
             write_like_original: bool | None = None, implicit_vr: bool | None = None,
             little_endian: bool | None = None, force_encoding: bool = False,
             overwrite: bool = True, preamble: bytes | None = None,
             allow_executable_preamble: bool = False) -> None:
    """Write ``dataset`` to ``fp`` (a path, or a binary file-like object with
    ``write()``), as ``pydicom.dcmwrite`` does.

    ``enforce_file_format=False`` writes what the dataset holds: its preamble
    and ``DICM`` only if it has a preamble, its file meta as it is (group length
    corrected), then the dataset. ``True`` writes the DICOM File Format: a
    preamble (zeros unless the dataset or ``preamble`` gives one), ``DICM`` and
    a File Meta Information regenerated: group length, version, Media Storage
    SOP Class/Instance UID from the dataset's SOP Class/Instance UID, Transfer
    Syntax UID, fastdicom's Implementation Class UID and Version Name.
    ``write_like_original`` is the deprecated inverse of ``enforce_file_format``.

    The dataset is encoded with the file meta's Transfer Syntax UID (a changed
    one converts the dataset: explicit/implicit VR, byte order, deflate), else
    ``implicit_vr``/``little_endian``, else the dataset's ``is_implicit_VR`` /
    ``is_little_endian``; ``force_encoding`` uses the arguments whatever the
    transfer syntax. ``overwrite=False`` refuses to replace an existing file.

    A path is written atomically: to a temporary file in the same directory,
    flushed to disk, then renamed; if anything fails no partial file is left
    (and an existing file is intact). A preamble that looks like an executable
    is written as zeros unless ``allow_executable_preamble=True``.
    """
    if write_like_original is not None:
        if enforce_file_format and write_like_original:
            raise ValueError("'write_like_original=True' contradicts 'enforce_file_format=True'")
        warnings.warn("'write_like_original' is deprecated, use 'enforce_file_format' instead",
                      DeprecationWarning, stacklevel=2)
        enforce_file_format = not write_like_original
    parts = _encode_file(dataset, enforce_file_format=enforce_file_format,
                         implicit_vr=implicit_vr, little_endian=little_endian,
                         force_encoding=force_encoding, preamble=preamble,
                         allow_executable_preamble=allow_executable_preamble)
    if isinstance(fp, (str, os.PathLike)):
        write_atomic(fp, parts, overwrite=overwrite)
        return
    if not hasattr(fp, "write"):
        raise TypeError("dcmwrite: Expected a file path, file-like or writeable buffer, "
                        f"but got {type(fp).__name__}")
    _write_parts(fp, parts)


def convert(dataset: Any, transfer_syntax_uid: str, **kwargs: Any) -> Any:
    """A new dataset: ``dataset`` encoded in ``transfer_syntax_uid`` and read back.

    Converting between the uncompressed transfer syntaxes (implicit VR LE,
    explicit VR LE/BE, deflated) byte-swaps binary values and native pixel data
    as needed and re-encodes nested sequences; ``dataset`` is not changed.
    Binary values assigned as bytes (e.g. a new Pixel Data) are taken to be in
    the dataset's current encoding (its transfer syntax, else
    ``is_little_endian``) and swapped too (:func:`dcmwrite` writes those as
    given, as pydicom does). A
    change to or from a compressed transfer syntax is refused when there is
    pixel data (it would need decoding or encoding). ``kwargs`` go to
    :func:`dcmwrite` (e.g. ``enforce_file_format=True``)."""
    from fastdicom.reader import dcmread

    ts = UID(str(transfer_syntax_uid))
    if not ts.is_transfer_syntax:
        raise ValueError(f"'{ts}' is not a transfer syntax")
    file_meta = getattr(dataset, "file_meta", None)
    source = _transfer_syntax(file_meta)
    has_pixels = any(t in dataset for t in (0x7FE00008, 0x7FE00009, 0x7FE00010))
    if has_pixels and source is not None and source != ts and source.is_transfer_syntax and \
            (source.is_compressed or ts.is_compressed):
        raise ValueError(f"cannot convert the pixel data from '{source.name}' to '{ts.name}': "
                         "it would need compressing or decompressing")
    meta = Dataset()
    if file_meta is not None:
        for elem in file_meta:
            meta[elem.tag] = elem
    meta[0x00020010] = DataElement(0x00020010, "UI", ts)
    # binary values the user assigned as bytes are in the dataset's encoding
    values_little = source.is_little_endian if source is not None and source.is_transfer_syntax \
        else getattr(dataset, "is_little_endian", None)
    kw = dict(enforce_file_format=False, implicit_vr=None, little_endian=None,
              force_encoding=False, preamble=None, allow_executable_preamble=False)
    kw.update(kwargs)
    kw.pop("overwrite", None)
    if not kw["preamble"] and not getattr(dataset, "preamble", None):
        kw["preamble"] = _ZERO_PREAMBLE  # a file: the transfer syntax is read from its meta
    data = b"".join(_encode_file(dataset, file_meta=meta, values_little=values_little, **kw))
    out = dcmread(data)
    out.filename = getattr(dataset, "filename", None)
    return out


# ---------------------------------------------------------------- output

def _write_parts(fp: Any, parts: list) -> None:
    """Write ``parts`` to ``fp``: large parts as they are, small ones gathered."""
    buf = bytearray()
    for part in parts:
        if len(part) >= _WRITE_CHUNK:
            if buf:
                fp.write(buf)
                buf = bytearray()
            fp.write(part)
        else:
            buf += part
    if buf:
        fp.write(buf)


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no way to read it without setting it
    os.umask(mask)
    return mask


def write_atomic(path: PathType, parts: list, overwrite: bool = True) -> None:
    """Write ``parts`` to ``path`` atomically: a temporary file in the same
    directory, written, flushed and fsync'ed, then renamed over ``path`` (a
    symbolic link is followed). On any error the temporary file is removed and
    ``path`` is untouched. The new file gets the mode of the file it replaces,
    else the default mode (0o666 less the umask)."""
    target = os.path.realpath(os.fspath(path))
    if not overwrite and os.path.lexists(os.fspath(path)):
        raise FileExistsError(f"File exists: '{os.fspath(path)}'")
    directory = os.path.dirname(target) or "."
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target) + ".", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_parts(f, parts)
            f.flush()
            os.fsync(f.fileno())
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # fails if the file appeared meanwhile
            except FileExistsError:
                raise
            except OSError:  # no hard links here: best effort
                if os.path.lexists(target):
                    raise FileExistsError(f"File exists: '{os.fspath(path)}'") from None
                os.replace(tmp, target)
            else:
                os.unlink(tmp)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
