"""DIMSE messages (PS3.7): command sets, status codes, fragmentation into PDVs
and reassembly of PDVs into messages.

A message is a command set (group 0000, always implicit VR little endian,
PS3.7 6.3.1) and, when its Command Data Set Type is not 0x0101, a data set
(encoded in the transfer syntax of its presentation context; kept here as
bytes). :func:`encode_command` is a small encoder for the few VRs group 0000
uses (UL, US, UI, AE, AT, LO, SH, CS), (0000,0000) Command Group Length
computed; :func:`decode_command` reads a command set into a
:class:`fastdicom.Dataset`.

Across the network a message travels as presentation data values (PDVs,
PS3.8 annex E): :func:`fragment` cuts a message into PDVs that fit a peer's
maximum PDU length, :class:`MessageAssembler` puts received PDVs back together,
with limits on what it holds. Nothing here does I/O.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, NamedTuple

from fastdicom import datadict
from fastdicom.dataset import Dataset
from fastdicom.net.errors import LocalProtocolError, MalformedPDUError

__all__ = [
    "C_STORE_RQ", "C_STORE_RSP", "C_GET_RQ", "C_GET_RSP", "C_FIND_RQ", "C_FIND_RSP",
    "C_MOVE_RQ", "C_MOVE_RSP", "C_ECHO_RQ", "C_ECHO_RSP", "C_CANCEL_RQ", "COMMAND_NAMES",
    "NO_DATASET", "DATASET_PRESENT", "PRIORITY_LOW", "PRIORITY_MEDIUM", "PRIORITY_HIGH",
    "Status", "SUCCESS", "WARNING", "FAILURE", "CANCEL", "PENDING", "UNKNOWN", "status_category",
    "VERIFICATION_SOP_CLASS", "encode_command", "decode_command", "build_command",
    "make_response", "message_pdvs",
    "DimseMessage", "PDV", "fragment", "MessageAssembler", "MessageIDs",
    "DEFAULT_MAX_COMMAND_LENGTH", "DEFAULT_MAX_DATASET_LENGTH",
]

# -- command field values (PS3.7 E.1) ------------------------------------------------------
C_STORE_RQ, C_STORE_RSP = 0x0001, 0x8001
C_GET_RQ, C_GET_RSP = 0x0010, 0x8010
C_FIND_RQ, C_FIND_RSP = 0x0020, 0x8020
C_MOVE_RQ, C_MOVE_RSP = 0x0021, 0x8021
C_ECHO_RQ, C_ECHO_RSP = 0x0030, 0x8030
N_EVENT_REPORT_RQ, N_EVENT_REPORT_RSP = 0x0100, 0x8100
N_GET_RQ, N_GET_RSP = 0x0110, 0x8110
N_SET_RQ, N_SET_RSP = 0x0120, 0x8120
N_ACTION_RQ, N_ACTION_RSP = 0x0130, 0x8130
N_CREATE_RQ, N_CREATE_RSP = 0x0140, 0x8140
N_DELETE_RQ, N_DELETE_RSP = 0x0150, 0x8150
C_CANCEL_RQ = 0x0FFF

#: Command Field value -> message name ("C-ECHO-RQ" ...).
COMMAND_NAMES: dict[int, str] = {
    C_STORE_RQ: "C-STORE-RQ", C_STORE_RSP: "C-STORE-RSP", C_GET_RQ: "C-GET-RQ",
    C_GET_RSP: "C-GET-RSP", C_FIND_RQ: "C-FIND-RQ", C_FIND_RSP: "C-FIND-RSP",
    C_MOVE_RQ: "C-MOVE-RQ", C_MOVE_RSP: "C-MOVE-RSP", C_ECHO_RQ: "C-ECHO-RQ",
    C_ECHO_RSP: "C-ECHO-RSP", C_CANCEL_RQ: "C-CANCEL-RQ",
    N_EVENT_REPORT_RQ: "N-EVENT-REPORT-RQ", N_EVENT_REPORT_RSP: "N-EVENT-REPORT-RSP",
    N_GET_RQ: "N-GET-RQ", N_GET_RSP: "N-GET-RSP", N_SET_RQ: "N-SET-RQ", N_SET_RSP: "N-SET-RSP",
    N_ACTION_RQ: "N-ACTION-RQ", N_ACTION_RSP: "N-ACTION-RSP", N_CREATE_RQ: "N-CREATE-RQ",
    N_CREATE_RSP: "N-CREATE-RSP", N_DELETE_RQ: "N-DELETE-RQ", N_DELETE_RSP: "N-DELETE-RSP",
}
_COMMAND_FIELDS = {name: value for value, name in COMMAND_NAMES.items()}

#: Command Data Set Type (0000,0800): no data set; any other value means one follows.
NO_DATASET = 0x0101
#: The value this encoder writes when a data set follows.
DATASET_PRESENT = 0x0001

#: Priority (0000,0700).
PRIORITY_MEDIUM, PRIORITY_HIGH, PRIORITY_LOW = 0x0000, 0x0001, 0x0002

#: The Verification SOP Class (C-ECHO).
VERIFICATION_SOP_CLASS = "1.2.840.10008.1.1"


# -- status (PS3.7 annex C) ----------------------------------------------------------------
class Status:
    """Named status codes of PS3.7 annex C and PS3.4 (the common ones)."""

    SUCCESS = 0x0000
    WARNING = 0x0001
    ATTRIBUTE_LIST_ERROR = 0x0107  # warning
    ATTRIBUTE_VALUE_OUT_OF_RANGE = 0x0116  # warning
    COERCION_OF_DATA_ELEMENTS = 0xB000  # warning; C-GET/C-MOVE: sub-operations with failures
    ELEMENTS_DISCARDED = 0xB006  # warning
    DATASET_DOES_NOT_MATCH_SOP_CLASS_WARNING = 0xB007  # warning
    CANCEL = 0xFE00
    PENDING = 0xFF00
    PENDING_WARNING = 0xFF01  # optional keys not supported (C-FIND)
    NO_SUCH_ATTRIBUTE = 0x0105
    INVALID_ATTRIBUTE_VALUE = 0x0106
    PROCESSING_FAILURE = 0x0110
    DUPLICATE_SOP_INSTANCE = 0x0111
    NO_SUCH_SOP_INSTANCE = 0x0112
    NO_SUCH_EVENT_TYPE = 0x0113
    NO_SUCH_ARGUMENT = 0x0114
    INVALID_ARGUMENT_VALUE = 0x0115
    INVALID_OBJECT_INSTANCE = 0x0117
    NO_SUCH_SOP_CLASS = 0x0118
    CLASS_INSTANCE_CONFLICT = 0x0119
    MISSING_ATTRIBUTE = 0x0120
    MISSING_ATTRIBUTE_VALUE = 0x0121
    SOP_CLASS_NOT_SUPPORTED = 0x0122
    NO_SUCH_ACTION = 0x0123
    NOT_AUTHORIZED = 0x0124
    DUPLICATE_INVOCATION = 0x0210
    UNRECOGNIZED_OPERATION = 0x0211
    MISTYPED_ARGUMENT = 0x0212
    RESOURCE_LIMITATION = 0x0213
    OUT_OF_RESOURCES = 0xA700
    OUT_OF_RESOURCES_MATCHES = 0xA701  # C-GET/C-MOVE: number of matches
    OUT_OF_RESOURCES_SUBOPERATIONS = 0xA702  # C-GET/C-MOVE: sub-operations
    MOVE_DESTINATION_UNKNOWN = 0xA801
    IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS = 0xA900
    DATASET_DOES_NOT_MATCH_SOP_CLASS = 0xA900
    UNABLE_TO_PROCESS = 0xC000
    CANNOT_UNDERSTAND = 0xC000


#: Status categories (PS3.7 C.1 - C.5) as :func:`status_category` gives them.
SUCCESS, WARNING, FAILURE, CANCEL, PENDING, UNKNOWN = (
    "Success", "Warning", "Failure", "Cancel", "Pending", "Unknown")


def status_category(status: int) -> str:
    """The category of a status code: :data:`SUCCESS`, :data:`WARNING`,
    :data:`FAILURE`, :data:`CANCEL`, :data:`PENDING` or :data:`UNKNOWN`."""
    status = int(status)
    if status == 0x0000:
        return SUCCESS
    if status in (0xFF00, 0xFF01):
        return PENDING
    if status == 0xFE00:
        return CANCEL
    if status in (0x0001, 0x0107, 0x0116) or 0xB000 <= status <= 0xBFFF:
        return WARNING
    if 0xA000 <= status <= 0xAFFF or 0xC000 <= status <= 0xCFFF or 0x0100 <= status <= 0x02FF:
        return FAILURE
    return UNKNOWN


# -- command set encoding ------------------------------------------------------------------
#: VR of the group 0000 elements of PS3.7 E.1 (others are looked up in the dictionary).
_COMMAND_VR = {
    0x00000000: "UL", 0x00000002: "UI", 0x00000003: "UI", 0x00000100: "US", 0x00000110: "US",
    0x00000120: "US", 0x00000600: "AE", 0x00000700: "US", 0x00000800: "US", 0x00000900: "US",
    0x00000901: "AT", 0x00000902: "LO", 0x00000903: "US", 0x00001000: "UI", 0x00001001: "UI",
    0x00001002: "US", 0x00001005: "AT", 0x00001008: "US", 0x00001020: "US", 0x00001021: "US",
    0x00001022: "US", 0x00001023: "US", 0x00001030: "AE", 0x00001031: "US",
}
_TEXT_VRS = {"AE": b" ", "LO": b" ", "SH": b" ", "CS": b" ", "UI": b"\x00"}
_GROUP_LENGTH = 0x00000000


def _values(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, (str, bytes, int)):
        return [value]
    return list(value)


def _encode_value(tag: int, vr: str, value: Any) -> bytes:
    values = _values(value)
    if vr == "US":
        return struct.pack(f"<{len(values)}H", *(int(v) for v in values))
    if vr == "UL":
        return struct.pack(f"<{len(values)}I", *(int(v) for v in values))
    if vr == "SS":
        return struct.pack(f"<{len(values)}h", *(int(v) for v in values))
    if vr == "AT":
        out = bytearray()
        for v in values:
            v = int(v)
            out += struct.pack("<HH", v >> 16, v & 0xFFFF)
        return bytes(out)
    if vr in _TEXT_VRS:
        raw = "\\".join(str(v) for v in values).encode("ascii")
        return raw + _TEXT_VRS[vr] if len(raw) % 2 else raw
    if isinstance(value, (bytes, bytearray, memoryview)):  # anything else given as raw bytes
        raw = bytes(value)
        return raw + b"\x00" if len(raw) % 2 else raw
    raise LocalProtocolError(f"cannot encode {vr} element ({tag >> 16:04X},{tag & 0xFFFF:04X}) "
                             "in a command set")


def _element_vr(tag: int, vr: str | None) -> str:
    if tag in _COMMAND_VR:
        return _COMMAND_VR[tag]
    if vr and vr != "UN":
        return vr
    try:
        return datadict.dictionary_VR(tag)
    except KeyError:
        return "UN"


def encode_command(command: Dataset | dict[Any, Any]) -> bytes:
    """Encode a command set (implicit VR little endian, tag order), with
    (0000,0000) Command Group Length computed (any given value is ignored).

    ``command`` is a :class:`fastdicom.Dataset` or a mapping of keyword or tag
    to value. Every element must be in group 0000.
    """
    items: list[tuple[int, str | None, Any]] = []
    if isinstance(command, dict):
        for key, value in command.items():
            tag = key if isinstance(key, int) else datadict.tag_for_keyword(key)
            if tag is None:
                raise LocalProtocolError(f"unknown command element keyword {key!r}")
            items.append((int(tag), None, value))
    else:
        for elem in command:
            items.append((int(elem.tag), elem.VR, elem.value))
    items.sort(key=lambda item: item[0])
    return _encode_items(items)


def _encode_items(items: list[tuple[int, str | None, Any]]) -> bytes:
    """Elements ``(tag, VR or None, value)`` in tag order, as a command set."""
    body = bytearray()
    for tag, vr, value in items:
        if tag >> 16 != 0:
            raise LocalProtocolError(
                f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) is not in the command group 0000")
        if tag == _GROUP_LENGTH:
            continue
        raw = _encode_value(tag, _element_vr(tag, vr), value)
        body += struct.pack("<HHI", 0, tag & 0xFFFF, len(raw))
        body += raw
    return struct.pack("<HHII", 0, 0, 4, len(body)) + bytes(body)


def encode_fields(command_field: int, has_dataset: bool = False, **fields: Any) -> bytes:
    """A command set straight to bytes (no Dataset), for the common messages:
    ``fields`` by keyword among those of PS3.7 E.1 (None: left out)."""
    items: list[tuple[int, str | None, Any]] = [
        (0x00000100, "US", command_field),
        (0x00000800, "US", DATASET_PRESENT if has_dataset else NO_DATASET)]
    items += [(_FIELD_TAGS[keyword], None, value) for keyword, value in fields.items()
              if value is not None]
    items.sort(key=lambda item: item[0])
    return _encode_items(items)


def decode_command(data: bytes | bytearray | memoryview) -> Dataset:
    """Read an encoded command set into a :class:`fastdicom.Dataset`.

    The bytes are tokenized as implicit VR little endian (no file heuristics)
    and must be group 0000 elements only, up to the last byte, with a Command
    Field; otherwise :class:`~fastdicom.net.errors.MalformedPDUError`.
    """
    from fastdicom._core import tokenize
    from fastdicom.errors import DicomError

    data = bytes(data)
    try:
        tokens = tokenize(data, implicit_vr=True, little_endian=True, detect_vr=False,
                          max_depth=8)
    except (DicomError, ValueError) as exc:
        raise MalformedPDUError(f"undecodable command set: {exc}") from exc
    if tokens.trailing or tokens.end_offset != len(data) or not len(tokens):
        raise MalformedPDUError("a command set must end with its last element")
    ds = Dataset._view(tokens)
    ds.is_implicit_VR, ds.is_little_endian = True, True
    tags = [int(elem.tag) for elem in ds]
    if any(t >> 16 != 0 for t in tags):
        raise MalformedPDUError("a command set holds only group 0000 elements")
    if 0x00000100 not in tags:
        raise MalformedPDUError("command set without a Command Field (0000,0100)")
    return ds


def build_command(command_field: int | str, **elements: Any) -> Dataset:
    """A command set for ``command_field`` (a value or a name like ``"C-ECHO-RQ"``)
    with the given elements by keyword. Elements given as ``None`` are left out.
    Command Data Set Type defaults to :data:`NO_DATASET`."""
    if isinstance(command_field, str):
        try:
            command_field = _COMMAND_FIELDS[command_field.upper().replace("_", "-")]
        except KeyError:
            raise ValueError(f"unknown DIMSE message {command_field!r}") from None
    ds = Dataset()
    ds.CommandGroupLength = 0
    ds.CommandField = int(command_field)
    elements.setdefault("CommandDataSetType", NO_DATASET)
    for keyword, value in elements.items():
        if value is None:
            continue
        if datadict.tag_for_keyword(keyword) is None:
            raise ValueError(f"unknown command element keyword {keyword!r}")
        setattr(ds, keyword, value)
    return ds


# -- messages ------------------------------------------------------------------------------
#: Keyword -> tag of the command elements of PS3.7 E.1 (for :func:`encode_fields`).
_FIELD_TAGS = {datadict.keyword_for_tag(tag): tag for tag in _COMMAND_VR}


class DimseMessage:
    """A DIMSE message: its presentation context, command set and the encoded
    data set (``None`` when the command says there is none).

    The command is a :class:`fastdicom.Dataset`, or given ``encoded`` (bytes of
    a command set, e.g. from :func:`encode_fields`) and decoded only if read.
    A received data set may be streamed to a sink (see
    :class:`MessageAssembler`) instead of ``data``: then ``stream`` is the sink
    and ``stream_error`` the exception its ``write`` raised, if any.
    """

    __slots__ = ("context_id", "_command", "_encoded", "data", "stream", "stream_error")

    def __init__(self, context_id: int, command: Dataset | None = None,
                 data: bytes | memoryview | None = None, stream: Any = None,
                 stream_error: BaseException | None = None, *,
                 encoded: bytes | None = None) -> None:
        if command is None and encoded is None:
            raise ValueError("a DIMSE message needs a command set")
        self.context_id = context_id
        self._command = command
        self._encoded = encoded
        self.data = data
        self.stream = stream
        self.stream_error = stream_error

    @property
    def command(self) -> Dataset:
        if self._command is None:
            assert self._encoded is not None
            self._command = decode_command(self._encoded)
        return self._command

    @command.setter
    def command(self, value: Dataset) -> None:
        self._command, self._encoded = value, None

    @property
    def command_field(self) -> int:
        return int(self.command.CommandField)

    @property
    def name(self) -> str:
        """The message name, e.g. ``"C-STORE-RQ"`` (``"0x1234"`` when unknown)."""
        return COMMAND_NAMES.get(self.command_field, f"0x{self.command_field:04X}")

    @property
    def is_request(self) -> bool:
        return not self.command_field & 0x8000

    @property
    def message_id(self) -> int | None:
        return self.command.get("MessageID")

    @property
    def message_id_being_responded_to(self) -> int | None:
        return self.command.get("MessageIDBeingRespondedTo")

    @property
    def status(self) -> int | None:
        return self.command.get("Status")

    @property
    def status_category(self) -> str | None:
        status = self.status
        return None if status is None else status_category(status)

    @property
    def has_dataset(self) -> bool:
        return self.data is not None or self.stream is not None

    def encode_command(self) -> bytes:
        """The encoded command set, Command Data Set Type set from ``data``."""
        if self._command is None:  # given encoded (its data set type is the sender's)
            assert self._encoded is not None
            return self._encoded
        if self.data is None:
            self._command.CommandDataSetType = NO_DATASET
        elif int(self._command.get("CommandDataSetType", NO_DATASET)) == NO_DATASET:
            self._command.CommandDataSetType = DATASET_PRESENT
        return encode_command(self._command)

    def __repr__(self) -> str:
        size = "no data set" if self.data is None else f"{len(self.data)} bytes of data set"
        return f"<DimseMessage {self.name} context {self.context_id}, {size}>"


def make_response(request: DimseMessage, status: int = Status.SUCCESS,
                  data: bytes | None = None, **elements: Any) -> DimseMessage:
    """The response to ``request`` (a C-xxx-RQ or N-xxx-RQ): same context, command
    field with the response bit, Message ID Being Responded To, the affected SOP
    class and instance of the request, ``status``, and any other elements."""
    rq = request.command
    if not request.is_request or request.command_field == C_CANCEL_RQ:
        raise LocalProtocolError(f"{request.name} has no response")
    if data is None and not elements and request.command_field in (C_STORE_RQ, C_ECHO_RQ):
        return DimseMessage(request.context_id, encoded=encode_fields(
            request.command_field | 0x8000, MessageIDBeingRespondedTo=rq.get("MessageID"),
            AffectedSOPClassUID=rq.get("AffectedSOPClassUID"),
            AffectedSOPInstanceUID=rq.get("AffectedSOPInstanceUID"), Status=int(status)))
    fields: dict[str, Any] = {
        "MessageIDBeingRespondedTo": rq.get("MessageID"),
        "AffectedSOPClassUID": rq.get("AffectedSOPClassUID", rq.get("RequestedSOPClassUID")),
        "AffectedSOPInstanceUID": rq.get("AffectedSOPInstanceUID",
                                         rq.get("RequestedSOPInstanceUID")),
        "Status": int(status)}
    fields.update(elements)
    return DimseMessage(request.context_id,
                        build_command(request.command_field | 0x8000, **fields), data)


class PDV(NamedTuple):
    """A presentation data value: a fragment of a message (PS3.8 E.2)."""

    context_id: int
    is_command: bool
    is_last: bool
    data: bytes | memoryview

    @property
    def control_header(self) -> int:
        """The message control header byte (bit 0: command, bit 1: last fragment)."""
        return (1 if self.is_command else 0) | (2 if self.is_last else 0)

    @classmethod
    def from_header(cls, context_id: int, header: int,
                    data: bytes | memoryview) -> "PDV":
        return cls(context_id, bool(header & 1), bool(header & 2), data)


#: A PDV item's overhead in a P-DATA-TF PDU: item length (4), context ID (1), header (1).
PDV_OVERHEAD = 6
_MAX_FRAGMENT = 0xFFFFFFFF - PDV_OVERHEAD - 4  # a PDU length is 32 bits


def _fragments(context_id: int, data: bytes | memoryview, is_command: bool,
               size: int) -> Iterator[PDV]:
    view = memoryview(data)
    n = len(view)
    if n == 0:
        yield PDV(context_id, is_command, True, b"")
        return
    for start in range(0, n, size):
        end = min(start + size, n)
        yield PDV(context_id, is_command, end == n, view[start:end])


def fragment(context_id: int, command: bytes, data: bytes | memoryview | None,
             max_pdu_length: int) -> Iterator[PDV]:
    """The PDVs of a message, each fitting a P-DATA-TF PDU of at most
    ``max_pdu_length`` bytes of variable field (0: no limit), one PDV per
    PDU; the data set fragments are views of ``data`` (no copy)."""
    if max_pdu_length == 0:
        size = _MAX_FRAGMENT
    elif max_pdu_length <= PDV_OVERHEAD:
        raise LocalProtocolError(f"a maximum PDU length of {max_pdu_length} leaves no room "
                                 "for a PDV")
    else:
        size = min(max_pdu_length - PDV_OVERHEAD, _MAX_FRAGMENT)
    yield from _fragments(context_id, command, True, size)
    if data is not None:
        yield from _fragments(context_id, data, False, size)


def message_pdvs(message: DimseMessage, max_pdu_length: int) -> Iterator[PDV]:
    """The PDVs of ``message`` (see :func:`fragment`)."""
    return fragment(message.context_id, message.encode_command(), message.data, max_pdu_length)


#: Default limits of :class:`MessageAssembler` (bytes).
DEFAULT_MAX_COMMAND_LENGTH = 1 << 20
DEFAULT_MAX_DATASET_LENGTH = 1 << 30


@dataclass
class MessageAssembler:
    """Puts received PDVs back together into :class:`DimseMessage` objects.

    The fragments of one message arrive in order and are not interleaved with
    another message's (PS3.8 annex E, PS3.7 6.3.1): command fragments up to
    the one marked last, then, when the command says so, data set fragments up
    to the one marked last. Anything else is a :class:`RemoteProtocolError`,
    and so is a command or data set larger than its limit (``None``: no
    limit).

    ``dataset_sink(context_id, command)``, when given, is asked for a sink as
    each command announcing a data set completes: an object with ``write``
    (a file, say) that receives the data set fragments as they arrive, so the
    data set is never held in memory (and ``max_dataset_length`` does not
    apply); the message then has ``stream`` set and ``data`` None. When
    ``write`` raises :class:`OSError` the rest of the data set is dropped and
    the message carries the exception in ``stream_error``. A sink of None
    means: assemble this one in memory.
    """

    max_command_length: int | None = DEFAULT_MAX_COMMAND_LENGTH
    max_dataset_length: int | None = DEFAULT_MAX_DATASET_LENGTH
    dataset_sink: Callable[[int, Dataset], Any] | None = None
    _sink: Any = field(default=None, init=False)
    _sink_error: BaseException | None = field(default=None, init=False)
    _context_id: int | None = field(default=None, init=False)
    _command_parts: list[bytes] = field(default_factory=list, init=False)
    _command_length: int = field(default=0, init=False)
    _command: Dataset | None = field(default=None, init=False)
    _data_parts: list[bytes] = field(default_factory=list, init=False)
    _data_length: int = field(default=0, init=False)

    @property
    def in_progress(self) -> bool:
        """Whether part of a message has arrived."""
        return self._context_id is not None

    def reset(self) -> None:
        self._context_id = self._command = self._sink = self._sink_error = None
        self._command_parts, self._data_parts = [], []
        self._command_length = self._data_length = 0

    def add(self, pdv: PDV) -> DimseMessage | None:
        """Add one PDV; return the message it completes, if any."""
        if self._context_id is None:
            self._context_id = pdv.context_id
        elif pdv.context_id != self._context_id:
            raise MalformedPDUError(
                f"a PDV for presentation context {pdv.context_id} inside a message on "
                f"context {self._context_id}")
        if pdv.is_command:
            if self._command is not None:
                raise MalformedPDUError("a command fragment where data set fragments were "
                                          "expected")
            self._command_length += len(pdv.data)
            if self.max_command_length is not None and \
                    self._command_length > self.max_command_length:
                raise MalformedPDUError(
                    f"command set longer than the limit of {self.max_command_length} bytes")
            self._command_parts.append(bytes(pdv.data))
            if not pdv.is_last:
                return None
            command = decode_command(b"".join(self._command_parts))
            self._command_parts = []
            if int(command.get("CommandDataSetType", NO_DATASET)) == NO_DATASET:
                message = DimseMessage(self._context_id, command)
                self.reset()
                return message
            self._command = command
            if self.dataset_sink is not None:
                self._sink = self.dataset_sink(self._context_id, command)
            return None
        if self._command is None:
            raise MalformedPDUError("a data set fragment before the end of its command set")
        if self._sink is not None:
            return self._stream(pdv)
        self._data_length += len(pdv.data)
        if self.max_dataset_length is not None and self._data_length > self.max_dataset_length:
            raise MalformedPDUError(
                f"data set longer than the limit of {self.max_dataset_length} bytes")
        self._data_parts.append(bytes(pdv.data))
        if not pdv.is_last:
            return None
        message = DimseMessage(self._context_id, self._command, b"".join(self._data_parts))
        self.reset()
        return message

    def _stream(self, pdv: PDV) -> DimseMessage | None:
        if self._sink_error is None:
            try:
                self._sink.write(pdv.data)
            except OSError as exc:  # a full disk: the message fails, the association goes on
                self._sink_error = exc
        if not pdv.is_last:
            return None
        assert self._context_id is not None and self._command is not None
        message = DimseMessage(self._context_id, self._command, None, self._sink,
                               self._sink_error)
        self.reset()
        return message


class MessageIDs:
    """Message IDs for requests: 1, 2, ... 65535, then 1 again (never 0)."""

    __slots__ = ("_last",)

    def __init__(self, start: int = 1) -> None:
        if not 1 <= start <= 0xFFFF:
            raise ValueError("a message ID is 1 to 65535")
        self._last = start - 1

    def next(self) -> int:
        self._last = self._last % 0xFFFF + 1
        return self._last

    __next__ = next

    def __iter__(self) -> "MessageIDs":
        return self
