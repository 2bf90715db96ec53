"""The run workers: a pool of Ray actors running the workspace agent, and an in-process one.

A run's output streams back as it is written (a Ray streaming generator: one item per
chunk, the result last). A worker that dies mid-run fails that run only; Ray restarts the
actor and the pool keeps using it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import ray
from ray.exceptions import RayError

from ..llm.settings import LlmSettings
from .agent.envelope import TaskEnvelope
from .agent.result import FailureCode, failure_payload
from .agent.worker import WorkspaceAgent
from .settings import AgentSettings

__all__ = ["LocalRunPool", "RayRunPool", "RunPool", "RunWorker"]

log = logging.getLogger(__name__)

OnOutput = Callable[[str], Awaitable[None]]


class RunPool(Protocol):
    async def run(self, envelope: TaskEnvelope, on_output: OnOutput) -> dict[str, Any]:
        """The worker's result payload; a dead or unreachable worker gives a failed one."""
        ...


class RunWorker:
    """Ray actor shell around one agent (its HTTP and model clients shared by its runs)."""

    def __init__(self, settings: AgentSettings, llm: LlmSettings) -> None:
        self._agent = WorkspaceAgent(settings, llm)

    async def run(self, envelope: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[str | None] = asyncio.Queue()

        async def put(chunk: str) -> None:
            queue.put_nowait(chunk)

        task = asyncio.get_running_loop().create_task(self._agent.run(TaskEnvelope.from_json(envelope), put))
        task.add_done_callback(lambda _: queue.put_nowait(None))
        while (chunk := await queue.get()) is not None:
            yield {"output": chunk}
        yield {"result": await task}

    async def ping(self) -> int:
        import os

        return os.getpid()


class RayRunPool:
    """Named worker actors shared by every host of the namespace, used least-busy first."""

    def __init__(self, settings: AgentSettings, llm: LlmSettings, *, size: int, namespace: str) -> None:
        self._settings = settings
        self._llm = llm
        self._size = size
        self._namespace = namespace
        self._busy: dict[int, int] = {i: 0 for i in range(size)}
        self._cls = ray.remote(RunWorker)
        self._next = itertools.count()
        # Workers seen failing: the next run waits (bounded) for Ray to have restarted them.
        self._suspect: set[int] = set()

    def _handle(self, index: int) -> Any:
        return self._cls.options(
            name=f"atelier-run-worker-{index}",
            namespace=self._namespace,
            get_if_exists=True,
            lifetime="detached",
            num_cpus=0,
            max_restarts=-1,
            max_task_retries=0,
            max_concurrency=64,
        ).remote(self._settings, self._llm)

    async def warm(self) -> int:
        """Start every worker now rather than on its first run; the number started.

        The same named actors a run would start (``get_if_exists``): a run arriving
        meanwhile joins them, never starts a second set.
        """
        pids = await asyncio.gather(*(self._handle(i).ping.remote() for i in range(self._size)))
        return len(pids)

    async def run(self, envelope: TaskEnvelope, on_output: OnOutput) -> dict[str, Any]:
        index = min(self._busy, key=lambda i: (self._busy[i], (i - next(self._next)) % self._size))
        self._busy[index] += 1
        try:
            if index in self._suspect:
                await self._restarted(index)
            stream = (
                self._handle(index)
                .run.options(num_returns="streaming")
                .remote(envelope.to_json(include_secrets=True))
            )
            result: dict[str, Any] | None = None
            async for ref in stream:
                item = await ref
                if "output" in item:
                    await on_output(item["output"])
                else:
                    result = item["result"]
            if result is None:
                raise RuntimeError("the worker ended without a result")
            return result
        except (RayError, RuntimeError) as exc:
            self._suspect.add(index)
            log.warning("run worker failed run=%s worker=%d: %s", envelope.run_id, index, exc)
            return failure_payload(
                envelope.run_id,
                envelope.session_type,
                FailureCode.WORKER_DIED,
                f"the run's worker failed: {exc}",
            )
        finally:
            self._busy[index] -= 1

    async def _restarted(self, index: int) -> None:
        for _ in range(_RESTART_ATTEMPTS):
            try:
                await asyncio.wait_for(self._handle(index).ping.remote(), _RESTART_WAIT)
            except (TimeoutError, RayError) as exc:
                log.info("waiting for run worker %d to restart: %s", index, exc)
                continue
            self._suspect.discard(index)
            return


_RESTART_ATTEMPTS = 10
_RESTART_WAIT = 3.0


class LocalRunPool:
    """The agent in this process (the in-process session client: no cluster)."""

    def __init__(self, settings: AgentSettings, llm: LlmSettings) -> None:
        self._agent = WorkspaceAgent(settings, llm)

    async def run(self, envelope: TaskEnvelope, on_output: OnOutput) -> dict[str, Any]:
        return await self._agent.run(envelope, on_output)
