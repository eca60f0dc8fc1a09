"""Decoding of compressed (encapsulated) frames to numpy arrays.

``decode_frame(ts, data, info)`` decodes one encoded frame; ``decode_frames(ts,
frames, info, threads=None)`` decodes several into one stacked array, in
parallel threads when the decoder releases the GIL.

* RLE Lossless: fastdicom's own C decoder (``csrc/fd_rle.c``), always available.
* JPEG (baseline 8-bit, extended 12-bit, lossless process 14 and SV1), JPEG-LS
  (lossless and near-lossless), JPEG 2000 and HTJ2K (lossless, RPCL, lossy):
  through the optional codec libraries of ``pip install "fastdicom[codecs]"``,
  ``imagecodecs`` first (libjpeg-turbo, CharLS, OpenJPEG; releases the GIL), the
  pylibjpeg plugins (``pylibjpeg-libjpeg``, ``pylibjpeg-openjpeg``) otherwise or
  when imagecodecs fails on a frame. ``plugin="pylibjpeg"`` (or
  ``"imagecodecs"``) picks one; :data:`PLUGIN_ORDER` is the default order.

The result is what pydicom 3's ``pixel_array`` gives for the frame with its
default options (``as_rgb=True``): shape ``info.frame_shape`` (always
pixel-interleaved), dtype ``info.dtype`` (Bits Allocated, Pixel Representation),
and the same corrections applied in the same order:

1. the decoded samples are read with the signedness of Pixel Representation
   and cast to the dataset's dtype (pydicom's ``frombuffer`` + assignment);
2. JPEG 2000 (monochrome): if the codestream's signedness (SIZ) differs from
   Pixel Representation, sign-extend from the codestream precision
   (pydicom's ``apply_j2k_sign_correction``); JPEG-LS with Pixel
   Representation 1: sign-extend from the codestream precision; RLE and JPEG
   with Bits Stored < Bits Allocated: clear/sign-extend the unused high bits
   (``correct_unused_bits``);
3. colour: JPEG/JPEG-LS codestreams with R, G, B component IDs are RGB and a
   JFIF marker means YCbCr whatever the dataset says (pydicom's
   ``_conform_jpg_colorspace``); JPEG 2000 YBR_ICT/YBR_RCT come out of OpenJPEG
   as RGB; YBR_FULL and YBR_FULL_422 are converted to RGB with pydicom's
   formula (float32, round half up, clip to 0..255) unless ``as_rgb=False``.
   JPEG decoders are asked for the raw components (no colour conversion inside
   the codec), as pydicom asks pylibjpeg-libjpeg.

Known differences from pydicom (see tests/test_codecs.py): lossy JPEG
(baseline/extended) decoded by imagecodecs (libjpeg-turbo) may differ by a few
grey levels from pydicom's pylibjpeg-libjpeg (different IDCT and chroma
upsampling, both within ISO 10918 accuracy); ``plugin="pylibjpeg"`` matches
exactly. A Planar Configuration of 1 on JPEG/JPEG 2000 data is ignored (the
codecs always return pixel-interleaved samples; pydicom would reorder them).
pydicom's warnings about conformed photometric interpretations are not issued.
"""
from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence

import numpy as np

from fastdicom import _core
from fastdicom.pixels._info import PixelDataError, PixelInfo, UnsupportedTransferSyntaxError

__all__ = [
    "decode_frame",
    "decode_frames",
    "rle_decode_frame",
    "available_plugins",
    "can_decode",
    "CodecError",
    "RLEError",
    "CodecUnavailableError",
    "PLUGIN_ORDER",
    "INSTALL_HINT",
]

