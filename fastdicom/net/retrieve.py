"""C-GET and C-MOVE as SCP: the sub-operations (PS3.4 C.4.2, C.4.3).

C-MOVE opens an association of our own to the move destination (looked up
in ``ae.known_aes``) and sends each instance as a C-STORE with the Move
Originator's AE title and Message ID; C-GET sends them on the requesting
association, over the storage contexts where the requestor took the SCP role.
After each sub-operation a pending response carries the counts (remaining,
completed, failed, warning); the final status is success, B000 when some
failed or gave warnings, A702 when all failed, FE00 when cancelled (the
failed SOP Instance UIDs in the identifier).
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from fastdicom.net import dimse as _dimse
from fastdicom.net.storage import Prepared, StorageError, choose_context, prepare

__all__ = ["SubOperations"]

log = logging.getLogger("fastdicom.net")
Status = _dimse.Status
#: What the sub-associations of C-MOVE propose for each SOP class, besides the files' own.
_UNCOMPRESSED = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")


@dataclass
class SubOperations:
    """The counts of a retrieval."""

    remaining: int
    completed: int = 0
    failed: int = 0
    warning: int = 0
    failed_uids: list[str] = field(default_factory=list)

    def add(self, uid: str, status: int | None) -> None:
        self.remaining -= 1
        category = None if status is None else _dimse.status_category(status)
        if category == _dimse.SUCCESS:
            self.completed += 1
        elif category == _dimse.WARNING:
            self.warning += 1
        else:
            self.failed += 1
            self.failed_uids.append(uid)

    def fail_rest(self, uids: list[str]) -> None:
        for uid in uids:
            self.add(uid, None)

    def counts(self, final: bool = False) -> dict[str, int]:
        out = {"NumberOfCompletedSuboperations": self.completed,
               "NumberOfFailedSuboperations": self.failed,
               "NumberOfWarningSuboperations": self.warning}
        if not final:
            out["NumberOfRemainingSuboperations"] = self.remaining
        return out

    @property
    def final_status(self) -> int:
        if not self.failed and not self.warning:
            return Status.SUCCESS
        if not self.completed and not self.warning:
            return Status.OUT_OF_RESOURCES_SUBOPERATIONS  # A702: all failed
        return Status.COERCION_OF_DATA_ELEMENTS  # B000: some failed or warned


def _item_uid(item: Any) -> str:
    if isinstance(item, tuple):
        return item[2]
    return str(getattr(item, "SOPInstanceUID", "") or item)


def _failed_list(session: Any, counts: SubOperations, ts: str) -> bytes | None:
    if not counts.failed_uids:
        return None
    from fastdicom.dataset import Dataset
    from fastdicom.net.services import encode_identifier

    ds = Dataset()
    ds.FailedSOPInstanceUIDList = counts.failed_uids
    return encode_identifier(ds, ts)


async def _prepare(item: Any) -> Prepared:
    source = item[0] if isinstance(item, tuple) else item
    return await asyncio.to_thread(prepare, source) if not hasattr(source, "SOPClassUID") \
        else prepare(source)


async def _retrieve(session: Any, name: str, op: Any) -> None:
    from fastdicom.net.services import _Gone, _handle, _items, _respond

    message = op.message
    ae = session.server.ae
    destination = None
    if name == "move":
        title = str(message.command.get("MoveDestination", "") or "").strip()
        destination = getattr(ae, "known_aes", {}).get(title)
        if destination is None:
            log.info("%s: C-MOVE to unknown destination %r", session, title)
            return _respond(session, message, Status.MOVE_DESTINATION_UNKNOWN,
                            ErrorComment="unknown move destination")
        destination = (title, *destination)
    got = await _handle(session, name, op)
    if got is None:
        return
    event, result = got
    items = [item async for item in _items(result)]
    counts = SubOperations(len(items))
    ts = event.transfer_syntax
    if not items:
        return _respond(session, message, Status.SUCCESS, **counts.counts(final=True))
    if name == "move":
        sender: Any = await _MoveSender.open(session, ae, destination, items)
        if sender is None:  # the destination cannot be reached: every sub-operation failed
            counts.fail_rest([_item_uid(i) for i in items])
            return _respond(session, message, Status.MOVE_DESTINATION_UNKNOWN,
                            _failed_list(session, counts, ts),
                            ErrorComment="move destination unreachable",
                            **counts.counts(final=True))
    else:
        sender = _GetSender(session)
    originator = (event.calling_ae_title, int(message.message_id or 0))
    inflight: deque[tuple[Any, asyncio.Task[int]]] = deque()
    launched, ended = 0, False
    try:
        while True:
            # sub-operations outstanding at once: the destination's window (C-MOVE), one (C-GET)
            while not ended and launched < len(items) and len(inflight) < sender.window \
                    and not op.cancelled.is_set():
                if session.proto.is_closed:
                    raise _Gone()
                item = items[launched]
                inflight.append((item, asyncio.ensure_future(sender.store(item, originator))))
                launched += 1
            if not inflight:
                break
            item, task = inflight.popleft()
            uid = _item_uid(item)
            try:
                status: int | None = await task
            except _SubAssociationEnded as exc:
                if not ended:
                    log.warning("%s: C-MOVE destination ended the association: %s", session,
                                exc)
                ended, status = True, None
            except (StorageError, OSError, ValueError) as exc:
                log.warning("%s: sub-operation for %s failed: %s", session, uid, exc)
                status = None
            counts.add(uid, status)
            if counts.remaining and not inflight and (ended or op.cancelled.is_set()):
                break
            if counts.remaining:
                _respond(session, message, Status.PENDING, **counts.counts())
                await session.proto.drain()
        if ended:
            counts.fail_rest([_item_uid(x) for x in items[launched:]])
        elif op.cancelled.is_set() and counts.remaining:
            return _respond(session, message, Status.CANCEL,
                            _failed_list(session, counts, ts), **counts.counts())
        log.info("%s: %s: %d completed, %d failed, %d warning", session, message.name,
                 counts.completed, counts.failed, counts.warning)
        _respond(session, message, counts.final_status, _failed_list(session, counts, ts),
                 **counts.counts(final=True))
    finally:
        for _, task in inflight:
            task.cancel()
        await sender.close()


class _SubAssociationEnded(Exception):
    pass


class _MoveSender:
    """The association of a C-MOVE to its destination."""

    def __init__(self, assoc: Any) -> None:
        self.assoc = assoc
        #: sub-operations outstanding at once: the destination's window, at most 4 (a
        #: C-CANCEL or an A-ABORT stops the move after those in flight)
        self.window = max(1, min(assoc.window, 4))

    @classmethod
    async def open(cls, session: Any, ae: Any, destination: tuple[str, str, int],
                   items: list[Any]) -> "_MoveSender | None":
        title, host, port = destination
        wanted: dict[str, set[str]] = {}
        for item in items:
            if isinstance(item, tuple):
                wanted.setdefault(item[1], set()).add(item[3])
            else:
                try:
                    p = await _prepare(item)
                except (StorageError, OSError, ValueError):
                    continue
                wanted.setdefault(p.sop_class_uid, set()).add(p.transfer_syntax)
                p.close()
        contexts: list[Any] = []
        for sop_class, syntaxes in wanted.items():
            own = [t for t in syntaxes if t and t not in _UNCOMPRESSED]
            for t in own:  # each compressed syntax on its own context: accepted or not
                contexts.append((sop_class, [t]))
            contexts.append((sop_class, list(_UNCOMPRESSED)))
        try:
            assoc = await ae.connect(host, port, ae_title=title, contexts=contexts[:128])
        except Exception as exc:
            log.warning("%s: cannot associate with move destination %s at %s:%s: %s",
                        session, title, host, port, exc)
            return None
        return cls(assoc)

    async def store(self, item: Any, originator: tuple[str, int]) -> int:
        from fastdicom.net.errors import AssociationAborted, AssociationClosed, NetworkTimeout

        source = item[0] if isinstance(item, tuple) else item
        try:
            result = await self.assoc.store(source, move_originator=originator)
        except (AssociationAborted, AssociationClosed, NetworkTimeout) as exc:
            raise _SubAssociationEnded(str(exc)) from exc
        return int(result.status)

    async def close(self) -> None:
        try:
            if self.assoc.is_established:
                await self.assoc.release()
            else:
                self.assoc.abort()
        except Exception:
            self.assoc.abort()


class _GetSender:
    """C-STORE sub-operations on the C-GET's own association."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.window = 1  # the requestor performs one operation at a time

    def _context(self, prepared: Prepared) -> Any:
        accept = self.session.assoc.accept
        roles = accept.role_selection if accept is not None else {}
        # only where the requestor took the SCP role (role selection)
        ctx = choose_context(self.session.assoc.accepted_contexts.values(), prepared,
                             lambda c: roles.get(c.abstract_syntax, (True, False))[1])
        if ctx is None:
            raise StorageError(f"no storage context with the SCP role for "
                               f"{prepared.sop_class_uid}")
        return ctx

    async def store(self, item: Any, originator: tuple[str, int]) -> int:
        from fastdicom.net.services import _Gone, _state

        session = self.session
        prepared = await _prepare(item)
        try:
            ctx = self._context(prepared)
            data = prepared.dataset_for(ctx.transfer_syntax)
            state = _state(session)
            message_id = state.ids.next()
            command = _dimse.build_command(
                _dimse.C_STORE_RQ, MessageID=message_id, Priority=0,
                AffectedSOPClassUID=prepared.sop_class_uid,
                AffectedSOPInstanceUID=prepared.sop_instance_uid)
            waiter = asyncio.get_running_loop().create_future()
            state.waiters[message_id] = waiter
            try:
                if session.proto.is_closed:
                    raise _Gone()
                session.proto.send(_dimse.DimseMessage(ctx.context_id, command, data))
                await session.proto.drain()
                timeout = session.server.ae.dimse_timeout
                closed = asyncio.ensure_future(asyncio.shield(session.proto.closed))
                try:
                    done, _ = await asyncio.wait({waiter, closed}, timeout=timeout,
                                                 return_when=asyncio.FIRST_COMPLETED)
                finally:
                    closed.cancel()
                if waiter not in done:
                    if session.proto.is_closed:
                        raise _Gone()
                    raise StorageError("no C-STORE response within the DIMSE timeout")
                return int(waiter.result().status)
            finally:
                state.waiters.pop(message_id, None)
        finally:
            prepared.close()

    async def close(self) -> None:
        pass
