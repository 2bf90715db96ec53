"""The Bridge REST API end to end: real gateway, real Ray actors, SQLite and Postgres."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from ..harness import Gateway, wait_until

pytestmark = pytest.mark.integration

LOGIN_SPEC: dict[str, Any] = {
    "root": "container",
    "elements": {
        "container": {"type": "Card", "props": {"className": "p-6"}, "children": ["heading"]},
        "heading": {"type": "Heading", "props": {"level": 2, "children": "Login"}},
    },
}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_health(gateway: Gateway) -> None:
    assert await gateway.request("GET", "/health") == (200, {"ok": True})


async def test_create_returns_documented_shape(gateway: Gateway) -> None:
    status, body = await gateway.request(
        "POST",
        "/api/sessions",
        json={"name": "Login Page", "description": "A login form", "spec": LOGIN_SPEC},
    )
    assert status == 201
    assert body["ok"] is True
    session = body["session"]
    assert set(session) == {"id", "name", "description", "revision", "createdAt", "updatedAt"}
    assert session["name"] == "Login Page"
    assert session["description"] == "A login form"
    assert session["revision"] == 0
    assert ISO.match(session["createdAt"])
    assert session["createdAt"] == session["updatedAt"]

    status, got = await gateway.request("GET", f"/api/sessions/{session['id']}")
    assert (status, got) == (200, {"ok": True, "session": session})

    status, listed = await gateway.request("GET", "/api/sessions")
    assert status == 200
    assert listed["ok"] is True
    assert session in listed["sessions"]


async def test_create_defaults(gateway: Gateway) -> None:
    status, body = await gateway.request("POST", "/api/sessions")
    assert status == 201
    assert body["session"]["name"] == "Untitled"
    assert body["session"]["description"] == ""
    status, state = await gateway.request("GET", f"/api/sessions/{body['session']['id']}/state")
    assert status == 200
    assert state["spec"] == {"root": "", "elements": {}}
    assert state["theme"] == {"hue": 264, "chroma": 0.24, "grayChroma": 0.01, "radius": 0.625}
    assert state["themeCSS"].startswith(":root {")


async def test_state_has_spec_theme_css_and_meta(gateway: Gateway) -> None:
    session_id = await gateway.create(
        name="Login Page",
        spec=LOGIN_SPEC,
        theme={"hue": 120, "chroma": 0.1, "grayChroma": 0.02, "radius": 0.5, "font": "Inter"},
    )
    status, state = await gateway.request("GET", f"/api/sessions/{session_id}/state")
    assert status == 200
    assert set(state) == {"ok", "spec", "theme", "themeCSS", "meta"}
    assert state["spec"] == {
        "root": "container",
        "elements": {
            "container": {"type": "Card", "props": {"className": "p-6"}, "children": ["heading"]},
            "heading": {"type": "Heading", "props": {"level": 2, "children": "Login"}},
        },
    }
    assert state["theme"] == {"hue": 120, "chroma": 0.1, "grayChroma": 0.02, "radius": 0.5, "font": "Inter"}
    assert "--primary:" in state["themeCSS"]
    assert " 120;" in state["themeCSS"]
    assert "--radius: 0.5rem;" in state["themeCSS"]
    assert "--font-sans: Inter" in state["themeCSS"]
    assert state["meta"]["id"] == session_id
    assert state["meta"]["name"] == "Login Page"
    assert state["meta"]["revision"] == 0


async def test_all_ten_ops(gateway: Gateway) -> None:
    session_id = await gateway.create(spec=LOGIN_SPEC)
    ops: list[dict[str, Any]] = [
        {
            "op": "add_element",
            "key": "form",
            "parentKey": "container",
            "element": {"type": "Form", "props": {}},
        },
        {
            "op": "add_element",
            "key": "email",
            "parentKey": "form",
            "element": {"type": "Input", "props": {"type": "email"}},
        },
        {
            "op": "add_element",
            "key": "submit",
            "parentKey": "form",
            "index": 0,
            "element": {"type": "Button", "props": {"children": "Go"}},
        },
        {"op": "update_props", "key": "submit", "props": {"className": "w-full", "variant": "default"}},
        {"op": "set_prop", "key": "heading", "prop": "children", "value": "Welcome Back"},
        {"op": "remove_prop", "key": "submit", "prop": "variant"},
        {"op": "reorder_children", "key": "form", "children": ["email", "submit"]},
        {"op": "set_theme", "theme": {"hue": 30}},
    ]
    status, body = await gateway.request(
        "POST", f"/api/sessions/{session_id}/ops", json={"ops": ops, "agentId": "claude"}
    )
    assert status == 200
    assert isinstance(body.pop("changeId"), str)
    assert body == {"ok": True, "revision": 1, "applied": 8, "errors": []}
    status, state = await gateway.request("GET", f"/api/sessions/{session_id}/state")
    elements = state["spec"]["elements"]
    assert elements["container"]["children"] == ["heading", "form"]
    assert elements["form"] == {"type": "Form", "props": {}, "children": ["email", "submit"]}
    assert elements["submit"]["props"] == {"children": "Go", "className": "w-full"}
    assert elements["heading"]["props"]["children"] == "Welcome Back"
    assert state["theme"]["hue"] == 30
    assert " 30;" in state["themeCSS"]
    assert state["meta"]["revision"] == 1

    more: list[dict[str, Any]] = [
        {"op": "remove_element", "key": "form"},
        {"op": "set_root", "root": "heading"},
        {"op": "set_theme_css", "css": ":root { --primary: 50% 0.1 10; }"},
    ]
    status, body = await gateway.request("POST", f"/api/sessions/{session_id}/ops", json={"ops": more})
    assert status == 200
    assert isinstance(body.pop("changeId"), str)
    assert body == {"ok": True, "revision": 2, "applied": 3, "errors": []}
    status, state = await gateway.request("GET", f"/api/sessions/{session_id}/state")
    assert state["spec"]["root"] == "heading"
    assert set(state["spec"]["elements"]) == {"container", "heading"}
    assert state["themeCSS"] == ":root { --primary: 50% 0.1 10; }"

    replacement = {"root": "a", "elements": {"a": {"type": "Text", "props": {"children": "hi"}}}}
    status, body = await gateway.request(
        "POST", f"/api/sessions/{session_id}/ops", json={"ops": [{"op": "replace_spec", "spec": replacement}]}
    )
    assert (status, body["revision"], body["applied"]) == (200, 3, 1)
    status, state = await gateway.request("GET", f"/api/sessions/{session_id}/state")
    assert state["spec"] == {"root": "a", "elements": {"a": {"type": "Text", "props": {"children": "hi"}}}}
    status, meta = await gateway.request("GET", f"/api/sessions/{session_id}")
    assert meta["session"]["revision"] == 3


async def test_invalid_ops_reported_and_skipped(gateway: Gateway) -> None:
    session_id = await gateway.create(spec=LOGIN_SPEC)
    ops: list[Any] = [
        {"op": "set_prop", "key": "missing", "prop": "x", "value": 1},
        {"op": "set_prop", "key": "heading", "prop": "children", "value": "Hi"},
        {"op": "teleport"},
        "not an op",
        {"op": "set_theme", "theme": {"hue": 999}},
        {"op": "add_element", "key": "x", "parentKey": "nowhere", "element": {"type": "T", "props": {}}},
    ]
    status, body = await gateway.request("POST", f"/api/sessions/{session_id}/ops", json={"ops": ops})
    assert status == 200
    assert body["applied"] == 1
    assert body["revision"] == 1
    assert [e["index"] for e in body["errors"]] == [0, 2, 3, 4, 5]
    assert "missing" in body["errors"][0]["error"]
    assert "hue" in body["errors"][3]["error"]
    status, state = await gateway.request("GET", f"/api/sessions/{session_id}/state")
    assert state["spec"]["elements"]["heading"]["props"]["children"] == "Hi"
    assert "x" not in state["spec"]["elements"]
    assert state["theme"]["hue"] == 264

    # A request where nothing applies does not advance the revision.
    status, body = await gateway.request(
        "POST", f"/api/sessions/{session_id}/ops", json={"ops": [{"op": "remove_element", "key": "nope"}]}
    )
    assert (status, body["applied"], body["revision"], len(body["errors"])) == (200, 0, 1, 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 5}, "name"),
        ({"description": ["x"]}, "description"),
        ({"spec": {"root": "a", "elements": {"a": {"type": 3, "props": {}}}}}, "spec"),
        ({"spec": "nope"}, "spec"),
        ({"theme": {"hue": 400}}, "theme.hue"),
        ({"theme": {"chroma": "high"}}, "theme.chroma"),
        ({"theme": {"grayChroma": 0.5}}, "theme.grayChroma"),
        ([1, 2], "body"),
    ],
)
async def test_create_rejects_bad_fields(gateway: Gateway, body: Any, field: str) -> None:
    before = (await gateway.request("GET", "/api/sessions"))[1]["sessions"]
    status, error = await gateway.request("POST", "/api/sessions", json=body)
    assert status == 400
    assert error["field"].startswith(field)
    assert field.split(".")[0] in error["error"]
    after = (await gateway.request("GET", "/api/sessions"))[1]["sessions"]
    assert len(after) == len(before)


async def test_ops_rejects_bad_bodies(gateway: Gateway) -> None:
    session_id = await gateway.create(spec=LOGIN_SPEC)
    path = f"/api/sessions/{session_id}/ops"
    status, body = await gateway.request("POST", path, data=b"{not json")
    assert status == 400
    assert "malformed JSON" in body["error"]
    status, body = await gateway.request("POST", path, json={"ops": "x"})
    assert (status, body["field"]) == (400, "ops")
    status, body = await gateway.request("POST", path, json={"ops": [], "agentId": 7})
    assert (status, body["field"]) == (400, "agentId")
    huge = b'{"ops": [], "pad": "' + b"x" * (gateway.settings.max_body_bytes + 10) + b'"}'
    # A file-like body: aiohttp warns that bytes this large sent at once block the event loop.
    status, body = await gateway.request("POST", path, data=io.BytesIO(huge))
    assert status == 413
    assert "exceeds" in body["error"]
    # Nothing was applied by any of them.
    status, state = await gateway.request("GET", f"/api/sessions/{session_id}")
    assert state["session"]["revision"] == 0


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("GET", "/state"),
        ("POST", "/ops"),
        ("POST", "/presence"),
        ("DELETE", ""),
        ("GET", "/presence"),
    ],
)
async def test_unknown_session_is_404(gateway: Gateway, method: str, suffix: str) -> None:
    kwargs: dict[str, Any] = {}
    if method == "POST":  # a valid body for the route: the session's absence is all that is wrong
        kwargs["json"] = {"ops": [], "agentId": "a"} if suffix == "/ops" else {"agentId": "a"}
    for session_id in ("0b7e5c1e-0000-4000-8000-000000000000", "bad%20id"):
        status, body = await gateway.request(method, f"/api/sessions/{session_id}{suffix}", **kwargs)
        assert (status, body) == (404, {"error": "Session not found"})


async def test_presence(gateway: Gateway) -> None:
    session_id = await gateway.create()
    path = f"/api/sessions/{session_id}/presence"
    status, body = await gateway.request(
        "POST", path, json={"agentId": "claude", "status": "working", "name": "Claude"}
    )
    assert status == 200
    assert body["ok"] is True
    entry = body["presence"]["claude"]
    assert {k: entry[k] for k in ("agentId", "status", "name")} == {
        "agentId": "claude",
        "status": "working",
        "name": "Claude",
    }
    assert ISO.match(entry["updatedAt"])
    status, body = await gateway.request(
        "POST", path, json={"agentId": "gpt", "cursor": {"elementKey": "heading"}}
    )
    assert set(body["presence"]) == {"claude", "gpt"}
    assert body["presence"]["gpt"]["cursor"] == {"elementKey": "heading"}
    status, body = await gateway.request("POST", path, json={"status": "idle"})
    assert (status, body["field"]) == (400, "agentId")
    status, body = await gateway.request("POST", path, json={"agentId": "x", "cursor": "heading"})
    assert (status, body["field"]) == (400, "cursor")
    # Entries expire after the presence timeout (1.5 s in this gateway).
    await wait_until(lambda: gateway.request("GET", path), lambda r: r[1]["presence"] == {}, timeout=10)


async def test_delete(gateway: Gateway) -> None:
    session_id = await gateway.create(spec=LOGIN_SPEC)
    await gateway.request("POST", f"/api/sessions/{session_id}/presence", json={"agentId": "a"})
    assert await gateway.request("DELETE", f"/api/sessions/{session_id}") == (200, {"ok": True})
    for suffix in ("", "/state"):
        assert (await gateway.request("GET", f"/api/sessions/{session_id}{suffix}"))[0] == 404
    ids = [s["id"] for s in (await gateway.request("GET", "/api/sessions"))[1]["sessions"]]
    assert session_id not in ids
    assert (await gateway.request("DELETE", f"/api/sessions/{session_id}"))[0] == 404


async def test_cors(gateway: Gateway) -> None:
    assert gateway.http is not None
    async with gateway.http.get("/health") as response:
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Content-Type"].startswith("application/json")
    async with gateway.http.options(
        "/api/sessions",
        headers={
            "Origin": "http://x",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    ) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert response.headers["Access-Control-Allow-Headers"] == "content-type"
    async with gateway.http.get("/api/sessions/nope-404") as response:
        assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_metrics(gateway: Gateway) -> None:
    await gateway.request("GET", "/health")
    assert gateway.http is not None
    async with gateway.http.get("/metrics") as response:
        text = await response.text()
    assert response.status == 200
    assert 'atelier_http_requests_total{method="GET",route="/health",status="200"}' in text
