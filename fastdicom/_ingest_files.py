"""Finding and opening files for :mod:`fastdicom.ingest`: walking directories
lazily and reading a file's header (its element table) as cheaply as possible.

Per file: one ``open`` + ``fstat`` + a read of the first 16 KB (the whole file
when smaller; the whole file again when the header does not fit), tokenized
up to the last top-level tag wanted (``Plan.stop_after``). Files on the common
path (preamble, ``DICM``, a File Meta Information group of the right length, a
transfer syntax that is not deflated) are tokenized directly, the rest by
:func:`fastdicom.dcmread` (with ``specific_tags``), whose warnings and
fallbacks then apply.
"""
from __future__ import annotations

import os
import stat
from typing import Any, Iterable, Iterator

from fastdicom import _core
from fastdicom._ingest_spec import Plan
from fastdicom.reader import dcmread, read_tokens

__all__ = ["iter_files", "WalkError", "error_message", "Header", "read_header", "FIRST_READ",
           "MAX_READ"]

_STOP_NONE = _core.STOP_NONE

#: First read of a file; doubled while the header goes on, up to MAX_READ.
FIRST_READ = 8192
MAX_READ = 65536
_O_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
_MAX_ERROR = 500


class WalkError:
    """A directory that could not be listed: becomes an error row."""

    __slots__ = ("path", "message")

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message

    def __reduce__(self) -> tuple:
        return (WalkError, (self.path, self.message))

    def __repr__(self) -> str:
        return f"WalkError({self.path!r}, {self.message!r})"


