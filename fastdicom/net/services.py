"""Query/Retrieve as SCP: C-FIND, C-GET and C-MOVE on a
:class:`~fastdicom.net.server.Server`, and the identifiers they carry.

The server calls :func:`serve_query` for each C-FIND/C-GET/C-MOVE request
whose handler is registered; the operation runs as its own task (so the
association keeps reading: a C-CANCEL-RQ reaches it through
:func:`cancel_query`, and the C-STORE responses of C-GET sub-operations
through :func:`deliver_response`).

Handlers (plain functions run in a worker thread, or coroutines) get the
:class:`~fastdicom.net.server.ServiceEvent` (``event.dataset`` is the
identifier, ``event.sop_class_uid`` tells the information model) and return:

- ``find``: an iterable (or async iterable) of identifiers (datasets) or of
  ``(status, dataset)`` pairs, status 0xFF00 or 0xFF01;
- ``get`` and ``move``: an iterable of what to send: paths, datasets, or
  ``(path, SOP class, SOP instance, transfer syntax)`` tuples.

They raise :class:`~fastdicom.net.matching.QueryError` to answer with a
failure status. C-MOVE destinations are looked up in ``ae.known_aes``
(AE title -> ``(host, port)``). :func:`archive_handlers` gives the three
handlers of an :class:`~fastdicom.net.archive.Archive`.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Iterable

from fastdicom.net import dimse as _dimse
from fastdicom.net.matching import QueryError

__all__ = ["query_models", "decode_identifier", "encode_identifier", "serve_query",
           "cancel_query", "deliver_response", "archive_handlers", "MODEL_UIDS", "MODEL_OF",
           "MODALITY_WORKLIST_FIND", "QueryError", "extended_negotiation",
           "answer_extended_negotiation", "negotiated_options"]

log = logging.getLogger("fastdicom.net")
Status = _dimse.Status

#: (model, service) -> SOP class UID of the Query/Retrieve information models.
MODEL_UIDS = {
    ("PATIENT", "find"): "1.2.840.10008.5.1.4.1.2.1.1",
    ("PATIENT", "move"): "1.2.840.10008.5.1.4.1.2.1.2",
    ("PATIENT", "get"): "1.2.840.10008.5.1.4.1.2.1.3",
    ("STUDY", "find"): "1.2.840.10008.5.1.4.1.2.2.1",
    ("STUDY", "move"): "1.2.840.10008.5.1.4.1.2.2.2",
    ("STUDY", "get"): "1.2.840.10008.5.1.4.1.2.2.3",
}
MODEL_OF = {uid: key for key, uid in MODEL_UIDS.items()}
MODALITY_WORKLIST_FIND = "1.2.840.10008.5.1.4.31"


#: Options of the Q/R SOP class extended negotiation (PS3.4 C.3.4), by byte: C-FIND, and
#: C-MOVE/C-GET.
FIND_OPTIONS = ("relational", "datetime", "fuzzy", "timezone")
RETRIEVE_OPTIONS = ("relational",)


def extended_negotiation(options: Iterable[str], services: Iterable[str] = ("find",),
                         model: str = "STUDY") -> list[Any]:
    """The SOP class extended negotiation items asking for ``options``
    (relational, datetime, fuzzy) for the services' SOP classes (requestor)."""
    from fastdicom.net.items import SOPClassExtendedNegotiationItem

    wanted = set(options)
    out = []
    for service in services:
        names = FIND_OPTIONS if service == "find" else RETRIEVE_OPTIONS
        info = bytes(1 if name in wanted else 0 for name in names)
        out.append(SOPClassExtendedNegotiationItem(MODEL_UIDS[(model.upper(), service)], info))
    return out


def answer_extended_negotiation(request: Any, services: Iterable[str]) -> list[Any]:
    """The acceptor's extended negotiation items: for the Q/R SOP classes we
    serve, each option asked for that we support (timezone adjustment: no)."""
    from fastdicom.net.items import SOPClassExtendedNegotiationItem

    served = set(services)
    out = []
    for item in request.user_items:
        if not isinstance(item, SOPClassExtendedNegotiationItem):
            continue
        model_service = MODEL_OF.get(item.sop_class_uid)
        if model_service is None or model_service[1] not in served:
            continue
        names = FIND_OPTIONS if model_service[1] == "find" else RETRIEVE_OPTIONS
        asked = bytes(item.service_class_application_information)
        info = bytes(1 if i < len(asked) and asked[i] == 1 and name != "timezone" else 0
                     for i, name in enumerate(names))
        out.append(SOPClassExtendedNegotiationItem(item.sop_class_uid, info))
    return out


