"""The unmodified @hocuspocus/provider (npm) against atelier's /ws."""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gateway.ws.auth import mint_token

from ..harness import Gateway, gateway_settings, wait_until
from .peer import NodePeer

pytestmark = [pytest.mark.interop, pytest.mark.integration]

SPEC: dict[str, Any] = {"root": "root", "elements": {"root": {"type": "Card", "props": {}, "children": []}}}


def _not_pending(state: dict[str, Any]) -> bool:
    return bool(state["synced"]) and not state["hasUnsynced"]


async def test_concurrent_providers_converge(gateway: Gateway, node: NodePeer) -> None:
    sid = await gateway.create()
    url = f"{gateway.ws_url}/ws"
    peers = [f"p{i}" for i in range(4)]
    for peer in peers:
        await node.connect(peer, url, sid)
    for peer in peers:
        assert (await node.wait_event(peer, "synced"))["state"] is True
        assert (await node.wait_event(peer, "authenticated"))["scope"] == "read-write"
    await asyncio.gather(
        *(
            node.call("insertText", peer=peer, text=f"[{peer}:{n}]", index=0)
            for n in range(15)
            for peer in peers
        )
    )
    for peer in peers:
        await node.wait_state(peer, _not_pending)
    texts = {await node.text(peer) for peer in peers}
    assert len(texts) == 1
    text = texts.pop()
    assert len(text) == sum(len(f"[{p}:{n}]") for p in peers for n in range(15))
    # Acked edits are durable and visible to a brand-new provider.
    await node.connect("late", url, sid)
    await node.wait_event("late", "synced")
    await node.wait_text("late", text)
    _, meta = await gateway.request("GET", f"/api/sessions/{sid}")
    assert meta["session"]["revision"] == 60


async def test_one_socket_multiplexes_two_documents(gateway: Gateway, node: NodePeer) -> None:
    first, second = await gateway.create(), await gateway.create()
    url = f"{gateway.ws_url}/ws"
    await node.connect("a", url, first, socket="shared")
    await node.connect("b", url, second, socket="shared")
    await node.wait_event("a", "synced")
    await node.wait_event("b", "synced")
    await node.call("insertText", peer="a", text="one")
    await node.call("insertText", peer="b", text="two")
    await node.wait_state("a", _not_pending)
    await node.wait_state("b", _not_pending)
    await node.connect("check1", url, first)
    await node.connect("check2", url, second)
    await node.wait_text("check1", "one")
    await node.wait_text("check2", "two")


async def test_unknown_session_fails_authentication_only_for_it(gateway: Gateway, node: NodePeer) -> None:
    sid = await gateway.create()
    url = f"{gateway.ws_url}/ws"
    await node.connect("good", url, sid, socket="s")
    await node.connect("bad", url, "0b7e5c1e-0000-4000-8000-00000000dead", socket="s")
    failed = await node.wait_event("bad", "authenticationFailed")
    assert failed["reason"] == "session-not-found"
    await node.wait_event("good", "synced")
    await node.call("insertText", peer="good", text="fine")
    await node.wait_state("good", _not_pending)


async def test_rest_ops_and_provider_edits_meet(gateway: Gateway, node: NodePeer) -> None:
    sid = await gateway.create(spec=SPEC)
    await node.connect("editor", f"{gateway.ws_url}/ws", sid)
    await node.wait_event("editor", "synced")
    status, _body = await gateway.request(
        "POST",
        f"/api/sessions/{sid}/ops",
        json={
            "ops": [{"op": "set_prop", "key": "root", "prop": "title", "value": "agent"}],
            "agentId": "claude",
        },
    )
    assert status == 200

    async def spec() -> Any:
        return (await node.call("docJson", peer="editor", maps=["spec"]))["json"]["spec"]

    await wait_until(spec, lambda s: s["elements"]["root"]["props"].get("title") == "agent")
    await node.call("setElementProp", peer="editor", key="root", prop="title", value="browser")
    await node.wait_state("editor", _not_pending)
    _, state = await gateway.request("GET", f"/api/sessions/{sid}/state")
    assert state["spec"]["elements"]["root"]["props"]["title"] == "browser"


async def test_awareness_and_rest_presence(gateway: Gateway, node: NodePeer) -> None:
    sid = await gateway.create()
    url = f"{gateway.ws_url}/ws"
    await node.connect("a", url, sid)
    await node.connect("b", url, sid)
    await node.wait_event("a", "synced")
    await node.wait_event("b", "synced")
    await node.call("setAwareness", peer="a", state={"agentId": "ada", "status": "editing", "name": "Ada"})

    async def states_of(peer: str) -> dict[str, Any]:
        result: dict[str, Any] = (await node.call("awarenessStates", peer=peer))["states"]
        return result

    await wait_until(lambda: states_of("b"), lambda s: any(v.get("agentId") == "ada" for v in s.values()))
    _, presence = await gateway.request("GET", f"/api/sessions/{sid}/presence")
    assert presence["presence"]["ada"]["status"] == "editing"
    await gateway.request(
        "POST",
        f"/api/sessions/{sid}/presence",
        json={"agentId": "claude", "status": "working", "name": "Claude"},
    )
    await wait_until(lambda: states_of("a"), lambda s: any(v.get("agentId") == "claude" for v in s.values()))


