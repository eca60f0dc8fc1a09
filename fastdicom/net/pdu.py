"""PDUs of the DICOM Upper Layer protocol (PS3.8 9.3); their items and the
protocol's constants are in :mod:`fastdicom.net.items` (re-exported here).

Each PDU is a dataclass with ``encode() -> bytes`` and a classmethod
``decode(data)``; :func:`decode_pdu` decodes any PDU. The PDVs of P-DATA-TF
PDUs are walked in C (bounds checked). Bad input raises a ``RemoteProtocolError``
subclass with the offset in the PDU; what cannot be encoded, ``LocalProtocolError``.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

from fastdicom import _core
from fastdicom.net.errors import LocalProtocolError, MalformedPDUError, UnknownPDUError
from fastdicom.net.items import *  # noqa: F401,F403 - re-exported
from fastdicom.net.items import __all__ as _ITEM_NAMES
from fastdicom.net.items import (  # noqa: F401
    APPLICATION_CONTEXT_NAME,
    AbortReason,
    AbortSource,
    ApplicationContextItem,
    Item,
    PresentationContextACItem,
    PresentationContextRQItem,
    REJECT_REASONS,
    REJECT_USER_NO_REASON,
    RejectResult,
    RejectSource,
    UserInformationItem,
    _PDU_HDR,
    _build,
    _check_context_id,
    _dec_text,
    _enc_ae,
    _need,
)

__all__ = list(_ITEM_NAMES) + [
    "PDV", "AAssociateRQ", "AAssociateAC", "AAssociateRJ", "PDataTF", "AReleaseRQ",
    "AReleaseRP", "AAbort", "decode_pdu", "encode_pdata", "PDUReader",
]

PDUReader = _core.PDUReader


def _pdu(pdu_type: int, body: bytes) -> bytes:
    if len(body) > 0xFFFFFFFE:
        raise LocalProtocolError("PDU longer than 0xFFFFFFFE bytes")
    return _PDU_HDR.pack(pdu_type, 0, len(body)) + body


def _whole(data: Any, pdu_type: int, fixed: int | None = None) -> Any:
    """``data`` as a bytes-like holding exactly one PDU of ``pdu_type``."""
    view = data if isinstance(data, bytes) else memoryview(data).cast("B")
    if len(view) < 6:
        raise MalformedPDUError("data ends inside the PDU header", len(view))
    if view[0] != pdu_type:
        raise UnknownPDUError(f"PDU type 0x{view[0]:02X} where 0x{pdu_type:02X} was expected", 0)
    length = struct.unpack_from(">L", view, 2)[0]
    _need(length <= len(view) - 6, "data ends inside the PDU", 2)
    _need(length == len(view) - 6, "bytes after the end of the PDU", 6 + length)
    _need(fixed is None or length == fixed, f"PDU length is not {fixed}", 2)
    return view


@dataclass(slots=True)
class _Associate:
    """Fields and code shared by A-ASSOCIATE-RQ and -AC."""
    pdu_type: ClassVar[int] = 0
    _context_cls: ClassVar[type] = Item
    called_ae_title: str = "ANY-SCP"
    calling_ae_title: str = "ANY-SCU"
    presentation_contexts: list = field(default_factory=list)
    user_information: UserInformationItem | None = None
    application_context: str | None = APPLICATION_CONTEXT_NAME
    protocol_version: int = 1
    other_items: list[Item] = field(default_factory=list)

    def encode(self) -> bytes:
        try:
            head = struct.pack(">HH", self.protocol_version, 0)
        except struct.error as exc:
            raise LocalProtocolError(f"protocol version: {exc}") from None
        parts = [head, _enc_ae(self.called_ae_title, "called AE title"),
                 _enc_ae(self.calling_ae_title, "calling AE title"),
                 bytes(32)]
        if self.application_context is not None:
            parts.append(ApplicationContextItem(self.application_context).encode())
        for pc in self.presentation_contexts:
            if not isinstance(pc, self._context_cls):
                raise LocalProtocolError(f"{type(self).__name__} takes {self._context_cls.__name__} items")
            parts.append(pc.encode())
        if self.user_information is not None:
            parts.append(self.user_information.encode())
        parts.extend(item.encode() for item in self.other_items)
        return _pdu(self.pdu_type, b"".join(parts))

    @classmethod
    def decode(cls, data: Any) -> Any:
        view = _whole(data, cls.pdu_type)
        table = _core.pdu_items(view)
        known = {0x10: ApplicationContextItem, 0x50: UserInformationItem,
                 cls._context_cls.item_type: cls._context_cls}
        pdu = cls(_dec_text(view[10:26]).strip(), _dec_text(view[26:42]).strip(),
                  protocol_version=struct.unpack_from(">H", view, 6)[0], application_context=None)
        offsets = [e[1] for e in table if e[4] < 0]
        for item, off in zip(_build(view, table, known), offsets):
            if isinstance(item, ApplicationContextItem):
                _need(pdu.application_context is None, "two application context items", off)
                pdu.application_context = item.name
            elif isinstance(item, UserInformationItem):
                _need(pdu.user_information is None, "two user information items", off)
                pdu.user_information = item
            elif isinstance(item, cls._context_cls):
                pdu.presentation_contexts.append(item)
            else:
                pdu.other_items.append(item)
        return pdu


@dataclass(slots=True)
class AAssociateRQ(_Associate):
    """A-ASSOCIATE-RQ (PS3.8 Table 9-11); presentation contexts are
    :class:`PresentationContextRQItem`."""
    pdu_type: ClassVar[int] = 0x01
    _context_cls: ClassVar[type] = PresentationContextRQItem


@dataclass(slots=True)
class AAssociateAC(_Associate):
    """A-ASSOCIATE-AC (PS3.8 Table 9-17); presentation contexts are
    :class:`PresentationContextACItem`; the AE titles echo the request's."""
    pdu_type: ClassVar[int] = 0x02
    _context_cls: ClassVar[type] = PresentationContextACItem


