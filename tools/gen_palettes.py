#!/usr/bin/env python3
"""Generate fastdicom/pixels/_palettes.py: the well-known colour palettes of
PS3.6 Annex B ("Well-known Color Palettes"), so that
``fastdicom.pixels.apply_color_lut(arr, palette="HOT_IRON")`` needs no data
file at run time.

Source: the Color Palette IODs that the standard publishes for these palettes,
as bundled with pydicom (``pydicom/data/palettes/*.dcm``, the only
machine-readable copy at hand). Each file is read with fastdicom and its
Palette Color LUT (plain or segmented) expanded with fastdicom's own
``apply_color_lut`` over every input value; the file's SOP Instance UID must
be one of the UIDs PS3.6 Annex B assigns (:data:`ANNEX_B`), which also gives
the palette's name. When ../shared/dicom-standard is present, :data:`ANNEX_B`
is checked against its UID registry (``pydicom-3.0.2/uid_dict.json``: each
UID a "<Name> Color Palette SOP Instance").

Output (committed): ``fastdicom/pixels/_palettes.py`` with
``WELL_KNOWN_PALETTES`` (name -> UID), ``PALETTE_TABLES`` (UID -> first
mapped value, bits per entry, and the red, green and blue channels as indices
into ``CHANNELS``, the distinct channels' entries as hex).

Run:  python tools/gen_palettes.py [--source DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = ROOT / "fastdicom" / "pixels" / "_palettes.py"

#: PS3.6 Annex B: the well-known palettes, their Content Label and SOP Instance UID.
ANNEX_B = {
    "1.2.840.10008.1.5.1": "HOT_IRON",
    "1.2.840.10008.1.5.2": "PET",
    "1.2.840.10008.1.5.3": "HOT_METAL_BLUE",
    "1.2.840.10008.1.5.4": "PET_20_STEP",
    "1.2.840.10008.1.5.5": "SPRING",
    "1.2.840.10008.1.5.6": "SUMMER",
    "1.2.840.10008.1.5.7": "FALL",
    "1.2.840.10008.1.5.8": "WINTER",
}
HEX_WIDTH = 64  # hex digits per source line
MIN_RUN = 16  # bytes of one value written as a repetition


def check_registry(standard: Path) -> None:
    """Each UID of :data:`ANNEX_B` is the registry's palette of that name."""
    path = standard / "pydicom-3.0.2" / "uid_dict.json"
    if not path.exists():
        print(f"note: {path} not found, palette UIDs not cross-checked", file=sys.stderr)
        return
    registry = json.loads(path.read_text())
    for uid, name in ANNEX_B.items():
        entry = registry.get(uid, {})
        label = entry.get("Name", "").removesuffix(" Color Palette SOP Instance")
        if label.replace(" ", "").upper() != name.replace("_", ""):
            raise SystemExit(f"{uid}: registry says {entry.get('Name')!r}, ANNEX_B says {name}")


def default_source() -> Path:
    import pydicom

    return Path(pydicom.__file__).resolve().parent / "data" / "palettes"