RLE_LOSSLESS = "1.2.840.10008.1.2.5"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
JPEG_EXTENDED = "1.2.840.10008.1.2.4.51"
JPEG_LOSSLESS = "1.2.840.10008.1.2.4.57"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
JPEGLS_LOSSLESS = "1.2.840.10008.1.2.4.80"
JPEGLS_NEAR_LOSSLESS = "1.2.840.10008.1.2.4.81"
JPEG2000_LOSSLESS = "1.2.840.10008.1.2.4.90"
JPEG2000 = "1.2.840.10008.1.2.4.91"
HTJ2K_LOSSLESS = "1.2.840.10008.1.2.4.201"
HTJ2K_LOSSLESS_RPCL = "1.2.840.10008.1.2.4.202"
HTJ2K = "1.2.840.10008.1.2.4.203"

JPEG_SYNTAXES = frozenset({JPEG_BASELINE, JPEG_EXTENDED, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1})
JPEG_LOSSLESS_SYNTAXES = frozenset({JPEG_LOSSLESS, JPEG_LOSSLESS_SV1})
JPEGLS_SYNTAXES = frozenset({JPEGLS_LOSSLESS, JPEGLS_NEAR_LOSSLESS})
J2K_SYNTAXES = frozenset({
    JPEG2000_LOSSLESS, JPEG2000, HTJ2K_LOSSLESS, HTJ2K_LOSSLESS_RPCL, HTJ2K,
    "1.2.840.10008.1.2.4.92", "1.2.840.10008.1.2.4.93",  # JPEG 2000 Part 2 (pydicom's list)
})
CODEC_SYNTAXES = JPEG_SYNTAXES | JPEGLS_SYNTAXES | J2K_SYNTAXES

INSTALL_HINT = 'pip install "fastdicom[codecs]"'

#: Default order in which the codec libraries are tried.
PLUGIN_ORDER: tuple[str, ...] = ("imagecodecs", "pylibjpeg")

_NATIVE_LE = sys.byteorder == "little"
#: Below this many output bytes, threads cost more than they save.
_PARALLEL_MIN_BYTES = 1 << 20
_MONO = ("MONOCHROME1", "MONOCHROME2")
_YBR = ("YBR_FULL", "YBR_FULL_422")


class CodecError(PixelDataError):
    """An encoded frame could not be decoded (corrupt data, or a codestream
    that does not match the Image Pixel module)."""


class RLEError(CodecError):
    """An RLE Lossless frame is malformed (PS3.5 Annex G); ``offset`` is the
    byte offset in the frame where it went wrong."""


class CodecUnavailableError(UnsupportedTransferSyntaxError):
    """No installed library decodes this transfer syntax: install the
    ``codecs`` extra (``pip install "fastdicom[codecs]"``)."""


# -- RLE Lossless ---------------------------------------------------------------------

def rle_decode_frame(data: Any, rows: int, columns: int, samples_per_pixel: int,
                     bits_allocated: int, out: np.ndarray | None = None) -> np.ndarray:
    """Decode one RLE Lossless frame with the C decoder (GIL released).

    Returns a (rows, columns) or (rows, columns, samples) array of unsigned
    little-endian integers of ``bits_allocated`` (8, 16, 32 or 64) bits,
    pixel-interleaved; with ``out`` (a C-contiguous array of exactly that
    many bytes) the frame is decoded into it and ``out`` is returned.

    Memory: the header is validated before anything is allocated, and a frame
    whose size could not hold ``rows*columns`` bytes per segment at PackBits'
    maximum expansion (128 bytes from 2) is refused, so the output allocation
    is at most 64 x ``len(data)``: a tiny frame claiming a huge image never
    allocates. Errors raise :class:`RLEError` with the offset in ``data``.
    """
    if bits_allocated not in (8, 16, 32, 64):
        raise RLEError(f"RLE Lossless with {bits_allocated} bits allocated is not supported "
                       "(8, 16, 32 or 64)")
    return _core.rle_decode_frame(data, rows, columns, samples_per_pixel, bits_allocated,
                                  error=RLEError, out=out)


# -- codestream parameters (what pydicom reads before decoding) -----------------------

