"""Programs and designs: the PLM records design sessions belong to (bearer JWT required)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors.engine.plm_bodies import AddMemberBody, CreateDesignBody, CreateProgramBody, ItemsQuery

from ..auth import require_user
from ..json_body import json_answer, read_body, read_query
from ..state import SESSIONS, SETTINGS

__all__ = ["routes"]

routes = web.RouteTableDef()


def _data(payload: dict[str, Any], status: int = 200) -> web.Response:
    return json_answer({"data": payload}, status)


@routes.post("/api/programs")
async def create_program(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    body = await read_body(request, CreateProgramBody, request.app[SETTINGS].max_body_bytes)
    return _data({"program": await request.app[SESSIONS].create_program(user, body)}, status=201)


@routes.get("/api/programs")
async def list_programs(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    return _data({"programs": await request.app[SESSIONS].list_programs(user)})


@routes.get("/api/programs/{id}")
async def get_program(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    return _data({"program": await request.app[SESSIONS].get_program(user, request.match_info["id"])})


@routes.post("/api/programs/{id}/members")
async def add_member(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    body = await read_body(request, AddMemberBody, request.app[SETTINGS].max_body_bytes)
    member = await request.app[SESSIONS].add_program_member(user, request.match_info["id"], body)
    return _data({"member": member}, status=201)


@routes.post("/api/programs/{id}/designs")
async def create_design(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    body = await read_body(request, CreateDesignBody, request.app[SETTINGS].max_body_bytes)
    design = await request.app[SESSIONS].create_design(user, request.match_info["id"], body)
    return _data({"design": design}, status=201)


@routes.get("/api/programs/{id}/designs")
async def list_designs(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    return _data({"designs": await request.app[SESSIONS].list_designs(user, request.match_info["id"])})


@routes.get("/api/designs/{id}")
async def get_design(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    return _data({"design": await request.app[SESSIONS].get_design(user, request.match_info["id"])})


@routes.get("/api/designs/{id}/bom")
async def design_bom(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    return _data({"bom": await request.app[SESSIONS].design_bom(user, request.match_info["id"])})


@routes.get("/api/items")
async def search_items(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    # A NUL in the query string is refused before any route (``http_errors``).
    query = read_query(request, ItemsQuery)
    return _data({"items": await request.app[SESSIONS].search_items(user, query.query, query.limit)})


@routes.get("/api/items/{id}")
async def get_item(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    return _data({"item": await request.app[SESSIONS].get_item(user, request.match_info["id"])})


@routes.get("/api/ecos/{id}")
async def get_eco(request: web.Request) -> web.Response:
    user = (await require_user(request)).user_id
    return _data({"eco": await request.app[SESSIONS].get_eco(user, request.match_info["id"])})
