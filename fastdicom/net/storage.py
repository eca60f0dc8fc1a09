"""The file side of the Storage service (no sockets, no event loop).

SCU: :func:`prepare` opens a file (or takes a dataset) and gives what a
C-STORE needs: SOP class and instance, transfer syntax, and the data set's
bytes as a view of the mapped file, sent as they are when the accepted
transfer syntax is the file's (:meth:`Prepared.dataset_for`), converted
between uncompressed transfer syntaxes when it must.

SCP: :class:`IncomingFile` receives a data set's fragments straight into a
temporary file in the target directory (preamble and File Meta Information
first), and :meth:`IncomingFile.commit` fsyncs it and renames it atomically
to ``<directory>/<SOP Instance UID>.dcm``; the name is built only from a
UID checked to be digits and dots (:func:`checked_uid`), never from other
peer text. :meth:`IncomingFile.discard` removes the temporary file (an
aborted transfer leaves nothing behind).
"""
from __future__ import annotations

import functools
import itertools
import mmap
import os
import re
import struct
import threading
from dataclasses import dataclass
from typing import Any

from fastdicom import uid as _uid
from fastdicom._uiddata import UID_DICTIONARY
from fastdicom.dataset import Dataset
from fastdicom.errors import DicomError
from fastdicom.net.pdu import unwritten

__all__ = ["Prepared", "prepare", "describe", "choose_context", "IncomingFile", "checked_uid",
           "storage_sop_classes", "transfer_syntaxes", "StorageError"]

_UID_RE = re.compile(r"[0-9]+(\.[0-9]+)*\Z")


class StorageError(DicomError):
    """A file cannot be sent or stored (what the status of the C-STORE says)."""


def checked_uid(value: Any, what: str = "UID") -> str:
    """``value`` as a UID string if it is one (digits and dots, at most 64
    characters), else :class:`StorageError`."""
    text = str(value or "").rstrip("\x00 ")
    if not 0 < len(text) <= 64 or not _UID_RE.match(text):
        raise StorageError(f"invalid {what}: {text[:80]!r}")
    return text


@functools.lru_cache(maxsize=1)
def storage_sop_classes() -> tuple[str, ...]:
    """The Storage SOP classes of the UID dictionary (current and retired)."""
    return tuple(uid for uid, (name, kind, *_rest) in UID_DICTIONARY.items()
            if kind == "SOP Class" and "Storage" in name and "Commitment" not in name
            and "Directory" not in name and not name.startswith("Storage Management"))


@functools.lru_cache(maxsize=1)
def transfer_syntaxes() -> frozenset[str]:
    """Every transfer syntax of the UID dictionary (a storage SCP can keep data
    sets in any of them, bytes as received)."""
    return frozenset(uid for uid, (_name, kind, *_rest) in UID_DICTIONARY.items()
                     if kind == "Transfer Syntax")


