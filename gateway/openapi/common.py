"""Building blocks of the OpenAPI document: error shapes, shared responses, headers, security.

Every error the gateway answers is JSON with an ``error`` message (see ``gateway/http_errors.py``);
``field`` names the offending request value when there is one. The shared responses here are
referenced by the per-API modules, so one error shape is written once.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "BEARER",
    "HEADERS",
    "JSON",
    "PARAMETERS",
    "RESPONSES",
    "SCHEMAS",
    "SECURITY_SCHEMES",
    "Schema",
    "body",
    "error_responses",
    "idempotent",
    "json_response",
    "obj",
    "ok_and",
    "operation",
    "param_ref",
    "path_param",
    "query_param",
    "query_params",
    "ref",
]

Schema = dict[str, Any]

JSON = "application/json"
BEARER = "bearerAuth"


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def param_ref(name: str) -> Schema:
    return {"$ref": f"#/components/parameters/{name}"}


def obj(properties: dict[str, Schema], *required: str, extra: bool = False, **more: Any) -> Schema:
    """An object schema; ``extra`` allows properties beyond the listed ones."""
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if not extra:
        schema["additionalProperties"] = False
    schema.update(more)
    return schema


def ok_and(schema: Schema) -> Schema:
    """An answer's fields after ``"ok": true`` (how the Bridge answers)."""
    flag: Schema = {"type": "object", "properties": {"ok": {"const": True}}, "required": ["ok"]}
    return {"allOf": [flag, schema]}


def json_response(description: str, schema: Schema, headers: dict[str, Schema] | None = None) -> Schema:
    response: Schema = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def body(schema: Schema, *, required: bool = True, description: str | None = None) -> Schema:
    request: Schema = {"required": required, "content": {JSON: {"schema": schema}}}
    if description:
        request["description"] = description
    return request


def path_param(name: str, description: str, schema: Schema | None = None) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def query_param(name: str, description: str, schema: Schema) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def query_params(kind: type[msgspec.Struct]) -> list[Schema]:
    """The query parameters of ``kind`` (a ``Query``), one per field, each schema its field's."""
    schema = msgspec.json.schema(kind)
    fields = schema["$defs"][kind.__name__]
    required = set(fields.get("required", ()))
    params = []
    for name, field in fields["properties"].items():
        field = dict(field)
        description = field.pop("description", "")
        field.pop("default", None)
        if "anyOf" in field:  # optional (null): absent from the query string instead
            choices = [c for c in field.pop("anyOf") if c.get("type") != "null"]
            field.update(choices[0] if len(choices) == 1 else {"anyOf": choices})
            description = description or choices[0].get("description", "")
            field.pop("description", None)
        required_here = name in required
        params.append(
            {
                "name": name,
                "in": "query",
                "required": required_here,
                "description": description,
                "schema": field,
            }
        )
    return params


# -- shared errors ---------------------------------------------------------------------------

_ERROR = obj(
    {
        "error": {"type": "string", "description": "What went wrong, for a person to read."},
        "field": {"type": "string", "description": "The request value at fault (a dotted path)."},
    },
    "error",
    extra=True,
    description="Every error body: a message, and the field at fault when there is one.",
)

SCHEMAS: dict[str, Schema] = {
    "Error": _ERROR,
    "AuthError": obj(
        {
            "error": {"type": "string"},
            "code": {
                "type": "string",
                "description": "`missing_token`, `invalid_token`, `expired_token`, ...",
            },
        },
        "error",
        extra=True,
        description="A refused bearer token (401) or a resource of another user (403 with code `forbidden`).",
    ),
    "QuotaError": obj(
        {
            "error": {"type": "string"},
            "quota": obj(
                {"limit": {"type": "integer"}, "used": {"type": "integer"}, "resetsAt": {"type": "string"}},
                "limit",
                "used",
                "resetsAt",
            ),
            "code": {"type": "string", "description": "`limit_exceeded` for a rate or count limit."},
            "limit": obj(
                {"setting": {"type": "string"}, "value": {"type": "number"}},
                "setting",
                "value",
                description="The limit reached, and the setting that sets it.",
            ),
            "retryAfter": {"type": "integer"},
        },
        "error",
        extra=True,
        description="A used-up quota or a rate limit; `Retry-After` says when to try again.",
    ),
    "UnavailableError": obj(
        {"error": {"type": "string"}, "detail": {"type": "string"}},
        "error",
        extra=True,
        description="The session could not be reached in time: the outcome of a write is unknown, so "
        "retry it with the same `Idempotency-Key`.",
    ),
    "FileSelectionError": obj(
        {
            "error": {"type": "string"},
            "field": {"type": "string"},
            "fileId": {"type": "string"},
            "reason": {"enum": ["not_found", "not_ready"]},
        },
        "error",
        "field",
        "fileId",
        "reason",
        description="A selected file is not in the project or not READY (422).",
    ),
    "Ok": obj({"ok": {"const": True}}, "ok"),
}

