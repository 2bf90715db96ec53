"""What the session layer reports to an operator's ``/metrics`` scrape, as typed values.

``LayerStats`` is what ``SessionClient.stats`` returns; the ``*_from_wire`` functions read
the plain data the store owner and the hosts answer with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from storage.latency import LatencySnapshot

__all__ = ["HostStats", "LayerStats", "StoreStats", "host_stats_from_wire", "store_stats_from_wire"]


@dataclass(frozen=True, slots=True)
class StoreStats:
    """The store owner: its group commits and what waits for them."""

    kind: str
    transactions: int
    rows: int
    queued_rows: int  # appends waiting for the next group commit
    link_queue: int  # messages queued on the store's links (to hosts and gateways)
    commit: LatencySnapshot  # seconds per committed group-commit transaction


@dataclass(frozen=True, slots=True)
class HostStats:
    """One host process: its live sessions and runs by API, and its outbound link queues."""

    name: str
    live: Mapping[str, int]  # api -> live sessions ("bridge", "design", "workspace")
    runs: Mapping[str, int]  # api -> runs in flight ("design" stage runs, "workspace" runs)
    link_queue: int
    unflushed: int  # Bridge updates applied but not yet committed
    # Webhook delivery of this host: queued, delivered, failed, dropped (empty: none configured).
    webhooks: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LayerStats:
    """A snapshot of the session layer. ``store``/``hosts`` None: that part did not answer."""

    store: StoreStats | None
    hosts: tuple[HostStats, ...] | None
    link_queue: int  # messages queued on this gateway's links to hosts and the store
    stream_queue: int  # batches waiting in this gateway's per-session stream queues
    unanswered_hosts: int = 0  # hosts the directory knows that did not answer in time


def store_stats_from_wire(value: Mapping[str, Any]) -> StoreStats:
    return StoreStats(
        kind=str(value["kind"]),
        transactions=int(value["transactions"]),
        rows=int(value["rows"]),
        queued_rows=int(value["queuedRows"]),
        link_queue=int(value["linkQueue"]),
        commit=LatencySnapshot.from_wire(value["commit"]),
    )


def host_stats_from_wire(value: Mapping[str, Any]) -> HostStats:
    return HostStats(
        name=str(value["name"]),
        live={str(k): int(v) for k, v in value["live"].items()},
        runs={str(k): int(v) for k, v in value["runs"].items()},
        link_queue=int(value["linkQueue"]),
        unflushed=int(value["unflushed"]),
        webhooks={str(k): int(v) for k, v in (value.get("webhooks") or {}).items()},
    )
