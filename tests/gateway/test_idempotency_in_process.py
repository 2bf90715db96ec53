"""Idempotency-Key on the mutating routes of the three APIs, over the in-process session client."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from ..harness import bearer, wait_until
from ..sse import read_events
from .local import ClientFactory, local_app, offline_actors, token_auth

SPEC: dict[str, Any] = {"root": "root", "elements": {"root": {"type": "Card", "props": {}, "children": []}}}


@pytest.fixture
async def client(aiohttp_client: ClientFactory, tmp_path: Path) -> TestClient[Any, Any]:
    return await aiohttp_client(local_app(tmp_path, offline_actors(0.05), auth=token_auth()))


async def test_a_retried_create_returns_the_first_outcome(client: TestClient[Any, Any]) -> None:
    key = {"Idempotency-Key": "create-1"}
    first = await client.post("/api/sessions", json={"name": "a", "spec": SPEC}, headers=key)
    assert first.status == 201
    assert "Idempotent-Replayed" not in first.headers
    again = await client.post("/api/sessions", json={"name": "a", "spec": SPEC}, headers=key)
    assert again.status == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await again.json() == await first.json()
    assert (await first.json())["session"]["name"] == "a"  # the route read the body re-seated for it
    listed = await (await client.get("/api/sessions")).json()
    assert len(listed["sessions"]) == 1

    other_body = await client.post("/api/sessions", json={"name": "b", "spec": SPEC}, headers=key)
    assert other_body.status == 422
    assert (await other_body.json())["field"] == "Idempotency-Key"
    fresh = await client.post(
        "/api/sessions", json={"name": "a", "spec": SPEC}, headers={"Idempotency-Key": "create-2"}
    )
    assert fresh.status == 201
    assert (await fresh.json()) != (await first.json())


async def test_ops_and_delete_apply_once(client: TestClient[Any, Any]) -> None:
    created = await client.post("/api/sessions", json={"name": "a", "spec": SPEC})
    sid = (await created.json())["session"]["id"]
    ops = {"ops": [{"op": "set_prop", "key": "root", "prop": "n", "value": 1}]}
    answers = []
    for _ in range(3):
        response = await client.post(
            f"/api/sessions/{sid}/ops", json=ops, headers={"Idempotency-Key": "op-1"}
        )
        answers.append((response.status, (await response.json())["revision"]))
    assert answers == [(200, 1)] * 3
    state = await (await client.get(f"/api/sessions/{sid}/state")).json()
    assert state["meta"]["revision"] == 1
    # The same key on another path is another request.
    other = await client.post(
        "/api/sessions", json={"name": "x", "spec": SPEC}, headers={"Idempotency-Key": "op-1"}
    )
    assert other.status == 201
    deleted = [
        await client.delete(f"/api/sessions/{sid}", headers={"Idempotency-Key": "del"}) for _ in range(2)
    ]
    assert [r.status for r in deleted] == [200, 200]  # not 404 on the retry
    assert (await client.delete(f"/api/sessions/{sid}")).status == 404  # without a key: the truth


async def test_keys_are_per_subject_and_validated(client: TestClient[Any, Any]) -> None:
    program = await client.post("/api/programs", json={"name": "P"}, headers=bearer("ada"))
    program_id = (await program.json())["data"]["program"]["id"]
    bob_program = await client.post("/api/programs", json={"name": "P"}, headers=bearer("bob"))
    assert bob_program.status == 201
    ada = await client.post("/api/programs", json={"name": "P"}, headers=bearer("ada", "k"))
    bob = await client.post("/api/programs", json={"name": "P"}, headers=bearer("bob", "k"))
    assert ada.status == bob.status == 201
    assert "Idempotent-Replayed" not in bob.headers
    assert (await ada.json()) != (await bob.json())
    body = {"description": "A shelf", "programId": program_id}
    for bad in ("", "x" * 256, "has space", "caf\u00e9"):
        response = await client.post(
            "/api/design-engine/sessions", json=body, headers={**bearer("ada"), "Idempotency-Key": bad}
        )
        assert response.status == 400, bad
        assert (await response.json())["field"] == "Idempotency-Key"
    listed = await (await client.get("/api/design-engine/sessions", headers=bearer("ada"))).json()
    assert listed["data"]["sessions"] == []


async def test_a_retry_while_the_first_runs_is_409_and_a_stream_is_not_replayed(
    client: TestClient[Any, Any],
) -> None:
    program = await client.post("/api/programs", json={"name": "P"}, headers=bearer("ada"))
    body = {
        "description": "A standing desk with a motor",
        "programId": (await program.json())["data"]["program"]["id"],
    }
    created = await client.post("/api/design-engine/sessions", json=body, headers=bearer("ada"))
    sid = (await created.json())["data"]["session"]["id"]
    url = f"/api/design-engine/sessions/{sid}/stream"
    start = {"action": "start_requirements"}
    async with client.post(url, json=start, headers=bearer("ada", "run-1")) as first:
        await anext(read_events(first))
        busy = await client.post(url, json=start, headers=bearer("ada", "run-1"))
        assert busy.status == 409
        assert busy.headers["Retry-After"] == "1"
        assert (await busy.json())["field"] == "Idempotency-Key"
        events = [event async for event in read_events(first)]
        assert events[-1].event == "done"

    async def retry() -> tuple[int, dict[str, Any]]:
        response = await client.post(url, json=start, headers=bearer("ada", "run-1"))
        return response.status, await response.json()

    # Once the first request has finished (its outcome recorded), the retry is told why it
    # cannot be replayed rather than that it is still running.
    status, payload = await wait_until(retry, lambda got: "firstStatus" in got[1], timeout=10)
    assert status == 409
    assert payload["firstStatus"] == 200
    assert "stream" in payload["error"]


async def test_the_outcome_is_kept_when_the_client_hangs_up(client: TestClient[Any, Any]) -> None:
    """The client sends its request and goes away at once; its retry finds the outcome."""
    body = b'{"name": "cut", "spec": {"root": "r", "elements": {"r": {"type": "Card", "props": {}}}}}'
    request = (
        b"POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Idempotency-Key: cut-1\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    for _ in range(3):
        _, writer = await asyncio.open_connection("127.0.0.1", client.port)
        writer.write(request)
        await writer.drain()
        writer.transport.abort()  # no response read

    async def retry() -> tuple[int, Any]:
        response = await client.post(
            "/api/sessions",
            data=body,
            headers={"Idempotency-Key": "cut-1", "Content-Type": "application/json"},
        )
        return response.status, await response.json()

    status, payload = await wait_until(retry, lambda got: got[0] != 409, timeout=10)
    assert status == 201
    assert payload["session"]["name"] == "cut"
    listed = await (await client.get("/api/sessions")).json()
    assert [s["name"] for s in listed["sessions"]] == ["cut"]


async def test_uploads_are_read_whole_and_replayed(client: TestClient[Any, Any]) -> None:
    project = await client.post(
        "/api/v1/projects", json={"name": "p", "fiscalYear": "2025"}, headers=bearer("ada")
    )
    project_id = (await project.json())["project"]["id"]

    def form(text: bytes) -> bytes:
        # A retry resends the same bytes, boundary included.
        return (
            b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\n" + text + b"\r\n--b0undary--\r\n"
        )

    url = f"/api/v1/projects/{project_id}/files"
    headers = {**bearer("ada", "up-1"), "Content-Type": "multipart/form-data; boundary=b0undary"}
    first = await client.post(url, data=form(b"hello world"), headers=headers)
    assert first.status == 201, await first.text()
    assert (await first.json())["file"]["size"] == len(b"hello world")
    again = await client.post(url, data=form(b"hello world"), headers=headers)
    assert again.status == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await again.json())["file"]["id"] == (await first.json())["file"]["id"]
    changed = await client.post(url, data=form(b"other text!"), headers=headers)
    assert changed.status == 422
    files = await (await client.get(url, headers=bearer("ada"))).json()
    assert len(files["files"]) == 1
