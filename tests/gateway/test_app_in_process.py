"""The gateway's routes and WebSocket endpoints over the in-process session client.

No Ray cluster: the same host logic runs in the test process, so these tests are fast
and pin the gateway's behaviour (routes, errors, batching, fan-out) on their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pycrdt import Doc, Map, Text

from actors.client import LocalSessionClient
from actors.protocol.messages import MessageType, encode_frame, sync_step2, sync_update
from actors.settings import ActorSettings
from gateway.app import build_app
from gateway.settings import Settings
from storage.settings import StorageSettings

from ..harness import wait_until
from ..hocus_client import HocusClient

SPEC: dict[str, Any] = {"root": "root", "elements": {"root": {"type": "Card", "props": {}, "children": []}}}
ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def client(aiohttp_client: ClientFactory, tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    actors = ActorSettings(presence_timeout=5.0)
    storage = StorageSettings(data_dir=tmp_path)
    settings = Settings(actors=actors, storage=storage)
    app = build_app(settings, LocalSessionClient(actors, storage))
    yield await aiohttp_client(app)


async def _create(client: TestClient[Any, Any]) -> str:
    response = await client.post("/api/sessions", json={"name": "t", "spec": SPEC})
    assert response.status == 201, await response.text()
    session_id: str = (await response.json())["session"]["id"]
    return session_id


async def test_rest_round_trip_without_a_cluster(client: TestClient[Any, Any]) -> None:
    sid = await _create(client)
    response = await client.post(
        f"/api/sessions/{sid}/ops",
        json={"ops": [{"op": "set_prop", "key": "root", "prop": "title", "value": "hello"}]},
    )
    body = await response.json()
    assert response.status == 200
    assert body["revision"] == 1
    assert body["applied"] == 1
    state = await (await client.get(f"/api/sessions/{sid}/state")).json()
    assert state["spec"]["elements"]["root"]["props"]["title"] == "hello"
    listed = await (await client.get("/api/sessions")).json()
    assert [s["id"] for s in listed["sessions"]] == [sid]
    presence = await client.post(f"/api/sessions/{sid}/presence", json={"agentId": "bot", "name": "Bot"})
    assert "bot" in (await presence.json())["presence"]
    assert (await client.delete(f"/api/sessions/{sid}")).status == 200
    assert (await client.get(f"/api/sessions/{sid}/state")).status == 404


async def test_errors_name_the_field_and_unknown_sessions_are_404(client: TestClient[Any, Any]) -> None:
    sid = await _create(client)
    response = await client.post(f"/api/sessions/{sid}/ops", json={"ops": "nope"})
    body = await response.json()
    assert response.status == 400
    assert body["field"] == "ops"
    for path in ("/api/sessions/missing/state", "/api/sessions/bad%20id", "/api/sessions/missing/presence"):
        assert (await client.get(path)).status == 404, path
    assert (await client.delete("/api/sessions/missing")).status == 404


async def test_editors_and_agents_share_one_document(client: TestClient[Any, Any]) -> None:
    sid = await _create(client)
    url = str(client.make_url("/ws"))
    async with HocusClient(url) as a, HocusClient(url) as b:
        await a.open(sid)
        await b.open(sid)
        await asyncio.gather(
            *(a.insert(sid, f"a{i};") for i in range(5)), *(b.insert(sid, f"b{i};") for i in range(5))
        )
        await wait_until(lambda: a.text(sid) == b.text(sid) and len(a.text(sid)) == 30, lambda ok: ok)
        # One ack per update, plus one for the SyncStep2 answering the server.
        assert await a.wait_statuses(sid, 6) == [1] * 6
        await client.post(
            f"/api/sessions/{sid}/ops",
            json={"ops": [{"op": "set_prop", "key": "root", "prop": "title", "value": "agent"}]},
        )
        spec = b.docs[sid].doc.get("spec", type=Map)
        await wait_until(lambda: spec["elements"]["root"]["props"].get("title"), lambda t: t == "agent")
    # Ten browser edits and one agent change, each a committed revision.
    meta = await (await client.get(f"/api/sessions/{sid}")).json()
    assert meta["session"]["revision"] == 11


async def test_an_edit_that_completes_a_waiting_one_reaches_its_sender(client: TestClient[Any, Any]) -> None:
    # As after a host restart: A holds an edit of W's that the session lost; W's next edit
    # reaches the session first and waits for it; A's SyncStep2 supplies it. A must then
    # receive W's second edit, which its handshake could not carry.
    writer: Doc[Any] = Doc()
    edits: list[bytes] = []
    writer.observe(lambda event: edits.append(event.update))
    text = writer.get("w", type=Text)
    text += "w0;"
    text += "w1;"
    first, second = edits
    sid = await _create(client)
    url = str(client.make_url("/ws"))
    async with HocusClient(url) as a, HocusClient(url) as b:
        await a.open(sid)
        await b.open(sid)
        a.docs[sid].doc.apply_update(first)
        await b.send(encode_frame(sid, MessageType.SYNC, sync_update(second)))
        await b.wait_statuses(sid, 2)  # acknowledged (logged) while it waits
        await a.send(encode_frame(sid, MessageType.SYNC, sync_step2(first)))
        for editor in (a, b):
            await editor.wait_text(sid, "w0;w1;", field_name="w")


async def test_deleting_refuses_open_documents_only(client: TestClient[Any, Any]) -> None:
    sid, keep = await _create(client), await _create(client)
    async with HocusClient(str(client.make_url("/ws"))) as editor:
        await editor.open(sid)
        await editor.open(keep)
        await client.delete(f"/api/sessions/{sid}")
        await wait_until(lambda: editor.docs[sid].denied, lambda d: d == "session-closed")
        await editor.insert(keep, "alive")
        assert (await editor.wait_statuses(keep, 2))[-1] == 1
