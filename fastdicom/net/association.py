"""A sans-IO DICOM association (PS3.8), in the style of h11: one side of one
association, no sockets, no clock, no event loop; the caller moves the bytes::

    assoc.connection_made()        # transport up: Evt2 (requestor) / Evt5 (acceptor)
    assoc.receive_data(data)       # bytes from the peer; b"" means end of stream (Evt17)
    assoc.get_buffer() / assoc.buffer_updated(n)   # or: receive in place (no copy)
    assoc.next_event()             # an event for the user, or NEED_DATA
    assoc.send(event) -> bytes     # an event of the user, as bytes for the peer
    assoc.data_to_send() -> bytes  # bytes the protocol itself produced (an A-ABORT ...)
    assoc.should_close             # the transport is to be closed now
    assoc.timer_expired(now)       # the ARTIM timer (assoc.artim_deadline) ran out?

Every state change goes through :mod:`fastdicom.net.fsm` (PS3.8 table 9-10).
Received PDUs are framed by :class:`fastdicom._core.PDUReader` within size
limits and put together into :class:`DimseMessage` events within limits on
the command and data set sizes. ``now`` is the caller's clock (seconds);
when left out, ``clock()`` (:func:`time.monotonic`) is read.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import replace
from typing import Any, Callable, Iterator

from fastdicom.net import dimse as _dimse
from fastdicom.net import pdu as _pdu
from fastdicom.net.errors import LocalProtocolError, MalformedPDUError, RemoteProtocolError
from fastdicom.net.events import (  # noqa: F401  (re-exported)
    APPLICATION_CONTEXT_NAME, DEFAULT_MAX_ASSOCIATE_LENGTH, DEFAULT_MAX_PDU_LENGTH,
    DEFAULT_TRANSFER_SYNTAXES, IMPLEMENTATION_VERSION_NAME, Abort, AssociateAccept,
    AssociateReject, AssociateRequest, ConnectionClosed, Event, PData, PresentationContext,
    ReleaseReply, ReleaseRequest, _accept_from_pdu, _AssociateBase, _peer_max, _request_from_pdu,
    _user_information, accept_request, negotiate_contexts, negotiate_roles, propose_contexts)
from fastdicom.net.fsm import DEFAULT_ARTIM_TIMEOUT, StateMachine, Transition

__all__ = [
    "Association", "REQUESTOR", "ACCEPTOR", "NEED_DATA", "PresentationContext",
    "AssociateRequest", "AssociateAccept", "AssociateReject", "PData", "ReleaseRequest",
    "ReleaseReply", "Abort", "ConnectionClosed", "DimseMessage", "propose_contexts",
    "negotiate_contexts", "negotiate_roles", "accept_request", "APPLICATION_CONTEXT_NAME",
    "DEFAULT_TRANSFER_SYNTAXES", "DEFAULT_MAX_PDU_LENGTH", "DEFAULT_MAX_ASSOCIATE_LENGTH",
]

DimseMessage = _dimse.DimseMessage
REQUESTOR, ACCEPTOR = "requestor", "acceptor"


class _NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = _NeedData()  #: :meth:`Association.next_event`: nothing until more bytes arrive


# -- the association --------------------------------------------------------------------------
#: Data sets from this size on are sent as views (``vectored``), not encoded with the command.
_VECTOR_FROM = 1 << 16


class Association:
    """One side of a DICOM association, sans-IO (see the module docstring).

    ``check_request`` (acceptor) is called on each A-ASSOCIATE-RQ before the
    user sees it (PS3.8 AE-6, "acceptable by the service-provider"): it
    returns an :class:`AssociateReject` to refuse it, or None. Requests for
    another protocol version, another application context or (when
    ``ae_title`` is set) another called AE title are refused without it.
    ``assemble=False`` delivers :class:`PData` events instead of messages;
    ``dataset_sink`` streams received data sets (see
    :class:`~fastdicom.net.dimse.MessageAssembler`).
    """

    def __init__(self, role: str, *, ae_title: str | None = None,
                 max_pdu_length: int = DEFAULT_MAX_PDU_LENGTH,
                 max_associate_length: int = DEFAULT_MAX_ASSOCIATE_LENGTH,
                 max_command_length: int | None = _dimse.DEFAULT_MAX_COMMAND_LENGTH,
                 max_dataset_length: int | None = _dimse.DEFAULT_MAX_DATASET_LENGTH,
                 artim_timeout: float = DEFAULT_ARTIM_TIMEOUT, assemble: bool = True,
                 check_request: Callable[[AssociateRequest], AssociateReject | None] | None = None,
                 dataset_sink: Callable[[int, Any], Any] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if role not in (REQUESTOR, ACCEPTOR):
            raise ValueError(f"role must be {REQUESTOR!r} or {ACCEPTOR!r}")
        self.role = role
        self.ae_title = ae_title
        self.max_pdu_length = max_pdu_length
        self.assemble = assemble
        self.check_request = check_request
        self._clock = clock
        self._fsm = StateMachine(role == REQUESTOR, artim_timeout)
        self._reader = _pdu.PDUReader(max_pdu_length, max_associate_length)
        self._assembler = _dimse.MessageAssembler(max_command_length, max_dataset_length,
                                                  dataset_sink)
        self._events: deque[Any] = deque()
        self._outbox: list[bytes] = []
        self._connected = False
        self._closed = False
        self._reader_failed = False
        self._request_bytes = b""
        self.request: AssociateRequest | None = None  # sent or received
        self.accept: AssociateAccept | None = None
        self.peer_max_pdu_length = DEFAULT_MAX_PDU_LENGTH  # 0: no limit
        self.accepted_contexts: dict[int, PresentationContext] = {}

    # -- state ------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """The state of PS3.8 table 9-10 (``"Sta1"`` .. ``"Sta13"``)."""
        return self._fsm.state

    @property
    def is_established(self) -> bool:
        return self._fsm.state == "Sta6"

    @property
    def should_close(self) -> bool:
        """The association is over: close the transport (after :meth:`data_to_send`)."""
        return self._closed

    @property
    def dataset_sink(self) -> Callable[[int, Any], Any] | None:
        """The factory of sinks received data sets stream into (see
        :class:`~fastdicom.net.dimse.MessageAssembler`); settable, e.g. while a
        C-GET brings instances."""
        return self._assembler.dataset_sink

    @dataset_sink.setter
    def dataset_sink(self, factory: Callable[[int, Any], Any] | None) -> None:
        self._assembler.dataset_sink = factory

    @property
    def artim_deadline(self) -> float | None:
        """When the ARTIM timer runs out (caller's clock), None when not running."""
        return self._fsm.artim_deadline

    def context_for(self, abstract_syntax: str,
                    transfer_syntax: str | None = None) -> PresentationContext:
        """An accepted presentation context for ``abstract_syntax`` (and ``transfer_syntax``)."""
        for ctx in self.accepted_contexts.values():
            if ctx.abstract_syntax == abstract_syntax and transfer_syntax in (
                    None, ctx.transfer_syntax):
                return ctx
        raise LocalProtocolError(f"no accepted presentation context for {abstract_syntax} "
                                 f"({transfer_syntax or 'any transfer syntax'})")

    # -- transport and timer ------------------------------------------------------------
    def _fire(self, event: str, now: float | None, **kw: Any) -> Transition:
        t = self._fsm.fire(event, self._clock() if now is None else now, **kw)
        self._closed = self._closed or t.next_state == "Sta1"
        return t

    def connection_made(self, now: float | None = None) -> bytes:
        """The transport connection is up: the requestor's connect confirmation
        (Evt2, AE-2: returns the A-ASSOCIATE-RQ) or the acceptor's connection
        indication (Evt5, AE-5: starts ARTIM, returns b"")."""
        self._fire("Evt2" if self.role == REQUESTOR else "Evt5", now)
        self._connected = True
        return self._request_bytes

    def connection_lost(self, now: float | None = None) -> None:
        """The transport connection closed (Evt17), after the PDUs received before."""
        while self._connected and not self._closed and self._next_pdu(now):
            pass
        if self._fsm.state == "Sta1":  # closed by us already, or never opened
            self._closed = self._closed or self._connected
            return
        if self._fire("Evt17", now).indication == "A-P-ABORT":  # AA-4
            self._events.append(Abort(_pdu.AbortSource.SERVICE_PROVIDER))
        self._closed = True

    def receive_data(self, data: bytes | bytearray | memoryview,
                     now: float | None = None) -> None:
        """Bytes received from the peer; empty means the peer closed (Evt17)."""
        if not data:
            self.connection_lost(now)
        elif not self._connected:
            raise LocalProtocolError("data received before the transport connection was made")
        elif not (self._closed or self._reader_failed):  # else the bytes are ignored
            self._reader.feed(data)

    def get_buffer(self, sizehint: int = -1) -> memoryview:
        """A writable view to receive the next bytes into, then call
        :meth:`buffer_updated` (the receiving side of
        :class:`asyncio.BufferedProtocol`; use this or :meth:`receive_data`,
        not both): bytes are framed where they land, never copied."""
        return self._reader.get_buffer(sizehint)

    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` were received into the view of :meth:`get_buffer`."""
        if not self._connected:
            raise LocalProtocolError("data received before the transport connection was made")
        if not (self._closed or self._reader_failed):  # else the bytes are ignored
            self._reader.buffer_updated(nbytes)

    def timer_expired(self, now: float | None = None) -> bool:
        """Whether the ARTIM timer has run out at ``now``; if so Evt18 is applied
        (AA-2: the transport is to be closed, see :attr:`should_close`)."""
        if not self._fsm.artim_expired(self._clock() if now is None else now):
            return False
        self._fire("Evt18", now)
        return True

    def data_to_send(self) -> bytes:
        """Bytes the protocol produced while receiving (A-ABORT, A-ASSOCIATE-RJ ...)."""
        out, self._outbox = b"".join(self._outbox), []
        return out

    # -- receiving --------------------------------------------------------------------
    def next_event(self, now: float | None = None) -> Any:
        """The next event: an :class:`Event`, a :class:`DimseMessage`, or
        :data:`NEED_DATA`; after the end, :class:`ConnectionClosed` every time."""
        while not self._events:
            if self._closed:
                return ConnectionClosed()
            if not self._connected or not self._next_pdu(now):
                return NEED_DATA
        return self._events.popleft()

    def _next_pdu(self, now: float | None) -> bool:
        """Handle the next complete PDU received; False when there is none."""
        if self._reader_failed:
            return False
        try:
            pdu = self._reader.next_pdu()
        except RemoteProtocolError as exc:  # the stream can no longer be framed
            self._reader_failed = True
            self._invalid_pdu(exc, now)
            return True
        if pdu is None:
            return False
        self._received(pdu, now)
        return True

    def _protocol_abort(self, t: Transition, reason: int) -> None:
        """Carry out AA-1, AA-7 or AA-8 when the peer caused them."""
        name = t.action.name
        if name == "AA-1":  # PS3.8: service-user source
            self._outbox.append(_pdu.AAbort(_pdu.AbortSource.SERVICE_USER).encode())
        elif name in ("AA-7", "AA-8"):
            self._outbox.append(_pdu.AAbort(_pdu.AbortSource.SERVICE_PROVIDER, reason).encode())
        if name == "AA-8":  # ... and an A-P-ABORT indication
            self._events.append(Abort(_pdu.AbortSource.SERVICE_PROVIDER, reason))

    def _invalid_pdu(self, exc: RemoteProtocolError, now: float | None) -> None:
        self._protocol_abort(self._fire("Evt19", now), getattr(exc, "abort_reason", 0) or 0)

    def _received(self, pdu: Any, now: float | None) -> None:
        kind = type(pdu)
        if kind is _pdu.PDataTF:
            return self._received_pdata(pdu, now)
        if kind is _pdu.AAssociateRQ:
            return self._received_request(pdu, now)
        if kind is _pdu.AAbort:
            if self._fire("Evt16", now).action.name == "AA-3":
                self._events.append(Abort(pdu.source, pdu.reason, remote=True))
            return None
        if kind is _pdu.AAssociateAC:
            try:
                accept = (_accept_from_pdu(pdu, self.request)
                          if self._fsm.state == "Sta5" and self.request else None)
            except RemoteProtocolError as exc:
                return self._invalid_pdu(exc, now)
            t = self._fire("Evt3", now)
            if t.action.name == "AE-3" and accept is not None:
                self.accept = accept
                self.peer_max_pdu_length = _peer_max(accept)
                self.accepted_contexts = {c.context_id: c for c in accept.presentation_contexts
                                          if c.accepted}
                self._events.append(accept)
        elif kind is _pdu.AAssociateRJ:
            t = self._fire("Evt4", now)
            if t.action.name == "AE-4":
                self._events.append(AssociateReject(pdu.result, pdu.source, pdu.reason))
        elif kind is _pdu.AReleaseRQ:
            t = self._fire("Evt12", now)
            if t.indication == "A-RELEASE":  # AR-2, AR-8 (collision)
                self._events.append(ReleaseRequest(collision=t.action.name == "AR-8"))
        else:  # A-RELEASE-RP (the reader gives only the seven PDU types)
            t = self._fire("Evt13", now)
            if t.indication == "A-RELEASE-confirmation":  # AR-3, AR-10
                self._events.append(ReleaseReply(collision=t.state != "Sta7"))
        return self._protocol_abort(t, _pdu.AbortReason.UNEXPECTED_PDU)

    def _received_request(self, pdu: Any, now: float | None) -> None:
        if self._fsm.state != "Sta2":  # AA-8 / AA-7: a second A-ASSOCIATE-RQ
            return self._protocol_abort(self._fire("Evt6", now), _pdu.AbortReason.UNEXPECTED_PDU)
        try:
            request = _request_from_pdu(pdu)
        except RemoteProtocolError as exc:
            return self._invalid_pdu(exc, now)
        reject = self._provider_check(request)
        if self._fire("Evt6", now, acceptable=reject is None).send == "A-ASSOCIATE-RJ":
            assert reject is not None
            self._outbox.append(_pdu.AAssociateRJ(reject.result, reject.source,
                                                  reject.reason).encode())
            return None
        self.request = request
        self.peer_max_pdu_length = _peer_max(request)
        self._events.append(request)
        return None

    def _provider_check(self, request: AssociateRequest) -> AssociateReject | None:
        rj, user = _pdu.RejectResult.REJECTED_PERMANENT, _pdu.RejectSource.SERVICE_USER
        if not request.protocol_version & 1:
            return AssociateReject(rj, _pdu.RejectSource.SERVICE_PROVIDER_ACSE,
                                   _pdu.REJECT_ACSE_PROTOCOL_VERSION_NOT_SUPPORTED)
        if request.application_context_name != APPLICATION_CONTEXT_NAME:
            return AssociateReject(rj, user, _pdu.REJECT_USER_APPLICATION_CONTEXT_NOT_SUPPORTED)
        if self.ae_title is not None and request.called_ae_title != self.ae_title:
            return AssociateReject(rj, user, _pdu.REJECT_USER_CALLED_AE_NOT_RECOGNIZED)
        return self.check_request(request) if self.check_request is not None else None

    def _received_pdata(self, pdu: Any, now: float | None) -> None:
        if self._fsm.state in ("Sta6", "Sta7"):
            bad = [p.context_id for p in pdu.pdvs if p.context_id not in self.accepted_contexts]
            if bad:
                return self._invalid_pdu(MalformedPDUError(
                    f"a PDV for presentation context {bad[0]}, not accepted"), now)
        t = self._fire("Evt10", now)
        if t.indication != "P-DATA":  # AA-1, AA-8, AA-6
            return self._protocol_abort(t, _pdu.AbortReason.UNEXPECTED_PDU)
        if not self.assemble:
            self._events.append(PData(list(pdu.pdvs)))
            return None
        for pdv in pdu.pdvs:
            try:
                message = self._assembler.add(pdv)
            except RemoteProtocolError as exc:
                self._assembler.reset()
                return self._invalid_pdu(exc, now)
            if message is not None:
                self._events.append(message)
        return None

    # -- sending ----------------------------------------------------------------------
    def send(self, event: Any, now: float | None = None) -> bytes:
        """Send a user event; returns the bytes to write to the transport.

        Raises :class:`LocalProtocolError` (nothing changes) when the event is
        not allowed in the current state or cannot be encoded."""
        if isinstance(event, _dimse.DimseMessage):
            return b"".join(self.send_message(event, None, now))
        if isinstance(event, AssociateRequest):
            if self.role != REQUESTOR:
                raise LocalProtocolError("only the requestor sends an A-ASSOCIATE request")
            self._check("Evt1")
            event = replace(event, max_pdu_length=self._max(event))
            self._request_bytes = _pdu.AAssociateRQ(
                event.called_ae_title, event.calling_ae_title,
                [_pdu.PresentationContextRQItem(c.context_id, c.abstract_syntax,
                                                list(c.transfer_syntaxes))
                 for c in event.presentation_contexts],
                _user_information(event), event.application_context_name,
                event.protocol_version).encode()
            self.request = event
            self._fire("Evt1", now)  # AE-1: the caller opens the transport connection
            return b""
        if isinstance(event, AssociateAccept):
            self._check("Evt7")
            return self._send_accept(event, now)
        if isinstance(event, AssociateReject):
            self._check("Evt8")
            data = _pdu.AAssociateRJ(event.result, event.source, event.reason).encode()
            self._fire("Evt8", now)  # AE-8
            return data
        if isinstance(event, PData):
            self._check("Evt9")
            data = _pdu.PDataTF(list(event.pdvs)).encode()
            if self.peer_max_pdu_length and len(data) - 6 > self.peer_max_pdu_length:
                raise LocalProtocolError("P-DATA-TF PDU longer than the peer's maximum of "
                                         f"{self.peer_max_pdu_length} bytes")
            self._fire("Evt9", now)  # DT-1 / AR-7
            return data
        if isinstance(event, ReleaseRequest):
            self._fire("Evt11", now)  # AR-1
            return _pdu.AReleaseRQ().encode()
        if isinstance(event, ReleaseReply):
            self._fire("Evt14", now)  # AR-4 / AR-9
            return _pdu.AReleaseRP().encode()
        if isinstance(event, Abort):  # AA-1, or AA-2 before the transport is up
            if self._fire("Evt15", now).send != "A-ABORT":
                return b""
            return _pdu.AAbort(_pdu.AbortSource.SERVICE_USER).encode()
        raise LocalProtocolError(f"cannot send {type(event).__name__}")

    def send_message(self, message: _dimse.DimseMessage, piece_size: int | None = 1 << 20,
                     now: float | None = None, *, vectored: bool = False) -> Iterator[Any]:
        """The P-DATA-TF PDUs of ``message`` in pieces of about ``piece_size``
        bytes (None: one piece), each piece a P-DATA request (Evt9), so that a
        large data set is never encoded whole: write each piece before asking
        for the next. Stops early (LocalProtocolError) if the association ends
        in between. With ``vectored``, the pieces after the first are lists of
        buffers (:func:`fastdicom.net.pdu.pdata_vector`: PDU headers and views
        of the data set, for ``writev``), valid until the next piece is asked."""
        self._check("Evt9")
        if message.context_id not in self.accepted_contexts:
            raise LocalProtocolError(f"presentation context {message.context_id} is not "
                                     "accepted")
        cid, data = message.context_id, message.data
        payloads: list[tuple[Any, ...]] = [(cid, True, message.encode_command())]
        n = 0 if data is None else len(data)
        if data is not None and (piece_size is None or n <= piece_size) and \
                not (vectored and n > _VECTOR_FROM):
            payloads.append((cid, False, data))
            data = None
        first = _pdu.encode_pdata(payloads, self.peer_max_pdu_length)
        self._fire("Evt9", now)  # DT-1 / AR-7
        yield first
        if data is None:
            return
        step = max(piece_size or n, 2)
        step -= step % 2  # fragments of even length
        with memoryview(data) as view:
            for start in range(0, n, step):
                end = min(start + step, n)
                self._check("Evt9")
                if vectored:
                    piece = _pdu.pdata_vector(cid, view[start:end], end == n,
                                              self.peer_max_pdu_length)
                else:
                    with view[start:end] as part:
                        piece = _pdu.encode_pdata([(cid, False, part, end == n)],
                                                  self.peer_max_pdu_length)
                self._fire("Evt9", now)
                yield piece

    @property
    def transitions(self) -> list[Transition]:
        """The last transitions of the state machine, oldest first."""
        return list(self._fsm.history)

    def _check(self, event: str) -> None:
        if not self._fsm.allowed(event):
            self._fsm.fire(event)  # raises LocalProtocolError, naming state and event

    def _max(self, event: _AssociateBase) -> int:
        return self.max_pdu_length if event.max_pdu_length is None else event.max_pdu_length

    def _send_accept(self, event: AssociateAccept, now: float | None) -> bytes:
        request = self.request
        assert request is not None
        answered = sorted(c.context_id for c in event.presentation_contexts)
        if answered != sorted(c.context_id for c in request.presentation_contexts):
            raise LocalProtocolError("an A-ASSOCIATE-AC answers each proposed presentation "
                                     "context once")
        contexts = []
        for ctx in event.presentation_contexts:
            proposed = request.context(ctx.context_id)
            assert proposed is not None
            if ctx.result is None or ctx.accepted and (
                    len(ctx.transfer_syntaxes) != 1 or
                    ctx.transfer_syntaxes[0] not in proposed.transfer_syntaxes):
                raise LocalProtocolError(f"presentation context {ctx.context_id}: no result, or "
                                         "not one of the proposed transfer syntaxes accepted")
            contexts.append(replace(ctx, abstract_syntax=proposed.abstract_syntax))
        event = replace(event, max_pdu_length=self._max(event), presentation_contexts=contexts)
        data = _pdu.AAssociateAC(
            request.called_ae_title, request.calling_ae_title,
            [_pdu.PresentationContextACItem(c.context_id, int(c.result or 0),
                                            (c.transfer_syntaxes or [None])[0])
             for c in contexts],
            _user_information(event), event.application_context_name,
            event.protocol_version).encode()
        self._fire("Evt7", now)  # AE-7
        self.accept = event
        self.accepted_contexts = {c.context_id: c for c in contexts if c.accepted}
        return data

    def __repr__(self) -> str:
        return f"<Association {self.role} {self.state}>"
