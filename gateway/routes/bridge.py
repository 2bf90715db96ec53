"""The Bridge REST API: session management, state, spec ops and presence."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

import msgspec
from aiohttp import web

from actors.bridge import ops
from actors.bridge.answers import Answer
from actors.bridge.bodies import (
    VERSION_BEFORE_HEADER,
    CreateSessionBody,
    OpsBody,
    PageQuery,
    PresenceBody,
    version_label,
)
from actors.core.errors import ValidationError
from actors.core.ids import valid_session_id
from actors.errors import SessionNotFound

from ..json_body import json_answer, read_body, read_query
from ..state import BUS, SESSIONS, SETTINGS

__all__ = ["routes", "session_id_of"]

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
T = TypeVar("T")


def session_id_of(request: web.Request) -> str:
    session_id = request.match_info["id"]
    if not valid_session_id(session_id):
        raise SessionNotFound(session_id)
    return session_id


async def _bounded(request: web.Request, call: Awaitable[T]) -> T:
    """A session call bounded by the call timeout (503 past it, outcome unknown)."""
    return await asyncio.wait_for(call, request.app[SETTINGS].call_timeout)


def _ok(payload: dict[str, Any] | Answer, status: int = 200) -> web.Response:
    """``{"ok": true, ...}``: an answer's fields, or a map of them (``{"session": ...}``)."""
    fields = msgspec.to_builtins(payload)
    return json_answer({"ok": True, **fields}, status)


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    """Up as soon as it listens (the spec's answer, exactly); readiness is `/ready`'s."""
    return web.json_response({"ok": True})


@routes.get("/ready")
async def ready(request: web.Request) -> web.Response:
    """200 once the session layer's warm-up has ended well; 503 (``Retry-After``) until then."""
    warmth = request.app[SESSIONS].warmth()
    if warmth is not None and warmth.ready:
        return web.json_response({"ok": True, "ready": True, "warm": warmth.to_json()})
    body: dict[str, Any] = {"ok": False, "ready": False}
    if warmth is not None:
        body["warm"] = warmth.to_json()
    return web.json_response(body, status=503, headers={"Retry-After": "1"})


@routes.post("/api/sessions")
async def create_session(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    body = await read_body(request, CreateSessionBody, settings.max_body_bytes, required=False)
    session = await _bounded(request, request.app[SESSIONS].call(body.to_op()))
    return _ok({"session": session}, status=201)


def _page(request: web.Request, limit_max: int) -> tuple[int, int]:
    page = read_query(request, PageQuery)
    limit = limit_max if page.limit is None else page.limit
    if limit > limit_max:
        raise ValidationError("limit", f"must be at most {limit_max}")
    return limit, page.offset


@routes.get("/api/sessions")
async def list_sessions(request: web.Request) -> web.Response:
    limit, offset = _page(request, request.app[SETTINGS].list_limit)
    sessions = await _bounded(request, request.app[SESSIONS].list_sessions(limit, offset))
    return _ok({"sessions": sessions})


@routes.get("/api/sessions/{id}")
async def get_session(request: web.Request) -> web.Response:
    session = await _bounded(request, request.app[SESSIONS].get_session(session_id_of(request)))
    return _ok({"session": session})


@routes.get("/api/sessions/{id}/state")
async def get_state(request: web.Request) -> web.Response:
    return _ok(await _bounded(request, request.app[SESSIONS].call(ops.GetState(session_id_of(request)))))


@routes.post("/api/sessions/{id}/ops")
async def apply_ops(request: web.Request) -> web.Response:
    session_id = session_id_of(request)  # an unknown id is a 404 before any body error
    settings = request.app[SETTINGS]
    body = await read_body(request, OpsBody, settings.max_body_bytes)
    label = request.headers.get(VERSION_BEFORE_HEADER)
    if label is not None:
        label = version_label(label, settings.actors.versions.max_label_chars, field=VERSION_BEFORE_HEADER)
    apply = body.to_op(session_id, max_ops=settings.actors.max_ops_per_request, version_before=label)
    result = await _bounded(request, request.app[SESSIONS].call(apply))
    # The audit trail of agents' changes.
    log.info(
        "ops session=%s agent=%s applied=%d errors=%d revision=%d",
        session_id,
        body.agent_id,
        result.applied,
        len(result.errors),
        result.revision,
    )
    return _ok(result)


@routes.post("/api/sessions/{id}/presence")
async def set_presence(request: web.Request) -> web.Response:
    session_id = session_id_of(request)  # an unknown id is a 404 before any body error
    body = await read_body(request, PresenceBody, request.app[SETTINGS].max_body_bytes)
    return _ok({"presence": await _bounded(request, request.app[SESSIONS].call(body.to_op(session_id)))})


@routes.get("/api/sessions/{id}/presence")
async def get_presence(request: web.Request) -> web.Response:
    presence = await _bounded(request, request.app[SESSIONS].call(ops.GetPresence(session_id_of(request))))
    return _ok({"presence": presence})


@routes.delete("/api/sessions/{id}")
async def delete_session(request: web.Request) -> web.Response:
    session_id = session_id_of(request)
    await _bounded(request, request.app[SESSIONS].delete_session(session_id))
    await request.app[BUS].publish("session-events", f"deleted:{session_id}".encode())
    return web.json_response({"ok": True})
