"""The events of an association (A-ASSOCIATE, P-DATA, A-RELEASE, A-ABORT
service primitives as dataclasses), presentation contexts, the acceptor's
negotiation helpers and the conversions between events and PDUs; used by
:mod:`fastdicom.net.association`, which re-exports them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Collection, Iterable, Mapping, Sequence

import fastdicom as _fastdicom
from fastdicom.net import pdu as _pdu
from fastdicom.net.errors import LocalProtocolError, MalformedPDUError
from fastdicom.uid import FASTDICOM_IMPLEMENTATION_UID

APPLICATION_CONTEXT_NAME = _pdu.APPLICATION_CONTEXT_NAME
#: Explicit VR little endian, implicit VR little endian.
DEFAULT_TRANSFER_SYNTAXES = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")
#: The maximum P-DATA-TF PDU length we announce (and accept), as DCMTK and pynetdicom.
DEFAULT_MAX_PDU_LENGTH = 16382
#: The largest A-ASSOCIATE-RQ/AC PDU accepted.
DEFAULT_MAX_ASSOCIATE_LENGTH = 1 << 20
IMPLEMENTATION_VERSION_NAME = f"FASTDICOM_{_fastdicom.__version__}"[:16]



# -- events -----------------------------------------------------------------------------------
@dataclass
class PresentationContext:
    """Proposed (``result`` None) or answered (when accepted, the one transfer syntax)."""
    context_id: int
    abstract_syntax: str | None = None
    transfer_syntaxes: list[str] = field(default_factory=list)
    result: int | None = None

    @property
    def accepted(self) -> bool:
        return self.result == _pdu.PresentationContextResult.ACCEPTANCE

    @property
    def transfer_syntax(self) -> str | None:
        """The transfer syntax agreed (None unless accepted)."""
        return self.transfer_syntaxes[0] if self.accepted and self.transfer_syntaxes else None


class Event:
    """Base class of the events of an association."""


@dataclass
class _AssociateBase(Event):
    calling_ae_title: str = "ANY-SCU"
    called_ae_title: str = "ANY-SCP"
    presentation_contexts: list[PresentationContext] = field(default_factory=list)
    application_context_name: str = APPLICATION_CONTEXT_NAME
    #: Largest P-DATA-TF the sender takes (0: no limit; None: the association's).
    max_pdu_length: int | None = None
    implementation_class_uid: str = str(FASTDICOM_IMPLEMENTATION_UID)
    implementation_version_name: str | None = IMPLEMENTATION_VERSION_NAME
    protocol_version: int = 1
    #: (maximum operations invoked, performed), PS3.7 D.3.3.3.
    async_ops_window: tuple[int, int] | None = None
    #: SOP class UID -> (SCU role, SCP role), PS3.7 D.3.3.4.
    role_selection: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    #: Other user information sub-items (:mod:`fastdicom.net.pdu` items), as they are.
    user_items: list[Any] = field(default_factory=list)

    def context(self, context_id: int) -> PresentationContext | None:
        return next((c for c in self.presentation_contexts if c.context_id == context_id), None)


class AssociateRequest(_AssociateBase):
    """A-ASSOCIATE request (sent by the requestor) or indication (acceptor)."""


class AssociateAccept(_AssociateBase):
    """A-ASSOCIATE response/confirmation (accept): a result per presentation context."""


@dataclass
class AssociateReject(Event):
    """A-ASSOCIATE-RJ: result, source and reason of PS3.8 table 9-21."""
    result: int = _pdu.RejectResult.REJECTED_PERMANENT
    source: int = _pdu.RejectSource.SERVICE_USER
    reason: int = _pdu.REJECT_USER_NO_REASON


@dataclass
class PData(Event):
    """P-DATA: the PDVs ``(context_id, is_command, is_last, data)`` of one P-DATA-TF PDU."""
    pdvs: list[Any] = field(default_factory=list)


@dataclass
class ReleaseRequest(Event):
    """A-RELEASE request/indication; ``collision`` when both sides asked at once."""
    collision: bool = False


@dataclass
class ReleaseReply(Event):
    """A-RELEASE response/confirmation; ``collision`` as for ReleaseRequest."""
    collision: bool = False


@dataclass
class Abort(Event):
    """A-ABORT / A-P-ABORT: source (0 user, 2 provider) and reason of PS3.8 table 9-26;
    ``remote`` when the peer sent it in an A-ABORT PDU."""
    source: int = _pdu.AbortSource.SERVICE_USER
    reason: int = _pdu.AbortReason.NOT_SPECIFIED
    remote: bool = False

    @property
    def provider(self) -> bool:  # an A-P-ABORT
        return self.source == _pdu.AbortSource.SERVICE_PROVIDER


@dataclass
class ConnectionClosed(Event):
    """The association is over and its transport connection closed (or to be closed)."""


# -- negotiation helpers ---------------------------------------------------------------------
def propose_contexts(abstract_syntaxes: Iterable[str | tuple[str, Sequence[str]]],
                     transfer_syntaxes: Sequence[str] = DEFAULT_TRANSFER_SYNTAXES,
                     ) -> list[PresentationContext]:
    """Presentation contexts for a request: IDs 1, 3, 5 ...; each item a UID
    (offered with ``transfer_syntaxes``) or ``(uid, transfer syntaxes)``."""
    out = []
    for i, item in enumerate(abstract_syntaxes):
        uid, syntaxes = (item, transfer_syntaxes) if isinstance(item, str) else item
        if i >= 128:
            raise LocalProtocolError("at most 128 presentation contexts fit in a request")
        out.append(PresentationContext(2 * i + 1, str(uid), [str(s) for s in syntaxes]))
    return out


def negotiate_contexts(requested: Sequence[PresentationContext],
                       supported: Mapping[str, Collection[str]], *,
                       requestor_order: bool = False) -> list[PresentationContext]:
    """The acceptor's answers to ``requested``: each context accepted with the
    first transfer syntax of ``supported[abstract syntax]`` (the acceptor's
    order of preference; with ``requestor_order``, the first proposed that is
    supported) that was proposed, else rejected (3: abstract syntax not
    supported, 4: transfer syntaxes not supported)."""
    result = _pdu.PresentationContextResult
    out = []
    for ctx in requested:
        ours = supported.get(ctx.abstract_syntax or "")
        if requestor_order:
            chosen = next((ts for ts in ctx.transfer_syntaxes if ts in (ours or ())), None)
        else:
            chosen = next((ts for ts in ours or () if ts in ctx.transfer_syntaxes), None)
        if chosen is not None:
            out.append(PresentationContext(ctx.context_id, ctx.abstract_syntax, [chosen],
                                           result.ACCEPTANCE))
        else:
            out.append(PresentationContext(
                ctx.context_id, ctx.abstract_syntax, list(ctx.transfer_syntaxes[:1]),
                result.ABSTRACT_SYNTAX_NOT_SUPPORTED if ours is None
                else result.TRANSFER_SYNTAXES_NOT_SUPPORTED))
    return out


def negotiate_roles(proposed: Mapping[str, tuple[bool, bool]],
                    allowed: Mapping[str, tuple[bool, bool]]) -> dict[str, tuple[bool, bool]]:
    """The acceptor's answer to SCU/SCP role selection (PS3.7 D.3.3.4): a role
    is granted when proposed and allowed; SOP classes not in ``allowed`` get
    the default roles (requestor SCU only)."""
    ok = {uid: allowed.get(uid, (True, False)) for uid in proposed}
    return {uid: (bool(scu and ok[uid][0]), bool(scp and ok[uid][1]))
            for uid, (scu, scp) in proposed.items()}


def accept_request(request: AssociateRequest, supported: Mapping[str, Collection[str]], *,
                   roles: Mapping[str, tuple[bool, bool]] | None = None,
                   max_pdu_length: int | None = None,
                   requestor_order: bool = False) -> AssociateAccept:
    """An :class:`AssociateAccept` answering ``request`` (see
    :func:`negotiate_contexts` and :func:`negotiate_roles`)."""
    return AssociateAccept(
        calling_ae_title=request.calling_ae_title, called_ae_title=request.called_ae_title,
        presentation_contexts=negotiate_contexts(request.presentation_contexts, supported,
                                                 requestor_order=requestor_order),
        application_context_name=request.application_context_name,
        max_pdu_length=max_pdu_length,
        role_selection=negotiate_roles(request.role_selection, roles or {}))


# -- conversions between events and PDUs -------------------------------------------------------
def _peer_max(event: _AssociateBase) -> int:
    """The peer's maximum P-DATA-TF length (PS3.8 D.1; absent: the usual default)."""
    return DEFAULT_MAX_PDU_LENGTH if event.max_pdu_length is None else event.max_pdu_length


