"""The design-engine API (``/api/design-engine/sessions``): owner-scoped sessions whose AI stages
stream as Server-Sent Events. Every route needs the bearer token."""

from __future__ import annotations

from actors.core.bodies import schema_components
from actors.engine.answers import (
    DesignSession,
    DesignSessionCreated,
    DesignSessionSummary,
    MaterializationPreview,
    MaterializationResult,
    StageEventsPage,
)
from actors.engine.bodies import (
    CreateDesignSessionBody,
    EventsQuery,
    PatchDesignSessionBody,
    RejoinQuery,
    SessionsQuery,
    StageActionBody,
)

from .common import (
    JSON,
    Schema,
    body,
    idempotent,
    json_response,
    obj,
    operation,
    path_param,
    query_params,
    ref,
)

__all__ = ["SCHEMAS", "TAG", "paths"]

TAG = "Design engine"

_BASE = "/api/design-engine/sessions"
_ID = path_param("id", "The design session id.", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$"})

SCHEMAS: dict[str, Schema] = {
    # The request bodies, from the types the routes decode (the stage and action enums too).
    **schema_components([CreateDesignSessionBody, PatchDesignSessionBody, StageActionBody]),
    # The answers, from the types the session client checks them as.
    **schema_components(
        [
            DesignSessionSummary,
            DesignSession,
            DesignSessionCreated,
            MaterializationPreview,
            MaterializationResult,
            StageEventsPage,
        ]
    ),
    "StageEvent": obj(
        {
            "event": {"enum": ["stage_event", "done"]},
            "data": {
                "type": "string",
                "contentMediaType": JSON,
                "description": 'A StageEvent (`{"type": "llm_text", ...}`), or `{"finished": true}` '
                "for `done`.",
            },
            "id": {"type": "string", "description": "The event's log id, for `Last-Event-ID`."},
            "retry": {"type": "integer"},
        },
        "event",
        "data",
        extra=True,
        description="One Server-Sent Event. The stream ends with `done` after the run's last event; a stream "
        "cut without `done` is resumed with `Last-Event-ID`.",
    ),
}


def _data(schema: Schema) -> Schema:
    return obj({"data": schema}, "data")


_SESSION = _data(obj({"session": ref("DesignSession")}, "session"))
_SSE: Schema = {"text/event-stream": {"schema": ref("StageEvent")}}
_LAST_EVENT_ID = {
    "name": "Last-Event-ID",
    "in": "header",
    "required": False,
    "description": "Resume after this event id (what EventSource sends on reconnect).",
    "schema": {"type": "string", "pattern": "^[0-9]{0,16}$"},
}


def paths() -> dict[str, Schema]:
    return {
        _BASE: {
            "post": idempotent(
                operation(
                    "createDesignSession",
                    TAG,
                    "Create a design session",
                    {
                        "201": json_response(
                            "The new session.",
                            _data(obj({"session": ref("DesignSessionCreated")}, "session")),
                        )
                    },
                    request=body(ref("CreateDesignSessionBody")),
                    errors=(403, 404),
                )
            ),
            "get": operation(
                "listDesignSessions",
                TAG,
                "List the caller's design sessions",
                {
                    "200": json_response(
                        "A page of sessions, newest first.",
                        _data(
                            obj(
                                {"sessions": {"type": "array", "items": ref("DesignSessionSummary")}},
                                "sessions",
                            )
                        ),
                    )
                },
                parameters=query_params(SessionsQuery),
                errors=(400,),
            ),
        },
        _BASE + "/{id}": {
            "parameters": [_ID],
            "get": operation(
                "getDesignSession",
                TAG,
                "Get a design session with its artifacts",
                {"200": json_response("The session.", _SESSION)},
                errors=(403, 404),
            ),
            "patch": idempotent(
                operation(
                    "patchDesignSession",
                    TAG,
                    "Update the description, artifacts or stage",
                    {"200": json_response("The updated session.", _SESSION)},
                    request=body(ref("PatchDesignSessionBody")),
                    errors=(403, 404, 409),
                )
            ),
        },
        _BASE + "/{id}/stream": {
            "parameters": [_ID],
            "post": idempotent(
                operation(
                    "actOnDesignSession",
                    TAG,
                    "Carry out a stage action",
                    {
                        "200": {
                            "description": (
                                "A confirmation or acknowledgement as JSON, "
                                "or the run's events as SSE (header `X-Session-Id`)."
                            ),
                            "content": {
                                JSON: {
                                    "schema": _data(
                                        obj(
                                            {
                                                "session": ref("DesignSession"),
                                                "confirmed": {
                                                    "enum": ["requirements", "bom", "cad", "assembly"]
                                                },
                                                "cancelled": {"const": True},
                                                "acknowledged": {"const": True},
                                            }
                                        )
                                    )
                                },
                                **_SSE,
                            },
                        }
                    },
                    request=body(ref("StageActionBody")),
                    errors=(403, 404, 409),
                )
            ),
            "get": operation(
                "rejoinDesignStream",
                TAG,
                "Rejoin the session's event stream",
                {
                    "200": {
                        "description": "The events after `Last-Event-ID`, then the live run's, as SSE.",
                        "content": _SSE,
                    }
                },
                description=(
                    "What EventSource reconnects to; `lastEventId` in the query works as the header does."
                ),
                parameters=[_LAST_EVENT_ID, *query_params(RejoinQuery)],
                errors=(400, 403, 404),
            ),
        },
        _BASE + "/{id}/events": {
            "parameters": [_ID],
            "get": operation(
                "listDesignEvents",
                TAG,
                "Read the session's stage events as JSON, a page at a time",
                {
                    "200": json_response(
                        "The committed events after `after`, oldest first.",
                        _data(ref("StageEventsPage")),
                    )
                },
                description=(
                    "For clients that cannot read SSE: the events `GET .../stream` streams, with "
                    "the same ids. Poll with `after` set to the last id read."
                ),
                parameters=query_params(EventsQuery),
                errors=(400, 403, 404),
            ),
        },
        _BASE + "/{id}/materialize": {
            "parameters": [_ID],
            "get": operation(
                "previewMaterialization",
                TAG,
                "Preview what materialization would create",
                {
                    "200": json_response(
                        "The preview.", _data(obj({"preview": ref("MaterializationPreview")}, "preview"))
                    )
                },
                errors=(403, 404, 422),
            ),
            "post": idempotent(
                operation(
                    "materialize",
                    TAG,
                    "Create the PLM items from the session's drafts (once)",
                    {
                        "200": json_response(
                            "What was created.",
                            _data(obj({"result": ref("MaterializationResult")}, "result")),
                        )
                    },
                    errors=(403, 404, 409, 422),
                )
            ),
        },
        _BASE + "/{id}/files/{name}": {
            "parameters": [
                _ID,
                path_param(
                    "name",
                    "`parts/<tempId>.step|stl|glb` or `assembly.step|glb`.",
                    {
                        "type": "string",
                        "pattern": r"^(parts/[A-Za-z0-9_.-]{1,128}|assembly)\.(step|stl|glb)$",
                    },
                ),
            ],
            "get": operation(
                "downloadDesignFile",
                TAG,
                "Download a CAD file of the session",
                {
                    "200": {
                        "description": "The file, as an attachment.",
                        "content": {
                            media: {"schema": {"type": "string", "format": "binary"}}
                            for media in ("model/step", "model/stl", "model/gltf-binary")
                        },
                    }
                },
                errors=(400, 403, 404),
            ),
        },
    }
