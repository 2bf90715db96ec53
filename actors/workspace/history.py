"""What a session's history shows (pure): USER and ASSISTANT messages, oldest first.

Everything else a session keeps (a failed run's SYSTEM record, any role added later) stays
on the server: the filter is an allow-list, so a new role is hidden until it is listed here.
Works on any record with the message fields (``storage.workspace.Message`` among them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "DTO_FIELDS",
    "VISIBLE_ROLES",
    "HistoryTurn",
    "MessageLike",
    "history_dto",
    "message_dto",
    "run_history",
    "visible",
]

VISIBLE_ROLES: frozenset[str] = frozenset({"USER", "ASSISTANT"})
DTO_FIELDS: tuple[str, ...] = ("id", "role", "content", "createdAt", "runId")


class MessageLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def content(self) -> str: ...

    @property
    def run_id(self) -> str | None: ...

    @property
    def created_at(self) -> str: ...

    @property
    def seq(self) -> int: ...


@dataclass(frozen=True, slots=True)
class HistoryTurn:
    """One earlier message as the agent sees it (``role`` is USER or ASSISTANT)."""

    role: str
    content: str


def _role(message: MessageLike) -> str:
    # str() of a StrEnum member is its value; a plain str is itself.
    return str(message.role)


def visible(messages: Iterable[MessageLike], limit: int | None = None) -> list[MessageLike]:
    """The USER/ASSISTANT messages in chronological order (by ``seq``, the append order:
    clocks of different hosts may disagree), the newest ``limit`` of them if given."""
    shown = sorted((m for m in messages if _role(m) in VISIBLE_ROLES), key=lambda m: m.seq)
    if limit is None:
        return shown
    if limit < 0:
        raise ValueError(f"limit must not be negative, not {limit}")
    return shown[len(shown) - limit :] if limit else []


def message_dto(message: MessageLike) -> dict[str, object]:
    """Exactly ``DTO_FIELDS``: nothing else of the record (its session, its seq) is shown."""
    return {
        "id": message.id,
        "role": _role(message),
        "content": message.content,
        "createdAt": message.created_at,
        "runId": message.run_id,
    }


def history_dto(messages: Iterable[MessageLike], limit: int | None = None) -> list[dict[str, object]]:
    """The body of ``GET /api/v1/sessions/{id}/history``: clamp ``limit`` first."""
    return [message_dto(message) for message in visible(messages, limit)]


def run_history(messages: Iterable[MessageLike], limit: int) -> tuple[HistoryTurn, ...]:
    """The bounded history a run's envelope carries (``history_limit``, clamped)."""
    return tuple(HistoryTurn(_role(m), m.content) for m in visible(messages, limit))