def negotiated_options(accept: Any, sop_class_uid: str | None) -> set[str]:
    """The extended negotiation options agreed for a SOP class (from the
    A-ASSOCIATE-AC)."""
    from fastdicom.net.items import SOPClassExtendedNegotiationItem

    model_service = MODEL_OF.get(sop_class_uid or "")
    if accept is None or model_service is None:
        return set()
    names = FIND_OPTIONS if model_service[1] == "find" else RETRIEVE_OPTIONS
    for item in accept.user_items:
        if isinstance(item, SOPClassExtendedNegotiationItem) and \
                item.sop_class_uid == sop_class_uid:
            info = bytes(item.service_class_application_information)
            return {name for i, name in enumerate(names) if i < len(info) and info[i] == 1}
    return set()


def query_models(services: Iterable[str]) -> list[str]:
    """The SOP classes of the Q/R models for the services (find, get, move)."""
    wanted = set(services)
    return [uid for (model, service), uid in MODEL_UIDS.items() if service in wanted]


# -- identifiers ----------------------------------------------------------------------------
def decode_identifier(data: Any, transfer_syntax: str) -> Any:
    """An identifier's bytes (in ``transfer_syntax``) as a dataset."""
    from fastdicom import uid as _uid
    from fastdicom._core import tokenize
    from fastdicom.dataset import Dataset

    enc = _uid.encoding_for_transfer_syntax(transfer_syntax)
    data = bytes(data)
    if enc.deflated:
        import zlib

        data = zlib.decompressobj(-15).decompress(data, 1 << 26)
    tokens = tokenize(data, implicit_vr=enc.implicit_vr, little_endian=enc.little_endian,
                      max_depth=16)
    ds = Dataset._view(tokens)
    ds.is_implicit_VR, ds.is_little_endian = enc.implicit_vr, enc.little_endian
    return ds


def encode_identifier(ds: Any, transfer_syntax: str) -> bytes:
    """A dataset as an identifier's bytes in ``transfer_syntax`` (even length)."""
    from fastdicom import uid as _uid
    from fastdicom.writer import encode_dataset

    enc = _uid.encoding_for_transfer_syntax(transfer_syntax)
    data = encode_dataset(ds, enc.implicit_vr, enc.little_endian, enc.deflated)
    return data + b"\x00" if len(data) % 2 else data


def response_identifier(request: Any, match: dict[str, Any], level: str,
                        unsupported: Iterable[str] = (), ae_title: str | None = None) -> Any:
    """A C-FIND response's identifier: the requested keys (in the request's
    order) with the match's values (empty when it has none), the Query/Retrieve
    Level, and the Specific Character Set of the match (ISO_IR 192 when its own
    cannot encode the values)."""
    from fastdicom.dataset import Dataset

    ds = Dataset()
    charset = match.get("_charset")
    if charset:
        ds.SpecificCharacterSet = charset.split("\\") if "\\" in charset else charset
    ds.QueryRetrieveLevel = level
    for elem in request:
        keyword = elem.keyword
        if not keyword or keyword in ("SpecificCharacterSet", "QueryRetrieveLevel"):
            continue
        if keyword == "RetrieveAETitle":
            value: Any = ae_title
        elif keyword == "InstanceAvailability":
            value = "ONLINE"
        else:
            value = match.get(keyword)
        try:
            if elem.VR == "SQ":
                setattr(ds, keyword, _sequence_items(elem.value, value))
            else:
                setattr(ds, keyword, "" if value is None else value)
        except Exception:  # a value the VR cannot hold: returned empty
            setattr(ds, keyword, [] if elem.VR == "SQ" else "")
    return ds


def _sequence_items(requested: Any, matched: Any) -> list[Any]:
    """A sequence key's items in a response: the matching items, each with the
    keys of the request's item (empty when the index has no value)."""
    from fastdicom.dataset import Dataset

    keys = [e.keyword for e in (list(requested or [])[:1] or [[]])[0] if e.keyword]
    out = []
    for values in matched or []:
        item = Dataset()
        for keyword in keys or list(values):
            value = values.get(keyword)
            setattr(item, keyword, "" if value is None else value)
        out.append(item)
    return out


# -- the operations of an association -------------------------------------------------------
@dataclass
class _Operation:
    message: Any
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    task: Any = None


@dataclass
class _State:
    operations: dict[int, _Operation] = field(default_factory=dict)
    waiters: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    ids: _dimse.MessageIDs = field(default_factory=lambda: _dimse.MessageIDs(0x8000))


def _state(session: Any) -> _State:
    state = getattr(session, "qr_state", None)
    if state is None:
        state = session.qr_state = _State()
    return state


async def serve_query(session: Any, name: str, message: Any) -> None:
    """Start serving a C-FIND (``"find"``), C-GET or C-MOVE request."""
    state = _state(session)
    op = _Operation(message)
    message_id = int(message.message_id or 0)
    runner = {"find": _find, "get": _retrieve, "move": _retrieve}[name]
    state.operations[message_id] = op

    async def run() -> None:
        try:
            await runner(session, name, op)
        except _Gone:
            log.info("%s: association ended during %s", session, message.name)
        except Exception:
            log.exception("%s: %s failed", session, message.name)
            _respond(session, message, Status.UNABLE_TO_PROCESS,
                     ErrorComment="internal error")
        finally:
            state.operations.pop(message_id, None)

    op.task = asyncio.get_running_loop().create_task(run())


