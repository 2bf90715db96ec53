"""Abuse limits over the in-process session client: request rates, WebSocket admission,
SSE streams and sessions per user, each refused with the documented status and body."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from gateway.auth import mint_token
from gateway.limits.settings import LimitSettings

from ..harness import AUTH_SECRET, bearer, wait_until
from ..sse import read_events
from .local import ClientFactory, local_app, offline_actors, token_auth

SPEC: dict[str, Any] = {"root": "root", "elements": {"root": {"type": "Card", "props": {}, "children": []}}}


async def _client(
    aiohttp_client: ClientFactory, tmp_path: Path, *, offline_delay: float = 0.0, **limits: Any
) -> TestClient[Any, Any]:
    limited = replace(LimitSettings.unlimited(), **limits)
    return await aiohttp_client(
        local_app(tmp_path, offline_actors(offline_delay), auth=token_auth(), limits=limited)
    )


async def _refused(response: aiohttp.ClientResponse, status: int, setting: str) -> dict[str, Any]:
    assert response.status == status, await response.text()
    body: dict[str, Any] = await response.json()
    assert body["code"] == "limit_exceeded", body
    assert body["limit"]["setting"] == setting, body
    return body


async def test_requests_per_ip_get_429_with_retry_after(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, ip_rate=0.01, ip_burst=3)
    for _ in range(3):
        assert (await client.get("/api/sessions")).status == 200
    refused = await client.get("/api/sessions")
    body = await _refused(refused, 429, "ATELIER_RATE_IP_PER_SEC")
    assert int(refused.headers["Retry-After"]) >= 1
    assert body["retryAfter"] == int(refused.headers["Retry-After"])
    assert (await client.get("/metrics")).status == 200  # scraping is never limited
    text = await (await client.get("/metrics")).text()
    assert 'status="429"' in text


async def test_requests_per_token_count_the_jwt_subject(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, token_rate=0.01, token_burst=2)
    # Two different JWTs of one user share a bucket: the key is the subject, not the token.
    first = {"Authorization": f"Bearer {mint_token(AUTH_SECRET, 'ada', 3600)}"}
    second = {"Authorization": f"Bearer {mint_token(AUTH_SECRET, 'ada', 7200)}"}
    assert (await client.get("/api/design-engine/sessions", headers=first)).status == 200
    assert (await client.get("/api/design-engine/sessions", headers=second)).status == 200
    await _refused(
        await client.get("/api/design-engine/sessions", headers=first), 429, "ATELIER_RATE_TOKEN_PER_SEC"
    )
    assert (await client.get("/api/design-engine/sessions", headers=bearer("bob"))).status == 200
    # A token that is not a valid JWT is counted by its hash: garbage is limited too.
    junk = {"Authorization": "Bearer not-a-jwt"}
    assert (await client.get("/api/sessions", headers=junk)).status == 200
    assert (await client.get("/api/sessions", headers=junk)).status == 200
    await _refused(await client.get("/api/sessions", headers=junk), 429, "ATELIER_RATE_TOKEN_PER_SEC")
    assert (await client.get("/api/sessions")).status == 200  # no token: only the IP limit applies


async def test_websocket_upgrades_are_refused_with_429(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await _client(aiohttp_client, tmp_path, ws_per_ip=2)
    first = await client.ws_connect("/ws")
    second = await client.ws_connect("/ws")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws")
    assert refused.value.status == 429
    assert refused.value.headers is not None
    assert refused.value.headers["Retry-After"] == "1"
    await first.close()

    async def admitted() -> bool:
        try:
            ws = await client.ws_connect("/ws")
        except aiohttp.WSServerHandshakeError:
            return False
        await ws.close()
        return True

    # The slot comes back when the socket ends.
    await wait_until(admitted, bool, timeout=10)
    await second.close()


async def test_websocket_connection_rate_per_token(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    # The HTTP per-token rate on too (generous): it must not hide a socket's ?token= from the socket limits.
    client = await _client(
        aiohttp_client, tmp_path, ws_token_rate=0.01, ws_token_burst=1, token_rate=1000.0, token_burst=1000
    )
    ws = await client.ws_connect("/ws", headers=bearer("ada"))
    await ws.close()
    refused = await client.get(
        "/ws/some-doc",
        params={"token": mint_token(AUTH_SECRET, "ada", 60)},
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    await _refused(refused, 429, "ATELIER_WS_CONNECT_TOKEN_PER_SEC")
    other = await client.ws_connect("/ws", headers=bearer("bob"))
    await other.close()


async def test_sse_streams_per_user(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await _client(aiohttp_client, tmp_path, offline_delay=0.05, sse_per_user=1)
    response = await client.post("/api/programs", json={"name": "Karts"}, headers=bearer("ada"))
    program = (await response.json())["data"]["program"]["id"]
    created = await client.post(
        "/api/design-engine/sessions",
        headers=bearer("ada"),
        json={"description": "A standing desk with a motor", "programId": program},
    )
    sid = (await created.json())["data"]["session"]["id"]
    url = f"/api/design-engine/sessions/{sid}/stream"
    async with client.post(url, json={"action": "start_requirements"}, headers=bearer("ada")) as first:
        await anext(read_events(first))  # the stream is open and holds ada's one slot
        body = await _refused(await client.get(url, headers=bearer("ada")), 429, "ATELIER_SSE_MAX_PER_USER")
        assert body["limit"]["value"] == 1
        cancel = await client.post(url, json={"action": "cancel"}, headers=bearer("ada"))
        assert cancel.status == 200
        rest = [event async for event in read_events(first)]
        assert rest[-1].event == "done"

    async def rejoined() -> int:
        async with client.get(url, headers=bearer("ada")) as again:
            return again.status

    assert await wait_until(rejoined, lambda status: status == 200, timeout=10) == 200


async def test_a_refused_stream_starts_no_run(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    """Past ATELIER_SSE_MAX_PER_USER an action that would stream is refused before it starts:
    the 429 leaves the session as it was (a run started behind a refusal would go unwatched)."""
    client = await _client(aiohttp_client, tmp_path, offline_delay=0.05, sse_per_user=1)
    response = await client.post("/api/programs", json={"name": "Karts"}, headers=bearer("ada"))
    program = (await response.json())["data"]["program"]["id"]
    sids = []
    for description in ("A standing desk with a motor", "A bench vice"):
        created = await client.post(
            "/api/design-engine/sessions",
            headers=bearer("ada"),
            json={"description": description, "programId": program},
        )
        sids.append((await created.json())["data"]["session"]["id"])
    first_url, second_url = (f"/api/design-engine/sessions/{sid}/stream" for sid in sids)
    async with client.post(first_url, json={"action": "start_requirements"}, headers=bearer("ada")) as first:
        await anext(read_events(first))  # ada's one slot is held
        refused = await client.post(second_url, json={"action": "start_requirements"}, headers=bearer("ada"))
        await _refused(refused, 429, "ATELIER_SSE_MAX_PER_USER")
        second = await (
            await client.get(f"/api/design-engine/sessions/{sids[1]}", headers=bearer("ada"))
        ).json()
        assert second["data"]["session"]["stage"] == "idle", second
        # A JSON answer needs no slot: cancelling the first run is not refused.
        assert (await client.post(first_url, json={"action": "cancel"}, headers=bearer("ada"))).status == 200
        assert [event async for event in read_events(first)][-1].event == "done"
    # The slot was given back: the refused action now starts.
    async with client.post(second_url, json={"action": "start_requirements"}, headers=bearer("ada")) as again:
        assert again.status == 200
        await anext(read_events(again))


async def test_design_and_workspace_sessions_per_user(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await _client(
        aiohttp_client, tmp_path, design_sessions_per_user=2, workspace_sessions_per_user=3
    )
    program = await (await client.post("/api/programs", json={"name": "P"}, headers=bearer("ada"))).json()
    body = {"description": "A small shelf", "programId": program["data"]["program"]["id"]}
    for _ in range(2):
        assert (
            await client.post("/api/design-engine/sessions", json=body, headers=bearer("ada"))
        ).status == 201
    refused = await _refused(
        await client.post("/api/design-engine/sessions", json=body, headers=bearer("ada")),
        409,
        "ATELIER_MAX_DESIGN_SESSIONS_PER_USER",
    )
    assert refused["limit"]["value"] == 2
    assert "Retry-After" not in refused

    projects = []
    for name in ("one", "two"):
        response = await client.post(
            "/api/v1/projects", json={"name": name, "fiscalYear": "2025"}, headers=bearer("ada")
        )
        assert response.status == 201, await response.text()
        projects.append((await response.json())["project"]["id"])
    session = {"type": "T661", "title": "chat"}
    for project in (projects[0], projects[0], projects[1]):  # counted across the user's projects
        response = await client.post(
            f"/api/v1/projects/{project}/sessions", json=session, headers=bearer("ada")
        )
        assert response.status == 201, await response.text()
    await _refused(
        await client.post(f"/api/v1/projects/{projects[1]}/sessions", json=session, headers=bearer("ada")),
        409,
        "ATELIER_MAX_WORKSPACE_SESSIONS_PER_USER",
    )
    # Another user is not affected.
    other = await (
        await client.post("/api/v1/projects", json={"name": "b", "fiscalYear": "2025"}, headers=bearer("bob"))
    ).json()
    response = await client.post(
        f"/api/v1/projects/{other['project']['id']}/sessions", json=session, headers=bearer("bob")
    )
    assert response.status == 201
