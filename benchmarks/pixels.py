"""Pixel decoding workloads (issue "Pixel data") for compare.py, and their corpus.

Every function takes the *path* of a file (opening and parsing it is part of
the work, as a user calling ``dcmread(path).pixel_array`` pays it; the files
were read just before timing, so the page cache is warm), but for the
``*_bytes`` ones which take the file's bytes, and returns the decoded array,
so the tools' results can be compared (each row's check, before timing).

Corpus (:func:`ensure_pixel_corpus`, under ``<corpus>/pixels``, derived from
the native CT slices of benchmarks/corpus.py; made once, reused while its
parameters stay the same; about 5 s at full size). Sizes are full / ``--quick``:

* ``ct`` (the existing native slices): 512x512, signed 16-bit, 12 bits stored.
* ``ct_rle``: every CT slice RLE Lossless encoded (pydicom's ``compress`` with
  the pylibjpeg-rle encoder).
* ``ct_jpeg``: the first ``codec_slices`` (100 / 4) slices windowed to 8-bit
  unsigned MONOCHROME2 and JPEG Baseline encoded (imagecodecs / libjpeg-turbo,
  quality 90); ``ct_jpegls``: JPEG-LS Lossless (pydicom + pyjpegls);
  ``ct_j2k``: JPEG 2000 Lossless (pydicom + pylibjpeg-openjpeg).
* ``mf_jpegls`` / ``mf_j2k``: one file of ``mf_frames`` (120 / 8) frames, the
  encoded slices above cycled, with a Basic Offset Table.
* ``ra_native`` / ``ra_jpegls``: one file of ``ra_frames`` (1000 / 16) frames,
  native (524 MB at full size, written as a stream) and JPEG-LS (with a Basic
  Offset Table), for random access: each timed call opens the file and decodes
  the next frame of a fixed random walk; :func:`report_random_access` gives the
  memory of one access (tracemalloc peak, and peak RSS growth from
  ``/proc/self/status`` VmHWM after resetting it) and fastdicom's time per
  frame on a dataset opened once.

Multi-frame files keep the CT Image Storage header with Number of Frames added
(no decoder looks at the SOP class).

The synthetic slices are smooth ramps: they compress far better than real CT
(JPEG 2000 to ~4 KB a slice), so codec time is smaller than on real data and
the per-file overhead of each tool weighs more in the ratios.

Which codec library each side uses is in the function names and the row notes;
JPEG-LS via imagecodecs and via pyjpegls is the same library (CharLS), JPEG
2000 via imagecodecs and via pylibjpeg-openjpeg too (OpenJPEG). The
``*_pylibjpeg`` fastdicom functions decode with ``plugin="pylibjpeg"`` (the
same wrapper and library as pydicom's pylibjpeg plugin).
"""
from __future__ import annotations

import json
import os
import sys
import time
import tracemalloc
from io import BytesIO
from pathlib import Path

import numpy as np
import pydicom
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import JPEG2000Lossless, JPEGBaseline8Bit, JPEGLSLossless, RLELossless

import fastdicom
from fastdicom.pixels import PixelInfo, codecs, encapsulated_frames, frame

try:  # optional third tool
    import dicomsdl
except ImportError:  # pragma: no cover - depends on the environment
    dicomsdl = None

#: Bump when the generated content changes so existing pixel corpora get rebuilt.
PIXEL_CORPUS_VERSION = 1
SUBDIR = "pixels"
MANIFEST = "manifest.json"
FULL_SIZES = {"codec_slices": 100, "mf_frames": 120, "ra_frames": 1000}
QUICK_SIZES = {"codec_slices": 4, "mf_frames": 8, "ra_frames": 16}
CODEC_KINDS = ("ct_rle", "ct_jpeg", "ct_jpegls", "ct_j2k")
PIXEL_KINDS = CODEC_KINDS + ("mf_jpegls", "mf_j2k", "ra_native", "ra_jpegls")

#: Ratio targets of the issue (pydicom time / fastdicom time).
NATIVE_TARGET = 10.0
RLE_TARGET = 5.0
CODEC_TARGET = 1.0


class Mismatch(AssertionError):
    """The tools disagree: the timings would compare different work."""


