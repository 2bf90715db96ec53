"""Reading a JSON request body within the size limit, with errors that say what is wrong;
writing a JSON answer."""

from __future__ import annotations

from typing import TypeVar

import msgspec
import orjson
from aiohttp import web

from actors.core.bodies import convert_body, convert_query

__all__ = ["BodyError", "json_answer", "nul_path", "read_body", "read_json", "read_query"]

B = TypeVar("B", bound=msgspec.Struct)


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
        body: object = orjson.loads(bytes(raw))
    except orjson.JSONDecodeError as exc:
        raise BodyError(400, f"malformed JSON: {exc}", "body") from None
    # JSON can carry NUL only escaped: most bodies are passed over without a walk.
    if b"\\u0000" in raw:
        path = nul_path(body, "")
        if path is not None:
            field = path or "body"
            raise BodyError(400, f"{field}: must not contain NUL characters", field)
    return body


async def read_body(request: web.Request, kind: type[B], limit: int, *, required: bool = True) -> B:
    """The body as ``kind`` (its type says what is accepted: ``actors/<api>/bodies.py``)."""
    return convert_body(await read_json(request, limit, required=required), kind)


def read_query(request: web.Request, kind: type[B]) -> B:
    """The query parameters as ``kind``."""
    return convert_query(request.query, kind)


def json_answer(payload: object, status: int = 200) -> web.Response:
    """A JSON response; typed answers in ``payload`` (``actors/<api>/answers.py``) are written
    out as their JSON."""
    return web.Response(body=msgspec.json.encode(payload), status=status, content_type="application/json")


def nul_path(value: object, path: str) -> str | None:
    """The dotted path of the first string (or key) holding a NUL character, if any.

    Postgres text cannot hold NUL and no field of the three APIs needs one: such input is
    refused by name rather than failing deep in a store.
    """
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return path or "body"
            found = nul_path(item, child)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None
