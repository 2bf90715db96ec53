"""The drafting tools as data: names, the spec's enums, limits and OpenAI function-tool schemas.

The JSON schemas here are what the model sees; `validation.py` enforces the same vocabulary
(it imports the enums and limits from this module, so the two cannot drift apart).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "ASK_CLARIFICATION",
    "BOM_NODE_FIELDS",
    "DEFAULT_LIMITS",
    "PART_TYPES",
    "PRIORITIES",
    "PROPOSE_BOM",
    "PROPOSE_REQUIREMENTS",
    "PROPOSE_TOOL",
    "REQUIREMENT_FIELDS",
    "REQUIREMENT_TYPES",
    "SEARCH_ITEMS",
    "SOURCES",
    "STAGE_TOOLS",
    "TOOL_NAMES",
    "VERIFICATION_METHODS",
    "DraftingStage",
    "ToolLimits",
    "tool_definition",
    "tool_definitions",
]


class DraftingStage(StrEnum):
    """The AI drafting stages this layer serves (values are the spec's stage names)."""

    REQUIREMENTS = "requirements_drafting"
    BOM = "bom_drafting"


PROPOSE_REQUIREMENTS = "propose_requirements"
PROPOSE_BOM = "propose_bom"
ASK_CLARIFICATION = "ask_clarification"
SEARCH_ITEMS = "search_items"
TOOL_NAMES: tuple[str, ...] = (PROPOSE_REQUIREMENTS, PROPOSE_BOM, ASK_CLARIFICATION, SEARCH_ITEMS)

# The tools offered in each stage, and the one whose success completes the stage's draft.
STAGE_TOOLS: Mapping[DraftingStage, tuple[str, ...]] = {
    DraftingStage.REQUIREMENTS: (PROPOSE_REQUIREMENTS, ASK_CLARIFICATION),
    DraftingStage.BOM: (PROPOSE_BOM, SEARCH_ITEMS, ASK_CLARIFICATION),
}
PROPOSE_TOOL: Mapping[DraftingStage, str] = {
    DraftingStage.REQUIREMENTS: PROPOSE_REQUIREMENTS,
    DraftingStage.BOM: PROPOSE_BOM,
}

# Enums of the spec's artifact schema (RequirementDraft, BomNodeDraft).
REQUIREMENT_TYPES: tuple[str, ...] = ("Functional", "Performance", "Interface", "Constraint", "Other")
PRIORITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
VERIFICATION_METHODS: tuple[str, ...] = ("Analysis", "Inspection", "Test", "Demonstration")
SOURCES: tuple[str, ...] = ("ai", "user")
PART_TYPES: tuple[str, ...] = ("Manufacture", "Purchase", "Software", "Phantom")

# Field order of the normalised drafts (the spec's table order).
REQUIREMENT_FIELDS: tuple[str, ...] = (
    "tempId",
    "name",
    "description",
    "requirementType",
    "priority",
    "verificationMethod",
    "rationale",
    "confidence",
    "source",
)
# `cadGeneration` and `assemblyComposition` belong to later stages, so drafting cannot set them;
# `parameters` carries the CAD-ready dimensions the CAD stage consumes.
BOM_NODE_FIELDS: tuple[str, ...] = (
    "tempId",
    "name",
    "isNew",
    "existingItemId",
    "quantity",
    "children",
    "requirementTempIds",
    "partType",
    "material",
    "parameters",
    "rationale",
    "confidence",
)


@dataclass(frozen=True, slots=True)
class ToolLimits:
    """Bounds on what one tool call may carry (the schemas advertise them, validation enforces)."""

    max_requirements: int = 50
    max_bom_nodes: int = 300
    max_bom_depth: int = 8
    max_id_chars: int = 64
    max_name_chars: int = 200
    max_text_chars: int = 4000
    max_options: int = 8
    max_parameters: int = 32
    max_query_chars: int = 200
    max_search_results: int = 20


DEFAULT_LIMITS = ToolLimits()


def _string(description: str, max_length: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length, "description": description}


def _enum(description: str, values: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "string", "enum": list(values), "description": description}


def _confidence() -> dict[str, Any]:
    return {"type": "number", "minimum": 0, "maximum": 1, "description": "Your confidence, 0 to 1."}


def _requirement_schema(limits: ToolLimits) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(REQUIREMENT_FIELDS),
        "properties": {
            "tempId": _string("Unique temporary id within the proposal, e.g. req-1.", limits.max_id_chars),
            "name": _string("Short requirement name.", limits.max_name_chars),
            "description": _string(
                "Full, verifiable requirement text ('The product shall ...').", limits.max_text_chars
            ),
            "requirementType": _enum("Kind of requirement.", REQUIREMENT_TYPES),
            "priority": _enum("Priority.", PRIORITIES),
            "verificationMethod": _enum("How the requirement will be verified.", VERIFICATION_METHODS),
            "rationale": _string("Why this requirement exists.", limits.max_text_chars),
            "confidence": _confidence(),
            "source": _enum("'ai' for your proposals; 'user' for requirements the user stated.", SOURCES),
        },
    }


