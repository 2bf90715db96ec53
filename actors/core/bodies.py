"""Request bodies and query parameters as typed messages (pure: bytes or values in, a Struct out).

Each API defines the JSON it accepts once, as ``Body`` (a request body) or ``Query`` (query
parameters) subclasses in its own module (``actors/bridge/bodies.py``, ...). The same class
checks a request (``decode_body``, ``convert_query``) and describes it in the published
OpenAPI document (``schema_components``), so the two cannot disagree. A body refuses fields
it does not define, so a misspelt optional field is reported rather than ignored; query
parameters tolerate unknown ones (a cache-busting ``_=`` is common).

msgspec's errors are rewritten into the gateway's shape: the dotted field at fault and
a short problem (``ValidationError("name", "must be a string")``). A check no type can say
(a key that must exist elsewhere in the body, a setting-sized limit) is a ``__post_init__``
raising ``ValueError``, or a check after decoding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import msgspec

from .errors import ValidationError

__all__ = [
    "SCHEMA_REF",
    "Body",
    "Query",
    "convert_body",
    "convert_query",
    "decode_body",
    "schema_components",
    "validation_error",
]

SCHEMA_REF = "#/components/schemas/{name}"


class Body(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """A JSON request body: camelCase on the wire, unknown fields refused."""


class Query(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Query parameters: each a string on the wire, converted to its field's type."""


B = TypeVar("B", bound=msgspec.Struct)

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_INVALID_ENUM = re.compile(r"^Invalid enum value (?P<value>.+)$")
_STEPS = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")
_EXPECTED = re.compile(r"^Expected `(?P<type>[^`]+)`(?:, got `(?P<got>[^`]+)`)?(?P<rest>.*)$")
_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def decode_body(raw: bytes, kind: type[B], *, field: str = "") -> B:
    """``raw`` JSON decoded as ``kind`` (``ValidationError`` naming the field at fault)."""
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        raise validation_error(exc, field, kind=kind) from None
    except msgspec.DecodeError as exc:
        raise ValidationError(field or "body", f"malformed JSON: {exc}") from None


def convert_body(value: object, kind: type[B], *, field: str = "") -> B:
    """A JSON value already parsed (part of a larger body, a stored value) checked as ``kind``."""
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        raise validation_error(exc, field, kind=kind) from None


def convert_query(query: Mapping[str, str], kind: type[B]) -> B:
    """Query parameters (strings) as ``kind``; numbers and booleans are parsed from text."""
    try:
        return msgspec.convert(dict(query), kind, strict=False)
    except msgspec.ValidationError as exc:
        raise validation_error(exc, "", kind=kind) from None


def validation_error(exc: msgspec.ValidationError, prefix: str = "", *, kind: Any = None) -> ValidationError:
    """msgspec's message as the gateway's: the dotted field, then what is wrong with it.

    ``kind`` (the type decoded) lets a refused enum value list the values it may take.
    """
    message = str(exc)
    path = ""
    at = _AT.search(message)
    if at is not None:
        path = _dotted(at.group("path"))
        message = message[: at.start()]
    enum = _INVALID_ENUM.match(message)
    if enum is not None:
        choices = _choices(kind, path) if kind is not None else None
        problem = f"unknown value {enum.group('value')}"
        if choices:
            problem += f" (one of {', '.join(choices)})"
        return ValidationError(_join(prefix, path) or "body", problem)
    if message.startswith("Object missing required field `"):
        path = _join(path, message.split("`")[1])
        problem = "required"
    elif message.startswith("Object contains unknown field `"):
        path = _join(path, message.split("`")[1])
        problem = "unknown field"
    else:
        problem = _problem(message)
    field = _join(prefix, path) or "body"
    return ValidationError(field, problem)


def _choices(kind: Any, path: str) -> list[str] | None:
    """The values the enum (or literal) at ``path`` in ``kind`` may take, when it is found."""
    info: Any = msgspec.inspect.type_info(kind)
    for name, index in _STEPS.findall(path):
        info = _through(info, msgspec.inspect.StructType if name else msgspec.inspect.ListType)
        if isinstance(info, msgspec.inspect.StructType) and name:
            info = next((f.type for f in info.fields if f.encode_name == name), None)
        elif isinstance(info, msgspec.inspect.ListType) and index:
            info = info.item_type
        else:
            return None
    info = _through(info, (msgspec.inspect.EnumType, msgspec.inspect.LiteralType))
    if isinstance(info, msgspec.inspect.EnumType):
        return [str(member.value) for member in info.cls]
    if isinstance(info, msgspec.inspect.LiteralType):
        return [str(value) for value in info.values]
    return None


def _through(info: Any, wanted: Any) -> Any:
    """``info`` without its metadata, or the member of its union of the ``wanted`` kind."""
    if isinstance(info, msgspec.inspect.Metadata):
        info = info.type
    if isinstance(info, msgspec.inspect.UnionType):
        members = (t.type if isinstance(t, msgspec.inspect.Metadata) else t for t in info.types)
        return next((t for t in members if isinstance(t, wanted)), None)
    return info


def _dotted(path: str) -> str:
    """msgspec's ``$.ops[0].key`` path as ``ops[0].key``."""
    return path[1:] if path.startswith(".") else path


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def _problem(message: str) -> str:
    expected = _EXPECTED.match(message)
    if expected is None:
        return message  # a __post_init__ check's own words
    wanted = " or ".join(_NAMES.get(part, f"`{part}`") for part in expected.group("type").split(" | "))
    rest = expected.group("rest").strip()
    if not rest:
        return f"must be {wanted}"
    pattern = re.fullmatch(r"matching regex '(?P<pattern>.*)'", rest)
    if pattern is not None:
        return f"must match {pattern.group('pattern')}"
    length = re.fullmatch(r"of length (?P<op>[<>]=) (?P<n>\d+)", rest)
    if length is not None:
        bound = "at most" if length.group("op") == "<=" else "at least"
        if expected.group("type") == "str":
            return f"must be {bound} {length.group('n')} characters"
        return f"must have {bound} {length.group('n')} items"
    return f"must be {rest}"


def schema_components(
    kinds: Iterable[Any], named: Mapping[str, Any] | None = None, *, closed: bool = True
) -> dict[str, dict[str, Any]]:
    """The JSON Schemas of ``kinds`` (and every type they refer to), keyed by type name, with
    references into ``#/components/schemas`` as the OpenAPI document lays them out.

    ``named`` gives a name to a type that has none of its own (a union of Structs).
    ``closed=False`` leaves objects open to more properties: an answer's fields are sent
    beside others (``"ok": true``), which a closed schema, referenced, would refuse.
    """
    named = dict(named or {})
    schemas, components = msgspec.json.schema_components((*kinds, *named.values()), ref_template=SCHEMA_REF)
    for name, schema in zip(named, schemas[len(schemas) - len(named) :], strict=True):
        components[name] = schema
    for schema in components.values():
        schema.pop("title", None)  # the key already names it
        if not closed and schema.get("additionalProperties") is False:
            del schema["additionalProperties"]
    return components
