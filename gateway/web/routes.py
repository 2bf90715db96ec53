"""The pages people use and their assets.

- ``/signin``: a token pasted (or carried in a ``#token=`` link) kept for the tab.
- ``/sessions/{id}``: the Bridge session's live preview.
- ``/designs/collaborative/{id}``: the design engine's workspace (its ``workspaceUrl``).
- ``/projects`` and below: the workspace chat.
- ``/assets/{name}``: the bundle, content-hashed and immutable.
- ``/api/me`` (who the token is) and ``/api/v1/quota`` (runs left), which the pages need.

Pages carry no data: they are the same for everyone and load what the tab's token may
see, so an unauthorised caller gets the API's refusal shown, never the data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from aiohttp import web

from actors.core.ids import valid_session_id
from actors.engine.answers import action_table
from actors.workspace.bodies import SessionType

from ..auth import require_user
from ..state import SESSIONS
from .assets import AssetStore
from .pages import CHAT_BODY, DESIGN_BODY, PREVIEW_BODY, SIGNIN_BODY, render_page

__all__ = ["ASSETS", "routes"]

ASSETS = web.AppKey("web_assets", AssetStore)
routes = web.RouteTableDef()

_IMMUTABLE = "public, max-age=31536000, immutable"
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src * data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def _page(request: web.Request, *, title: str, entry: str, body: str, config: dict[str, Any]) -> web.Response:
    text = render_page(request.app[ASSETS], title=title, entry=entry, body=body, config=config)
    return web.Response(
        text=text,
        content_type="text/html",
        headers={
            # Revalidated every time: a new build must reach the next load.
            "Cache-Control": "no-cache",
            "Content-Security-Policy": _CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )


def _checked_id(request: web.Request, key: str) -> str:
    value = request.match_info[key]
    if not valid_session_id(value):
        raise web.HTTPNotFound(text=f"no such {key}")
    return value


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/projects")


@routes.get("/signin")
async def signin(request: web.Request) -> web.Response:
    return _page(request, title="Sign in — atelier", entry="signin", body=SIGNIN_BODY, config={})


@routes.get("/sessions/{id}")
async def preview(request: web.Request) -> web.Response:
    session_id = _checked_id(request, "id")
    return _page(
        request,
        title="Preview — atelier",
        entry="preview",
        body=PREVIEW_BODY,
        config={"sessionId": session_id},
    )


@routes.get("/designs/collaborative/{id}")
async def design(request: web.Request) -> web.Response:
    session_id = _checked_id(request, "id")
    return _page(
        request,
        title="Design workspace — atelier",
        entry="design",
        body=DESIGN_BODY,
        config={"sessionId": session_id, "actions": action_table()},
    )


def _chat(request: web.Request, project_id: str | None, session_id: str | None) -> web.Response:
    return _page(
        request,
        title="Workspace — atelier",
        entry="chat",
        body=CHAT_BODY,
        config={
            "projectId": project_id,
            "sessionId": session_id,
            "sessionTypes": [t.value for t in SessionType],
        },
    )


@routes.get("/projects")
async def projects(request: web.Request) -> web.Response:
    return _chat(request, None, None)


@routes.get("/projects/{projectId}")
async def project(request: web.Request) -> web.Response:
    return _chat(request, _checked_id(request, "projectId"), None)


@routes.get("/projects/{projectId}/sessions/{sessionId}")
async def chat(request: web.Request) -> web.Response:
    return _chat(request, _checked_id(request, "projectId"), _checked_id(request, "sessionId"))


@routes.get("/assets/{name}")
async def asset(request: web.Request) -> web.Response:
    found = request.app[ASSETS].get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound(text="no such asset")
    headers = {
        "Cache-Control": _IMMUTABLE,
        "ETag": found.etag,
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("If-None-Match") == found.etag:
        return web.Response(status=304, headers=headers)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return web.Response(
            body=found.gzipped, content_type=found.content_type, charset="utf-8", headers=headers
        )
    return web.Response(body=found.body, content_type=found.content_type, charset="utf-8", headers=headers)


@routes.get("/api/me")
async def me(request: web.Request) -> web.Response:
    """Who the bearer token is: the sign-in page's check before keeping a token."""
    principal = await require_user(request)
    return web.json_response({"user": principal.user_id})


@routes.get("/api/v1/quota")
async def quota(request: web.Request) -> web.Response:
    """The caller's runs left in the current quota period."""
    user = (await require_user(request)).user_id
    answer = await request.app[SESSIONS].workspace.quota(user, datetime.now(UTC))
    return web.json_response(msgspec.to_builtins(answer))
