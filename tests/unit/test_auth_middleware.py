"""require_user / ensure_owner through a tiny aiohttp app, and the 401/403 answers by value."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.auth import (
    VERIFIER,
    AuthError,
    AuthSettings,
    Forbidden,
    Verifier,
    auth_error_response,
    bearer_token,
    ensure_owner,
    forbidden_response,
    mint_token,
    require_user,
)

SECRET = "m" * 32
Client = TestClient[web.Request, web.Application]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except AuthError as exc:
        return auth_error_response(exc)
    except Forbidden as exc:
        return forbidden_response(exc)


async def _me(request: web.Request) -> web.Response:
    principal = await require_user(request)
    assert await require_user(request) is principal  # cached on the request
    return web.json_response({"user": principal.user_id})


async def _session(request: web.Request) -> web.Response:
    principal = await require_user(request)
    ensure_owner(principal, request.match_info["owner"], "session")
    return web.json_response({"ok": True})


@pytest.fixture
async def client(aiohttp_client: Callable[[web.Application], Awaitable[Client]]) -> Client:
    app = web.Application(middlewares=[_errors])
    app[VERIFIER] = Verifier(AuthSettings(secret=SECRET))
    app.router.add_get("/me", _me)
    app.router.add_get("/sessions/{owner}", _session)
    return await aiohttp_client(app)


async def _get(client: Client, path: str, authorization: str | None) -> tuple[int, Any, str | None]:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with client.get(path, headers=headers) as response:
        return response.status, await response.json(), response.headers.get("WWW-Authenticate")


async def test_valid_token_gives_the_subject(client: Client) -> None:
    assert await _get(client, "/me", f"Bearer {mint_token(SECRET, 'alice', 60)}") == (
        200,
        {"user": "alice"},
        None,
    )


async def test_scheme_is_case_insensitive(client: Client) -> None:
    status, body, _ = await _get(client, "/me", f"bearer {mint_token(SECRET, 'alice', 60)}")
    assert (status, body) == (200, {"user": "alice"})


@pytest.mark.parametrize(
    ("authorization", "message", "challenge"),
    [
        (None, "missing bearer token", 'Bearer realm="atelier"'),
        ("Basic dXNlcjpwYXNz", "authorization scheme must be Bearer", 'Bearer realm="atelier"'),
        (
            "Bearer",
            "malformed authorization header",
            'Bearer realm="atelier", error="invalid_request", '
            'error_description="malformed authorization header"',
        ),
        (
            "Bearer not-a-jwt",
            "malformed token",
            'Bearer realm="atelier", error="invalid_token", error_description="malformed token"',
        ),
    ],
)
async def test_unauthorized_requests(
    client: Client, authorization: str | None, message: str, challenge: str
) -> None:
    assert await _get(client, "/me", authorization) == (
        401,
        {"error": message, "code": "unauthorized"},
        challenge,
    )


async def test_expired_token(client: Client) -> None:
    token = jwt.encode({"sub": "alice", "exp": int(time.time()) - 3600}, SECRET, algorithm="HS256")
    status, body, challenge = await _get(client, "/me", f"Bearer {token}")
    assert (status, body) == (401, {"error": "token expired", "code": "unauthorized"})
    assert challenge is not None
    assert 'error="invalid_token"' in challenge


async def test_wrong_signature(client: Client) -> None:
    token = mint_token("x" * 32, "alice", 60)
    status, body, _ = await _get(client, "/me", f"Bearer {token}")
    assert (status, body) == (401, {"error": "invalid token signature", "code": "unauthorized"})


async def test_owner_gets_through(client: Client) -> None:
    status, body, _ = await _get(client, "/sessions/alice", f"Bearer {mint_token(SECRET, 'alice', 60)}")
    assert (status, body) == (200, {"ok": True})


async def test_non_owner_is_forbidden(client: Client) -> None:
    status, body, challenge = await _get(client, "/sessions/bob", f"Bearer {mint_token(SECRET, 'alice', 60)}")
    assert (status, body, challenge) == (
        403,
        {"error": "not the owner of this session", "code": "forbidden"},
        None,
    )


async def test_unauthenticated_owner_route_is_401_not_403(client: Client) -> None:
    status, _, _ = await _get(client, "/sessions/bob", None)
    assert status == 401


# -- pure parts by value ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc.def.ghi", "abc.def.ghi"), ("  bearer   abc  ", "abc"), ("BEARER x", "x")],
)
def test_bearer_token(header: str, token: str) -> None:
    assert bearer_token(header) == token


@pytest.mark.parametrize("header", [None, "", "   ", "Token abc", "Bearer a b"])
def test_bearer_token_refused(header: str | None) -> None:
    with pytest.raises(AuthError) as caught:
        bearer_token(header)
    assert caught.value.status == 401


def test_ensure_owner_without_owner_is_forbidden() -> None:
    principal = Verifier(AuthSettings(secret=SECRET)).verify(mint_token(SECRET, "alice", 60))
    ensure_owner(principal, "alice", "project")
    with pytest.raises(Forbidden, match="not the owner of this project"):
        ensure_owner(principal, None, "project")


def test_unavailable_keys_answer_503_without_challenge() -> None:
    exc = AuthError("identity provider keys unavailable; retry", status=503, code="auth_unavailable")
    response = auth_error_response(exc)
    assert response.status == 503
    assert "WWW-Authenticate" not in response.headers
    assert (
        response.text == '{"error": "identity provider keys unavailable; retry", "code": "auth_unavailable"}'
    )
