"""Agent presence posted over REST: an in-memory map whose entries expire."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Presence", "PresenceEntry"]


@dataclass(frozen=True, slots=True)
class PresenceEntry:
    agent_id: str
    name: str | None
    cursor: dict[str, str] | None
    status: str | None
    updated_at: str
    expires: float

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"agentId": self.agent_id}
        if self.name is not None:
            out["name"] = self.name
        if self.cursor is not None:
            out["cursor"] = self.cursor
        if self.status is not None:
            out["status"] = self.status
        out["updatedAt"] = self.updated_at
        return out


class Presence:
    """Entries keyed by agent id; an entry not renewed within ``timeout`` seconds is gone."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._entries: dict[str, PresenceEntry] = {}

    def upsert(
        self,
        agent_id: str,
        name: str | None,
        cursor: dict[str, str] | None,
        status: str | None,
        *,
        now_iso: str,
        now: float,
    ) -> PresenceEntry:
        previous = self._entries.get(agent_id)
        if previous is not None and previous.expires > now:
            # A partial update keeps what the agent said before.
            name = name if name is not None else previous.name
            cursor = cursor if cursor is not None else previous.cursor
            status = status if status is not None else previous.status
        entry = PresenceEntry(agent_id, name, cursor, status, now_iso, now + self._timeout)
        self._entries[agent_id] = entry
        return entry

    def remove(self, agent_id: str) -> bool:
        return self._entries.pop(agent_id, None) is not None

    def expire(self, now: float) -> list[str]:
        """Drop expired entries; returns the agent ids dropped."""
        gone = [key for key, entry in self._entries.items() if entry.expires <= now]
        for key in gone:
            del self._entries[key]
        return gone

    def entries(self, now: float) -> list[PresenceEntry]:
        self.expire(now)
        return list(self._entries.values())

    def to_json(self, now: float) -> dict[str, Any]:
        return {entry.agent_id: entry.to_json() for entry in self.entries(now)}

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
