"""Colour space conversion between RGB and YBR_FULL / YBR_FULL_422 (PS3.3
C.7.6.3.1.2, ITU-T T.871 section 7), with pydicom's rounding.

The arithmetic is float32, ``floor(x + 0.5)`` then clamped to 0..255, so the
results are bit-equal to pydicom's ``convert_color_space`` (the same matrices,
in float32, through the same ``numpy.matmul``).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["convert_color_space"]

# T.871 (7-1): Y = 0.299 R + 0.587 G + 0.114 B, Cb and Cr scaled differences
# from Y; as a matrix to right-multiply rows of (R, G, B).
_RGB_TO_YBR = np.array(
    [
        [0.299, -0.299 / 1.772, 0.701 / 1.402],
        [0.587, -0.587 / 1.772, -0.587 / 1.402],
        [0.114, 0.886 / 1.772, -0.114 / 1.402],
    ],
    dtype=np.float32,
)
# T.871 (7-3): the inverse, applied to (Y, Cb - 128, Cr - 128).
_YBR_TO_RGB = np.array(
    [
        [1.0, 1.0, 1.0],
        [0.0, -0.114 * 1.772 / 0.587, 1.772],
        [1.402, -0.299 * 1.402 / 0.587, 0.0],
    ],
    dtype=np.float32,
)
# the offsets, with the 0.5 of round-half-up folded in for the forward direction
_YBR_OFFSET = np.array([0.5, 128.5, 128.5])
_CHROMA_OFFSET = np.array([0, 128, 128])


def _to_uint8(values: np.ndarray) -> np.ndarray:
    """floor (the 0.5 already added), clamp to 0..255, as uint8."""
    np.floor(values, out=values)
    np.clip(values, 0, 255, out=values)
    return values.astype(np.uint8)


def _rgb_to_ybr_full(arr: np.ndarray) -> np.ndarray:
    values = np.matmul(arr, _RGB_TO_YBR, dtype=np.float32)
    values += _YBR_OFFSET
    return _to_uint8(values)


def _ybr_full_to_rgb(arr: np.ndarray) -> np.ndarray:
    values = arr.astype(np.float32)
    values -= _CHROMA_OFFSET
    np.matmul(values, _YBR_TO_RGB, out=values)
    values += 0.5
    return _to_uint8(values)


def _unchanged(arr: np.ndarray) -> np.ndarray:
    return arr


# YBR_FULL_422 arrays are already upsampled to full resolution by decoding, so
# they convert as YBR_FULL.
_CONVERTERS: dict[tuple[str, str], Callable[[np.ndarray], np.ndarray]] = {
    ("RGB", "RGB"): _unchanged,
    ("RGB", "YBR_FULL"): _rgb_to_ybr_full,
    ("RGB", "YBR_FULL_422"): _rgb_to_ybr_full,
    ("YBR_FULL", "RGB"): _ybr_full_to_rgb,
    ("YBR_FULL", "YBR_FULL"): _unchanged,
    ("YBR_FULL", "YBR_FULL_422"): _unchanged,
    ("YBR_FULL_422", "RGB"): _ybr_full_to_rgb,
    ("YBR_FULL_422", "YBR_FULL"): _unchanged,
    ("YBR_FULL_422", "YBR_FULL_422"): _unchanged,
}


def convert_color_space(arr: np.ndarray, current: str, desired: str,
                        per_frame: bool = False) -> np.ndarray:
    """Convert 8-bit colour pixels (shape ``(rows, columns, 3)`` or
    ``(frames, rows, columns, 3)``) from `current` to `desired`, each one of
    ``RGB``, ``YBR_FULL`` and ``YBR_FULL_422``.

    With `per_frame` a multi-frame `arr` is converted frame by frame in place
    (and returned); otherwise a new array is returned (or `arr` itself when
    nothing changes). YBR_RCT and YBR_ICT, like the partial YBR spaces, are
    not supported (as in pydicom: the JPEG 2000 decoder undoes RCT/ICT)."""
    if arr.dtype != np.dtype("u1"):
        raise ValueError(
            f"Invalid ndarray.dtype '{arr.dtype}' for color space conversion, must be "
            "'uint8' or an equivalent"
        )
    try:
        converter = _CONVERTERS[(current, desired)]
    except (KeyError, TypeError):
        raise NotImplementedError(
            f"Conversion from {current} to {desired} is not supported."
        ) from None
    if per_frame and arr.ndim == 4:
        if converter is not _unchanged:
            for frame in range(arr.shape[0]):
                arr[frame] = converter(arr[frame])
        return arr
    return converter(arr)
