"""Pixel data: decoding to numpy arrays, frame access, zero-copy views.

Two ways to get the pixels of a dataset:

- :func:`pixel_array` (also ``Dataset.pixel_array``): a **writable** array
  equal to pydicom 3's ``Dataset.pixel_array`` with its default options:
  shape (rows, columns), (frames, rows, columns), (rows, columns, samples) or
  (frames, rows, columns, samples); dtype from Bits Allocated and Pixel
  Representation (float32/float64 for Float/Double Float Pixel Data, uint8
  for unpacked 1-bit data); unused high bits masked or sign-extended;
  YBR_FULL and YBR_FULL_422 converted to RGB. Always native byte order
  (pydicom keeps big-endian data in a big-endian dtype: same values).
- :func:`native_view`: a **read-only, zero-copy** view of native (uncompressed)
  pixel data over the memory-mapped file, shaped the same way and equal to
  :func:`pixel_array`, for data that needs no conversion (no unpacking, byte
  swapping, upsampling, colour conversion, and samples already within Bits
  Stored, which is checked by a scan that copies nothing). Anything else
  raises :class:`PixelDataError`.

Frames: :func:`frame` (one frame, ``pixel_array(ds)[i]`` for multi-frame data,
reading and copying only that frame), :func:`iter_frames`, and for compressed
data :func:`encapsulated_frames` (the encoded frames, zero-copy where a frame
is one fragment). Compressed frames are decoded by ``fastdicom.pixels.codecs``.

Errors derive from :class:`fastdicom.errors.InvalidDicomError`:
:class:`PixelDataError` (bad lengths, sizes, tables, fragments),
:class:`MissingPixelElementError` (also an ``AttributeError``) and
:class:`UnsupportedPixelDataError` (also a ``NotImplementedError``; its
subclass :class:`UnsupportedTransferSyntaxError` for unknown syntaxes or a
missing codec).
"""
from __future__ import annotations

import importlib.util
import os
import warnings
from typing import Any, Iterator

import numpy as np

from fastdicom import _core
from fastdicom.pixels._info import (
    MissingPixelElementError,
    PixelDataError,
    PixelInfo,
    UnsupportedPixelDataError,
    UnsupportedTransferSyntaxError,
)
from fastdicom.pixels.frames import (
    encapsulated_frame,
    encapsulated_frames,
    encoded_frame_spans,
    fragments,
    frame,
    iter_frames,
    number_of_frames,
    pixel_bytes,
    pixel_element,
)
from fastdicom.pixels.native import (
    apply_color_space, decode_native, native_view_array, read_native_direct)

__all__ = [
    "pixel_array",
    "native_view",
    "frame",
    "iter_frames",
    "number_of_frames",
    "encapsulated_frames",
    "encapsulated_frame",
    "fragments",
    "pixel_element",
    "pixel_bytes",
    "apply_color_space",
    "PixelInfo",
    "PixelDataError",
    "MissingPixelElementError",
    "UnsupportedPixelDataError",
    "UnsupportedTransferSyntaxError",
]


def _native_buffer(ds: Any, info: PixelInfo) -> memoryview:
    elem = pixel_element(ds)
    tok = getattr(elem, "_tokens", None)
    index = getattr(elem, "_index", -1)
    if tok is not None and index >= 0 and tok.flags(index) & _core.F_ENCAPSULATED:
        raise PixelDataError(
            f"the pixel data is encapsulated (compressed) but the transfer syntax "
            f"{info.transfer_syntax_uid} is not a compressed one"
        )
    return pixel_bytes(elem)


def _as_dataset(src: Any) -> Any:
    if isinstance(src, (str, os.PathLike)) or hasattr(src, "read"):
        from fastdicom.reader import dcmread

        return dcmread(src)
    return src


def pixel_array(ds: Any) -> np.ndarray:
    """The pixel data of a dataset (or of the file at a path, or in a binary
    file object) as a writable numpy array, as pydicom 3's ``pixel_array``
    returns it (see the module documentation)."""
    ds = _as_dataset(ds)
    info = PixelInfo.from_dataset(ds)
    if info.is_encapsulated:
        return _decode_encapsulated(ds, info)
    elem = pixel_element(ds)
    tok = getattr(elem, "_tokens", None)
    if tok is not None and tok.tail is not None and elem._index >= 0:
        # the value is still in the file (see fastdicom.dcmread): read it
        # straight into the array, then convert that in place
        arr = read_native_direct(info, tok, elem._index)
        if arr is not None:
            return arr
        raw = tok.read_outside(elem._index)
        if raw is not None:
            return decode_native(info, raw, owned=True)
    return decode_native(info, _native_buffer(ds, info))