def error_message(exc: BaseException) -> str:
    """``"ExceptionType: what went wrong"`` on one line."""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    else:
        text = " ".join(str(exc).split())
    if len(text) > _MAX_ERROR:
        text = text[: _MAX_ERROR - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _has_magic(p: str) -> bool:
    return any(c in p for c in "*?[")


def iter_files(paths: Any, recursive: bool = True, *, sort: bool = False,
               follow_symlinks: bool = False, expand: bool = True) -> Iterator[Any]:
    """The files under ``paths`` (a path, a glob pattern, or an iterable of
    them), lazily: a directory is listed with ``os.scandir`` one directory at a
    time (its files, then its subdirectories when ``recursive``), so the paths
    are never all in memory. Paths given that do not exist are yielded as
    they are (they become error rows); directories that cannot be listed are
    yielded as :class:`WalkError`. Only regular files (and symbolic links to
    them; broken links are yielded) are yielded; links to directories are
    followed only with ``follow_symlinks``. ``sort`` lists each directory in
    name order (holding one directory's entries in memory at a time).
    ``expand=False`` takes every path given as a file (no directory walk, no
    glob, and no ``stat`` of each path here: faster for long lists of files)."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    if not expand:
        for p in paths:
            yield p if type(p) is str or isinstance(p, WalkError) else os.fsdecode(os.fspath(p))
        return
    for p in paths:
        if isinstance(p, WalkError):
            yield p
            continue
        p = os.fsdecode(os.fspath(p))
        if os.path.isdir(p):
            yield from _walk(p, recursive, sort, follow_symlinks)
        elif _has_magic(p) and not os.path.lexists(p):
            import glob

            matches = glob.iglob(p, recursive=True)
            for q in (sorted(matches) if sort else matches):
                if os.path.isdir(q):
                    if recursive:
                        yield from _walk(q, recursive, sort, follow_symlinks)
                else:
                    yield q
        else:
            yield p


def _walk(root: str, recursive: bool, sort: bool, follow_symlinks: bool) -> Iterator[Any]:
    stack = [root]
    seen: set[tuple[int, int]] = set()
    while stack:
        d = stack.pop()
        if follow_symlinks:
            try:
                st = os.stat(d)
                key = (st.st_dev, st.st_ino)
            except OSError:
                key = None
            if key is not None:
                if key in seen:
                    continue  # a link loop
                seen.add(key)
        subdirs = []
        try:
            with os.scandir(d) as it:
                entries: Iterable[os.DirEntry] = sorted(it, key=lambda e: e.name) if sort else it
                for e in entries:
                    try:
                        if e.is_dir(follow_symlinks=False):
                            if recursive:
                                subdirs.append(e.path)
                            continue
                        if e.is_symlink():
                            if e.is_dir():
                                if recursive and follow_symlinks:
                                    subdirs.append(e.path)
                                continue
                            if e.is_file() or not os.path.exists(e.path):
                                yield e.path  # a link to a file, or a broken one
                            continue
                        if e.is_file(follow_symlinks=False):
                            yield e.path
                    except OSError:
                        yield e.path
        except OSError as exc:
            yield WalkError(d, error_message(exc))
            continue
        stack.extend(reversed(subdirs))


class Header:
    """What a scan needs of a file: its element table, its File Meta
    Information table (or None), transfer syntax and size."""

    __slots__ = ("tokens", "meta", "transfer_syntax", "size")

    def __init__(self, tokens: Any, meta: Any, transfer_syntax: str | None, size: int) -> None:
        self.tokens = tokens
        self.meta = meta
        self.transfer_syntax = transfer_syntax
        self.size = size


def _tokens_of(data: bytes, plan: Plan) -> tuple | None:
    """(tokens, meta tokens, transfer syntax) of a file's bytes by the common
    path of :func:`fastdicom.dcmread` (:func:`fastdicom.reader.read_tokens`),
    without building a FileDataset. ``None`` for anything else, which then goes
    through dcmread itself (so its warnings and fallbacks apply)."""
    got = read_tokens(data, plan.stop_before_pixels, plan.stop_after)
    return None if got is None else got[:3]


def _from_dataset(ds: Any, size: int) -> Header:
    meta = ds.file_meta.tokens if ds.file_meta is not None else None
    return Header(ds.tokens, meta, ds.transfer_syntax_uid or None, size)


def _dcmread(src: Any, plan: Plan) -> Any:
    return dcmread(src, stop_before_pixels=plan.stop_before_pixels, force=plan.force,
                   specific_tags=plan.specific)


_S_IFMT = 0o170000
_S_IFREG = 0o100000


def read_header(path: str, plan: Plan) -> Header:
    """The :class:`Header` of ``path``, reading only the start of the file when
    the plan allows: 8 KB, then twice as much as long as the walk does not
    reach its stop condition, up to 64 KB; past that, or when the file is not
    on the common path, :func:`fastdicom.dcmread` (which reads the whole file,
    memory-mapped, if its first 16 KB are not enough)."""
    fd = os.open(path, _O_FLAGS)
    size = None
    try:
        st = os.fstat(fd)
        if st.st_mode & _S_IFMT != _S_IFREG:
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError(21, "Is a directory")
            raise OSError(0, "not a regular file")
        size = st.st_size
        if size > FIRST_READ and not plan.header_only:
            data = None
        else:
            data = os.read(fd, min(size, FIRST_READ))
            while True:
                if len(data) < size and len(data) < FIRST_READ:  # a short read
                    more = os.read(fd, min(size, FIRST_READ) - len(data))
                    if more:
                        data += more
                        continue
                partial = len(data) < size
                try:
                    got = _tokens_of(data, plan) if data else None
                except Exception:
                    got = None
                if got is None:
                    break
                if not partial or got[0].stop_reason != _STOP_NONE:
                    return Header(got[0], got[1], got[2], size)
                if len(data) >= MAX_READ:
                    data = None  # a long header: read it all
                    break
                more = os.read(fd, min(len(data), size - len(data)))
                if not more:
                    break
                data += more
    except Exception as exc:
        exc.fastdicom_size = size  # the size of a file that is there but not readable
        raise
    finally:
        os.close(fd)
    try:
        if data is None:
            return _from_dataset(_dcmread(path, plan), size)
        partial = len(data) < size
        ds = None
        try:
            ds = _dcmread(data, plan)  # raises for an empty file
        except Exception:
            if not partial:
                raise
        if partial and (ds is None or ds.tokens.stop_reason == _STOP_NONE):
            ds = _dcmread(path, plan)  # the header is not all in what was read
        return _from_dataset(ds, size)
    except Exception as exc:
        exc.fastdicom_size = size
        raise
