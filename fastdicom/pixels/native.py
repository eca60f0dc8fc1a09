"""Native (uncompressed) pixel data as numpy arrays, over the file buffer.

The pixel data bytes are a zero-copy memoryview of the (memory-mapped) file;
arrays are ``numpy.frombuffer`` views of them, copied only when a conversion
is needed. The conventions are pydicom 3's (``Decoder.as_array`` with its
defaults): lengths validated the same way (excess whole frames are returned,
excess padding dropped, with a warning), 1-bit data unpacked in little-endian
bit order, ``YBR_FULL_422`` upsampled, unused high bits masked (unsigned) or
sign-extended (signed), ``YBR_FULL``/``YBR_FULL_422`` converted to RGB.

One deliberate difference: pydicom returns Explicit VR Big Endian data in a
big-endian dtype (e.g. ``>u2``); here arrays are always in native byte order
(same values, ``numpy.array_equal`` holds).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from fastdicom import _core
from fastdicom.pixels._info import PixelDataError, PixelInfo

__all__ = [
    "NativeLayout",
    "native_layout",
    "decode_native",
    "native_view_array",
    "correct_unused_bits",
    "fits_bits_stored",
    "ybr_full_to_rgb",
    "apply_color_space",
]

_YBR = ("YBR_FULL", "YBR_FULL_422")
# YCbCr (full range, ITU T.871) -> RGB; applied as row vector x matrix in float32
_YBR_TO_RGB = np.array(
    [[1.000, 1.000, 1.000],
     [0.000, -0.114 * 1.772 / 0.587, 1.772],
     [1.402, -0.299 * 1.402 / 0.587, 0.000]],
    dtype=np.float32,
)
_YBR_OFFSET = np.array([0, 128, 128], dtype=np.float32)


class NativeLayout:
    """Where the frames of native pixel data are: the validated frame count
    (pydicom's excess-frame rule applied) and the size of a frame in bits."""

    __slots__ = ("info", "frames", "frame_bits", "length")

    def __init__(self, info: PixelInfo, frames: int, frame_bits: int, length: int) -> None:
        self.info = info
        self.frames = frames
        self.frame_bits = frame_bits
        self.length = length

    def frame_span(self, index: int) -> tuple[int, int, int]:
        """(first byte, byte count, leading bits to drop) of frame ``index``."""
        start_bit = index * self.frame_bits
        first = start_bit // 8
        end = -(-(start_bit + self.frame_bits) // 8)
        return first, end - first, start_bit % 8

    def check_index(self, index: int) -> int:
        if index < 0:
            index += self.frames
        if not 0 <= index < self.frames:
            raise IndexError(f"frame index out of range: the pixel data holds {self.frames} frame(s)")
        return index


def _frame_bits(info: PixelInfo) -> int:
    """Bits of one stored frame, as pydicom's ``frame_length`` counts them."""
    pixels = info.frame_pixels
    if info.bits_allocated == 1:
        return pixels
    nbytes = pixels * (info.bits_allocated // 8)
    if info.photometric_interpretation == "YBR_FULL_422":
        nbytes = nbytes // 3 * 2
    return nbytes * 8


def native_layout(info: PixelInfo, length: int) -> NativeLayout:
    """Validate ``length`` bytes of native pixel data against ``info`` as
    pydicom does: too short (but for a missing odd-length padding byte) is an
    error; longer holds either more whole frames than Number of Frames says
    (they are kept, with a warning) or padding (dropped, with a warning)."""
    frame_bits = _frame_bits(info)
    if frame_bits <= 0:
        raise PixelDataError("the Image Pixel module describes frames of zero size")
    frames = info.number_of_frames
    expected = -(-(frame_bits * frames) // 8)
    padded = expected + expected % 2
    if length < padded and length != expected:
        raise PixelDataError(
            f"The number of bytes of pixel data is less than expected ({length} vs {padded} "
            "bytes) - the dataset may be corrupted, have an invalid group 0028 element "
            "value, or the transfer syntax may be incorrect"
        )
    if length > padded:
        if info.photometric_interpretation == "YBR_FULL_422":
            ybr_length = expected // 2 * 3
            if length >= ybr_length + ybr_length % 2:
                raise PixelDataError(
                    "The number of bytes of pixel data is a third larger than expected "
                    f"({length} vs {expected} bytes) which indicates the set (0028,0004) "
                    "'Photometric Interpretation' value of 'YBR_FULL_422' is incorrect and "
                    "may need to be changed to either 'RGB' or 'YBR_FULL'"
                )
        else:
            whole = (length * 8) // frame_bits
            if whole > frames:
                warnings.warn(
                    f"The number of bytes of pixel data is sufficient to contain {whole} "
                    "frames which is larger than the given (0028,0008) 'Number of Frames' "
                    f"value of {frames}. The returned data will include these extra frames",
                    UserWarning, stacklevel=4,
                )
                return NativeLayout(info, whole, frame_bits, length)
        warnings.warn(
            f"The pixel data is {length} bytes long, which indicates it contains "
            f"{length - expected} bytes of excess padding to be removed",
            UserWarning, stacklevel=4,
        )
    return NativeLayout(info, frames, frame_bits, length)


def _stored_dtype(info: PixelInfo) -> np.dtype:
    dtype = info.dtype
    if dtype.itemsize > 1:
        dtype = dtype.newbyteorder("<" if info.little_endian else ">")
    return dtype


def _needs_pair_swap(info: PixelInfo) -> bool:
    """Big endian 8-bit data in an OW element: bytes stored swapped in pairs."""
    return (not info.little_endian and info.bits_allocated == 8
            and info.pixel_keyword == "PixelData" and info.pixel_vr == "OW")


def _shape(info: PixelInfo, frames: int | None) -> tuple[tuple[int, ...], bool]:
    """(stored shape, planar) for ``frames`` frames (None: one frame, no frame axis)."""
    r, c, s = info.rows, info.columns, info.samples_per_pixel
    planar = s > 1 and info.planar_configuration == 1
    shape: tuple[int, ...]
    if s == 1:
        shape = (r, c)
    elif planar:
        shape = (s, r, c)
    else:
        shape = (r, c, s)
    if frames is not None:
        shape = (frames,) + shape
    return shape, planar


def _reshape(arr: np.ndarray, info: PixelInfo, frames: int | None) -> np.ndarray:
    shape, planar = _shape(info, frames)
    arr = arr.reshape(shape)
    if planar:
        arr = arr.transpose((0, 2, 3, 1) if frames is not None else (1, 2, 0))
    return arr


def _raw_samples(info: PixelInfo, buf: Any, first: int, nbytes: int, skip_bits: int,
                 count: int) -> np.ndarray:
    """``count`` stored samples starting ``skip_bits`` into ``buf[first:first+nbytes]``
    as a 1-D array (a view when no conversion is needed)."""
    if info.bits_allocated == 1:
        packed = np.frombuffer(buf, np.uint8, nbytes, first)
        bits = np.unpackbits(packed, bitorder="little")
        return bits[skip_bits:skip_bits + count]
    if _needs_pair_swap(info):
        lo = first - (first & 1)
        hi = first + nbytes
        hi += hi & 1
        avail = min(hi, len(buf))
        raw = np.frombuffer(buf, np.uint8, avail - lo, lo)
        if (avail - lo) & 1:  # a missing padding byte at the very end
            raw = np.concatenate([raw, np.zeros(1, np.uint8)])
        swapped = raw.reshape(-1, 2)[:, ::-1].reshape(-1)
        return swapped[first - lo:first - lo + nbytes]
    return np.frombuffer(buf, _stored_dtype(info), nbytes // _stored_dtype(info).itemsize, first)


def _expand_ybr422(arr: np.ndarray) -> np.ndarray:
    """Y1 Y2 Cb Cr -> Y1 Cb Cr Y2 Cb Cr (PS3.3 C.7.6.3.1.2)."""
    n = arr.shape[0] // 4
    out = np.empty((n, 2, 3), dtype=arr.dtype)
    quads = arr[: n * 4].reshape(n, 4)
    out[:, 0, 0] = quads[:, 0]
    out[:, 1, 0] = quads[:, 1]
    out[:, :, 1] = quads[:, 2:3]
    out[:, :, 2] = quads[:, 3:4]
    return out.reshape(-1)


def fits_bits_stored(arr: np.ndarray, info: PixelInfo) -> bool:
    """Whether the samples of ``arr`` already are what masking (unsigned) or
    sign extension (signed) to Bits Stored gives: a read-only scan in one
    pass (compiled, GIL released), no copy."""
    bs = info.bits_stored
    if info.pixel_representation:
        lo, hi = -(1 << (bs - 1)), (1 << (bs - 1)) - 1
    else:
        lo, hi = 0, (1 << bs) - 1
    if not arr.size:
        return True
    flags = arr.flags
    if flags.c_contiguous and flags.aligned and arr.dtype.isnative and \
            arr.dtype.kind in "iu" and bs < arr.dtype.itemsize * 8:
        return _core.samples_fit(arr, arr.dtype.itemsize, lo, hi)
    return int(arr.min()) >= lo and int(arr.max()) <= hi


def correct_unused_bits(arr: np.ndarray, bits_allocated: int, bits_stored: int) -> np.ndarray:
    """Mask (unsigned) or sign-extend (signed) samples to ``bits_stored`` bits,
    in place when ``arr`` is writable and native-endian, else into a new array."""
    shift = bits_allocated - bits_stored
    if shift <= 0:
        return arr
    if arr.flags.writeable and arr.dtype.isnative:
        np.left_shift(arr, shift, out=arr)
    else:
        out = np.empty(arr.shape, arr.dtype.newbyteorder("="))
        np.left_shift(arr, shift, out=out)
        arr = out
    np.right_shift(arr, shift, out=arr)
    return arr


def ybr_full_to_rgb(arr: np.ndarray) -> np.ndarray:
    """YBR_FULL (or upsampled YBR_FULL_422) 8-bit samples to RGB, computed as
    pydicom computes it (float32, round half up, clipped to 0..255)."""
    if arr.dtype != np.uint8:
        raise PixelDataError(
            f"Invalid ndarray.dtype '{arr.dtype}' for color space conversion, must be "
            "'uint8' or an equivalent"
        )
    work = arr.astype(np.float32)
    work -= _YBR_OFFSET
    work = np.matmul(work, _YBR_TO_RGB)
    work += 0.5
    np.floor(work, out=work)
    np.clip(work, 0, 255, out=work)
    return work.astype(np.uint8)


def apply_color_space(arr: np.ndarray, photometric_interpretation: str) -> np.ndarray:
    """pydicom's default processing (``as_rgb=True``): YBR_FULL and
    YBR_FULL_422 become RGB; anything else is returned unchanged."""
    if photometric_interpretation in _YBR:
        return ybr_full_to_rgb(arr)
    return arr


def decode_native(info: PixelInfo, buf: Any, index: int | None = None,
                  layout: NativeLayout | None = None, owned: bool = False) -> np.ndarray:
    """The writable array of native pixel data ``buf`` (bytes-like; all frames,
    or the frame ``index``), shaped and converted as pydicom's ``pixel_array``.
    ``owned``: ``buf`` is a writable array of the caller's, that the result may
    view and that may be changed in place (no copy)."""
    if layout is None:
        layout = native_layout(info, len(buf))
    frames = layout.frames
    if index is None:
        nbits = layout.frame_bits * frames
        first, nbytes, skip = 0, -(-nbits // 8), 0
        shape_frames: int | None = frames if frames > 1 else None
        count = info.frame_pixels * frames
    else:
        index = layout.check_index(index)
        first, nbytes, skip = layout.frame_span(index)
        shape_frames = None
        count = info.frame_pixels
    if info.photometric_interpretation == "YBR_FULL_422":
        count = count // 3 * 2
    nbytes = min(nbytes, len(buf) - first)  # odd-length data without its padding byte
    arr = _raw_samples(info, buf, first, nbytes, skip, count)
    # a view of ``buf`` until some step makes a new array: never written in place
    fresh = owned or info.bits_allocated == 1 or _needs_pair_swap(info)
    pi = info.photometric_interpretation
    if pi == "YBR_FULL_422":
        arr = _expand_ybr422(arr)
        fresh = True
        pi = "YBR_FULL"
    arr = _reshape(arr, info, shape_frames)
    if info.pixel_keyword == "PixelData" and info.bits_allocated > info.bits_stored > 0:
        if not fresh:
            # one copy (and byte swap), then a check of the copy while it is
            # in cache: samples usually need no masking, and then this is
            # cheaper than copying through two shifts
            arr = np.array(arr, dtype=arr.dtype.newbyteorder("="), order="C")
            fresh = True
        if not fits_bits_stored(arr, info):
            arr = correct_unused_bits(arr, info.bits_allocated, info.bits_stored)
    if pi in _YBR:
        arr = ybr_full_to_rgb(arr)
        fresh = True
    if not arr.dtype.isnative:
        return arr.astype(arr.dtype.newbyteorder("="), order="C")
    if not fresh:
        return np.array(arr, order="C")
    if not arr.flags.c_contiguous:
        return np.ascontiguousarray(arr)
    return arr


def read_native_direct(info: PixelInfo, tokens: Any, index: int) -> np.ndarray | None:
    """:func:`decode_native` of the pixel data value ``index`` of ``tokens``
    still in the file, for the common layouts: read (pread, GIL released)
    straight into the result array, then checked in place against Bits
    Stored. None when the layout needs more (bit unpacking, byte swapping,
    colour conversion, planar configuration 1, a length that is not the
    expected one): the caller takes the general path."""
    ba = info.bits_allocated
    if ba not in (8, 16, 32, 64) or not _LITTLE or needs_conversion(info) or \
            (info.samples_per_pixel > 1 and info.planar_configuration == 1):
        return None
    dtype = info.dtype
    if dtype.itemsize * 8 != ba:  # Float Pixel Data with another Bits Allocated: refused there
        return None
    frames = info.number_of_frames
    nbytes = info.frame_pixels * frames * (ba // 8)
    length = tokens.value_length(index)
    if nbytes <= 0 or not (length == nbytes or (length == nbytes + 1 and nbytes % 2)):
        return None  # other lengths: the general path (its errors, warnings, extra frames)
    shape, _planar = _shape(info, frames if frames > 1 else None)
    arr = np.empty(shape, dtype)
    if tokens.read_outside(index, arr, 0, nbytes) is None:
        return None  # mapped meanwhile
    if info.pixel_keyword == "PixelData" and ba > info.bits_stored > 0 and \
            not fits_bits_stored(arr, info):
        arr = correct_unused_bits(arr, ba, info.bits_stored)
    return arr


_LITTLE = np.little_endian


def needs_conversion(info: PixelInfo) -> str | None:
    """Why the stored samples cannot be viewed as the decoded array (None: they can,
    but for unused high bits, checked on the data by :func:`native_view_array`)."""
    if info.is_encapsulated:
        return "the pixel data is compressed (encapsulated)"
    if info.bits_allocated == 1:
        return "1-bit pixel data must be unpacked"
    if not info.little_endian and info.bits_allocated > 8:
        return "big endian pixel data must be byte swapped"
    if _needs_pair_swap(info):
        return "big endian 8-bit OW pixel data must be byte swapped"
    if info.photometric_interpretation in _YBR:
        return f"{info.photometric_interpretation} pixel data is converted to RGB"
    return None


def native_view_array(info: PixelInfo, buf: Any, index: int | None = None,
                      layout: NativeLayout | None = None) -> np.ndarray:
    """A read-only zero-copy view of native pixel data equal to what
    :func:`decode_native` returns, or :class:`PixelDataError` when a
    conversion is needed. With Bits Stored < Bits Allocated the samples are
    checked (a read-only scan, no copy) to need no masking/sign extension."""
    why = needs_conversion(info)
    if why:
        raise PixelDataError(f"no zero-copy view of this pixel data: {why}; use pixel_array()")
    if layout is None:
        layout = native_layout(info, len(buf))
    frames = layout.frames
    dtype = _stored_dtype(info)
    if index is None:
        first = 0
        count = info.frame_pixels * frames
        shape_frames: int | None = frames if frames > 1 else None
    else:
        index = layout.check_index(index)
        first = layout.frame_span(index)[0]
        count = info.frame_pixels
        shape_frames = None
    arr = np.frombuffer(buf, dtype, count, first)
    if info.pixel_keyword == "PixelData" and info.bits_allocated > info.bits_stored:
        if not fits_bits_stored(arr, info):
            raise PixelDataError(
                "no zero-copy view of this pixel data: samples use bits above Bits Stored "
                f"({info.bits_stored} of {info.bits_allocated}) and must be masked; use "
                "pixel_array()"
            )
    arr = _reshape(arr, info, shape_frames)
    arr.flags.writeable = False
    return arr
