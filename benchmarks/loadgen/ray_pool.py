"""Load workers as Ray actors spread over the nodes of an existing Ray cluster (``--ray-address``).

One machine's CPU is the load generator's ceiling; with a Ray cluster each worker is a
``LoadWorker`` actor, placed with the ``SPREAD`` strategy so the workers land on different
nodes. An actor runs exactly what a worker process runs (``worker.serve``) with its commands
and events carried by two queues instead of stdio: the pool pushes commands (numbered, since
an async actor does not keep call order) and long-polls the events. The recordings come back
as the same ``result`` events, so they merge into the same report. Each actor ends itself
after its plan's lifetime, and the pool kills every actor it created when it stops.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayError

from .plan import WorkerPlan
from .pool import WorkerHandle, WorkerPool
from .worker import serve

__all__ = ["RAY_BENCH_ENV", "LoadWorker", "RayWorkerPool", "connect_ray"]

log = logging.getLogger(__name__)

# As actors/runtime.py sets for the server: no usage reporting, no token auth, loopback binds.
RAY_BENCH_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
}
NAMESPACE = "atelier-bench"
_PULL_WAIT = 1.0


def connect_ray(address: str) -> None:
    """Join the cluster at ``address`` once per process (a driver; no node is started here)."""
    for key, value in RAY_BENCH_ENV.items():
        os.environ.setdefault(key, value)
    if not ray.is_initialized():
        ray.init(address=address, namespace=NAMESPACE, log_to_driver=False)


class _QueueChannel:
    """The worker's channel inside an actor: numbered commands in, events out."""

    def __init__(self) -> None:
        self.inbox: dict[int, dict[str, Any]] = {}
        self.next = 0
        self.arrived = asyncio.Event()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive(self) -> dict[str, Any]:
        while self.next not in self.inbox:
            self.arrived.clear()
            await self.arrived.wait()
        message = self.inbox.pop(self.next)
        self.next += 1
        if message.get("cmd") == "eof":
            raise EOFError("the pool closed the channel")
        return message

    def send(self, event: str, **fields: Any) -> None:
        self.outbox.put_nowait({"event": event, **fields})


class LoadWorker:
    """A load worker in a Ray actor: ``start(plan)``, then ``push`` commands and ``pull`` events."""

    def __init__(self) -> None:
        self._channel = _QueueChannel()
        self._task: asyncio.Task[None] | None = None

    async def start(self, plan: dict[str, Any]) -> dict[str, Any]:
        parsed = WorkerPlan.from_dict(plan)
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._serve(parsed))
        # The hard bound, as for a worker process: the actor's process ends after its lifetime.
        loop.call_later(parsed.lifetime, os._exit, 3)
        return {
            "worker": parsed.worker,
            "node_id": ray.get_runtime_context().get_node_id(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }

    async def _serve(self, plan: WorkerPlan) -> None:
        try:
            code = await serve(plan, self._channel)
        except Exception as exc:  # reported to the pool, which fails the run with it
            self._channel.send("fatal", error=repr(exc))
            code = 2
        self._channel.send("exit", code=code)

    async def push(self, seq: int, message: dict[str, Any]) -> None:
        self._channel.inbox[seq] = message
        self._channel.arrived.set()

    async def pull(self, wait: float) -> list[dict[str, Any]]:
        outbox = self._channel.outbox
        try:
            events = [await asyncio.wait_for(outbox.get(), wait)]
        except TimeoutError:
            return []
        while not outbox.empty():
            events.append(outbox.get_nowait())
        return events


# The actor class (an async actor: commands, polls and the worker's own loop share one loop).
_REMOTE: Any = ray.remote(LoadWorker)


class _RayWorker(WorkerHandle):
    def __init__(self, index: int, actor: Any, nodes: list[dict[str, Any]]) -> None:
        super().__init__(index)
        self.actor = actor
        self._nodes = nodes
        self._seq = 0
        self._started = False
        self._code: int | None = None
        self._refs: list[Any] = []
        self.reader: asyncio.Task[None] | None = None

    def send(self, message: Mapping[str, Any]) -> None:
        if not self._started:
            self._started = True
            self.reader = asyncio.get_running_loop().create_task(self._read(dict(message)))
            return
        self._refs.append(self.actor.push.remote(self._seq, dict(message)))
        self._seq += 1

    async def _read(self, plan: dict[str, Any]) -> None:
        try:
            self._nodes.append(await self.actor.start.remote(plan))
            while True:
                for event in await self.actor.pull.remote(_PULL_WAIT):
                    if event.get("event") == "exit":
                        self._code = int(event.get("code", 0))
                    await self.events.put(event)
                    if event.get("event") == "exit":
                        return
        except RayError as exc:
            log.warning("load worker actor %d is gone: %s", self.index, exc)
            await self.events.put({"event": "fatal", "error": f"actor gone: {exc}"})
            await self.events.put({"event": "exit"})

    def exit_code(self) -> int | None:
        return self._code

    async def close(self, grace: float) -> None:
        if self._started:
            self.send({"cmd": "stop"})
        if self.reader is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self.reader), grace)
            except TimeoutError:
                log.warning("load worker actor %d did not stop in %.0fs: killing it", self.index, grace)
            self.reader.cancel()
            await asyncio.gather(self.reader, return_exceptions=True)
        self.kill()

    def kill(self) -> None:
        ray.kill(self.actor, no_restart=True)


class RayWorkerPool(WorkerPool):
    """A WorkerPool whose workers are ``LoadWorker`` actors on the cluster at ``address``."""

    def __init__(
        self, plans: list[WorkerPlan], log_dir: Path, *, address: str, cpus_per_worker: float
    ) -> None:
        super().__init__(plans, log_dir)
        self._address = address
        self._cpus = cpus_per_worker

    async def _spawn(self, plan: WorkerPlan) -> WorkerHandle:
        await asyncio.to_thread(connect_ray, self._address)
        actor = _REMOTE.options(
            num_cpus=self._cpus, scheduling_strategy="SPREAD", max_restarts=0, max_concurrency=64
        ).remote()
        return _RayWorker(plan.worker, actor, self.nodes)
