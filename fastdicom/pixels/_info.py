"""Description of a dataset's pixel data (:class:`PixelInfo`) and the pixel errors.

:class:`PixelInfo` is what the native decoder, the frame accessors and the
codecs (``fastdicom.pixels.codecs``) share: the Image Pixel module values,
read and validated once, as pydicom 3 reads and validates them
(``pydicom.pixels.common.RunnerBase._validate_options``), but raising
:mod:`fastdicom.errors` exceptions.

Contract with ``codecs.decode_frame(ts, data, info)``: ``data`` is one
encoded frame (bytes-like, possibly a zero-copy memoryview of the file);
``info`` a :class:`PixelInfo`; the result is that frame's pixels.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from fastdicom.errors import InvalidDicomError

__all__ = [
    "PixelInfo",
    "PixelDataError",
    "MissingPixelElementError",
    "UnsupportedPixelDataError",
    "UnsupportedTransferSyntaxError",
    "NATIVE_TRANSFER_SYNTAXES",
    "ENCAPSULATED_TRANSFER_SYNTAXES",
    "PIXEL_TAGS",
]


class PixelDataError(InvalidDicomError):
    """The pixel data, or the Image Pixel module describing it, is invalid
    (wrong length, impossible sizes, bad offset tables, fragments...)."""


class MissingPixelElementError(PixelDataError, AttributeError):
    """A required Image Pixel element (or the pixel data itself) is missing.
    Also an ``AttributeError``, the exception pydicom raises there."""


class UnsupportedPixelDataError(PixelDataError, NotImplementedError):
    """Valid pixel data this library cannot decode (e.g. 24-bit samples, which
    no numpy integer type holds). Also a ``NotImplementedError``, the
    exception pydicom raises there."""


class UnsupportedTransferSyntaxError(UnsupportedPixelDataError):
    """No decoder for this transfer syntax (unknown, or its codec unavailable)."""


#: Uncompressed transfer syntaxes: the pixel data is the element value itself.
NATIVE_TRANSFER_SYNTAXES = frozenset({
    "1.2.840.10008.1.2",        # Implicit VR Little Endian
    "1.2.840.10008.1.2.1",      # Explicit VR Little Endian
    "1.2.840.10008.1.2.1.99",   # Deflated Explicit VR Little Endian
    "1.2.840.10008.1.2.2",      # Explicit VR Big Endian
})

#: Encapsulated transfer syntaxes pydicom 3 decodes (ours go through ``codecs``).
ENCAPSULATED_TRANSFER_SYNTAXES = frozenset({
    "1.2.840.10008.1.2.4.50",   # JPEG Baseline 8-bit
    "1.2.840.10008.1.2.4.51",   # JPEG Extended 12-bit
    "1.2.840.10008.1.2.4.57",   # JPEG Lossless P14
    "1.2.840.10008.1.2.4.70",   # JPEG Lossless SV1
    "1.2.840.10008.1.2.4.80",   # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.81",   # JPEG-LS Near Lossless
    "1.2.840.10008.1.2.4.90",   # JPEG 2000 Lossless
    "1.2.840.10008.1.2.4.91",   # JPEG 2000
    "1.2.840.10008.1.2.4.201",  # HTJ2K Lossless
    "1.2.840.10008.1.2.4.202",  # HTJ2K Lossless RPCL
    "1.2.840.10008.1.2.4.203",  # HTJ2K
    "1.2.840.10008.1.2.5",      # RLE Lossless
})

#: (tag, keyword) of the three pixel data elements
PIXEL_TAGS = (
    (0x7FE00010, "PixelData"),
    (0x7FE00008, "FloatPixelData"),
    (0x7FE00009, "DoubleFloatPixelData"),
)

_BIG_ENDIAN_TS = "1.2.840.10008.1.2.2"
_PHOTOMETRIC = frozenset({
    "MONOCHROME1", "MONOCHROME2", "PALETTE COLOR", "RGB", "YBR_FULL", "YBR_FULL_422",
    "YBR_ICT", "YBR_RCT", "HSV", "ARGB", "CMYK", "YBR_PARTIAL_422", "YBR_PARTIAL_420",
})
_MISSING = "Missing required element: "


def _first(value: Any) -> Any:
    if type(value) is int:  # the usual US value: nothing to unwrap
        return value
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return value[0] if len(value) else None
    return value


def element_getter(ds: Any) -> Any:
    """A fast ``tag -> element or None`` lookup for ``ds`` (the compiled
    ``_lookup`` of fastdicom datasets, else ``ds.get``)."""
    lookup = getattr(ds, "_lookup", None)
    return lookup if lookup is not None else ds.get


def _elem_value(get: Any, tag: int) -> Any:
    elem = get(tag)
    if elem is None:
        return None
    try:
        return _first(elem.value)
    except InvalidDicomError:
        raise
    except Exception as exc:  # a value that cannot be decoded
        raise PixelDataError(f"cannot read element ({tag >> 16:04X},{tag & 0xFFFF:04X}): {exc}") from None


def _as_int(value: Any, what: str) -> int | None:
    if type(value) is int:
        return value
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PixelDataError(f"{what} value {value!r} is not an integer") from None


def transfer_syntax_of(ds: Any) -> str:
    """The dataset's Transfer Syntax UID (file meta, as pydicom; else the
    ``transfer_syntax_uid`` fastdicom records when reading)."""
    meta = getattr(ds, "file_meta", None)
    ts = None
    if meta is not None:
        try:
            elem = element_getter(meta)(0x00020010)
        except Exception:
            elem = None
        if elem is not None:
            ts = elem.value
    if not ts:
        ts = getattr(ds, "transfer_syntax_uid", None)
    if not ts:
        raise MissingPixelElementError(
            "Unable to decode the pixel data as the dataset's 'file_meta' has no "
            "(0002,0010) 'Transfer Syntax UID' element"
        )
    return str(ts).rstrip("\x00 ")


@dataclasses.dataclass(frozen=True)
class PixelInfo:
    """The Image Pixel module values that describe a dataset's pixel data.

    ``planar_configuration`` is the dataset's value (required, as pydicom,
    with three samples per pixel; 0 with one); ``bits_stored`` equals ``bits_allocated`` and
    ``pixel_representation`` is 0 for Float/Double Float Pixel Data;
    ``number_of_frames`` is at least 1 (absent, empty or 0 read as 1, as
    pydicom); ``little_endian`` is False only for Explicit VR Big Endian.
    """

    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    planar_configuration: int
    photometric_interpretation: str
    number_of_frames: int
    transfer_syntax_uid: str
    little_endian: bool = True
    #: "PixelData", "FloatPixelData" or "DoubleFloatPixelData"
    pixel_keyword: str = "PixelData"
    #: VR of the pixel data element ("OB", "OW", "OF", "OD")
    pixel_vr: str = "OW"

    # -- derived ----------------------------------------------------------------------
    @property
    def is_encapsulated(self) -> bool:
        """Whether the transfer syntax encapsulates (compresses) the pixel data."""
        return self.transfer_syntax_uid not in NATIVE_TRANSFER_SYNTAXES

    @property
    def frame_pixels(self) -> int:
        """Samples in one frame: rows x columns x samples per pixel."""
        return self.rows * self.columns * self.samples_per_pixel

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """Shape of one decoded frame: (rows, columns) or (rows, columns, samples)."""
        if self.samples_per_pixel == 1:
            return (self.rows, self.columns)
        return (self.rows, self.columns, self.samples_per_pixel)

    @property
    def frame_bits(self) -> int:
        """Bits of one native frame as stored (YBR_FULL_422 subsampled: 2/3)."""
        bits = self.frame_pixels * self.bits_allocated
        if self.photometric_interpretation == "YBR_FULL_422" and not self.is_encapsulated:
            bits = (self.frame_pixels // 3 * 2) * self.bits_allocated
        return bits

    @property
    def frame_nbytes(self) -> int:
        """Bytes of one decoded frame (1-bit data: unpacked to one byte a pixel)."""
        item = 1 if self.bits_allocated == 1 else self.bits_allocated // 8
        return self.frame_pixels * item

    @property
    def dtype(self) -> Any:
        """The numpy dtype of the decoded array (native byte order), as pydicom
        chooses it: float32/float64 for Float/Double Float Pixel Data, uint8
        for 1-bit data, else (u|i)(bits_allocated // 8)."""
        import numpy as np

        if self.pixel_keyword == "FloatPixelData":
            return np.dtype("float32")
        if self.pixel_keyword == "DoubleFloatPixelData":
            return np.dtype("float64")
        if self.bits_allocated == 1:
            return np.dtype("uint8")
        kind = "ui"[self.pixel_representation]
        try:
            return np.dtype(f"{kind}{self.bits_allocated // 8}")
        except TypeError:
            raise UnsupportedPixelDataError(
                f"no numpy integer type holds {self.bits_allocated}-bit pixels"
            ) from None

    def replace(self, **changes: Any) -> "PixelInfo":
        """A copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_dataset(cls, ds: Any, validate: bool = True) -> "PixelInfo":
        """Read (and by default validate, as pydicom does) the Image Pixel
        module of ``ds``. Raises :class:`MissingPixelElementError` for a
        missing element, :class:`PixelDataError` for an invalid value and
        :class:`UnsupportedTransferSyntaxError` for an unknown syntax."""
        ts = transfer_syntax_of(ds)
        if validate and ts not in NATIVE_TRANSFER_SYNTAXES and ts not in ENCAPSULATED_TRANSFER_SYNTAXES:
            raise UnsupportedTransferSyntaxError(
                f"No pixel data decoders have been implemented for transfer syntax '{ts}'"
            )
        get = element_getter(ds)
        present = [(tag, kw) for tag, kw in PIXEL_TAGS if get(tag) is not None]
        if not present:
            raise MissingPixelElementError(
                "The dataset has no 'Pixel Data', 'Float Pixel Data' or 'Double Float "
                "Pixel Data' element, no pixel data to decode"
            )
        if len(present) != 1:
            raise PixelDataError(
                "One and only one of 'Pixel Data', 'Float Pixel Data' or 'Double Float "
                "Pixel Data' may be present in the dataset"
            )
        tag, keyword = present[0]
        vr = get(tag).VR
        if ts in ENCAPSULATED_TRANSFER_SYNTAXES and keyword != "PixelData":
            keyword = "PixelData"  # pydicom: encapsulated data is always Pixel Data

        g = lambda t, name: _as_int(_elem_value(get, t), name)  # noqa: E731
        rows = g(0x00280010, "(0028,0010) 'Rows'")
        columns = g(0x00280011, "(0028,0011) 'Columns'")
        spp = g(0x00280002, "(0028,0002) 'Samples per Pixel'")
        planar = g(0x00280006, "(0028,0006) 'Planar Configuration'")
        ba = g(0x00280100, "(0028,0100) 'Bits Allocated'")
        bs = g(0x00280101, "(0028,0101) 'Bits Stored'")
        pr = g(0x00280103, "(0028,0103) 'Pixel Representation'")
        frames = g(0x00280008, "(0028,0008) 'Number of Frames'")
        pi = _elem_value(get, 0x00280004)
        pi = str(pi).strip() if pi is not None else None
        if not frames:  # absent, empty or 0: one frame (pydicom warns for 0)
            frames = 1
        floating = keyword != "PixelData"

        if validate:
            if ba is None:
                raise MissingPixelElementError(_MISSING + "(0028,0100) 'Bits Allocated'")
            if not 1 <= ba <= 64 or (ba != 1 and ba % 8):
                raise PixelDataError(
                    f"A (0028,0100) 'Bits Allocated' value of '{ba}' is invalid, it must be "
                    "1 or a multiple of 8 and in the range (1, 64)"
                )
            if not floating:
                if bs is None:
                    raise MissingPixelElementError(_MISSING + "(0028,0101) 'Bits Stored'")
                if not 1 <= bs <= ba:
                    raise PixelDataError(
                        f"A (0028,0101) 'Bits Stored' value of '{bs}' is invalid, it must be "
                        "in the range (1, 64) and no greater than the (0028,0100) "
                        f"'Bits Allocated' value of '{ba}'"
                    )
            if columns is None:
                raise MissingPixelElementError(_MISSING + "(0028,0011) 'Columns'")
            if not 0 < columns <= 0xFFFF:
                raise PixelDataError(
                    f"A (0028,0011) 'Columns' value of '{columns}' is invalid, it must be "
                    "in the range (1, 65535)"
                )
            if frames < 1:
                raise PixelDataError(
                    f"A (0028,0008) 'Number of Frames' value of '{frames}' is invalid, it "
                    "must be greater than or equal to 1"
                )
            if pi is None:
                raise MissingPixelElementError(_MISSING + "(0028,0004) 'Photometric Interpretation'")
            if pi not in _PHOTOMETRIC:
                raise PixelDataError(f"Unknown (0028,0004) 'Photometric Interpretation' value '{pi}'")
            if not floating:
                if pr is None:
                    raise MissingPixelElementError(_MISSING + "(0028,0103) 'Pixel Representation'")
                if pr not in (0, 1):
                    raise PixelDataError(
                        f"A (0028,0103) 'Pixel Representation' value of '{pr}' is invalid, "
                        "it must be 0 or 1"
                    )
            if rows is None:
                raise MissingPixelElementError(_MISSING + "(0028,0010) 'Rows'")
            if not 0 < rows <= 0xFFFF:
                raise PixelDataError(
                    f"A (0028,0010) 'Rows' value of '{rows}' is invalid, it must be in the "
                    "range (1, 65535)"
                )
            if spp is None:
                raise MissingPixelElementError(_MISSING + "(0028,0002) 'Samples per Pixel'")
            if spp not in (1, 3):
                raise PixelDataError(
                    f"A (0028,0002) 'Samples per Pixel' value of '{spp}' is invalid, it "
                    "must be 1 or 3"
                )
            if spp == 3:
                if planar is None:
                    raise MissingPixelElementError(_MISSING + "(0028,0006) 'Planar Configuration'")
                if planar not in (0, 1):
                    raise PixelDataError(
                        f"A (0028,0006) 'Planar Configuration' value of '{planar}' is "
                        "invalid, it must be 0 or 1"
                    )
        if floating:
            bs = ba if bs is None else bs
            pr = 0
        info = object.__new__(cls)  # the fields set at once (a frozen dataclass' __init__ is slow)
        info.__dict__.update(
            rows=rows or 0,
            columns=columns or 0,
            samples_per_pixel=spp or 1,
            bits_allocated=ba or 0,
            bits_stored=bs or 0,
            pixel_representation=pr or 0,
            planar_configuration=(planar or 0) if (spp or 1) > 1 else 0,
            photometric_interpretation=pi or "",
            number_of_frames=frames,
            transfer_syntax_uid=ts,
            little_endian=ts != _BIG_ENDIAN_TS,
            pixel_keyword=keyword,
            pixel_vr=vr,
        )
        return info