_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB,
                       0xCD, 0xCE, 0xCF, 0xF7})


def _bytes_view(src: Any) -> memoryview:
    mv = memoryview(src)
    return mv if mv.format == "B" and mv.ndim == 1 else mv.cast("B")


def _jpeg_params(src: Any) -> dict[str, Any]:
    """Precision, component IDs and APP segments of a JPEG/JPEG-LS codestream,
    or an empty dict where pydicom's ``_get_jpg_parameters`` gives one."""
    b = _bytes_view(src)
    n = len(b)
    if bytes(b[:2]) != b"\xff\xd8":
        return {}
    pos = 2
    app: dict[int, bytes] = {}
    while not (pos + 2 <= n and b[pos] == 0xFF and b[pos + 1] in _JPEG_SOF):
        if pos + 4 > n:
            return {}
        length = (b[pos + 2] << 8) | b[pos + 3]
        if b[pos] == 0xFF and 0xE0 <= b[pos + 1] <= 0xEF:
            app[b[pos + 1]] = bytes(b[pos + 4:pos + 2 + length])
        pos += length + 2
    pos += 2  # at the SOF length
    if pos + 8 > n:
        return {}
    ncomp = b[pos + 7]
    ids_at = pos + 8
    if ncomp and ids_at + 3 * (ncomp - 1) >= n:
        return {}
    info: dict[str, Any] = {
        "precision": b[pos + 2],
        "component_ids": [b[ids_at + 3 * i] for i in range(ncomp)],
    }
    if app:
        info["app"] = app
    return info


def _j2k_params(src: Any) -> dict[str, Any]:
    """Precision and signedness of the first component of a JPEG 2000 codestream
    (optionally in a JP2 file), as pydicom's ``get_j2k_parameters``."""
    b = _bytes_view(src)
    n = len(b)
    pos = 0
    if bytes(b[:8]) == b"\x00\x00\x00\x0cjP  ":
        pos = 12  # JP2 boxes: look for the contiguous codestream box
        while pos + 8 <= n:
            length = int.from_bytes(b[pos:pos + 4], "big")
            if bytes(b[pos + 4:pos + 8]) == b"jp2c":
                pos += 8
                break
            if length < 8:
                return {}
            pos += length
    if bytes(b[pos:pos + 4]) != b"\xff\x4f\xff\x51" or pos + 42 >= n:
        return {}
    ssiz = b[pos + 42]
    return {"precision": (ssiz & 0x7F) + 1, "is_signed": bool(ssiz & 0x80)}


# -- codec back ends ------------------------------------------------------------------
# Each returns the decoded samples as an ndarray (any shape with the right size).

def _ic_jpeg(ts: str, data: Any, info: PixelInfo) -> np.ndarray:
    import imagecodecs

    kwargs = {}
    if info.samples_per_pixel == 3:  # raw components, no colour conversion in the codec
        kwargs = {"colorspace": "YCbCr", "outcolorspace": "YCbCr"}
    try:
        return imagecodecs.jpeg8_decode(data, **kwargs)
    except Exception:
        if ts not in JPEG_LOSSLESS_SYNTAXES or not imagecodecs.JPEGSOF3.available:
            raise
        return imagecodecs.jpegsof3_decode(data)  # lossless: the dedicated SOF3 decoder


def _ic_jpegls(ts: str, data: Any, info: PixelInfo) -> np.ndarray:
    import imagecodecs

    return imagecodecs.jpegls_decode(data)


def _ic_j2k(ts: str, data: Any, info: PixelInfo) -> np.ndarray:
    import imagecodecs

    return imagecodecs.jpeg2k_decode(data)


def _pl_libjpeg(ts: str, data: Any, info: PixelInfo) -> np.ndarray:
    import libjpeg

    if type(data) is not bytes:  # it takes bytes only
        data = bytes(data)
    return libjpeg.decode(data, 0)  # colour_transform 0: raw components