# -- SCU -----------------------------------------------------------------------------------
@dataclass
class Prepared:
    """What a C-STORE request needs of one file or dataset."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax: str  #: of ``data`` ("" when unknown: a dataset without file meta)
    data: Any  #: the encoded data set (a view of the mapped file, or bytes), or None
    dataset: Any = None  #: the dataset, when given or read
    source: str | None = None  #: the path
    _map: Any = None

    def dataset_for(self, transfer_syntax: str) -> Any:
        """The data set encoded in ``transfer_syntax``: the file's own bytes when
        it is already, else converted (uncompressed transfer syntaxes only)."""
        if transfer_syntax == self.transfer_syntax and self.data is not None:
            if len(self.data) % 2:  # PDVs have even lengths (a deflated data set may not)
                return bytes(self.data) + b"\x00"
            return self.data
        ts = _uid.UID(transfer_syntax)
        source = _uid.UID(self.transfer_syntax) if self.transfer_syntax else None
        if ts.is_compressed or source is not None and source.is_compressed and \
                source.is_encapsulated:
            raise StorageError(f"cannot convert {self.source or 'the dataset'} from "
                               f"{source.name if source else 'its encoding'} to {ts.name}")
        from fastdicom.reader import dcmread
        from fastdicom.writer import convert, encode_dataset

        ds = self.dataset if self.dataset is not None else dcmread(self.source, force=True)
        if source is not None:
            ds = convert(ds, transfer_syntax)
        return encode_dataset(ds, ts.is_implicit_VR, ts.is_little_endian, ts.is_deflated)

    def close(self) -> None:
        if isinstance(self.data, memoryview):
            self.data.release()
        if self._map is not None:
            self._map.close()
            self._map = None


def describe(path: str) -> tuple[str, str, str]:
    """(SOP Class UID, SOP Instance UID, transfer syntax) of a file, from its
    header only: the UIDs the data set holds, and the transfer syntax of its
    File Meta Information ("" when it has none, or no preamble)."""
    from fastdicom.reader import dcmread

    head = dcmread(path, specific_tags=[0x00080016, 0x00080018], force=True)
    meta = getattr(head, "file_meta", None)
    ts = str(meta.get("TransferSyntaxUID", "") if meta is not None else "")
    return (checked_uid(head.get("SOPClassUID"), "SOP Class UID"),
            checked_uid(head.get("SOPInstanceUID"), "SOP Instance UID"),
            ts if head.preamble is not None else "")


def prepare(item: Any) -> Prepared:
    """A :class:`Prepared` for a path or a dataset (:class:`StorageError` when
    it has no SOP class or instance UID). The SOP UIDs are the data set's
    own (not the File Meta Information's, which may disagree)."""
    if isinstance(item, Dataset):
        meta = getattr(item, "file_meta", None)
        ts = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
        return Prepared(checked_uid(item.get("SOPClassUID"), "SOP Class UID"),
                        checked_uid(item.get("SOPInstanceUID"), "SOP Instance UID"),
                        ts, None, item)
    path = os.fspath(item)
    sop_class, sop_instance, ts = describe(path)
    if not ts:  # no file meta: the data set is re-encoded
        return Prepared(sop_class, sop_instance, "", None, None, path)
    with open(path, "rb") as f:
        m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        from fastdicom._core import tokenize

        start = tokenize(m, 132, only_group=2).end_offset
        return Prepared(sop_class, sop_instance, ts, memoryview(m)[start:], None, path, m)
    except BaseException:
        m.close()
        raise


def choose_context(contexts: Any, prepared: Prepared,
                   allowed: Any = None) -> Any:
    """The accepted presentation context to send ``prepared`` on: one for its
    SOP class in its own transfer syntax (sent as is), else the first for its
    SOP class (converted); ``allowed(ctx)`` may rule some out. None if none."""
    fallback = None
    for ctx in contexts:
        if ctx.abstract_syntax != prepared.sop_class_uid or allowed and not allowed(ctx):
            continue
        if ctx.transfer_syntax == prepared.transfer_syntax:
            return ctx
        fallback = fallback or ctx
    return fallback


# -- SCP -----------------------------------------------------------------------------------
def _element(tag: int, vr: bytes, value: bytes, pad: bytes) -> bytes:
    """One explicit VR little endian element of group 0002 (value padded even)."""
    if len(value) % 2:
        value += pad
    if vr == b"OB":
        return struct.pack("<HH2sHI", 2, tag, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", 2, tag, vr, len(value)) + value


@functools.lru_cache(maxsize=1)
def _implementation() -> bytes:
    from fastdicom.uid import FASTDICOM_IMPLEMENTATION_UID
    from fastdicom.writer import implementation_version_name

    return (_element(0x0012, b"UI", str(FASTDICOM_IMPLEMENTATION_UID).encode(), b"\x00") +
            _element(0x0013, b"SH", implementation_version_name().encode(), b" "))


def _file_meta(sop_class: str, sop_instance: str, transfer_syntax: str,
               source_ae: str | None) -> bytes:
    """Preamble, "DICM" and the File Meta Information of a received instance
    (what :func:`fastdicom.writer.write_file_meta_info` writes, encoded here
    directly: one of these per stored file)."""
    body = (_element(0x0001, b"OB", b"\x00\x01", b"") +
            _element(0x0002, b"UI", sop_class.encode(), b"\x00") +
            _element(0x0003, b"UI", sop_instance.encode(), b"\x00") +
            _element(0x0010, b"UI", transfer_syntax.encode(), b"\x00") + _implementation())
    if source_ae and source_ae.strip():
        body += _element(0x0016, b"AE", source_ae.strip()[:16].encode("ascii", "replace"), b" ")
    return (b"\x00" * 128 + b"DICM" + struct.pack("<HH2sHI", 2, 0, b"UL", 4, len(body)) +
            body)


#: Bytes of received fragments gathered before they are written (one writev).
GATHER_BYTES = 1 << 18
_IOV_MAX = 512  # pieces per writev (the system's limit is at least 1024)
_temp_names = itertools.count()


def _create_temp(directory: str) -> tuple[int, str]:
    """A new hidden file in ``directory`` (O_EXCL, never following a link),
    created with the permissions a final file gets (0666 less the umask)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | \
        getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _attempt in range(1000):
        path = os.path.join(directory, f".incoming-{os.getpid()}-{next(_temp_names)}.part")
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:  # left by an earlier process of the same pid
            continue
    raise FileExistsError(f"cannot create a temporary file in {directory}")


def _write_each(fd: int, pieces: list[Any]) -> int:
    """``os.writev`` where there is none (Windows): the pieces one by one."""
    done = 0
    for piece in pieces:
        n = os.write(fd, piece)
        done += n
        if n < memoryview(piece).nbytes:
            break
    return done


_writev = getattr(os, "writev", _write_each)


class IncomingFile:
    """A data set being received into ``directory`` (see the module docstring).

    Fragments are gathered (by reference, not copied) and written with one
    ``writev`` per :data:`GATHER_BYTES`, straight from the received PDUs. The
    temporary file has the permissions of the final one (0666 less the
    umask) from the start, under a hidden name; one that is dropped without
    :meth:`commit` or :meth:`discard` is removed when collected.

    Raises :class:`StorageError` when the SOP UIDs are not valid UIDs (nothing
    is created) and :class:`OSError` when the temporary file cannot be made."""

    def __init__(self, directory: str, sop_class_uid: Any, sop_instance_uid: Any,
                 transfer_syntax: str, source_ae: str | None = None, *,
                 fsync: bool = True) -> None:
        self.sop_class_uid = checked_uid(sop_class_uid, "SOP Class UID")
        self.sop_instance_uid = checked_uid(sop_instance_uid, "SOP Instance UID")
        self.transfer_syntax = checked_uid(transfer_syntax, "Transfer Syntax UID")
        self.directory = directory
        self.path = os.path.join(directory, self.sop_instance_uid + ".dcm")
        self.fsync = fsync
        self.size = 0
        header = _file_meta(self.sop_class_uid, self.sop_instance_uid, self.transfer_syntax,
                            source_ae)
        self._pending: list[Any] = [header]
        self._pending_bytes = len(header)
        self._fd, self.temp_path = _create_temp(directory)

    def write(self, data: Any) -> None:
        """One fragment of the data set, in order (kept by reference until written)."""
        n = memoryview(data).nbytes
        self._pending.append(data)
        self._pending_bytes += n
        self.size += n
        if self._pending_bytes >= GATHER_BYTES or len(self._pending) >= _IOV_MAX:
            self._flush()

    def _flush(self) -> None:
        pieces, self._pending, self._pending_bytes = self._pending, [], 0
        while pieces:  # a short write: the rest next
            pieces = unwritten(pieces, _writev(self._fd, pieces[:_IOV_MAX]))

    def commit(self, archive: Any = None) -> str:
        """Write what is gathered, fsync and rename the file into place;
        returns its path. On failure the temporary file is removed and the
        error raised. With an ``archive`` (:class:`fastdicom.net.archive.Archive`),
        the instance is indexed in the transaction that renames it."""
        try:
            self._flush()
            if self.fsync:
                os.fsync(self._fd)
            fd, self._fd = self._fd, -1
            os.close(fd)
            if archive is None:
                os.replace(self.temp_path, self.path)
            else:
                archive.commit_file(self.temp_path, self.path,
                                    lambda: os.replace(self.temp_path, self.path),
                                    self.transfer_syntax)
        except BaseException:
            self.discard()
            raise
        if self.fsync:
            _fsync_directory(self.directory)
        return self.path

    def __del__(self) -> None:
        if getattr(self, "_fd", -1) >= 0:
            self.discard()

    def discard(self) -> None:
        """Remove the temporary file (idempotent)."""
        self._pending = []
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.unlink(self.temp_path)
        except FileNotFoundError:
            pass


class _DirectorySync:
    """Group commit of a directory's fsync: each caller returns once an fsync
    that began after its call has completed; concurrent callers share one."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._cond = threading.Condition()
        self._requested = self._done = 0
        self._running = False

    def sync(self) -> None:
        with self._cond:
            self._requested += 1
            mine = self._requested
            while self._done < mine:
                if not self._running:
                    self._running, target = True, self._requested
                    break
                self._cond.wait()
            else:
                return
        try:
            from fastdicom.writer import _fsync_directory as fsync_directory

            fsync_directory(self.directory)
        finally:
            with self._cond:
                self._running = False
                self._done = max(self._done, target)
                self._cond.notify_all()


_SYNCS: dict[str, _DirectorySync] = {}
_SYNCS_LOCK = threading.Lock()


def _fsync_directory(directory: str) -> None:
    with _SYNCS_LOCK:
        syncer = _SYNCS.get(directory)
        if syncer is None:
            syncer = _SYNCS[directory] = _DirectorySync(directory)
    syncer.sync()
