"""Query/Retrieve as SCU: C-FIND, C-MOVE and C-GET over a
:class:`~fastdicom.net.client.ClientAssociation` (whose ``find``, ``move``
and ``get`` methods call these).

Identifiers are datasets, or mappings of keyword to value (``{"PatientName":
"DOE*", "StudyDate": "20200101-20201231", "StudyInstanceUID": ""}``); the
Query/Retrieve Level is ``level`` (default: the identifier's, else STUDY).
The information model is ``"STUDY"`` (Study Root), ``"PATIENT"`` (Patient
Root) or ``"WORKLIST"`` (Modality Worklist, C-FIND only); the association
must have an accepted presentation context for it (see :func:`contexts`).

>>> result = await find(assoc, {"PatientName": "DOE*", "StudyInstanceUID": ""})
>>> [ds.StudyInstanceUID for ds in result.matches]
>>> await move(assoc, {"StudyInstanceUID": uid}, "STORESCP")
>>> await get(assoc, {"StudyInstanceUID": uid}, directory="out")
"""
from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Iterable

from fastdicom.net import dimse as _dimse
from fastdicom.net.services import (
    MODALITY_WORKLIST_FIND, MODEL_UIDS, decode_identifier, encode_identifier)

__all__ = ["find", "find_iter", "move", "get", "contexts", "get_role_selection",
           "QueryResult", "RetrieveResult", "make_identifier", "sop_class_for",
           "GET_STORAGE_CLASSES", "STORAGE_TRANSFER_SYNTAXES"]

#: Transfer syntaxes a C-GET SCU accepts for incoming instances (stored as received).
STORAGE_TRANSFER_SYNTAXES = (
    "1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
    "1.2.840.10008.1.2.4.203")


def _storage_classes() -> list[str]:
    from fastdicom._uiddata import UID_DICTIONARY
    from fastdicom.net.storage import storage_sop_classes

    current = [u for u in storage_sop_classes() if UID_DICTIONARY[u][3] != "Retired"]
    # image storage first (what is retrieved most), then the others, in dictionary order
    return sorted(current, key=lambda u: "Image" not in UID_DICTIONARY[u][0])


#: The Storage SOP classes a C-GET proposes by default (at most 126 fit beside two Q/R
#: contexts in one request): the current (not retired) ones, in dictionary order.
GET_STORAGE_CLASSES: list[str] = []


def sop_class_for(model: str, service: str) -> str:
    model = model.upper()
    if model == "WORKLIST":
        if service != "find":
            raise ValueError("the Modality Worklist model has only C-FIND")
        return MODALITY_WORKLIST_FIND
    try:
        return MODEL_UIDS[(model, service)]
    except KeyError:
        raise ValueError(f"unknown information model {model!r} (STUDY, PATIENT, WORKLIST)") \
            from None


def contexts(service: str, model: str = "STUDY", *,
             storage_classes: Iterable[str] | None = None) -> list[Any]:
    """The presentation contexts to request for a service (C-GET: with the
    storage classes to receive)."""
    out: list[Any] = [sop_class_for(model, service)]
    if service == "get":
        classes = list(storage_classes) if storage_classes is not None else \
            default_get_classes()
        out += [(uid, list(STORAGE_TRANSFER_SYNTAXES)) for uid in classes[:127]]
    return out


def default_get_classes() -> list[str]:
    if not GET_STORAGE_CLASSES:
        GET_STORAGE_CLASSES.extend(_storage_classes()[:126])
    return GET_STORAGE_CLASSES


def get_role_selection(storage_classes: Iterable[str] | None = None
                       ) -> dict[str, tuple[bool, bool]]:
    """Role selection for a C-GET: we take the SCP role of each storage class."""
    classes = storage_classes if storage_classes is not None else default_get_classes()
    return {uid: (False, True) for uid in classes}


def make_identifier(keys: Any, level: str | None = None,
                    default_level: str | None = "STUDY") -> Any:
    """A dataset from a dataset or a mapping keyword -> value (lists for
    several values); the Query/Retrieve Level set when ``level`` is given
    (or the identifier has none: STUDY)."""
    from fastdicom.dataset import Dataset

    if isinstance(keys, Dataset):
        ds = keys
    elif hasattr(keys, "to_json_dict") and not isinstance(keys, dict):  # pydicom
        from fastdicom import from_pydicom

        ds = from_pydicom(keys)
    else:
        ds = _dataset(keys)
    if level is not None:
        ds.QueryRetrieveLevel = level.upper()
    elif "QueryRetrieveLevel" not in ds and default_level:
        ds.QueryRetrieveLevel = default_level
    return ds


