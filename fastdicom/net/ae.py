"""Application Entities: what we are on the network, and how we connect and serve.

>>> ae = AE("MY-SCU")
>>> with ae.associate("127.0.0.1", 11112, ae_title="STORESCP") as assoc:   # blocking
...     assoc.echo()
...     assoc.store("ct.dcm")

or, in asyncio code, ``assoc = await ae.connect(...)`` / ``await assoc.store(...)``
(:class:`~fastdicom.net.client.ClientAssociation`) and ``server = await
ae.start_server(host, port, storage_dir=..., handlers=...)``
(:class:`~fastdicom.net.server.Server`); the blocking ``ae.serve(...)`` runs a
server until interrupted (or in the background with ``block=False``).
TLS: pass an :class:`ssl.SSLContext` as ``ssl``.
"""
from __future__ import annotations

import asyncio
import os
from typing import Any, Iterable, Sequence

from fastdicom.net import dimse as _dimse
from fastdicom.net import storage as _storage
from fastdicom.net.association import (
    DEFAULT_TRANSFER_SYNTAXES, REQUESTOR, Abort, AssociateAccept,
    AssociateReject, AssociateRequest, Association, ConnectionClosed, propose_contexts)
from fastdicom.net.client import ClientAssociation
from fastdicom.net.errors import (
    AssociationAborted, AssociationClosed, AssociationRejected, NetworkTimeout)
from fastdicom.net.server import Server
from fastdicom.net.transport import AssociationProtocol

__all__ = ["AE", "VERIFICATION_SOP_CLASS", "ANY_TRANSFER_SYNTAX"]

VERIFICATION_SOP_CLASS = _dimse.VERIFICATION_SOP_CLASS
#: The largest P-DATA-TF PDU an AE accepts by default (peers send in pieces of that size:
#: fewer, larger PDUs than the usual 16 KB; memory per association stays bounded by it).
AE_MAX_PDU_LENGTH = 262144
#: A supported context's transfer syntaxes: every one the UID dictionary knows.
ANY_TRANSFER_SYNTAX = None


def _title(value: str, what: str) -> str:
    text = str(value).strip()
    if not 0 < len(text) <= 16 or "\\" in text or not text.isprintable():
        raise ValueError(f"{what} must be 1 to 16 printable characters: {value!r}")
    return text


