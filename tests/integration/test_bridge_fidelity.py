"""GET .../state returns the spec as the client wrote it (issue 11, item 7), both stores."""

from __future__ import annotations

from typing import Any

import pytest

from actors.bridge.layout import read_spec

from ..harness import Gateway, wait_until
from ..hocus_client import HocusClient

pytestmark = pytest.mark.integration

WRITTEN: dict[str, Any] = {
    "root": "page",
    "elements": {
        "page": {"type": "Card", "props": {"className": "p-6"}, "children": ["title", "list"]},
        "title": {"type": "Heading", "props": {"level": 2, "children": "Login"}},
        "list": {"type": "Stack", "props": {}, "children": []},
    },
}


async def state_spec(gateway: Gateway, session_id: str) -> dict[str, Any]:
    status, state = await gateway.request("GET", f"/api/sessions/{session_id}/state")
    assert status == 200, state
    spec: dict[str, Any] = state["spec"]
    return spec


async def ops(gateway: Gateway, session_id: str, *items: dict[str, Any]) -> None:
    status, body = await gateway.request("POST", f"/api/sessions/{session_id}/ops", json={"ops": list(items)})
    assert status == 200, body
    assert body["errors"] == [], body


async def test_state_is_the_spec_as_written(gateway: Gateway) -> None:
    session_id = await gateway.create(spec=WRITTEN)
    assert await state_spec(gateway, session_id) == WRITTEN

    await ops(
        gateway,
        session_id,
        {"op": "add_element", "key": "email", "parentKey": "list", "element": {"type": "Input", "props": {}}},
        {"op": "set_prop", "key": "title", "prop": "children", "value": "Welcome"},
    )
    spec = await state_spec(gateway, session_id)
    assert spec["elements"]["email"] == {"type": "Input", "props": {}}
    assert spec["elements"]["title"] == {"type": "Heading", "props": {"level": 2, "children": "Welcome"}}
    assert spec["elements"]["list"]["children"] == ["email"]

    # A childless element gains children with its first child, and only then.
    await ops(
        gateway,
        session_id,
        {
            "op": "add_element",
            "key": "icon",
            "parentKey": "title",
            "element": {"type": "Icon", "props": {"name": "lock"}},
        },
    )
    spec = await state_spec(gateway, session_id)
    assert spec["elements"]["title"]["children"] == ["icon"]
    assert spec["elements"]["icon"] == {"type": "Icon", "props": {"name": "lock"}}


async def test_replace_spec_and_a_browser_see_the_same(gateway: Gateway) -> None:
    session_id = await gateway.create(spec=WRITTEN)
    replacement = {
        "root": "a",
        "elements": {"a": {"type": "Text", "props": {"children": "hi"}}},
        "state": {"n": 1},
    }
    await ops(gateway, session_id, {"op": "replace_spec", "spec": replacement})
    assert await state_spec(gateway, session_id) == replacement
    # A Yjs peer reads the same document: no children array it did not write.
    async with HocusClient(f"{gateway.ws_url}/ws") as client:
        doc = (await client.open(session_id)).doc
        await wait_until(lambda: read_spec(doc), lambda spec: spec == replacement)
