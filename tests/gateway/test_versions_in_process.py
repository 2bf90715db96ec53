"""Version and undo routes over the in-process session client: shapes, errors and limits."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from actors.bridge.settings import VersionSettings
from actors.settings import ActorSettings

from ..harness import wait_until
from .local import ClientFactory, local_app

SPEC: dict[str, Any] = {
    "root": "root",
    "elements": {
        "root": {"type": "Card", "props": {}, "children": ["a", "b"]},
        "a": {"type": "Heading", "props": {"level": 1}, "children": []},
        "b": {"type": "Text", "props": {}, "children": []},
    },
}


@pytest.fixture
async def client(aiohttp_client: ClientFactory, tmp_path: Path) -> TestClient[Any, Any]:
    versions = VersionSettings(every_revisions=3, every_seconds=0, keep_auto=2, max_label_chars=20)
    return await aiohttp_client(local_app(tmp_path, replace(ActorSettings(), versions=versions)))


async def _json(response: Any) -> Any:
    return await response.json()


async def _create(client: TestClient[Any, Any]) -> str:
    response = await client.post("/api/sessions", json={"spec": SPEC})
    assert response.status == 201
    return str((await response.json())["session"]["id"])


async def _set(client: TestClient[Any, Any], sid: str, value: int) -> dict[str, Any]:
    response = await client.post(
        f"/api/sessions/{sid}/ops",
        json={"ops": [{"op": "set_prop", "key": "a", "prop": "level", "value": value}], "agentId": "bot"},
    )
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def test_automatic_versions_every_n_revisions_and_retention(client: TestClient[Any, Any]) -> None:
    sid = await _create(client)
    for value in range(2, 11):  # nine revisions: a version at 3, 6 and 9, two kept
        await _set(client, sid, value)

    async def autos() -> list[dict[str, Any]]:
        listed = await _json(await client.get(f"/api/sessions/{sid}/versions"))
        return [v for v in listed["versions"] if v["kind"] == "auto"]

    # Automatic versions are saved (and pruned) after the change commits, off the ops path.
    saved = await wait_until(autos, lambda got: [v["revision"] for v in got] == [6, 9])
    assert all(v["author"] == "agent:bot" for v in saved)
    state = await _json(await client.get(f"/api/sessions/{sid}/versions/{saved[0]['id']}/state"))
    assert state["spec"]["elements"]["a"]["props"]["level"] == 7  # revision 6 set level 7
    assert state["meta"]["revision"] == 6
    assert state["version"]["id"] == saved[0]["id"]
    diff = await _json(
        await client.get(f"/api/sessions/{sid}/versions/{saved[0]['id']}/diff/{saved[1]['id']}")
    )
    assert diff["diff"]["elements"]["changed"] == [
        {"key": "a", "props": {"added": {}, "removed": {}, "changed": {"level": {"from": 7, "to": 10}}}}
    ]


async def test_errors_name_their_field(client: TestClient[Any, Any]) -> None:
    sid = await _create(client)
    response = await client.post(f"/api/sessions/{sid}/versions", json={"label": "x" * 21})
    assert response.status == 400
    assert (await response.json())["field"] == "label"
    response = await client.post(f"/api/sessions/{sid}/versions", json={"agentId": 5})
    assert response.status == 400
    assert (await response.json())["field"] == "agentId"
    response = await client.post(
        f"/api/sessions/{sid}/ops", json={"ops": []}, headers={"Atelier-Version-Before": "y" * 21}
    )
    assert response.status == 400
    assert (await response.json())["field"] == "Atelier-Version-Before"
    for path in (
        f"/api/sessions/{sid}/versions/nope/state",
        f"/api/sessions/{sid}/versions/a.b/state",
        f"/api/sessions/{sid}/versions/current/diff/nope",
    ):
        response = await client.get(path)
        assert response.status == 404, path
        assert (await response.json())["field"] == "versionId", path
    response = await client.post(f"/api/sessions/{sid}/versions/nope/restore")
    assert response.status == 404
    response = await client.get("/api/sessions/0000/versions")
    assert response.status == 404
    assert (await response.json()) == {"error": "Session not found"}


async def test_ops_that_change_nothing_name_no_change(client: TestClient[Any, Any]) -> None:
    sid = await _create(client)
    response = await client.post(
        f"/api/sessions/{sid}/ops",
        json={"ops": [{"op": "remove_prop", "key": "a", "prop": "missing"}], "expectedRevision": 0},
        headers={"Atelier-Version-Before": ""},
    )
    body = await response.json()
    assert response.status == 200
    assert body["changeId"] is None
    assert body["revision"] == 0
    listed = await _json(await client.get(f"/api/sessions/{sid}/versions"))
    [version] = listed["versions"]
    assert version["id"] == body["versionId"]
    assert version["label"] == "before ops by api"


async def test_undo_then_redo_by_undoing_the_undo(client: TestClient[Any, Any]) -> None:
    sid = await _create(client)
    change = await _set(client, sid, 5)
    undo = await _json(await client.post(f"/api/sessions/{sid}/changes/{change['changeId']}/undo"))
    state = await _json(await client.get(f"/api/sessions/{sid}/state"))
    assert state["spec"]["elements"]["a"]["props"]["level"] == 1
    assert undo["revision"] == 2
    redo = await _json(await client.post(f"/api/sessions/{sid}/changes/{undo['changeId']}/undo"))
    state = await _json(await client.get(f"/api/sessions/{sid}/state"))
    assert state["spec"]["elements"]["a"]["props"]["level"] == 5
    assert redo["revision"] == 3
    again = await client.post(f"/api/sessions/{sid}/changes/{change['changeId']}/undo")
    assert again.status == 409
    assert (await again.json())["undoneBy"] == undo["changeId"]
