"""What the session layer's warm-up started (pure): for the ready line, ``/health`` and ``/metrics``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Warmth"]


@dataclass(frozen=True, slots=True)
class Warmth:
    """``error`` None: everything asked for started. ``cad_worker`` None: not asked."""

    seconds: float
    hosts: int = 0
    store_owner: bool = False
    run_workers: int = 0
    cad_worker: bool | None = None
    error: str | None = None

    @property
    def ready(self) -> bool:
        return self.error is None

    @classmethod
    def from_placement(cls, seconds: float, answer: Mapping[str, Any]) -> Warmth:
        """From ``Placement.warm``'s answer (the store owner answered before it)."""
        cad = answer.get("cadWorker")
        return cls(
            seconds=seconds,
            hosts=int(answer.get("hosts", 0)),
            store_owner=True,
            run_workers=int(answer.get("runWorkers", 0)),
            cad_worker=None if cad is None else bool(cad),
        )

    def describe(self) -> str:
        """``2 hosts, store owner, 2 run workers, CAD worker warm`` (or what failed)."""
        if self.error is not None:
            return self.error
        parts = [f"{self.hosts} hosts", "store owner", f"{self.run_workers} run workers"]
        if self.cad_worker is not None:
            parts.append("CAD worker warm" if self.cad_worker else "CAD worker failed to warm")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "seconds": round(self.seconds, 3),
            "hosts": self.hosts,
            "storeOwner": self.store_owner,
            "runWorkers": self.run_workers,
            "cadWorker": self.cad_worker,
            "error": self.error,
        }