def _pl_openjpeg(ts: str, data: Any, info: PixelInfo) -> np.ndarray:
    import openjpeg

    if type(data) is not bytes:
        data = bytes(data)
    return openjpeg.decode(data)


def _ic_available(ts: str) -> bool:
    try:
        import imagecodecs
    except ImportError:
        return False
    try:
        if ts in JPEG_SYNTAXES:
            return bool(imagecodecs.JPEG8.available)
        if ts in JPEGLS_SYNTAXES:
            return bool(imagecodecs.JPEGLS.available)
        return bool(imagecodecs.JPEG2K.available)
    except AttributeError:  # a very old imagecodecs
        return False


def _pl_available(ts: str) -> bool:
    try:
        if ts in J2K_SYNTAXES:
            import openjpeg  # noqa: F401
        else:
            import libjpeg  # noqa: F401
    except ImportError:
        return False
    return True


def _ic_decoder(ts: str) -> Callable[[str, Any, PixelInfo], np.ndarray]:
    return _ic_jpeg if ts in JPEG_SYNTAXES else _ic_jpegls if ts in JPEGLS_SYNTAXES else _ic_j2k


def _pl_decoder(ts: str) -> Callable[[str, Any, PixelInfo], np.ndarray]:
    return _pl_openjpeg if ts in J2K_SYNTAXES else _pl_libjpeg


# name -> (is available for ts, decoder for ts, releases the GIL)
_PLUGINS: dict[str, tuple[Callable[[str], bool], Callable[[str], Callable], bool]] = {
    "imagecodecs": (_ic_available, _ic_decoder, True),
    "pylibjpeg": (_pl_available, _pl_decoder, False),
}


def available_plugins(transfer_syntax_uid: str) -> list[str]:
    """Names of the installed libraries that decode this transfer syntax, in
    the order they are tried (``["fastdicom"]`` for RLE Lossless)."""
    ts = str(transfer_syntax_uid)
    if ts == RLE_LOSSLESS:
        return ["fastdicom"]
    if ts not in CODEC_SYNTAXES:
        return []
    return [name for name in PLUGIN_ORDER if name in _PLUGINS and _PLUGINS[name][0](ts)]


def can_decode(transfer_syntax_uid: str) -> bool:
    """Whether some installed decoder handles this (encapsulated) transfer syntax."""
    return bool(available_plugins(transfer_syntax_uid))


def _select(ts: str, plugin: str | None) -> list[str]:
    if ts not in CODEC_SYNTAXES and ts != RLE_LOSSLESS:
        raise UnsupportedTransferSyntaxError(
            f"No pixel data decoders have been implemented for transfer syntax '{ts}'")
    names = available_plugins(ts)
    if plugin is not None:
        if ts == RLE_LOSSLESS:
            return names
        if plugin not in _PLUGINS:
            raise ValueError(f"unknown decoding plugin {plugin!r} (one of {sorted(_PLUGINS)})")
        names = [plugin] if _PLUGINS[plugin][0](ts) else []
    if not names:
        wanted = f"the {plugin!r} plugin" if plugin else "imagecodecs or the pylibjpeg plugins"
        raise CodecUnavailableError(
            f"Unable to decode pixel data with transfer syntax '{ts}': no decoder is "
            f"installed ({wanted}). Install the optional codecs with: {INSTALL_HINT}")
    return names


# -- decoding and pydicom's corrections -------------------------------------------------

def _shift(arr: np.ndarray, bits: int) -> None:
    """Sign-extend (signed) or clear (unsigned) the top ``bits`` bits in place."""
    if 0 < bits < 8 * arr.dtype.itemsize:
        np.left_shift(arr, bits, out=arr)
        np.right_shift(arr, bits, out=arr)


_YBR_TO_RGB = np.asarray(
    [[1.000, 1.000, 1.000],
     [0.000, -0.114 * 1.772 / 0.587, 1.772],
     [1.402, -0.299 * 1.402 / 0.587, 0.000]],
    dtype=np.float32,
)


