"""Who is asking: the client IP and the token key a request's limits are counted against.

The token key is ``sub:<user>`` when the bearer token is a JWT this gateway accepts, else
``tok:<sha256 of the raw token>`` (so a flood of garbage tokens is still one key each, and
no token is ever kept in memory or Redis in clear).
"""

from __future__ import annotations

import hashlib

from aiohttp import hdrs, web

from ..auth import PRINCIPAL, VERIFIER, AuthError

__all__ = ["ANONYMOUS", "client_ip", "raw_token", "token_key"]

ANONYMOUS = "anonymous"
# Cached on the request (the rate limiter and the idempotency layer both ask), one per way
# of finding the token: a socket's ``?token=`` counts only for the WebSocket limits.
_HEADER_KEY = web.RequestKey("limits_token_key", str)
_SOCKET_KEY = web.RequestKey("limits_socket_token_key", str)


def client_ip(request: web.Request) -> str:
    """The peer address; proxies' forwarding headers are not trusted (they are the client's to forge)."""
    return request.remote or "unknown"


def raw_token(request: web.Request, *, query: bool = False) -> str | None:
    """The bearer token of the Authorization header (or, for sockets, the ``token`` query parameter)."""
    header = request.headers.get(hdrs.AUTHORIZATION, "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if query:
        token = request.query.get("token")
        if token:
            return token
    return None


async def token_key(request: web.Request, *, query: bool = False) -> str | None:
    """``sub:<user>`` for a valid JWT, ``tok:<hash>`` for any other token, None without one."""
    cache = _SOCKET_KEY if query else _HEADER_KEY
    if cache in request:
        return request[cache] or None
    token = raw_token(request, query=query)
    key = ""
    if token is not None:
        key = "tok:" + hashlib.sha256(token.encode()).hexdigest()[:32]
        if token.count(".") == 2:
            try:
                principal = await request.config_dict[VERIFIER].verify_async(token)
            except AuthError:
                principal = None
            if principal is not None:
                request[PRINCIPAL] = principal  # require_user then skips a second check
                key = "sub:" + principal.user_id
    request[cache] = key
    return key or None
