"""/ws end to end with a raw Hocuspocus client: sync, acks, multiplexing, refusals."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from pycrdt import Map

from actors.core.awareness import agent_client_id
from actors.protocol.lib0 import Decoder, write_var_string
from actors.protocol.messages import MessageType, encode_frame, sync_update
from gateway.ws.auth import mint_token

from ..harness import Gateway, MakeGateway, wait_until
from ..hocus_client import HocusClient, awareness_frame_for

pytestmark = pytest.mark.integration

SPEC: dict[str, Any] = {"root": "root", "elements": {"root": {"type": "Card", "props": {}, "children": []}}}


def _decode_awareness(update: bytes) -> dict[int, Any]:
    import orjson

    decoder = Decoder(update)
    states = {}
    for _ in range(decoder.read_var_uint()):
        client, _clock = decoder.read_var_uint(), decoder.read_var_uint()
        states[client] = orjson.loads(decoder.read_var_string())
    return states


async def test_two_clients_converge_and_acks_follow_commits(gateway: Gateway) -> None:
    sid = await gateway.create(spec=SPEC)
    url = f"{gateway.ws_url}/ws"
    async with HocusClient(url) as a, HocusClient(url) as b:
        state_a = await a.open(sid)
        await b.open(sid)
        assert state_a.scope == "read-write"
        await asyncio.gather(
            *(a.insert(sid, f"a{i};") for i in range(10)), *(b.insert(sid, f"b{i};") for i in range(10))
        )
        await wait_until(lambda: a.text(sid) == b.text(sid) and len(a.text(sid)) == 60, lambda ok: ok)
        # One SyncStatus(1) per update, plus one for the SyncStep2 answering the server.
        assert await a.wait_statuses(sid, 11) == [1] * 11
        assert await b.wait_statuses(sid, 11) == [1] * 11
        # The browser edits count as revisions and are durable: visible over REST.
        _, meta = await gateway.request("GET", f"/api/sessions/{sid}")
        assert meta["session"]["revision"] == 20
        loaded = await gateway.load(sid)
        assert loaded is not None
        assert len(loaded.updates) >= 21


async def test_rest_ops_reach_browsers_and_browser_edits_reach_rest(gateway: Gateway) -> None:
    sid = await gateway.create(spec=SPEC)
    async with HocusClient(f"{gateway.ws_url}/ws") as client:
        state = await client.open(sid)
        spec = state.doc.get("spec", type=Map)
        assert spec["root"] == "root"
        status, _body = await gateway.request(
            "POST",
            f"/api/sessions/{sid}/ops",
            json={"ops": [{"op": "set_prop", "key": "root", "prop": "title", "value": "from agent"}]},
        )
        assert status == 200

        async def title() -> Any:
            return spec["elements"]["root"]["props"].get("title")

        await wait_until(title, lambda t: t == "from agent")
        # And the other way: a browser edit shows up in GET state at once.
        updates: list[bytes] = []
        sub = state.doc.observe(lambda e: updates.append(e.update))
        spec["elements"]["root"]["props"]["title"] = "from browser"
        state.doc.unobserve(sub)
        await client.send(encode_frame(sid, MessageType.SYNC, sync_update(updates[0])))
        await client.wait_statuses(sid, 2)
        _, got = await gateway.request("GET", f"/api/sessions/{sid}/state")
        assert got["spec"]["elements"]["root"]["props"]["title"] == "from browser"


async def test_one_socket_multiplexes_documents_and_refuses_unknown_ones(gateway: Gateway) -> None:
    one, two = await gateway.create(), await gateway.create()
    async with HocusClient(f"{gateway.ws_url}/ws") as client:
        await client.open(one)
        await client.open(two)
        missing = await client.open("0b7e5c1e-0000-4000-8000-00000000dead", wait=False)
        await asyncio.wait_for(missing.authenticated.wait(), 20)
        assert missing.denied == "session-not-found"
        await client.insert(one, "first")
        await client.insert(two, "second")
        await client.wait_statuses(one, 2)
        await client.wait_statuses(two, 2)
    async with HocusClient(f"{gateway.ws_url}/ws") as fresh:
        await fresh.open(one)
        await fresh.open(two)
        await fresh.wait_text(one, "first")
        await fresh.wait_text(two, "second")


async def test_session_awareness_addresses_are_routed_by_name(gateway: Gateway) -> None:
    sid = await gateway.create()
    address = f"{sid}\0client-session-1"
    async with HocusClient(f"{gateway.ws_url}/ws") as client:
        state = await client.open(address)
        assert state.scope == "read-write"
        await client.insert(address, "x")
        assert await client.wait_statuses(address, 2) == [1, 1]
    async with HocusClient(f"{gateway.ws_url}/ws") as other:
        await other.open(sid)
        await other.wait_text(sid, "x")


async def test_awareness_echo_query_and_rest_presence(gateway: Gateway) -> None:
    sid = await gateway.create()
    url = f"{gateway.ws_url}/ws"
    async with HocusClient(url) as a, HocusClient(url) as b:
        await a.open(sid)
        await b.open(sid)
        await a.send(awareness_frame_for(sid, 1234, 1, '{"agentId":"alice","name":"Alicé"}'))
        for client in (a, b):  # echoed to everyone, the sender included
            await wait_until(
                lambda c=client: c.docs[sid].awareness,
                lambda got: bool(got) and 1234 in _decode_awareness(got[-1]),
            )
        assert _decode_awareness(b.docs[sid].awareness[-1])[1234]["name"] == "Alicé"
        # Browser awareness is visible over REST, keyed by its agentId.
        _, presence = await gateway.request("GET", f"/api/sessions/{sid}/presence")
        assert presence["presence"]["alice"]["name"] == "Alicé"
        # REST presence reaches browsers as awareness.
        await gateway.request(
            "POST", f"/api/sessions/{sid}/presence", json={"agentId": "claude", "status": "working"}
        )
        await wait_until(
            lambda: b.docs[sid].awareness, lambda got: agent_client_id("claude") in _decode_awareness(got[-1])
        )
        # QueryAwareness answers with every live state.
        count = len(a.docs[sid].awareness)
        await a.send(encode_frame(sid, MessageType.QUERY_AWARENESS))
        await wait_until(lambda: a.docs[sid].awareness, lambda got: len(got) > count)
        assert set(_decode_awareness(a.docs[sid].awareness[-1])) == {1234, agent_client_id("claude")}
    # When a's socket closes, its state is removed for everyone.
    async with HocusClient(url) as c:
        await c.open(sid)
        _, presence = await gateway.request("GET", f"/api/sessions/{sid}/presence")
        assert "alice" not in presence["presence"]


async def test_stateless_reaches_the_other_connections_only(gateway: Gateway) -> None:
    sid = await gateway.create()
    url = f"{gateway.ws_url}/ws"
    async with HocusClient(url) as a, HocusClient(url) as b:
        await a.open(sid)
        await b.open(sid)
        await a.send(encode_frame(sid, MessageType.STATELESS, write_var_string('{"hello":1}')))
        await wait_until(lambda: b.docs[sid].stateless, lambda got: got == ['{"hello":1}'])
        # A round trip of a's own after the stateless message: any echo would come first.
        await a.insert(sid, "x")
        await a.wait_statuses(sid, 2)
        assert a.docs[sid].stateless == []


async def test_ping_pong(gateway: Gateway) -> None:
    async with HocusClient(f"{gateway.ws_url}/ws") as client:
        await client.send(b"\x09")
        await wait_until(lambda: client.pongs, lambda n: n == 1)


async def test_malformed_frames_affect_only_their_connection(gateway: Gateway) -> None:
    sid = await gateway.create()
    url = f"{gateway.ws_url}/ws"
    async with HocusClient(url) as good:
        await good.open(sid)
        # A truncated update is refused for that document; the socket stays up.
        async with HocusClient(url) as sloppy:
            await sloppy.open(sid)
            await sloppy.send(encode_frame(sid, MessageType.SYNC, b"\x02\x10\x01\x01"))
            await sloppy.send(encode_frame(sid, MessageType.SYNC, sync_update(b"\x05\x00garbage")))
            assert await sloppy.wait_statuses(sid, 3) == [1, 0, 0]
            await sloppy.insert(sid, "still-editing ")
            await sloppy.wait_statuses(sid, 4)
        for bad, code in [
            (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff", 1002),  # header varint too long
            (b"\x05ab", 1002),  # truncated address
            (encode_frame(sid, 63, b""), 1002),  # unknown message type
        ]:
            async with HocusClient(url) as broken:
                await broken.open(sid)
                await broken.send(bad)
                await asyncio.wait_for(broken.closed.wait(), 20)
                assert broken.close_code == code
        async with HocusClient(url) as texter:
            assert texter.ws is not None
            await texter.ws.send_str("hello")
            await asyncio.wait_for(texter.closed.wait(), 20)
            assert texter.close_code == 1003
        # The well-behaved client never noticed.
        await good.insert(sid, "ok")
        await good.wait_text(sid, "still-editing ok")


async def test_limits_on_documents_and_frames_before_auth(make_gateway: MakeGateway) -> None:
    gw = await make_gateway()
    gw.settings = gw.settings  # limits come from the gateway settings below
    sid = await gw.create()
    docs = [await gw.create() for _ in range(2)]
    async with HocusClient(f"{gw.ws_url}/ws") as client:
        # Frames sent before the Auth message are queued, up to the limit.
        limit = gw.settings.ws_max_pending_frames
        for _ in range(limit + 1):
            await client.send(encode_frame(sid, MessageType.QUERY_AWARENESS))
        state = client.docs.setdefault(
            sid, __import__("tests.hocus_client", fromlist=["DocState"]).DocState(sid)
        )
        await asyncio.wait_for(state.authenticated.wait(), 20)
        assert state.denied == "too-many-frames-before-auth"
        for name in docs:  # the socket still works for other documents
            assert (await client.open(name)).scope == "read-write"


async def test_readonly_tokens_are_refused_edits(ray_cluster: None, tmp_path: Any) -> None:
    from dataclasses import replace

    from ..harness import gateway_settings

    settings = replace(
        gateway_settings(database_url=None, data_dir=tmp_path), ws_secret="s3cret", ws_max_documents=3
    )
    gw = await Gateway(settings).start()
    try:
        sid = await gw.create()
        async with HocusClient(f"{gw.ws_url}/ws") as writer, HocusClient(f"{gw.ws_url}/ws") as reader:
            assert (await writer.open(sid, mint_token("s3cret", "read-write", sid))).scope == "read-write"
            state = await reader.open(sid, mint_token("s3cret", "readonly"))
            assert state.scope == "readonly"
            await writer.insert(sid, "base")
            await reader.wait_text(sid, "base")
            await reader.insert(sid, "-sneaky")
            statuses = await reader.wait_statuses(sid, 2)
            assert statuses == [1, 0]  # its no-op SyncStep2 was fine; the edit was not
            _, body = await gw.request("GET", f"/api/sessions/{sid}")
            assert body["session"]["revision"] == 1
            bad = await reader.open(await gw.create(), "readonly:*:forged", wait=False)
            await asyncio.wait_for(bad.authenticated.wait(), 20)
            assert bad.denied == "invalid-token"
            # Max documents per socket (3): the fourth is refused, the socket stays.
            extra = [await gw.create() for _ in range(3)]
            opened = [await reader.open(name, mint_token("s3cret", "readonly"), wait=False) for name in extra]
            for doc in opened:
                await asyncio.wait_for(doc.authenticated.wait(), 20)
            assert [doc.denied for doc in opened].count("too-many-documents") >= 1
    finally:
        await gw.stop()


async def test_acked_edit_survives_sigkill(make_gateway: MakeGateway) -> None:
    gw = await make_gateway()
    sid = await gw.create()
    async with HocusClient(f"{gw.ws_url}/ws") as client:
        await client.open(sid)
        await client.insert(sid, "durable")
        await client.wait_statuses(sid, 2)
        pid = await gw.host_pid(sid)
        os.kill(pid, signal.SIGKILL)
        # The socket is told to go away and reconnect.
        await asyncio.wait_for(client.closed.wait(), 30)
        assert client.close_code == 1012
    _, _state = await wait_until(
        lambda: gw.request("GET", f"/api/sessions/{sid}/state"), lambda r: r[0] == 200, timeout=60
    )
    async with HocusClient(f"{gw.ws_url}/ws") as again:
        await again.open(sid)
        assert again.text(sid) == "durable"


async def test_deleting_a_session_refuses_its_open_documents(gateway: Gateway) -> None:
    sid = await gateway.create()
    keep = await gateway.create()
    async with HocusClient(f"{gateway.ws_url}/ws") as client:
        await client.open(sid)
        await client.open(keep)
        await gateway.request("DELETE", f"/api/sessions/{sid}")
        await wait_until(lambda: client.docs[sid].denied, lambda d: d == "session-closed")
        await client.insert(keep, "alive")
        await client.wait_statuses(keep, 2)


async def test_oversize_frames_close_their_connection(ray_cluster: None, tmp_path: Any) -> None:
    from dataclasses import replace

    from ..harness import gateway_settings

    settings = replace(gateway_settings(database_url=None, data_dir=tmp_path), ws_max_frame_bytes=65536)
    gw = await Gateway(settings).start()
    try:
        sid = await gw.create()
        async with HocusClient(f"{gw.ws_url}/ws") as good, HocusClient(f"{gw.ws_url}/ws") as big:
            await good.open(sid)
            await big.open(sid)
            await big.send(encode_frame(sid, MessageType.SYNC, sync_update(b"\x00" * 70000)))
            await asyncio.wait_for(big.closed.wait(), 20)
            assert big.close_code == 1009
            await good.insert(sid, "fine")
            await good.wait_statuses(sid, 2)
    finally:
        await gw.stop()


async def test_idle_sockets_are_closed(ray_cluster: None, tmp_path: Any) -> None:
    from dataclasses import replace

    from ..harness import gateway_settings

    settings = replace(gateway_settings(database_url=None, data_dir=tmp_path), ws_idle_timeout=0.5)
    gw = await Gateway(settings).start()
    try:
        async with HocusClient(f"{gw.ws_url}/ws") as client:
            await asyncio.wait_for(client.closed.wait(), 20)
            assert client.close_code == 4408
    finally:
        await gw.stop()


async def test_slow_consumer_is_disconnected(ray_cluster: None, tmp_path: Any) -> None:
    from dataclasses import replace

    from ..harness import gateway_settings

    base = gateway_settings(database_url=None, data_dir=tmp_path)
    # A peer that does not complete the close within the close timeout is aborted (1006, as
    # test_ws_abort_in_process checks); this one reads as soon as the gateway has closed it,
    # and the timeout leaves room for a loaded machine.
    settings = replace(
        base, ws_outbound_queue_bytes=1 << 20, limits=replace(base.limits, ws_close_timeout=60.0)
    )
    gw = await Gateway(settings).start()
    try:
        sid = await gw.create()
        async with aiohttp.ClientSession() as http:
            # A raw socket that authenticates and syncs, then stops reading entirely.
            slow = await http.ws_connect(f"{gw.ws_url}/ws", max_msg_size=0)
            from actors.protocol.messages import sync_step1, token_frame

            await slow.send_bytes(token_frame(sid, "t"))
            await slow.send_bytes(encode_frame(sid, MessageType.SYNC, sync_step1(b"\x00")))
            async with HocusClient(f"{gw.ws_url}/ws") as writer:
                await writer.open(sid)
                payload = "x" * 200_000
                for _ in range(60):
                    await writer.insert(sid, payload)

                async def slow_closes() -> float:
                    async with http.get(f"{gw.url}/metrics") as response:
                        text = await response.text()
                    found = re.search(r"^atelier_ws_slow_consumer_closes_total (\S+)$", text, re.M)
                    return float(found.group(1)) if found else 0.0

                await wait_until(slow_closes, lambda closes: closes == 1, timeout=120)
                # Reading now drains what was sent before the close, then the close itself.
                async for msg in slow:
                    if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                        break
                assert slow.close_code == 1013
                await writer.wait_statuses(sid, 61, timeout=60)
                # The writer kept its session.
                await writer.insert(sid, "!")
                await writer.wait_statuses(sid, 62)
    finally:
        await gw.stop()


async def test_y_websocket_endpoint_with_pycrdt(gateway: Gateway) -> None:
    from pycrdt import (
        Doc,
        Text,
        create_sync_message,
        create_update_message,
        handle_sync_message,
    )

    sid = await gateway.create()
    async with HocusClient(f"{gateway.ws_url}/ws") as browser:
        await browser.open(sid)
        await browser.insert(sid, "from hocuspocus;")
        await browser.wait_statuses(sid, 2)
        doc: Doc[Any] = Doc()
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{gateway.ws_url}/ws/{sid}")
            await ws.send_bytes(create_sync_message(doc))

            async def pump(until: Callable[[], bool]) -> None:
                while not until():
                    msg = await asyncio.wait_for(ws.receive(), 20)
                    assert msg.type == aiohttp.WSMsgType.BINARY
                    if msg.data[0] == 0:
                        reply = handle_sync_message(msg.data[1:], doc)
                        if reply is not None:
                            await ws.send_bytes(reply)

            text = doc.get("t", type=Text)
            await pump(lambda: str(text) == "from hocuspocus;")
            updates: list[bytes] = []
            doc.observe(lambda e: updates.append(e.update))
            text += "from pycrdt"
            await ws.send_bytes(create_update_message(updates[-1]))
            await browser.wait_text(sid, "from hocuspocus;from pycrdt")
            await ws.close()
        # Unknown session on the plain endpoint: permission denied, then closed.
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{gateway.ws_url}/ws/0b7e5c1e-0000-4000-8000-00000000dead")
            msg = await asyncio.wait_for(ws.receive(), 20)
            assert msg.type == aiohttp.WSMsgType.BINARY
            assert msg.data[:2] == b"\x02\x00"
            msg = await asyncio.wait_for(ws.receive(), 20)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
