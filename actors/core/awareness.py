"""Yjs awareness bookkeeping for one document (pure: bytes and clocks in, bytes out).

Implements the y-protocols awareness rules: a state replaces the stored one when its
clock is newer (or equal, for a removal); states not renewed within ``timeout`` are
removed. The server has no local state of its own. Strings are lib0 UTF-8 strings, which
pycrdt's Awareness gets wrong for non-ASCII states, so this is our own small codec.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ..protocol.lib0 import DecodeError, Decoder, write_var_string, write_var_uint

__all__ = ["AwarenessError", "AwarenessRegistry", "agent_client_id"]

# Synthetic client ids for REST agents live in the upper half of the uint32 space
# (Yjs picks random uint32 ids, so a clash is possible but harmless: clocks settle it).
_AGENT_ID_BIT = 0x8000_0000


class AwarenessError(ValueError):
    """An awareness update that cannot be decoded."""


def agent_client_id(agent_id: str) -> int:
    return _AGENT_ID_BIT | (zlib.crc32(agent_id.encode("utf-8")) & 0x7FFF_FFFF)


@dataclass(slots=True)
class _Entry:
    clock: int
    state: dict[str, Any] | None
    updated: float
    owner: int | None  # the connection that last set it; None for REST agents


def _encode(entries: Sequence[tuple[int, int, dict[str, Any] | None]]) -> bytes:
    out = bytearray(write_var_uint(len(entries)))
    for client_id, clock, state in entries:
        out += write_var_uint(client_id)
        out += write_var_uint(clock)
        out += write_var_string(orjson.dumps(state).decode("utf-8"))
    return bytes(out)


def _decode(update: bytes) -> list[tuple[int, int, dict[str, Any] | None]]:
    decoder = Decoder(update)
    try:
        count = decoder.read_var_uint()
        items = []
        for _ in range(count):
            client_id = decoder.read_var_uint()
            clock = decoder.read_var_uint()
            raw = decoder.read_var_string()
            state = orjson.loads(raw) if raw else None
            if state is not None and not isinstance(state, dict):
                raise AwarenessError("awareness state must be a JSON object or null")
            items.append((client_id, clock, state))
    except (DecodeError, orjson.JSONDecodeError) as exc:
        raise AwarenessError(f"bad awareness update: {exc}") from exc
    return items


class AwarenessRegistry:
    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._entries: dict[int, _Entry] = {}

    def apply(self, update: bytes, *, now: float, owner: int | None) -> bytes | None:
        """Apply a peer's update; returns the update to broadcast (None if nothing moved).

        The returned bytes are re-encoded from what was accepted, so a stale part of an
        update is never forwarded.
        """
        accepted: list[tuple[int, int, dict[str, Any] | None]] = []
        for client_id, clock, state in _decode(update):
            entry = self._entries.get(client_id)
            # As y-protocols: an unknown client counts as clock 0, so its first state
            # must carry clock >= 1 (every Yjs client does).
            current = entry.clock if entry is not None else 0
            newer = clock > current
            removal_of_live = (
                entry is not None and clock == current and state is None and entry.state is not None
            )
            if not (newer or removal_of_live):
                continue
            self._entries[client_id] = _Entry(clock, state, now, owner)
            accepted.append((client_id, clock, state))
        return _encode(accepted) if accepted else None

    def set_state(self, client_id: int, state: dict[str, Any] | None, *, now: float) -> bytes:
        """Set a server-held state (a REST agent's); returns the update to broadcast."""
        entry = self._entries.get(client_id)
        clock = entry.clock + 1 if entry is not None else 1
        self._entries[client_id] = _Entry(clock, state, now, None)
        return _encode([(client_id, clock, state)])

    def remove_owner(self, owner: int, *, now: float) -> bytes | None:
        """A connection left: remove the states it set, as Yjs does on disconnect."""
        gone = [cid for cid, e in self._entries.items() if e.owner == owner and e.state is not None]
        return self._remove(gone, now)

    def expire(self, *, now: float) -> bytes | None:
        """Remove states not renewed within the timeout; returns the removal update."""
        gone = [
            cid
            for cid, e in self._entries.items()
            if e.state is not None and now - e.updated >= self._timeout
        ]
        return self._remove(gone, now)

    def _remove(self, client_ids: list[int], now: float) -> bytes | None:
        if not client_ids:
            return None
        removed = []
        for client_id in client_ids:
            entry = self._entries[client_id]
            entry.clock += 1
            entry.state = None
            entry.updated = now
            removed.append((client_id, entry.clock, None))
        return _encode(removed)

    def full_update(self) -> bytes | None:
        """Every live state, for a new connection or a QueryAwareness."""
        live = [(cid, e.clock, e.state) for cid, e in self._entries.items() if e.state is not None]
        return _encode(live) if live else None

    def states(self) -> dict[int, dict[str, Any]]:
        return {cid: e.state for cid, e in self._entries.items() if e.state is not None}

    def forget_removed(self, *, now: float) -> None:
        """Drop long-removed entries so the table does not grow without bound."""
        stale = [
            cid
            for cid, e in self._entries.items()
            if e.state is None and now - e.updated >= 2 * self._timeout
        ]
        for client_id in stale:
            del self._entries[client_id]
