"""The gateway's routes and WebSocket endpoints over the in-process session client.

No Ray cluster: the same host logic runs in the test process, so these tests are fast
and pin the gateway's behaviour (routes, errors, batching, fan-out) on their own.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pycrdt import Doc, Map, Text

from actors.errors import SessionUnavailable
from actors.protocol.messages import (
    AuthType,
    MessageType,
    SyncType,
    encode_frame,
    sync_step1,
    sync_step2,
    sync_update,
    token_frame,
)
from actors.settings import ActorSettings
from gateway.state import CHANNELS
from gateway.ws.channel import SessionChannel

from ..harness import wait_until
from ..hocus_client import DocState, HocusClient
from .local import ClientFactory, local_app

SPEC: dict[str, Any] = {"root": "root", "elements": {"root": {"type": "Card", "props": {}, "children": []}}}


@pytest.fixture
async def client(aiohttp_client: ClientFactory, tmp_path: Path) -> TestClient[Any, Any]:
    return await aiohttp_client(local_app(tmp_path, ActorSettings(presence_timeout=5.0)))


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


async def test_a_repeated_auth_is_ignored(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """As Hocuspocus does: a document's auth is decided once per connection."""
    sid = await _create(client)
    caplog.set_level(logging.INFO)
    async with HocusClient(str(client.make_url("/ws"))) as editor:
        state = editor.docs.setdefault(sid, DocState(sid))
        await editor.send(token_frame(sid, "token"))
        await editor.send(token_frame(sid, "token"))
        await editor.send(encode_frame(sid, MessageType.SYNC, sync_step1(state.doc.get_state())))
        await asyncio.wait_for(state.got_step2.wait(), 20)
        # An edit acknowledged after the handshake: whatever a second auth set off is here by now.
        await editor.wait_statuses(sid, 1)
        await editor.insert(sid, "once")
        assert await editor.wait_statuses(sid, 2) == [1, 1]
        await editor.send(token_frame(sid, "token"))  # after auth too
        await editor.insert(sid, " more")
        assert await editor.wait_statuses(sid, 3) == [1, 1, 1]
    answers = [
        (frame.type, frame.payload[:1]) for frame in state.frames if frame.type != MessageType.SYNC_STATUS
    ]
    assert answers.count((MessageType.AUTH, bytes([AuthType.AUTHENTICATED]))) == 1, answers
    assert answers.count((MessageType.SYNC, bytes([SyncType.STEP1]))) == 1, answers
    assert answers.count((MessageType.SYNC, bytes([SyncType.STEP2]))) == 1, answers
    assert editor.text(sid) == "once more"
    troubles = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert troubles == []


@pytest.mark.parametrize("fault", ["stream-unavailable", "channel-closed-meanwhile"])
async def test_a_session_unavailable_at_attach_closes_the_socket_to_reconnect(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """A provider never re-authenticates a denied document: an unavailable session (between
    hosts, store away) closes the socket as a host restart does, and the retry then works."""
    sid = await _create(client)
    registry = client.app[CHANNELS]
    opened = registry.channel
    faults = [fault]

    async def flaky_channel(session_id: str) -> SessionChannel:
        channel = await opened(session_id)
        if faults:
            faults.pop()
            if fault == "stream-unavailable":
                raise SessionUnavailable("the session is between hosts")
            channel.close()  # its stream ended after the channel was handed out
        return channel

    monkeypatch.setattr(registry, "channel", flaky_channel)
    url = str(client.make_url("/ws"))
    async with HocusClient(url) as editor:
        state = editor.docs.setdefault(sid, DocState(sid))
        await editor.send(token_frame(sid, "token"))
        await asyncio.wait_for(editor.closed.wait(), 20)
        assert editor.close_code == 1012
        assert not state.denied
    async with HocusClient(url) as editor:  # the provider's reconnect
        await editor.open(sid)
        await editor.insert(sid, "after")
        assert (await editor.wait_statuses(sid, 2))[-1] == 1
