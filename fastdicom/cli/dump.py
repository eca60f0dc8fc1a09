"""``fastdicom dump FILE...``: list the data elements of DICOM files.

One line per element: tag, VR, VM, name and value, the items of sequences
indented under them::

    (0008,0005) CS    1 Specific Character Set               ISO_IR 100
    (0008,1140) SQ    1 Referenced Image Sequence            (1 item)
      --- item 1 of 1
      (0008,1150) UI    1 Referenced SOP Class UID           1.2.840.10008.5.1.4.1.1.2 (CT Image Storage)

Several values are shown separated by ``\\`` (as in the data), binary values
as their length and first bytes in hex; values longer than ``--max-width``
characters are cut and end with ``...``.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from fastdicom.cli._common import CLIError, Warnings, error_line, read_dataset

_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN", "OB or OW", "US or OW",
                         "US or SS or OW"})
_NAME_WIDTH = 36
_INDENT = "  "


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "dump", help="list the data elements of DICOM files",
        description="List the data elements of DICOM files: tag, VR, VM, name and value, "
                    "sequence items indented.")
    p.add_argument("files", nargs="+", metavar="FILE", help="DICOM file(s)")
    p.add_argument("--max-width", type=int, default=64, metavar="N",
                   help="cut values longer than N characters (0: no limit; default 64)")
    p.add_argument("--stop-before-pixels", action="store_true",
                   help="stop reading before the pixel data")
    p.add_argument("--force", action="store_true",
                   help="read files without the DICOM preamble/File Meta Information")
    p.add_argument("--no-meta", action="store_true", help="leave out the File Meta Information")
    p.add_argument("--offsets", action="store_true",
                   help="start each line with the element's byte offset (@) and value length "
                        "(#, u/l: undefined) in the data it was read from")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    status = 0
    out = sys.stdout
    first = True
    for path in args.files:
        with Warnings("fastdicom dump", path):
            try:
                ds = read_dataset(path, force=args.force, stop_before_pixels=args.stop_before_pixels)
            except CLIError as exc:
                print(f"fastdicom dump: error: {exc}", file=sys.stderr)
                status = 1
                continue
            dumper = Dumper(args.max_width, offsets=args.offsets)
            lines = dumper.file_lines(ds, path, meta=not args.no_meta)
        if not first:
            out.write("\n")
        first = False
        out.write("\n".join(lines))
        out.write("\n")
        out.flush()
        if dumper.errors:
            print(f"fastdicom dump: error: {path}: {dumper.errors} value(s) could not be "
                  f"decoded (shown as <error ...>)", file=sys.stderr)
            status = 1
    return status


class Dumper:
    """Formats datasets as dump lines."""

    def __init__(self, max_width: int = 64, offsets: bool = False) -> None:
        self.max_width = max_width if max_width and max_width > 0 else 0
        self.offsets = offsets
        self.errors = 0

    def where(self, elem: Any) -> str:
        """``@offset #length`` of an element read from data (blank otherwise)."""
        tokens = elem._tokens
        if tokens is None or elem._index < 0:
            return " " * 22
        from fastdicom import _core

        rec = tokens.records[elem._index]
        length = "u/l" if int(rec["flags"]) & _core.F_UNDEFINED else str(int(rec["raw_length"]))
        return f"@{int(rec['header_offset']):<10} #{length:<9}"

    def file_lines(self, ds: Any, path: str, meta: bool = True) -> list[str]:
        lines = [f"# {path}"]
        fmeta = getattr(ds, "file_meta", None)
        if meta and fmeta is not None and len(fmeta):
            lines.append("# File Meta Information")
            self.dataset_lines(fmeta, 0, lines)
        ts = getattr(ds, "transfer_syntax_uid", None)
        if ts:
            from fastdicom.uid import UID

            name = UID(ts).name
            lines.append(f"# Dataset ({name})" if name != ts else f"# Dataset ({ts})")
        else:
            enc = []
            if ds.is_implicit_VR is not None:
                enc.append("implicit VR" if ds.is_implicit_VR else "explicit VR")
            if ds.is_little_endian is not None:
                enc.append("little endian" if ds.is_little_endian else "big endian")
            lines.append(f"# Dataset ({', '.join(enc)})" if enc else "# Dataset")
        self.dataset_lines(ds, 0, lines)
        return lines

    def dataset_lines(self, ds: Any, depth: int, lines: list[str]) -> None:
        indent = _INDENT * depth
        for elem in ds:
            vr = elem.VR
            head = f"{indent}{elem.tag} {vr if len(vr) == 2 else '??':<2}"
            if self.offsets:
                head = f"{self.where(elem)} {head}"
            name = elem.name or ("Group Length" if elem.tag & 0xFFFF == 0 else "Unknown")
            if vr == "SQ":
                try:
                    items = elem.value
                except Exception as exc:
                    self.errors += 1
                    lines.append(f"{head} {1:>4} {name:<{_NAME_WIDTH}} <error {error_line(exc)}>")
                    continue
                n = len(items)
                lines.append(f"{head} {1:>4} {name:<{_NAME_WIDTH}} ({n} item{'' if n == 1 else 's'})")
                pad = " " * 23 if self.offsets else ""
                for k, item in enumerate(items, 1):
                    lines.append(f"{pad}{indent}{_INDENT}--- item {k} of {n}")
                    self.dataset_lines(item, depth + 1, lines)
                continue
            try:
                vm, text = self.value_text(elem, vr)
            except Exception as exc:
                self.errors += 1
                vm, text = "?", f"<error {error_line(exc)}>"
            lines.append(f"{head} {vm:>4} {name:<{_NAME_WIDTH}} {text}")

    # -- values
    def cut(self, text: str) -> str:
        w = self.max_width
        if w and len(text) > w:
            return text[: max(w - 3, 0)] + "..."
        return text

    def value_text(self, elem: Any, vr: str) -> tuple[Any, str]:
        """(VM, shown value) of a non-sequence element."""
        if vr in _BINARY_VRS:
            raw = elem.raw_bytes  # the bytes in the file: no copy of large values
            data = raw if raw is not None else elem.value
            if data is None or not len(data):
                return 0, "(no value)"
            return 1, self.binary_text(data, elem)
        value = elem.value
        if value is None:
            return 0, "(no value)"
        if isinstance(value, (bytes, bytearray, memoryview)):
            return (1, self.binary_text(value, elem)) if len(value) else (0, "(no value)")
        if isinstance(value, str) or not hasattr(value, "__iter__") or _is_person_name(value):
            text = _one(value, vr)
            if not text:
                return 0, "(no value)"
            if vr == "UI":
                text = _uid_text(value)
            return 1, self.cut(_printable(text))
        values = value
        n = len(values)
        if n == 0:
            return 0, "(no value)"
        # join only as many values as can be shown
        parts = []
        size = 0
        limit = self.max_width
        for x in values:
            s = _one(x, vr)
            parts.append(s)
            size += len(s) + 1
            if limit and size > limit + 1:
                break
        text = "\\".join(parts)
        if len(parts) < n:
            text += "\\..."
        return n, self.cut(_printable(text))

    def binary_text(self, data: Any, elem: Any) -> str:
        n = len(data)
        shown = (self.max_width // 3 + 1) if self.max_width else 16
        head = bytes(data[:shown]).hex(" ")
        more = " ..." if n > shown else ""
        kind = " encapsulated" if elem.tag == 0x7FE00010 and elem.is_undefined_length else ""
        return self.cut(f"({n} bytes{kind}) {head}{more}")


def _is_person_name(value: Any) -> bool:
    return hasattr(value, "components") and hasattr(value, "alphabetic")


def _one(x: Any, vr: str) -> str:
    if x is None:
        return ""
    if vr == "AT":
        try:
            return f"({x >> 16:04X},{x & 0xFFFF:04X})"
        except TypeError:
            return str(x)
    return str(x)


def _uid_text(value: Any) -> str:
    text = str(value)
    name = getattr(value, "name", None)
    if name and name != text:
        return f"{text} ({name})"
    return text


def _printable(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else
                   {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c, f"\\x{ord(c):02x}" if ord(c) < 256
                                                             else f"\\u{ord(c):04x}")
                   for c in text)


__all__ = ["add_parser", "run", "Dumper"]