def _user_information(event: _AssociateBase) -> Any:
    items: list[Any] = [_pdu.MaximumLengthItem(event.max_pdu_length or 0),
                        _pdu.ImplementationClassUIDItem(event.implementation_class_uid)]
    if event.async_ops_window is not None:
        items.append(_pdu.AsynchronousOperationsWindowItem(*event.async_ops_window))
    for uid, (scu, scp) in event.role_selection.items():
        items.append(_pdu.RoleSelectionItem(uid, int(scu), int(scp)))
    if event.implementation_version_name:
        items.append(_pdu.ImplementationVersionNameItem(event.implementation_version_name))
    items.extend(event.user_items)
    items.sort(key=lambda item: item.item_type)  # PS3.7 D.3.3: sub-items in type order
    return _pdu.UserInformationItem(items)


def _event_fields(pdu: Any) -> dict[str, Any]:
    ui = pdu.user_information or _pdu.UserInformationItem()
    window = ui.find(_pdu.AsynchronousOperationsWindowItem)
    known = (_pdu.MaximumLengthItem, _pdu.ImplementationClassUIDItem,
             _pdu.ImplementationVersionNameItem, _pdu.AsynchronousOperationsWindowItem,
             _pdu.RoleSelectionItem)
    return dict(
        calling_ae_title=pdu.calling_ae_title, called_ae_title=pdu.called_ae_title,
        application_context_name=pdu.application_context or "",
        max_pdu_length=ui.maximum_length, protocol_version=pdu.protocol_version,
        implementation_class_uid=ui.implementation_class_uid or "",
        implementation_version_name=ui.implementation_version_name,
        async_ops_window=None if window is None else (window.max_operations_invoked,
                                                      window.max_operations_performed),
        role_selection={r.sop_class_uid: (bool(r.scu_role), bool(r.scp_role))
                        for r in ui.find_all(_pdu.RoleSelectionItem)},
        user_items=[i for i in ui.sub_items if not isinstance(i, known)])