def _bom_node_schema(limits: ToolLimits) -> dict[str, Any]:
    node_ref = {"$ref": "#/$defs/bomNode"}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["tempId", "name", "isNew", "quantity", "partType", "rationale", "confidence"],
        "properties": {
            "tempId": _string(
                "Unique temporary id across the whole BOM, e.g. asm-1, prt-3.", limits.max_id_chars
            ),
            "name": _string("Part or assembly name.", limits.max_name_chars),
            "isNew": {
                "type": "boolean",
                "description": "true for a new part; false when reusing an existing item (see search_items).",
            },
            "existingItemId": _string(
                "Item id of the reused existing item; required when isNew is false, absent otherwise.",
                limits.max_id_chars,
            ),
            "quantity": {"type": "integer", "minimum": 1, "description": "Quantity in the parent assembly."},
            "children": {
                "type": "array",
                "items": node_ref,
                "description": "Child nodes (the same structure, recursively).",
            },
            "requirementTempIds": {
                "type": "array",
                "items": {"type": "string"},
                "description": "tempIds of the requirements this node satisfies.",
            },
            "partType": _enum("How the part is obtained.", PART_TYPES),
            "material": _string("Material specification, e.g. '6061-T6 aluminium'.", limits.max_name_chars),
            "parameters": {
                "type": "object",
                "maxProperties": limits.max_parameters,
                "additionalProperties": {"type": ["string", "number", "boolean"]},
                "description": (
                    "CAD-ready parameters for Manufacture parts: 'shape' (plate, box, cylinder, ...) and "
                    'dimensions in millimetres with an _mm suffix, e.g. {"shape": "plate", '
                    '"length_mm": 120, "width_mm": 80, "thickness_mm": 6, "holes": 4, '
                    '"hole_diameter_mm": 6}.'
                ),
            },
            "rationale": _string("Design rationale.", limits.max_text_chars),
            "confidence": _confidence(),
        },
    }


def _function(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


def tool_definition(name: str, limits: ToolLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """One tool in the OpenAI function-tool format (a fresh dict; callers may keep it)."""
    if name == PROPOSE_REQUIREMENTS:
        return _function(
            name,
            "Propose the complete list of requirements for the product. Replaces any earlier proposal.",
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["requirements"],
                "properties": {
                    "requirements": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": limits.max_requirements,
                        "items": _requirement_schema(limits),
                    }
                },
            },
        )
    if name == PROPOSE_BOM:
        return _function(
            name,
            "Propose the complete bill of materials as a tree under one root assembly. "
            "Replaces any earlier proposal.",
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["rootAssembly"],
                "$defs": {"bomNode": _bom_node_schema(limits)},
                "properties": {
                    "rootAssembly": {"$ref": "#/$defs/bomNode"},
                    "proposedParts": {
                        "type": "array",
                        "items": {"$ref": "#/$defs/bomNode"},
                        "description": "Optional alternative or additional parts not yet placed in the tree.",
                    },
                    "uncoveredRequirements": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "tempIds of requirements no node satisfies yet.",
                    },
                },
            },
        )
    if name == ASK_CLARIFICATION:
        return _function(
            name,
            "Ask the user one question when the brief is too ambiguous to draft responsibly. "
            "The stage pauses until the user answers.",
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["question"],
                "properties": {
                    "question": _string("The question, in one sentence.", limits.max_text_chars),
                    "options": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": limits.max_options,
                        "items": {"type": "string", "minLength": 1},
                        "description": "Optional suggested answers.",
                    },
                },
            },
        )
    if name == SEARCH_ITEMS:
        return _function(
            name,
            "Search existing PLM items that could be reused instead of designing a new part. "
            "Returns {items: [{id, itemNumber, name, ...}]}.",
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["query"],
                "properties": {
                    "query": _string("Search text, e.g. 'M6 socket head screw'.", limits.max_query_chars)
                },
            },
        )
    raise KeyError(f"unknown tool {name!r}; known tools: {', '.join(TOOL_NAMES)}")


def tool_definitions(stage: DraftingStage, limits: ToolLimits = DEFAULT_LIMITS) -> list[dict[str, Any]]:
    """The tools offered to the model in `stage`."""
    return [tool_definition(name, limits) for name in STAGE_TOOLS[stage]]
