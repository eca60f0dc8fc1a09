"""UIDs of the transfer syntaxes and their encoding properties.

(The full UID dictionary arrives with the dataset layer; this module holds what
the file layer needs to choose an encoding.)
"""
from __future__ import annotations

from typing import NamedTuple

ImplicitVRLittleEndian = "1.2.840.10008.1.2"
ExplicitVRLittleEndian = "1.2.840.10008.1.2.1"
EncapsulatedUncompressedExplicitVRLittleEndian = "1.2.840.10008.1.2.1.98"
DeflatedExplicitVRLittleEndian = "1.2.840.10008.1.2.1.99"
ExplicitVRBigEndian = "1.2.840.10008.1.2.2"
JPIPReferencedDeflate = "1.2.840.10008.1.2.4.95"
JPIPHTJ2KReferencedDeflate = "1.2.840.10008.1.2.4.205"


class Encoding(NamedTuple):
    """How a dataset is encoded."""

    implicit_vr: bool
    little_endian: bool
    deflated: bool = False


_NATIVE = {
    ImplicitVRLittleEndian: Encoding(True, True),
    ExplicitVRLittleEndian: Encoding(False, True),
    ExplicitVRBigEndian: Encoding(False, False),
    DeflatedExplicitVRLittleEndian: Encoding(False, True, True),
    JPIPReferencedDeflate: Encoding(False, True, True),
    JPIPHTJ2KReferencedDeflate: Encoding(False, True, True),
}


def encoding_for_transfer_syntax(uid: str) -> Encoding:
    """Encoding of the dataset for transfer syntax ``uid``.

    Every transfer syntax not listed (the compressed ones, and unknown ones)
    encodes its dataset as explicit VR little endian.
    """
    return _NATIVE.get(uid, Encoding(False, True))
