"""aiohttp glue: the bearer token of a request, its principal, and the 401/403 answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

from .tokens import AuthError, Principal, Verifier

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

__all__ = [
    "PRINCIPAL",
    "REALM",
    "VERIFIER",
    "Forbidden",
    "auth_error_response",
    "bearer_token",
    "bridge_auth_middleware",
    "ensure_owner",
    "forbidden_response",
    "require_user",
]

VERIFIER = web.AppKey("auth_verifier", Verifier)
# The principal, cached on its request. A typed key, not the string "principal": aiohttp
# 3.14 warns about string keys on requests as it does on applications.
PRINCIPAL = web.RequestKey("principal", Principal)
REALM = "atelier"


class Forbidden(Exception):
    """An authenticated caller touched something it does not own (HTTP 403)."""

    status = 403

    def __init__(self, what: str) -> None:
        self.what = what
        self.message = f"not the owner of this {what}"
        super().__init__(self.message)


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value; raises AuthError."""
    if authorization is None or not authorization.strip():
        raise AuthError("missing bearer token", challenge=None)
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise AuthError("authorization scheme must be Bearer", challenge=None)
    token = token.strip()
    if not token or " " in token:
        raise AuthError("malformed authorization header", challenge="invalid_request")
    return token


async def require_user(request: web.Request) -> Principal:
    """The caller of ``request``, verified once and cached on the request; raises AuthError."""
    if PRINCIPAL in request:
        return request[PRINCIPAL]
    token = bearer_token(request.headers.get(hdrs.AUTHORIZATION))
    principal = await request.config_dict[VERIFIER].verify_async(token)
    request[PRINCIPAL] = principal
    return principal


def ensure_owner(principal: Principal, owner_id: str | None, what: str) -> None:
    """Raises Forbidden unless ``principal`` owns the resource (``what`` names it)."""
    if owner_id is None or principal.user_id != owner_id:
        raise Forbidden(what)


def auth_error_response(exc: AuthError) -> web.Response:
    """``{"error", "code"}`` JSON with the RFC 6750 challenge on a 401."""
    response = web.json_response({"error": exc.message, "code": exc.code}, status=exc.status)
    if exc.status == 401:
        response.headers[hdrs.WWW_AUTHENTICATE] = _challenge(exc)
    return response


def forbidden_response(exc: Forbidden) -> web.Response:
    return web.json_response({"error": exc.message, "code": "forbidden"}, status=exc.status)


def _challenge(exc: AuthError) -> str:
    parts = [f'realm="{REALM}"']
    if exc.challenge is not None:
        # RFC 6750 §3: quoted-string without '"' or '\'; our messages are fixed ASCII phrases.
        description = exc.message.replace("\\", "").replace('"', "'")
        parts += [f'error="{exc.challenge}"', f'error_description="{description}"']
    return "Bearer " + ", ".join(parts)


def bridge_auth_middleware(enabled: bool) -> Middleware:
    """With ``ATELIER_BRIDGE_AUTH`` on, the Bridge REST routes need a bearer JWT too."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if enabled and request.path.startswith("/api/sessions"):
            await require_user(request)
        return await handler(request)

    return middleware
