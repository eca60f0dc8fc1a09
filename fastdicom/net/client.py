"""The requestor's side of an established association, on asyncio.

:class:`ClientAssociation` is what :meth:`fastdicom.net.ae.AE.connect`
returns: ``await assoc.echo()``, ``await assoc.store(path_or_dataset)``,
``await assoc.store_many(items)`` (pipelined up to the negotiated
asynchronous operations window), ``await assoc.release()``,
``assoc.abort()``. One task per association reads its events and hands each
response to the request waiting for it (by Message ID Being Responded To).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterable

from fastdicom.dataset import Dataset
from fastdicom.net import dimse as _dimse
from fastdicom.net.association import (
    Abort, AssociateAccept, ConnectionClosed, ReleaseReply, ReleaseRequest)
from fastdicom.net.errors import (
    AssociationAborted, AssociationClosed, LocalProtocolError, NetworkTimeout)
from fastdicom.net.storage import Prepared, StorageError, choose_context, prepare
from fastdicom.net.transport import AssociationProtocol

__all__ = ["ClientAssociation", "StoreResult"]


#: Files :meth:`ClientAssociation.store_many` opens per hand-off to a worker thread.
PREPARE_BATCH = 16


def _prepare_each(items: list[Any]) -> list[Any]:
    """:func:`prepare` of each item: a Prepared, or the exception it raised."""
    out: list[Any] = []
    for item in items:
        try:
            out.append(prepare(item))
        except Exception as exc:  # reported as that item's result
            out.append(exc)
    return out


@dataclass
class StoreResult:
    """The outcome of one C-STORE: the response's status, or ``error`` (then
    ``status`` is None) when nothing could be sent."""

    source: Any
    sop_instance_uid: str | None = None
    status: int | None = None
    error: str | None = None
    response: Any = None

    @property
    def category(self) -> str:
        return "Error" if self.status is None else _dimse.status_category(self.status)

    @property
    def ok(self) -> bool:
        return self.category in (_dimse.SUCCESS, _dimse.WARNING)


class ClientAssociation:
    """An established association we requested (see the module docstring)."""

    def __init__(self, protocol: AssociationProtocol, accept: AssociateAccept, *,
                 dimse_timeout: float | None = 30.0) -> None:
        self._proto = protocol
        self.accept = accept
        self.dimse_timeout = dimse_timeout
        self._ids = _dimse.MessageIDs()
        self._pending: dict[int, asyncio.Queue[Any]] = {}
        self._release: asyncio.Future[None] | None = None
        self._ended: BaseException | None = None
        window = accept.async_ops_window
        #: requests we may have outstanding at once (the window's invoked count; 0: no limit)
        self.window = 1 if window is None else (window[0] or 64)
        #: C-STORE requests received (C-GET sub-operations): ``on_store(message)`` -> status
        self.on_store: Any = None
        self._task = protocol.loop.create_task(self._dispatch())

    # -- state ------------------------------------------------------------------------
    @property
    def assoc(self) -> Any:
        """The sans-IO :class:`~fastdicom.net.association.Association`."""
        return self._proto.assoc

    @property
    def is_established(self) -> bool:
        return self._ended is None and self.assoc.is_established

    @property
    def accepted_contexts(self) -> dict[int, Any]:
        return self.assoc.accepted_contexts

    @property
    def peer(self) -> Any:
        return self._proto.peer

    def __repr__(self) -> str:
        return f"<ClientAssociation {self.accept.called_ae_title!r} at {self.peer} " \
               f"{self.assoc.state}>"

    # -- events -----------------------------------------------------------------------
    async def _dispatch(self) -> None:
        while True:
            event = await self._proto.next_event()
            if isinstance(event, _dimse.DimseMessage):
                if event.is_request and event.command_field == _dimse.C_STORE_RQ:
                    from fastdicom.net.query import serve_store

                    await serve_store(self, event)  # in order, before the next response
                    continue
                queue = self._pending.get(event.message_id_being_responded_to or -1)
                if queue is not None and not event.is_request:
                    queue.put_nowait(event)
            elif isinstance(event, ReleaseReply):
                if self._release is not None and not self._release.done():
                    self._release.set_result(None)
            elif isinstance(event, ReleaseRequest):  # the peer asks: agree (AR-2 -> AR-4)
                self._proto.send(ReleaseReply())
            elif isinstance(event, Abort):
                self._end(AssociationAborted(event.source, event.reason))
            elif isinstance(event, ConnectionClosed):
                self._end(AssociationClosed("the association ended"))
                return

    def _end(self, exc: BaseException) -> None:
        if self._ended is None:
            self._ended = exc
        for queue in self._pending.values():
            queue.put_nowait(exc)
        if self._release is not None and not self._release.done():
            self._release.set_result(None)

    # -- requests ---------------------------------------------------------------------
    async def request(self, message: _dimse.DimseMessage) -> AsyncIterator[Any]:
        """Send a request (its Message ID is set here) and yield its responses,
        the pending ones first, until the final one."""
        message_id = self._ids.next()
        message.command.MessageID = message_id
        async for response in self._exchange(message, message_id):
            yield response

    async def _exchange(self, message: _dimse.DimseMessage,
                        message_id: int) -> AsyncIterator[Any]:
        if self._ended is not None:
            raise AssociationClosed("the association is over") from self._ended
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._pending[message_id] = queue
        try:
            try:
                await asyncio.wait_for(self._proto.send_message(message), self.dimse_timeout)
            except asyncio.TimeoutError:
                self.abort()
                raise NetworkTimeout(f"the peer took no data for {self.dimse_timeout} s: "
                                     "association aborted") from None
            while True:
                try:
                    response = await asyncio.wait_for(queue.get(), self.dimse_timeout)
                except asyncio.TimeoutError:
                    self.abort()
                    raise NetworkTimeout(f"no response to {message.name} within "
                                         f"{self.dimse_timeout} s: association aborted")
                if isinstance(response, BaseException):
                    raise response
                yield response
                if response.status_category != _dimse.PENDING:
                    return
        finally:
            del self._pending[message_id]

    async def final_response(self, message: _dimse.DimseMessage) -> Any:
        """The final response to ``message`` (see :meth:`request`)."""
        response = None
        async for response in self.request(message):
            pass
        return response

    async def _final(self, context_id: int, command_field: int, data: Any = None,
                     **fields: Any) -> Any:
        """Send a request encoded straight from ``fields``; its final response."""
        message_id = self._ids.next()
        encoded = _dimse.encode_fields(command_field, data is not None, MessageID=message_id,
                                       **fields)
        response = None
        async for response in self._exchange(
                _dimse.DimseMessage(context_id, data=data, encoded=encoded), message_id):
            pass
        return response

    async def echo(self) -> int:
        """C-ECHO: the response status."""
        ctx = self.assoc.context_for(_dimse.VERIFICATION_SOP_CLASS)
        response = await self._final(ctx.context_id, _dimse.C_ECHO_RQ,
                                     AffectedSOPClassUID=_dimse.VERIFICATION_SOP_CLASS)
        return int(response.status)

    def _context_for(self, item: Prepared) -> tuple[int, str]:
        ctx = choose_context(self.accepted_contexts.values(), item)
        if ctx is None:
            raise StorageError(f"no accepted presentation context for SOP class "
                               f"{item.sop_class_uid}")
        return ctx.context_id, ctx.transfer_syntax

    async def store(self, item: Any, *, priority: int = 0,
                    move_originator: tuple[str, int] | None = None) -> StoreResult:
        """C-STORE a path or a dataset; raises :class:`StorageError` when it cannot
        be sent (no SOP UIDs, no accepted context, no conversion)."""
        prepared = prepare(item) if isinstance(item, Dataset) else \
            await asyncio.to_thread(prepare, item)
        return await self._send_prepared(item, prepared, priority, move_originator)

    async def _send_prepared(self, item: Any, prepared: Prepared, priority: int = 0,
                             move_originator: tuple[str, int] | None = None) -> StoreResult:
        try:
            context_id, ts = self._context_for(prepared)
            response = await self._final(
                context_id, _dimse.C_STORE_RQ, prepared.dataset_for(ts), Priority=priority,
                AffectedSOPClassUID=prepared.sop_class_uid,
                AffectedSOPInstanceUID=prepared.sop_instance_uid,
                MoveOriginatorApplicationEntityTitle=move_originator and move_originator[0],
                MoveOriginatorMessageID=move_originator and move_originator[1])
        finally:
            prepared.close()
        return StoreResult(item, prepared.sop_instance_uid, int(response.status),
                           response.command.get("ErrorComment"), response)

    async def store_many(self, items: Iterable[Any], *, window: int | None = None,
                         on_result: Any = None) -> list[StoreResult]:
        """C-STORE each item, up to ``window`` (default: the negotiated window)
        at once; a result per item, in order (errors as results, not raised,
        unless the association ends). ``on_result(result)`` is called as each
        completes. Files are opened ahead of their turn in batches, in a worker
        thread (one hand-off per :data:`PREPARE_BATCH` files, never more than
        ``window`` + :data:`PREPARE_BATCH` of them open)."""
        items = list(items)
        width = max(1, window or self.window)
        limit = asyncio.Semaphore(width)
        loop = asyncio.get_running_loop()
        ready = [loop.create_future() for _ in items]
        slots = asyncio.Semaphore(width + PREPARE_BATCH)
        taken: set[int] = set()

        async def producer() -> None:
            for start in range(0, len(items), PREPARE_BATCH):
                batch = items[start:start + PREPARE_BATCH]
                for _ in batch:
                    await slots.acquire()
                for k, got in enumerate(await asyncio.to_thread(_prepare_each, batch)):
                    ready[start + k].set_result(got)

        async def one(k: int, item: Any) -> StoreResult:
            async with limit:
                try:
                    got = await ready[k]
                    taken.add(k)
                    try:
                        if isinstance(got, BaseException):
                            raise got
                        result = await self._send_prepared(item, got)
                    finally:
                        slots.release()
                except (StorageError, LocalProtocolError, OSError) as exc:
                    result = StoreResult(item, error=str(exc))
                except Exception as exc:  # a file that cannot be read, say
                    if self._ended is not None:
                        raise
                    result = StoreResult(item, error=f"{type(exc).__name__}: {exc}")
                if on_result is not None:
                    on_result(result)
                return result

        feeding = asyncio.ensure_future(producer())
        try:
            return list(await asyncio.gather(*(one(k, item) for k, item in enumerate(items))))
        finally:
            feeding.cancel()
            for k, future in enumerate(ready):  # prepared, never taken (the association ended)
                if k not in taken and future.done() and isinstance(future.result(), Prepared):
                    future.result().close()

    # -- ending -----------------------------------------------------------------------
    async def release(self, timeout: float | None = 30.0) -> None:
        """A-RELEASE; returns when the peer has replied and the connection closed
        (aborts when the peer does not answer within ``timeout``)."""
        if self._ended is not None or self._proto.is_closed:
            return
        self._release = self._proto.loop.create_future()
        self._proto.send(ReleaseRequest())
        try:
            await asyncio.wait_for(asyncio.shield(self._release), timeout)
            await asyncio.wait_for(asyncio.shield(self._proto.closed), timeout)
        except asyncio.TimeoutError:
            self.abort()
            raise NetworkTimeout("no A-RELEASE-RP within the timeout: association aborted")
        finally:
            await self._wait_task()

    def abort(self) -> None:
        """A-ABORT (service user) and close the connection."""
        if not self._proto.is_closed:
            try:
                self._proto.send(Abort())
            except LocalProtocolError:
                pass
            self._proto.close()
        self._end(AssociationAborted(0, 0, "aborted by us"))

    async def _wait_task(self) -> None:
        if not self._task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 5)
            except asyncio.TimeoutError:
                self._task.cancel()

    async def __aenter__(self) -> "ClientAssociation":
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            await self.release()
        else:
            self.abort()

    # -- Query/Retrieve (fastdicom.net.query) ------------------------------------------
    def cancel(self, message: _dimse.DimseMessage) -> None:
        """C-CANCEL-RQ for a C-FIND/C-GET/C-MOVE request in progress."""
        command = _dimse.build_command(_dimse.C_CANCEL_RQ,
                                       MessageIDBeingRespondedTo=message.command.MessageID)
        if self.is_established:
            self._proto.send(_dimse.DimseMessage(message.context_id, command))

    async def find(self, identifier: Any, **kw: Any) -> Any:
        """C-FIND: a :class:`~fastdicom.net.query.QueryResult` (see
        :func:`fastdicom.net.query.find`)."""
        from fastdicom.net import query

        return await query.find(self, identifier, **kw)

    async def move(self, identifier: Any, destination: str, **kw: Any) -> Any:
        """C-MOVE: a :class:`~fastdicom.net.query.RetrieveResult`."""
        from fastdicom.net import query

        return await query.move(self, identifier, destination, **kw)

    async def get(self, identifier: Any, **kw: Any) -> Any:
        """C-GET (``directory=`` or ``on_store=``): a
        :class:`~fastdicom.net.query.RetrieveResult`."""
        from fastdicom.net import query

        return await query.get(self, identifier, **kw)
