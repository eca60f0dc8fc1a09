"""``fastdicom convert IN OUT --transfer-syntax TS``: write a DICOM file again
in another transfer syntax (``implicit``, ``explicit``, ``big``, ``deflated``
or a transfer syntax UID), with :mod:`fastdicom.writer`.

The output is a DICOM file (File Meta Information regenerated:
``dcmwrite(..., enforce_file_format=True)``), written atomically (a temporary
file renamed over ``OUT``, so ``OUT`` may be ``IN``); ``-`` writes to standard
output.
"""
from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from fastdicom.cli._common import CLIError, Warnings, error_line, read_dataset

#: --transfer-syntax names -> UIDs
TRANSFER_SYNTAXES = {
    "implicit": "1.2.840.10008.1.2",
    "explicit": "1.2.840.10008.1.2.1",
    "big": "1.2.840.10008.1.2.2",
    "deflated": "1.2.840.10008.1.2.1.99",
}
_UID = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+\Z")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "convert", help="write a DICOM file in another transfer syntax",
        description="Write a DICOM file again in another transfer syntax.")
    p.add_argument("input", metavar="IN", help="DICOM file to read")
    p.add_argument("output", metavar="OUT", help="file to write ('-': standard output)")
    p.add_argument("--transfer-syntax", "-t", required=True, type=transfer_syntax, metavar="TS",
                   help="implicit, explicit, big, deflated, or a transfer syntax UID")
    p.add_argument("--force", action="store_true",
                   help="read an input without the DICOM preamble/File Meta Information")
    p.set_defaults(func=run)
    return p


def transfer_syntax(text: str) -> str:
    """The UID of a ``--transfer-syntax`` argument (argparse type)."""
    uid = TRANSFER_SYNTAXES.get(text.strip().lower())
    if uid is not None:
        return uid
    text = text.strip()
    if _UID.match(text) and len(text) <= 64:
        return text
    raise argparse.ArgumentTypeError(
        f"'{text}' is not one of {', '.join(TRANSFER_SYNTAXES)} nor a UID")


def _writer() -> Any:
    try:
        from fastdicom import writer
    except ImportError as exc:
        raise CLIError(f"writing is not available: fastdicom.writer cannot be imported ({exc})") from None
    if not hasattr(writer, "dcmwrite"):
        raise CLIError("writing is not available: fastdicom.writer has no dcmwrite")
    return writer


def run(args: argparse.Namespace) -> int:
    writer = _writer()
    src, dst, ts = args.input, args.output, args.transfer_syntax
    convert = getattr(writer, "convert", None)
    if convert is None:
        raise CLIError("writing is not available: fastdicom.writer has no convert()")
    with Warnings("fastdicom convert", src):
        ds = read_dataset(src, force=args.force)
        try:
            converted = convert(ds, ts)
        except Exception as exc:
            raise CLIError(f"{src}: cannot convert to {ts}: {error_line(exc)}") from None
        if converted is not None:
            ds = converted
        target = sys.stdout.buffer if dst == "-" else dst
        try:
            # a path is written atomically (fastdicom.writer): OUT may be IN
            writer.dcmwrite(target, ds, enforce_file_format=True)
        except Exception as exc:
            raise CLIError(f"{dst}: cannot write: {error_line(exc)}") from None
        if dst == "-":
            sys.stdout.buffer.flush()
    return 0
