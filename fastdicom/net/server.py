"""The acceptor's side: an asyncio server of associations (Verification and
Storage built in; other services through handlers).

One task per association (:class:`_Session`): it answers the
A-ASSOCIATE-RQ (AE titles, presentation contexts, asynchronous operations
window), then serves requests until release, abort, close, or the idle
timeout. C-STORE data sets are streamed into a temporary file as they arrive
(:class:`fastdicom.net.storage.IncomingFile`, handed to the association as
its data set sink), then fsync'ed and renamed in a worker thread while the
next request is already being received. Handlers (``handlers={"echo": f,
"store": f, ...}``, plain or ``async`` functions) get a
:class:`ServiceEvent` and return a status (or, for C-FIND/C-GET/C-MOVE, what
those services define).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable

from fastdicom.net import dimse as _dimse
from fastdicom.net import pdu as _pdu
from fastdicom.net.association import (
    ACCEPTOR, Abort, Association, AssociateReject, AssociateRequest, ConnectionClosed,
    ReleaseReply, ReleaseRequest, accept_request)
from fastdicom.net.storage import IncomingFile, StorageError
from fastdicom.net.transport import AssociationProtocol

__all__ = ["Server", "ServiceEvent"]

log = logging.getLogger("fastdicom.net")
Status = _dimse.Status


@dataclass
class ServiceEvent:
    """What a handler is told of a request."""

    request: Any  #: the :class:`~fastdicom.net.dimse.DimseMessage`
    calling_ae_title: str
    called_ae_title: str
    peer: Any
    transfer_syntax: str | None = None
    path: str | None = None  #: C-STORE: the stored file
    association: Any = field(default=None, repr=False)  #: the session (C-GET sub-operations)

    @property
    def sop_class_uid(self) -> str | None:
        return self.request.command.get("AffectedSOPClassUID")

    @property
    def sop_instance_uid(self) -> str | None:
        return self.request.command.get("AffectedSOPInstanceUID")

    @property
    def dataset(self) -> Any:
        """C-STORE: the stored dataset (read when asked); C-FIND/GET/MOVE: the identifier."""
        from fastdicom.reader import dcmread

        if self.path is not None:
            return dcmread(self.path)
        if self.request.data is not None and self.transfer_syntax:
            from fastdicom.net.services import decode_identifier

            return decode_identifier(self.request.data, self.transfer_syntax)
        return None


class _Refused:
    """The sink of a data set that is not stored: its fragments are dropped."""

    def __init__(self, status: int, reason: str) -> None:
        self.status, self.reason = status, reason

    def write(self, data: Any) -> None:
        pass

    def discard(self) -> None:
        pass


class Server:
    """Associations accepted on one listening socket, for an
    :class:`~fastdicom.net.ae.AE` (see :meth:`AE.start_server`)."""

    def __init__(self, ae: Any, handlers: dict[str, Callable[..., Any]] | None = None,
                 storage_dir: str | os.PathLike[str] | None = None, *, fsync: bool = True,
                 archive: Any = None) -> None:
        self.ae = ae
        self.archive = archive  #: indexes stored instances (fastdicom.net.archive)
        self.handlers = dict(handlers or {})
        unknown = set(self.handlers) - {"echo", "store", "find", "get", "move"}
        if unknown:
            raise ValueError(f"unknown handler(s): {', '.join(sorted(unknown))}")
        self._tmp = None
        if storage_dir is None and "store" in self.handlers:
            self._tmp = tempfile.TemporaryDirectory(prefix="fastdicom-scp-")
            storage_dir = self._tmp.name
        self.storage_dir = None if storage_dir is None else os.fspath(storage_dir)
        self.fsync = fsync
        self.sessions: set[_Session] = set()
        #: threads for fsync + rename: as many as stores may be in flight, within reason
        self.committer = concurrent.futures.ThreadPoolExecutor(
            max(4, min(32, ae.async_ops_window)), thread_name_prefix="fastdicom-commit")
        self._server: asyncio.AbstractServer | None = None
        self.stats = {"associations": 0, "rejected": 0, "aborted": 0, "stored": 0,
                      "failed": 0}

    async def start(self, host: str, port: int, ssl: Any = None) -> "Server":
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, host, port, ssl=ssl,
                                                reuse_address=True, backlog=256)
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    def _protocol(self) -> AssociationProtocol:
        session = _Session(self)
        return session.proto

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        """Stop listening, abort the associations in progress, wait for their tasks."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for session in list(self.sessions):
            session.proto.abort_transport()
        tasks = [s.task for s in self.sessions if s.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        self.committer.shutdown(wait=False)
        if self._tmp is not None:
            self._tmp.cleanup()

    async def __aenter__(self) -> "Server":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # -- negotiation ------------------------------------------------------------------
    def check_request(self, request: AssociateRequest) -> AssociateReject | None:
        ae = self.ae
        if ae.require_called_aet and request.called_ae_title.strip() != ae.ae_title:
            return AssociateReject(reason=_pdu.REJECT_USER_CALLED_AE_NOT_RECOGNIZED)
        if ae.allowed_calling_aets is not None and \
                request.calling_ae_title.strip() not in ae.allowed_calling_aets:
            return AssociateReject(reason=_pdu.REJECT_USER_CALLING_AE_NOT_RECOGNIZED)
        if len(self.sessions) > ae.max_associations:
            return AssociateReject(_pdu.RejectResult.REJECTED_TRANSIENT,
                                   _pdu.RejectSource.SERVICE_PROVIDER_PRESENTATION,
                                   _pdu.REJECT_PRESENTATION_LOCAL_LIMIT_EXCEEDED)
        return None


class _Session:
    """One association of a :class:`Server`."""

    def __init__(self, server: Server) -> None:
        self.server = server
        ae = server.ae
        self.assoc = Association(
            ACCEPTOR, max_pdu_length=ae.max_pdu_length, artim_timeout=ae.acse_timeout,
            check_request=server.check_request, dataset_sink=self._sink)
        self.proto = AssociationProtocol(self.assoc)
        self.request: AssociateRequest | None = None
        self.incoming: set[Any] = set()
        self.tasks: set[asyncio.Future[Any]] = set()
        self.window = 1  # requests served at once (the asynchronous operations window)
        self.stored = 0
        server.sessions.add(self)
        self.task: asyncio.Task[None] | None = self.proto.loop.create_task(self.run())

    # -- data set sink (called while bytes are received) ----------------------------------
    def _sink(self, context_id: int, command: Any) -> Any:
        if int(command.CommandField) != _dimse.C_STORE_RQ:
            return None
        ctx = self.assoc.accepted_contexts[context_id]
        if self.server.storage_dir is None:
            return _Refused(Status.SOP_CLASS_NOT_SUPPORTED, "storage is not offered")
        if command.get("AffectedSOPClassUID") != ctx.abstract_syntax:
            return _Refused(Status.DATASET_DOES_NOT_MATCH_SOP_CLASS,
                            "the SOP class is not the presentation context's")
        try:
            sink = IncomingFile(self.server.storage_dir, command.get("AffectedSOPClassUID"),
                                command.get("AffectedSOPInstanceUID"), ctx.transfer_syntax,
                                self.request.calling_ae_title if self.request else None,
                                fsync=self.server.fsync)
        except StorageError as exc:
            return _Refused(Status.CANNOT_UNDERSTAND, str(exc))
        except OSError as exc:
            return _Refused(Status.OUT_OF_RESOURCES, f"cannot create the file: {exc}")
        self.incoming.add(sink)
        return sink

    # -- the task ---------------------------------------------------------------------
    async def run(self) -> None:
        ae = self.server.ae
        try:
            event = await self.proto.next_event()  # ARTIM bounds the wait for the RQ
            if not isinstance(event, AssociateRequest):
                return
            if not self._answer(event):
                return
            while True:
                try:
                    event = await self.proto.next_event(ae.idle_timeout)
                except asyncio.TimeoutError:
                    if getattr(self, "qr_state", None) and self.qr_state.operations:
                        continue  # a C-FIND/GET/MOVE is running: not idle
                    log.info("%s: idle for %s s, aborting", self, ae.idle_timeout)
                    self._abort()
                    return
                if isinstance(event, _dimse.DimseMessage):
                    if self.window > 1 and event.stream is not None:  # C-STOREs overlap
                        await self._spawn(self._request(event))
                    else:
                        await self._request(event)
                elif isinstance(event, ReleaseRequest):
                    await self._settle()  # every response before the A-RELEASE-RP
                    self.proto.send(ReleaseReply())
                elif isinstance(event, Abort):
                    self.server.stats["aborted"] += 1
                    log.info("%s: aborted (source %s, reason %s)", self, event.source,
                             event.reason)
                elif isinstance(event, ConnectionClosed):
                    if self.request is not None:
                        log.info("%s: closed after %d stored", self, self.stored)
                    return
        except Exception:  # a fault of ours: the peer gets an A-ABORT, the server goes on
            log.exception("%s: internal error, aborting", self)
            self._abort()
        finally:
            await self._settle()
            for sink in list(self.incoming):
                sink.discard()
            self.incoming.clear()
            self.proto.close()
            self.server.sessions.discard(self)

    async def _spawn(self, work: Any) -> None:
        """Run ``work`` (a request) beside the next ones, at most ``window`` at once."""
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        if len(self.tasks) >= self.window:
            await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)

    async def _settle(self) -> None:
        if self.tasks:
            await asyncio.wait(list(self.tasks))

    def _abort(self) -> None:
        try:
            self.proto.send(Abort())
        except Exception:
            pass
        self.proto.close()

    def _answer(self, request: AssociateRequest) -> bool:
        self.request = request
        server = self.server
        # each context in the requestor's order of preference: data sets are kept as sent
        supported = server.ae.supported_for(storage=server.storage_dir is not None,
                                            services=set(server.handlers))
        accept = accept_request(request, supported, max_pdu_length=server.ae.max_pdu_length,
                                roles=server.ae.roles_for(set(server.handlers)),
                                requestor_order=True)
        if set(server.handlers) & {"find", "get", "move"}:
            from fastdicom.net.services import answer_extended_negotiation

            accept.user_items = answer_extended_negotiation(request, set(server.handlers))
        if request.async_ops_window is not None:
            invoked = request.async_ops_window[0]
            ours = server.ae.async_ops_window
            accept.async_ops_window = (min(invoked, ours) if invoked else ours, 1)
            self.window = accept.async_ops_window[0]
        accepted = sum(c.accepted for c in accept.presentation_contexts)
        if not accepted:
            server.stats["rejected"] += 1
            log.info("%s: no presentation context acceptable, rejecting", self)
            self.proto.send(AssociateReject(_pdu.RejectResult.REJECTED_PERMANENT))
            return False
        self.proto.send(accept)
        server.stats["associations"] += 1
        log.info("%s: association accepted (%d of %d presentation contexts)", self, accepted,
                 len(accept.presentation_contexts))
        return True

    def __repr__(self) -> str:
        who = self.request.calling_ae_title.strip() if self.request else "?"
        return f"{who}@{self.proto.peer[0] if self.proto.peer else '?'}"

    # -- requests ---------------------------------------------------------------------
    def event(self, request: Any, **kw: Any) -> ServiceEvent:
        ctx = self.assoc.accepted_contexts.get(request.context_id)
        assert self.request is not None
        return ServiceEvent(request, self.request.calling_ae_title.strip(),
                            self.request.called_ae_title.strip(), self.proto.peer,
                            ctx.transfer_syntax if ctx else None, association=self, **kw)

    async def call(self, name: str, event: ServiceEvent) -> Any:
        handler = self.server.handlers[name]
        if inspect.iscoroutinefunction(handler):
            return await handler(event)
        return await asyncio.get_running_loop().run_in_executor(None, handler, event)

    def respond(self, request: Any, status: int, data: bytes | None = None,
                **elements: Any) -> None:
        if self.assoc.state not in ("Sta6", "Sta7", "Sta8"):
            return  # the association ended (aborted, closed) while the request was served
        self.proto.send(_dimse.make_response(request, int(status), data, **elements))

    async def _request(self, message: Any) -> None:
        command_field = message.command_field
        if not message.is_request:  # a response to a sub-operation (C-GET)
            from fastdicom.net.services import deliver_response

            return deliver_response(self, message)
        if command_field == _dimse.C_ECHO_RQ:
            status = Status.SUCCESS
            if "echo" in self.server.handlers:
                status = await self.call("echo", self.event(message))
            return self.respond(message, status)
        if command_field == _dimse.C_STORE_RQ:
            return await self._store(message)
        name = {_dimse.C_FIND_RQ: "find", _dimse.C_GET_RQ: "get",
                _dimse.C_MOVE_RQ: "move"}.get(command_field)
        if name is not None:
            if name not in self.server.handlers:
                return self.respond(message, Status.SOP_CLASS_NOT_SUPPORTED)
            from fastdicom.net.services import serve_query

            return await serve_query(self, name, message)
        if command_field == _dimse.C_CANCEL_RQ:
            from fastdicom.net.services import cancel_query

            return cancel_query(self, message)
        return self.respond(message, Status.UNRECOGNIZED_OPERATION)

    async def _store(self, message: Any) -> None:
        sink = message.stream
        if sink is None:  # the command said there is no data set
            return self.respond(message, Status.CANNOT_UNDERSTAND,
                                ErrorComment="C-STORE-RQ without a data set")
        if isinstance(sink, _Refused):
            self.server.stats["failed"] += 1
            return self.respond(message, sink.status, ErrorComment=sink.reason[:64])
        self.incoming.discard(sink)
        if message.stream_error is not None:
            sink.discard()
            self.server.stats["failed"] += 1
            log.warning("%s: cannot write %s: %s", self, sink.sop_instance_uid,
                        message.stream_error)
            return self.respond(message, Status.OUT_OF_RESOURCES,
                                ErrorComment="cannot write the file")
        try:
            path = await asyncio.get_running_loop().run_in_executor(
                self.server.committer, sink.commit, self.server.archive)
        except Exception as exc:  # the disk, or the index (an unreadable data set)
            self.server.stats["failed"] += 1
            log.warning("%s: cannot store %s: %s", self, sink.sop_instance_uid, exc)
            if not isinstance(exc, OSError):
                return self.respond(message, Status.CANNOT_UNDERSTAND,
                                    ErrorComment="cannot index the data set")
            return self.respond(message, Status.OUT_OF_RESOURCES,
                                ErrorComment="cannot write the file")
        status = Status.SUCCESS
        if "store" in self.server.handlers:
            status = await self.call("store", self.event(message, path=path))
            if self.server._tmp is not None and os.path.exists(path):
                os.unlink(path)
        self.stored += 1
        self.server.stats["stored"] += 1
        return self.respond(message, status)
