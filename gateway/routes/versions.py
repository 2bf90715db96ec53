"""Bridge versions and undo: list, name, read, diff and restore versions; undo one change."""

from __future__ import annotations

from typing import TypeVar

import msgspec
from aiohttp import web

from actors.bridge import ops
from actors.bridge.bodies import AgentBody, CreateVersionBody, valid_ref
from actors.errors import NotFound

from ..json_body import read_body
from ..state import SESSIONS, SETTINGS
from .bridge import _bounded, _ok, session_id_of

__all__ = ["routes"]

routes = web.RouteTableDef()
B = TypeVar("B", bound=msgspec.Struct)

_CURRENT = "current"


def _ref(request: web.Request, key: str, what: str, field: str, *, current: bool = False) -> str:
    ref = request.match_info[key]
    if current and ref == _CURRENT:
        return ref
    if not valid_ref(ref):
        raise NotFound(what, field)
    return ref


async def _body(request: web.Request, kind: type[B]) -> B:
    return await read_body(request, kind, request.app[SETTINGS].max_body_bytes, required=False)


@routes.get("/api/sessions/{id}/versions")
async def list_versions(request: web.Request) -> web.Response:
    versions = await _bounded(request, request.app[SESSIONS].call(ops.ListVersions(session_id_of(request))))
    return _ok({"versions": versions})


@routes.post("/api/sessions/{id}/versions")
async def create_version(request: web.Request) -> web.Response:
    session_id = session_id_of(request)
    body = await _body(request, CreateVersionBody)
    create = body.to_op(session_id, max_label_chars=request.app[SETTINGS].actors.versions.max_label_chars)
    version = await _bounded(request, request.app[SESSIONS].call(create))
    return _ok({"version": version}, status=201)


@routes.get("/api/sessions/{id}/versions/{vid}/state")
async def version_state(request: web.Request) -> web.Response:
    session_id = session_id_of(request)
    version_id = _ref(request, "vid", "version", "versionId")
    return _ok(await _bounded(request, request.app[SESSIONS].call(ops.VersionState(session_id, version_id))))


@routes.get("/api/sessions/{id}/versions/{a}/diff/{b}")
async def diff_versions(request: web.Request) -> web.Response:
    session_id = session_id_of(request)
    a = _ref(request, "a", "version", "versionId", current=True)
    b = _ref(request, "b", "version", "versionId", current=True)
    return _ok(await _bounded(request, request.app[SESSIONS].call(ops.DiffVersions(session_id, a, b))))


@routes.post("/api/sessions/{id}/versions/{vid}/restore")
async def restore_version(request: web.Request) -> web.Response:
    session_id = session_id_of(request)
    version_id = _ref(request, "vid", "version", "versionId")
    agent = (await _body(request, AgentBody)).agent_id
    restore = ops.RestoreVersion(session_id, version_id, agent)
    return _ok(await _bounded(request, request.app[SESSIONS].call(restore)))


@routes.post("/api/sessions/{id}/changes/{cid}/undo")
async def undo_change(request: web.Request) -> web.Response:
    session_id = session_id_of(request)
    change_id = _ref(request, "cid", "change", "changeId")
    agent = (await _body(request, AgentBody)).agent_id
    return _ok(
        await _bounded(request, request.app[SESSIONS].call(ops.UndoChange(session_id, change_id, agent)))
    )
