"""The workspace API (``/api/v1``): projects, typed sessions, history, files and AI runs.

Every route but the signed file download needs a bearer JWT; another user's project,
session, file or run answers 403, an unknown one 404. Bodies and query parameters are
decoded here into their types (``actors/workspace/bodies.py``, a 400 naming the field)
and cross to the session host as they are. A run answers with exactly the
spec's fields, or streams the worker's output as SSE when asked with
``Accept: text/event-stream``.
"""

from __future__ import annotations

import time
from typing import TypeVar

import msgspec
from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import BadHttpMessage

from actors.core.errors import ValidationError
from actors.core.ids import valid_session_id
from actors.errors import NotFound, SessionNotFound
from actors.workspace import ops
from actors.workspace.answers import WorkspaceSession
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
from actors.workspace.errors import SignatureError

from ..auth import require_user
from ..json_body import BodyError, json_answer, read_body, read_query
from ..limits.limiter import LIMITER
from ..sse import stream_stage_events
from ..state import SESSIONS, SETTINGS, SSE_STREAMS

__all__ = ["routes"]

routes = web.RouteTableDef()

_V1 = "/api/v1"

B = TypeVar("B", bound=msgspec.Struct)


def _page(request: web.Request) -> tuple[int, int]:
    page = read_query(request, PageQuery)
    limit_max = request.app[SETTINGS].actors.workspace.list_limit  # a setting: checked after decoding
    limit = min(50, limit_max) if page.limit is None else page.limit
    if limit > limit_max:
        raise ValidationError("limit", f"must be between 1 and {limit_max}")
    return limit, page.offset


def _session_id(request: web.Request) -> str:
    session_id = request.match_info["sessionId"]
    if not valid_session_id(session_id):
        raise SessionNotFound(session_id)
    return session_id


async def _body(request: web.Request, kind: type[B]) -> B:
    return await read_body(request, kind, request.app[SETTINGS].max_body_bytes)


# -- projects ------------------------------------------------------------------------------


