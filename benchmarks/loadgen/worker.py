"""A load worker process: ``python -m benchmarks.loadgen.worker``.

Protocol over stdio, one JSON object per line:
- in: the ``WorkerPlan``; then commands ``{"cmd": "go", "step": {...}}``,
  ``{"cmd": "expect", "expected": {cid: n}, "drain": seconds}``,
  ``{"cmd": "add", "clients": [...]}`` (more editors, kept with the first ones) and
  ``{"cmd": "stop"}``.
- out: ``ready`` (after every client of the plan, or of an ``add``, connected and synced),
  ``progress`` (twice a second while a step runs), ``sent`` (when a step's sending ends),
  ``result`` (after draining) and ``closed``; ``fatal`` if the worker cannot go on.

The worker is bounded on its own: it exits when stdin closes (its parent is gone) or when
its plan's lifetime runs out, whatever it is doing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from typing import Any, Protocol

import aiohttp
import orjson

from .agent import RestAgent
from .api import make_api_user
from .client import EditorClient, SendBudget
from .plan import ClientPlan, StepPlan, WorkerPlan
from .recorder import Recorder

__all__ = ["Channel", "Worker", "main", "run_worker", "serve"]

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.5
DRAIN_POLL = 0.02


class Channel(Protocol):
    """How a worker talks to its orchestrator: a process's stdio, or a Ray actor's queues."""

    async def receive(self) -> dict[str, Any]: ...

    def send(self, event: str, **fields: Any) -> None: ...


class _Channel:
    """JSON lines over the process's stdin/stdout."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def receive(self) -> dict[str, Any]:
        line = await self._reader.readline()
        if not line:
            raise EOFError("the orchestrator closed stdin")
        message = orjson.loads(line)
        if not isinstance(message, dict):
            raise ValueError("expected a JSON object per line")
        return message

    def send(self, event: str, **fields: Any) -> None:
        sys.stdout.buffer.write(orjson.dumps({"event": event, **fields}) + b"\n")
        sys.stdout.buffer.flush()


async def _stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    return reader