def cancel_query(session: Any, message: Any) -> None:
    """A C-CANCEL-RQ: the operation it names stops at its next response."""
    state = getattr(session, "qr_state", None)
    target = message.message_id_being_responded_to
    op = state.operations.get(int(target or 0)) if state else None
    if op is not None:
        op.cancelled.set()


def deliver_response(session: Any, message: Any) -> None:
    """A response to one of our requests on the association (C-GET sub-operations)."""
    state = getattr(session, "qr_state", None)
    waiter = state.waiters.get(int(message.message_id_being_responded_to or -1)) if state \
        else None
    if waiter is not None and not waiter.done():
        waiter.set_result(message)


class _Gone(Exception):
    """The association ended while an operation ran."""


def _respond(session: Any, request: Any, status: int, data: bytes | None = None,
             **elements: Any) -> None:
    if session.proto.is_closed or not session.assoc.is_established:
        raise _Gone()
    try:
        session.respond(request, status, data, **elements)
    except _dimse.LocalProtocolError as exc:
        raise _Gone() from exc


async def _handle(session: Any, name: str, op: _Operation) -> tuple[Any, Any] | None:
    """Call the handler: (event, result), or None after a failure response."""
    event = session.event(op.message)
    try:
        if op.message.data is None:
            raise QueryError(Status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "no identifier")
        return event, await session.call(name, event)
    except QueryError as exc:
        _respond(session, op.message, exc.status, ErrorComment=exc.comment[:64])
    except Exception as exc:
        log.warning("%s: %s handler failed: %s", session, name, exc)
        _respond(session, op.message, Status.UNABLE_TO_PROCESS,
                 ErrorComment=str(exc)[:64] or type(exc).__name__)
    return None


async def _items(result: Any) -> Any:
    """The items of a handler's result (async or not; a sync iterator is
    advanced in a worker thread)."""
    if hasattr(result, "__aiter__"):
        async for item in result:
            yield item
        return
    if isinstance(result, (list, tuple)):
        for item in result:
            yield item
        return
    it = iter(result)
    loop = asyncio.get_running_loop()
    end = object()
    while True:
        item = await loop.run_in_executor(None, next, it, end)
        if item is end:
            return
        yield item


async def _find(session: Any, name: str, op: _Operation) -> None:
    from fastdicom.dataset import Dataset

    message = op.message
    got = await _handle(session, name, op)
    if got is None:
        return
    event, result = got
    ts = event.transfer_syntax
    sent = 0
    async for item in _items(result):
        if op.cancelled.is_set():
            log.info("%s: C-FIND cancelled after %d matches", session, sent)
            return _respond(session, message, Status.CANCEL)
        status, ds = item if isinstance(item, tuple) else (Status.PENDING, item)
        if not isinstance(ds, Dataset):  # a pydicom dataset, say
            from fastdicom import from_pydicom

            ds = from_pydicom(ds)
        try:
            data = encode_identifier(ds, ts)
        except (UnicodeError, LookupError, ValueError):  # the match's character set
            ds.SpecificCharacterSet = "ISO_IR 192"
            data = encode_identifier(ds, ts)
        _respond(session, message, status, data)
        sent += 1
        await session.proto.drain()
        await asyncio.sleep(0)  # lets a C-CANCEL-RQ in
    if op.cancelled.is_set():
        log.info("%s: C-FIND cancelled after %d matches", session, sent)
        return _respond(session, message, Status.CANCEL)
    log.info("%s: C-FIND: %d matches", session, sent)
    _respond(session, message, Status.SUCCESS)


from fastdicom.net.retrieve import _retrieve  # noqa: E402  (C-GET / C-MOVE)


def archive_handlers(archive: Any, *, fuzzy_pn: bool = False) -> dict[str, Any]:
    """The ``find``, ``get`` and ``move`` handlers of an archive."""

    def model(event: Any) -> str:
        return MODEL_OF.get(event.sop_class_uid or "", ("STUDY", ""))[0]

    def options(event: Any) -> set[str]:
        session = event.association
        return negotiated_options(session.assoc.accept if session is not None else None,
                                  event.sop_class_uid)

    def find(event: Any) -> list[tuple[int, Any]]:
        identifier = event.dataset
        level = str(identifier.get("QueryRetrieveLevel", "") or "").strip().upper()
        agreed = options(event)
        matches, unsupported = archive.find(
            identifier, model(event), fuzzy_pn=fuzzy_pn or "fuzzy" in agreed,
            relational="relational" in agreed, combined_datetime="datetime" in agreed)
        status = Status.PENDING_WARNING if unsupported else Status.PENDING
        return [(status, response_identifier(identifier, m, level, unsupported,
                                             event.called_ae_title)) for m in matches]

    def retrieve(event: Any) -> list[tuple[str, str, str, str]]:
        return archive.retrieve(event.dataset, model(event),
                                relational="relational" in options(event))

    return {"find": find, "get": retrieve, "move": retrieve}