def native_view(ds: Any, index: int | None = None) -> np.ndarray:
    """A read-only zero-copy view of native pixel data (all frames, or frame
    ``index``), equal to :func:`pixel_array` (or :func:`frame`). Raises
    :class:`PixelDataError` when the stored samples need a conversion first."""
    info = PixelInfo.from_dataset(ds)
    if info.is_encapsulated:
        raise PixelDataError(
            "no zero-copy view of this pixel data: it is compressed (encapsulated); "
            "use pixel_array()"
        )
    return native_view_array(info, _native_buffer(ds, info), index)


# -- compressed data (decoded by fastdicom.pixels.codecs) -----------------------------
def _codecs(info: PixelInfo) -> Any:
    if importlib.util.find_spec("fastdicom.pixels.codecs") is None:
        raise UnsupportedTransferSyntaxError(
            f"decoding compressed pixel data (transfer syntax {info.transfer_syntax_uid}) "
            "needs fastdicom.pixels.codecs, which is not available"
        )
    from fastdicom.pixels import codecs

    return codecs


def _as_frames(arr: np.ndarray, info: PixelInfo, count: int) -> np.ndarray:
    """``arr`` shaped (count, *frame_shape)."""
    shape = (count,) + info.frame_shape
    if arr.shape == shape:
        return arr
    if arr.size != int(np.prod(shape)):
        raise PixelDataError(
            f"decoded pixel data has shape {arr.shape}, expected {shape} from the Image "
            "Pixel module"
        )
    return arr.reshape(shape)


def _decode_encoded_frame(info: PixelInfo, data: Any, index: int) -> np.ndarray:
    """One encoded frame decoded as :func:`frame` returns it."""
    arr = _codecs(info).decode_frame(info.transfer_syntax_uid, data, info)
    arr = _as_frames(np.asarray(arr), info, 1)[0]
    if not arr.flags.writeable:
        arr = arr.copy()
    return arr


def _decode_excess(info: PixelInfo, extra: list[Any]) -> list[np.ndarray]:
    """Frames past Number of Frames that decode to a whole frame (pydicom keeps them)."""
    out = []
    codecs = _codecs(info)
    for data in extra:
        try:
            arr = np.asarray(codecs.decode_frame(info.transfer_syntax_uid, data, info))
        except Exception:
            continue
        if arr.size == info.frame_pixels:
            out.append(arr.reshape(info.frame_shape))
    if out:
        warnings.warn(
            f"{len(out) + info.number_of_frames} frames have been found in the encapsulated "
            "pixel data, which is larger than the given (0028,0008) 'Number of Frames' value "
            f"of {info.number_of_frames}. The returned data will include these extra frames",
            UserWarning, stacklevel=4,
        )
    return out


def _iter_encoded(ds: Any, info: PixelInfo) -> Iterator[np.ndarray]:
    count, encoded = encoded_frame_spans(ds, info)
    n = info.number_of_frames
    _check_enough(count, n)
    for i in range(n):
        yield _decode_encoded_frame(info, next(encoded), i)
    yield from _decode_excess(info, list(encoded))


def _check_enough(count: int, n: int) -> None:
    if count < n:
        raise PixelDataError(
            f"the encapsulated pixel data holds {count} frame(s), fewer than the "
            f"(0028,0008) 'Number of Frames' value of {n}"
        )


def _decode_encapsulated(ds: Any, info: PixelInfo) -> np.ndarray:
    codecs = _codecs(info)
    encoded = encapsulated_frames(ds, info)
    n = info.number_of_frames
    _check_enough(len(encoded), n)
    arr = np.asarray(codecs.decode_frames(info.transfer_syntax_uid, encoded[:n], info))
    arr = _as_frames(arr, info, n)
    excess = _decode_excess(info, encoded[n:])
    if excess:
        arr = np.concatenate([arr, np.stack(excess).astype(arr.dtype, copy=False)])
    if arr.shape[0] == 1:
        arr = arr[0]
    if not arr.flags.writeable:
        arr = arr.copy()
    return arr


# pydicom.pixels also holds the processing functions: reach them here lazily
_PROCESSING = frozenset({
    "WELL_KNOWN_PALETTES", "apply_color_lut", "apply_modality_lut", "apply_presentation_lut",
    "apply_rescale", "apply_voi", "apply_voi_lut", "apply_windowing", "convert_color_space",
})


def __getattr__(name: str) -> Any:
    if name in _PROCESSING:
        from fastdicom.pixels import processing

        return getattr(processing, name)
    if name == "overlay_array":
        from fastdicom.pixels import overlays

        return overlays.overlay_array
    raise AttributeError(f"module 'fastdicom.pixels' has no attribute '{name}'")
