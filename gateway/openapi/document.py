"""The whole OpenAPI 3.1 document, assembled from the per-API modules."""

from __future__ import annotations

from typing import Any

from . import account, bridge, engine, plm, versions, workspace
from .common import HEADERS, PARAMETERS, RESPONSES, SCHEMAS, SECURITY_SCHEMES

__all__ = ["OPENAPI_VERSION", "build_document"]

OPENAPI_VERSION = "3.1.0"

_DESCRIPTION = """\
The HTTP APIs of one atelier gateway: the **Bridge** (collaborative UI sessions), the **design
engine** with its **PLM** records, and the **workspace** (projects, sessions, files and AI runs).
Real-time editing goes over WebSockets (`/ws`, the Hocuspocus protocol), which this document does
not describe.

Errors are JSON: `{"error": "...", "field": "..."}` (`field` names the request value at fault).
Every route may answer 400 (a NUL character in a path or query parameter, which no store can
keep), 429 (a quota or rate limit, with `Retry-After`) and 503 (the session could
not be reached in time: a write's outcome is unknown, so retry it with the same `Idempotency-Key`).
"""


def build_document(*, bridge_auth: bool, version: str = "0.1.0") -> dict[str, Any]:
    """The document this gateway serves; ``bridge_auth`` is ``ATELIER_BRIDGE_AUTH``."""
    bridge_note = (
        "needs a bearer token (ATELIER_BRIDGE_AUTH is on)"
        if bridge_auth
        else "needs no token on this gateway (ATELIER_BRIDGE_AUTH is off)"
    )
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "atelier", "version": version, "description": _DESCRIPTION},
        "tags": [
            {"name": bridge.TAG, "description": f"Design Bridge sessions; {bridge_note}."},
            {
                "name": engine.TAG,
                "description": "Design sessions whose AI stages stream as Server-Sent Events.",
            },
            {"name": plm.TAG, "description": "Programs, designs, items and ECOs."},
            {"name": workspace.TAG, "description": "Projects, sessions, files and AI runs (`/api/v1`)."},
            {"name": account.TAG, "description": "The caller's identity and quota."},
        ],
        "paths": {
            **bridge.paths(auth=bridge_auth),
            **versions.paths(auth=bridge_auth),
            **engine.paths(),
            **plm.paths(),
            **workspace.paths(),
            **account.paths(),
        },
        "components": {
            "schemas": {
                **SCHEMAS,
                **bridge.SCHEMAS,
                **versions.SCHEMAS,
                **engine.SCHEMAS,
                **plm.SCHEMAS,
                **workspace.SCHEMAS,
            },
            "responses": RESPONSES,
            "parameters": PARAMETERS,
            "headers": HEADERS,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
