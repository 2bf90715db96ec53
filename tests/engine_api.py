"""The design-engine API driven over HTTP against a test gateway (``harness.Gateway``)."""

from __future__ import annotations

from typing import Any

from .harness import Gateway, bearer
from .sse import SseEvent, read_events

__all__ = ["bom_nodes_of", "create_session", "get_session", "new_design_session", "run_action", "types"]


async def new_design_session(
    gw: Gateway, user: str, description: str, *, program: str = "P"
) -> dict[str, Any]:
    """A new program of ``user``'s and a design session in it; the session as created."""
    status, body = await gw.request("POST", "/api/programs", json={"name": program}, headers=bearer(user))
    assert status == 201, body
    status, body = await gw.request(
        "POST",
        "/api/design-engine/sessions",
        headers=bearer(user),
        json={"description": description, "programId": body["data"]["program"]["id"]},
    )
    assert status == 201, body
    return dict(body["data"]["session"])


async def create_session(gw: Gateway, user: str, description: str) -> str:
    return str((await new_design_session(gw, user, description))["id"])


async def run_action(gw: Gateway, user: str, sid: str, body: dict[str, Any]) -> list[SseEvent]:
    assert gw.http is not None
    async with gw.http.post(
        f"/api/design-engine/sessions/{sid}/stream", json=body, headers=bearer(user)
    ) as r:
        assert r.status == 200, await r.text()
        return [event async for event in read_events(r)]


async def get_session(gw: Gateway, user: str, sid: str) -> dict[str, Any]:
    status, body = await gw.request("GET", f"/api/design-engine/sessions/{sid}", headers=bearer(user))
    assert status == 200, body
    return dict(body["data"]["session"])


def types(events: list[SseEvent]) -> list[str]:
    return [e.json()["type"] for e in events if e.event == "stage_event"]


def bom_nodes_of(session: dict[str, Any]) -> list[dict[str, Any]]:
    """Every node of a session's BOM (depth first, last child first)."""
    nodes: list[dict[str, Any]] = []
    stack = [session["artifacts"]["bom"]["rootAssembly"]]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node["children"])
    return nodes