def read_palette(path: Path) -> tuple[str, int, int, list[bytes]]:
    """(UID, first mapped value, bits per entry, [red, green, blue] entries)."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    import fastdicom
    from fastdicom.pixels import apply_color_lut

    ds = fastdicom.dcmread(path)
    uid = str(ds.SOPInstanceUID)
    nr_entries, first, bits = (int(v) for v in ds.RedPaletteColorLookupTableDescriptor)
    nr_entries = nr_entries or 65536  # PS3.3 C.7.6.3.1.5: 0 means 2**16
    dtype = np.uint8 if bits == 8 else np.uint16
    values = np.arange(first, first + nr_entries, dtype=np.int64)
    table = apply_color_lut(values, ds)
    if table.shape != (nr_entries, 3) or table.dtype != dtype:
        raise SystemExit(f"{path}: unexpected palette table {table.shape} {table.dtype}")
    channels = [np.ascontiguousarray(table[:, k]).astype(f"<u{dtype().itemsize}").tobytes()
                for k in range(3)]
    return uid, first, bits, channels


def channel_source(data: bytes) -> list[str]:
    """Source lines of one channel's hex string, a sum of terms: runs of one
    value of at least :data:`MIN_RUN` bytes as ``"xx" * n``, the bytes between
    them as literal chunks (implicitly concatenated)."""
    terms: list[list[str]] = []
    literal = bytearray()
    pos = 0
    while pos < len(data):
        end = pos
        while end < len(data) and data[end] == data[pos]:
            end += 1
        if end - pos >= MIN_RUN:
            if literal:
                terms.append([f'"{c}"' for c in textwrap.wrap(literal.hex(), HEX_WIDTH)])
                literal.clear()
            terms.append([f'"{data[pos]:02x}" * {end - pos}'])
        else:
            literal += data[pos:end]
        pos = end
    if literal:
        terms.append([f'"{c}"' for c in textwrap.wrap(literal.hex(), HEX_WIDTH)])
    lines = []
    for k, term in enumerate(terms):
        lines.append(("+ " if k else "") + term[0])
        lines += term[1:]
    return lines


def render(palettes: dict[str, tuple[int, int, list[bytes]]], source: str) -> str:
    channels: list[bytes] = []  # each distinct channel once (several palettes share ramps)
    users: list[list[str]] = []
    refs = {}
    for uid, (first, bits, data) in palettes.items():
        index = []
        for colour, channel in zip(("red", "green", "blue"), data):
            if channel not in channels:
                channels.append(channel)
                users.append([])
            k = channels.index(channel)
            users[k].append(f"{ANNEX_B[uid]} {colour}")
            index.append(k)
        refs[uid] = (first, bits, *index)
    lines = [
        '"""The well-known colour palettes of PS3.6 Annex B (generated, do not edit).',
        "",
        "Generated by tools/gen_palettes.py from the standard's Color Palette IODs",
        f"({source}): each palette's LUT expanded over every input value.",
        "``PALETTE_TABLES[uid]`` is (first mapped value, bits per entry, red, green,",
        "blue), each channel an index into ``CHANNELS``: the little-endian entries",
        "as a hex string (a channel shared by several palettes is stored once).",
        '"""',
        "",
        "#: Name (Content Label) -> SOP Instance UID of each well-known palette.",
        "WELL_KNOWN_PALETTES = {",
    ]
    for uid in palettes:
        lines.append(f'    "{ANNEX_B[uid]}": "{uid}",')
    lines += ["}", "", "#: SOP Instance UID -> (first, bits, red, green, blue channel index).",
              "PALETTE_TABLES = {"]
    for uid, ref in refs.items():
        lines.append(f'    "{uid}": {ref},  # {ANNEX_B[uid]}')
    lines += ["}", "", "#: The distinct channels (LUT entries as little-endian hex).", "CHANNELS = ("]
    for k, channel in enumerate(channels):
        lines.append(f"    # {k}: {', '.join(users[k])}")
        lines += [f"    {line}" for line in channel_source(channel)]
        lines[-1] += ","
    lines.append(")")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, help="folder of the palette .dcm files "
                        "(default: pydicom's data/palettes)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--standard", type=Path, default=ROOT.parent / "shared" / "dicom-standard",
                        help="machine-readable standard folder, for the UID cross-check")
    args = parser.parse_args(argv)
    check_registry(args.standard)
    source = args.source or default_source()
    found = {}
    for path in sorted(source.glob("*.dcm")):
        uid, first, bits, channels = read_palette(path)
        if uid not in ANNEX_B:
            raise SystemExit(f"{path}: SOP Instance UID {uid} is not a PS3.6 Annex B palette")
        found[uid] = (first, bits, channels)
    missing = sorted(set(ANNEX_B) - set(found))
    if missing:
        raise SystemExit(f"no palette file for {', '.join(ANNEX_B[u] for u in missing)}")
    ordered = {uid: found[uid] for uid in ANNEX_B}
    label = "pydicom's data/palettes" if args.source is None else os.fspath(source)
    args.out.write_text(render(ordered, label))
    print(f"wrote {args.out} ({len(ordered)} palettes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
