"""CORS for the JSON API: every answer carries the headers; OPTIONS preflight answers 204."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

__all__ = ["cors_middleware"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_ALLOW_METHODS = "GET, POST, PATCH, DELETE, OPTIONS"
_ALLOW_HEADERS = "Content-Type, Authorization"


def cors_middleware(origin: str) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response: web.StreamResponse = web.Response(status=204)
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                response = exc
        if request.headers.get("Upgrade", "").lower() != "websocket" and not response.prepared:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = _ALLOW_METHODS
            response.headers["Access-Control-Allow-Headers"] = request.headers.get(
                "Access-Control-Request-Headers", _ALLOW_HEADERS
            )
            response.headers["Access-Control-Max-Age"] = "600"
        if isinstance(response, web.HTTPException):
            raise response
        return response

    return middleware
