"""The deterministic synthetic corpus of ``fastdicom bench`` (and of ``benchmarks/``).

Written with fastdicom's own writer (no pydicom needed); every file depends
only on the parameters, so the same size writes the same bytes. Kinds:

* ``ct``: a CT Image Storage series (512x512 signed 16-bit slices, ~200
  header elements with sequences and private blocks; :mod:`.synth`);
* ``mr_defined`` / ``mr_undefined``: Enhanced-MR-like multi-frame files whose
  header is dominated by per-frame functional groups, with defined resp.
  undefined sequence and item lengths;
* ``ct_rle``, ``ct_jpegls``, ``ct_j2k``: the first CT slices (rescaled to
  unsigned 12-bit) RLE Lossless, JPEG-LS Lossless and JPEG 2000 Lossless,
  made only when the encoders are installed (imagecodecs: ``packbits_encode``
  for the RLE segments, fastdicom has no RLE encoder of its own;
  ``jpegls_encode``, ``jpeg2k_encode``); otherwise skipped with a note;
* ``mf_large``: one large native multi-frame file (the CT slices as frames).

``ensure_corpus(out, size)`` makes what is missing and returns
``{kind: [paths]}`` and the notes (skipped kinds).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from fastdicom.bench.synth import (
    ct_dataset, ct_pattern, file_bytes, mr_dataset, set_undefined_lengths, write_bytes,
    write_ct_slice, write_file)

__all__ = ["SIZES", "KINDS", "ensure_corpus", "default_dir", "header_length", "load_bytes",
           "rle_encode_frame"]

#: Bump when the generated content changes so existing corpora get rebuilt.
CORPUS_VERSION = 2
#: Files per kind for each size: CT slices, MR files (alternating defined /
#: undefined lengths), frames per MR file, encoded slices, frames of mf_large.
SIZES = {
    "tiny": {"ct": 3, "mr": 2, "mr_frames": 8, "codec": 2, "mf_frames": 6},
    "small": {"ct": 50, "mr": 4, "mr_frames": 100, "codec": 20, "mf_frames": 100},
    "full": {"ct": 400, "mr": 4, "mr_frames": 200, "codec": 100, "mf_frames": 1000},
}
KINDS = ("ct", "mr_defined", "mr_undefined", "ct_rle", "ct_jpegls", "ct_j2k", "mf_large")
MANIFEST = "manifest.json"
PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"  # (7FE0,0010) little endian
RLE_LOSSLESS = "1.2.840.10008.1.2.5"
JPEG_LS_LOSSLESS = "1.2.840.10008.1.2.4.80"
JPEG_2000_LOSSLESS = "1.2.840.10008.1.2.4.90"


def default_dir(size: str) -> Path:
    """``$XDG_CACHE_HOME/fastdicom/bench-<size>`` (``~/.cache`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fastdicom" / f"bench-{size}"


def load_bytes(paths) -> list[bytes]:
    """Read files fully into memory."""
    return [Path(p).read_bytes() for p in paths]


def header_length(data: bytes) -> int:
    """Bytes from the start of the file up to the top-level Pixel Data element."""
    import fastdicom

    end = fastdicom.tokenize(data, 132, stop_before_pixels=True).end_offset
    if data[end:end + 4] != PIXEL_DATA_TAG:
        raise ValueError(f"expected (7FE0,0010) at offset {end}")
    return end


# --------------------------------------------------------------------------- encoders
def _imagecodecs(name: str):
    try:
        import imagecodecs
    except ImportError:
        return None
    fn = getattr(imagecodecs, name, None)
    if fn is None:
        return None
    try:  # some builds list codecs they were compiled without
        fn(np.zeros((2, 2), np.uint16) if name != "packbits_encode" else b"\x00\x00")
    except Exception:
        return None
    return fn


def rle_encode_frame(frame: np.ndarray, packbits) -> bytes:
    """RLE Lossless (PS3.5 Annex G) of a 2-D uint8/uint16 frame: one segment per
    byte plane, most significant first, each row PackBits-encoded separately."""
    planes = frame.dtype.itemsize
    big = frame.astype(frame.dtype.newbyteorder(">"), copy=False).view(np.uint8)
    big = big.reshape(frame.shape[0], frame.shape[1], planes)
    segments = []
    for p in range(planes):
        plane = np.ascontiguousarray(big[:, :, p])
        seg = b"".join(packbits(row.tobytes()) for row in plane)
        segments.append(seg + b"\x00" * (len(seg) % 2))
    offsets, pos = [], 64
    for seg in segments:
        offsets.append(pos)
        pos += len(seg)
    header = np.zeros(16, "<u4")
    header[0] = len(segments)
    header[1:1 + len(offsets)] = offsets
    return header.tobytes() + b"".join(segments)


def _encoders() -> tuple[dict, list[str]]:
    packbits = _imagecodecs("packbits_encode")
    jpegls = _imagecodecs("jpegls_encode")
    j2k = _imagecodecs("jpeg2k_encode")
    encoders, notes = {}, []
    if packbits is not None:
        encoders["ct_rle"] = (RLE_LOSSLESS, lambda a: rle_encode_frame(a, packbits))
    else:
        notes.append("ct_rle skipped: fastdicom has no RLE encoder and imagecodecs "
                     "(packbits_encode) is not installed")
    if jpegls is not None:
        encoders["ct_jpegls"] = (JPEG_LS_LOSSLESS, lambda a: bytes(jpegls(a, level=0)))
    else:
        notes.append("ct_jpegls skipped: imagecodecs' JPEG-LS encoder is not installed")
    if j2k is not None:
        encoders["ct_j2k"] = (JPEG_2000_LOSSLESS, lambda a: bytes(
            j2k(a, level=0, codecformat="J2K", reversible=True)))
    else:
        notes.append("ct_j2k skipped: imagecodecs' JPEG 2000 encoder is not installed")
    return encoders, notes


# --------------------------------------------------------------------------- corpus
def _unsigned(ds) -> np.ndarray:
    """The slice's pixels as unsigned 12-bit (stored + 1024), header changed to match."""
    arr = np.frombuffer(bytes(ds.PixelData), "<i2").reshape(ds.Rows, ds.Columns)
    ds.PixelRepresentation = 0
    ds.BitsStored, ds.HighBit = 12, 11
    ds.RescaleIntercept = "-2048"
    del ds.PixelPaddingValue
    return (arr.astype(np.int32) + 1024).clip(0, 4095).astype(np.uint16)


def _encoded_slice(template, index: int, pattern, ts: str, encode, path: Path) -> None:
    import fastdicom
    from fastdicom.encaps import encapsulate

    tmp = path.with_suffix(".native")
    write_ct_slice(template, index, pattern, tmp)  # the slice's elements filled in
    ds = fastdicom.dcmread(tmp.read_bytes())
    tmp.unlink()
    arr = _unsigned(ds)
    ds.file_meta.TransferSyntaxUID = ts
    ds.add(fastdicom.DataElement(0x7FE00010, "OB", encapsulate([encode(arr)], has_bot=True),
                                 is_undefined_length=True))
    write_bytes(path, file_bytes(ds))


def _large_multiframe(template, pattern, frames: int, path: Path) -> None:
    """Native multi-frame file, the Pixel Data streamed (never all in memory)."""
    import fastdicom

    write_ct_slice(template, 0, pattern, path)
    ds = fastdicom.dcmread(path.read_bytes(), stop_before_pixels=True)
    ds.NumberOfFrames = frames
    head = file_bytes(ds)
    frame_bytes = 512 * 512 * 2
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        f.write(head + b"\xe0\x7f\x10\x00OW\x00\x00" + (frame_bytes * frames).to_bytes(4, "little"))
        for i in range(frames):
            f.write(((pattern + 17 * i) % 3072 - 1024).astype("<i2").tobytes())
    os.replace(tmp, path)


def _plan(out: Path, n: dict, encoders: dict) -> dict[str, list[Path]]:
    files = {kind: [] for kind in KINDS}
    files["ct"] = [out / "ct" / f"ct_{i:04d}.dcm" for i in range(n["ct"])]
    for i in range(n["mr"]):
        kind = "mr_undefined" if i % 2 else "mr_defined"
        files[kind].append(out / "mr" / f"{kind}_{i:03d}.dcm")
    for kind in encoders:
        files[kind] = [out / kind / f"{kind}_{i:04d}.dcm" for i in range(n["codec"])]
    files["mf_large"] = [out / "mf_large.dcm"]
    return {k: v for k, v in files.items() if v}


class Manifest:
    """What a corpus directory holds (``manifest.json``: the generation
    parameters and each file's size), so only missing or stale files are
    written again: a file is fresh when the parameters are the same and its
    size is the one recorded."""

    def __init__(self, out: Path, params: dict) -> None:
        self.out, self.params = out, params
        self.path = out / MANIFEST
        self.sizes: dict[str, int] = {}
        if self.path.exists():
            manifest = json.loads(self.path.read_text())
            if manifest.get("params") == params:
                self.sizes = manifest.get("sizes", {})

    def _key(self, path: Path) -> str:
        return path.relative_to(self.out).as_posix()

    def fresh(self, path: Path) -> bool:
        return path.exists() and self.sizes.get(self._key(path)) == path.stat().st_size

    def record(self, path: Path) -> None:
        self.sizes[self._key(path)] = path.stat().st_size

    def save(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"params": self.params,
                                         "sizes": dict(sorted(self.sizes.items()))},
                                        indent=1) + "\n")


def ensure_corpus(out: str | os.PathLike | None = None, size: str = "tiny", *,
                  kinds=None, progress=None) -> tuple[dict[str, list[Path]], list[str]]:
    """Make sure the corpus of ``size`` (see :data:`SIZES`) exists in ``out``
    (default :func:`default_dir`); returns ``({kind: [paths]}, notes)``.
    ``kinds`` limits what is made; ``progress(text)`` is told what is written."""
    n = SIZES[size]
    out = Path(out) if out is not None else default_dir(size)
    encoders, notes = _encoders()
    files = _plan(out, n, encoders)
    if kinds is not None:
        files = {k: v for k, v in files.items() if k in kinds}
    manifest = Manifest(out, {"version": CORPUS_VERSION, **n})
    template = pattern = None
    for kind, paths in files.items():
        for i, path in enumerate(paths):
            if manifest.fresh(path):
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if progress:
                progress(f"corpus: writing {path.relative_to(out)}")
            if kind.startswith("mr"):
                index = int(path.stem.rsplit("_", 1)[1])
                ds = mr_dataset(index, n["mr_frames"])
                if kind == "mr_undefined":
                    set_undefined_lengths(ds)
                write_file(ds, path)
            else:
                if template is None:
                    template, pattern = ct_dataset(12), ct_pattern()
                if kind == "ct":
                    write_ct_slice(template, i, pattern, path)
                elif kind == "mf_large":
                    _large_multiframe(template, pattern, n["mf_frames"], path)
                else:
                    ts, encode = encoders[kind]
                    _encoded_slice(template, i, pattern, ts, encode, path)
            manifest.record(path)
    manifest.save()
    return files, notes