class _Fixed:
    """A-ASSOCIATE-RJ, A-RELEASE-RQ/RP, A-ABORT: a PDU-length of 4, its bytes
    the fields named by ``_wire`` (None: reserved)."""

    __slots__ = ()
    pdu_type: ClassVar[int] = 0
    _wire: ClassVar[tuple] = (None, None, None, None)

    def encode(self) -> bytes:
        try:
            return _pdu(self.pdu_type, bytes(0 if f is None else getattr(self, f) for f in self._wire))
        except (ValueError, TypeError) as exc:
            raise LocalProtocolError(f"cannot encode {type(self).__name__}: {exc}") from None

    @classmethod
    def decode(cls, data: Any) -> Any:
        view = _whole(data, cls.pdu_type, 4)
        return cls(**{f: view[6 + i] for i, f in enumerate(cls._wire) if f is not None})


@dataclass(slots=True)
class AAssociateRJ(_Fixed):
    """A-ASSOCIATE-RJ (PS3.8 Table 9-21); see :data:`REJECT_REASONS`."""
    pdu_type: ClassVar[int] = 0x03
    _wire: ClassVar[tuple] = (None, "result", "source", "reason")
    result: int = RejectResult.REJECTED_PERMANENT
    source: int = RejectSource.SERVICE_USER
    reason: int = REJECT_USER_NO_REASON

    @property
    def reason_text(self) -> str:
        return REJECT_REASONS.get((self.source, self.reason), "reserved")


@dataclass(slots=True)
class AReleaseRQ(_Fixed):
    """A-RELEASE-RQ (PS3.8 Table 9-24)."""
    pdu_type: ClassVar[int] = 0x05


@dataclass(slots=True)
class AReleaseRP(_Fixed):
    """A-RELEASE-RP (PS3.8 Table 9-25)."""
    pdu_type: ClassVar[int] = 0x06


@dataclass(slots=True)
class AAbort(_Fixed):
    """A-ABORT (PS3.8 Table 9-26)."""
    pdu_type: ClassVar[int] = 0x07
    _wire: ClassVar[tuple] = (None, None, "source", "reason")
    source: int = AbortSource.SERVICE_USER
    reason: int = AbortReason.NOT_SPECIFIED


