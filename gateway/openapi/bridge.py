"""The Bridge REST API (``/api/sessions``): session management, state, spec ops and presence.

The bearer token is needed only when the gateway runs with ``ATELIER_BRIDGE_AUTH=1``; the
document the gateway serves says which (``paths(auth=...)``).
"""

from __future__ import annotations

from actors.bridge.answers import (
    ChangeOutcome,
    OpsOutcome,
    SessionMeta,
    SessionState,
    Version,
    VersionDiff,
    VersionState,
)
from actors.bridge.bodies import (
    AgentBody,
    CreateSessionBody,
    CreateVersionBody,
    OpsBody,
    PageQuery,
    PresenceBody,
    SpecOp,
    UIElement,
)
from actors.core.bodies import schema_components

from .common import (
    Schema,
    body,
    idempotent,
    json_response,
    obj,
    ok_and,
    operation,
    path_param,
    query_params,
    ref,
)

__all__ = ["SCHEMAS", "TAG", "paths"]

TAG = "Bridge"

_ID = path_param("id", "The session id.", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$"})
_THEME_NUMBERS = {
    "hue": {"type": "number", "minimum": 0, "maximum": 360},
    "chroma": {"type": "number", "minimum": 0, "maximum": 0.4},
    "grayChroma": {"type": "number", "minimum": 0, "maximum": 0.03},
    "radius": {"type": "number", "minimum": 0, "maximum": 8},
}

SCHEMAS: dict[str, Schema] = {
    **schema_components(
        [CreateSessionBody, OpsBody, PresenceBody, CreateVersionBody, AgentBody, UIElement],
        named={"SpecOp": SpecOp},
    ),
    **schema_components(
        [SessionMeta, SessionState, OpsOutcome, Version, VersionState, VersionDiff, ChangeOutcome],
        closed=False,
    ),
    "AgentPresence": obj(
        {
            "agentId": {"type": "string"},
            "name": {"type": "string"},
            "cursor": obj({"elementKey": {"type": "string"}}, "elementKey"),
            "status": {"type": "string"},
            "updatedAt": {"type": "string"},
        },
        "agentId",
        "updatedAt",
    ),
    "BrowserPresence": {
        "type": "object",
        "description": (
            "A connected editor's awareness state, as its provider set it (any JSON object), "
            "with its Yjs client id; keyed by its `agentId` when it has one, else by `client:<id>`."
        ),
        "properties": {"clientId": {"type": "integer", "minimum": 0}},
        "required": ["clientId"],
        "additionalProperties": True,
    },
    "PresenceEntry": {
        "description": "An agent's presence posted over REST, or a connected editor's awareness.",
        "anyOf": [ref("AgentPresence"), ref("BrowserPresence")],
    },
}

_SESSION = obj({"ok": {"const": True}, "session": ref("SessionMeta")}, "ok", "session")
_PRESENCE_ANSWER = "Every live presence entry: agents by id, editors by agentId or client id."
_PRESENCE = obj(
    {"ok": {"const": True}, "presence": {"type": "object", "additionalProperties": ref("PresenceEntry")}},
    "ok",
    "presence",
)


_HEALTH = obj({"ok": {"const": True}}, "ok")
_READY = obj(
    {
        "ok": {"type": "boolean"},
        "ready": {"type": "boolean"},
        "warm": obj(
            {
                "ready": {"type": "boolean"},
                "seconds": {"type": "number"},
                "hosts": {"type": "integer"},
                "storeOwner": {"type": "boolean"},
                "runWorkers": {"type": "integer"},
                "cadWorker": {"type": ["boolean", "null"]},
                "error": {"type": ["string", "null"]},
            },
            "ready",
            "seconds",
            "hosts",
            "storeOwner",
            "runWorkers",
            "cadWorker",
            "error",
        ),
    },
    "ok",
    "ready",
)


def paths(*, auth: bool) -> dict[str, Schema]:
    """The Bridge's paths; ``auth`` is whether its routes need a bearer token here."""
    return {
        "/health": {
            "get": operation(
                "health",
                TAG,
                "Health check",
                {"200": json_response("The server is up (it answers as soon as it listens).", _HEALTH)},
                auth=False,
            ),
        },
        "/ready": {
            "get": operation(
                "ready",
                TAG,
                "Readiness: the session layer is warm",
                {
                    "200": json_response("Hosts, store owner and run workers are started.", _READY),
                    "503": json_response("Still warming up, or the warm-up failed (`warm.error`).", _READY),
                },
                auth=False,
            ),
        },
        "/api/sessions": {
            "post": idempotent(
                operation(
                    "createSession",
                    TAG,
                    "Create a session",
                    {"201": json_response("The new session's metadata.", _SESSION)},
                    request=body(ref("CreateSessionBody"), required=False),
                    auth=auth,
                )
            ),
            "get": operation(
                "listSessions",
                TAG,
                "List sessions",
                {
                    "200": json_response(
                        "A page of sessions.",
                        obj(
                            {
                                "ok": {"const": True},
                                "sessions": {"type": "array", "items": ref("SessionMeta")},
                            },
                            "ok",
                            "sessions",
                        ),
                    )
                },
                parameters=query_params(PageQuery),
                errors=(400,),
                auth=auth,
            ),
        },
        "/api/sessions/{id}": {
            "parameters": [_ID],
            "get": operation(
                "getSession",
                TAG,
                "Get session metadata",
                {"200": json_response("The session's metadata.", _SESSION)},
                errors=(404,),
                auth=auth,
            ),
            "delete": idempotent(
                operation(
                    "deleteSession",
                    TAG,
                    "Delete a session and its document",
                    {"200": json_response("Deleted.", ref("Ok"))},
                    errors=(404,),
                    auth=auth,
                )
            ),
        },
        "/api/sessions/{id}/state": {
            "parameters": [_ID],
            "get": operation(
                "getSessionState",
                TAG,
                "Get the full session state",
                {"200": json_response("Spec, theme, theme CSS and metadata.", ok_and(ref("SessionState")))},
                errors=(404,),
                auth=auth,
            ),
        },
        "/api/sessions/{id}/ops": {
            "parameters": [_ID],
            "post": idempotent(
                operation(
                    "applyOps",
                    TAG,
                    "Apply spec operations",
                    {
                        "200": json_response(
                            "What was applied, and why the others were not.", ok_and(ref("OpsOutcome"))
                        )
                    },
                    description=(
                        "Applied to the session's document and synced to every connected editor at once."
                    ),
                    parameters=[
                        {
                            "name": "Atelier-Version-Before",
                            "in": "header",
                            "required": False,
                            "description": "Name the state before these ops as a version with this label.",
                            "schema": {"type": "string"},
                        }
                    ],
                    request=body(ref("OpsBody")),
                    errors=(404, 409),
                    auth=auth,
                )
            ),
        },
        "/api/sessions/{id}/presence": {
            "parameters": [_ID],
            "post": idempotent(
                operation(
                    "setPresence",
                    TAG,
                    "Update an agent's presence",
                    {"200": json_response(_PRESENCE_ANSWER, _PRESENCE)},
                    request=body(ref("PresenceBody")),
                    errors=(404,),
                    auth=auth,
                )
            ),
            "get": operation(
                "getPresence",
                TAG,
                "Get the session's presence",
                {"200": json_response(_PRESENCE_ANSWER, _PRESENCE)},
                errors=(404,),
                auth=auth,
            ),
        },
    }
