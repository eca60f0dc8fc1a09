"""Command line: ``fastdicom`` / ``python -m fastdicom``."""
from __future__ import annotations

import argparse
import sys
import warnings

from fastdicom import _core
from fastdicom.errors import DicomError
from fastdicom.reader import dcmread


def _dump_tokens(tokens, out, start=-1, max_value=40):
    rec = tokens.records
    n = len(tokens)
    i = 0 if start < 0 else start
    while i < n:
        r = rec[i]
        flags = int(r["flags"])
        tag = int(r["tag"])
        indent = "  " * int(r["depth"])
        vr = r["vr"].decode("latin-1") if r["vr"] else "  "
        length = "u/l" if flags & _core.F_UNDEFINED else str(int(r["raw_length"]))
        label = ""
        if flags & _core.F_ITEM:
            label = "Item"
        elif flags & _core.F_ITEM_DELIM:
            label = "ItemDelimitationItem"
        elif flags & _core.F_SEQ_DELIM:
            label = "SequenceDelimitationItem"
        elif flags & _core.F_FRAGMENT:
            label = "Offset table" if flags & _core.F_OFFSET_TABLE else "Fragment"
        elif not flags & (_core.F_SEQUENCE | _core.F_ENCAPSULATED):
            value = bytes(tokens.value(i)[: max_value + 1]).rstrip(b"\0")
            text = value.decode("latin-1") if all(32 <= b < 127 for b in value) else value.hex()
            label = text[:max_value] + ("..." if len(text) > max_value else "")
        if flags & (_core.F_ITEM | _core.F_ITEM_DELIM | _core.F_SEQ_DELIM | _core.F_FRAGMENT):
            vr = "  "
        out.write(f"{indent}({tag >> 16:04X},{tag & 0xFFFF:04X}) {vr} #{length:>8} @{int(r['header_offset'])}  {label}\n")
        i += 1


def cmd_dump(args) -> int:
    status = 0
    for path in args.files:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = dcmread(path, force=args.force, stop_before_pixels=args.stop_before_pixels)
        except (DicomError, OSError) as exc:
            print(f"{path}: error: {exc}", file=sys.stderr)
            status = 1
            continue
        print(f"# {path}  transfer syntax {ds.transfer_syntax_uid}")
        if ds.file_meta is not None and ds.file_meta.tokens is not None:
            _dump_tokens(ds.file_meta.tokens, sys.stdout, max_value=args.max_width)
        _dump_tokens(ds.tokens, sys.stdout, max_value=args.max_width)
    return status


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="fastdicom", description="fastdicom command line")
    sub = ap.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="list the data elements of DICOM files")
    d.add_argument("files", nargs="+")
    d.add_argument("--force", action="store_true", help="read files without preamble/file meta")
    d.add_argument("--stop-before-pixels", action="store_true")
    d.add_argument("--max-width", type=int, default=40, help="maximum shown value width")
    d.set_defaults(func=cmd_dump)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
