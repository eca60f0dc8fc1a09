"""Exceptions of the DICOM network layer (h11 style).

A :class:`LocalProtocolError` means *we* were asked to do something the
protocol does not allow (encode an AE title of 17 characters, an even
presentation context ID, ...); a :class:`RemoteProtocolError` means the peer
sent bytes that break the protocol. Remote errors found in the data carry the
byte ``offset`` where reading went wrong (in the received stream for
:class:`fastdicom._core.PDUReader`, in the PDU for ``decode``) and the A-ABORT
reason (PS3.8 Table 9-26) that fits as ``abort_reason``.
"""
from __future__ import annotations

from fastdicom.errors import DicomError

__all__ = [
    "NetworkError",
    "ProtocolError",
    "LocalProtocolError",
    "RemoteProtocolError",
    "UnknownPDUError",
    "PDUTooLargeError",
    "MalformedPDUError",
    "AssociationRejected",
    "AssociationAborted",
    "AssociationClosed",
    "NetworkTimeout",
]


class NetworkError(DicomError):
    """Base class of every error of the network layer."""


class ProtocolError(NetworkError):
    """A violation of the DICOM Upper Layer protocol (PS3.8)."""

    def __init__(self, message: str, offset: int | None = None, status: int | None = None) -> None:
        super().__init__(message, offset)
        self.detail = message
        #: status code of the C layer (csrc/fd_pdu.h) when it found the problem
        self.status = status


class LocalProtocolError(ProtocolError):
    """We tried to send something the protocol does not allow."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol does not allow."""

    #: A-ABORT reason/diag to send in reply (2 = service-provider source)
    abort_reason = 0  # reason-not-specified

    def rebased(self, delta: int) -> RemoteProtocolError:
        """The same error with its offset moved by ``delta`` (PDU -> stream)."""
        off = None if self.offset is None else self.offset + delta
        return type(self)(self.detail, off, self.status)


class UnknownPDUError(RemoteProtocolError):
    """The PDU type byte is not one of the seven PDU types."""

    abort_reason = 1  # unrecognized-PDU


class PDUTooLargeError(RemoteProtocolError):
    """The PDU-length is above the maximum we accept (refused from the header,
    before anything is buffered)."""

    abort_reason = 6  # invalid-PDU-parameter-value


class MalformedPDUError(RemoteProtocolError):
    """A length, item or field of a PDU is invalid."""

    abort_reason = 6  # invalid-PDU-parameter-value


class AssociationRejected(NetworkError):
    """The peer answered with A-ASSOCIATE-RJ (PS3.8 Table 9-21)."""

    def __init__(self, result: int, source: int, reason: int, message: str | None = None) -> None:
        self.result = result
        self.source = source
        self.reason = reason
        super().__init__(message or f"association rejected (result {result}, source {source}, reason {reason})")


class AssociationAborted(NetworkError):
    """The association was aborted (A-ABORT, PS3.8 Table 9-26)."""

    def __init__(self, source: int, reason: int, message: str | None = None) -> None:
        self.source = source
        self.reason = reason
        super().__init__(message or f"association aborted (source {source}, reason {reason})")


class AssociationClosed(NetworkError):
    """The connection closed (or the association ended) before the operation completed."""


class NetworkTimeout(NetworkError, TimeoutError):
    """No answer from the peer within the timeout (ACSE, DIMSE or idle)."""
