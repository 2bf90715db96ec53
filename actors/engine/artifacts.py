"""A design session's artifacts: typed validation, merging and walking (pure).

The artifacts are the session's whole design state (the spec's ``DesignArtifacts``)::

    description              str, non-empty
    requirements             RequirementDraft[]
    bom                      BomDraft | null
    clarifications           ClarificationEntry[]
    userMessages             UserMessage[]
    pendingClarificationId?  str, the id of an entry in clarifications
    materializationResult?   MaterializationResult
    cadGenerationState?      object

Validators return the canonical form and raise ``ValidationError`` whose ``field`` is a
dotted path into the request (``"artifacts.requirements[2].priority"``,
``"artifacts.bom.rootAssembly.children[0].quantity"``).

Decisions where the spec is silent:

* Unknown keys are refused by name everywhere (a misspelt ``requirementTypes`` is reported,
  not silently stored), like the Bridge spec validation.
* Requirements: ``rationale`` and ``confidence`` are optional (a requirement a user typed
  has neither); every other field is required.
* BOM nodes: ``tempId``, ``name``, ``isNew``, ``quantity`` and ``partType`` are required;
  ``children`` and ``requirementTempIds`` may be left out and are then ``[]`` in the
  canonical form, so tree walkers need no defaults. ``quantity`` is a positive integer; an
  integral float (``2.0``, how a Yjs peer stores every number) is accepted as that integer.
  ``tempId`` is unique within the ``rootAssembly`` tree and within ``proposedParts``.
  Links (``requirementTempIds``, ``existingItemId``) are not resolved here: a draft may
  reference requirements being rewritten, and the AI reports gaps in
  ``uncoveredRequirements`` / ``validationIssues``.
* Shapes the spec does not give are accepted as JSON that a Yjs peer can store:
  ``requirementsCoverage`` (an object), ``validationIssues`` (an array),
  ``cadGeneration``/``assemblyComposition`` on a node and ``cadGenerationState`` (objects).
* Optional fields given as ``null`` are left out of the canonical form; ``bom: null`` is
  kept (the spec types it ``BomDraft | null``). In a patch, ``null`` for an optional
  top-level key removes it.
* ``pendingClarificationId`` must name an entry of ``clarifications``.
* Every string, list and tree is bounded by ``ArtifactLimits``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from actors.core.errors import ValidationError

from . import fields

# Re-exported: the title is derived from the artifacts' description when a session is made.
from .title import UNTITLED as UNTITLED
from .title import title_from_description as title_from_description

__all__ = [
    "ARTIFACT_KEYS",
    "DEFAULT_LIMITS",
    "UNTITLED",
    "ArtifactLimits",
    "PartType",
    "Priority",
    "RequirementSource",
    "RequirementType",
    "VerificationMethod",
    "bom_nodes",
    "empty_artifacts",
    "find_bom_node",
    "materialization_blocker",
    "merge_artifacts",
    "title_from_description",
    "validate_artifacts",
    "validate_artifacts_patch",
    "validate_bom",
    "validate_bom_node",
    "validate_description",
    "validate_requirements",
]


class RequirementType(StrEnum):
    FUNCTIONAL = "Functional"
    PERFORMANCE = "Performance"
    INTERFACE = "Interface"
    CONSTRAINT = "Constraint"
    OTHER = "Other"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class VerificationMethod(StrEnum):
    ANALYSIS = "Analysis"
    INSPECTION = "Inspection"
    TEST = "Test"
    DEMONSTRATION = "Demonstration"


class RequirementSource(StrEnum):
    AI = "ai"
    USER = "user"


class PartType(StrEnum):
    MANUFACTURE = "Manufacture"
    PURCHASE = "Purchase"
    SOFTWARE = "Software"
    PHANTOM = "Phantom"


@dataclass(frozen=True, slots=True)
class ArtifactLimits:
    """Bounds on what a session's artifacts may hold (part of the engine's settings)."""

    max_text_chars: int = 20_000
    max_requirements: int = 1_000
    max_bom_nodes: int = 5_000
    max_bom_depth: int = 32
    max_clarifications: int = 500
    max_options: int = 50
    max_user_messages: int = 2_000
    max_created_items: int = 10_000


DEFAULT_LIMITS = ArtifactLimits()

# Top-level keys: required ones first, in the spec's order.
_REQUIRED_KEYS = ("description", "requirements", "bom", "clarifications", "userMessages")
_OPTIONAL_KEYS = ("pendingClarificationId", "materializationResult", "cadGenerationState")
ARTIFACT_KEYS = _REQUIRED_KEYS + _OPTIONAL_KEYS

_REQUIREMENT_REQUIRED = (
    "tempId",
    "name",
    "description",
    "requirementType",
    "priority",
    "verificationMethod",
    "source",
)
_REQUIREMENT_KEYS = (*_REQUIREMENT_REQUIRED, "rationale", "confidence")

_NODE_KEYS = (
    "tempId",
    "name",
    "isNew",
    "existingItemId",
    "quantity",
    "children",
    "requirementTempIds",
    "partType",
    "material",
    "rationale",
    "confidence",
    "cadGeneration",
    "assemblyComposition",
    # Beyond the spec: the dimensions and features a part's CAD job builds from.
    "parameters",
)
_BOM_KEYS = (
    "rootAssembly",
    "proposedParts",
    "requirementsCoverage",
    "uncoveredRequirements",
    "validationIssues",
)
_CLARIFICATION_KEYS = ("id", "question", "options", "answer", "answeredAt")
_USER_MESSAGE_KEYS = ("id", "text", "createdAt")
_RESULT_KEYS = ("designId", "ecoId", "ecoNumber", "createdItems", "bomRelationshipsCreated")
_CREATED_ITEM_KEYS = ("tempId", "itemId", "itemNumber", "itemType", "name")


def empty_artifacts(description: str) -> dict[str, Any]:
    """The artifacts of a new session (a fresh dict each call)."""
    return {
        "description": description,
        "requirements": [],
        "bom": None,
        "clarifications": [],
        "userMessages": [],
    }


# ---------------------------------------------------------------------------- whole / patch


def validate_artifacts(
    value: object, field: str = "artifacts", *, limits: ArtifactLimits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """A complete ``DesignArtifacts`` value in canonical form (every required key present)."""
    artifacts = validate_artifacts_patch(value, field, limits=limits)
    for key in _REQUIRED_KEYS:
        if key not in artifacts:
            raise ValidationError(f"{field}.{key}", "required")
    for key in _OPTIONAL_KEYS:
        if key in artifacts and artifacts[key] is None:
            del artifacts[key]
    _check_references(artifacts, field)
    return artifacts


def validate_artifacts_patch(
    value: object, field: str = "artifacts", *, limits: ArtifactLimits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """A partial ``DesignArtifacts``: only the keys given, each checked in full.

    Optional top-level keys may be ``null`` (remove them on merge); required ones may not,
    except ``bom``.
    """
    obj = fields.json_fields(value, field, ARTIFACT_KEYS)
    out: dict[str, Any] = {}
    for key, raw in obj.items():
        path = f"{field}.{key}"
        if raw is None and (key == "bom" or key in _OPTIONAL_KEYS):
            out[key] = None
        elif key == "description":
            out[key] = validate_description(raw, path, limits=limits)
        elif key == "requirements":
            out[key] = validate_requirements(raw, path, limits=limits)
        elif key == "bom":
            out[key] = validate_bom(raw, path, limits=limits)
        elif key == "clarifications":
            out[key] = _clarifications(raw, path, limits)
        elif key == "userMessages":
            out[key] = _user_messages(raw, path, limits)
        elif key == "pendingClarificationId":
            out[key] = fields.text(raw, path, limits, non_empty=True)
        elif key == "materializationResult":
            out[key] = _materialization_result(raw, path, limits)
        else:  # cadGenerationState
            out[key] = fields.json_object(raw, path)
    return out


def merge_artifacts(
    current: Mapping[str, Any],
    patch: object,
    field: str = "artifacts",
    *,
    limits: ArtifactLimits = DEFAULT_LIMITS,
) -> dict[str, Any]:
    """``current`` with ``patch`` merged in: the spec's PATCH "merged with existing".

    Each top-level key given replaces the stored value whole (``bom`` included: a BOM is
    one draft, and merging two trees node by node would invent a tree neither side wrote);
    ``null`` removes an optional key. ``current`` is trusted (already validated); the
    result is checked for cross-references (``pendingClarificationId``).
    """
    checked = validate_artifacts_patch(patch, field, limits=limits)
    merged = dict(current)
    for key, value in checked.items():
        if value is None and key in _OPTIONAL_KEYS:
            merged.pop(key, None)
        else:
            merged[key] = value
    _check_references(merged, field)
    return merged


def validate_description(
    value: object, field: str = "description", *, limits: ArtifactLimits = DEFAULT_LIMITS
) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "required non-empty string")
    return fields.text(value, field, limits)


# ---------------------------------------------------------------------------- requirements


def validate_requirements(
    value: object, field: str = "requirements", *, limits: ArtifactLimits = DEFAULT_LIMITS
) -> list[dict[str, Any]]:
    """A ``RequirementDraft[]`` with unique ``tempId`` values."""
    items = fields.bounded_list(value, field, limits.max_requirements)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, raw in enumerate(items):
        path = f"{field}[{i}]"
        req = _requirement(raw, path, limits)
        if req["tempId"] in seen:
            raise ValidationError(f"{path}.tempId", f"duplicate tempId '{req['tempId']}'")
        seen.add(req["tempId"])
        out.append(req)
    return out


def _requirement(value: object, field: str, limits: ArtifactLimits) -> dict[str, Any]:
    obj = fields.json_fields(value, field, _REQUIREMENT_KEYS)
    fields.require_keys(obj, field, _REQUIREMENT_REQUIRED)
    out: dict[str, Any] = {
        "tempId": fields.text(obj["tempId"], f"{field}.tempId", limits, non_empty=True),
        "name": fields.text(obj["name"], f"{field}.name", limits),
        "description": fields.text(obj["description"], f"{field}.description", limits),
        "requirementType": fields.enum_value(
            obj["requirementType"], f"{field}.requirementType", RequirementType
        ),
        "priority": fields.enum_value(obj["priority"], f"{field}.priority", Priority),
        "verificationMethod": fields.enum_value(
            obj["verificationMethod"], f"{field}.verificationMethod", VerificationMethod
        ),
        "source": fields.enum_value(obj["source"], f"{field}.source", RequirementSource),
    }
    if obj.get("rationale") is not None:
        out["rationale"] = fields.text(obj["rationale"], f"{field}.rationale", limits)
    if obj.get("confidence") is not None:
        out["confidence"] = fields.confidence(obj["confidence"], f"{field}.confidence")
    return out


# ---------------------------------------------------------------------------- BOM


def validate_bom(
    value: object, field: str = "bom", *, limits: ArtifactLimits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """A ``BomDraft`` in canonical form (all five keys present)."""
    obj = fields.json_fields(value, field, _BOM_KEYS)
    fields.require_keys(obj, field, ("rootAssembly",))
    budget = _NodeBudget(limits)
    root = _node(obj["rootAssembly"], f"{field}.rootAssembly", limits, budget, set())
    proposed: list[dict[str, Any]] = []
    proposed_ids: set[str] = set()
    raw_parts = obj.get("proposedParts")
    if raw_parts is not None:
        for i, raw in enumerate(
            fields.bounded_list(raw_parts, f"{field}.proposedParts", limits.max_bom_nodes)
        ):
            proposed.append(_node(raw, f"{field}.proposedParts[{i}]", limits, budget, proposed_ids))
    coverage = obj.get("requirementsCoverage")
    uncovered = obj.get("uncoveredRequirements")
    issues = obj.get("validationIssues")
    return {
        "rootAssembly": root,
        "proposedParts": proposed,
        "requirementsCoverage": (
            {} if coverage is None else fields.json_object(coverage, f"{field}.requirementsCoverage")
        ),
        "uncoveredRequirements": (
            []
            if uncovered is None
            else fields.strings(uncovered, f"{field}.uncoveredRequirements", limits, limits.max_requirements)
        ),
        "validationIssues": (
            [] if issues is None else fields.json_list(issues, f"{field}.validationIssues", limits)
        ),
    }


def validate_bom_node(
    value: object, field: str, *, limits: ArtifactLimits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """One ``BomNodeDraft`` with its subtree (tempIds unique within it)."""
    return _node(value, field, limits, _NodeBudget(limits), set())


class _NodeBudget:
    """Counts nodes across one BOM so the whole tree, not each level, is bounded."""

    def __init__(self, limits: ArtifactLimits) -> None:
        self.left = limits.max_bom_nodes

    def take(self, field: str) -> None:
        self.left -= 1
        if self.left < 0:
            raise ValidationError(field, "too many BOM nodes")


def _node(
    value: object,
    field: str,
    limits: ArtifactLimits,
    budget: _NodeBudget,
    seen: set[str],
) -> dict[str, Any]:
    # Iterative over the tree: a hostile depth must give a ValidationError, never a
    # RecursionError. Each stack entry is (raw node, its path, its depth, parent's children).
    top: list[dict[str, Any]] = []
    stack: list[tuple[object, str, int, list[dict[str, Any]]]] = [(value, field, 1, top)]
    while stack:
        raw, path, depth, into = stack.pop()
        if depth > limits.max_bom_depth:
            raise ValidationError(path, f"BOM nested deeper than {limits.max_bom_depth} levels")
        budget.take(path)
        node, raw_children = _node_fields(raw, path, limits)
        if node["tempId"] in seen:
            raise ValidationError(f"{path}.tempId", f"duplicate tempId '{node['tempId']}'")
        seen.add(node["tempId"])
        into.append(node)
        # Pushed in reverse so children are validated (and errors found) in document order.
        for i in reversed(range(len(raw_children))):
            stack.append((raw_children[i], f"{path}.children[{i}]", depth + 1, node["children"]))
    return top[0]


def _node_fields(value: object, field: str, limits: ArtifactLimits) -> tuple[dict[str, Any], list[object]]:
    obj = fields.json_fields(value, field, _NODE_KEYS)
    fields.require_keys(obj, field, ("tempId", "name", "isNew", "quantity", "partType"))
    is_new = obj["isNew"]
    if not isinstance(is_new, bool):
        raise ValidationError(f"{field}.isNew", "must be a boolean")
    node: dict[str, Any] = {
        "tempId": fields.text(obj["tempId"], f"{field}.tempId", limits, non_empty=True),
        "name": fields.text(obj["name"], f"{field}.name", limits),
        "isNew": is_new,
        "quantity": fields.quantity(obj["quantity"], f"{field}.quantity"),
        "children": [],
        "requirementTempIds": [],
        "partType": fields.enum_value(obj["partType"], f"{field}.partType", PartType),
    }
    raw_links = obj.get("requirementTempIds")
    if raw_links is not None:
        node["requirementTempIds"] = fields.strings(
            raw_links, f"{field}.requirementTempIds", limits, limits.max_requirements
        )
    for key in ("existingItemId", "material", "rationale"):
        if obj.get(key) is not None:
            node[key] = fields.text(obj[key], f"{field}.{key}", limits)
    if obj.get("confidence") is not None:
        node["confidence"] = fields.confidence(obj["confidence"], f"{field}.confidence")
    for key in ("cadGeneration", "assemblyComposition", "parameters"):
        if obj.get(key) is not None:
            node[key] = fields.json_object(obj[key], f"{field}.{key}")
    raw_children = obj.get("children")
    children: list[object] = []
    if raw_children is not None:
        children = list(fields.bounded_list(raw_children, f"{field}.children", limits.max_bom_nodes))
    return node, children


def bom_nodes(bom: Mapping[str, Any] | None) -> Iterator[dict[str, Any]]:
    """Every node of the ``rootAssembly`` tree, depth first, parents before children.

    ``proposedParts`` is not walked: it lists candidates, not members of the tree.
    """
    if bom is None:
        return
    root = bom.get("rootAssembly")
    if not isinstance(root, dict):
        return
    stack: list[dict[str, Any]] = [root]
    while stack:
        node = stack.pop()
        yield node
        children = node.get("children")
        if isinstance(children, list):
            stack.extend(kid for kid in reversed(children) if isinstance(kid, dict))


def find_bom_node(bom: Mapping[str, Any] | None, temp_id: str) -> dict[str, Any] | None:
    """The node of the ``rootAssembly`` tree with ``tempId``, or None."""
    for node in bom_nodes(bom):
        if node.get("tempId") == temp_id:
            return node
    return None


def materialization_blocker(artifacts: Mapping[str, Any]) -> str | None:
    """Why materialization may not run (the spec's 422 conditions), or None.

    "Only once per session" is judged from the durable ``materializationResult``, not
    from the status: later CAD and assembly runs set the status back to active.
    """
    if "materializationResult" in artifacts:
        return "session already materialized"
    if artifacts.get("bom") is None:
        return "no BOM artifacts to materialize"
    return None


# ---------------------------------------------------------------------------- the rest


def _clarifications(value: object, field: str, limits: ArtifactLimits) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, raw in enumerate(fields.bounded_list(value, field, limits.max_clarifications)):
        path = f"{field}[{i}]"
        obj = fields.json_fields(raw, path, _CLARIFICATION_KEYS)
        fields.require_keys(obj, path, ("id", "question"))
        entry: dict[str, Any] = {
            "id": fields.text(obj["id"], f"{path}.id", limits, non_empty=True),
            "question": fields.text(obj["question"], f"{path}.question", limits),
        }
        if entry["id"] in seen:
            raise ValidationError(f"{path}.id", f"duplicate id '{entry['id']}'")
        seen.add(entry["id"])
        if obj.get("options") is not None:
            entry["options"] = fields.strings(obj["options"], f"{path}.options", limits, limits.max_options)
        if obj.get("answer") is not None:
            entry["answer"] = fields.text(obj["answer"], f"{path}.answer", limits)
        if obj.get("answeredAt") is not None:
            entry["answeredAt"] = fields.timestamp(obj["answeredAt"], f"{path}.answeredAt")
        out.append(entry)
    return out


def _user_messages(value: object, field: str, limits: ArtifactLimits) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, raw in enumerate(fields.bounded_list(value, field, limits.max_user_messages)):
        path = f"{field}[{i}]"
        obj = fields.json_fields(raw, path, _USER_MESSAGE_KEYS)
        fields.require_keys(obj, path, _USER_MESSAGE_KEYS)
        message = {
            "id": fields.text(obj["id"], f"{path}.id", limits, non_empty=True),
            "text": fields.text(obj["text"], f"{path}.text", limits),
            "createdAt": fields.timestamp(obj["createdAt"], f"{path}.createdAt"),
        }
        if message["id"] in seen:
            raise ValidationError(f"{path}.id", f"duplicate id '{message['id']}'")
        seen.add(message["id"])
        out.append(message)
    return out


def _materialization_result(value: object, field: str, limits: ArtifactLimits) -> dict[str, Any]:
    obj = fields.json_fields(value, field, _RESULT_KEYS)
    fields.require_keys(obj, field, ("designId", "createdItems", "bomRelationshipsCreated"))
    out: dict[str, Any] = {
        "designId": fields.text(obj["designId"], f"{field}.designId", limits, non_empty=True)
    }
    for key in ("ecoId", "ecoNumber"):
        if obj.get(key) is not None:
            out[key] = fields.text(obj[key], f"{field}.{key}", limits)
    items: list[dict[str, Any]] = []
    for i, raw in enumerate(
        fields.bounded_list(obj["createdItems"], f"{field}.createdItems", limits.max_created_items)
    ):
        path = f"{field}.createdItems[{i}]"
        item = fields.json_fields(raw, path, _CREATED_ITEM_KEYS)
        fields.require_keys(item, path, _CREATED_ITEM_KEYS)
        items.append({key: fields.text(item[key], f"{path}.{key}", limits) for key in _CREATED_ITEM_KEYS})
    out["createdItems"] = items
    count = obj["bomRelationshipsCreated"]
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValidationError(f"{field}.bomRelationshipsCreated", "must be a non-negative integer")
    out["bomRelationshipsCreated"] = count
    return out


def _check_references(artifacts: Mapping[str, Any], field: str) -> None:
    pending = artifacts.get("pendingClarificationId")
    if pending is None:
        return
    ids = {entry.get("id") for entry in artifacts.get("clarifications") or ()}
    if pending not in ids:
        raise ValidationError(
            f"{field}.pendingClarificationId", f"'{pending}' is not the id of an entry in clarifications"
        )
