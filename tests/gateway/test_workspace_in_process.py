"""The workspace routes decode their bodies and query parameters by type: a refusal is a 400
naming the field, whether the gateway refuses it or the session host does after decoding
(the body crosses to the host inside its op)."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from ..harness import bearer

ADA = bearer("ada")


async def _refused(response: ClientResponse, field: str) -> str:
    body = await response.json()
    assert response.status == 400, body
    assert body["field"] == field, body
    assert body["error"].startswith(f"{field}: "), body
    return str(body["error"])


async def _session(client: TestClient[Any, Any]) -> tuple[str, str]:
    created = await client.post("/api/v1/projects", headers=ADA, json={"name": " p ", "fiscalYear": 2025})
    project = (await created.json())["project"]
    assert (created.status, project["name"], project["fiscalYear"]) == (201, "p", "2025")
    response = await client.post(
        f"/api/v1/projects/{project['id']}/sessions", headers=ADA, json={"type": "T661", "title": " Claim "}
    )
    session = (await response.json())["session"]
    assert (response.status, session["title"]) == (201, "Claim")
    return str(project["id"]), str(session["id"])


async def test_project_bodies_are_refused_by_field(client: TestClient[Any, Any]) -> None:
    url = "/api/v1/projects"
    error = await _refused(
        await client.post(url, headers=ADA, json={"name": "p", "fiscalYear": "FY25"}), "fiscalYear"
    )
    assert error == "fiscalYear: must match ^[12][0-9]{3}$"
    unknown = await client.post(url, headers=ADA, json={"name": "p", "fiscalYear": 2025, "owner": "bob"})
    assert await _refused(unknown, "owner") == "owner: unknown field"
    project, _ = await _session(client)
    empty = await client.patch(f"{url}/{project}", headers=ADA, json={})
    assert "nothing to update" in await _refused(empty, "body")
    blank = await client.patch(f"{url}/{project}", headers=ADA, json={"name": "  "})
    assert await _refused(blank, "name") == "name: must not be empty"


async def test_session_and_run_bodies_are_refused_by_field(client: TestClient[Any, Any]) -> None:
    project, session = await _session(client)
    base = f"/api/v1/projects/{project}/sessions"
    error = await _refused(await client.post(base, headers=ADA, json={"type": "T662"}), "type")
    assert (
        error
        == "type: unknown value 'T662' (one of PRECHECK, T661, T661_GEN, T661_DRAFT, T661_ANALYSIS, LOGBOOK)"
    )
    # Checked by the session host after decoding: the error crosses back with its field.
    title = await client.patch(f"{base}/{session}/title", headers=ADA, json={"title": "  "})
    assert await _refused(title, "title") == "title: must not be empty"
    status = await client.patch(f"{base}/{session}/status", headers=ADA, json={"status": "ARCHIVED"})
    assert (await status.json())["session"]["status"] == "ARCHIVED"
    runs = f"/api/v1/sessions/{session}/runs"
    twice = {"type": "T661", "input": "x", "selected_file_ids": ["f1", "f1"]}
    assert await _refused(await client.post(runs, headers=ADA, json=twice), "selected_file_ids[1]") == (
        "selected_file_ids[1]: file f1 is selected twice"
    )
    camel = {"type": "T661", "input": "x", "selectedFileIds": ["f1"]}
    await _refused(await client.post(runs, headers=ADA, json=camel), "selectedFileIds")


async def test_query_parameters_are_decoded_then_checked_against_the_settings(
    client: TestClient[Any, Any],
) -> None:
    _, session = await _session(client)
    history = f"/api/v1/sessions/{session}/history"
    await _refused(await client.get(f"{history}?limit=ten", headers=ADA), "limit")
    clamped = await client.get(f"{history}?limit=500", headers=ADA)  # clamped to 200, not refused
    assert clamped.status == 200
    assert (await clamped.json())["messages"] == []
    await _refused(await client.get("/api/v1/projects?limit=0", headers=ADA), "limit")
    too_many = await client.get("/api/v1/projects?limit=100000", headers=ADA)
    assert await _refused(too_many, "limit") == "limit: must be between 1 and 200"
    page = await client.get("/api/v1/projects?limit=1&offset=0&_=1", headers=ADA)
    assert page.status == 200
    assert len((await page.json())["projects"]) == 1
