"""Errors that cross the actor boundary; the gateway maps each to one HTTP answer.

Each is a ``WireError`` (``actors/core/errors.py``): registered once, with its wire form.
"""

from __future__ import annotations

from typing import Any, Self

from .core.errors import WireError

__all__ = [
    "AccessDenied",
    "Conflict",
    "HostExiting",
    "NotFound",
    "QuotaExhausted",
    "SessionError",
    "SessionMoved",
    "SessionNotFound",
    "SessionUnavailable",
    "TooManyStreams",
    "Unprocessable",
]


class SessionError(WireError):
    """Base of the session-layer errors."""


class _AboutSession(SessionError):
    """About one session: it crosses a link as the session's id."""

    def __init__(self, message: str, session_id: str) -> None:
        super().__init__(message)
        self.session_id = session_id

    def wire_detail(self) -> Any:
        return self.session_id

    @classmethod
    def from_wire(cls, message: str, detail: Any, context: str) -> Self:
        return cls(str(detail) if detail is not None else context)  # type: ignore[call-arg]  # (session_id)


class SessionNotFound(_AboutSession):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id!r} not found", session_id)


class SessionUnavailable(SessionError):
    """The session's actor could not be reached or failed mid-call; the outcome is unknown."""


class HostExiting(SessionError):
    """The host actor is shutting down and did not run the call: safe to retry elsewhere."""


class SessionMoved(_AboutSession):
    """This host does not own the session (the directory placed it elsewhere): locate again."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id!r} is placed on another host", session_id)


class _AboutRecord(SessionError):
    """About a record a request names: ``what`` it is, and the ``field`` that named it."""

    def __init__(self, message: str, what: str, field: str | None) -> None:
        super().__init__(message)
        self.what = what
        self.field = field

    @property
    def wire_message(self) -> str:
        return self.what

    def wire_detail(self) -> Any:
        return self.field

    @classmethod
    def from_wire(cls, message: str, detail: Any, context: str) -> Self:
        return cls(message, detail)  # type: ignore[call-arg]  # the subclasses take (what, field)


class NotFound(_AboutRecord):
    """A record the request names does not exist (404); ``field`` names where it was named."""

    def __init__(self, what: str, field: str | None = None) -> None:
        super().__init__(f"{what} not found", what, field)


class AccessDenied(_AboutRecord):
    """The caller may not see or change this record (403)."""

    def __init__(self, what: str, field: str | None = None) -> None:
        super().__init__(f"not allowed to access this {what}", what, field)


class Conflict(SessionError):
    """The request does not fit the record's current state (409); ``detail`` says how."""

    def __init__(self, message: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.detail = detail or {}

    def wire_detail(self) -> Any:
        return self.detail

    @classmethod
    def from_wire(cls, message: str, detail: Any, context: str) -> Self:
        return cls(message, dict(detail or {}))


class Unprocessable(SessionError):
    """The request is well formed but the record cannot do it now (422); ``field`` says why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def wire_detail(self) -> Any:
        return self.field

    @classmethod
    def from_wire(cls, message: str, detail: Any, context: str) -> Self:
        return cls(message, detail)


class QuotaExhausted(SessionError):
    """The user's quota for the period is used up (429, ``Retry-After``)."""

    def __init__(self, limit: int, used: int, resets_at: str, retry_after: int) -> None:
        super().__init__(f"run quota of {limit} per period is used up; it resets at {resets_at}")
        self.limit = limit
        self.used = used
        self.resets_at = resets_at
        self.retry_after = retry_after

    def wire_detail(self) -> Any:
        return {
            "limit": self.limit,
            "used": self.used,
            "resetsAt": self.resets_at,
            "retryAfter": self.retry_after,
        }

    @classmethod
    def from_wire(cls, message: str, detail: Any, context: str) -> Self:
        return cls(detail["limit"], detail["used"], detail["resetsAt"], detail["retryAfter"])


class TooManyStreams(SessionError):
    """The session already has ``limit`` open streams of this kind (429): one must close first."""

    SETTING = "ATELIER_MAX_STREAMS_PER_SESSION"

    def __init__(self, session_id: str, limit: int) -> None:
        super().__init__(f"session {session_id!r} already has {limit} open streams (at most {limit})")
        self.session_id = session_id
        self.limit = limit

    def wire_detail(self) -> Any:
        return {"sessionId": self.session_id, "limit": self.limit}

    @classmethod
    def from_wire(cls, message: str, detail: Any, context: str) -> Self:
        return cls(detail["sessionId"], int(detail["limit"]))

    @classmethod
    def check(cls, session_id: str, open_streams: int, limit: int) -> None:
        """Raise when one more stream would take the session past ``limit``."""
        if open_streams >= limit:
            raise cls(session_id, limit)