HEADERS: dict[str, Schema] = {
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}},
    "WWW-Authenticate": {"description": "The RFC 6750 bearer challenge.", "schema": {"type": "string"}},
}

PARAMETERS: dict[str, Schema] = {
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "A client-chosen key for this write. A retry with the same key within the server's "
        "window gets the first outcome (marked `Idempotent-Replayed: true`) instead of applying the "
        "write twice: a 503 or a cut connection does not mean the write failed.",
        "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
    },
}


def _error(description: str, schema: str = "Error", headers: tuple[str, ...] = ()) -> Schema:
    response = json_response(description, ref(schema))
    if headers:
        response["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in headers}
    return response


RESPONSES: dict[str, Schema] = {
    "BadRequest": _error("A malformed body or an invalid value; `field` names it."),
    "Unauthorized": _error(
        "A missing, malformed, expired or invalid bearer token.", "AuthError", ("WWW-Authenticate",)
    ),
    "Forbidden": _error("The resource belongs to another user, or the request was refused."),
    "NotFound": _error("No such resource (or path)."),
    "Conflict": _error("The request does not fit the resource's current state; extra fields say how."),
    "PayloadTooLarge": _error("The request body exceeds the configured limit."),
    "Unprocessable": _error("Well formed, but the resource cannot do it now; `field` says why."),
    "TooManyRequests": _error("A quota or rate limit was reached.", "QuotaError", ("Retry-After",)),
    "Unavailable": _error(
        "The session could not be reached in time; retry.", "UnavailableError", ("Retry-After",)
    ),
}

_STATUS_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    413: "PayloadTooLarge",
    422: "Unprocessable",
    429: "TooManyRequests",
    503: "Unavailable",
}

SECURITY_SCHEMES: dict[str, Schema] = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An HS256 token minted by `atelier token` (or an identity provider's RS/ES token "
        "when a JWKS URL is configured); `sub` is the user.",
    }
}


def error_responses(*statuses: int) -> dict[str, Schema]:
    """References to the shared error responses; 400 (a NUL character in a path or query
    parameter), 429 and 503 are possible on every route."""
    codes = sorted({*statuses, 400, 429, 503})
    return {str(code): {"$ref": f"#/components/responses/{_STATUS_NAMES[code]}"} for code in codes}


def operation(
    operation_id: str,
    tag: str,
    summary: str,
    responses: dict[str, Schema],
    *,
    errors: tuple[int, ...] = (),
    description: str | None = None,
    parameters: list[Schema] | None = None,
    request: Schema | None = None,
    auth: bool = True,
) -> Schema:
    """One operation. ``auth`` marks it as needing the bearer token; ``None`` security is
    decided by the API (the Bridge's follows ``ATELIER_BRIDGE_AUTH``)."""
    op: Schema = {"operationId": operation_id, "tags": [tag], "summary": summary}
    if description:
        op["description"] = description
    if parameters:
        op["parameters"] = parameters
    if request is not None:
        op["requestBody"] = request
    statuses = set(errors)
    if auth:
        statuses.add(401)
    if request is not None:
        statuses.update((400, 413))
    op["responses"] = {**responses, **error_responses(*statuses)}
    op["security"] = [{BEARER: []}] if auth else []
    return op


def idempotent(op: Schema) -> Schema:
    """A mutating operation: it takes an ``Idempotency-Key`` (a bad key is 400, a retry while the
    first request runs 409, the key reused with another body 422, a body too big to remember 413)."""
    op.setdefault("parameters", []).append(param_ref("IdempotencyKey"))
    op["responses"].update(error_responses(400, 409, 413, 422))
    return op
