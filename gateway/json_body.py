"""Reading a JSON request body within the size limit, with errors that say what is wrong."""

from __future__ import annotations

import orjson
from aiohttp import web

__all__ = ["BodyError", "read_json"]


class BodyError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


async def read_json(request: web.Request, limit: int, *, required: bool = True) -> object:
    if request.content_length is not None and request.content_length > limit:
        raise BodyError(413, f"request body exceeds {limit} bytes")
    raw = bytearray()
    async for chunk in request.content.iter_chunked(65536):
        raw += chunk
        if len(raw) > limit:
            raise BodyError(413, f"request body exceeds {limit} bytes")
    if not raw.strip():
        if required:
            raise BodyError(400, "request body must be a JSON object", "body")
        return {}
    try:
        return orjson.loads(bytes(raw))
    except orjson.JSONDecodeError as exc:
        raise BodyError(400, f"malformed JSON: {exc}", "body") from None
