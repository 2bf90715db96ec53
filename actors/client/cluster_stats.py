"""A cluster's stats for ``/metrics``: asked of the store owner and the directory at once.

Both answer over their existing Ray control calls (``StoreService.stats``,
``Placement.host_stats``), each bounded by a short timeout: a part that does not answer in
time is reported missing rather than waited on, so ``/metrics`` answers even while a host or
the store is in trouble.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from ray.exceptions import RayError

from .links import HostLink
from .stats import HostStats, LayerStats, host_stats_from_wire, store_stats_from_wire

__all__ = ["cluster_stats"]

log = logging.getLogger(__name__)


async def _bounded(call: Any, timeout: float, what: str) -> Any:  # noqa: ASYNC109 (a bound per part: late parts are reported missing)
    """A Ray call's result, or None when it fails or takes longer than ``timeout``."""
    try:
        return await asyncio.wait_for(call, timeout)
    except (TimeoutError, RayError) as exc:
        log.info("stats: %s did not answer within %.1fs: %r", what, timeout, exc)
        return None


async def cluster_stats(
    store_actor: Any,
    placement: Any,
    links: Iterable[HostLink],
    store_link_queue: int,
    timeout: float,  # noqa: ASYNC109 (a bound per part: late parts are reported missing)
) -> LayerStats:
    """Ask the store owner and the directory at once, each bounded by ``timeout``."""
    store_raw, hosts_raw = await asyncio.gather(
        _bounded(store_actor.stats.remote(), timeout, "store owner"),
        _bounded(placement.host_stats.remote(timeout), timeout * 2, "placement directory"),
    )
    host_links = list(links)
    hosts: tuple[HostStats, ...] | None = None
    unanswered = 0
    if hosts_raw is not None:
        answered = [row for row in hosts_raw if row.get("live") is not None]
        unanswered = len(hosts_raw) - len(answered)
        hosts = tuple(host_stats_from_wire(row) for row in answered)
    streams = sum(q.queued for host in host_links for q in host.streams.values())
    stages = sum(q.queued for host in host_links for q in host.stages.values())
    return LayerStats(
        store=None if store_raw is None else store_stats_from_wire(store_raw),
        hosts=hosts,
        link_queue=store_link_queue + sum(host.link.queued for host in host_links),
        stream_queue=streams + stages,
        unanswered_hosts=unanswered,
    )
