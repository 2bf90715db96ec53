"""Errors that cross the actor boundary; the gateway maps each to one HTTP answer."""

from __future__ import annotations

__all__ = ["HostExiting", "SessionError", "SessionMoved", "SessionNotFound", "SessionUnavailable"]


class SessionError(Exception):
    """Base of the session-layer errors."""


class SessionNotFound(SessionError):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id!r} not found")
        self.session_id = session_id


class SessionUnavailable(SessionError):
    """The session's actor could not be reached or failed mid-call; the outcome is unknown."""


class HostExiting(SessionError):
    """The host actor is shutting down and did not run the call: safe to retry elsewhere."""


class SessionMoved(SessionError):
    """This host does not own the session (the directory placed it elsewhere): locate again."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id!r} is placed on another host")
        self.session_id = session_id
