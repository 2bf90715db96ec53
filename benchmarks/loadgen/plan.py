"""What the orchestrator tells a load worker, and what a step is expected to deliver (pure).

A worker process receives one ``WorkerPlan`` (its clients and agents), connects them, and
then runs ``StepPlan``s on command. Messages cross the process boundary as JSON lines; the
dataclasses here convert to and from plain dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..wire import WireProtocol

__all__ = [
    "AGENT_BASE",
    "AgentPlan",
    "ApiUserPlan",
    "ClientPlan",
    "StepPlan",
    "WorkerPlan",
    "expected_deliveries",
    "split_round_robin",
]

# Agent ids start here so a marker's sender tells an agent op from an editor's edit.
AGENT_BASE = 1_000_000


@dataclass(frozen=True, slots=True)
class ClientPlan:
    """One editor: a WebSocket client on one document."""

    cid: int
    room: int
    url: str
    document: str
    protocol: WireProtocol
    yjs_client_id: int
    token: str = ""  # sent in the Hocuspocus Auth message (y-websocket: ?token=); "" = a placeholder

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClientPlan:
        return cls(**{**data, "protocol": WireProtocol(data["protocol"])})


@dataclass(frozen=True, slots=True)
class AgentPlan:
    """One REST agent posting ``set_prop`` ops on an element of its room's session."""

    cid: int
    room: int
    ops_url: str
    element: str
    token: str = ""  # bearer token for the ops request ("" = none)


@dataclass(frozen=True, slots=True)
class ApiUserPlan:
    """One user of the design-engine (``kind="stages"``) or workspace (``kind="runs"``) API."""

    cid: int
    kind: str
    base_url: str
    token: str
    session_id: str = ""  # runs: the user's workspace session
    file_id: str = ""  # runs: a READY file every run attaches ("" = none)
    drop_after: int = 0  # stages: drop each stream after this many events and rejoin


@dataclass(frozen=True, slots=True)
class WorkerPlan:
    worker: int
    clients: list[ClientPlan] = field(default_factory=list)
    agents: list[AgentPlan] = field(default_factory=list)
    api_users: list[ApiUserPlan] = field(default_factory=list)
    connect_timeout: float = 30.0
    connect_concurrency: int = 16
    lifetime: float = 900.0  # the worker exits by itself after this many seconds
    compress: bool = False  # offer permessage-deflate (browsers do; off by default)
    max_frame_bytes: int = 64 * 1024 * 1024
    sync_wait: bool = True  # wait for SyncStep2 (and auth) before reporting ready

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkerPlan:
        clients = [ClientPlan.from_dict(c) for c in data.get("clients", [])]
        agents = [AgentPlan(**a) for a in data.get("agents", [])]
        users = [ApiUserPlan(**u) for u in data.get("api_users", [])]
        rest = {k: v for k, v in data.items() if k not in ("clients", "agents", "api_users")}
        return cls(clients=clients, agents=agents, api_users=users, **rest)


@dataclass(frozen=True, slots=True)
class StepPlan:
    """One measured phase: every editor sends at ``client_rate``, every agent at ``agent_rate``."""

    step: int
    start_ns: int  # time.monotonic_ns() at which sending starts, shared by all workers
    duration: float
    client_rate: float
    agent_rate: float = 0.0
    max_updates: int = 1_000_000  # this worker's send budget for the step
    edits_per_client: int = 0  # when > 0: exactly this many edits each, paced at client_rate
    api_rate: float = 0.0  # runs per second per run user (0: back to back)
    api_count: int = 0  # when > 0: each API user does exactly this many flows/runs, else until the end

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepPlan:
        return cls(**data)


def expected_deliveries(
    sent: Mapping[int, int],
    room_of: Mapping[int, int],
    receivers: Mapping[int, Iterable[int]],
) -> dict[int, int]:
    """For every receiver, how many distinct edits it must see: all its room's edits but its own.

    ``sent`` counts the accepted edits (or ops) per sender, ``room_of`` maps senders to
    rooms and ``receivers`` lists each room's editors (agents send but never receive).
    """
    per_room: dict[int, int] = {}
    for sender, count in sent.items():
        room = room_of[sender]
        per_room[room] = per_room.get(room, 0) + count
    expected: dict[int, int] = {}
    for room, members in receivers.items():
        total = per_room.get(room, 0)
        for receiver in members:
            expected[receiver] = total - sent.get(receiver, 0)
    return expected


def split_round_robin(items: list[Any], parts: int) -> list[list[Any]]:
    """Deal ``items`` over ``parts`` lists, keeping their order within each list."""
    if parts < 1:
        raise ValueError("parts must be >= 1")
    return [items[index::parts] for index in range(parts)]
