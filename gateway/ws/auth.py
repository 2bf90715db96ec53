"""Who may open a document, and with which scope: a pluggable policy."""

from __future__ import annotations

import hashlib
import hmac
from typing import Protocol

__all__ = [
    "READ_ONLY",
    "READ_WRITE",
    "AllowAll",
    "AuthDenied",
    "AuthPolicy",
    "SharedSecret",
    "mint_token",
]

READ_WRITE = "read-write"
READ_ONLY = "readonly"
_SCOPES = (READ_WRITE, READ_ONLY)


class AuthDenied(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AuthPolicy(Protocol):
    def authorize(self, document: str, token: str) -> str:
        """The scope granted for ``document`` with ``token``; raises AuthDenied."""
        ...


class AllowAll:
    """The default for Bridge sessions: any token opens any session read-write."""

    def authorize(self, document: str, token: str) -> str:
        return READ_WRITE


def _signature(secret: str, scope: str, document: str) -> str:
    message = f"{scope}:{document}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def mint_token(secret: str, scope: str, document: str = "*") -> str:
    """A token for ``scope`` on ``document`` (``*``: every document)."""
    if scope not in _SCOPES:
        raise ValueError(f"scope must be one of {_SCOPES}")
    return f"{scope}:{document}:{_signature(secret, scope, document)}"


class SharedSecret:
    """Tokens are ``scope:document:hmac-sha256(secret, "scope:document")``."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def authorize(self, document: str, token: str) -> str:
        scope, _, rest = token.partition(":")
        target, _, signature = rest.rpartition(":")
        if scope not in _SCOPES or not target or not signature:
            raise AuthDenied("invalid-token")
        if target not in ("*", document):
            raise AuthDenied("token-not-valid-for-document")
        if not hmac.compare_digest(signature, _signature(self._secret, scope, target)):
            raise AuthDenied("invalid-token")
        return scope
