"""The workspace API (``/api/v1``): projects, typed sessions, history, files and AI runs.

Every route but the signed file download needs the bearer token; another user's record
answers 403, an unknown one 404. Request bodies and query parameters are generated from
the types the gateway decodes them with (``actors/workspace/bodies.py``).
"""

from __future__ import annotations

from actors.core.bodies import schema_components
from actors.workspace.answers import (
    File,
    HistoryMessage,
    Project,
    QuotaAnswer,
    Run,
    RunResult,
    WorkspaceSession,
)
from actors.workspace.bodies import (
    HistoryQuery,
    NewProjectBody,
    NewSessionBody,
    PageQuery,
    ProjectPatchBody,
    RunBody,
    SessionStatusBody,
    SessionTitleBody,
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
    query_param,
    query_params,
    ref,
)

__all__ = ["SCHEMAS", "TAG", "paths"]

TAG = "Workspace"

_V1 = "/api/v1"
_ID_PATTERN: Schema = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$"}
_PROJECT = path_param("projectId", "The project id.")
_SESSION = path_param("sessionId", "The session id.", _ID_PATTERN)
_RUN = path_param("runId", "The run id.")
_FILE = path_param("fileId", "The file id.")


def _request_schemas() -> dict[str, Schema]:
    schemas = schema_components(
        [NewProjectBody, ProjectPatchBody, NewSessionBody, SessionStatusBody, SessionTitleBody, RunBody]
    )
    # An empty patch is refused after decoding (no type says "at least one field").
    schemas["ProjectPatchBody"]["minProperties"] = 1
    return schemas


SCHEMAS: dict[str, Schema] = {
    # The answers of the workspace's session operations, from the types the client checks.
    **schema_components([Project, WorkspaceSession, HistoryMessage, RunResult, Run, QuotaAnswer, File]),
    **_request_schemas(),
    "RunEvent": obj(
        {
            "event": {"enum": ["run_event", "done"]},
            "data": {
                "type": "string",
                "contentMediaType": JSON,
                "description": '`{"type": "output", "text"}` chunks, then `{"type": "result", ...}` '
                '(a RunResult); `done` carries `{"finished": true}`.',
            },
            "id": {"type": "string"},
            "retry": {"type": "integer"},
        },
        "event",
        "data",
        extra=True,
    ),
}


def _one(key: str, schema: str) -> Schema:
    return obj({key: ref(schema)}, key)


def _many(key: str, schema: str) -> Schema:
    return obj({key: {"type": "array", "items": ref(schema)}}, key)


def _projects() -> dict[str, Schema]:
    return {
        _V1 + "/projects": {
            "post": idempotent(
                operation(
                    "createProject",
                    TAG,
                    "Create a project",
                    {"201": json_response("The new project.", _one("project", "Project"))},
                    request=body(ref("NewProjectBody")),
                )
            ),
            "get": operation(
                "listProjects",
                TAG,
                "List the caller's projects",
                {"200": json_response("A page of projects.", _many("projects", "Project"))},
                parameters=query_params(PageQuery),
                errors=(400,),
            ),
        },
        _V1 + "/projects/{projectId}": {
            "parameters": [_PROJECT],
            "get": operation(
                "getProject",
                TAG,
                "Get a project",
                {"200": json_response("The project.", _one("project", "Project"))},
                errors=(403, 404),
            ),
            "patch": idempotent(
                operation(
                    "updateProject",
                    TAG,
                    "Update a project's name, fiscal year, description or status",
                    {"200": json_response("The updated project.", _one("project", "Project"))},
                    request=body(ref("ProjectPatchBody")),
                    errors=(403, 404),
                )
            ),
            "delete": idempotent(
                operation(
                    "deleteProject",
                    TAG,
                    "Delete a project with its sessions and files",
                    {"200": json_response("Deleted.", ref("Ok"))},
                    errors=(403, 404),
                )
            ),
        },
    }