class PDV(NamedTuple):
    """A presentation data value (PS3.8 9.3.5.1, annex E): a fragment of a
    command set or data set. From :class:`PDUReader` ``data`` is a memoryview
    of the received PDU (no copy)."""
    context_id: int
    is_command: bool
    is_last: bool
    data: Any

    @property
    def control_header(self) -> int:
        """Message control header: bit 0 command, bit 1 last fragment."""
        return (1 if self.is_command else 0) | (2 if self.is_last else 0)


@dataclass(slots=True)
class PDataTF:
    """P-DATA-TF (PS3.8 Table 9-22): one or more PDVs."""
    pdu_type: ClassVar[int] = 0x04
    pdvs: list[PDV] = field(default_factory=list)

    def encode(self) -> bytes:
        """This PDU as it is (see :func:`encode_pdata` to fragment payloads)."""
        if not self.pdvs:
            raise LocalProtocolError("a P-DATA-TF PDU holds one or more PDVs")
        for pdv in self.pdvs:
            _check_context_id(pdv.context_id, True)
        return _core.encode_pdata([(p.context_id, p.is_command, p.data, p.is_last) for p in self.pdvs], 0)

    @classmethod
    def decode(cls, data: Any) -> PDataTF:
        view = _whole(data, cls.pdu_type)
        mv = memoryview(view)
        return cls([PDV(cid, bool(ctl & 1), bool(ctl & 2), mv[off:off + n])
                    for cid, ctl, off, n in _core.pdata_pdvs(view)])


_PDU_CLASSES: dict[int, Any] = {c.pdu_type: c for c in (
    AAssociateRQ, AAssociateAC, AAssociateRJ, PDataTF, AReleaseRQ, AReleaseRP, AAbort)}


def decode_pdu(data: Any) -> Any:
    """Decode one whole PDU of any type (``data``: any buffer holding exactly it)."""
    if len(data) == 0:
        raise MalformedPDUError("no data", 0)
    cls = _PDU_CLASSES.get(memoryview(data).cast("B")[0] if not isinstance(data, bytes) else data[0])
    if cls is None:
        raise UnknownPDUError("unknown PDU type", 0)
    return cls.decode(data)


_PDATA_HEAD = struct.Struct(">BBIIBB")


def pdata_vector(context_id: int, data: Any, is_last: bool, max_pdu: int = 0) -> list[Any]:
    """The P-DATA-TF PDUs of one data set fragment ``data`` (a non-empty
    buffer) as a list of buffers to write in order: each PDU's 12 header bytes
    (PDU and PDV item headers) then a view of its part of ``data`` (not
    copied), one PDV per PDU, fragments of even length within ``max_pdu``
    (0 = no limit); the last is marked last when ``is_last``."""
    view = memoryview(data).cast("B")
    n = view.nbytes
    if max_pdu and max_pdu < 8:
        raise LocalProtocolError(f"a maximum PDU length of {max_pdu} cannot carry data")
    step = n if not max_pdu else (max_pdu - 6) & ~1
    out: list[Any] = []
    pack = _PDATA_HEAD.pack
    for start in range(0, n, step):
        end = min(start + step, n)
        out.append(pack(4, 0, end - start + 6, end - start + 2, context_id,
                        2 if is_last and end == n else 0))
        out.append(view[start:end])
    return out


def unwritten(pieces: list[Any], done: int) -> list[Any]:
    """What remains of the buffers ``pieces`` once their first ``done`` bytes
    are written (a ``writev`` that may write less than all): the pieces not
    reached, the first of them cut where the write stopped."""
    i = 0
    while i < len(pieces) and done >= memoryview(pieces[i]).nbytes:
        done -= memoryview(pieces[i]).nbytes
        i += 1
    rest = pieces[i:]
    if done:
        rest[0] = memoryview(rest[0]).cast("B")[done:]
    return rest


def encode_pdata(pdvs: Any, max_pdu: int = 0) -> bytes:
    """P-DATA-TF PDUs for ``pdvs``, a sequence of ``(context_id, is_command,
    data[, is_last])``: each payload is fragmented, fragments are packed
    several to a PDU where they fit, and no PDU-length exceeds ``max_pdu``
    (the peer's maximum length; 0 = no limit). See ``_core.encode_pdata``."""
    return _core.encode_pdata(pdvs, max_pdu)
