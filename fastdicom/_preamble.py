"""The 128-byte preamble of a DICOM file: is it an executable's header?

PS3.10 7.5 lets the preamble hold anything, so a file can be both a valid
DICOM file and a valid program (a "polyglot": PE/DOS, ELF, Mach-O headers fit
in 128 bytes), a known way to carry malware into archives. fastdicom's writer
never copies such a preamble unless asked to; the reader can warn about one.
Kept free of heavy imports so the reader can use it.
"""
from __future__ import annotations

from typing import Any

__all__ = ["EXECUTABLE_MAGIC", "preamble_is_executable"]

#: Magic numbers of executables: PE/DOS (MZ), ELF, Mach-O (32/64 bit, both
#: byte orders) and Mach-O universal (fat) binaries.
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf",
                    b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe",
                    b"\xbe\xba\xfe\xca", b"\xca\xfe\xba\xbf")


def preamble_is_executable(preamble: Any) -> bool:
    """True if ``preamble`` (bytes-like or None) starts like an executable:
    PE/DOS ``MZ``, ELF, Mach-O."""
    if not preamble:
        return False
    return bytes(preamble[:4]).startswith(EXECUTABLE_MAGIC)
