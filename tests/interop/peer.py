"""Drives the real @hocuspocus/provider (node, tests/interop/peer.mjs) from asyncio tests."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import shutil
from collections.abc import Callable
from typing import Any

from .npm import INTEROP_DIR

__all__ = ["NodePeer"]

log = logging.getLogger(__name__)


class NodePeer:
    """One node process hosting many providers; ``async with NodePeer() as node: ...``."""

    def __init__(self, timeout: float = 20.0) -> None:
        self._timeout = timeout
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._stderr: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._replies: dict[int, asyncio.Future[Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._event_added = asyncio.Condition()

    async def __aenter__(self) -> NodePeer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node not found")
        self._process = await asyncio.create_subprocess_exec(
            node,
            "peer.mjs",
            cwd=INTEROP_DIR,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=16 << 20,
        )
        loop = asyncio.get_running_loop()
        self._reader = loop.create_task(self._read())
        self._stderr = loop.create_task(self._drain_stderr())

    async def stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()  # our own child, by its handle
            await process.wait()
        for task in (self._reader, self._stderr):
            if task is not None:
                task.cancel()
        self._process = None

    async def _read(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        while True:
            line = await self._process.stdout.readline()
            if not line:
                break
            message = json.loads(line)
            if "id" in message:
                fut = self._replies.pop(message["id"], None)
                if fut is not None and not fut.done():
                    if "error" in message:
                        fut.set_exception(RuntimeError(message["error"]))
                    else:
                        fut.set_result(message["ok"])
                continue
            async with self._event_added:
                self.events.append(message)
                self._event_added.notify_all()
        for fut in self._replies.values():
            if not fut.done():
                fut.set_exception(RuntimeError("node peer exited"))

    async def _drain_stderr(self) -> None:
        assert self._process is not None
        assert self._process.stderr is not None
        while line := await self._process.stderr.readline():
            log.debug("node: %s", line.decode(errors="replace").rstrip())

    async def call(self, cmd: str, **args: Any) -> Any:
        assert self._process is not None
        assert self._process.stdin is not None
        request_id = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._replies[request_id] = fut
        self._process.stdin.write(json.dumps({"id": request_id, "cmd": cmd, **args}).encode() + b"\n")
        await self._process.stdin.drain()
        return await asyncio.wait_for(fut, self._timeout)

    # -- conveniences -----------------------------------------------------------------

    async def connect(self, peer: str, url: str, name: str, **options: Any) -> None:
        await self.call("connect", peer=peer, url=url, name=name, **options)

    async def state(self, peer: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("state", peer=peer)
        return result

    async def text(self, peer: str, field: str = "t") -> str:
        result: dict[str, str] = await self.call("text", peer=peer, field=field)
        return result["text"]

    async def wait_event(
        self,
        peer: str,
        event: str,
        *,
        since: int = 0,
        timeout: float | None = None,  # noqa: ASYNC109 (a test wait: fails naming what it last saw)
        where: Callable[[dict[str, Any]], bool] = lambda _e: True,
    ) -> dict[str, Any]:
        """The first matching event at or after index ``since`` of the event log."""

        def find() -> dict[str, Any] | None:
            for item in self.events[since:]:
                if item.get("peer") == peer and item.get("event") == event and where(item):
                    return item
            return None

        async with self._event_added:
            await asyncio.wait_for(
                self._event_added.wait_for(lambda: find() is not None), timeout or self._timeout
            )
        found = find()
        assert found is not None
        return found

    async def wait_state(
        self,
        peer: str,
        accept: Callable[[dict[str, Any]], bool],
        timeout: float | None = None,  # noqa: ASYNC109 (a test wait: fails naming what it last saw)
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout or self._timeout)
        while True:
            state = await self.state(peer)
            if accept(state):
                return state
            if loop.time() > deadline:
                raise AssertionError(f"peer {peer} state never matched; last: {state}")
            await asyncio.sleep(0.02)

    async def wait_text(
        self,
        peer: str,
        expected: str,
        field: str = "t",
        timeout: float | None = None,  # noqa: ASYNC109 (a test wait: fails naming what it last saw)
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout or self._timeout)
        while (current := await self.text(peer, field)) != expected:
            if loop.time() > deadline:
                raise AssertionError(f"peer {peer} text {current!r} != {expected!r}")
            await asyncio.sleep(0.02)
