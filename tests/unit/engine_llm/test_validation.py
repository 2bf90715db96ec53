"""validate_tool_args / parse_tool_arguments by value: payloads out, errors naming their field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from actors.engine.llm.schema import (
    PART_TYPES,
    PRIORITIES,
    REQUIREMENT_FIELDS,
    REQUIREMENT_TYPES,
    SOURCES,
    VERIFICATION_METHODS,
    DraftingStage,
    ToolLimits,
    tool_definition,
    tool_definitions,
)
from actors.engine.llm.validation import parse_tool_arguments, validate_tool_args
from actors.llm.errors import ToolArgumentError

from . import samples

Mutation = Callable[[dict[str, Any]], None]


def _refused(name: str, args: object, **kwargs: Any) -> ToolArgumentError:
    with pytest.raises(ToolArgumentError) as caught:
        validate_tool_args(name, args, **kwargs)
    return caught.value


# -- propose_requirements ------------------------------------------------------------------


def test_valid_requirements_come_back_normalised() -> None:
    args = samples.requirements_args(2)
    args["requirements"][0]["name"] = "  Maximum speed  "
    payload = validate_tool_args("propose_requirements", args)
    assert payload == {"requirements": [samples.requirement("req-1"), samples.requirement("req-2")]}
    assert list(payload["requirements"][0]) == list(REQUIREMENT_FIELDS)


def _set(path: str, value: object) -> Mutation:
    def mutate(args: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = args
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value

    return mutate


def _drop(path: str) -> Mutation:
    def mutate(args: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = args
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        del target[last]

    return mutate


@pytest.mark.parametrize(
    ("mutate", "field", "fragment"),
    [
        (_set("requirements.1.priority", "urgent"), "requirements[1].priority", "must be one of low, medium"),
        (_set("requirements.0.requirementType", "Safety"), "requirements[0].requirementType", "Functional"),
        (_set("requirements.0.verificationMethod", "test"), "requirements[0].verificationMethod", "Analysis"),
        (_set("requirements.0.source", "model"), "requirements[0].source", "ai, user"),
        (_set("requirements.0.confidence", 1.5), "requirements[0].confidence", "between 0 and 1"),
        (_set("requirements.0.confidence", -0.1), "requirements[0].confidence", "between 0 and 1"),
        (_set("requirements.0.confidence", "high"), "requirements[0].confidence", "got string"),
        (_set("requirements.0.confidence", True), "requirements[0].confidence", "got boolean"),
        (_set("requirements.0.name", 7), "requirements[0].name", "must be a string, got integer"),
        (_set("requirements.0.name", "   "), "requirements[0].name", "must not be empty"),
        (_set("requirements.0.name", "\ud800"), "requirements[0].name", "lone surrogates"),
        (_drop("requirements.1.rationale"), "requirements[1].rationale", "is required"),
        (_set("requirements.0.ownerId", "u1"), "requirements[0].ownerId", "unknown field"),
        (_set("requirements.1.tempId", "req-1"), "requirements[1].tempId", "duplicate tempId 'req-1'"),
        (_set("requirements", []), "requirements", "at least 1"),
        (_set("requirements", {"a": 1}), "requirements", "must be an array, got object"),
        (_set("requirements.0", "req"), "requirements[0]", "must be an object, got string"),
        (_drop("requirements"), "requirements", "is required"),
        (_set("extra", 1), "extra", "unknown field"),
    ],
)
def test_requirement_errors_name_the_field(mutate: Mutation, field: str, fragment: str) -> None:
    args = samples.requirements_args(2)
    mutate(args)
    error = _refused("propose_requirements", args)
    assert error.name == "propose_requirements"
    assert error.field == field
    assert fragment in error.message
    assert str(error).startswith(f"propose_requirements: {field}: ")


def test_duplicate_error_points_at_the_first_use() -> None:
    args = samples.requirements_args(3)
    args["requirements"][2]["tempId"] = "req-1"
    assert "already used at requirements[0].tempId" in _refused("propose_requirements", args).message


def test_requirement_count_is_bounded() -> None:
    error = _refused(
        "propose_requirements", samples.requirements_args(3), limits=ToolLimits(max_requirements=2)
    )
    assert (error.field, error.message) == ("requirements", "must have at most 2 items, got 3")


def test_arguments_must_be_an_object() -> None:
    error = _refused("propose_requirements", ["req"])
    assert (error.field, error.message) == ("", "must be an object, got array")
    assert str(error) == "propose_requirements: must be an object, got array"


# -- propose_bom ---------------------------------------------------------------------------


def test_valid_bom_is_normalised_with_coverage() -> None:
    payload = validate_tool_args(
        "propose_bom", samples.bom_args(), requirement_ids=["req-1", "req-2", "req-3"]
    )
    root = payload["rootAssembly"]
    assert [child["tempId"] for child in root["children"]] == ["prt-1", "prt-2"]
    assert root["children"][0]["parameters"] == {
        "shape": "plate",
        "length_mm": 120,
        "width_mm": 80,
        "thickness_mm": 6,
    }
    assert payload["proposedParts"] == []
    assert payload["requirementsCoverage"] == {"req-2": ["asm-1"], "req-1": ["prt-1"]}
    assert payload["uncoveredRequirements"] == ["req-3"]
    assert payload["validationIssues"] == [
        {
            "severity": "warning",
            "tempId": None,
            "message": "requirement 'req-3' is not covered by any BOM node",
        }
    ]


def test_bom_defaults_children_and_links() -> None:
    root = samples.node("asm-1")
    del root["children"], root["requirementTempIds"]
    payload = validate_tool_args("propose_bom", {"rootAssembly": root})
    assert payload["rootAssembly"]["children"] == []
    assert payload["rootAssembly"]["requirementTempIds"] == []
    assert payload["uncoveredRequirements"] == []


def test_integral_float_quantity_is_an_integer() -> None:
    args = samples.bom_args()
    args["rootAssembly"]["children"][1]["quantity"] = 8.0
    payload = validate_tool_args("propose_bom", args)
    quantity = payload["rootAssembly"]["children"][1]["quantity"]
    assert quantity == 8
    assert isinstance(quantity, int)


def test_leaf_manufacture_part_without_material_is_a_warning() -> None:
    args = samples.bom_args()
    del args["rootAssembly"]["children"][0]["material"]
    issues = validate_tool_args("propose_bom", args)["validationIssues"]
    assert [(issue["tempId"], issue["severity"]) for issue in issues] == [("prt-1", "warning")]


def test_reused_item_needs_its_id() -> None:
    args = samples.bom_args()
    args["rootAssembly"]["children"][1].update(isNew=False, existingItemId="item-42")
    payload = validate_tool_args("propose_bom", args)
    assert payload["rootAssembly"]["children"][1]["existingItemId"] == "item-42"


@pytest.mark.parametrize(
    ("mutate", "field", "fragment"),
    [
        (_set("rootAssembly.children.1.quantity", 0), "rootAssembly.children[1].quantity", "at least 1"),
        (_set("rootAssembly.children.1.quantity", 2.5), "rootAssembly.children[1].quantity", "integer"),
        (_set("rootAssembly.children.1.quantity", "2"), "rootAssembly.children[1].quantity", "integer"),
        (_set("rootAssembly.children.1.quantity", True), "rootAssembly.children[1].quantity", "integer"),
        (_set("rootAssembly.children.0.partType", "Buy"), "rootAssembly.children[0].partType", "Manufacture"),
        (_set("rootAssembly.confidence", 2), "rootAssembly.confidence", "between 0 and 1"),
        (_set("rootAssembly.isNew", "yes"), "rootAssembly.isNew", "true or false"),
        (_set("rootAssembly.children.1.tempId", "asm-1"), "rootAssembly.children[1].tempId", "duplicate"),
        (_drop("rootAssembly.children.0.rationale"), "rootAssembly.children[0].rationale", "is required"),
        (_drop("rootAssembly.partType"), "rootAssembly.partType", "is required"),
        (_set("rootAssembly.cadGeneration", {}), "rootAssembly.cadGeneration", "unknown field"),
        (_set("rootAssembly.children.0.isNew", False), "rootAssembly.children[0].existingItemId", "required"),
        (
            _set("rootAssembly.children.0.existingItemId", "item-1"),
            "rootAssembly.children[0].existingItemId",
            "must be absent",
        ),
        (
            _set("rootAssembly.children.0.requirementTempIds", ["req-9"]),
            "rootAssembly.children[0].requirementTempIds[0]",
            "unknown requirement 'req-9'",
        ),
        (
            _set("rootAssembly.children.0.requirementTempIds", "req-1"),
            "rootAssembly.children[0].requirementTempIds",
            "must be an array",
        ),
        (
            _set("rootAssembly.children.0.parameters", {"length_mm": -5}),
            "rootAssembly.children[0].parameters.length_mm",
            "must be positive",
        ),
        (
            _set("rootAssembly.children.0.parameters", {"length_mm": "long"}),
            "rootAssembly.children[0].parameters.length_mm",
            "must be a number",
        ),
        (
            _set("rootAssembly.children.0.parameters", {"holes": [1, 2]}),
            "rootAssembly.children[0].parameters.holes",
            "string, number or boolean",
        ),
        (_set("rootAssembly.children.0.parameters", [1]), "rootAssembly.children[0].parameters", "object"),
        (_set("rootAssembly.children", {}), "rootAssembly.children", "must be an array"),
        (_set("proposedParts", [{"tempId": "x"}]), "proposedParts[0].name", "is required"),
        (_set("uncoveredRequirements", [1]), "uncoveredRequirements[0]", "must be a string"),
        (_drop("rootAssembly"), "rootAssembly", "is required"),
    ],
)
def test_bom_errors_name_the_field(mutate: Mutation, field: str, fragment: str) -> None:
    args = samples.bom_args()
    mutate(args)
    error = _refused("propose_bom", args, requirement_ids=["req-1", "req-2"])
    assert error.field == field
    assert fragment in error.message


def test_temp_ids_are_unique_across_tree_and_proposed_parts() -> None:
    args = samples.bom_args()
    args["proposedParts"] = [samples.node("prt-1")]
    error = _refused("propose_bom", args)
    assert (error.field, error.message) == (
        "proposedParts[0].tempId",
        "duplicate tempId 'prt-1' (already used at rootAssembly.children[0].tempId)",
    )


def test_links_are_free_without_known_requirements() -> None:
    args = samples.bom_args()
    args["uncoveredRequirements"] = ["req-7", "req-1"]
    payload = validate_tool_args("propose_bom", args)
    # Declared gaps are kept, except those the tree does cover.
    assert payload["uncoveredRequirements"] == ["req-7"]


def test_depth_and_size_are_bounded() -> None:
    deep = samples.node("n-0")
    tip = deep
    for level in range(1, 4):
        child = samples.node(f"n-{level}")
        tip["children"] = [child]
        tip = child
    error = _refused("propose_bom", {"rootAssembly": deep}, limits=ToolLimits(max_bom_depth=3))
    assert error.field == "rootAssembly.children[0].children[0].children[0]"
    assert "nested too deeply" in error.message
    pair = [samples.node(f"c-{i}", samples.node(f"c-{i}-a"), samples.node(f"c-{i}-b")) for i in range(2)]
    error = _refused(
        "propose_bom", {"rootAssembly": samples.node("root", *pair)}, limits=ToolLimits(max_bom_nodes=4)
    )
    assert (error.field, error.message) == (
        "rootAssembly.children[1]",
        "the BOM has too many nodes (more than 4)",
    )
    wide = samples.node("root", *(samples.node(f"c-{i}") for i in range(5)))
    error = _refused("propose_bom", {"rootAssembly": wide}, limits=ToolLimits(max_bom_nodes=4))
    assert (error.field, error.message) == ("rootAssembly.children", "must have at most 4 items, got 5")


def test_empty_requirement_list_reports_none_known() -> None:
    error = _refused("propose_bom", samples.bom_args(), requirement_ids=[])
    assert error.message == "unknown requirement 'req-2'; known requirements: none (no requirements yet)"


# -- ask_clarification / search_items / unknown --------------------------------------------


def test_clarification_arguments() -> None:
    assert validate_tool_args("ask_clarification", {"question": " Indoors? "}) == {
        "question": "Indoors?",
        "options": None,
    }
    assert validate_tool_args(
        "ask_clarification", {"question": "Where?", "options": ["In", "Out", "In"]}
    ) == {
        "question": "Where?",
        "options": ["In", "Out"],
    }
    assert _refused("ask_clarification", {"question": ""}).field == "question"
    assert _refused("ask_clarification", {"question": "Q", "options": []}).field == "options"
    assert _refused("ask_clarification", {"question": "Q", "options": ["a", 2]}).field == "options[1]"
    assert _refused("ask_clarification", {"question": "Q", "options": ["a"] * 9}).field == "options"


def test_search_arguments() -> None:
    assert validate_tool_args("search_items", {"query": " M6 screw "}) == {"query": "M6 screw"}
    assert _refused("search_items", {}).field == "query"
    assert _refused("search_items", {"query": "x" * 201}).message == "is too long (201 > 200 characters)"


def test_unknown_tool() -> None:
    error = _refused("delete_everything", {})
    assert error.field == ""
    assert "known tools: propose_requirements, propose_bom, ask_clarification, search_items" in error.message


# -- parse_tool_arguments -------------------------------------------------------------------


def test_parse_arguments() -> None:
    assert parse_tool_arguments("search_items", '{"query": "x"}', max_chars=100) == {"query": "x"}
    assert parse_tool_arguments("search_items", "  ", max_chars=100) == {}
    assert "not valid JSON" in _parse_error('{"query": ')
    assert _parse_error("[1]") == "search_items: arguments must be a JSON object, got array"
    assert _parse_error("x" * 101) == "search_items: arguments are too long (101 > 100 characters)"
    # Hostile nesting is a refusal, not a RecursionError escaping the provider.
    assert "not valid JSON" in _parse_error("[" * 100_000, max_chars=10**6)


def _parse_error(raw: str, *, max_chars: int = 100) -> str:
    with pytest.raises(ToolArgumentError) as caught:
        parse_tool_arguments("search_items", raw, max_chars=max_chars)
    return str(caught.value)


# -- the schemas advertise what validation enforces -----------------------------------------


def test_schemas_carry_the_spec_enums() -> None:
    requirement = tool_definition("propose_requirements")["function"]["parameters"]["properties"][
        "requirements"
    ]
    properties = requirement["items"]["properties"]
    assert properties["requirementType"]["enum"] == list(REQUIREMENT_TYPES)
    assert properties["priority"]["enum"] == list(PRIORITIES)
    assert properties["verificationMethod"]["enum"] == list(VERIFICATION_METHODS)
    assert properties["source"]["enum"] == list(SOURCES)
    assert sorted(requirement["items"]["required"]) == sorted(REQUIREMENT_FIELDS)
    bom = tool_definition("propose_bom")["function"]["parameters"]
    node = bom["$defs"]["bomNode"]
    assert node["properties"]["partType"]["enum"] == list(PART_TYPES)
    assert node["properties"]["children"]["items"] == {"$ref": "#/$defs/bomNode"}
    assert bom["properties"]["rootAssembly"] == {"$ref": "#/$defs/bomNode"}


def test_stage_tool_sets() -> None:
    names = {stage: [tool["function"]["name"] for tool in tool_definitions(stage)] for stage in DraftingStage}
    assert names == {
        DraftingStage.REQUIREMENTS: ["propose_requirements", "ask_clarification"],
        DraftingStage.BOM: ["propose_bom", "search_items", "ask_clarification"],
    }
    first = tool_definitions(DraftingStage.BOM)
    first[0]["function"]["name"] = "changed"
    assert tool_definitions(DraftingStage.BOM)[0]["function"]["name"] == "propose_bom"
    with pytest.raises(KeyError, match="unknown tool 'nope'"):
        tool_definition("nope")


def test_validation_does_not_mutate_its_input() -> None:
    args = samples.bom_args()
    before = copy.deepcopy(args)
    validate_tool_args("propose_bom", args)
    assert args == before  # validation never mutates its input