def _sessions() -> dict[str, Schema]:
    base = _V1 + "/projects/{projectId}/sessions"
    session = _one("session", "WorkspaceSession")
    return {
        base: {
            "parameters": [_PROJECT],
            "post": idempotent(
                operation(
                    "createWorkspaceSession",
                    TAG,
                    "Create a session in the project",
                    {"201": json_response("The new session.", session)},
                    request=body(ref("NewSessionBody")),
                    errors=(403, 404),
                )
            ),
            "get": operation(
                "listWorkspaceSessions",
                TAG,
                "List the project's sessions",
                {"200": json_response("A page of sessions.", _many("sessions", "WorkspaceSession"))},
                parameters=query_params(PageQuery),
                errors=(400, 403, 404),
            ),
        },
        base + "/{sessionId}": {
            "parameters": [_PROJECT, _SESSION],
            "get": operation(
                "getWorkspaceSession",
                TAG,
                "Get a session",
                {"200": json_response("The session.", session)},
                errors=(403, 404),
            ),
            "delete": idempotent(
                operation(
                    "deleteWorkspaceSession",
                    TAG,
                    "Delete a session and its history",
                    {"200": json_response("Deleted.", ref("Ok"))},
                    errors=(403, 404),
                )
            ),
        },
        base + "/{sessionId}/status": {
            "parameters": [_PROJECT, _SESSION],
            "patch": idempotent(
                operation(
                    "setWorkspaceSessionStatus",
                    TAG,
                    "Set a session's status",
                    {"200": json_response("The updated session.", session)},
                    request=body(ref("SessionStatusBody")),
                    errors=(403, 404),
                )
            ),
        },
        base + "/{sessionId}/title": {
            "parameters": [_PROJECT, _SESSION],
            "patch": idempotent(
                operation(
                    "setWorkspaceSessionTitle",
                    TAG,
                    "Rename a session",
                    {"200": json_response("The updated session.", session)},
                    request=body(ref("SessionTitleBody")),
                    errors=(403, 404),
                )
            ),
        },
        _V1 + "/sessions/{sessionId}/history": {
            "parameters": [_SESSION],
            "get": operation(
                "getWorkspaceHistory",
                TAG,
                "Get the session's history",
                {
                    "200": json_response(
                        "USER and ASSISTANT messages, oldest first.",
                        obj(
                            {
                                "sessionId": {"type": "string"},
                                "messages": {"type": "array", "items": ref("HistoryMessage")},
                            },
                            "sessionId",
                            "messages",
                        ),
                    )
                },
                parameters=query_params(HistoryQuery),
                errors=(400, 403, 404),
            ),
        },
    }


def _runs() -> dict[str, Schema]:
    base = _V1 + "/sessions/{sessionId}/runs"
    return {
        base: {
            "parameters": [_SESSION],
            "post": idempotent(
                operation(
                    "startRun",
                    TAG,
                    "Execute an AI run for the session",
                    {
                        "200": {
                            "description": (
                                "The run's outcome (JSON), or its output streamed as SSE "
                                "when the request accepts `text/event-stream`."
                            ),
                            "content": {
                                JSON: {"schema": ref("RunResult")},
                                "text/event-stream": {"schema": ref("RunEvent")},
                            },
                        }
                    },
                    request=body(ref("RunBody")),
                    errors=(403, 404, 409, 422),
                )
            ),
        },
        base + "/{runId}": {
            "parameters": [_SESSION, _RUN],
            "get": operation(
                "getRun",
                TAG,
                "Get a run's record",
                {"200": json_response("The run.", ref("Run"))},
                errors=(403, 404),
            ),
        },
        base + "/{runId}/cancel": {
            "parameters": [_SESSION, _RUN],
            "post": idempotent(
                operation(
                    "cancelRun",
                    TAG,
                    "Cancel the running run",
                    {"200": json_response("The cancelled run.", ref("Run"))},
                    errors=(403, 404, 409),
                )
            ),
        },
    }


def _files() -> dict[str, Schema]:
    file = _one("file", "File")
    return {
        _V1 + "/projects/{projectId}/files": {
            "parameters": [_PROJECT],
            "post": idempotent(
                operation(
                    "uploadFile",
                    TAG,
                    "Upload a file (indexing to READY follows)",
                    {"201": json_response("The file record, UPLOADED.", file)},
                    request={
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": obj(
                                    {"file": {"type": "string", "format": "binary"}}, "file", extra=True
                                ),
                            }
                        },
                    },
                    errors=(403, 404),
                )
            ),
            "get": operation(
                "listFiles",
                TAG,
                "List the project's files",
                {"200": json_response("A page of files.", _many("files", "File"))},
                parameters=query_params(PageQuery),
                errors=(400, 403, 404),
            ),
        },
        _V1 + "/files/{fileId}": {
            "parameters": [_FILE],
            "get": operation(
                "getFile",
                TAG,
                "Get a file's record",
                {"200": json_response("The file.", file)},
                errors=(403, 404),
            ),
            "delete": idempotent(
                operation(
                    "deleteFile",
                    TAG,
                    "Delete a file",
                    {"200": json_response("Deleted.", ref("Ok"))},
                    errors=(403, 404),
                )
            ),
        },
        _V1 + "/files/{fileId}/download": {
            "parameters": [_FILE],
            "get": operation(
                "downloadFile",
                TAG,
                "Download a file through a signed URL",
                {
                    "200": {
                        "description": "The file's bytes, as an attachment.",
                        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                    }
                },
                description=(
                    "The URL a run's worker is given: no bearer token, "
                    "an HMAC signature over the path and the expiry instead. "
                    "A bad or expired signature is 403."
                ),
                parameters=[
                    query_param("expires", "Unix seconds.", {"type": "string", "pattern": "^[0-9]{1,12}$"}),
                    query_param("signature", "base64url HMAC-SHA256.", {"type": "string"}),
                ],
                errors=(403, 404),
                auth=False,
            ),
        },
    }


def paths() -> dict[str, Schema]:
    return {**_projects(), **_sessions(), **_runs(), **_files()}
