"""The design-engine API over the in-process session client: auth, scoping, stages, SSE."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient

from gateway.auth import mint_token

from ..harness import AUTH_SECRET, bearer
from ..sse import SseEvent, read_events
from .local import ClientFactory, local_app, offline_actors, token_auth


def _expired(user: str) -> str:
    now = int(time.time())
    return jwt.encode({"sub": user, "iat": now - 7200, "exp": now - 3600}, AUTH_SECRET, algorithm="HS256")


async def _program(client: TestClient[Any, Any], user: str) -> str:
    response = await client.post("/api/programs", json={"name": "Karts"}, headers=bearer(user))
    assert response.status == 201, await response.text()
    program_id: str = (await response.json())["data"]["program"]["id"]
    return program_id


async def _session(client: TestClient[Any, Any], user: str, description: str) -> str:
    program = await _program(client, user)
    response = await client.post(
        "/api/design-engine/sessions",
        headers=bearer(user),
        json={"description": description, "programId": program},
    )
    assert response.status == 201, await response.text()
    session = (await response.json())["data"]["session"]
    assert session["stage"] == "idle"
    assert session["status"] == "active"
    assert session["workspaceUrl"] == f"/designs/collaborative/{session['id']}"
    return str(session["id"])


async def _run(client: TestClient[Any, Any], user: str, sid: str, body: dict[str, Any]) -> list[SseEvent]:
    async with client.post(
        f"/api/design-engine/sessions/{sid}/stream", json=body, headers=bearer(user)
    ) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["X-Session-Id"] == sid
        return [event async for event in read_events(response)]


async def test_requirements_to_bom_review_with_the_offline_provider(client: TestClient[Any, Any]) -> None:
    sid = await _session(client, "ada", "Design an electric go-kart for children ages 8-12")
    events = await _run(client, "ada", sid, {"action": "start_requirements"})
    kinds = [e.json().get("type") for e in events if e.event == "stage_event"]
    assert events[-1].event == "done"
    assert events[-1].json() == {"finished": True}
    assert kinds[0] == "stage_change"
    assert "llm_text" in kinds
    assert "artifact_update" in kinds
    assert kinds[-2:] == ["stage_change", "stage_complete"]
    ids = [int(e.id) for e in events if e.id is not None]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)

    session = await (await client.get(f"/api/design-engine/sessions/{sid}", headers=bearer("ada"))).json()
    data = session["data"]["session"]
    assert data["stage"] == "requirements_review"
    assert len(data["artifacts"]["requirements"]) >= 3

    confirm = await client.post(
        f"/api/design-engine/sessions/{sid}/stream",
        headers=bearer("ada"),
        json={"action": "confirm_requirements"},
    )
    body = (await confirm.json())["data"]
    assert body["confirmed"] == "requirements"
    assert body["session"]["stage"] == "bom_drafting"
    events = await _run(client, "ada", sid, {"action": "start_bom"})
    assert events[-1].event == "done"
    data = await (await client.get(f"/api/design-engine/sessions/{sid}", headers=bearer("ada"))).json()
    assert data["data"]["session"]["stage"] == "bom_review"
    assert data["data"]["session"]["artifacts"]["bom"]["rootAssembly"]["children"]


async def test_rejoining_with_last_event_id_replays_what_was_missed(client: TestClient[Any, Any]) -> None:
    sid = await _session(client, "ada", "A desk lamp with a weighted base")
    events = await _run(client, "ada", sid, {"action": "start_requirements"})
    stage_events = [e for e in events if e.event == "stage_event"]
    cut = stage_events[len(stage_events) // 2]
    async with client.get(
        f"/api/design-engine/sessions/{sid}/stream", headers={**bearer("ada"), "Last-Event-ID": str(cut.id)}
    ) as response:
        rest = [e async for e in read_events(response)]
    assert [e.id for e in rest if e.event == "stage_event"] == [
        e.id for e in stage_events if int(str(e.id)) > int(str(cut.id))
    ]
    assert [e.data for e in rest if e.event == "stage_event"] == [
        e.data for e in stage_events if int(str(e.id)) > int(str(cut.id))
    ]
    assert rest[-1].event == "done"


async def test_events_as_json_page_through_what_the_stream_sent(client: TestClient[Any, Any]) -> None:
    sid = await _session(client, "ada", "A desk lamp with a weighted base")
    streamed = [
        e
        for e in await _run(client, "ada", sid, {"action": "start_requirements"})
        if e.event == "stage_event"
    ]
    assert len(streamed) > 8
    url = f"/api/design-engine/sessions/{sid}/events"
    pages: list[list[dict[str, Any]]] = []
    after: int | None = None
    for _ in range(len(streamed)):  # bounded: one page per event at the very most
        params = {"limit": "4", **({"after": str(after)} if after is not None else {})}
        async with client.get(url, params=params, headers=bearer("ada")) as response:
            assert response.status == 200, await response.text()
            data = (await response.json())["data"]
        pages.append(data["events"])
        after = data["lastEventId"]
        if not data["more"]:
            break
    read = [event for page in pages for event in page]
    assert all(len(page) <= 4 for page in pages)
    assert [e["id"] for e in read] == [int(str(e.id)) for e in streamed]
    assert [e["event"] for e in read] == [e.json() for e in streamed]
    assert data["liveRun"] is None
    # Caught up: an empty page that keeps the cursor.
    async with client.get(url, params={"after": str(after)}, headers=bearer("ada")) as response:
        caught_up = (await response.json())["data"]
    assert caught_up == {"events": [], "lastEventId": after, "more": False, "liveRun": None}
    # Bad cursors and page sizes are 400s naming the parameter; another user's session is 403.
    for params, field in [
        ({"after": str(int(str(streamed[-1].id)) + 1)}, "after"),
        ({"after": "-1"}, "after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
    ]:
        async with client.get(url, params=params, headers=bearer("ada")) as response:
            assert response.status == 400, params
            assert (await response.json())["field"] == field
    async with client.get(url, headers=bearer("bob")) as response:
        assert response.status == 403


async def test_owner_scoping_and_auth_errors(client: TestClient[Any, Any]) -> None:
    sid = await _session(client, "ada", "A bicycle rack")
    base = f"/api/design-engine/sessions/{sid}"
    for method, path, body in [
        ("GET", base, None),
        ("PATCH", base, {"description": "mine now"}),
        ("POST", base + "/stream", {"action": "start_requirements"}),
        ("GET", base + "/stream", None),
    ]:
        response = await client.request(method, path, json=body, headers=bearer("bob"))
        assert response.status == 403, (method, path, await response.text())
    missing = await client.get("/api/design-engine/sessions/nope", headers=bearer("ada"))
    assert missing.status == 404
    for headers in (
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": f"Bearer {mint_token('x' * 40, 'ada', 3600)}"},
        {"Authorization": f"Bearer {_expired('ada')}"},
    ):
        response = await client.get("/api/design-engine/sessions", headers=headers)
        assert response.status == 401
        assert "error" in await response.json()
    assert (await (await client.get("/api/design-engine/sessions", headers=bearer("bob"))).json()) == {
        "data": {"sessions": []}
    }


async def test_create_validates_program_and_design(client: TestClient[Any, Any]) -> None:
    theirs = await _program(client, "bob")
    for body, status, field in [
        ({"programId": theirs}, 400, "description"),
        ({"description": "x"}, 400, "programId"),
        ({"description": "x", "programId": "missing"}, 404, "programId"),
        ({"description": "x", "programId": theirs}, 403, "programId"),
    ]:
        response = await client.post("/api/design-engine/sessions", json=body, headers=bearer("ada"))
        payload = await response.json()
        assert response.status == status, (body, payload)
        assert payload.get("field") == field, (body, payload)


async def test_illegal_actions_answer_409_naming_stage_and_action(client: TestClient[Any, Any]) -> None:
    sid = await _session(client, "ada", "A bird feeder")
    response = await client.post(
        f"/api/design-engine/sessions/{sid}/stream", headers=bearer("ada"), json={"action": "confirm_bom"}
    )
    payload = await response.json()
    assert response.status == 409
    assert payload["stage"] == "idle"
    assert payload["action"] == "confirm_bom"
    response = await client.post(
        f"/api/design-engine/sessions/{sid}/stream", headers=bearer("ada"), json={"action": "fly"}
    )
    assert response.status == 400
    assert (await response.json())["field"] == "action"


async def test_clarification_round_trip(client: TestClient[Any, Any]) -> None:
    sid = await _session(client, "ada", "Please clarify: a shelf for a small room")
    events = await _run(client, "ada", sid, {"action": "start_requirements"})
    types = [e.json().get("type") for e in events if e.event == "stage_event"]
    assert "clarification_needed" in types
    assert types[-1] == "paused"
    question = next(
        e.json() for e in events if e.event == "stage_event" and e.json()["type"] == "clarification_needed"
    )
    session = await (await client.get(f"/api/design-engine/sessions/{sid}", headers=bearer("ada"))).json()
    assert session["data"]["session"]["artifacts"]["pendingClarificationId"] == question["questionId"]
    events = await _run(
        client,
        "ada",
        sid,
        {"action": "answer_clarification", "questionId": question["questionId"], "answer": "Pine, 80 cm"},
    )
    types = [e.json().get("type") for e in events if e.event == "stage_event"]
    assert types[-2:] == ["stage_change", "stage_complete"]
    session = await (await client.get(f"/api/design-engine/sessions/{sid}", headers=bearer("ada"))).json()
    artifacts = session["data"]["session"]["artifacts"]
    assert "pendingClarificationId" not in artifacts
    assert artifacts["clarifications"][0]["answer"] == "Pine, 80 cm"


@pytest.fixture
async def slow_client(aiohttp_client: ClientFactory, tmp_path: Path) -> TestClient[Any, Any]:
    """The offline provider pausing between text deltas, so a run stays live for a while."""
    return await aiohttp_client(local_app(tmp_path, offline_actors(0.05), auth=token_auth()))


async def test_a_second_post_joins_the_live_run_and_cancel_pauses_it(
    slow_client: TestClient[Any, Any],
) -> None:
    client = slow_client
    sid = await _session(client, "ada", "A standing desk with a motor")
    url = f"/api/design-engine/sessions/{sid}/stream"
    async with client.post(url, json={"action": "start_requirements"}, headers=bearer("ada")) as first:
        stream = read_events(first)
        opening = await anext(stream)
        async with client.post(url, json={"action": "start_requirements"}, headers=bearer("ada")) as second:
            joined = await anext(read_events(second))
            assert joined.id == opening.id
            assert joined.data == opening.data
        cancel = await client.post(url, json={"action": "cancel"}, headers=bearer("ada"))
        body = (await cancel.json())["data"]
        assert body["cancelled"] is True
        assert body["session"]["status"] == "paused"
        rest = [event async for event in stream]
    assert rest[-1].event == "done"
    assert rest[-2].json() == {"type": "paused", "reason": "cancelled by user"}
    again = await client.post(url, json={"action": "cancel"}, headers=bearer("ada"))
    assert again.status == 409


async def test_send_message_outside_drafting_is_acknowledged_and_kept(client: TestClient[Any, Any]) -> None:
    sid = await _session(client, "ada", "A coat hook")
    response = await client.post(
        f"/api/design-engine/sessions/{sid}/stream",
        headers=bearer("ada"),
        json={"action": "send_message", "message": "make it brass"},
    )
    assert (await response.json()) == {"data": {"acknowledged": True}}
    session = await (await client.get(f"/api/design-engine/sessions/{sid}", headers=bearer("ada"))).json()
    assert [m["text"] for m in session["data"]["session"]["artifacts"]["userMessages"]] == ["make it brass"]


async def test_program_members_may_work_in_the_program(client: TestClient[Any, Any]) -> None:
    program = await _program(client, "ada")
    assert (await client.get(f"/api/programs/{program}", headers=bearer("bob"))).status == 403
    added = await client.post(
        f"/api/programs/{program}/members", json={"userId": "bob"}, headers=bearer("ada")
    )
    assert added.status == 201
    refused = await client.post(
        f"/api/programs/{program}/members", json={"userId": "eve"}, headers=bearer("bob")
    )
    assert refused.status == 403
    assert (await client.get(f"/api/programs/{program}", headers=bearer("bob"))).status == 200
    design = await client.post(
        f"/api/programs/{program}/designs",
        json={"name": "Kart", "lifecycleState": "released"},
        headers=bearer("bob"),
    )
    assert design.status == 201
    design_id = (await design.json())["data"]["design"]["id"]
    response = await client.post(
        "/api/design-engine/sessions",
        headers=bearer("bob"),
        json={"description": "Kart v2", "programId": program, "designId": design_id},
    )
    assert response.status == 201
    bad = await client.post(
        f"/api/programs/{program}/designs",
        json={"name": "X", "lifecycleState": "gone"},
        headers=bearer("ada"),
    )
    assert bad.status == 400
    assert (await bad.json())["field"] == "lifecycleState"


async def test_bridge_routes_need_a_token_when_the_setting_says_so(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await aiohttp_client(local_app(tmp_path, auth=token_auth(bridge_auth=True)))
    assert (await client.post("/api/sessions", json={})).status == 401
    assert (await client.post("/api/sessions", json={}, headers=bearer("ada"))).status == 201