def _dataset(keys: Any) -> Any:
    """A mapping as a dataset; lists of mappings as sequences (sequence matching)."""
    from fastdicom.dataset import Dataset

    ds = Dataset()
    for keyword, value in dict(keys).items():
        if isinstance(value, dict):
            value = [_dataset(value)]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            value = [_dataset(v) for v in value]
        setattr(ds, keyword, "" if value is None else value)
    return ds


@dataclass
class QueryResult:
    """A C-FIND's outcome: the final status and the matches (datasets)."""

    status: int | None
    matches: list[Any] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  #: of the pending responses
    error_comment: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and _dimse.status_category(self.status) == \
            _dimse.SUCCESS


@dataclass
class RetrieveResult:
    """A C-MOVE's or C-GET's outcome: the final status and counts."""

    status: int | None
    completed: int = 0
    failed: int = 0
    warning: int = 0
    remaining: int | None = None
    failed_uids: list[str] = field(default_factory=list)
    pending: int = 0  #: pending responses received
    stored: list[str] = field(default_factory=list)  #: C-GET: the files received
    error_comment: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 0


def _context(assoc: Any, model: str, service: str) -> Any:
    return assoc.assoc.context_for(sop_class_for(model, service))


def _request(assoc: Any, command_field: int, model: str, service: str, identifier: Any,
             level: str | None, priority: int, **fields: Any) -> Any:
    ctx = _context(assoc, model, service)
    sop_class = ctx.abstract_syntax
    ds = make_identifier(identifier, level, None if model.upper() == "WORKLIST" else "STUDY")
    command = _dimse.build_command(command_field, MessageID=1, Priority=priority,
                                   AffectedSOPClassUID=sop_class, **fields)
    return _dimse.DimseMessage(ctx.context_id, command,
                               encode_identifier(ds, ctx.transfer_syntax))


async def find_iter(assoc: Any, identifier: Any, *, model: str = "STUDY",
                    level: str | None = None, priority: int = 0,
                    cancel_after: int | None = None) -> AsyncIterator[tuple[int, Any]]:
    """C-FIND: ``(status, identifier or None)`` for each response, the final
    one last. ``cancel_after``: send a C-CANCEL-RQ after that many matches
    (the final status is then Cancel, 0xFE00, unless the SCP had finished)."""
    message = _request(assoc, _dimse.C_FIND_RQ, model, "find", identifier, level, priority)
    ts = assoc.accepted_contexts[message.context_id].transfer_syntax
    n = 0
    async for response in assoc.request(message):
        status = int(response.status)
        ds = decode_identifier(response.data, ts) if response.data is not None else None
        if response.status_category == _dimse.PENDING:
            n += 1
            if cancel_after is not None and n == cancel_after:
                assoc.cancel(message)
        yield status, ds


async def find(assoc: Any, identifier: Any, **kw: Any) -> QueryResult:
    """C-FIND: every match and the final status (see :func:`find_iter`)."""
    result = QueryResult(None)
    async for status, ds in find_iter(assoc, identifier, **kw):
        if _dimse.status_category(status) == _dimse.PENDING:
            result.statuses.append(status)
            if ds is not None:
                result.matches.append(ds)
        else:
            result.status = status
    return result


def _counts(result: RetrieveResult, response: Any, ts: str) -> None:
    cmd = response.command
    for name, attr in (("NumberOfCompletedSuboperations", "completed"),
                       ("NumberOfFailedSuboperations", "failed"),
                       ("NumberOfWarningSuboperations", "warning")):
        if name in cmd:
            setattr(result, attr, int(cmd.get(name)))
    if "NumberOfRemainingSuboperations" in cmd:
        result.remaining = int(cmd.get("NumberOfRemainingSuboperations"))
    result.error_comment = cmd.get("ErrorComment") or result.error_comment
    if response.data is not None and response.status_category != _dimse.PENDING:
        try:
            ds = decode_identifier(response.data, ts)
            uids = ds.get("FailedSOPInstanceUIDList")
            result.failed_uids = [] if uids is None else [
                str(u) for u in (uids if isinstance(uids, (list, tuple)) or
                                 type(uids).__name__ == "MultiValue" else [uids])]
        except Exception:
            pass


