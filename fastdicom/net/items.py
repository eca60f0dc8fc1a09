"""Items of the DICOM Upper Layer PDUs and the protocol's constants (PS3.8 9.3,
PS3.7 annex D); the PDUs themselves are in :mod:`fastdicom.net.pdu`.

Each PDU and item is a dataclass with ``encode() -> bytes`` and a classmethod
``decode(data)``; :func:`decode_pdu` decodes any PDU. The items of A-ASSOCIATE
PDUs and the PDVs of P-DATA-TF PDUs are walked in C (bounds checked), fields
are read in Python over those bounds. Bad input raises a ``RemoteProtocolError``
subclass with the offset in the PDU; what cannot be encoded, ``LocalProtocolError``.
Reserved fields are sent as 00H and not tested (PS3.8 9.3.1); UIDs are sent
unpadded (trailing NUL/space removed on decode); AE titles are space-padded.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar

from fastdicom import _core
from fastdicom.net.errors import LocalProtocolError, MalformedPDUError

__all__ = [
    "PDUType", "ItemType", "PresentationContextResult", "RejectResult", "RejectSource",
    "AbortSource", "AbortReason", "UserIdentityType", "APPLICATION_CONTEXT_NAME",
    "REJECT_REASONS", "Item", "UnknownItem", "ApplicationContextItem", "AbstractSyntaxItem",
    "TransferSyntaxItem", "PresentationContextRQItem", "PresentationContextACItem",
    "UserInformationItem", "MaximumLengthItem", "ImplementationClassUIDItem",
    "AsynchronousOperationsWindowItem", "RoleSelectionItem", "ImplementationVersionNameItem",
    "SOPClassExtendedNegotiationItem", "SOPClassCommonExtendedNegotiationItem",
    "UserIdentityRQItem", "UserIdentityACItem", "decode_item",
    "REJECT_USER_NO_REASON",
    "REJECT_USER_APPLICATION_CONTEXT_NOT_SUPPORTED",
    "REJECT_USER_CALLING_AE_NOT_RECOGNIZED",
    "REJECT_USER_CALLED_AE_NOT_RECOGNIZED",
    "REJECT_ACSE_NO_REASON",
    "REJECT_ACSE_PROTOCOL_VERSION_NOT_SUPPORTED",
    "REJECT_PRESENTATION_TEMPORARY_CONGESTION",
    "REJECT_PRESENTATION_LOCAL_LIMIT_EXCEEDED",
]


#: PDU types (PS3.8 Table 9-1)
PDUType = IntEnum("PDUType", dict(
    A_ASSOCIATE_RQ=1, A_ASSOCIATE_AC=2, A_ASSOCIATE_RJ=3, P_DATA_TF=4, A_RELEASE_RQ=5,
    A_RELEASE_RP=6, A_ABORT=7))
#: Item and sub-item types (PS3.8 9.3.2-9.3.3, PS3.7 D.3.3)
ItemType = IntEnum("ItemType", dict(
    APPLICATION_CONTEXT=0x10, PRESENTATION_CONTEXT_RQ=0x20, PRESENTATION_CONTEXT_AC=0x21,
    ABSTRACT_SYNTAX=0x30, TRANSFER_SYNTAX=0x40, USER_INFORMATION=0x50, MAXIMUM_LENGTH=0x51,
    IMPLEMENTATION_CLASS_UID=0x52, ASYNCHRONOUS_OPERATIONS_WINDOW=0x53, ROLE_SELECTION=0x54,
    IMPLEMENTATION_VERSION_NAME=0x55, SOP_CLASS_EXTENDED_NEGOTIATION=0x56,
    SOP_CLASS_COMMON_EXTENDED_NEGOTIATION=0x57, USER_IDENTITY_RQ=0x58, USER_IDENTITY_AC=0x59))
#: Result/Reason of a presentation context (AC) item (PS3.8 Table 9-18); 2-4 are
#: provider rejections
PresentationContextResult = IntEnum("PresentationContextResult", dict(
    ACCEPTANCE=0, USER_REJECTION=1, NO_REASON=2, ABSTRACT_SYNTAX_NOT_SUPPORTED=3,
    TRANSFER_SYNTAXES_NOT_SUPPORTED=4))
#: A-ASSOCIATE-RJ Result and Source (PS3.8 Table 9-21)
RejectResult = IntEnum("RejectResult", dict(REJECTED_PERMANENT=1, REJECTED_TRANSIENT=2))
RejectSource = IntEnum("RejectSource", dict(
    SERVICE_USER=1, SERVICE_PROVIDER_ACSE=2, SERVICE_PROVIDER_PRESENTATION=3))
#: A-ASSOCIATE-RJ Reason/Diag. by source (PS3.8 Table 9-21); other values reserved
REJECT_USER_NO_REASON = 1
REJECT_USER_APPLICATION_CONTEXT_NOT_SUPPORTED = 2
REJECT_USER_CALLING_AE_NOT_RECOGNIZED = 3
REJECT_USER_CALLED_AE_NOT_RECOGNIZED = 7
REJECT_ACSE_NO_REASON = 1
REJECT_ACSE_PROTOCOL_VERSION_NOT_SUPPORTED = 2
REJECT_PRESENTATION_TEMPORARY_CONGESTION = 1
REJECT_PRESENTATION_LOCAL_LIMIT_EXCEEDED = 2
REJECT_REASONS = {
    (1, 1): "no-reason-given", (1, 2): "application-context-name-not-supported",
    (1, 3): "calling-AE-title-not-recognized", (1, 7): "called-AE-title-not-recognized",
    (2, 1): "no-reason-given", (2, 2): "protocol-version-not-supported",
    (3, 1): "temporary-congestion", (3, 2): "local-limit-exceeded",
}
#: A-ABORT Source and Reason/Diag. (PS3.8 Table 9-26; the reason is significant
#: for the service-provider source only)
AbortSource = IntEnum("AbortSource", dict(SERVICE_USER=0, RESERVED=1, SERVICE_PROVIDER=2))
AbortReason = IntEnum("AbortReason", dict(
    NOT_SPECIFIED=0, UNRECOGNIZED_PDU=1, UNEXPECTED_PDU=2, UNRECOGNIZED_PDU_PARAMETER=4,
    UNEXPECTED_PDU_PARAMETER=5, INVALID_PDU_PARAMETER_VALUE=6))
#: User Identity Type of the user identity (RQ) sub-item (PS3.7 Table D.3-14)
UserIdentityType = IntEnum("UserIdentityType", dict(
    USERNAME=1, USERNAME_AND_PASSCODE=2, KERBEROS=3, SAML=4, JWT=5))

#: The DICOM application context name (PS3.7 A.2.1).
APPLICATION_CONTEXT_NAME = "1.2.840.10008.3.1.1.1"

_ITEM_HDR = struct.Struct(">BBH")
_PDU_HDR = struct.Struct(">BBL")
_U16 = struct.Struct(">H")


# -- helpers --------------------------------------------------------------------------

def _enc_text(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise LocalProtocolError(f"{what} must be a str, not {type(value).__name__}")
    try:
        return value.encode("ascii")
    except UnicodeEncodeError:
        raise LocalProtocolError(f"{what} {value!r} is not ASCII") from None


def _dec_text(data: Any) -> str:
    return bytes(data).decode("latin-1").rstrip("\x00 ")


def _u16_prefixed(value: bytes, what: str) -> bytes:
    if len(value) > 0xFFFF:
        raise LocalProtocolError(f"{what} longer than 65535 bytes")
    return _U16.pack(len(value)) + value


def _enc_ae(title: Any, what: str) -> bytes:
    raw = _enc_text(title, what)
    if len(raw) > 16 or b"\\" in raw or any(c < 0x20 or c == 0x7F for c in raw):
        raise LocalProtocolError(f"{what} {title!r}: at most 16 printable ASCII characters, no backslash")
    return raw.ljust(16, b" ")


def _take16(data: Any, pos: int, end: int, base: int, what: str) -> tuple[bytes, int]:
    """A 2-byte length and that many bytes at data[pos:end]."""
    _need(end - pos >= 2, f"{what}: length field past the end of the item", base + pos)
    n = _U16.unpack_from(data, pos)[0]
    _need(n <= end - pos - 2, f"{what}: length {n} past the end of the item", base + pos)
    return bytes(data[pos + 2:pos + 2 + n]), pos + 2 + n


def _need(cond: bool, message: str, offset: int) -> None:
    if not cond:
        raise MalformedPDUError(message, offset)


# -- items ----------------------------------------------------------------------------

_FIXED = {"u8": struct.Struct(">B"), "bool": struct.Struct(">B"), "u16": struct.Struct(">H"),
          "u32": struct.Struct(">L")}
_ENC = {
    "text": _enc_text,
    "rest": lambda v, name: bytes(v),
    "str16": lambda v, name: _u16_prefixed(_enc_text(v, name), name),
    "b16": lambda v, name: _u16_prefixed(bytes(v), name),
    "uids16": lambda v, name: _u16_prefixed(b"".join(_u16_prefixed(_enc_text(u, name), name) for u in v), name),
}


class Item:
    """Base of the items: ``encode()`` gives the item with its 4-byte header.

    A leaf item's value is described by ``_layout``, its fields in wire order
    as (name, kind): ``u8``/``bool``/``u16``/``u32`` big endian numbers,
    ``text`` (the rest of the value as a UID or name), ``rest`` (raw bytes to
    the end), ``str16``/``b16`` (a 2-byte length, then text/bytes) and
    ``uids16`` (a 2-byte length, then UIDs each with a 2-byte length).
    ``_header_field`` names a field carried in the item header's reserved byte.
    """

    __slots__ = ()
    item_type: ClassVar[int] = 0
    _layout: ClassVar[tuple] = ()
    _header_field: ClassVar[str | None] = None

    def encode(self) -> bytes:
        try:
            value = self._value()
            head = _ITEM_HDR.pack(self.item_type, getattr(self, self._header_field or "", 0), len(value))
        except (struct.error, TypeError, ValueError) as exc:
            raise LocalProtocolError(f"cannot encode {type(self).__name__}: {exc}") from None
        return head + value

    def _value(self) -> bytes:
        out = [_FIXED[kind].pack(getattr(self, name)) if kind in _FIXED else _ENC[kind](getattr(self, name), name)
               for name, kind in self._layout]
        value = b"".join(out)
        if len(value) > 0xFFFF:
            raise LocalProtocolError(f"{type(self).__name__} of {len(value)} bytes: items hold at most 65535")
        return value

    @classmethod
    def _from_value(cls, data: Any, start: int, end: int) -> Any:
        pos, values = start, {}
        what = cls.__name__
        for name, kind in cls._layout:
            if kind in _FIXED:
                fmt = _FIXED[kind]
                _need(end - pos >= fmt.size, f"{what}: {name} past the end of the item", pos)
                values[name] = fmt.unpack_from(data, pos)[0]
                pos += fmt.size
                if kind == "bool":
                    values[name] = values[name] != 0
            elif kind in ("text", "rest"):
                values[name] = _dec_text(data[pos:end]) if kind == "text" else bytes(data[pos:end])
                pos = end
            else:
                raw, after = _take16(data, pos, end, 0, f"{what}: {name}")
                values[name] = _dec_text(raw) if kind == "str16" else raw
                if kind == "uids16":
                    values[name], p = [], 0
                    while p < len(raw):
                        uid, p = _take16(raw, p, len(raw), pos + 2, f"{what}: {name}")
                        values[name].append(_dec_text(uid))
                pos = after
        _need(pos == end, f"{what}: {end - pos} bytes after its fields", pos)
        if cls._header_field:
            values[cls._header_field] = data[start - 3]
        return cls(**values)

    @classmethod
    def decode(cls, data: Any) -> Any:
        """Decode one whole item (``data`` holds exactly that item)."""
        item = decode_item(data)
        if not isinstance(item, cls):
            raise MalformedPDUError(f"item type 0x{item.item_type:02X} is not a {cls.__name__}", 0)
        return item


@dataclass(slots=True)
class UnknownItem(Item):
    """An item or sub-item of a type not known here (kept as its raw value)."""
    item_type: int  # type: ignore[misc]
    data: bytes = b""
    _layout: ClassVar[tuple] = (("data", "rest"),)


@dataclass(slots=True)
class ApplicationContextItem(Item):
    item_type: ClassVar[int] = 0x10
    _layout: ClassVar[tuple] = (("name", "text"),)
    name: str = APPLICATION_CONTEXT_NAME


@dataclass(slots=True)
class AbstractSyntaxItem(Item):
    item_type: ClassVar[int] = 0x30
    _layout: ClassVar[tuple] = (("name", "text"),)
    name: str = ""


@dataclass(slots=True)
class TransferSyntaxItem(Item):
    item_type: ClassVar[int] = 0x40
    _layout: ClassVar[tuple] = (("name", "text"),)
    name: str = ""


def _check_context_id(cid: Any, local: bool, offset: int = 0) -> None:
    if isinstance(cid, int) and 1 <= cid <= 255 and cid & 1:
        return
    message = f"presentation context ID {cid!r} is not an odd number from 1 to 255"
    if local:
        raise LocalProtocolError(message)
    raise MalformedPDUError(message, offset)


@dataclass(slots=True)
class PresentationContextRQItem(Item):
    """Presentation context (RQ): an abstract syntax and the transfer syntaxes proposed."""
    item_type: ClassVar[int] = 0x20
    context_id: int = 1
    abstract_syntax: str | None = None
    transfer_syntaxes: list[str] = field(default_factory=list)

    def _value(self) -> bytes:
        _check_context_id(self.context_id, True)
        parts = [bytes((self.context_id, 0, 0, 0))]
        if self.abstract_syntax is not None:
            parts.append(AbstractSyntaxItem(self.abstract_syntax).encode())
        parts.extend(TransferSyntaxItem(ts).encode() for ts in self.transfer_syntaxes)
        return b"".join(parts)

    @classmethod
    def _from_parts(cls, data: Any, entry: tuple, children: list[tuple]) -> PresentationContextRQItem:
        voff = entry[2]
        _check_context_id(data[voff], False, voff)
        item = cls(data[voff])
        for ctype, coff, cvoff, clen, _ in children:
            value = _dec_text(data[cvoff:cvoff + clen])
            if ctype == 0x30:
                _need(item.abstract_syntax is None, "two abstract syntax sub-items", coff)
                item.abstract_syntax = value
            else:
                _need(ctype == 0x40, f"sub-item 0x{ctype:02X} in a presentation context (RQ)", coff)
                item.transfer_syntaxes.append(value)
        return item


@dataclass(slots=True)
class PresentationContextACItem(Item):
    """Presentation context (AC): the result (:class:`PresentationContextResult`)
    and the transfer syntax accepted (not significant unless accepted)."""
    item_type: ClassVar[int] = 0x21
    context_id: int = 1
    result: int = PresentationContextResult.ACCEPTANCE
    transfer_syntax: str | None = None

    def _value(self) -> bytes:
        _check_context_id(self.context_id, True)
        head = struct.pack(">BBBB", self.context_id, 0, self.result, 0)
        if self.transfer_syntax is None:
            return head
        return head + TransferSyntaxItem(self.transfer_syntax).encode()

    @classmethod
    def _from_parts(cls, data: Any, entry: tuple, children: list[tuple]) -> PresentationContextACItem:
        voff = entry[2]
        _check_context_id(data[voff], False, voff)
        item = cls(data[voff], data[voff + 2])
        for ctype, coff, cvoff, clen, _ in children:
            _need(ctype == 0x40, f"sub-item 0x{ctype:02X} in a presentation context (AC)", coff)
            _need(item.transfer_syntax is None, "two transfer syntax sub-items", coff)
            item.transfer_syntax = _dec_text(data[cvoff:cvoff + clen])
        return item


@dataclass(slots=True)
class MaximumLengthItem(Item):
    """Maximum length received in P-DATA-TF PDUs (PS3.8 D.1); 0 = no limit."""
    item_type: ClassVar[int] = 0x51
    _layout: ClassVar[tuple] = (("maximum_length", "u32"),)
    maximum_length: int = 16382


@dataclass(slots=True)
class ImplementationClassUIDItem(Item):
    item_type: ClassVar[int] = 0x52
    _layout: ClassVar[tuple] = (("uid", "text"),)
    uid: str = ""


@dataclass(slots=True)
class AsynchronousOperationsWindowItem(Item):
    """Asynchronous operations window (PS3.7 D.3.3.3); 0 = unlimited."""
    item_type: ClassVar[int] = 0x53
    _layout: ClassVar[tuple] = (("max_operations_invoked", "u16"), ("max_operations_performed", "u16"))
    max_operations_invoked: int = 1
    max_operations_performed: int = 1


@dataclass(slots=True)
class RoleSelectionItem(Item):
    """SCP/SCU role selection (PS3.7 D.3.3.4): 1 = role proposed/accepted."""
    item_type: ClassVar[int] = 0x54
    _layout: ClassVar[tuple] = (("sop_class_uid", "str16"), ("scu_role", "u8"), ("scp_role", "u8"))
    sop_class_uid: str = ""
    scu_role: int = 0
    scp_role: int = 0


@dataclass(slots=True)
class ImplementationVersionNameItem(Item):
    item_type: ClassVar[int] = 0x55
    _layout: ClassVar[tuple] = (("name", "text"),)
    name: str = ""


@dataclass(slots=True)
class SOPClassExtendedNegotiationItem(Item):
    """SOP class extended negotiation (PS3.7 D.3.3.5)."""
    item_type: ClassVar[int] = 0x56
    _layout: ClassVar[tuple] = (("sop_class_uid", "str16"), ("service_class_application_information", "rest"))
    sop_class_uid: str = ""
    service_class_application_information: bytes = b""


@dataclass(slots=True)
class SOPClassCommonExtendedNegotiationItem(Item):
    """SOP class common extended negotiation (PS3.7 D.3.3.6); the reserved
    byte of its header is the sub-item version (0)."""
    item_type: ClassVar[int] = 0x57
    _layout: ClassVar[tuple] = (("sop_class_uid", "str16"), ("service_class_uid", "str16"),
                                ("related_general_sop_class_uids", "uids16"))
    _header_field: ClassVar[str | None] = "version"
    sop_class_uid: str = ""
    service_class_uid: str = ""
    related_general_sop_class_uids: list[str] = field(default_factory=list)
    version: int = 0


@dataclass(slots=True)
class UserIdentityRQItem(Item):
    """User identity negotiation (RQ) (PS3.7 D.3.3.7.1), type: :class:`UserIdentityType`."""
    item_type: ClassVar[int] = 0x58
    _layout: ClassVar[tuple] = (("identity_type", "u8"), ("positive_response_requested", "bool"),
                                ("primary_field", "b16"), ("secondary_field", "b16"))
    identity_type: int = UserIdentityType.USERNAME
    primary_field: bytes = b""
    secondary_field: bytes = b""
    positive_response_requested: bool = False


@dataclass(slots=True)
class UserIdentityACItem(Item):
    """User identity negotiation (AC) (PS3.7 D.3.3.7.2)."""
    item_type: ClassVar[int] = 0x59
    _layout: ClassVar[tuple] = (("server_response", "b16"),)
    server_response: bytes = b""


@dataclass(slots=True)
class UserInformationItem(Item):
    """User information: its sub-items in order (unknown ones as :class:`UnknownItem`)."""
    item_type: ClassVar[int] = 0x50
    sub_items: list[Item] = field(default_factory=list)

    def _value(self) -> bytes:
        return b"".join(item.encode() for item in self.sub_items)

    @classmethod
    def _from_parts(cls, data: Any, entry: tuple, children: list[tuple]) -> UserInformationItem:
        return cls([_leaf(data, child, _USER_ITEMS) for child in children])

    def find(self, item_class: type) -> Any:
        """The first sub-item of ``item_class`` (None when absent)."""
        return next((i for i in self.sub_items if type(i) is item_class), None)

    def find_all(self, item_class: type) -> list:
        return [i for i in self.sub_items if type(i) is item_class]

    @property
    def maximum_length(self) -> int | None:
        return getattr(self.find(MaximumLengthItem), "maximum_length", None)

    @property
    def implementation_class_uid(self) -> str | None:
        return getattr(self.find(ImplementationClassUIDItem), "uid", None)

    @property
    def implementation_version_name(self) -> str | None:
        return getattr(self.find(ImplementationVersionNameItem), "name", None)


_USER_ITEMS: dict[int, Any] = {c.item_type: c for c in (
    MaximumLengthItem, ImplementationClassUIDItem, AsynchronousOperationsWindowItem,
    RoleSelectionItem, ImplementationVersionNameItem, SOPClassExtendedNegotiationItem,
    SOPClassCommonExtendedNegotiationItem, UserIdentityRQItem, UserIdentityACItem)}
_ALL_ITEMS: dict[int, Any] = {**_USER_ITEMS, **{c.item_type: c for c in (
    ApplicationContextItem, AbstractSyntaxItem, TransferSyntaxItem, PresentationContextRQItem,
    PresentationContextACItem, UserInformationItem)}}


def _leaf(data: Any, entry: tuple, known: dict) -> Item:
    itype, _, voff, length, _ = entry
    cls = known.get(itype)
    if cls is None:
        return UnknownItem(itype, bytes(data[voff:voff + length]))
    return cls._from_value(data, voff, voff + length)


def _build(data: Any, table: list[tuple], known: dict) -> list[Item]:
    """Top-level items of an item table (from ``_core.pdu_items``)."""
    children: dict[int, list[tuple]] = {}
    for entry in table:
        if entry[4] >= 0:
            children.setdefault(entry[4], []).append(entry)
    out = []
    for i, entry in enumerate(table):
        if entry[4] >= 0:
            continue
        cls = known.get(entry[0])
        if cls is not None and hasattr(cls, "_from_parts"):
            out.append(cls._from_parts(data, entry, children.get(i, [])))
        elif entry[0] in (0x20, 0x21, 0x50):  # a container item not expected here: keep it raw
            out.append(UnknownItem(entry[0], bytes(data[entry[2]:entry[2] + entry[3]])))
        else:
            out.append(_leaf(data, entry, known))
    return out


def decode_item(data: Any) -> Item:
    """Decode one whole item or sub-item of any type."""
    view = memoryview(data).cast("B") if not isinstance(data, bytes) else data
    table = _core.pdu_items(view, 0, len(view))
    top = [e for e in table if e[4] < 0]
    _need(len(top) == 1, f"{len(top)} items where one was expected", 0)
    return _build(view, table, _ALL_ITEMS)[0]


# -- PDUs -----------------------------------------------------------------------------