async def test_stateless_messages(gateway: Gateway, node: NodePeer) -> None:
    sid = await gateway.create()
    url = f"{gateway.ws_url}/ws"
    await node.connect("a", url, sid)
    await node.connect("b", url, sid)
    await node.wait_event("a", "synced")
    await node.wait_event("b", "synced")
    await node.call("sendStateless", peer="a", payload='{"cursor":3}')
    got = await node.wait_event("b", "stateless")
    assert got["payload"] == '{"cursor":3}'


async def test_readonly_token_edits_are_refused(ray_cluster: None, tmp_path: Path, node: NodePeer) -> None:
    settings = replace(gateway_settings(database_url=None, data_dir=tmp_path), ws_secret="k")
    gw = await Gateway(settings).start()
    try:
        sid = await gw.create()
        url = f"{gw.ws_url}/ws"
        await node.connect("writer", url, sid, token=mint_token("k", "read-write", sid))
        await node.connect("reader", url, sid, token=mint_token("k", "readonly", sid))
        assert (await node.wait_event("reader", "authenticated"))["scope"] == "readonly"
        await node.wait_event("reader", "synced")
        await node.call("insertText", peer="writer", text="real")
        await node.wait_state("writer", _not_pending)
        await node.wait_text("reader", "real")
        await node.call("insertText", peer="reader", text="-forged")
        # Refused with SyncStatus(0): the provider keeps counting it as unsynced.
        await node.wait_state("reader", lambda s: s["unsynced"] == 1)
        await node.call("insertText", peer="writer", text="+more")
        await node.wait_state("writer", _not_pending)
        # No other peer and no store ever sees the forged edit.
        await node.connect("fresh", url, sid, token=mint_token("k", "readonly", sid))
        await node.wait_event("fresh", "synced")
        assert await node.text("fresh") == "real+more"
        # Only the reader's own copy has it.
        await wait_until(lambda: node.text("reader"), lambda t: "-forged" in t and "+more" in t)
        _, meta = await gw.request("GET", f"/api/sessions/{sid}")
        assert meta["session"]["revision"] == 2
        assert (await node.state("reader"))["hasUnsynced"] is True
        await node.connect("nobody", url, sid, token="read-write:*:not-a-signature")
        assert (await node.wait_event("nobody", "authenticationFailed"))["reason"] == "invalid-token"
    finally:
        await gw.stop()


async def test_reconnect_after_server_restart_resyncs_without_duplicates(
    ray_cluster: None, tmp_path: Path, node: NodePeer
) -> None:
    settings = gateway_settings(database_url=None, data_dir=tmp_path)
    gw = await Gateway(settings).start()
    sid = await gw.create()
    url = f"{gw.ws_url}/ws"
    await node.connect("a", url, sid)
    await node.connect("b", url, sid)
    await node.wait_event("a", "synced")
    await node.call("insertText", peer="a", text="before;")
    await node.wait_state("a", _not_pending)
    await node.wait_text("b", "before;")

    await gw.stop()  # the gateway and every actor of the server are gone
    await node.wait_event("a", "disconnect")
    # Offline edits stay in the provider until the server is back.
    await node.call("insertText", peer="a", text="offline;")
    mark = len(node.events)
    gw = await Gateway(settings).start()
    try:
        await node.wait_event("a", "synced", since=mark, timeout=60)
        await node.wait_event("b", "synced", since=mark, timeout=60)
        await node.wait_state("a", _not_pending, timeout=60)
        await node.wait_text("b", "before;offline;", timeout=30)
        assert await node.text("a") == "before;offline;"
        _, state = await gw.request("GET", f"/api/sessions/{sid}")
        assert state["session"]["revision"] == 2
    finally:
        await gw.stop()


async def test_acked_provider_edit_survives_sigkill(gateway: Gateway, node: NodePeer) -> None:
    sid = await gateway.create()
    url = f"{gateway.ws_url}/ws"
    await node.connect("a", url, sid)
    await node.wait_event("a", "synced")
    await node.call("insertText", peer="a", text="kept")
    await node.wait_state("a", _not_pending)  # SyncStatus(1) arrived: it is durable
    os.kill(await gateway.host_pid(sid), signal.SIGKILL)
    await node.call("destroy", peer="a")
    await node.connect("b", url, sid)
    await node.wait_event("b", "synced", timeout=60)
    assert await node.text("b") == "kept"
