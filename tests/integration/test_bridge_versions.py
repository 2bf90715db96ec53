"""Versions, restore, optimistic concurrency and undo end to end: real Ray, both stores, and
the real @hocuspocus/provider watching the document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from actors.bridge.session import Session

from ..harness import Gateway, wait_until
from ..interop.npm import ensure_node_modules
from ..interop.peer import NodePeer

pytestmark = [pytest.mark.integration, pytest.mark.interop]

KEYS = ["hero", "title", "subtitle", "cta", "footer", "legal"]


def _spec() -> dict[str, Any]:
    elements: dict[str, Any] = {"page": {"type": "Stack", "props": {"gap": 4}, "children": list(KEYS)}}
    for i, key in enumerate(KEYS):
        elements[key] = {"type": "Text", "props": {"children": f"{key} text", "order": i}, "children": []}
    return {"root": "page", "elements": elements}


@pytest.fixture
async def node() -> AsyncIterator[NodePeer]:
    ensure_node_modules()
    async with NodePeer() as peer:
        yield peer


def _parts(state: dict[str, Any]) -> dict[str, Any]:
    return {"spec": state["spec"], "theme": state["theme"], "themeCSS": state["themeCSS"]}


async def _provider_parts(node: NodePeer, peer: str) -> dict[str, Any]:
    got = (await node.call("docJson", peer=peer, maps=["spec", "theme"], texts=["themeCSS"]))["json"]
    return {"spec": got["spec"], "theme": got["theme"], "themeCSS": got["themeCSS"]}


async def _state(gateway: Gateway, sid: str) -> dict[str, Any]:
    status, state = await gateway.request("GET", f"/api/sessions/{sid}/state")
    assert status == 200, state
    return state


async def _ops(gateway: Gateway, sid: str, ops: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    headers = extra.pop("headers", None)
    status, body = await gateway.request(
        "POST", f"/api/sessions/{sid}/ops", json={"ops": ops, **extra}, headers=headers
    )
    assert status == 200, body
    assert not body["errors"], body
    return body


def _replace_half() -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = [{"op": "remove_element", "key": key} for key in KEYS[:3]]
    for key in ("banner", "pitch", "signup"):
        ops.append(
            {
                "op": "add_element",
                "key": key,
                "parentKey": "page",
                "index": 0,
                "element": {"type": "Callout", "props": {"children": f"new {key}"}, "children": []},
            }
        )
    ops.append({"op": "set_prop", "key": "footer", "prop": "children", "value": "rewritten"})
    ops.append({"op": "set_theme", "theme": {"hue": 20}})
    return ops


async def test_restore_the_version_before_an_agent_replaced_half_the_spec(
    gateway: Gateway, node: NodePeer
) -> None:
    sid = await gateway.create(name="versions", spec=_spec())
    await node.connect("browser", f"{gateway.ws_url}/ws", sid)
    await node.wait_event("browser", "synced")
    original = _parts(await _state(gateway, sid))

    result = await _ops(
        gateway,
        sid,
        _replace_half(),
        agentId="claude",
        headers={"Atelier-Version-Before": "before the redesign"},
    )
    before_id = result["versionId"]
    assert result["revision"] == 1
    assert result["changeId"]
    changed = _parts(await _state(gateway, sid))
    await wait_until(lambda: _provider_parts(node, "browser"), lambda got: got == changed)

    status, listed = await gateway.request("GET", f"/api/sessions/{sid}/versions")
    assert status == 200
    [version] = [v for v in listed["versions"] if v["id"] == before_id]
    assert version["kind"] == "auto"
    assert version["label"] == "before the redesign"
    assert version["revision"] == 0
    assert set(version) == {"id", "revision", "createdAt", "author", "label", "kind"}

    status, after = await gateway.request(
        "POST", f"/api/sessions/{sid}/versions", json={"label": "the redesign", "agentId": "claude"}
    )
    assert status == 201
    assert after["version"]["kind"] == "manual"
    assert after["version"]["author"] == "agent:claude"
    assert after["version"]["revision"] == 1

    status, old = await gateway.request("GET", f"/api/sessions/{sid}/versions/{before_id}/state")
    assert status == 200
    assert _parts(old) == original
    assert old["meta"]["revision"] == 0

    status, diff = await gateway.request("GET", f"/api/sessions/{sid}/versions/{before_id}/diff/current")
    assert status == 200
    assert diff["diff"]["elements"]["added"] == ["banner", "pitch", "signup"]
    assert diff["diff"]["elements"]["removed"] == ["hero", "subtitle", "title"]
    footer = [c for c in diff["diff"]["elements"]["changed"] if c["key"] == "footer"]
    assert footer[0]["props"]["changed"] == {"children": {"from": "footer text", "to": "rewritten"}}
    assert diff["diff"]["theme"]["hue"] == {"from": 264, "to": 20}
    assert diff["diff"]["themeCSS"]["changed"]

    status, restored = await gateway.request(
        "POST", f"/api/sessions/{sid}/versions/{before_id}/restore", json={"agentId": "ada"}
    )
    assert status == 200, restored
    assert restored["revision"] == 2
    assert restored["changeId"]
    assert restored["restoredFrom"] == before_id
    kept = restored["versionId"]  # the state the restore replaced, kept as an automatic version
    assert _parts(await _state(gateway, sid)) == original
    await wait_until(lambda: _provider_parts(node, "browser"), lambda got: got == original)
    assert (await _state(gateway, sid))["meta"]["revision"] == 2
    # Acked after commit: the store alone rebuilds the restored document.
    loaded = await gateway.load(sid)
    assert loaded is not None
    assert loaded.record.revision == 2
    assert _parts(Session.restore(loaded).state()) == original

    # History is not rewritten, and the restore itself can be undone by restoring again.
    status, listed = await gateway.request("GET", f"/api/sessions/{sid}/versions")
    assert {before_id, after["version"]["id"]} <= {v["id"] for v in listed["versions"]}
    status, again = await gateway.request("POST", f"/api/sessions/{sid}/versions/{kept}/restore")
    assert status == 200
    assert again["revision"] == 3
    await wait_until(lambda: _provider_parts(node, "browser"), lambda got: got == changed)
    assert _parts(await _state(gateway, sid)) == changed
    status, same = await gateway.request(
        "POST", f"/api/sessions/{sid}/versions/{after['version']['id']}/restore"
    )
    assert status == 200
    assert same["changeId"] is None
    assert same["revision"] == 3


async def test_a_stale_expected_revision_is_refused_and_applies_nothing(gateway: Gateway) -> None:
    sid = await gateway.create(spec=_spec())
    first = await _ops(
        gateway, sid, [{"op": "set_prop", "key": "hero", "prop": "x", "value": 1}], expectedRevision=0
    )
    assert first["revision"] == 1
    before = await _state(gateway, sid)
    status, body = await gateway.request(
        "POST",
        f"/api/sessions/{sid}/ops",
        json={"ops": [{"op": "remove_element", "key": "hero"}], "expectedRevision": 0, "agentId": "late"},
    )
    assert status == 409
    assert body["revision"] == 1
    assert body["expectedRevision"] == 0
    assert "error" in body
    assert await _state(gateway, sid) == before
    status, body = await gateway.request(
        "POST", f"/api/sessions/{sid}/ops", json={"ops": [], "expectedRevision": -1}
    )
    assert status == 400
    assert body["field"] == "expectedRevision"


async def test_undo_of_one_agents_change_with_and_without_a_later_conflict(
    gateway: Gateway, node: NodePeer
) -> None:
    sid = await gateway.create(spec=_spec())
    await node.connect("browser", f"{gateway.ws_url}/ws", sid)
    await node.wait_event("browser", "synced")
    start = _parts(await _state(gateway, sid))

    mine = await _ops(
        gateway,
        sid,
        [
            {"op": "set_prop", "key": "hero", "prop": "children", "value": "A"},
            {"op": "remove_element", "key": "legal"},
        ],
        agentId="a",
    )
    other = await _ops(
        gateway, sid, [{"op": "set_prop", "key": "cta", "prop": "children", "value": "B"}], agentId="b"
    )
    # A browser edit to a third element is no conflict either.
    await node.call("setElementProp", peer="browser", key="title", prop="children", value="typed")
    await wait_until(
        lambda: _state(gateway, sid), lambda s: s["spec"]["elements"]["title"]["props"]["children"] == "typed"
    )

    status, undone = await gateway.request(
        "POST", f"/api/sessions/{sid}/changes/{mine['changeId']}/undo", json={"agentId": "a"}
    )
    assert status == 200, undone
    assert undone["undid"] == mine["changeId"]
    assert undone["revision"] == 4
    state = await _state(gateway, sid)
    assert state["spec"]["elements"]["hero"] == start["spec"]["elements"]["hero"]
    assert state["spec"]["elements"]["legal"] == start["spec"]["elements"]["legal"]
    assert state["spec"]["elements"]["page"]["children"] == KEYS
    assert state["spec"]["elements"]["cta"]["props"]["children"] == "B"
    assert state["spec"]["elements"]["title"]["props"]["children"] == "typed"
    await wait_until(lambda: _provider_parts(node, "browser"), lambda got: got == _parts(state))

    # B's change is then touched by a browser: undoing it would drop that edit.
    await node.call("setElementProp", peer="browser", key="cta", prop="children", value="C")
    await wait_until(
        lambda: _state(gateway, sid), lambda s: s["spec"]["elements"]["cta"]["props"]["children"] == "C"
    )
    before = await _state(gateway, sid)
    status, refused = await gateway.request("POST", f"/api/sessions/{sid}/changes/{other['changeId']}/undo")
    assert status == 409, refused
    assert [c["keys"] for c in refused["conflicts"]] == [["element:cta"]]
    assert refused["conflicts"][0]["author"].startswith("connection:")
    assert await _state(gateway, sid) == before

    status, missing = await gateway.request("POST", f"/api/sessions/{sid}/changes/0123abcd/undo")
    assert status == 404
    assert missing["field"] == "changeId"
