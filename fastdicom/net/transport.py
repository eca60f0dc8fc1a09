"""asyncio transport for :class:`fastdicom.net.association.Association`.

:class:`AssociationProtocol` is an :class:`asyncio.BufferedProtocol` that
moves bytes between a TCP (or TLS) connection and one sans-IO association:
the transport receives straight into the association's receive blocks, where
the C PDU reader frames them without a copy (PDVs are views of the block), its events
are queued for the one task that serves the association
(:meth:`AssociationProtocol.next_event`), and what the association produces
is written out. The ARTIM timer runs on the event loop's clock
(``loop.call_at``); nothing here polls or sleeps. Back-pressure both ways:
reading pauses while too many events wait for the task, and
:meth:`AssociationProtocol.drain` waits while the transport's write buffer is
full.
"""
from __future__ import annotations

import asyncio
import collections
import os
import socket
from typing import Any

from fastdicom.net.association import NEED_DATA, Association, ConnectionClosed
from fastdicom.net.pdu import unwritten

__all__ = ["AssociationProtocol", "MAX_QUEUED_EVENTS"]

#: Events (messages, mostly) waiting for the association's task before reading pauses.
MAX_QUEUED_EVENTS = 32
_IOV_MAX = 512


def _plain_socket_fd(transport: asyncio.BaseTransport) -> int | None:
    """The descriptor of a plain (not TLS) TCP transport's socket, for
    :meth:`AssociationProtocol._write_vector`; None otherwise."""
    if not hasattr(os, "writev") or transport.get_extra_info("sslcontext") is not None or \
            transport.get_extra_info("ssl_object") is not None:
        return None
    sock = transport.get_extra_info("socket")
    if sock is None or sock.type != socket.SOCK_STREAM:
        return None
    return sock.fileno()


class AssociationProtocol(asyncio.BufferedProtocol):
    """One association over one connection; see the module docstring."""

    def __init__(self, assoc: Association, *, max_queued: int = MAX_QUEUED_EVENTS) -> None:
        self.assoc = assoc
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.peer: tuple[Any, ...] | None = None
        self.max_queued = max_queued
        self._events: collections.deque[Any] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._write_paused = False
        self._read_paused = False
        self._artim: asyncio.TimerHandle | None = None
        self._closed_seen = False
        self._send_lock = asyncio.Lock()
        self._raw_fd: int | None = None
        self.closed: asyncio.Future[None] = self.loop.create_future()

    # -- asyncio.BufferedProtocol --------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.peer = transport.get_extra_info("peername")
        self._raw_fd = _plain_socket_fd(transport)
        if self._raw_fd is not None:  # writers resume once it is empty: writev again
            transport.set_write_buffer_limits(high=1 << 16, low=0)
        self._write(self.assoc.connection_made())
        self._after()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.assoc.get_buffer(sizehint)

    def buffer_updated(self, nbytes: int) -> None:
        self.assoc.buffer_updated(nbytes)
        self._pump()

    def eof_received(self) -> bool:
        self.assoc.receive_data(b"")
        self._pump()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.assoc.should_close:
            self.assoc.connection_lost()
        self._pump()
        self._push(ConnectionClosed())
        if self._artim is not None:
            self._artim.cancel()
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)

    # -- for the association's task -----------------------------------------------------
    @property
    def is_closed(self) -> bool:
        return self.closed.done()

    async def next_event(self, timeout: float | None = None) -> Any:
        """The next event of the association (:class:`ConnectionClosed` at the
        end); raises :class:`TimeoutError` when none arrives within ``timeout``."""
        while not self._events:
            waiter = self._waiter = self.loop.create_future()
            try:
                await asyncio.wait_for(waiter, timeout)
            finally:
                self._waiter = None
        event = self._events.popleft()
        if self._read_paused and len(self._events) <= self.max_queued // 2 and \
                self.transport is not None and not self.transport.is_closing():
            self._read_paused = False
            self.transport.resume_reading()
        return event

    def send(self, event: Any) -> None:
        """Send a user event (see :meth:`Association.send`) at once, whole. A
        DIMSE message sent while others may be in flight on this association
        goes through :meth:`send_message`, which keeps their fragments apart."""
        self._write(self.assoc.send(event))
        self._after()

    async def send_message(self, message: Any) -> None:
        """Send a DIMSE message piece by piece (see
        :meth:`Association.send_message`), waiting for the transport between
        pieces: a large data set is never encoded or buffered whole."""
        async with self._send_lock:  # the fragments of messages are never interleaved
            pieces = self.assoc.send_message(message, vectored=True)
            try:
                for piece in pieces:
                    if type(piece) is list:
                        self._write_vector(piece)
                        del piece  # views of the data set: not kept past this piece
                    else:
                        self._write(piece)
                    await self.drain()
            finally:
                pieces.close()
        self._after()

    async def drain(self) -> None:
        """Wait until the transport takes more data."""
        if self._write_paused and not self.is_closed:
            if self._drain_waiter is None or self._drain_waiter.done():
                self._drain_waiter = self.loop.create_future()
            await asyncio.shield(self._drain_waiter)  # shared by every writer waiting

    def close(self) -> None:
        """Close the connection now (after what was written)."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def abort_transport(self) -> None:
        """Drop the connection without flushing."""
        if self.transport is not None:
            self.transport.abort()

    # -- internals ---------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _write_vector(self, pieces: list[Any]) -> None:
        """Write buffers in order: with nothing queued in the transport, as
        much as the socket takes goes straight from them (``writev``, no
        copy); the rest is handed to the transport (copied there)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self._raw_fd is not None and not transport.get_write_buffer_size():
            while pieces:
                try:
                    sent = os.writev(self._raw_fd, pieces[:_IOV_MAX])
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:  # the transport meets the error on its write and reports it
                    break
                rest = unwritten(pieces, sent)
                written_whole = len(rest) <= len(pieces) - min(len(pieces), _IOV_MAX)
                pieces = rest
                if not written_whole:
                    break  # the socket is full
        if pieces:
            transport.write(b"".join(pieces))

    def _push(self, event: Any) -> None:
        if isinstance(event, ConnectionClosed):
            if self._closed_seen:
                return
            self._closed_seen = True
        self._events.append(event)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _pump(self) -> None:
        while True:
            event = self.assoc.next_event()
            if event is NEED_DATA:
                break
            self._push(event)
            if isinstance(event, ConnectionClosed):
                break
        self._write(self.assoc.data_to_send())
        self._after()

    def _after(self) -> None:
        if self.assoc.should_close:
            self.close()
        if self._artim is not None:
            self._artim.cancel()
            self._artim = None
        deadline = self.assoc.artim_deadline
        if deadline is not None and not self.assoc.should_close:
            self._artim = self.loop.call_at(deadline, self._artim_expired)
        if len(self._events) > self.max_queued and not self._read_paused and \
                self.transport is not None and not self.transport.is_closing():
            self._read_paused = True
            self.transport.pause_reading()

    def _artim_expired(self) -> None:
        self._artim = None
        if self.assoc.timer_expired(self.loop.time()):
            self._write(self.assoc.data_to_send())
            self._pump()
            self.close()
        else:
            self._after()
