"""Session ids: one rule for REST routes, WebSocket endpoints and the session layer."""

from __future__ import annotations

import re
import uuid

__all__ = ["new_session_id", "valid_session_id"]

# A safe, bounded alphabet: ids appear in URLs, log lines and document addresses.
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def new_session_id() -> str:
    return str(uuid.uuid4())


def valid_session_id(session_id: str) -> bool:
    return _SESSION_ID.match(session_id) is not None