_YBR_OFFSET = np.asarray([0, 128, 128], dtype=np.float32)
_YBR_BLOCK = 16384  # pixels converted at a time (the float32 scratch stays in cache)


def _ybr_to_rgb(arr: np.ndarray) -> np.ndarray:
    """YBR_FULL -> RGB (rows, cols, 3) exactly as pydicom computes it
    (PS3.3 C.7.6.3.1.2: float32, round half up, clip to 0..255). Done a block
    of rows at a time, each block still a (rows, cols, 3) matmul so the BLAS
    calls are the ones pydicom makes (one per image row)."""
    rows, cols = arr.shape[0], arr.shape[1]
    out = np.empty_like(arr)
    step = max(1, _YBR_BLOCK // max(cols, 1))
    buf = np.empty((min(step, rows), cols, 3), dtype=np.float32)
    # the offsets tiled along a row: one long subtraction instead of 3-wide ones
    offsets = np.tile(_YBR_OFFSET, cols)
    flat_in = arr.reshape(rows, cols * 3)
    for start in range(0, rows, step):
        stop = min(rows, start + step)
        f = buf[: stop - start]
        # exact: small integers in float32
        np.subtract(flat_in[start:stop], offsets, out=f.reshape(stop - start, cols * 3))
        np.matmul(f, _YBR_TO_RGB, out=f)
        f += 0.5
        np.floor(f, out=f)
        np.clip(f, 0, 255, out=f)
        out[start:stop] = f
    return out


def _conformed_pi(ts: str, info: PixelInfo, params: dict[str, Any]) -> str:
    """The photometric interpretation pydicom uses after decoding."""
    pi = info.photometric_interpretation
    if ts in J2K_SYNTAXES:
        return "RGB" if pi in ("YBR_ICT", "YBR_RCT") else pi
    if info.samples_per_pixel != 3:
        return pi
    if params.get("component_ids") in ([82, 71, 66], [114, 103, 98]):
        return "RGB"
    cs = "YBR_FULL_422" if ts == JPEG_BASELINE else "YBR_FULL"
    for segment in params.get("app", {}).values():
        if segment.startswith(b"JFIF") and "YBR" not in pi:
            return cs
    return pi


def _finish(ts: str, raw: np.ndarray, info: PixelInfo, params: dict[str, Any],
            out: np.ndarray | None, as_rgb: bool) -> np.ndarray:
    """Decoded samples -> the frame pydicom returns (dtype, shape, corrections)."""
    dtype = info.dtype
    if raw.size != info.frame_pixels:
        raise CodecError(
            f"The decoded frame has {raw.size} samples (shape {raw.shape}) but the Image "
            f"Pixel module describes {info.frame_shape} = {info.frame_pixels} samples")
    if raw.dtype.kind in "ui":
        # the codec's samples read with the dataset's signedness, then cast
        raw = raw.view(f"{'ui'[info.pixel_representation]}{raw.dtype.itemsize}")
    raw = raw.reshape(info.frame_shape)
    if out is None:
        arr = raw.astype(dtype, copy=True) if raw.dtype != dtype or not raw.flags.writeable \
            else raw
    else:
        out[...] = raw
        arr = out
    if ts in J2K_SYNTAXES:
        if info.photometric_interpretation in _MONO:
            precision = params.get("precision", info.bits_stored)
            signed = params.get("is_signed", info.pixel_representation)
            if signed != info.pixel_representation:
                _shift(arr, 8 * arr.dtype.itemsize - precision)
    elif ts in JPEGLS_SYNTAXES:
        if info.pixel_representation == 1:
            _shift(arr, 8 * arr.dtype.itemsize - params.get("precision", info.bits_stored))
    elif info.bits_allocated > info.bits_stored:
        _shift(arr, info.bits_allocated - info.bits_stored)
    if as_rgb and info.samples_per_pixel == 3 and _conformed_pi(ts, info, params) in _YBR:
        arr[...] = _ybr_to_rgb(arr)
    return arr


def _decode_into(ts: str, data: Any, info: PixelInfo, names: Sequence[str],
                 as_rgb: bool, out: np.ndarray | None) -> np.ndarray:
    if ts == RLE_LOSSLESS:
        into = out if (out is not None and _NATIVE_LE) else None
        raw = rle_decode_frame(data, info.rows, info.columns, info.samples_per_pixel,
                               info.bits_allocated, out=into)
        if into is not None:
            return _finish(ts, out, info, {}, None, as_rgb)
        return _finish(ts, raw, info, {}, out, as_rgb)
    if ts in J2K_SYNTAXES:
        params = _j2k_params(data)
    else:
        params = _jpeg_params(data)
    failures = []
    for name in names:
        decoder = _PLUGINS[name][1](ts)
        try:
            raw = np.asarray(decoder(ts, data, info))
        except Exception as exc:  # the libraries raise their own types
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        return _finish(ts, raw, info, params, out, as_rgb)
    raise CodecError("Unable to decode the frame: " + "; ".join(failures))


def decode_frame(transfer_syntax_uid: str, data: Any, info: PixelInfo, *,
                 as_rgb: bool = True, plugin: str | None = None) -> np.ndarray:
    """Decode one encoded frame (bytes-like) to an array of ``info.frame_shape``
    and ``info.dtype``, as pydicom's ``pixel_array`` gives that frame.

    Raises :class:`RLEError` / :class:`CodecError` for undecodable data,
    :class:`CodecUnavailableError` (naming ``pip install "fastdicom[codecs]"``)
    when no installed library handles the syntax.
    """
    ts = str(transfer_syntax_uid).rstrip("\x00 ")
    names = _select(ts, plugin)
    return _decode_into(ts, data, info, names, as_rgb, None)


def decode_frames(transfer_syntax_uid: str, frames: Sequence[Any], info: PixelInfo,
                  threads: int | None = None, *, as_rgb: bool = True,
                  plugin: str | None = None) -> np.ndarray:
    """Decode several frames into one array of shape ``(len(frames),) +
    info.frame_shape`` (always with the frame axis, even for one frame).

    With several frames and a decoder that releases the GIL (RLE, imagecodecs),
    frames are decoded in a thread pool of ``threads`` workers (``None`` or 0:
    one per CPU; 1: serially in the calling thread). Each frame is decoded
    straight into its slice of the result.
    """
    ts = str(transfer_syntax_uid).rstrip("\x00 ")
    names = _select(ts, plugin)
    frames = list(frames)
    n = len(frames)
    out = np.empty((n,) + tuple(info.frame_shape), dtype=info.dtype)
    if threads is not None and threads < 0:
        raise ValueError("threads must be None or >= 0")
    workers = min(threads or (os.cpu_count() or 1), n)
    releases_gil = ts == RLE_LOSSLESS or _PLUGINS[names[0]][2]
    if workers <= 1 or not releases_gil or out.nbytes < _PARALLEL_MIN_BYTES:
        for i in range(n):
            _decode_into(ts, frames[i], info, names, as_rgb, out[i])
        return out

    # each worker takes the next frame until none is left; the first failure
    # (lowest frame index) is raised once all workers are done
    lock = threading.Lock()
    indices = iter(range(n))
    failures: dict[int, BaseException] = {}

    def work() -> None:
        while True:
            with lock:
                i = next(indices, None)
                if i is None or failures:
                    return
            try:
                _decode_into(ts, frames[i], info, names, as_rgb, out[i])
            except BaseException as exc:  # re-raised in the caller's thread
                with lock:
                    failures[i] = exc
                return

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fastdicom-decode") as pool:
        for future in [pool.submit(work) for _ in range(workers)]:
            future.result()
    if failures:
        raise failures[min(failures)]
    return out
