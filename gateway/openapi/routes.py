"""Serving the document (``/openapi.json``) and its HTML reference (``/docs``)."""

from __future__ import annotations

import orjson
from aiohttp import web

from .docs import render_docs
from .document import build_document

__all__ = ["DOCS_PATH", "OPENAPI_PATH", "add_openapi_routes"]

OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"


def add_openapi_routes(app: web.Application, *, bridge_auth: bool) -> None:
    """Both are rendered once, when the app is built: the document depends only on settings."""
    document = build_document(bridge_auth=bridge_auth)
    raw = orjson.dumps(document)
    page = render_docs(document)

    async def openapi_json(request: web.Request) -> web.Response:
        return web.Response(body=raw, content_type="application/json")

    async def docs(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    app.router.add_get(OPENAPI_PATH, openapi_json)
    app.router.add_get(DOCS_PATH, docs)
