"""Per-worker bookkeeping of one step (pure: clients push observations, no I/O here).

Delivery latency is ``receive time - send time`` of every marker a client sees for the first
time (its own echoes are ignored). Distinct deliveries are counted per receiver; a marker
whose sequence number is not above the last one seen from that sender is a duplicate (or
arrived out of order), a marker from another step is stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..markers import scan_markers
from ..stats import Histogram
from .plan import AGENT_BASE

__all__ = ["MAX_ERROR_SAMPLES", "Recorder", "StepCounters"]

MAX_ERROR_SAMPLES = 20


@dataclass
class StepCounters:
    step: int
    sent: dict[int, int] = field(default_factory=dict)
    received: dict[int, int] = field(default_factory=dict)
    duplicates: int = 0
    stale: int = 0
    acked: int = 0
    rejected: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latency: Histogram = field(default_factory=Histogram)
    agent_latency: Histogram = field(default_factory=Histogram)
    ack_latency: Histogram = field(default_factory=Histogram)
    http_latency: Histogram = field(default_factory=Histogram)
    send_lag: Histogram = field(default_factory=Histogram)
    first_send_ns: int = 0
    last_delivery_ns: int = 0
    # API users' observations by name (design stages, workspace runs): merged like the rest.
    counts: dict[str, int] = field(default_factory=dict)
    hists: dict[str, Histogram] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "sent": {str(k): v for k, v in self.sent.items()},
            "received": {str(k): v for k, v in self.received.items()},
            "duplicates": self.duplicates,
            "stale": self.stale,
            "acked": self.acked,
            "rejected": self.rejected,
            "errors": self.errors,
            "error_samples": self.error_samples,
            "latency": self.latency.to_dict(),
            "agent_latency": self.agent_latency.to_dict(),
            "ack_latency": self.ack_latency.to_dict(),
            "http_latency": self.http_latency.to_dict(),
            "send_lag": self.send_lag.to_dict(),
            "first_send_ns": self.first_send_ns,
            "last_delivery_ns": self.last_delivery_ns,
            "counts": dict(self.counts),
            "hists": {name: h.to_dict() for name, h in self.hists.items()},
        }


class Recorder:
    """Collects one worker's observations; ``begin`` starts a new step."""

    def __init__(self) -> None:
        self.current = StepCounters(step=-1)
        self._last_seq: dict[int, dict[int, int]] = {}
        self.total_errors = 0

    def begin(self, step: int) -> None:
        self.current = StepCounters(step=step)

    def error(self, message: str) -> None:
        counters = self.current
        counters.errors += 1
        self.total_errors += 1
        if len(counters.error_samples) < MAX_ERROR_SAMPLES:
            counters.error_samples.append(message)

    def sent(self, sender: int, now_ns: int, lag_ns: int) -> None:
        counters = self.current
        counters.sent[sender] = counters.sent.get(sender, 0) + 1
        if counters.first_send_ns == 0:
            counters.first_send_ns = now_ns
        counters.send_lag.record_ns(lag_ns)

    def deliver(self, receiver: int, data: bytes, now_ns: int) -> int:
        """Scan ``data`` for markers seen by ``receiver``; returns how many were new."""
        counters = self.current
        last = self._last_seq.setdefault(receiver, {})
        fresh = 0
        for marker in scan_markers(data):
            sender = marker.sender
            if sender == receiver:
                continue
            if marker.step != counters.step:
                counters.stale += 1
                continue
            if marker.seq <= last.get(sender, -1):
                counters.duplicates += 1
                continue
            last[sender] = marker.seq
            fresh += 1
            latency = now_ns - marker.sent_ns
            if sender >= AGENT_BASE:
                counters.agent_latency.record_ns(latency)
            else:
                counters.latency.record_ns(latency)
        if fresh:
            counters.received[receiver] = counters.received.get(receiver, 0) + fresh
            counters.last_delivery_ns = now_ns
        return fresh

    def ack(self, latency_ns: int | None, ok: bool) -> None:
        """A SyncStatus; ``latency_ns`` is None for acks of handshake frames (not counted)."""
        if latency_ns is None:
            if not ok:
                self.error("handshake SyncStep2 rejected (SyncStatus 0)")
            return
        counters = self.current
        if ok:
            counters.acked += 1
            counters.ack_latency.record_ns(latency_ns)
        else:
            counters.rejected += 1

    def count(self, name: str, n: int = 1) -> None:
        counts = self.current.counts
        counts[name] = counts.get(name, 0) + n

    def observe(self, name: str, ns: int) -> None:
        hists = self.current.hists
        histogram = hists.get(name)
        if histogram is None:
            histogram = hists[name] = Histogram()
        histogram.record_ns(ns)

    def http(self, latency_ns: int) -> None:
        self.current.http_latency.record_ns(latency_ns)

    def progress(self) -> dict[str, int]:
        counters = self.current
        return {
            "sent": sum(counters.sent.values()),
            "received": sum(counters.received.values()),
            "acked": counters.acked,
            "errors": counters.errors,
            "api": sum(counters.counts.get(k, 0) for k in ("stages", "runs_submitted")),
        }
