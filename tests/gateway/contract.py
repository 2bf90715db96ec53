"""Answers checked against the published document (``/openapi.json``), by value."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator

from gateway.openapi import build_document

__all__ = ["Conforming", "answer_validator", "fits"]


def answer_validator(document: dict[str, Any], path: str, method: str) -> Draft202012Validator:
    """A validator of an operation's 200 JSON answer, its refs resolved in the document."""
    schema = document["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": document["components"]})


def fits(document: dict[str, Any], template: str, method: str, status: int, body: Any) -> list[str]:
    """What in ``body`` does not fit the documented JSON answer of that operation and status."""
    schema = document["paths"][template][method]["responses"][str(status)]["content"]["application/json"]
    validator = Draft202012Validator({**schema["schema"], "components": document["components"]})
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


class Conforming:
    """Requests whose answers must have the status asked for and fit the document's schema
    for that operation and status (the Bridge's document without auth)."""

    def __init__(self, client: TestClient[Any, Any], headers: dict[str, str] | None = None) -> None:
        self._client = client
        self._headers = headers or {}
        self.document = build_document(bridge_auth=False)

    async def send(self, method: str, template: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        """The JSON answer to ``method path``; ``template`` is its path in the document."""
        headers = {**self._headers, **kwargs.pop("headers", {})}
        response = await self._client.request(method.upper(), path, headers=headers, **kwargs)
        body = await response.json()
        assert response.status == status, body
        assert fits(self.document, template, method, status, body) == [], (template, method)
        return body