async def _retrieve(assoc: Any, message: Any, on_pending: Callable[[Any], Any] | None,
                    cancel_after: int | None, result: RetrieveResult) -> RetrieveResult:
    ts = assoc.accepted_contexts[message.context_id].transfer_syntax
    async for response in assoc.request(message):
        _counts(result, response, ts)
        if response.status_category == _dimse.PENDING:
            result.pending += 1
            if on_pending is not None:
                on_pending(result)
            if cancel_after is not None and result.pending == cancel_after:
                assoc.cancel(message)
        else:
            result.status = int(response.status)
    return result


async def move(assoc: Any, identifier: Any, destination: str, *, model: str = "STUDY",
               level: str | None = None, priority: int = 0,
               on_pending: Callable[[RetrieveResult], Any] | None = None,
               cancel_after: int | None = None) -> RetrieveResult:
    """C-MOVE the instances the identifier selects to the AE ``destination``."""
    message = _request(assoc, _dimse.C_MOVE_RQ, model, "move", identifier, level, priority,
                       MoveDestination=destination)
    return await _retrieve(assoc, message, on_pending, cancel_after, RetrieveResult(None))


async def get(assoc: Any, identifier: Any, *, directory: str | None = None,
              on_store: Callable[[Any], Any] | None = None, model: str = "STUDY",
              level: str | None = None, priority: int = 0,
              on_pending: Callable[[RetrieveResult], Any] | None = None,
              cancel_after: int | None = None) -> RetrieveResult:
    """C-GET: the instances arrive as C-STORE requests on this association;
    each is written to ``directory`` (as ``<SOP Instance UID>.dcm``, fsync'ed,
    renamed into place) or given to ``on_store(message)`` (returns a status)."""
    if directory is None and on_store is None:
        raise ValueError("give a directory or an on_store callback")
    result = RetrieveResult(None)
    if directory is not None:
        os.makedirs(directory, exist_ok=True)
    sinks: list[Any] = []
    previous_sink = assoc.assoc.dataset_sink
    if on_store is None:
        assert directory is not None

        def on_store(message: Any) -> int:
            if message.stream is not None:  # streamed into its file as it arrived
                if message.stream_error is not None:
                    message.stream.discard()
                    raise message.stream_error
                path = message.stream.commit()
            else:
                path = store_to(directory, message, assoc)
            result.stored.append(path)
            return 0

        def sink(context_id: int, command: Any) -> Any:
            if int(command.CommandField) != _dimse.C_STORE_RQ:
                return None
            try:
                incoming = _incoming(directory, command, assoc, context_id)
            except Exception:  # noqa: BLE001 - assembled in memory; store_to reports it
                return None
            sinks.append(incoming)
            return incoming

        assoc.assoc.dataset_sink = sink
    message = _request(assoc, _dimse.C_GET_RQ, model, "get", identifier, level, priority)
    previous = assoc.on_store
    assoc.on_store = on_store
    try:
        return await _retrieve(assoc, message, on_pending, cancel_after, result)
    finally:
        assoc.on_store = previous
        assoc.assoc.dataset_sink = previous_sink
        for incoming in sinks:  # transfers cut short leave no file (a no-op once committed)
            incoming.discard()


def _incoming(directory: str, command: Any, assoc: Any, context_id: int) -> Any:
    from fastdicom.net.storage import IncomingFile

    ctx = assoc.accepted_contexts[context_id]
    return IncomingFile(directory, command.get("AffectedSOPClassUID"),
                        command.get("AffectedSOPInstanceUID"), ctx.transfer_syntax,
                        assoc.accept.called_ae_title.strip() if assoc.accept else None)


def store_to(directory: str, message: Any, assoc: Any) -> str:
    """Write a received C-STORE's data set as a file in ``directory``."""
    sink = _incoming(directory, message.command, assoc, message.context_id)
    try:
        sink.write(message.data or b"")
    except BaseException:
        sink.discard()
        raise
    return sink.commit()


async def serve_store(assoc: Any, message: Any) -> None:
    """Answer a C-STORE-RQ received on a requested association (C-GET)."""
    handler = assoc.on_store
    status = _dimse.Status.SOP_CLASS_NOT_SUPPORTED
    comment = None
    if handler is not None:
        try:
            if asyncio.iscoroutinefunction(handler):
                status = await handler(message)
            else:
                status = await asyncio.to_thread(handler, message)
        except Exception as exc:
            status, comment = _dimse.Status.OUT_OF_RESOURCES, str(exc)[:64]
    if assoc.is_established:
        from fastdicom.net.errors import LocalProtocolError

        try:
            assoc._proto.send(_dimse.make_response(message, int(status or 0),
                                                   ErrorComment=comment))
        except LocalProtocolError:  # the association ended meanwhile
            pass