# --------------------------------------------------------------------------- corpus
def _window_to_8bit(arr: np.ndarray) -> np.ndarray:
    """CT stored values (-1024..2047) to 8-bit grey levels (a fixed window)."""
    return np.clip((arr.astype(np.int32) + 1024) // 12, 0, 255).astype(np.uint8)


def _encode_slice(src: Path, kind: str, out: Path) -> list[bytes]:
    """Write ``src`` encoded for ``kind`` to ``out``; return its encoded frame."""
    ds = pydicom.dcmread(src)
    if kind == "ct_jpeg":
        import imagecodecs

        pixels = _window_to_8bit(ds.pixel_array)
        for keyword in ("PixelPaddingValue", "WindowCenter", "WindowWidth",
                        "WindowCenterWidthExplanation"):
            delattr(ds, keyword)
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        ds.LossyImageCompression = "01"
        ds.PixelData = encapsulate([imagecodecs.jpeg8_encode(pixels, level=90)])
        ds["PixelData"].VR = "OB"
        ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    else:
        ts, plugin = {"ct_rle": (RLELossless, "pylibjpeg"),
                      "ct_jpegls": (JPEGLSLossless, "pyjpegls"),
                      "ct_j2k": (JPEG2000Lossless, "pylibjpeg")}[kind]
        ds.compress(ts, encoding_plugin=plugin)
    _save(ds, out)
    return list(generate_frames(ds.PixelData, number_of_frames=1))


def _save(ds: pydicom.Dataset, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    ds.save_as(tmp, enforce_file_format=True)
    os.replace(tmp, path)


def _multiframe(template: Path, encoded: list[bytes], count: int, out: Path) -> None:
    """A ``count``-frame file of the encoded frames (cycled), with a Basic Offset Table."""
    ds = pydicom.dcmread(template)
    ds.NumberOfFrames = count
    ds.PixelData = encapsulate([encoded[i % len(encoded)] for i in range(count)], has_bot=True)
    _save(ds, out)


def _native_multiframe(slices: list[Path], count: int, out: Path) -> None:
    """A ``count``-frame native file (the slices' pixels, cycled), written as a
    header then a streamed Pixel Data element (the frames never all in memory)."""
    ds = pydicom.dcmread(slices[0])
    frames = [pydicom.dcmread(p).PixelData for p in slices]
    del ds.PixelData
    ds.NumberOfFrames = count
    tmp = out.with_suffix(".tmp")
    ds.save_as(tmp, enforce_file_format=True)
    nbytes = len(frames[0]) * count
    with open(tmp, "ab") as f:  # explicit VR little endian: tag, "OW", 0, 32-bit length
        f.write(b"\xe0\x7f\x10\x00OW\x00\x00" + nbytes.to_bytes(4, "little"))
        for i in range(count):
            f.write(frames[i % len(frames)])
    os.replace(tmp, out)


def _pixel_paths(root: Path, n_ct: int, sizes: dict) -> dict[str, list[Path]]:
    files = {kind: [root / kind / f"{kind}_{i:04d}.dcm"
                    for i in range(n_ct if kind == "ct_rle" else min(n_ct, sizes["codec_slices"]))]
             for kind in CODEC_KINDS}
    for kind in ("mf_jpegls", "mf_j2k", "ra_native", "ra_jpegls"):
        files[kind] = [root / f"{kind}.dcm"]
    return files


def ensure_pixel_corpus(corpus_dir: str | os.PathLike, ct_paths: list[Path], *,
                        quick: bool = False, verbose: bool = False) -> dict[str, list[Path]]:
    """Make sure the pixel corpus under ``corpus_dir/pixels`` exists for these
    native CT slices (see the module documentation); ``{kind: [paths]}``."""
    root = Path(corpus_dir) / SUBDIR
    sizes = QUICK_SIZES if quick else FULL_SIZES
    params = {"version": PIXEL_CORPUS_VERSION, "ct": len(ct_paths), **sizes}
    files = _pixel_paths(root, len(ct_paths), sizes)
    manifest = root / MANIFEST
    if manifest.exists() and json.loads(manifest.read_text()) == params \
            and all(p.exists() for paths in files.values() for p in paths):
        return files
    start = time.perf_counter()
    encoded: dict[str, list[bytes]] = {}
    for kind in CODEC_KINDS:
        (root / kind).mkdir(parents=True, exist_ok=True)
        encoded[kind] = [f for src, out in zip(ct_paths, files[kind])
                         for f in _encode_slice(src, kind, out)]
        if verbose:
            print(f"  {kind}: {len(files[kind])} files", file=sys.stderr)
    for kind in ("mf_jpegls", "mf_j2k"):
        source = "ct_" + kind[3:]
        _multiframe(files[source][0], encoded[source], sizes["mf_frames"], files[kind][0])
    _multiframe(files["ct_jpegls"][0], encoded["ct_jpegls"], sizes["ra_frames"],
                files["ra_jpegls"][0])
    _native_multiframe(ct_paths, sizes["ra_frames"], files["ra_native"][0])
    manifest.write_text(json.dumps(params) + "\n")
    if verbose:
        print(f"  pixel corpus made in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return files


def decoded_nbytes(src, per_frame: bool = False) -> int:
    """Bytes of the decoded pixel data (all frames, or one with ``per_frame``)
    of the file at path ``src`` (or of the file's bytes)."""
    ds = fastdicom.dcmread(src, stop_before_pixels=True)
    frames = 1 if per_frame else int(ds.get("NumberOfFrames") or 1)
    return ds.Rows * ds.Columns * ds.SamplesPerPixel * (ds.BitsAllocated // 8) * frames


def frame_nbytes(src) -> int:
    """Bytes of one decoded frame of the file at path ``src`` (or its bytes)."""
    return decoded_nbytes(src, per_frame=True)


def codec_versions() -> dict[str, str | None]:
    """Versions of the codec libraries the rows use (None: not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("imagecodecs", "pylibjpeg", "pylibjpeg-libjpeg", "pylibjpeg-openjpeg",
                 "pylibjpeg-rle", "pyjpegls"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


# --------------------------------------------------------------------------- whole images
def fastdicom_pixels(path: str) -> np.ndarray:
    """fastdicom: dcmread(path).pixel_array (codecs: imagecodecs first)."""
    return fastdicom.dcmread(path).pixel_array


def fastdicom_pixels_pylibjpeg(path: str) -> np.ndarray:
    """fastdicom: dcmread(path), frames decoded with ``plugin="pylibjpeg"``."""
    ds = fastdicom.dcmread(path)
    info = PixelInfo.from_dataset(ds)
    frames = encapsulated_frames(ds, info)[:info.number_of_frames]
    arr = codecs.decode_frames(info.transfer_syntax_uid, frames, info, plugin="pylibjpeg")
    return arr[0] if len(arr) == 1 else arr


def _pydicom_with(plugin: str):
    def fn(path: str) -> np.ndarray:
        ds = pydicom.dcmread(path)
        ds.pixel_array_options(decoding_plugin=plugin)
        return ds.pixel_array

    fn.__name__ = fn.__qualname__ = f"pydicom_pixels_{plugin}"
    fn.__doc__ = f"pydicom: dcmread(path).pixel_array with decoding_plugin={plugin!r}."
    return fn


def pydicom_pixels(path: str) -> np.ndarray:
    """pydicom: dcmread(path).pixel_array (native data: no plugin)."""
    return pydicom.dcmread(path).pixel_array


def fastdicom_pixels_bytes(data: bytes) -> np.ndarray:
    """fastdicom: dcmread(bytes).pixel_array (no file, no memory map)."""
    return fastdicom.dcmread(data).pixel_array


def pydicom_pixels_bytes(data: bytes) -> np.ndarray:
    """pydicom: dcmread(BytesIO(bytes)).pixel_array."""
    return pydicom.dcmread(BytesIO(data)).pixel_array


pydicom_pixels_pylibjpeg = _pydicom_with("pylibjpeg")
pydicom_pixels_pyjpegls = _pydicom_with("pyjpegls")

if dicomsdl is not None:
    def dicomsdl_pixels(path: str) -> np.ndarray:
        """dicomsdl: open(path).pixelData(storedvalue=True) (single-frame files)."""
        return dicomsdl.open(path).pixelData(storedvalue=True)
else:  # pragma: no cover
    dicomsdl_pixels = None


def make_check(fast, ref, sdl=None, sample: int = 3, atol: int = 0):
    """A row check: on the first ``sample`` files and the last, ``fast`` equals
    ``ref`` (values within ``atol``, same shape and dtype) and ``sdl`` (if any)
    gives the same values."""
    def check(inputs) -> int:
        chosen = list(inputs[:sample]) + list(inputs[-1:])
        for n, src in enumerate(chosen):
            path = src if isinstance(src, str) else f"file {n} (bytes)"
            a, b = fast(src), ref(src)
            if a.shape != b.shape or a.dtype != b.dtype.newbyteorder("="):
                raise Mismatch(f"{path}: {fast.__name__} {a.shape} {a.dtype} != "
                               f"{ref.__name__} {b.shape} {b.dtype}")
            diff = int(np.abs(a.astype(np.int64) - b.astype(np.int64)).max()) if a.size else 0
            if diff > atol:
                raise Mismatch(f"{path}: {fast.__name__} and {ref.__name__} differ by {diff}")
            if sdl is not None and not np.array_equal(sdl(src), a):
                raise Mismatch(f"{path}: {sdl.__name__} differs from {fast.__name__}")
        return len(chosen)

    return check


# --------------------------------------------------------------------------- random access
_SEQUENCES: dict[tuple[str, str], object] = {}


def _frame_count(path: str) -> int:
    return int(fastdicom.dcmread(path, stop_before_pixels=True).get("NumberOfFrames") or 1)


def _next_index(tool: str, path: str) -> int:
    """The next frame index of ``tool``'s fixed pseudo-random walk over ``path``'s frames."""
    key = (tool, path)
    seq = _SEQUENCES.get(key)
    if seq is None:
        order = np.random.default_rng(20240315).permutation(_frame_count(path)).tolist()
        seq = _SEQUENCES[key] = iter(_cycle(order))
    return next(seq)


def _cycle(values: list[int]):
    while True:
        yield from values


def fastdicom_frame_at(path: str, index: int) -> np.ndarray:
    return frame(fastdicom.dcmread(path), index)


def pydicom_frame_at(path: str, index: int) -> np.ndarray:
    return pydicom.pixels.pixel_array(path, index=index)


def fastdicom_random_frame(path: str) -> np.ndarray:
    """fastdicom: frame(dcmread(path), i), i a random frame."""
    return fastdicom_frame_at(path, _next_index("fastdicom", path))


def pydicom_random_frame(path: str) -> np.ndarray:
    """pydicom: pydicom.pixels.pixel_array(path, index=i), i a random frame."""
    return pydicom_frame_at(path, _next_index("pydicom", path))


if dicomsdl is not None:
    def dicomsdl_frame_at(path: str, index: int) -> np.ndarray:
        return dicomsdl.open(path).pixelData(index=index, storedvalue=True)

    def dicomsdl_random_frame(path: str) -> np.ndarray:
        """dicomsdl: open(path).pixelData(index=i, storedvalue=True), i a random frame."""
        return dicomsdl_frame_at(path, _next_index("dicomsdl", path))
else:  # pragma: no cover
    dicomsdl_frame_at = dicomsdl_random_frame = None


def check_random_frame(paths, sdl: bool = False) -> int:
    """Frames first, middle and last: fastdicom equals pydicom (and with
    ``sdl``, dicomsdl)."""
    checked = 0
    for path in paths:
        n = _frame_count(path)
        for index in (0, n // 2, n - 1):
            a, b = fastdicom_frame_at(path, index), pydicom_frame_at(path, index)
            if not np.array_equal(a, b) or a.dtype != b.dtype.newbyteorder("="):
                raise Mismatch(f"{path} frame {index}: fastdicom != pydicom")
            if sdl and dicomsdl_frame_at is not None \
                    and not np.array_equal(dicomsdl_frame_at(path, index), a):
                raise Mismatch(f"{path} frame {index}: dicomsdl != fastdicom")
            checked += 1
    return checked


def check_random_frame_sdl(paths) -> int:
    """:func:`check_random_frame` with dicomsdl too."""
    return check_random_frame(paths, sdl=True)


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):  # not Linux
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset the peak RSS (VmHWM) to the current RSS (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _memory_of(fn, path: str, indices: list[int]) -> tuple[int, int | None]:
    """(max tracemalloc peak, max peak RSS growth) of one access, over ``indices``
    (after a first access that loads what the tool loads lazily)."""
    fn(path, indices[0])
    peak, growth = 0, None
    for index in indices:
        tracemalloc.start()
        try:
            fn(path, index)
            peak = max(peak, tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        rss0 = _status_kb("VmRSS")
        if rss0 is None or not _reset_peak_rss():
            continue
        fn(path, index)
        hwm = _status_kb("VmHWM")
        if hwm is not None:
            growth = max(growth or 0, hwm - rss0)
    return peak, growth


def _open_frame_time(path: str, accesses: int = 200) -> float:
    """Median seconds of ``frame(ds, i)`` on a dataset opened once."""
    ds = fastdicom.dcmread(path)
    n = _frame_count(path)
    order = np.random.default_rng(7).integers(0, n, accesses).tolist()
    samples = []
    for index in order:
        start = time.perf_counter()
        frame(ds, index)
        samples.append(time.perf_counter() - start)
    return float(np.median(samples))


def report_random_access(paths) -> list[str]:
    """Memory per random frame access (and fastdicom's time on an open dataset)."""
    lines = []
    for path in paths:
        n = _frame_count(path)
        size = os.path.getsize(path) / 1e6
        indices = np.random.default_rng(11).integers(0, n, 5).tolist()
        tools = [("fastdicom", fastdicom_frame_at), ("pydicom", pydicom_frame_at)]
        if dicomsdl_frame_at is not None:
            tools.append(("dicomsdl", dicomsdl_frame_at))
        parts = []
        for name, fn in tools:
            peak, growth = _memory_of(fn, path, indices)
            rss = f", peak RSS +{growth / 1e6:.1f} MB" if growth is not None else ""
            parts.append(f"{name} traced peak {peak / 1e6:.2f} MB{rss}")
        lines.append(f"{Path(path).name} ({n} frames, {size:.0f} MB), memory of one access "
                     "(open + one frame), max over 5 frames: " + "; ".join(parts))
        lines.append(f"{Path(path).name}: fastdicom frame(ds, i) on a dataset opened once: "
                     f"{_open_frame_time(path) * 1e6:.1f} us median per frame")
    return lines
