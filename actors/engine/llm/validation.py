"""Validation of tool-call arguments: values in, a normalised payload or a `ToolArgumentError` out.

Pure (no I/O). Every error names its field as a dotted path in the form the artifact
validators use (`rootAssembly.children[1].quantity`), because the message goes back to the
model, which retries with that field fixed. A refused proposal is never stored, so this is the
gate between model output and the session's artifacts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ...llm.errors import ToolArgumentError
from .schema import (
    ASK_CLARIFICATION,
    DEFAULT_LIMITS,
    PART_TYPES,
    PRIORITIES,
    PROPOSE_BOM,
    PROPOSE_REQUIREMENTS,
    REQUIREMENT_FIELDS,
    REQUIREMENT_TYPES,
    SEARCH_ITEMS,
    SOURCES,
    TOOL_NAMES,
    VERIFICATION_METHODS,
    ToolLimits,
)

__all__ = ["parse_tool_arguments", "validate_tool_args"]

_BOM_REQUIRED = ("tempId", "name", "isNew", "quantity", "partType", "rationale", "confidence")
_BOM_OPTIONAL = ("existingItemId", "children", "requirementTempIds", "material", "parameters")
_MAX_KEY_CHARS = 64


def parse_tool_arguments(name: str, raw: str, *, max_chars: int) -> dict[str, Any]:
    """Decode the model's argument string; an empty string means no arguments."""
    if len(raw) > max_chars:
        raise ToolArgumentError(name, "", f"arguments are too long ({len(raw)} > {max_chars} characters)")
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ToolArgumentError(name, "", f"arguments are not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ToolArgumentError(name, "", f"arguments must be a JSON object, got {_kind(value)}")
    return value


def validate_tool_args(
    name: str,
    args: object,
    *,
    limits: ToolLimits = DEFAULT_LIMITS,
    requirement_ids: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Check `args` of tool `name` and return the normalised payload.

    `requirement_ids`, when given, are the tempIds a BOM may link to (in their display order);
    links to any other id are refused and `uncoveredRequirements` is computed from them.
    """
    validator = _VALIDATORS.get(name)
    if validator is None:
        raise ToolArgumentError(name, "", f"unknown tool; known tools: {', '.join(TOOL_NAMES)}")
    known = tuple(requirement_ids) if requirement_ids is not None else None
    return validator(_Check(name, limits, known), args)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _item(path: str, index: int) -> str:
    return f"{path}[{index}]"


@dataclass(slots=True)
class _Check:
    tool: str
    limits: ToolLimits
    requirement_ids: tuple[str, ...] | None

    def fail(self, path: str, message: str) -> NoReturn:
        raise ToolArgumentError(self.tool, path, message)

    def obj(
        self, path: str, value: object, required: Sequence[str], optional: Sequence[str] = ()
    ) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(path, f"must be an object, got {_kind(value)}")
        allowed = (*required, *optional)
        for key in value:
            if key not in allowed:
                self.fail(_at(path, str(key)), f"unknown field; allowed fields: {', '.join(allowed)}")
        for key in required:
            if key not in value:
                self.fail(_at(path, key), "is required")
        return value

    def text(self, path: str, value: object, max_chars: int) -> str:
        if not isinstance(value, str):
            self.fail(path, f"must be a string, got {_kind(value)}")
        stripped = value.strip()
        if not stripped:
            self.fail(path, "must not be empty")
        if len(stripped) > max_chars:
            self.fail(path, f"is too long ({len(stripped)} > {max_chars} characters)")
        try:
            # Drafts end up in a Yjs document, which cannot hold lone surrogates (JSON allows them).
            stripped.encode("utf-8")
        except UnicodeEncodeError:
            self.fail(path, "must be valid Unicode (no lone surrogates)")
        return stripped

    def enum(self, path: str, value: object, choices: Sequence[str]) -> str:
        if not isinstance(value, str) or value not in choices:
            self.fail(path, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def boolean(self, path: str, value: object) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"must be true or false, got {_kind(value)}")
        return value

    def integer(self, path: str, value: object, minimum: int) -> int:
        # An integral float (2.0) is the same JSON number to most producers; store it as 2.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"must be an integer, got {_kind(value)} {value!r}")
        if value < minimum:
            self.fail(path, f"must be at least {minimum}, got {value}")
        return value

    def confidence(self, path: str, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(path, f"must be a number between 0 and 1, got {_kind(value)}")
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            self.fail(path, f"must be between 0 and 1, got {value!r}")
        return float(value)

    def array(self, path: str, value: object, min_items: int, max_items: int) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"must be an array, got {_kind(value)}")
        if len(value) < min_items:
            self.fail(path, f"must have at least {min_items} item(s)")
        if len(value) > max_items:
            self.fail(path, f"must have at most {max_items} items, got {len(value)}")
        return value

    def text_list(self, path: str, value: object, max_items: int, max_chars: int) -> list[str]:
        items = self.array(path, value, 0, max_items)
        out: list[str] = []
        for index, item in enumerate(items):
            text = self.text(_item(path, index), item, max_chars)
            if text not in out:
                out.append(text)
        return out

    def temp_id(self, path: str, value: object, seen: dict[str, str]) -> str:
        temp_id = self.text(path, value, self.limits.max_id_chars)
        if temp_id in seen:
            self.fail(path, f"duplicate tempId {temp_id!r} (already used at {seen[temp_id]})")
        seen[temp_id] = path
        return temp_id


def _propose_requirements(check: _Check, args: object) -> dict[str, Any]:
    limits = check.limits
    top = check.obj("", args, ("requirements",))
    items = check.array("requirements", top["requirements"], 1, limits.max_requirements)
    seen: dict[str, str] = {}
    drafts: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        path = _item("requirements", index)
        raw = check.obj(path, item, REQUIREMENT_FIELDS)
        drafts.append(
            {
                "tempId": check.temp_id(_at(path, "tempId"), raw["tempId"], seen),
                "name": check.text(_at(path, "name"), raw["name"], limits.max_name_chars),
                "description": check.text(
                    _at(path, "description"), raw["description"], limits.max_text_chars
                ),
                "requirementType": check.enum(
                    _at(path, "requirementType"), raw["requirementType"], REQUIREMENT_TYPES
                ),
                "priority": check.enum(_at(path, "priority"), raw["priority"], PRIORITIES),
                "verificationMethod": check.enum(
                    _at(path, "verificationMethod"), raw["verificationMethod"], VERIFICATION_METHODS
                ),
                "rationale": check.text(_at(path, "rationale"), raw["rationale"], limits.max_text_chars),
                "confidence": check.confidence(_at(path, "confidence"), raw["confidence"]),
                "source": check.enum(_at(path, "source"), raw["source"], SOURCES),
            }
        )
    return {"requirements": drafts}


@dataclass(slots=True)
class _BomWalk:
    """Validates a BOM tree, collecting tempIds, requirement coverage and non-fatal issues."""

    check: _Check
    nodes: int = 0
    seen: dict[str, str] = field(default_factory=dict)
    coverage: dict[str, list[str]] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)

    def node(self, path: str, value: object, depth: int, *, in_tree: bool) -> dict[str, Any]:
        check, limits = self.check, self.check.limits
        if depth > limits.max_bom_depth:
            check.fail(path, f"the BOM is nested too deeply (more than {limits.max_bom_depth} levels)")
        self.nodes += 1
        if self.nodes > limits.max_bom_nodes:
            check.fail(path, f"the BOM has too many nodes (more than {limits.max_bom_nodes})")
        raw = check.obj(path, value, _BOM_REQUIRED, _BOM_OPTIONAL)
        temp_id = check.temp_id(_at(path, "tempId"), raw["tempId"], self.seen)
        is_new = check.boolean(_at(path, "isNew"), raw["isNew"])
        node: dict[str, Any] = {
            "tempId": temp_id,
            "name": check.text(_at(path, "name"), raw["name"], limits.max_name_chars),
            "isNew": is_new,
        }
        if "existingItemId" in raw:
            if is_new:
                check.fail(_at(path, "existingItemId"), "must be absent for a new part (isNew is true)")
            node["existingItemId"] = check.text(
                _at(path, "existingItemId"), raw["existingItemId"], limits.max_id_chars
            )
        elif not is_new:
            check.fail(_at(path, "existingItemId"), "is required when isNew is false")
        node["quantity"] = check.integer(_at(path, "quantity"), raw["quantity"], 1)
        links = self._links(_at(path, "requirementTempIds"), raw.get("requirementTempIds", []))
        part_type = check.enum(_at(path, "partType"), raw["partType"], PART_TYPES)
        children_raw = check.array(_at(path, "children"), raw.get("children", []), 0, limits.max_bom_nodes)
        node["children"] = [
            self.node(_item(_at(path, "children"), index), child, depth + 1, in_tree=in_tree)
            for index, child in enumerate(children_raw)
        ]
        node["requirementTempIds"] = links
        node["partType"] = part_type
        if "material" in raw:
            node["material"] = check.text(_at(path, "material"), raw["material"], limits.max_name_chars)
        if "parameters" in raw:
            node["parameters"] = self._parameters(_at(path, "parameters"), raw["parameters"])
        node["rationale"] = check.text(_at(path, "rationale"), raw["rationale"], limits.max_text_chars)
        node["confidence"] = check.confidence(_at(path, "confidence"), raw["confidence"])
        if in_tree:
            for requirement in links:
                self.coverage.setdefault(requirement, []).append(temp_id)
        if part_type == "Manufacture" and is_new and not node["children"] and "material" not in node:
            self.issue(temp_id, "a new Manufacture part has no material; CAD generation will assume one")
        return node

    def _links(self, path: str, value: object) -> list[str]:
        check = self.check
        links = check.text_list(path, value, check.limits.max_requirements, check.limits.max_id_chars)
        known = check.requirement_ids
        if known is not None:
            for index, link in enumerate(links):
                if link not in known:
                    allowed = ", ".join(known) if known else "none (no requirements yet)"
                    check.fail(
                        _item(path, index), f"unknown requirement {link!r}; known requirements: {allowed}"
                    )
        return links

    def _parameters(self, path: str, value: object) -> dict[str, str | int | float | bool]:
        check = self.check
        if not isinstance(value, Mapping):
            check.fail(path, f"must be an object, got {_kind(value)}")
        if len(value) > check.limits.max_parameters:
            check.fail(path, f"must have at most {check.limits.max_parameters} entries, got {len(value)}")
        params: dict[str, str | int | float | bool] = {}
        for key, item in value.items():
            where = _at(path, str(key))
            if not isinstance(key, str) or key != check.text(where, key, _MAX_KEY_CHARS):
                check.fail(where, "parameter names must not have surrounding spaces")
            if key.endswith("_mm") and (isinstance(item, bool) or not isinstance(item, (int, float))):
                check.fail(where, f"a dimension in millimetres must be a number, got {_kind(item)}")
            if isinstance(item, str):
                params[key] = check.text(where, item, check.limits.max_name_chars)
            elif isinstance(item, bool):
                params[key] = item
            elif isinstance(item, (int, float)):
                if not math.isfinite(item):
                    check.fail(where, f"must be a finite number, got {item!r}")
                if key.endswith("_mm") and item <= 0:
                    check.fail(where, f"a dimension in millimetres must be positive, got {item!r}")
                params[key] = item
            else:
                check.fail(where, f"must be a string, number or boolean, got {_kind(item)}")
        return params

    def issue(self, temp_id: str | None, message: str) -> None:
        self.issues.append({"severity": "warning", "tempId": temp_id, "message": message})


def _propose_bom(check: _Check, args: object) -> dict[str, Any]:
    limits = check.limits
    top = check.obj("", args, ("rootAssembly",), ("proposedParts", "uncoveredRequirements"))
    walk = _BomWalk(check)
    root = walk.node("rootAssembly", top["rootAssembly"], 1, in_tree=True)
    extra = check.array("proposedParts", top.get("proposedParts", []), 0, limits.max_bom_nodes)
    proposed = [
        walk.node(_item("proposedParts", index), part, 1, in_tree=False) for index, part in enumerate(extra)
    ]
    declared = check.text_list(
        "uncoveredRequirements",
        top.get("uncoveredRequirements", []),
        limits.max_requirements,
        limits.max_id_chars,
    )
    # With the real requirement list at hand, coverage is computed rather than taken on trust.
    candidates = check.requirement_ids if check.requirement_ids is not None else tuple(declared)
    uncovered = [requirement for requirement in candidates if requirement not in walk.coverage]
    for requirement in uncovered:
        walk.issue(None, f"requirement {requirement!r} is not covered by any BOM node")
    return {
        "rootAssembly": root,
        "proposedParts": proposed,
        "requirementsCoverage": walk.coverage,
        "uncoveredRequirements": uncovered,
        "validationIssues": walk.issues,
    }


def _ask_clarification(check: _Check, args: object) -> dict[str, Any]:
    limits = check.limits
    top = check.obj("", args, ("question",), ("options",))
    question = check.text("question", top["question"], limits.max_text_chars)
    options: list[str] | None = None
    if top.get("options") is not None:
        check.array("options", top["options"], 1, limits.max_options)
        options = check.text_list("options", top["options"], limits.max_options, limits.max_name_chars)
    return {"question": question, "options": options}


def _search_items(check: _Check, args: object) -> dict[str, Any]:
    top = check.obj("", args, ("query",))
    return {"query": check.text("query", top["query"], check.limits.max_query_chars)}


_VALIDATORS: Mapping[str, Callable[[_Check, object], dict[str, Any]]] = {
    PROPOSE_REQUIREMENTS: _propose_requirements,
    PROPOSE_BOM: _propose_bom,
    ASK_CLARIFICATION: _ask_clarification,
    SEARCH_ITEMS: _search_items,
}
