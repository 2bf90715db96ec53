"""The Bridge REST API: session management, state, spec ops and presence."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from aiohttp import web

from actors.bridge.presence import parse_presence
from actors.bridge.spec_ops import validate_ops_request, validate_spec
from actors.bridge.theme import DEFAULT_THEME, parse_theme
from actors.bridge.versions import VERSION_BEFORE_HEADER, check_label
from actors.core.errors import ValidationError
from actors.core.ids import valid_session_id
from actors.core.values import MAX_SAFE_INTEGER
from actors.errors import SessionNotFound

from ..json_body import read_json
from ..state import BUS, SESSIONS, SETTINGS

__all__ = ["routes", "session_id_of"]

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
T = TypeVar("T")

_MAX_NAME = 200
_MAX_DESCRIPTION = 5000


def session_id_of(request: web.Request) -> str:
    session_id = request.match_info["id"]
    if not valid_session_id(session_id):
        raise SessionNotFound(session_id)
    return session_id


def _optional_text(body: dict[str, Any], key: str, default: str, limit: int) -> str:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValidationError(key, "must be a string")
    if len(value) > limit:
        raise ValidationError(key, f"must be at most {limit} characters")
    if "\x00" in value:  # Postgres TEXT refuses NUL (a 503 from the store otherwise)
        raise ValidationError(key, "must not contain NUL characters")
    return value


async def _bounded(request: web.Request, call: Awaitable[T]) -> T:
    """A session call bounded by the call timeout (503 past it, outcome unknown)."""
    return await asyncio.wait_for(call, request.app[SETTINGS].call_timeout)


def _ok(payload: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response({"ok": True, **payload}, status=status)


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
    body = await read_json(request, settings.max_body_bytes, required=False)
    if not isinstance(body, dict):
        raise ValidationError("body", "must be a JSON object")
    name = _optional_text(body, "name", "Untitled", _MAX_NAME)
    description = _optional_text(body, "description", "", _MAX_DESCRIPTION)
    spec = validate_spec(body["spec"]) if body.get("spec") is not None else None
    theme = parse_theme(body["theme"], DEFAULT_THEME) if body.get("theme") is not None else DEFAULT_THEME
    session = await _bounded(
        request,
        request.app[SESSIONS].create_session(name, description, spec or {"root": "", "elements": {}}, theme),
    )
    return _ok({"session": session}, status=201)


def _page(request: web.Request, limit_max: int) -> tuple[int, int]:
    def number(key: str, default: int) -> int:
        raw = request.query.get(key)
        if raw is None:
            return default
        # ASCII digits only ("²" is a digit to str.isdigit, not to int), and at most 2**53-1:
        # a bigger number cannot cross the store link.
        if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_SAFE_INTEGER:
            raise ValidationError(key, f"must be a non-negative integer (at most {MAX_SAFE_INTEGER})")
        return int(raw)

    limit = number("limit", limit_max)
    if limit > limit_max:
        raise ValidationError("limit", f"must be at most {limit_max}")
    return limit, number("offset", 0)


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
    state = await _bounded(request, request.app[SESSIONS].state(session_id_of(request)))
    return _ok(state)


@routes.post("/api/sessions/{id}/ops")
async def apply_ops(request: web.Request) -> web.Response:
    session_id = session_id_of(request)  # an unknown id is a 404 before any body error
    settings = request.app[SETTINGS]
    body = await read_json(request, settings.max_body_bytes)
    ops, agent_id = validate_ops_request(body, max_ops=settings.actors.max_ops_per_request)
    expected = _expected_revision(body)
    label = request.headers.get(VERSION_BEFORE_HEADER)
    if label is not None:
        label = check_label(label, settings.actors.versions.max_label_chars, field=VERSION_BEFORE_HEADER)
    result = await _bounded(
        request,
        request.app[SESSIONS].apply_ops(
            session_id, ops, agent_id=agent_id, expected_revision=expected, version_before=label
        ),
    )
    # The audit trail of agents' changes.
    log.info(
        "ops session=%s agent=%s applied=%d errors=%d revision=%d",
        session_id,
        agent_id,
        result["applied"],
        len(result["errors"]),
        result["revision"],
    )
    return _ok(result)


def _expected_revision(body: object) -> int | None:
    value = body.get("expectedRevision") if isinstance(body, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError("expectedRevision", "must be a non-negative integer")
    return value


@routes.post("/api/sessions/{id}/presence")
async def set_presence(request: web.Request) -> web.Response:
    session_id = session_id_of(request)  # an unknown id is a 404 before any body error
    body = await read_json(request, request.app[SETTINGS].max_body_bytes)
    agent_id, name, cursor, status = parse_presence(body)
    presence = await _bounded(
        request, request.app[SESSIONS].set_presence(session_id, agent_id, name, cursor, status)
    )
    return _ok({"presence": presence})


@routes.get("/api/sessions/{id}/presence")
async def get_presence(request: web.Request) -> web.Response:
    presence = await _bounded(request, request.app[SESSIONS].get_presence(session_id_of(request)))
    return _ok({"presence": presence})


@routes.delete("/api/sessions/{id}")
async def delete_session(request: web.Request) -> web.Response:
    session_id = session_id_of(request)
    await _bounded(request, request.app[SESSIONS].delete_session(session_id))
    await request.app[BUS].publish("session-events", f"deleted:{session_id}".encode())
    return web.json_response({"ok": True})
