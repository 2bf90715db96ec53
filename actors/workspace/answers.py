"""What the workspace's operations answer, typed once (pure).

Each op in ``ops.py`` names one of these as its answer (``Op[WorkspaceSession]``): the
host sends it as plain values and the session client rebuilds and checks it, refusing a
field the type does not know, so a host and its type cannot drift apart unnoticed. The
gateway writes them out as JSON and the OpenAPI document's answer schemas are generated
from the same types.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from .bodies import SessionStatus, SessionType

__all__ = [
    "Answer",
    "HistoryMessage",
    "QuotaAnswer",
    "Run",
    "RunMessages",
    "RunResult",
    "RunStatus",
    "WorkspaceSession",
]

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class Answer(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """An operation's answer: camelCase JSON, a field the type does not know refused."""


class WorkspaceSession(Answer, frozen=True):
    id: str
    project_id: str
    type: SessionType
    title: str | None
    status: SessionStatus
    created_at: str
    updated_at: str


class HistoryMessage(Answer, frozen=True):
    id: str
    role: Literal["USER", "ASSISTANT"]
    content: str
    created_at: str
    run_id: str | None


class RunMessages(Answer, frozen=True):
    user_message_id: str
    #: Null when the run failed: no answer was written.
    assistant_message_id: str | None


_PYTHON = Meta(description="The worker's raw result (`status`, `output`, `error`).")


class RunResult(Answer, frozen=True):
    """What a finished run produced (``POST .../runs`` waits for it)."""

    run_id: str
    python: Annotated[dict[str, Any], _PYTHON]
    messages: RunMessages
    selected_file_ids: list[str]


class Run(Answer, frozen=True):
    run_id: str
    session_id: str
    status: RunStatus
    type: SessionType
    selected_file_ids: list[str]
    created_at: str
    started_at: str | None
    finished_at: str | None
    duration_ms: int | None
    error: str | None
    python: Annotated[dict[str, Any], _PYTHON] | None


class QuotaAnswer(Answer, frozen=True):
    """The caller's runs in the current quota period."""

    limit: int
    used: int
    remaining: int
    period: str
    resets_at: str
