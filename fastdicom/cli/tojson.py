"""``fastdicom json FILE``: print the DICOM JSON Model (PS3.18 Annex F) of a file.

Without ``--indent`` the output is exactly ``Dataset.to_json()`` (compact,
keys sorted, as pydicom's); binary values are given inline (base64).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from fastdicom.cli._common import CLIError, Warnings, error_line, read_dataset


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "json", help="print the DICOM JSON model of a file",
        description="Print the DICOM JSON Model (PS3.18 Annex F) of a DICOM file.")
    p.add_argument("file", metavar="FILE", help="DICOM file")
    p.add_argument("--indent", type=int, default=None, metavar="N",
                   help="indent nested objects by N spaces (default: compact)")
    p.add_argument("--stop-before-pixels", action="store_true",
                   help="leave out the pixel data (stop reading before it)")
    p.add_argument("--force", action="store_true",
                   help="read a file without the DICOM preamble/File Meta Information")
    p.add_argument("--suppress-invalid-tags", action="store_true",
                   help="leave out (with a warning) elements whose value cannot be serialised, "
                        "instead of failing")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    path = args.file
    with Warnings("fastdicom json", path):
        ds = read_dataset(path, force=args.force, stop_before_pixels=args.stop_before_pixels)
        try:
            d = ds.to_json_dict(suppress_invalid_tags=args.suppress_invalid_tags)
        except Exception as exc:
            raise CLIError(f"{path}: cannot serialise: {error_line(exc)} "
                           "(--suppress-invalid-tags leaves such elements out)") from None
        text = json.dumps(d, indent=args.indent, sort_keys=True)
    out = sys.stdout
    out.write(text)
    out.write("\n")
    return 0