class AE:
    """An Application Entity: its title, the presentation contexts it proposes
    (as SCU) and supports (as SCP), its timeouts (seconds; None: none) and
    limits.

    - ``acse_timeout``: for the A-ASSOCIATE and A-RELEASE answers (and the
      ARTIM timer: a connection that sends no A-ASSOCIATE-RQ is closed after it);
    - ``dimse_timeout``: for each DIMSE response;
    - ``idle_timeout``: an SCP aborts an association idle for that long;
    - ``max_pdu_length``: the largest P-DATA-TF we accept (announced to peers;
      256 KB by default);
    - ``async_ops_window``: operations outstanding at once that we propose (SCU)
      or allow (SCP); 1 is synchronous, the default of most peers;
    - ``require_called_aet``: as SCP, reject requests not addressed to ``ae_title``;
      ``allowed_calling_aets``: if set, the only calling titles accepted.
    """

    def __init__(self, ae_title: str = "FASTDICOM", *, acse_timeout: float | None = 30.0,
                 dimse_timeout: float | None = 30.0, idle_timeout: float | None = 60.0,
                 connect_timeout: float | None = 30.0,
                 max_pdu_length: int = AE_MAX_PDU_LENGTH, async_ops_window: int = 16,
                 require_called_aet: bool = False,
                 allowed_calling_aets: Iterable[str] | None = None,
                 max_associations: int = 256) -> None:
        self.ae_title = _title(ae_title, "an AE title")
        self.acse_timeout = acse_timeout
        self.dimse_timeout = dimse_timeout
        self.idle_timeout = idle_timeout
        self.connect_timeout = connect_timeout
        self.max_pdu_length = int(max_pdu_length)
        self.async_ops_window = int(async_ops_window)
        self.require_called_aet = require_called_aet
        self.allowed_calling_aets = None if allowed_calling_aets is None else {
            _title(t, "a calling AE title") for t in allowed_calling_aets}
        self.max_associations = max_associations
        self.requested_contexts: list[tuple[str, list[str]]] = []
        #: abstract syntax -> transfer syntaxes (None: any); None: the defaults (see supported_for)
        self.supported_contexts: dict[str, list[str] | None] | None = None
        #: SOP class -> (SCU role, SCP role) we grant in role selection (C-GET storage)
        self.roles: dict[str, tuple[bool, bool]] = {}
        #: AE title -> (host, port): the C-MOVE destinations we know
        self.known_aes: dict[str, tuple[str, int]] = {}

    # -- contexts ---------------------------------------------------------------------
    def add_requested_context(self, abstract_syntax: str,
                              transfer_syntaxes: Sequence[str] = DEFAULT_TRANSFER_SYNTAXES
                              ) -> None:
        self.requested_contexts.append((str(abstract_syntax), [str(t) for t in
                                                               transfer_syntaxes]))

    def add_supported_context(self, abstract_syntax: str,
                              transfer_syntaxes: Sequence[str] | None = ANY_TRANSFER_SYNTAX
                              ) -> None:
        if self.supported_contexts is None:
            self.supported_contexts = {}
        self.supported_contexts[str(abstract_syntax)] = None if transfer_syntaxes is None \
            else [str(t) for t in transfer_syntaxes]

    def supported_for(self, storage: bool, services: set[str]) -> dict[str, Any]:
        """Abstract syntax -> acceptable transfer syntaxes (a set) as SCP. By
        default: Verification, and when storing, every Storage SOP class in
        every transfer syntax (data sets are kept as received), plus the query
        models the handlers serve."""
        every = _storage.transfer_syntaxes()
        if self.supported_contexts is not None:
            return {uid: every if ts is None else ts
                    for uid, ts in self.supported_contexts.items()}
        out: dict[str, Any] = {VERIFICATION_SOP_CLASS: every}
        if storage:
            out.update(dict.fromkeys(_storage.storage_sop_classes(), every))
        if services & {"find", "get", "move"}:
            from fastdicom.net.services import query_models

            for uid in query_models(services):
                out[uid] = every
        return out

    def roles_for(self, services: set[str]) -> dict[str, tuple[bool, bool]]:
        """The roles we grant in SCP/SCU role selection: :attr:`roles`, and when
        serving C-GET, the requestor may take the SCP role of every Storage SOP
        class (to receive the sub-operations)."""
        if "get" not in services:
            return self.roles
        out = dict.fromkeys(_storage.storage_sop_classes(), (True, True))
        out.update(self.roles)
        return out

    # -- asyncio API ------------------------------------------------------------------
    async def connect(self, host: str, port: int, *, ae_title: str = "ANY-SCP",
                      contexts: Iterable[Any] | None = None, ssl: Any = None,
                      server_hostname: str | None = None,
                      async_ops_window: int | None = None,
                      role_selection: dict[str, tuple[bool, bool]] | None = None,
                      user_items: Iterable[Any] = (),
                      ) -> ClientAssociation:
        """Request an association; ``contexts`` are abstract syntax UIDs or
        ``(uid, transfer syntaxes)`` (default: the requested contexts, else
        Verification); ``user_items``: other user information sub-items (SOP
        class extended negotiation ...). Raises :class:`AssociationRejected`,
        :class:`AssociationAborted`, :class:`NetworkTimeout` or :class:`OSError`."""
        proposed = list(contexts) if contexts is not None else list(self.requested_contexts)
        if not proposed:
            proposed = [VERIFICATION_SOP_CLASS]
        window = self.async_ops_window if async_ops_window is None else async_ops_window
        request = AssociateRequest(
            calling_ae_title=self.ae_title, called_ae_title=_title(ae_title, "a called AE title"),
            presentation_contexts=propose_contexts(proposed),
            max_pdu_length=self.max_pdu_length,
            async_ops_window=(window, 1) if window != 1 else None,
            role_selection=dict(role_selection or {}), user_items=list(user_items))
        assoc = Association(REQUESTOR, max_pdu_length=self.max_pdu_length,
                            artim_timeout=self.acse_timeout or 30.0)
        assoc.send(request)
        loop = asyncio.get_running_loop()
        try:
            _, proto = await asyncio.wait_for(loop.create_connection(
                lambda: AssociationProtocol(assoc), host, port, ssl=ssl,
                server_hostname=server_hostname if ssl else None), self.connect_timeout)
        except asyncio.TimeoutError:
            raise NetworkTimeout(f"no connection to {host}:{port} within "
                                 f"{self.connect_timeout} s") from None
        assert isinstance(proto, AssociationProtocol)
        try:
            event = await proto.next_event(self.acse_timeout)
        except asyncio.TimeoutError:
            proto.send(Abort())
            proto.close()
            raise NetworkTimeout(f"no A-ASSOCIATE answer from {host}:{port} within "
                                 f"{self.acse_timeout} s") from None
        if isinstance(event, AssociateAccept):
            if not assoc.accepted_contexts:
                proto.send(Abort())
                proto.close()
                raise AssociationRejected(0, 0, 0, "no presentation context was accepted")
            return ClientAssociation(proto, event, dimse_timeout=self.dimse_timeout)
        proto.close()
        if isinstance(event, AssociateReject):
            raise AssociationRejected(event.result, event.source, event.reason)
        if isinstance(event, Abort):
            raise AssociationAborted(event.source, event.reason)
        assert isinstance(event, ConnectionClosed)
        raise AssociationClosed(f"{host}:{port} closed the connection before answering")

    async def start_server(self, host: str = "0.0.0.0", port: int = 11112, *,
                           handlers: dict[str, Any] | None = None,
                           storage_dir: str | os.PathLike[str] | None = None,
                           ssl: Any = None, fsync: bool = True, archive: Any = None) -> Server:
        """Listen for associations (port 0: any free port, see ``server.port``);
        ``archive`` (:class:`fastdicom.net.archive.Archive`) indexes what is stored."""
        if storage_dir is not None:
            os.makedirs(storage_dir, exist_ok=True)
        return await Server(self, handlers, storage_dir, fsync=fsync,
                            archive=archive).start(host, port, ssl)

    # -- blocking API -----------------------------------------------------------------
    def associate(self, host: str, port: int, **kw: Any) -> Any:
        """:meth:`connect`, blocking: a
        :class:`~fastdicom.net.blocking.BlockingAssociation`."""
        from fastdicom.net.blocking import BlockingAssociation, run

        return BlockingAssociation(run(self.connect(host, port, **kw)))

    def serve(self, host: str = "0.0.0.0", port: int = 11112, *, block: bool = True,
              **kw: Any) -> Any:
        """:meth:`start_server`, blocking: serves until interrupted; with
        ``block=False`` returns a :class:`~fastdicom.net.blocking.ServerHandle`
        (its server runs in a background thread)."""
        from fastdicom.net.blocking import ServerHandle, serve_forever

        if block:
            return serve_forever(self, host, port, **kw)
        return ServerHandle(self, host, port, **kw)

    def __repr__(self) -> str:
        return f"<AE {self.ae_title!r}>"

