"""A loopback TCP forwarder standing in for a load balancer in front of several gateways.

A client (the real @hocuspocus/provider) knows one URL. Each new connection goes to the
next backend in turn that accepts a TCP connection, so clients split between gateways
and, when one dies, their reconnects land on a live one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

__all__ = ["Forwarder"]

log = logging.getLogger(__name__)


@dataclass
class _Pipe:
    backend: int
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)


class Forwarder:
    """``async with Forwarder([port_a, port_b]) as fwd:`` then dial ``fwd.port``."""

    def __init__(self, backends: list[int], connect_timeout: float = 2.0) -> None:
        self.backends = backends
        self.port = 0
        self.routed: list[int] = []  # backend port of every accepted connection, in order
        self._connect_timeout = connect_timeout
        self._next = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._open: list[_Pipe] = []

    async def __aenter__(self) -> Forwarder:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for pipe in self._open:
            for writer in pipe.writers:
                writer.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._pipes.add(task)
        task.add_done_callback(self._pipes.discard)

    async def _dial(self) -> tuple[int, asyncio.StreamReader, asyncio.StreamWriter] | None:
        for _ in range(len(self.backends)):
            port = self.backends[self._next % len(self.backends)]
            self._next += 1
            try:
                up, down = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", port), self._connect_timeout
                )
            except (TimeoutError, OSError) as exc:
                log.info("forwarder: backend %d refused: %s", port, exc)
                continue
            return port, up, down
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        dialed = await self._dial()
        if dialed is None:
            writer.close()  # no live backend: the client retries, as behind a real balancer
            return
        port, up_reader, up_writer = dialed
        self.routed.append(port)
        pipe = _Pipe(port, writers=[writer, up_writer])
        self._open.append(pipe)
        try:
            await asyncio.gather(self._copy(reader, up_writer), self._copy(up_reader, writer))
        finally:
            self._open.remove(pipe)
            for w in pipe.writers:
                w.close()

    @staticmethod
    async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            log.debug("forwarder: connection reset")
        finally:
            # Half-close towards the other side so each end learns the connection ended.
            with contextlib.suppress(OSError, RuntimeError):
                if sink.can_write_eof():
                    sink.write_eof()
            sink.close()
