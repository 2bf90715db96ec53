"""Regressions for what schemathesis found: each answered 500, or wedged the gateway's store link.

In-process (no Ray): the routes must refuse these values before any session call.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from ..harness import bearer

TOO_BIG = str(2**64)  # msgpack cannot carry it: it used to kill the store link's writer
NOT_ASCII = "\u00b2"  # "²": str.isdigit says yes, int() says no (a 500)


@pytest.mark.parametrize(
    "path",
    [
        "/api/sessions?offset={}",
        "/api/sessions?limit={}",
        "/api/design-engine/sessions?offset={}",
        "/api/design-engine/sessions?limit={}",
        "/api/v1/projects?offset={}",
        "/api/v1/projects?limit={}",
        "/api/items?limit={}",
    ],
)
@pytest.mark.parametrize("value", [TOO_BIG, NOT_ASCII])
async def test_page_numbers_out_of_range_or_not_ascii_are_400(
    client: TestClient[Any, Any], path: str, value: str
) -> None:
    response = await client.get(path.format(value), headers=bearer("ada"))
    body = await response.json()
    assert response.status == 400, body
    assert body["field"] in ("offset", "limit")


async def test_the_largest_offset_is_still_served(client: TestClient[Any, Any]) -> None:
    response = await client.get(f"/api/sessions?offset={2**53 - 1}")
    assert response.status == 200
    assert (await response.json())["sessions"] == []


async def _project(client: TestClient[Any, Any]) -> str:
    response = await client.post(
        "/api/v1/projects", headers=bearer("ada"), json={"name": "p", "fiscalYear": 2025}
    )
    assert response.status == 201, await response.text()
    return str((await response.json())["project"]["id"])


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("multipart/form-data", b""),  # no boundary
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="f\x07\r\n\r\nhi\r\n--x--\r\n',
        ),
        ("multipart/form-data; boundary=x", b"not a multipart body at all"),
    ],
)
async def test_a_malformed_multipart_upload_is_400(
    client: TestClient[Any, Any], content_type: str, payload: bytes
) -> None:
    project = await _project(client)
    response = await client.post(
        f"/api/v1/projects/{project}/files",
        data=payload,
        headers={**bearer("ada"), "Content-Type": content_type},
    )
    body = await response.json()
    assert response.status == 400, body
    assert body["field"] == "file"


@pytest.mark.parametrize("body", [{"name": "a\x00b"}, {"name": "ok", "description": "a\x00"}])
async def test_a_program_text_with_nul_is_400_not_a_store_failure(
    client: TestClient[Any, Any], body: dict[str, str]
) -> None:
    response = await client.post("/api/programs", headers=bearer("ada"), json=body)
    answer = await response.json()
    assert response.status == 400, answer  # Postgres refuses NUL in TEXT: it was a 503 there
    assert answer["field"] in body


async def test_a_member_id_with_nul_is_400(client: TestClient[Any, Any]) -> None:
    created = await client.post("/api/programs", headers=bearer("ada"), json={"name": "p"})
    program = (await created.json())["data"]["program"]["id"]
    response = await client.post(
        f"/api/programs/{program}/members", headers=bearer("ada"), json={"userId": "bob\x00"}
    )
    assert response.status == 400
    assert (await response.json())["field"] == "userId"


@pytest.mark.parametrize("body", [{"name": "a\x00"}, {"description": "\x00"}])
async def test_a_bridge_session_text_with_nul_is_400(
    client: TestClient[Any, Any], body: dict[str, str]
) -> None:
    response = await client.post("/api/sessions", json=body)
    answer = await response.json()
    assert response.status == 400, answer  # Postgres refuses NUL in TEXT: it was a 503 there
    assert answer["field"] in body


async def test_an_item_query_with_nul_is_400(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/items?query=a%00b", headers=bearer("ada"))
    assert response.status == 400
    assert (await response.json())["field"] == "query"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/programs", {"name": "p", "description": "a\u0000b"}, "description"),
        ("POST", "/api/design-engine/sessions", {"programId": "x\u0000", "description": "d"}, "programId"),
        (
            "POST",
            "/api/sessions",
            {"name": "n", "spec": {"root": "r", "elements": {"r\u0000": {}}}},
            "spec.elements",
        ),
        ("GET", "/api/items?query=a%00b", None, "query"),
        ("GET", "/api/programs/a%00b", None, "id"),
    ],
)
async def test_nul_characters_are_refused_by_name(
    client: TestClient[Any, Any], method: str, path: str, body: object, field: str
) -> None:
    # Postgres text cannot hold NUL: it used to fail deep in a store (503 or 500).
    response = await client.request(method, path, json=body, headers=bearer("ada"))
    answer = await response.json()
    assert response.status == 400, answer
    assert answer["field"] == field


async def test_a_large_body_with_an_idempotency_key_is_served(client: TestClient[Any, Any]) -> None:
    # Re-seating a body larger than the replay buffer's limit used to raise in aiohttp (a 500).
    description = "x" * 300_000
    headers = {**bearer("ada"), "Idempotency-Key": "large-body-1"}
    first = await client.post(
        "/api/programs", json={"name": "big", "description": description}, headers=headers
    )
    again = await client.post(
        "/api/programs", json={"name": "big", "description": description}, headers=headers
    )
    # Past the description limit: what matters is that the body was read and answered.
    assert first.status == 400
    assert (await first.json())["field"] == "description"
    assert again.status == 400
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert (await again.json()) == (await first.json())


async def test_a_part_with_a_malformed_content_disposition_is_skipped_not_a_500(
    client: TestClient[Any, Any],
) -> None:
    """aiohttp warns about such a part and gives it no name (found by schemathesis)."""
    project = await _project(client)
    bad = b'--x\r\nContent-Disposition: form-data; name=";L;\xc2\xbbu\xf4\x8e\x87\xb1"\r\n\r\nnull\r\n'
    file = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello\r\n'
    headers = {**bearer("ada"), "Content-Type": "multipart/form-data; boundary=x"}
    url = f"/api/v1/projects/{project}/files"
    alone = await client.post(url, data=bad + b"--x--\r\n", headers=headers)
    assert alone.status == 400, await alone.text()
    assert (await alone.json())["field"] == "file"
    beside = await client.post(url, data=bad + file + b"--x--\r\n", headers=headers)
    assert beside.status == 201, await beside.text()
    assert (await beside.json())["file"]["name"] == "a.txt"
