"""Helpers shared by the subcommands: reading files with one-line errors."""
from __future__ import annotations

import os
import sys
import time
import warnings
from typing import Any, Callable

from fastdicom.errors import DicomError, NotDicomError


class CLIError(Exception):
    """A problem to report as one line on stderr, with exit status ``status``."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def error_line(exc: BaseException) -> str:
    """A one-line description of ``exc`` for the user."""
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, NotDicomError):
        msg = str(exc).replace("Use force=True to force reading.", "Use --force to read it anyway.")
        return "not a DICOM file: " + one_line(msg)
    if isinstance(exc, DicomError):
        return f"invalid DICOM data ({type(exc).__name__}): {one_line(str(exc))}"
    if isinstance(exc, OSError):
        return one_line(exc.strerror or str(exc))
    notes = [str(n) for n in getattr(exc, "__notes__", None) or []]
    where = f" ({', '.join(notes)})" if notes else ""
    text = one_line(str(exc))
    return f"{type(exc).__name__}: {text}{where}" if text else f"{type(exc).__name__}{where}"


class Warnings:
    """Collects the warnings raised while working on a file and prints each
    once, on one line, to stderr (Python's default shows two lines with source)."""

    def __init__(self, prog: str, path: str) -> None:
        self.prog = prog
        self.path = path
        self._cm = warnings.catch_warnings(record=True)
        self._seen: list[Any] = []

    def __enter__(self) -> "Warnings":
        self._seen = self._cm.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)
        shown = set()
        for w in self._seen:
            msg = one_line(str(w.message))
            if msg not in shown:
                shown.add(msg)
                print(f"{self.prog}: warning: {self.path}: {msg}", file=sys.stderr)


def read_dataset(path: str, *, force: bool = False, stop_before_pixels: bool = False,
                 reader: Callable[..., Any] | None = None) -> Any:
    """``fastdicom.dcmread(path)``, any failure raised as :class:`CLIError`."""
    if reader is None:
        from fastdicom import dcmread as reader
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory")
    try:
        return reader(path, force=force, stop_before_pixels=stop_before_pixels)
    except (DicomError, OSError, ValueError, MemoryError) as exc:
        raise CLIError(f"{path}: {error_line(exc)}") from None


class Progress:
    """A progress line on stderr: files, files/s, MB/s, errors, elapsed time
    (rewritten in place on a terminal, a line every 2 s otherwise)."""

    def __init__(self, label: str, enabled: bool, tty: bool) -> None:
        self.label = label
        self.enabled = enabled
        self.tty = tty
        self.start = time.perf_counter()
        self.last = 0.0
        self.files = 0
        self.bytes = 0
        self.errors = 0
        self.shown = False

    def update(self, files: int, nbytes: int, errors: int) -> None:
        self.files += files
        self.bytes += nbytes
        self.errors += errors
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.last < (0.2 if self.tty else 2.0):
            return
        self.last = now
        self._show(now)

    def _show(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-9)
        text = (f"{self.label}: {self.files:,} files  {self.files / elapsed:,.0f} files/s  "
                f"{self.bytes / elapsed / 1e6:,.1f} MB/s  {self.errors:,} "
                f"error{'' if self.errors == 1 else 's'}  {elapsed:.1f} s")
        if self.tty:
            sys.stderr.write("\r" + text + "\x1b[K")
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()
        self.shown = True

    def finish(self) -> None:
        if self.enabled and self.tty and self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
