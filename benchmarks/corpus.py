"""Deterministic synthetic DICOM corpus for the fastdicom benchmarks.

Two kinds of files are generated (with fastdicom's writer, by the builders of
:mod:`fastdicom.bench.synth`, shared with ``fastdicom bench``):

* ``ct``: one CT Image Storage series of N slices, 512x512 signed 16-bit
  (Bits Stored 12 by default), explicit VR little endian, with a realistic
  header of ~200 elements (patient/study/series/frame-of-reference/equipment/
  image-plane/image-pixel/CT/VOI/SOP-common modules, a few sequences and two
  private blocks), distinct SOP Instance UIDs and ImagePositionPatient
  stepping in z.
* ``mr``: Enhanced MR Image Storage multi-frame files (200 frames of 64x64
  16-bit by default) whose headers are dominated by a
  PerFrameFunctionalGroupsSequence of one item per frame, each with ~12 nested
  functional-group sequences, plus a SharedFunctionalGroupsSequence. Even
  indices are written with defined-length sequences/items (``mr_defined``),
  odd ones with undefined lengths (``mr_undefined``).

Everything is derived from fixed seeds (UIDs are hashes of a label, pixel data
is a cheap arithmetic pattern), so every run writes the same bytes. The
dataset builders live in benchmarks/synth.py; this module manages the corpus
directory (``ct/``, ``mr/``, ``manifest.json``) and offers byte-level helpers.

Module use::

    from benchmarks.corpus import ensure_corpus, load_bytes
    files = ensure_corpus("benchmarks/corpus", ct=400, mr=4)   # {kind: [Path]}
    data = load_bytes(files["mr_undefined"])

Script use::

    python -m benchmarks.corpus --out benchmarks/corpus --ct 400 --mr 4
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import sys
from pathlib import Path

from benchmarks.synth import ct_dataset, ct_pattern, mr_dataset, set_undefined_lengths, \
    write_ct_slice, write_file
from fastdicom.bench.corpus import Manifest
from fastdicom.bench.corpus import header_length, load_bytes  # noqa: F401 - re-exported

#: Bump when the generated content changes so existing corpora get rebuilt.
CORPUS_VERSION = 1
DEFAULT_DIR = Path(__file__).resolve().parent / "corpus"
KINDS = ("ct", "mr_defined", "mr_undefined")
MANIFEST = "manifest.json"
PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"  # (7FE0,0010) little endian


def mr_kind(index: int) -> str:
    """MR files alternate: even indices defined lengths, odd undefined lengths."""
    return "mr_undefined" if index % 2 else "mr_defined"


def _paths(out: Path, ct: int, mr: int) -> dict[str, list[Path]]:
    files: dict[str, list[Path]] = {kind: [] for kind in KINDS}
    files["ct"] = [out / "ct" / f"ct_{i:04d}.dcm" for i in range(ct)]
    for i in range(mr):
        files[mr_kind(i)].append(out / "mr" / f"{mr_kind(i)}_{i:03d}.dcm")
    return files


def ensure_corpus(out: str | os.PathLike | None = None, ct: int = 400, mr: int = 4, *,
                  frames: int = 200, bits_stored: int = 12,
                  verbose: bool = False) -> dict[str, list[Path]]:
    """Make sure the corpus in ``out`` exists (generating what is missing).

    Returns ``{kind: [paths]}`` for the kinds in :data:`KINDS`. Files depend only
    on (version, kind, index, frames, bits_stored), so growing ``ct``/``mr``
    only writes the new files; changing ``frames``/``bits_stored`` rewrites all.
    """
    out = Path(out) if out is not None else DEFAULT_DIR
    manifest = Manifest(out, {"version": CORPUS_VERSION, "frames": frames,
                              "bits_stored": bits_stored})
    files = _paths(out, ct, mr)
    for sub in ("ct", "mr"):
        (out / sub).mkdir(parents=True, exist_ok=True)

    ct_template = pattern = None
    for i, path in enumerate(files["ct"]):
        if manifest.fresh(path):
            continue
        if ct_template is None:
            ct_template, pattern = ct_dataset(bits_stored), ct_pattern()
        write_ct_slice(ct_template, i, pattern, path)
        manifest.record(path)
        if verbose and (i + 1) % 50 == 0:
            print(f"  ct {i + 1}/{ct}", file=sys.stderr)
    for i in range(mr):
        path = out / "mr" / f"{mr_kind(i)}_{i:03d}.dcm"
        if manifest.fresh(path):
            continue
        ds = mr_dataset(i, frames)
        if mr_kind(i) == "mr_undefined":
            set_undefined_lengths(ds)
        write_file(ds, path)
        manifest.record(path)
        if verbose:
            print(f"  {path.name}", file=sys.stderr)
    manifest.save()
    return files


def corpus_files(out: str | os.PathLike | None = None) -> dict[str, list[Path]]:
    """File lists per kind of an existing corpus (whatever its manifest records)."""
    out = Path(out) if out is not None else DEFAULT_DIR
    sizes = json.loads((out / MANIFEST).read_text())["sizes"]
    files: dict[str, list[Path]] = {kind: [] for kind in KINDS}
    for rel in sizes:
        name = Path(rel).name
        kind = "ct" if name.startswith("ct_") else name.rsplit("_", 1)[0]
        files[kind].append(out / rel)
    return files


def dataset_offset(data: bytes) -> int:
    """Offset where the dataset starts after the preamble, 'DICM' and file meta.

    Uses (0002,0000) File Meta Information Group Length when present, else
    steps over the explicit VR little endian group 0002 elements.
    """
    if data[128:132] != b"DICM":
        return 0
    pos = 132
    group, elem = struct.unpack_from("<HH", data, pos)
    if (group, elem) == (2, 0) and data[pos + 4:pos + 6] == b"UL":
        return pos + 12 + struct.unpack_from("<I", data, pos + 8)[0]
    while pos + 8 <= len(data) and struct.unpack_from("<H", data, pos)[0] == 2:
        vr = data[pos + 4:pos + 6]
        if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"UC", b"UR", b"OD", b"OL", b"OV"):
            pos += 12 + struct.unpack_from("<I", data, pos + 8)[0]
        else:
            pos += 8 + struct.unpack_from("<H", data, pos + 6)[0]
    return pos


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(DEFAULT_DIR), help="corpus directory")
    parser.add_argument("--ct", type=int, default=400, help="number of CT slices")
    parser.add_argument("--mr", type=int, default=4,
                        help="number of Enhanced MR files (even: defined, odd: undefined lengths)")
    parser.add_argument("--frames", type=int, default=200, help="frames per MR file")
    parser.add_argument("--bits-stored", type=int, choices=(12, 16), default=12,
                        help="CT Bits Stored")
    args = parser.parse_args(argv)
    files = ensure_corpus(args.out, args.ct, args.mr, frames=args.frames,
                          bits_stored=args.bits_stored, verbose=True)
    for kind, paths in files.items():
        size = sum(p.stat().st_size for p in paths)
        print(f"{kind:14s} {len(paths):5d} files {size / 1e6:9.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
