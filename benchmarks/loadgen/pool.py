"""The orchestrator's side of the load workers: spawn, command, merge, and always clean up.

Every wait on a worker is bounded; a worker that misses a deadline is killed (only the
processes this pool started) and the step is reported as failed.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from ..stats import Histogram
from .plan import ClientPlan, StepPlan, WorkerPlan, expected_deliveries, split_round_robin

__all__ = ["PoolError", "ReadyInfo", "StepOutcome", "WorkerHandle", "WorkerPool"]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[dict[str, int]], None]


class PoolError(RuntimeError):
    """A worker failed, died or missed a deadline."""


@dataclass
class ReadyInfo:
    connected: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    sync: Histogram = field(default_factory=Histogram)
    sync_ns: dict[int, int] = field(default_factory=dict)  # per editor: connect → synced
    compressed: int = 0  # sockets whose handshake agreed on permessage-deflate


@dataclass
class StepOutcome:
    """The merged observations of all workers for one step."""

    step: int
    sent: dict[int, int]
    expected: dict[int, int]
    received: dict[int, int]
    duplicates: int
    stale: int
    acked: int
    rejected: int
    pending_acks: int
    errors: int
    error_samples: list[str]
    latency: Histogram
    agent_latency: Histogram
    ack_latency: Histogram
    http_latency: Histogram
    send_lag: Histogram
    client_cpu_s: float
    first_send_ns: int
    last_delivery_ns: int
    open_clients: int
    counts: dict[str, int] = field(default_factory=dict)
    hists: dict[str, Histogram] = field(default_factory=dict)


class WorkerHandle:
    """One load worker as the pool sees it: commands out, events in (a queue), bounded waits."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def send(self, message: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def exit_code(self) -> int | None:
        return None

    async def close(self, grace: float) -> None:
        """Ask it to stop (the stop command was sent) and wait; kill it after ``grace`` seconds."""
        raise NotImplementedError

    def kill(self) -> None:
        raise NotImplementedError

    async def expect(
        self,
        name: str,
        timeout: float,  # noqa: ASYNC109 (a missed deadline is a PoolError naming the worker)
        on_progress: ProgressCallback | None = None,
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise PoolError(f"worker {self.index}: no {name!r} within {timeout:.0f}s")
            try:
                event = await asyncio.wait_for(self.events.get(), remaining)
            except TimeoutError:
                continue
            kind = event.get("event")
            if kind == name:
                return event
            if kind == "progress":
                if on_progress is not None:
                    on_progress({"worker": self.index, **event})
                continue
            if kind == "exit":
                code = self.exit_code()
                raise PoolError(f"worker {self.index} exited (code {code}) while waiting for {name!r}")
            if kind == "fatal":
                raise PoolError(f"worker {self.index} failed: {event.get('error')}")
            log.debug("worker %d: ignoring %r while waiting for %r", self.index, kind, name)


class _WorkerProcess(WorkerHandle):
    def __init__(self, index: int, process: asyncio.subprocess.Process, log_file: IO[bytes]) -> None:
        super().__init__(index)
        self.process = process
        self.log_file = log_file
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            line = await stdout.readline()
            if not line:
                await self.events.put({"event": "exit"})
                return
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                log.warning("worker %d wrote a non-JSON line: %r", self.index, line[:200])
                continue
            await self.events.put(event)

    def send(self, message: Mapping[str, Any]) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(orjson.dumps(message) + b"\n")

    def exit_code(self) -> int | None:
        return self.process.returncode

    def request_stop(self) -> None:
        if self.process.returncode is None and self.process.stdin is not None:
            try:
                self.send({"cmd": "stop"})
                self.process.stdin.close()
            except (ConnectionError, RuntimeError):
                log.debug("worker %d: stdin already closed", self.index)

    async def close(self, grace: float) -> None:
        self.request_stop()
        try:
            await asyncio.wait_for(self.process.wait(), grace)
        except TimeoutError:
            log.warning("worker %d did not exit in %.0fs: killing it", self.index, grace)
            self.process.kill()
            await self.process.wait()
        self.reader.cancel()
        await asyncio.gather(self.reader, return_exceptions=True)
        self.log_file.close()

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


class WorkerPool:
    def __init__(self, plans: list[WorkerPlan], log_dir: Path) -> None:
        if not plans:
            raise ValueError("a pool needs at least one worker plan")
        self.plans = plans
        self.log_dir = log_dir
        self._workers: list[WorkerHandle] = []
        self.nodes: list[dict[str, Any]] = []  # where the workers run (Ray pools only)
        # Senders per worker: a step's send budget is split in proportion (workers may hold
        # unequal shares, e.g. 3 editors over 2 workers).
        self._senders = [len(plan.clients) + len(plan.agents) for plan in plans]
        self._progress: dict[int, dict[str, int]] = {}
        self.room_of: dict[int, int] = {}
        self.receivers: dict[int, list[int]] = {}
        for plan in plans:
            self._track(plan.clients)
            for agent in plan.agents:
                self.room_of[agent.cid] = agent.room

    def _track(self, clients: list[ClientPlan]) -> None:
        for client in clients:
            self.room_of[client.cid] = client.room
            self.receivers.setdefault(client.room, []).append(client.cid)

    async def start(self, timeout: float) -> ReadyInfo:  # noqa: ASYNC109 (a missed deadline is a PoolError naming the worker)
        """Spawn the workers, hand out the plans, and wait until every client is synced."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for plan in self.plans:
            worker = await self._spawn(plan)
            self._workers.append(worker)
            worker.send(plan.to_dict())
        return await self._ready(self._workers, timeout)

    async def _spawn(self, plan: WorkerPlan) -> WorkerHandle:
        # Opened once per worker before the run starts (nothing is being measured yet); it
        # stays open as the worker's stdout and is closed in ``close``.
        log_file = open(self.log_dir / f"worker-{plan.worker}.log", "ab")  # noqa: SIM115, ASYNC230
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.loadgen.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
            limit=64 * 1024 * 1024,
        )
        return _WorkerProcess(plan.worker, process, log_file)

    async def add(self, clients: list[ClientPlan], timeout: float) -> ReadyInfo:  # noqa: ASYNC109 (a missed deadline is a PoolError naming the worker)
        """Connect more editors, dealt round-robin over the running workers; the first ones stay."""
        if not self._workers:
            raise PoolError("the pool is not running")
        parts = split_round_robin(clients, len(self._workers))
        busy = [(w, part) for w, part in zip(self._workers, parts, strict=True) if part]
        self._track(clients)
        for index, part in enumerate(parts):
            self._senders[index] += len(part)
        for worker, part in busy:
            worker.send({"cmd": "add", "clients": [c.to_dict() for c in part]})
        return await self._ready([w for w, _ in busy], timeout)

    async def _ready(self, workers: list[WorkerHandle], timeout: float) -> ReadyInfo:  # noqa: ASYNC109 (a missed deadline is a PoolError naming the worker)
        info = ReadyInfo()
        for worker in workers:
            event = await worker.expect("ready", timeout)
            info.connected += int(event["connected"])
            info.failed += int(event["failed"])
            info.failures.extend(event.get("failures", []))
            info.compressed += int(event.get("compressed", 0))
            for cid, ns in event.get("sync_ns", {}).items():
                info.sync.record_ns(int(ns))
                info.sync_ns[int(cid)] = int(ns)
        return info

    def _on_progress(self, callback: ProgressCallback | None) -> ProgressCallback:
        def merge(event: dict[str, int]) -> None:
            self._progress[int(event["worker"])] = event
            if callback is not None:
                totals = {
                    key: sum(p.get(key, 0) for p in self._progress.values())
                    for key in ("sent", "received", "acked", "errors", "api")
                }
                callback(totals)

        return merge

    async def run_step(
        self,
        step: StepPlan,
        *,
        drain: float,
        on_progress: ProgressCallback | None = None,
    ) -> StepOutcome:
        """Run one step on every worker; a step's sends are split evenly between workers."""
        self._progress = {}
        progress = self._on_progress(on_progress)
        total = sum(self._senders) or 1
        for worker, senders in zip(self._workers, self._senders, strict=True):
            share = max(1, math.ceil(step.max_updates * senders / total))
            worker.send({"cmd": "go", "step": {**step.to_dict(), "max_updates": share}})
        lead = max(0.0, (step.start_ns - time.monotonic_ns()) / 1e9)
        send_window = lead + step.duration + 30.0
        if step.edits_per_client and step.client_rate > 0:
            send_window += step.edits_per_client / step.client_rate
        sent: dict[int, int] = {}
        for worker in self._workers:
            event = await worker.expect("sent", send_window, progress)
            for cid, n in event["sent"].items():
                sent[int(cid)] = sent.get(int(cid), 0) + int(n)
        expected = expected_deliveries(sent, self.room_of, self.receivers)
        for worker in self._workers:
            worker.send(
                {"cmd": "expect", "expected": {str(k): v for k, v in expected.items()}, "drain": drain}
            )
        results = [await w.expect("result", drain + 30.0, progress) for w in self._workers]
        return _merge(step.step, sent, expected, results)

    async def stop(self, grace: float = 10.0) -> None:
        """Ask every worker to close its clients and exit; kill the ones still running after ``grace``."""
        workers, self._workers = self._workers, []
        await asyncio.gather(*(w.close(grace) for w in workers))

    def kill(self) -> None:
        """Immediate cleanup (used when the orchestrator itself is being cancelled)."""
        for worker in self._workers:
            worker.kill()


def _merge(
    step: int, sent: dict[int, int], expected: dict[int, int], results: list[dict[str, Any]]
) -> StepOutcome:
    received: dict[int, int] = {}
    hist: dict[str, Histogram] = {
        name: Histogram() for name in ("latency", "agent_latency", "ack_latency", "http_latency", "send_lag")
    }
    totals = {"duplicates": 0, "stale": 0, "acked": 0, "rejected": 0, "errors": 0}
    samples: list[str] = []
    cpu = 0.0
    pending = 0
    open_clients = 0
    first_send = 0
    last_delivery = 0
    counts: dict[str, int] = {}
    named: dict[str, Histogram] = {}
    for result in results:
        counters = result["counters"]
        for key, n in counters.get("counts", {}).items():
            counts[key] = counts.get(key, 0) + int(n)
        for key, data in counters.get("hists", {}).items():
            named.setdefault(key, Histogram()).merge(Histogram.from_dict(data))
        for cid, n in counters["received"].items():
            received[int(cid)] = received.get(int(cid), 0) + int(n)
        for name, histogram in hist.items():
            histogram.merge(Histogram.from_dict(counters[name]))
        for key in totals:
            totals[key] += int(counters[key])
        samples.extend(counters["error_samples"])
        cpu += float(result["client_cpu_s"])
        pending += int(result["pending_acks"])
        open_clients += int(result["open_clients"])
        if counters["first_send_ns"] and (first_send == 0 or counters["first_send_ns"] < first_send):
            first_send = int(counters["first_send_ns"])
        last_delivery = max(last_delivery, int(counters["last_delivery_ns"]))
    return StepOutcome(
        step=step,
        sent=sent,
        expected=expected,
        received=received,
        duplicates=totals["duplicates"],
        stale=totals["stale"],
        acked=totals["acked"],
        rejected=totals["rejected"],
        pending_acks=pending,
        errors=totals["errors"],
        error_samples=samples[:20],
        latency=hist["latency"],
        agent_latency=hist["agent_latency"],
        ack_latency=hist["ack_latency"],
        http_latency=hist["http_latency"],
        send_lag=hist["send_lag"],
        client_cpu_s=cpu,
        first_send_ns=first_send,
        last_delivery_ns=last_delivery,
        open_clients=open_clients,
        counts=counts,
        hists=named,
    )
