"""What a run produces, as plain data (pure): steps, memory, and the run's outcome.

Everything converts to and from JSON-ready dicts, so a report can be re-rendered from a
saved ``results.json`` without re-running anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..stats import Histogram, rate

__all__ = ["MIB", "MemoryStats", "RunResult", "RunStatus", "StepResult"]

MIB = 1024 * 1024

_HISTOGRAMS = ("latency", "agent_latency", "ack_latency", "http_latency", "send_lag")


class RunStatus:
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass
class StepResult:
    """One measured phase of a run (a whole fanout run, or one saturate step)."""

    step: int
    offered_rate: float  # edits (and ops) per second offered by all senders
    duration: float  # seconds of sending, as planned
    senders: int
    sent: int  # accepted edits and ops
    expected: int  # distinct deliveries every receiver should have seen
    delivered: int
    duplicates: int = 0
    stale: int = 0
    acked: int = 0
    rejected: int = 0
    pending_acks: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latency: Histogram = field(default_factory=Histogram)
    agent_latency: Histogram = field(default_factory=Histogram)
    ack_latency: Histogram = field(default_factory=Histogram)
    http_latency: Histogram = field(default_factory=Histogram)
    send_lag: Histogram = field(default_factory=Histogram)
    wall: float = 0.0  # first send to last delivery, seconds
    client_cpu: float = 0.0  # cores busy in the load workers
    server_cpu: float = 0.0  # cores busy in the server's process tree
    machine_cpu: float = 0.0  # cores busy machine-wide (everything, other users included)
    open_clients: int = 0
    agent_ops: int = 0  # of ``sent``: the REST ops agents got a full success for
    # Design-engine and workspace users: counters (events, runs_ok, quota_refusals …) and
    # histograms (first_event, event_latency, stage_duration, run_latency …) by name.
    counts: dict[str, int] = field(default_factory=dict)
    hists: dict[str, Histogram] = field(default_factory=dict)
    # Cores per server process during the step: {"pid", "label", "cores"}, busiest first.
    process_cpu: list[dict[str, Any]] = field(default_factory=list)

    @property
    def achieved_rate(self) -> float:
        return rate(self.sent, self.duration)

    @property
    def deliveries_per_s(self) -> float:
        return rate(self.delivered, self.wall)

    @property
    def other_cpu(self) -> float:
        """Cores busy outside the server and the load workers: noise from the rest of the machine."""
        if self.machine_cpu <= 0:
            return 0.0
        return max(0.0, self.machine_cpu - self.server_cpu - self.client_cpu)

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.delivered)

    @property
    def complete(self) -> bool:
        """Every edit reached every other editor, nothing rejected, no errors, all acked."""
        return (
            self.delivered >= self.expected
            and self.errors == 0
            and self.rejected == 0
            and self.pending_acks == 0
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "step": self.step,
            "offered_rate": self.offered_rate,
            "duration": self.duration,
            "senders": self.senders,
            "sent": self.sent,
            "expected": self.expected,
            "delivered": self.delivered,
            "duplicates": self.duplicates,
            "stale": self.stale,
            "acked": self.acked,
            "rejected": self.rejected,
            "pending_acks": self.pending_acks,
            "errors": self.errors,
            "error_samples": list(self.error_samples),
            "wall": self.wall,
            "client_cpu": self.client_cpu,
            "server_cpu": self.server_cpu,
            "machine_cpu": self.machine_cpu,
            "other_cpu": self.other_cpu,
            "open_clients": self.open_clients,
            "agent_ops": self.agent_ops,
            "achieved_rate": self.achieved_rate,
            "deliveries_per_s": self.deliveries_per_s,
            "complete": self.complete,
            "counts": dict(self.counts),
            "hists": {name: h.to_dict() for name, h in self.hists.items()},
            "hists_ms": {name: h.summary_ms() for name, h in self.hists.items()},
            "process_cpu": [dict(row) for row in self.process_cpu],
        }
        for name in _HISTOGRAMS:
            histogram: Histogram = getattr(self, name)
            data[name] = histogram.to_dict()
            data[f"{name}_ms"] = histogram.summary_ms()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepResult:
        plain: dict[str, Any] = {
            k: data[k]
            for k in (
                "step",
                "offered_rate",
                "duration",
                "senders",
                "sent",
                "expected",
                "delivered",
                "duplicates",
                "stale",
                "acked",
                "rejected",
                "pending_acks",
                "errors",
                "error_samples",
                "wall",
                "client_cpu",
                "server_cpu",
                "machine_cpu",
                "open_clients",
                "agent_ops",
            )
            if k in data
        }
        histograms: dict[str, Any] = {
            name: Histogram.from_dict(data[name]) for name in _HISTOGRAMS if name in data
        }
        named = {name: Histogram.from_dict(h) for name, h in data.get("hists", {}).items()}
        return cls(
            **plain,
            **histograms,
            counts=dict(data.get("counts", {})),
            hists=named,
            process_cpu=[dict(row) for row in data.get("process_cpu", [])],
        )


@dataclass
class MemoryStats:
    """Server memory (bytes) summed over its process tree."""

    baseline_rss: int = 0  # ready, before any client
    baseline_pss: int = 0
    loaded_rss: int = 0  # every client connected (and, for sessions, every session live)
    loaded_pss: int = 0
    peak_rss: int = 0
    peak_pss: int = 0
    processes: int = 0  # at peak

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MemoryStats:
        return cls(**{k: int(v) for k, v in data.items()})


@dataclass
class RunResult:
    """One scenario against one target in one round."""

    scenario: str
    target: str
    round: int
    status: str = RunStatus.OK
    error: str | None = None
    protocol: str = ""
    startup_s: float = 0.0
    steps: list[StepResult] = field(default_factory=list)
    memory: MemoryStats | None = None
    sync: Histogram = field(default_factory=Histogram)  # connect → synced, per editor
    create: Histogram = field(default_factory=Histogram)  # REST session creation (atelier)
    params: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == RunStatus.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "target": self.target,
            "round": self.round,
            "status": self.status,
            "error": self.error,
            "protocol": self.protocol,
            "startup_s": self.startup_s,
            "steps": [s.to_dict() for s in self.steps],
            "memory": None if self.memory is None else self.memory.to_dict(),
            "sync": self.sync.to_dict(),
            "sync_ms": self.sync.summary_ms(),
            "create": self.create.to_dict(),
            "create_ms": self.create.summary_ms(),
            "params": dict(self.params),
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunResult:
        return cls(
            scenario=data["scenario"],
            target=data["target"],
            round=int(data["round"]),
            status=data.get("status", RunStatus.OK),
            error=data.get("error"),
            protocol=data.get("protocol", ""),
            startup_s=float(data.get("startup_s", 0.0)),
            steps=[StepResult.from_dict(s) for s in data.get("steps", [])],
            memory=None if data.get("memory") is None else MemoryStats.from_dict(data["memory"]),
            sync=Histogram.from_dict(data.get("sync", {})),
            create=Histogram.from_dict(data.get("create", {})),
            params=dict(data.get("params", {})),
            extra=dict(data.get("extra", {})),
        )
