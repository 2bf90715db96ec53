"""The OpenAPI document: valid 3.1, true to the router (both ways), served with its docs page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate

from gateway.openapi import bridge, build_document, common, engine, plm, versions, workspace

from ..harness import bearer, wait_until
from ..hocus_client import HocusClient, awareness_frame_for
from ..sse import read_events
from .contract import Conforming, answer_validator
from .local import ClientFactory, local_app, token_auth

# Routes that are not part of the three HTTP APIs: operations, sockets, the document itself,
# and web pages (the design workspace's, the sign-in page, static assets).
EXCLUDED = (
    re.compile(r"^/metrics$"),
    re.compile(r"^/ws(/.*)?$"),
    re.compile(r"^/openapi\.json$"),
    re.compile(r"^/docs$"),
    re.compile(r"^/designs(/.*)?$"),
    re.compile(r"^/sessions(/.*)?$"),
    re.compile(r"^/projects(/.*)?$"),
    re.compile(r"^/signin(/.*)?$"),
    re.compile(r"^/assets(/.*)?$"),
    re.compile(r"^/$"),
)
METHODS = ("get", "put", "post", "delete", "patch")


def _app(tmp_path: Path, *, bridge_auth: bool = False) -> web.Application:
    return local_app(tmp_path, auth=token_auth(bridge_auth=bridge_auth))


def _canonical(path: str) -> str:
    """``{name:.+}`` (an aiohttp pattern) reads as ``{name}`` (an OpenAPI template)."""
    return re.sub(r"\{([^}:]+)(:[^}]*)?\}", r"{\1}", path)


def router_operations(app: web.Application) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes():
        if route.method in ("HEAD", "OPTIONS") or route.resource is None:
            continue  # HEAD comes with every GET; OPTIONS is the CORS middleware's
        path = _canonical(route.resource.canonical)
        if any(pattern.match(path) for pattern in EXCLUDED):
            continue
        found.add((route.method.lower(), path))
    return found


def document_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, path) for path, item in document["paths"].items() for method in item if method in METHODS
    }


@pytest.mark.parametrize("bridge_auth", [False, True])
def test_the_document_is_valid_openapi_3_1(bridge_auth: bool) -> None:
    document = build_document(bridge_auth=bridge_auth)
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises with the offending location


def test_every_route_is_documented_and_every_documented_operation_is_routed(tmp_path: Path) -> None:
    routed = router_operations(_app(tmp_path))
    documented = document_operations(build_document(bridge_auth=False))
    assert routed - documented == set(), "routes missing from the document"
    assert documented - routed == set(), "documented operations with no route"
    assert len(documented) >= 49


def test_operation_ids_are_unique_and_every_operation_lists_its_errors() -> None:
    document = build_document(bridge_auth=False)
    ids = [op["operationId"] for item in document["paths"].values() for m, op in item.items() if m in METHODS]
    assert len(ids) == len(set(ids))
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            responses = op["responses"]
            assert any(code.startswith("2") for code in responses), (method, path)
            assert {"429", "503"} <= set(responses), (method, path)
            if op["security"]:
                assert "401" in responses, (method, path)
            if "requestBody" in op:
                assert {"400", "413"} <= set(responses), (method, path)
            if method != "get":
                names = [p.get("$ref", "") for p in op.get("parameters", [])]
                assert "#/components/parameters/IdempotencyKey" in names, (method, path)


def test_no_two_apis_define_the_same_schema_name() -> None:
    # The APIs' schemas are merged into one map: a name used twice (an enum generated from
    # a body type, say) would silently replace the other API's schema.
    seen: dict[str, str] = {}
    clashes = []
    for module in (common, bridge, versions, engine, plm, workspace):
        for name in module.SCHEMAS:
            if name in seen:
                clashes.append((name, seen[name], module.__name__))
            seen[name] = module.__name__
    assert clashes == []


def test_bridge_security_follows_the_bridge_auth_setting() -> None:
    def bridge_security(document: dict[str, Any]) -> list[Any]:
        return [
            op["security"]
            for path, item in document["paths"].items()
            if path.startswith("/api/sessions")
            for method, op in item.items()
            if method in METHODS
        ]

    assert all(s == [] for s in bridge_security(build_document(bridge_auth=False)))
    assert all(s == [{"bearerAuth": []}] for s in bridge_security(build_document(bridge_auth=True)))
    other = build_document(bridge_auth=False)["paths"]["/api/v1/projects"]["get"]
    assert other["security"] == [{"bearerAuth": []}]


@pytest.fixture
async def client(aiohttp_client: ClientFactory, tmp_path: Path) -> TestClient[Any, Any]:
    return await aiohttp_client(_app(tmp_path, bridge_auth=True))


async def test_the_gateway_serves_the_document_and_its_docs_page(client: TestClient[Any, Any]) -> None:
    response = await client.get("/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    served = await response.json()
    assert served == build_document(bridge_auth=True)  # this gateway's setting, not the default

    page = await client.get("/docs")
    assert page.status == 200
    assert page.content_type == "text/html"
    html = await page.text()
    assert "<script" not in html
    assert "http://" not in html
    assert "https://" not in html
    for method, path in document_operations(served):
        assert f'{method.upper()}</span><code class="path">{path}</code>' in html.replace("&#x27;", "'")
    assert 'href="/openapi.json"' in html


async def test_every_presence_shape_the_server_sends_is_in_the_document(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await aiohttp_client(_app(tmp_path))
    created = await client.post("/api/sessions", json={"name": "presence"})
    sid = (await created.json())["session"]["id"]
    await client.post(f"/api/sessions/{sid}/presence", json={"agentId": "rest-only", "status": "idle"})
    await client.post(
        f"/api/sessions/{sid}/presence",
        json={"agentId": "claude", "name": "Claude", "cursor": {"elementKey": "root"}, "status": "working"},
    )
    async with HocusClient(str(client.make_url("/ws"))) as editor:
        await editor.open(sid)
        # a browser as the Hocuspocus provider sets it, one naming an agent, and one whose
        # agentId is also a REST agent's (the REST entry wins that key)
        for client_id, state in (
            (7, {"user": {"name": "Ada", "color": "#f00"}, "cursor": {"anchor": 3, "head": 5}}),
            (8, {"agentId": "browser-agent", "selection": None}),
            (9, {"agentId": "claude", "user": {"name": "Claude in a tab"}}),
        ):
            await editor.send(awareness_frame_for(sid, client_id, 1, orjson.dumps(state).decode()))

        async def presence() -> dict[str, Any]:
            body: dict[str, Any] = await (await client.get(f"/api/sessions/{sid}/presence")).json()
            return body

        body = await wait_until(presence, lambda b: len(b["presence"]) == 4)

    entries = body["presence"]
    assert set(entries) == {"rest-only", "claude", "browser-agent", "client:7"}
    assert entries["claude"]["name"] == "Claude"
    assert "clientId" not in entries["claude"]
    assert entries["client:7"]["clientId"] == 7
    assert entries["browser-agent"]["clientId"] == 8
    document = build_document(bridge_auth=False)
    for method in ("get", "post"):
        validator = answer_validator(document, "/api/sessions/{id}/presence", method)
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
        assert errors == [], errors
    # the document can still tell a wrong entry: neither an agent's nor an editor's shape
    wrong = {"ok": True, "presence": {"x": {"name": "no agentId nor clientId"}}}
    assert list(answer_validator(document, "/api/sessions/{id}/presence", "get").iter_errors(wrong))


async def test_every_bridge_answer_fits_the_schema_generated_from_its_type(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    """The Bridge's answers are typed (``actors/bridge/answers.py``) and their schemas are
    generated from those types: what the server sends must fit them, nulls and omissions too."""
    client = await aiohttp_client(_app(tmp_path))
    document = build_document(bridge_auth=False)
    send = Conforming(client).send

    spec = {"root": "a", "elements": {"a": {"type": "Card", "props": {"title": "T"}, "children": []}}}
    created = await send("post", "/api/sessions", "/api/sessions", 201, json={"name": "typed", "spec": spec})
    base = f"/api/sessions/{created['session']['id']}"
    await send("get", "/api/sessions/{id}", base)
    await send("get", "/api/sessions", "/api/sessions?limit=5")
    await send("get", "/api/sessions/{id}/state", f"{base}/state")
    version = (
        await send("post", "/api/sessions/{id}/versions", f"{base}/versions", 201, json={"label": "v1"})
    )["version"]
    ops = {"ops": [{"op": "set_prop", "key": "a", "prop": "title", "value": "U"}, {"op": "nope"}]}
    applied = await send(
        "post", "/api/sessions/{id}/ops", f"{base}/ops", json=ops, headers={"Atelier-Version-Before": "b"}
    )
    nothing = await send("post", "/api/sessions/{id}/ops", f"{base}/ops", json={"ops": []})
    assert applied["versionId"]
    assert applied["errors"]
    assert nothing["changeId"] is None
    assert "versionId" not in nothing  # left out, not null: no version was asked for
    await send("get", "/api/sessions/{id}/versions", f"{base}/versions")
    await send("get", "/api/sessions/{id}/versions/{vid}/state", f"{base}/versions/{version['id']}/state")
    await send(
        "get", "/api/sessions/{id}/versions/{a}/diff/{b}", f"{base}/versions/{version['id']}/diff/current"
    )
    await send("post", "/api/sessions/{id}/changes/{cid}/undo", f"{base}/changes/{applied['changeId']}/undo")
    await send(
        "post", "/api/sessions/{id}/versions/{vid}/restore", f"{base}/versions/{version['id']}/restore"
    )
    # The generated schemas can still tell a wrong answer.
    wrong = {"ok": True, "revision": "3", "applied": 0, "errors": [], "changeId": None}
    assert list(answer_validator(document, "/api/sessions/{id}/ops", "post").iter_errors(wrong))


async def test_every_design_engine_answer_fits_the_schema_generated_from_its_type(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    """The design engine's answers are typed (``actors/engine/answers.py``) and closed: the
    session client refuses a field the type does not know, and the document says so too."""
    client = await aiohttp_client(_app(tmp_path))
    headers = bearer("typed")
    conforming = Conforming(client, headers)

    async def send(method: str, template: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        return (await conforming.send(method, template, path, status, **kwargs))["data"]

    program = await send("post", "/api/programs", "/api/programs", 201, json={"name": "Karts"})
    programs = f"/api/programs/{program['program']['id']}"
    await send("get", "/api/programs", "/api/programs")
    await send("get", "/api/programs/{id}", programs)
    await send("post", "/api/programs/{id}/members", f"{programs}/members", 201, json={"userId": "bob"})
    design = await send("post", "/api/programs/{id}/designs", f"{programs}/designs", 201, json={"name": "K1"})
    await send("get", "/api/programs/{id}/designs", f"{programs}/designs")
    await send("get", "/api/designs/{id}", f"/api/designs/{design['design']['id']}")
    await send("get", "/api/designs/{id}/bom", f"/api/designs/{design['design']['id']}/bom")
    await send("get", "/api/items", "/api/items?query=kart")
    base = "/api/design-engine/sessions"
    created = await send(
        "post", base, base, 201, json={"description": "a go-kart", "programId": program["program"]["id"]}
    )
    one = f"{base}/{created['session']['id']}"
    assert "artifacts" not in created["session"]  # the created answer is the summary and its page
    await send("get", base + "/{id}", one)
    await send("patch", base + "/{id}", one, json={"description": "a go-kart with two seats"})
    await send("get", base, base)
    async with client.post(
        f"{one}/stream", json={"action": "start_requirements"}, headers=headers
    ) as response:
        assert [event.event async for event in read_events(response)][-1] == "done"
    page = await send("get", base + "/{id}/events", f"{one}/events?limit=3")
    assert page["more"] is True
    assert len(page["events"]) == 3
    confirmed = await send(
        "post", base + "/{id}/stream", f"{one}/stream", json={"action": "confirm_requirements"}
    )
    assert confirmed["confirmed"] == "requirements"
    assert confirmed["session"]["stage"] == "bom_drafting"


async def test_every_workspace_session_answer_fits_the_schema_generated_from_its_type(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    """The workspace's session answers are typed (``actors/workspace/answers.py``) and closed."""
    client = await aiohttp_client(_app(tmp_path))
    send = Conforming(client, bearer("typed")).send

    v1 = "/api/v1"
    project = (
        await send("post", v1 + "/projects", v1 + "/projects", 201, json={"name": "R&D", "fiscalYear": 2025})
    )["project"]
    await send("get", v1 + "/projects", v1 + "/projects")
    await send("get", v1 + "/projects/{projectId}", f"{v1}/projects/{project['id']}")
    await send(
        "patch", v1 + "/projects/{projectId}", f"{v1}/projects/{project['id']}", json={"description": "d"}
    )
    files = f"{v1}/projects/{project['id']}/files"
    form = aiohttp.FormData()
    form.add_field("file", b"notes", filename="notes.txt", content_type="text/plain")
    uploaded = await send("post", v1 + "/projects/{projectId}/files", files, 201, data=form)
    await send("get", v1 + "/projects/{projectId}/files", files)
    await send("get", v1 + "/files/{fileId}", f"{v1}/files/{uploaded['file']['id']}")
    sessions = v1 + "/projects/{projectId}/sessions"
    base = f"{v1}/projects/{project['id']}/sessions"
    session = (await send("post", sessions, base, 201, json={"type": "T661"}))["session"]
    await send("get", sessions, base)
    assert session["title"] is None
    one = f"{base}/{session['id']}"
    await send("get", sessions + "/{sessionId}", one)
    await send("patch", sessions + "/{sessionId}/title", f"{one}/title", json={"title": "Claim"})
    await send("patch", sessions + "/{sessionId}/status", f"{one}/status", json={"status": "COMPLETED"})
    runs = f"{v1}/sessions/{session['id']}/runs"
    result = await send(
        "post", v1 + "/sessions/{sessionId}/runs", runs, json={"type": "T661", "input": "hello"}
    )
    run = await send("get", v1 + "/sessions/{sessionId}/runs/{runId}", f"{runs}/{result['runId']}")
    assert run["status"] == "succeeded"
    history = await send(
        "get", v1 + "/sessions/{sessionId}/history", f"{v1}/sessions/{session['id']}/history"
    )
    assert [m["role"] for m in history["messages"]] == ["USER", "ASSISTANT"]
    quota = await send("get", v1 + "/quota", v1 + "/quota")
    assert quota["used"] == 1
