"""cluster_stats: the parts that answer are reported, a part that does not is bounded and missing.

Fakes stand in for the two Ray handles (their ``.remote()`` returns an awaitable, as Ray's do).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from actors.client.cluster_stats import cluster_stats
from storage.latency import LatencyHistogram


class _Method:
    def __init__(self, call: Callable[..., Awaitable[Any]]) -> None:
        self._call = call

    def remote(self, *args: Any) -> Awaitable[Any]:
        return self._call(*args)


class _Handle:
    def __init__(self, **methods: Callable[..., Awaitable[Any]]) -> None:
        for name, call in methods.items():
            setattr(self, name, _Method(call))


async def _store_stats() -> dict[str, Any]:
    return {
        "kind": "sqlite",
        "transactions": 2,
        "rows": 5,
        "queuedRows": 1,
        "linkQueue": 0,
        "commit": LatencyHistogram().snapshot().to_wire(),
        "pid": 1,
    }


async def _host_stats(timeout: float) -> list[dict[str, Any]]:  # noqa: ASYNC109 (the fake keeps the Ray method's signature)
    return [
        {"name": "h1", "live": {"bridge": 2}, "runs": {"design": 0}, "linkQueue": 3, "unflushed": 0},
        {"name": "h2"},  # did not answer the directory in time
    ]


async def _hang(*_: Any) -> None:
    await asyncio.sleep(60)


async def test_answers_become_typed_stats() -> None:
    stats = await cluster_stats(_Handle(stats=_store_stats), _Handle(host_stats=_host_stats), [], 4, 1.0)
    assert stats.store is not None
    assert stats.store.kind == "sqlite"
    assert stats.store.queued_rows == 1
    assert stats.hosts is not None
    assert [h.name for h in stats.hosts] == ["h1"]
    assert stats.hosts[0].live == {"bridge": 2}
    assert stats.hosts[0].link_queue == 3
    assert stats.unanswered_hosts == 1
    assert (stats.link_queue, stats.stream_queue) == (4, 0)


async def test_a_part_that_hangs_is_missing_within_the_timeout() -> None:
    # Bounded by the timeout (0.2 s, twice that for the directory), never by the 60 s hang.
    call = cluster_stats(_Handle(stats=_hang), _Handle(host_stats=_hang), [], 0, 0.2)
    stats = await asyncio.wait_for(call, 10)
    assert stats.store is None
    assert stats.hosts is None
