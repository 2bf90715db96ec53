"""The gateway's OpenAPI 3.1 document (one module per API) and the routes that serve it."""

from __future__ import annotations

from .docs import render_docs as render_docs
from .document import OPENAPI_VERSION as OPENAPI_VERSION
from .document import build_document as build_document
from .routes import DOCS_PATH as DOCS_PATH
from .routes import OPENAPI_PATH as OPENAPI_PATH
from .routes import add_openapi_routes as add_openapi_routes

__all__ = [
    "DOCS_PATH",
    "OPENAPI_PATH",
    "OPENAPI_VERSION",
    "add_openapi_routes",
    "build_document",
    "render_docs",
]
