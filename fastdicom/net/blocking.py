"""The blocking facade of the asyncio network API, for scripts.

Coroutines run on one event loop in a background daemon thread
(:func:`run`); :class:`BlockingAssociation` and :class:`ServerHandle` wrap
the asyncio objects with plain methods.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Coroutine, Iterable, TypeVar

__all__ = ["run", "BlockingAssociation", "ServerHandle", "serve_forever"]

T = TypeVar("T")
_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="fastdicom-net", daemon=True).start()
            _loop = loop
        return _loop


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the background loop and wait for its result."""
    loop = _background_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        raise RuntimeError("the blocking API cannot be used from its own event loop")
    return asyncio.run_coroutine_threadsafe(coro, loop).result()


class BlockingAssociation:
    """A :class:`~fastdicom.net.client.ClientAssociation` with blocking methods;
    a context manager that releases on exit (aborts on an exception)."""

    def __init__(self, assoc: Any) -> None:
        self.client = assoc

    def __getattr__(self, name: str) -> Any:  # state: accept, accepted_contexts, peer ...
        return getattr(self.client, name)

    def echo(self) -> int:
        return run(self.client.echo())

    def store(self, item: Any, **kw: Any) -> Any:
        return run(self.client.store(item, **kw))

    def store_many(self, items: Iterable[Any], **kw: Any) -> list[Any]:
        return run(self.client.store_many(list(items), **kw))

    def find(self, identifier: Any, **kw: Any) -> Any:
        return run(self.client.find(identifier, **kw))

    def move(self, identifier: Any, destination: str, **kw: Any) -> Any:
        return run(self.client.move(identifier, destination, **kw))

    def get(self, identifier: Any, **kw: Any) -> Any:
        return run(self.client.get(identifier, **kw))

    def send(self, message: Any) -> list[Any]:
        """Send a request; all its responses (the final one last)."""
        async def collect() -> list[Any]:
            return [r async for r in self.client.request(message)]
        return run(collect())

    def release(self) -> None:
        run(self.client.release())

    def abort(self) -> None:
        async def abort() -> None:
            self.client.abort()
        run(abort())

    def __enter__(self) -> "BlockingAssociation":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.release()
        else:
            self.abort()

    def __repr__(self) -> str:
        return repr(self.client)


class ServerHandle:
    """A server running on the background loop: ``port``, ``server`` (the
    :class:`~fastdicom.net.server.Server`), :meth:`shutdown`; a context manager."""

    def __init__(self, ae: Any, host: str, port: int, **kw: Any) -> None:
        self.server = run(ae.start_server(host, port, **kw))
        self.port = self.server.port

    def shutdown(self) -> None:
        run(self.server.close())

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()


def serve_forever(ae: Any, host: str, port: int, **kw: Any) -> None:
    """Serve in this thread until interrupted (Ctrl-C)."""
    async def main() -> None:
        server = await ae.start_server(host, port, **kw)
        try:
            await server.serve_forever()
        finally:
            await server.close()
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
