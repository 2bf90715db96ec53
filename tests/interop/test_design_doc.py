"""The real @hocuspocus/provider watching a design session's document while a stage streams."""

from __future__ import annotations

from typing import Any

import pytest

from ..engine_api import create_session
from ..harness import Gateway, bearer, token, wait_until
from ..sse import read_events
from .peer import NodePeer

pytestmark = [pytest.mark.integration, pytest.mark.interop]


async def test_the_provider_sees_the_ai_draft_and_ends_equal_to_get(node: NodePeer, gateway: Gateway) -> None:
    sid = await create_session(gateway, "ada", "An electric go-kart for children")
    url = f"{gateway.ws_url}/ws"
    await node.connect("owner", url, sid, token=token("ada"))
    await node.wait_event("owner", "synced")
    assert (await node.state("owner"))["scope"] == "readonly"
    await node.connect("stranger", url, sid, token=token("bob"))
    denied = await node.wait_event("stranger", "authenticationFailed")
    assert denied["reason"] == "permission-denied"

    assert gateway.http is not None
    async with gateway.http.post(
        f"/api/design-engine/sessions/{sid}/stream",
        headers=bearer("ada"),
        json={"action": "start_requirements"},
    ) as response:
        events = [event async for event in read_events(response)]
    assert events[-1].event == "done"
    _, body = await gateway.request("GET", f"/api/design-engine/sessions/{sid}", headers=bearer("ada"))
    artifacts: dict[str, Any] = body["data"]["session"]["artifacts"]

    async def doc() -> dict[str, Any]:
        result: dict[str, Any] = (await node.call("docJson", peer="owner", maps=["artifacts"]))["json"][
            "artifacts"
        ]
        return result

    expected_text = "".join(
        e.json().get("text", "")
        for e in events
        if e.event == "stage_event" and e.json()["type"] == "llm_text"
    )
    seen = await wait_until(
        doc,
        lambda d: (
            d.get("requirements") == artifacts["requirements"] and d.get("stage") == "requirements_review"
        ),
    )
    assert seen.get("draft") == expected_text
    assert seen["description"] == artifacts["description"]