def _request_from_pdu(pdu: Any) -> AssociateRequest:
    contexts, seen = [], set()
    for pc in pdu.presentation_contexts:
        if pc.context_id in seen:
            raise MalformedPDUError(f"presentation context ID {pc.context_id} used twice")
        if not pc.abstract_syntax or not pc.transfer_syntaxes:
            raise MalformedPDUError(f"presentation context {pc.context_id} without an abstract "
                                    "syntax or a transfer syntax")
        seen.add(pc.context_id)
        contexts.append(PresentationContext(pc.context_id, pc.abstract_syntax,
                                            list(pc.transfer_syntaxes)))
    if not contexts:
        raise MalformedPDUError("an A-ASSOCIATE-RQ without presentation contexts")
    if pdu.application_context is None:
        raise MalformedPDUError("an A-ASSOCIATE-RQ without an application context")
    return AssociateRequest(presentation_contexts=contexts, **_event_fields(pdu))


def _accept_from_pdu(pdu: Any, request: AssociateRequest) -> AssociateAccept:
    contexts = []
    for pc in pdu.presentation_contexts:
        proposed = request.context(pc.context_id)
        if proposed is None:
            raise MalformedPDUError(f"presentation context {pc.context_id} was not proposed")
        ts = [pc.transfer_syntax] if pc.transfer_syntax else []
        if pc.result == _pdu.PresentationContextResult.ACCEPTANCE and (
                not ts or ts[0] not in proposed.transfer_syntaxes):
            raise MalformedPDUError(f"presentation context {pc.context_id} accepted with a "
                                    f"transfer syntax not proposed: {pc.transfer_syntax!r}")
        contexts.append(PresentationContext(pc.context_id, proposed.abstract_syntax, ts,
                                            pc.result))
    return AssociateAccept(presentation_contexts=contexts, **_event_fields(pdu))