@routes.post(_V1 + "/projects")
async def create_project(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    project = await request.app[SESSIONS].workspace.create_project(user, await _body(request, NewProjectBody))
    return json_answer({"project": project}, status=201)


@routes.get(_V1 + "/projects")
async def list_projects(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    limit, offset = _page(request)
    return json_answer({"projects": await request.app[SESSIONS].workspace.list_projects(user, limit, offset)})


@routes.get(_V1 + "/projects/{projectId}")
async def get_project(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    project = await request.app[SESSIONS].workspace.get_project(user, request.match_info["projectId"])
    return json_answer({"project": project})


@routes.patch(_V1 + "/projects/{projectId}")
async def update_project(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    project_id = request.match_info["projectId"]
    body = await _body(request, ProjectPatchBody)
    return json_answer(
        {"project": await request.app[SESSIONS].workspace.update_project(user, project_id, body)}
    )


@routes.delete(_V1 + "/projects/{projectId}")
async def delete_project(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    await request.app[SESSIONS].workspace.delete_project(user, request.match_info["projectId"])
    return web.json_response({"ok": True})


# -- sessions ------------------------------------------------------------------------------


@routes.post(_V1 + "/projects/{projectId}/sessions")
async def create_session(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    body = await _body(request, NewSessionBody)
    page = request.app[SETTINGS].actors.workspace.list_limit
    await request.app[LIMITER].check_workspace_sessions(request.app[SESSIONS], user, page)  # 409 at the limit
    session = await request.app[SESSIONS].call(
        ops.CreateWork.new(user, request.match_info["projectId"], body)
    )
    return json_answer({"session": session}, status=201)


@routes.get(_V1 + "/projects/{projectId}/sessions")
async def list_sessions(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    limit, offset = _page(request)
    sessions = await request.app[SESSIONS].workspace.list_sessions(
        user, request.match_info["projectId"], limit, offset
    )
    return json_answer({"sessions": sessions})


async def _project_session(request: web.Request) -> tuple[str, str, WorkspaceSession]:
    user = (await require_user(request)).user_id
    session_id = _session_id(request)
    session = await request.app[SESSIONS].call(ops.GetWork(session_id, user))
    if session.project_id != request.match_info["projectId"]:
        raise NotFound("session", "sessionId")  # not a session of this project
    return user, session_id, session


@routes.get(_V1 + "/projects/{projectId}/sessions/{sessionId}")
async def get_session(request: web.Request) -> web.Response:
    _, _, session = await _project_session(request)
    return json_answer({"session": session})


@routes.patch(_V1 + "/projects/{projectId}/sessions/{sessionId}/status")
async def set_status(request: web.Request) -> web.Response:
    user, session_id, _ = await _project_session(request)
    body = await _body(request, SessionStatusBody)
    session = await request.app[SESSIONS].call(ops.SetWorkStatus(session_id, user, body))
    return json_answer({"session": session})


@routes.patch(_V1 + "/projects/{projectId}/sessions/{sessionId}/title")
async def set_title(request: web.Request) -> web.Response:
    user, session_id, _ = await _project_session(request)
    body = await _body(request, SessionTitleBody)
    session = await request.app[SESSIONS].call(ops.SetWorkTitle(session_id, user, body))
    return json_answer({"session": session})


@routes.delete(_V1 + "/projects/{projectId}/sessions/{sessionId}")
async def delete_session(request: web.Request) -> web.Response:
    user, session_id, _ = await _project_session(request)
    await request.app[SESSIONS].call(ops.DeleteWork(session_id, user))
    request.app[SESSIONS].forget(session_id)
    return web.json_response({"ok": True})


@routes.get(_V1 + "/sessions/{sessionId}/history")
async def history(request: web.Request) -> web.Response:
    """Chronological USER and ASSISTANT messages; ``limit`` defaults to 50, clamped to 0..200."""
    user = (await require_user(request)).user_id
    session_id = _session_id(request)
    limit = read_query(request, HistoryQuery).limit
    messages = await request.app[SESSIONS].call(ops.WorkHistory(session_id, user, limit))
    return json_answer({"sessionId": session_id, "messages": messages})


# -- runs ----------------------------------------------------------------------------------


@routes.post(_V1 + "/sessions/{sessionId}/runs")
async def run(request: web.Request) -> web.StreamResponse:
    user = (await require_user(request)).user_id
    session_id = _session_id(request)
    sessions = request.app[SESSIONS]
    run_id = await sessions.call(ops.StartRun(session_id, user, await _body(request, RunBody)))
    if "text/event-stream" in request.headers.get("Accept", ""):
        stream = await sessions.run_events(user, session_id, run_id)
        return await stream_stage_events(
            request,
            session_id,
            stream,
            follow_run=run_id,
            heartbeat=request.app[SETTINGS].sse_heartbeat,
            streams=request.app[SSE_STREAMS],
            event="run_event",
        )
    return json_answer(await sessions.call(ops.WaitRun(session_id, user, run_id)))


@routes.get(_V1 + "/sessions/{sessionId}/runs/{runId}")
async def get_run(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    run = await request.app[SESSIONS].call(
        ops.GetRun(_session_id(request), user, request.match_info["runId"])
    )
    return json_answer(run)


@routes.post(_V1 + "/sessions/{sessionId}/runs/{runId}/cancel")
async def cancel_run(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    cancel = ops.CancelRun(_session_id(request), user, request.match_info["runId"])
    return json_answer(await request.app[SESSIONS].call(cancel))


# -- files ---------------------------------------------------------------------------------


@routes.post(_V1 + "/projects/{projectId}/files")
async def upload(request: web.Request) -> web.Response:
    """One ``file`` part (multipart/form-data); indexing to READY follows in the background."""
    user = (await require_user(request)).user_id
    limit = request.app[SETTINGS].actors.workspace.upload_max_bytes
    if request.content_length is not None and request.content_length > limit + 65536:
        raise BodyError(413, f"upload exceeds {limit} bytes", "file")
    if not request.content_type.startswith("multipart/"):
        raise ValidationError("file", "send the file as multipart/form-data")
    try:
        found = await _file_part(request, limit)
    except (ValueError, BadHttpMessage) as exc:  # a malformed multipart body is the client's (400)
        raise BodyError(400, f"malformed multipart body: {exc}", "file") from None
    if found is None:
        raise ValidationError("file", "required multipart field")
    name, content_type, data = found
    record = await request.app[SESSIONS].workspace.upload_file(
        user, request.match_info["projectId"], name, content_type, data
    )
    return json_answer({"file": record}, status=201)


async def _file_part(request: web.Request, limit: int) -> tuple[str, str, bytes] | None:
    """The ``file`` part's name, content type and bytes (None without one)."""
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name != "file":
            continue
        data = bytearray()
        while chunk := await part.read_chunk(65536):
            data += chunk
            if len(data) > limit:
                raise BodyError(413, f"upload exceeds {limit} bytes", "file")
        return (
            part.filename or "upload",
            part.headers.get("Content-Type", "application/octet-stream"),
            bytes(data),
        )
    return None


@routes.get(_V1 + "/projects/{projectId}/files")
async def list_files(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    limit, offset = _page(request)
    files = await request.app[SESSIONS].workspace.list_files(
        user, request.match_info["projectId"], limit, offset
    )
    return json_answer({"files": files})


@routes.get(_V1 + "/files/{fileId}")
async def get_file(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    return json_answer(
        {"file": await request.app[SESSIONS].workspace.get_file(user, request.match_info["fileId"])}
    )


@routes.delete(_V1 + "/files/{fileId}")
async def delete_file(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    await request.app[SESSIONS].workspace.delete_file(user, request.match_info["fileId"])
    return web.json_response({"ok": True})


@routes.get(_V1 + "/files/{fileId}/download")
async def download(request: web.Request) -> web.Response:
    """A signed, expiring URL (what run workers fetch): no bearer token; a bad signature is 403."""
    if request.app[SETTINGS].actors.workspace.signing_secret is None:
        raise web.HTTPNotFound()
    try:
        found = await request.app[SESSIONS].workspace.download(
            request.match_info["fileId"], request.path, request.query, time.time()
        )
    except SignatureError as exc:
        return web.json_response({"error": f"download link refused: {exc}"}, status=403)
    if found is None:
        raise NotFound("file", "fileId")
    data, content_type, name = found
    return web.Response(
        body=data,
        content_type=content_type.split(";")[0],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