class Worker:
    def __init__(self, plan: WorkerPlan, channel: Channel) -> None:
        self.plan = plan
        self.channel = channel
        self.recorder = Recorder()
        self.clients: list[EditorClient] = []
        self.agents: list[RestAgent] = []
        self.api_users: list[Any] = []
        self._http: aiohttp.ClientSession | None = None

    async def connect(self) -> None:
        plan = self.plan
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        self._http = aiohttp.ClientSession(connector=connector)
        self.agents = [
            RestAgent(a, self._http, self.recorder, timeout=plan.connect_timeout) for a in plan.agents
        ]
        self.api_users = [
            make_api_user(u, self._http, self.recorder, timeout=plan.connect_timeout) for u in plan.api_users
        ]
        await self.add(plan.clients)

    async def add(self, plans: list[ClientPlan]) -> None:
        """Connect and sync more editors; ``ready`` reports only these."""
        plan = self.plan
        assert self._http is not None
        clients = [EditorClient(c, self._http, self.recorder) for c in plans]
        self.clients.extend(clients)
        gate = asyncio.Semaphore(plan.connect_concurrency)
        sync_ns: dict[str, int] = {}
        failures: list[str] = []

        async def open_one(client: EditorClient) -> None:
            async with gate:
                try:
                    took = await asyncio.wait_for(
                        client.connect(
                            compress=plan.compress,
                            max_frame_bytes=plan.max_frame_bytes,
                            wait_synced=plan.sync_wait,
                        ),
                        plan.connect_timeout,
                    )
                    sync_ns[str(client.cid)] = took
                except TimeoutError:
                    failures.append(f"client {client.cid}: not synced within {plan.connect_timeout}s")
                except (aiohttp.ClientError, ConnectionError, OSError) as exc:
                    failures.append(f"client {client.cid}: connect failed: {exc!r}")

        await asyncio.gather(*(open_one(c) for c in clients))
        self.channel.send(
            "ready",
            connected=len(sync_ns),
            failed=len(failures),
            failures=failures[:20],
            sync_ns=sync_ns,
            compressed=sum(1 for c in clients if c.compressed),
            errors=self.recorder.total_errors,
        )

    async def run_step(self, step: StepPlan) -> None:
        recorder = self.recorder
        recorder.begin(step.step)
        budget = SendBudget(step.max_updates)
        cpu0 = time.process_time()
        editors = len(self.clients) or 1
        agents = len(self.agents) or 1
        tasks = (
            [
                asyncio.ensure_future(c.send_loop(step, budget, index / editors))
                for index, c in enumerate(self.clients)
            ]
            + [
                asyncio.ensure_future(a.send_loop(step, budget, index / agents))
                for index, a in enumerate(self.agents)
            ]
            + [
                asyncio.ensure_future(u.loop(step, index / max(1, len(self.api_users))))
                for index, u in enumerate(self.api_users)
            ]
        )
        sending = asyncio.gather(*tasks)
        while not sending.done():
            await asyncio.wait({sending}, timeout=PROGRESS_INTERVAL)
            self.channel.send("progress", step=step.step, **recorder.progress())
        sending.result()
        counters = recorder.current
        self.channel.send("sent", step=step.step, sent={str(k): v for k, v in counters.sent.items()})

        command = await self.channel.receive()
        if command.get("cmd") != "expect":
            raise ValueError(f"expected an expect command, got {command!r}")
        expected = {int(k): int(v) for k, v in command["expected"].items()}
        await self._drain(expected, float(command["drain"]))
        cpu = time.process_time() - cpu0
        missing_acks = sum(c.pending_acks for c in self.clients)
        self.channel.send(
            "result",
            step=step.step,
            counters=counters.to_dict(),
            client_cpu_s=cpu,
            pending_acks=missing_acks,
            open_clients=sum(1 for c in self.clients if c.open),
        )

    async def _drain(self, expected: dict[int, int], timeout: float) -> None:  # noqa: ASYNC109 (best effort: the step ends at the deadline, no error)
        """Wait until every local receiver has its expected edits and every ack came back."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        counters = self.recorder.current
        mine = [c for c in self.clients if c.cid in expected]
        while loop.time() < deadline:
            received = counters.received
            complete = all(received.get(c.cid, 0) >= expected[c.cid] for c in mine if c.open)
            acked = all(c.pending_acks == 0 for c in self.clients if c.open and c.acks)
            if complete and acked:
                return
            await asyncio.sleep(DRAIN_POLL)

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients), return_exceptions=True)
        if self._http is not None:
            await self._http.close()


async def run_worker() -> int:
    reader = await _stdin_reader()
    channel = _Channel(reader)
    plan = WorkerPlan.from_dict(await channel.receive())
    # The hard bound: whatever happens, this process ends after its lifetime.
    asyncio.get_running_loop().call_later(plan.lifetime, _expire, plan.lifetime)
    return await serve(plan, channel)


async def serve(plan: WorkerPlan, channel: Channel) -> int:
    """Connect the plan's clients, then run the orchestrator's commands until ``stop``."""
    worker = Worker(plan, channel)
    try:
        await worker.connect()
        while True:
            command = await channel.receive()
            cmd = command.get("cmd")
            if cmd == "go":
                await worker.run_step(StepPlan.from_dict(command["step"]))
            elif cmd == "add":
                await worker.add([ClientPlan.from_dict(c) for c in command["clients"]])
            elif cmd == "stop":
                break
            else:
                raise ValueError(f"unknown command {cmd!r}")
    except EOFError:
        return 1
    except (ValueError, KeyError) as exc:
        channel.send("fatal", error=repr(exc))
        return 2
    finally:
        await worker.close()
    channel.send("closed")
    return 0


def _expire(lifetime: float) -> None:
    sys.stderr.write(f"load worker: lifetime of {lifetime}s reached, exiting\n")
    sys.stderr.flush()
    os._exit(3)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    sys.exit(asyncio.run(run_worker()))


if __name__ == "__main__":
    main()
