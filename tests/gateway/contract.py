"""Answers checked against the published document (``/openapi.json``), by value."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

__all__ = ["answer_validator", "fits"]


def answer_validator(document: dict[str, Any], path: str, method: str) -> Draft202012Validator:
    """A validator of an operation's 200 JSON answer, its refs resolved in the document."""
    schema = document["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": document["components"]})


def fits(document: dict[str, Any], template: str, method: str, status: int, body: Any) -> list[str]:
    """What in ``body`` does not fit the documented JSON answer of that operation and status."""
    schema = document["paths"][template][method]["responses"][str(status)]["content"]["application/json"]
    validator = Draft202012Validator({**schema["schema"], "components": document["components"]})
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
