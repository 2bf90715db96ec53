"""The design-engine API: owner-scoped design sessions whose AI stages stream over SSE.

Every route needs a bearer JWT; the session layer answers 404 for an unknown session and
403 for another user's. ``POST .../stream`` starts (or joins) a run that belongs to the
session, so a client that drops rejoins with ``GET .../stream`` and ``Last-Event-ID``.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from actors.core.errors import ValidationError
from actors.core.ids import valid_session_id
from actors.engine import ops
from actors.engine.answers import Answer, RunStart, StageEventsPage
from actors.engine.bodies import (
    CreateDesignSessionBody,
    EventsQuery,
    PatchDesignSessionBody,
    RejoinQuery,
    SessionsQuery,
    StageActionBody,
)
from actors.errors import NotFound, SessionNotFound

from ..auth import require_user
from ..json_body import json_answer, read_body, read_query
from ..limits.limiter import LIMITER
from ..sse import stream_stage_events
from ..state import SESSIONS, SETTINGS, SSE_STREAMS

__all__ = ["routes"]

routes = web.RouteTableDef()

_BASE = "/api/design-engine/sessions"


def _data(payload: dict[str, Any] | Answer, status: int = 200) -> web.Response:
    return json_answer({"data": payload}, status)


def _session_id(request: web.Request) -> str:
    session_id = request.match_info["id"]
    if not valid_session_id(session_id):
        raise SessionNotFound(session_id)
    return session_id


def _limit(limit: int | None, limit_max: int) -> int:
    """A page size within the server's limit (a setting, so checked here, not by the type)."""
    if limit is None:
        return min(50, limit_max)
    if limit > limit_max:
        raise ValidationError("limit", f"must be between 1 and {limit_max}")
    return limit


@routes.post(_BASE)
async def create_session(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    body = await read_body(request, CreateDesignSessionBody, request.app[SETTINGS].max_body_bytes)
    await request.app[LIMITER].check_design_sessions(request.app[SESSIONS], user)  # 409 at the limit
    session = await request.app[SESSIONS].call(ops.CreateDesign.new(user, body))
    return _data({"session": session}, status=201)


@routes.get(_BASE)
async def list_sessions(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    page = read_query(request, SessionsQuery)
    limit = _limit(page.limit, request.app[SETTINGS].actors.engine.list_limit)
    sessions = await request.app[SESSIONS].list_design_sessions(user, limit, page.offset)
    return _data({"sessions": sessions})


@routes.get(_BASE + "/{id}")
async def get_session(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    session = await request.app[SESSIONS].call(ops.GetDesign(_session_id(request), user))
    return _data({"session": session})


@routes.patch(_BASE + "/{id}")
async def patch_session(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    session_id = _session_id(request)
    body = await read_body(request, PatchDesignSessionBody, request.app[SETTINGS].max_body_bytes)
    session = await request.app[SESSIONS].call(ops.PatchDesign(session_id, user, body))
    return _data({"session": session})


@routes.post(_BASE + "/{id}/stream")
async def act(request: web.Request) -> web.StreamResponse:
    user = (await require_user(request)).user_id
    session_id = _session_id(request)
    body = await read_body(request, StageActionBody, request.app[SETTINGS].max_body_bytes)
    sessions = request.app[SESSIONS]
    release = None
    if body.may_stream():
        # An answer that may be a stream takes one of the user's stream slots first: past
        # ATELIER_SSE_MAX_PER_USER the action is refused (429) before it starts, not after.
        release = request.config_dict[LIMITER].take_stream_slot(request)
    try:
        action = await sessions.call(ops.ActDesign(session_id, user, body))
        if not isinstance(action.stream, RunStart):
            return _data(action.json if isinstance(action.json, dict) else {})
        stream = await sessions.design_events(user, session_id, action.stream.after)
        return await stream_stage_events(
            request,
            session_id,
            stream,
            follow_run=action.stream.run_id,
            heartbeat=request.app[SETTINGS].sse_heartbeat,
            streams=request.app[SSE_STREAMS],
            slot_held=release is not None,
        )
    finally:
        if release is not None:
            release()


@routes.get(_BASE + "/{id}/stream")
async def rejoin(request: web.Request) -> web.StreamResponse:
    """EventSource's way in: the events after ``Last-Event-ID``, then the live run's."""
    user = (await require_user(request)).user_id
    session_id = _session_id(request)
    after = read_query(request, RejoinQuery).after(request.headers.get("Last-Event-ID"))
    stream = await request.app[SESSIONS].design_events(user, session_id, after)
    return await stream_stage_events(
        request,
        session_id,
        stream,
        follow_run=None,
        heartbeat=request.app[SETTINGS].sse_heartbeat,
        streams=request.app[SSE_STREAMS],
    )


@routes.get(_BASE + "/{id}/events")
async def events(request: web.Request) -> web.Response:
    """The stage events after ``after``, a page at a time, as JSON: for clients that cannot
    read SSE (``GET .../stream`` streams the same events, ids included)."""
    user = (await require_user(request)).user_id
    session_id = _session_id(request)
    query = read_query(request, EventsQuery)
    # The page size past the server's limit is the session's to refuse (``EngineService.events``).
    limit = (
        query.limit if query.limit is not None else min(50, request.app[SETTINGS].actors.engine.replay_page)
    )
    found = await request.app[SESSIONS].call(ops.ListEvents(session_id, user, query.after, limit))
    return _data(StageEventsPage.of(found, query.after))


@routes.get(_BASE + "/{id}/materialize")
async def preview_materialization(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    preview = await request.app[SESSIONS].call(ops.PreviewMaterialization(_session_id(request), user))
    return _data({"preview": preview})


@routes.post(_BASE + "/{id}/materialize")
async def materialize(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    result = await request.app[SESSIONS].call(ops.Materialize(_session_id(request), user))
    return _data({"result": result})


_FILE = re.compile(r"^(parts/[A-Za-z0-9_.-]{1,128}|assembly)\.(step|stl|glb)$")


@routes.get(_BASE + "/{id}/files/{name:.+}")
async def download(request: web.Request) -> web.Response:
    """A CAD file of the owner's session, with its content type (STEP, STL, GLB)."""
    user = (await require_user(request)).user_id
    name = request.match_info["name"]
    if not _FILE.match(name) or ".." in name:
        raise ValidationError("name", "must be parts/<tempId>.step|stl|glb or assembly.step|glb")
    found = await request.app[SESSIONS].call(ops.DesignFile(_session_id(request), user, name))
    if found is None:
        raise NotFound("file", "name")
    filename = name.rsplit("/", 1)[-1]
    return web.Response(
        body=found.data,
        content_type=found.content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
