"""The workspace API through HTTP with real Ray and both stores: files, runs, quotas, scoping."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest
import ray

from actors.llm.settings import LlmSettings
from actors.workspace.quota import QuotaPolicy
from actors.workspace.settings import AgentSettings, WorkspaceSettings

from ..fakes.openai_server import FakeOpenAI, Turn
from ..harness import Gateway, MakeGateway, bearer, wait_until
from ..sse import read_events
from ..unit.workspace.samples import make_pdf

pytestmark = pytest.mark.integration


async def _project(gw: Gateway, user: str) -> str:
    status, body = await gw.request(
        "POST",
        "/api/v1/projects",
        headers=bearer(user),
        json={"name": "Widget R&D", "fiscalYear": "2025", "description": "trial"},
    )
    assert status == 201, body
    return str(body["project"]["id"])


async def _session(gw: Gateway, user: str, project: str, kind: str = "T661") -> str:
    status, body = await gw.request(
        "POST",
        f"/api/v1/projects/{project}/sessions",
        headers=bearer(user),
        json={"type": kind, "title": "Claim"},
    )
    assert status == 201, body
    return str(body["session"]["id"])


async def _upload(gw: Gateway, user: str, project: str, name: str, data: bytes, content_type: str) -> str:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type=content_type)
    status, body = await gw.request(
        "POST", f"/api/v1/projects/{project}/files", data=form, headers=bearer(user)
    )
    assert status == 201, body
    return str(body["file"]["id"])


async def _ready(gw: Gateway, user: str, file_id: str) -> dict[str, Any]:
    _, body = await wait_until(
        lambda: gw.request("GET", f"/api/v1/files/{file_id}", headers=bearer(user)),
        lambda r: r[1]["file"]["status"] in ("READY", "FAILED"),
        timeout=60,
    )
    return dict(body["file"])


async def test_the_typical_flow_with_a_pdf_read_through_its_signed_url(gateway: Gateway) -> None:
    project = await _project(gateway, "ada")
    session = await _session(gateway, "ada", project)
    pdf = make_pdf([["Experimental development log", "Hypothesis: a lighter frame"]])
    file_id = await _upload(gateway, "ada", project, "log.pdf", pdf, "application/pdf")
    record = await _ready(gateway, "ada", file_id)
    assert record["status"] == "READY"
    assert record["chunks"] >= 1

    status, body = await gateway.request(
        "POST",
        f"/api/v1/sessions/{session}/runs",
        headers=bearer("ada"),
        json={"type": "T661", "input": "Draft line 242", "selected_file_ids": [file_id]},
    )
    assert status == 200, body
    assert set(body) == {"runId", "python", "messages", "selectedFileIds"}
    assert body["selectedFileIds"] == [file_id]
    assert body["python"]["status"] == "succeeded"
    assert "Experimental development log" in body["python"]["output"]  # the worker read the PDF
    assert set(body["messages"]) == {"userMessageId", "assistantMessageId"}

    status, history = await gateway.request(
        "GET", f"/api/v1/sessions/{session}/history?limit=500", headers=bearer("ada")
    )
    assert status == 200
    assert [m["role"] for m in history["messages"]] == ["USER", "ASSISTANT"]
    assert [m["id"] for m in history["messages"]] == [
        body["messages"]["userMessageId"],
        body["messages"]["assistantMessageId"],
    ]
    status, run = await gateway.request(
        "GET", f"/api/v1/sessions/{session}/runs/{body['runId']}", headers=bearer("ada")
    )
    assert status == 200
    assert run["status"] == "succeeded"
    assert run["durationMs"] is not None

    # No file attached unless selected; a foreign or unknown file is 422 naming it.
    status, plain = await gateway.request(
        "POST",
        f"/api/v1/sessions/{session}/runs",
        headers=bearer("ada"),
        json={"type": "T661", "input": "again"},
    )
    assert status == 200
    assert plain["selectedFileIds"] == []
    other = await _project(gateway, "ada")
    foreign = await _upload(gateway, "ada", other, "notes.txt", b"other project", "text/plain")
    await _ready(gateway, "ada", foreign)
    status, refused = await gateway.request(
        "POST",
        f"/api/v1/sessions/{session}/runs",
        headers=bearer("ada"),
        json={"type": "T661", "input": "x", "selected_file_ids": [foreign]},
    )
    assert status == 422
    assert refused["fileId"] == foreign
    assert refused["field"].startswith("selected_file_ids")


async def test_signed_urls_refuse_tampering_and_scoping_holds(gateway: Gateway) -> None:
    project = await _project(gateway, "ada")
    session = await _session(gateway, "ada", project)
    file_id = await _upload(gateway, "ada", project, "a.md", b"# Notes\nline", "text/markdown")
    await _ready(gateway, "ada", file_id)
    for path in (
        f"/api/v1/files/{file_id}/download",
        f"/api/v1/files/{file_id}/download?expires=1&signature=00",
    ):
        status, body = await gateway.request("GET", path)
        assert status == 403, body
    base = f"/api/v1/projects/{project}"
    for method, path, body in [
        ("GET", base, None),
        ("PATCH", base, {"name": "mine"}),
        ("GET", base + "/sessions", None),
        ("GET", f"{base}/sessions/{session}", None),
        ("PATCH", f"{base}/sessions/{session}/title", {"title": "x"}),
        ("PATCH", f"{base}/sessions/{session}/status", {"status": "ARCHIVED"}),
        ("GET", f"/api/v1/sessions/{session}/history", None),
        ("GET", f"/api/v1/files/{file_id}", None),
        ("POST", f"/api/v1/sessions/{session}/runs", {"type": "T661", "input": "x"}),
        ("GET", base + "/files", None),
        ("DELETE", f"/api/v1/files/{file_id}", None),
        ("DELETE", f"{base}/sessions/{session}", None),
        ("DELETE", base, None),
    ]:
        status, payload = await gateway.request(method, path, json=body, headers=bearer("bob"))
        assert status == 403, (method, path, payload)
        status, payload = await gateway.request(method, path, json=body)
        assert status == 401, (method, path, payload)
    status, _ = await gateway.request("DELETE", base, headers=bearer("ada"))
    assert status == 200
    assert (await gateway.request("GET", f"/api/v1/files/{file_id}", headers=bearer("ada")))[0] == 404


async def test_twenty_concurrent_runs_against_a_quota_of_five(make_gateway: MakeGateway) -> None:
    gw = await make_gateway(workspace=WorkspaceSettings(quota=QuotaPolicy(limit=5)))
    user = f"quota-{uuid.uuid4().hex[:8]}"  # the ledger is per user: a fresh one per run
    project = await _project(gw, user)
    sessions = [await _session(gw, user, project, "PRECHECK") for _ in range(20)]
    results = await asyncio.gather(
        *(
            gw.request(
                "POST",
                f"/api/v1/sessions/{s}/runs",
                headers=bearer(user),
                json={"type": "PRECHECK", "input": f"run {n}"},
            )
            for n, s in enumerate(sessions)
        )
    )
    statuses = [status for status, _ in results]
    assert statuses.count(200) == 5, statuses
    assert statuses.count(429) == 15, statuses
    refused = next(body for status, body in results if status == 429)
    assert refused["quota"]["limit"] == 5
    assert refused["quota"]["resetsAt"]


async def test_a_worker_killed_mid_run_fails_the_run_and_rolls_the_quota_back(
    make_gateway: MakeGateway,
) -> None:
    slow = WorkspaceSettings(quota=QuotaPolicy(limit=3), workers=1, agent=AgentSettings(offline_delay=0.2))
    gw = await make_gateway(workspace=slow)
    user = f"killed-{uuid.uuid4().hex[:8]}"
    project = await _project(gw, user)
    session = await _session(gw, user, project)
    assert gw.http is not None
    async with gw.http.post(
        f"/api/v1/sessions/{session}/runs",
        headers={**bearer(user), "Accept": "text/event-stream"},
        json={"type": "T661", "input": "a long answer please"},
    ) as response:
        events = read_events(response)
        first = await anext(events)
        assert first.event == "run_event"
        assert first.json()["type"] == "output"
        ray.kill(
            ray.get_actor("atelier-run-worker-0", namespace=gw.settings.actors.namespace), no_restart=False
        )
        rest = [event async for event in events]
    result = next(e.json() for e in rest if e.event == "run_event" and e.json()["type"] == "result")
    assert result["python"]["status"] == "failed"
    assert rest[-1].event == "done"
    status, run = await gw.request(
        "GET", f"/api/v1/sessions/{session}/runs/{result['runId']}", headers=bearer(user)
    )
    assert run["status"] == "failed"
    # The reservation came back: three more runs fit in a quota of three.
    for n in range(3):
        status, body = await gw.request(
            "POST",
            f"/api/v1/sessions/{session}/runs",
            headers=bearer(user),
            json={"type": "T661", "input": f"again {n}"},
        )
        assert status == 200, body
        assert body["python"]["status"] == "succeeded", body
    _, history = await gw.request("GET", f"/api/v1/sessions/{session}/history", headers=bearer(user))
    assert [m["role"] for m in history["messages"]][:1] == ["USER"]  # the failed run's message is kept


async def test_the_openai_path(make_gateway: MakeGateway) -> None:
    async with FakeOpenAI([Turn(text=["Line 242: ", "the work advanced the state of the art."])]) as server:
        llm = LlmSettings(api_key="k", base_url=server.base_url, max_retries=0, timeout=10)
        gw = await make_gateway(workspace=WorkspaceSettings(llm=llm))
        project = await _project(gw, "ada")
        session = await _session(gw, "ada", project)
        status, body = await gw.request(
            "POST",
            f"/api/v1/sessions/{session}/runs",
            headers=bearer("ada"),
            json={"type": "T661", "input": "Draft line 242"},
        )
        assert status == 200
        assert body["python"]["output"] == "Line 242: the work advanced the state of the art."
        assert any("Draft line 242" in str(m.get("content")) for m in server.requests[0].messages)


def test_signed_url_shape_is_path_and_query() -> None:
    parts = urlsplit("http://h/api/v1/files/f/download?expires=1&signature=ab")
    assert dict(parse_qsl(parts.query)) == {"expires": "1", "signature": "ab"}


async def test_one_run_at_a_time_cancel_and_unready_files(make_gateway: MakeGateway) -> None:
    gw = await make_gateway(workspace=WorkspaceSettings(agent=AgentSettings(offline_delay=0.2)))
    user = f"busy-{uuid.uuid4().hex[:8]}"
    project = await _project(gw, user)
    session = await _session(gw, user, project)
    broken = await _upload(gw, user, project, "image.png", b"\x89PNG\r\n\x1a\n not text", "image/png")
    record = await _ready(gw, user, broken)
    assert record["status"] == "FAILED"
    assert record["reason"]
    status, refused = await gw.request(
        "POST",
        f"/api/v1/sessions/{session}/runs",
        headers=bearer(user),
        json={"type": "T661", "input": "x", "selected_file_ids": [broken]},
    )
    assert status == 422
    assert refused["reason"] == "not_ready"
    assert refused["fileId"] == broken

    assert gw.http is not None
    async with gw.http.post(
        f"/api/v1/sessions/{session}/runs",
        headers={**bearer(user), "Accept": "text/event-stream"},
        json={"type": "T661", "input": "long"},
    ) as response:
        events = read_events(response)
        first = await anext(events)
        run_id = first.json().get("runId") or ""
        status, busy = await gw.request(
            "POST",
            f"/api/v1/sessions/{session}/runs",
            headers=bearer(user),
            json={"type": "T661", "input": "second"},
        )
        assert status == 409
        assert busy["runId"]
        run_id = busy["runId"]
        status, cancelled = await gw.request(
            "POST", f"/api/v1/sessions/{session}/runs/{run_id}/cancel", headers=bearer(user)
        )
        assert status == 200, cancelled
        assert cancelled["status"] == "cancelled", cancelled
        rest = [event async for event in events]
    assert rest[-1].event == "done"
    status, run = await gw.request("GET", f"/api/v1/sessions/{session}/runs/{run_id}", headers=bearer(user))
    assert run["status"] == "cancelled"
    # The cancelled run's reservation came back and the session takes runs again.
    status, body = await gw.request(
        "POST",
        f"/api/v1/sessions/{session}/runs",
        headers=bearer(user),
        json={"type": "T661", "input": "after"},
    )
    assert status == 200
    assert body["python"]["status"] == "succeeded"
