"""Agent presence posted over REST: an in-memory map whose entries expire."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core.errors import ValidationError

__all__ = ["Presence", "PresenceEntry", "parse_presence"]

_MAX_TEXT = 200


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


def _text(body: Mapping[str, Any], key: str, required: bool) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise ValidationError(key, "required string")
        return None
    if not isinstance(value, str) or (required and not value):
        raise ValidationError(key, "must be a non-empty string" if required else "must be a string")
    if len(value) > _MAX_TEXT:
        raise ValidationError(key, f"must be at most {_MAX_TEXT} characters")
    return value


def parse_presence(body: object) -> tuple[str, str | None, dict[str, str] | None, str | None]:
    """Validate a presence body: ``(agentId, name, cursor, status)``."""
    if not isinstance(body, dict):
        raise ValidationError("body", "must be a JSON object")
    agent_id = _text(body, "agentId", required=True)
    assert agent_id is not None
    cursor_raw = body.get("cursor")
    cursor: dict[str, str] | None = None
    if cursor_raw is not None:
        if not isinstance(cursor_raw, dict) or not isinstance(cursor_raw.get("elementKey"), str):
            raise ValidationError("cursor", "must be an object with a string elementKey")
        cursor = {"elementKey": cursor_raw["elementKey"][:_MAX_TEXT]}
    return agent_id, _text(body, "name", False), cursor, _text(body, "status", False)


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
