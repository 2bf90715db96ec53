"""The OpenAPI document: valid 3.1, true to the router (both ways), served with its docs page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate

from gateway.openapi import build_document

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
async def client(aiohttp_client: ClientFactory, tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    yield await aiohttp_client(_app(tmp_path, bridge_auth=True))


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
