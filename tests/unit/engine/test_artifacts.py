"""Artifact validation, merging, tree walks and titles by value."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from actors.core.errors import ValidationError
from actors.engine.artifacts import (
    UNTITLED,
    ArtifactLimits,
    bom_nodes,
    empty_artifacts,
    find_bom_node,
    materialization_blocker,
    merge_artifacts,
    title_from_description,
    validate_artifacts,
    validate_artifacts_patch,
    validate_bom,
    validate_bom_node,
    validate_description,
    validate_requirements,
)

from . import samples


def test_complete_artifacts_validate_unchanged() -> None:
    artifacts = samples.artifacts()
    assert validate_artifacts(artifacts) == artifacts


def test_empty_artifacts_are_valid() -> None:
    empty = empty_artifacts("a kart")
    assert empty == {
        "description": "a kart",
        "requirements": [],
        "bom": None,
        "clarifications": [],
        "userMessages": [],
    }
    assert validate_artifacts(empty) == empty
    assert empty_artifacts("a kart") is not empty_artifacts("a kart")


def test_canonical_forms() -> None:
    bom = validate_bom(
        {
            "rootAssembly": {
                "tempId": "a",
                "name": "A",
                "isNew": True,
                "quantity": 2.0,
                "partType": "Phantom",
                "material": None,
            }
        }
    )
    assert bom == {
        "rootAssembly": {
            "tempId": "a",
            "name": "A",
            "isNew": True,
            "quantity": 2,
            "children": [],
            "requirementTempIds": [],
            "partType": "Phantom",
        },
        "proposedParts": [],
        "requirementsCoverage": {},
        "uncoveredRequirements": [],
        "validationIssues": [],
    }
    assert isinstance(bom["rootAssembly"]["quantity"], int)
    minimal = {k: v for k, v in samples.requirement().items() if k not in ("rationale", "confidence")}
    assert validate_requirements([{**minimal, "confidence": None}]) == [minimal]


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(artifacts: dict[str, Any]) -> None:
        target: Any = artifacts
        for step in path[:-1]:
            target = target[step]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return edit


def _add_requirement(artifacts: dict[str, Any]) -> None:
    artifacts["requirements"].append(samples.requirement("req-3", priority="urgent"))


ROOT = ["bom", "rootAssembly"]


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        (
            _add_requirement,
            "artifacts.requirements[2].priority",
            "must be one of low, medium, high, critical",
        ),
        (
            _set(["requirements", 0, "requirementType"], "Safety"),
            "artifacts.requirements[0].requirementType",
            "must be one of Functional, Performance, Interface, Constraint, Other",
        ),
        (
            _set(["requirements", 1, "verificationMethod"], "test"),
            "artifacts.requirements[1].verificationMethod",
            "must be one of Analysis, Inspection, Test, Demonstration",
        ),
        (
            _set(["requirements", 0, "source"], "robot"),
            "artifacts.requirements[0].source",
            "must be one of ai, user",
        ),
        (
            _set(["requirements", 0, "confidence"], 1.5),
            "artifacts.requirements[0].confidence",
            "must be a number from 0 to 1",
        ),
        (
            _set(["requirements", 0, "confidence"], True),
            "artifacts.requirements[0].confidence",
            "must be a number from 0 to 1",
        ),
        (_set(["requirements", 0, "tempId"], KeyError), "artifacts.requirements[0].tempId", "required"),
        (
            _set(["requirements", 1, "tempId"], "req-1"),
            "artifacts.requirements[1].tempId",
            "duplicate tempId 'req-1'",
        ),
        (_set(["requirements", 0, "priorty"], "high"), "artifacts.requirements[0].priorty", "unknown key"),
        (_set(["requirements"], None), "artifacts.requirements", "must be an array"),
        (_set(["requirements", 0], "req"), "artifacts.requirements[0]", "must be an object"),
        (
            _set([*ROOT, "children", 0, "quantity"], 0),
            "artifacts.bom.rootAssembly.children[0].quantity",
            "must be a positive integer",
        ),
        (
            _set([*ROOT, "children", 0, "quantity"], 1.5),
            "artifacts.bom.rootAssembly.children[0].quantity",
            "must be a positive integer",
        ),
        (
            _set([*ROOT, "children", 0, "quantity"], "2"),
            "artifacts.bom.rootAssembly.children[0].quantity",
            "must be a positive integer",
        ),
        (
            _set([*ROOT, "children", 0, "quantity"], True),
            "artifacts.bom.rootAssembly.children[0].quantity",
            "must be a positive integer",
        ),
        (
            _set([*ROOT, "children", 0, "children", 0, "partType"], "Buy"),
            "artifacts.bom.rootAssembly.children[0].children[0].partType",
            "must be one of Manufacture, Purchase, Software, Phantom",
        ),
        (
            _set([*ROOT, "children", 1, "tempId"], "tube"),
            "artifacts.bom.rootAssembly.children[1].tempId",
            "duplicate tempId 'tube'",
        ),
        (_set([*ROOT, "isNew"], "yes"), "artifacts.bom.rootAssembly.isNew", "must be a boolean"),
        (_set([*ROOT, "children"], {}), "artifacts.bom.rootAssembly.children", "must be an array"),
        (
            _set([*ROOT, "requirementTempIds"], [1]),
            "artifacts.bom.rootAssembly.requirementTempIds[0]",
            "must be a string",
        ),
        (
            _set([*ROOT, "cadGeneration"], "done"),
            "artifacts.bom.rootAssembly.cadGeneration",
            "must be an object",
        ),
        (_set([*ROOT, "colour"], "red"), "artifacts.bom.rootAssembly.colour", "unknown key"),
        (
            _set(["bom", "proposedParts", 0, "name"], KeyError),
            "artifacts.bom.proposedParts[0].name",
            "required",
        ),
        (_set(["bom", "rootAssembly"], KeyError), "artifacts.bom.rootAssembly", "required"),
        (
            _set(["bom", "requirementsCoverage"], []),
            "artifacts.bom.requirementsCoverage",
            "must be an object",
        ),
        (
            _set(["bom", "validationIssues", 0, "n"], float("nan")),
            "artifacts.bom.validationIssues[0].n",
            "must be a finite number",
        ),
        (
            _set(["clarifications", 0, "answeredAt"], "yesterday"),
            "artifacts.clarifications[0].answeredAt",
            "must be an ISO 8601 timestamp string",
        ),
        (_set(["clarifications", 1, "id"], "q-1"), "artifacts.clarifications[1].id", "duplicate id 'q-1'"),
        (
            _set(["clarifications", 0, "options"], "A or B"),
            "artifacts.clarifications[0].options",
            "must be an array",
        ),
        (_set(["userMessages", 0, "createdAt"], KeyError), "artifacts.userMessages[0].createdAt", "required"),
        (
            _set(["pendingClarificationId"], "q-9"),
            "artifacts.pendingClarificationId",
            "'q-9' is not the id of an entry in clarifications",
        ),
        (
            _set(["materializationResult", "bomRelationshipsCreated"], -1),
            "artifacts.materializationResult.bomRelationshipsCreated",
            "must be a non-negative integer",
        ),
        (
            _set(["materializationResult", "createdItems", 0, "itemNumber"], KeyError),
            "artifacts.materializationResult.createdItems[0].itemNumber",
            "required",
        ),
        (_set(["cadGenerationState"], [1]), "artifacts.cadGenerationState", "must be an object"),
        (_set(["description"], "  "), "artifacts.description", "required non-empty string"),
        (_set(["description"], "bad \ud800"), "artifacts.description", "must be valid Unicode"),
        (_set(["userMessages"], KeyError), "artifacts.userMessages", "required"),
        (_set(["theme"], {}), "artifacts.theme", "unknown key (allowed: description, requirements, bom"),
    ],
)
def test_errors_name_the_field(edit: Callable[[dict[str, Any]], None], field: str, message: str) -> None:
    artifacts = samples.artifacts()
    edit(artifacts)
    with pytest.raises(ValidationError) as caught:
        validate_artifacts(artifacts)
    assert caught.value.field == field
    assert message in caught.value.message


def test_limits_bound_lists_trees_and_text() -> None:
    limits = ArtifactLimits(max_text_chars=10, max_requirements=1, max_bom_nodes=3, max_bom_depth=2)
    with pytest.raises(ValidationError, match="at most 1 entries"):
        validate_requirements([samples.requirement("a"), samples.requirement("b")], limits=limits)
    with pytest.raises(ValidationError, match="at most 10 characters") as caught:
        validate_description("x" * 11, limits=limits)
    assert caught.value.field == "description"
    deep = samples.node("a", samples.node("b", samples.node("c")))
    with pytest.raises(ValidationError, match="deeper than 2 levels") as caught:
        validate_bom_node(deep, "n", limits=limits)
    assert caught.value.field == "n.children[0].children[0]"
    wide = {
        "rootAssembly": samples.node("a", samples.node("b")),
        "proposedParts": [samples.node("c"), samples.node("d")],
    }
    with pytest.raises(ValidationError, match="too many BOM nodes") as caught:
        validate_bom(wide, limits=limits)
    assert caught.value.field == "bom.proposedParts[1]"


def test_a_hostile_depth_is_a_validation_error_not_a_crash() -> None:
    root: dict[str, Any] = samples.node("n0")
    leaf = root
    for i in range(1, 5000):
        child = samples.node(f"n{i}")
        leaf["children"] = [child]
        leaf = child
    with pytest.raises(ValidationError, match="deeper than 32 levels"):
        validate_bom({"rootAssembly": root})


def test_patch_is_partial_and_null_clears_optional_keys() -> None:
    assert validate_artifacts_patch({}) == {}
    assert validate_artifacts_patch({"bom": None, "pendingClarificationId": None}) == {
        "bom": None,
        "pendingClarificationId": None,
    }
    with pytest.raises(ValidationError) as caught:
        validate_artifacts_patch({"clarifications": None})
    assert caught.value.field == "artifacts.clarifications"
    with pytest.raises(ValidationError) as caught:
        validate_artifacts_patch([])
    assert caught.value.field == "artifacts"


def test_merge_replaces_top_level_keys_and_the_bom_whole() -> None:
    current = samples.artifacts()
    before = copy.deepcopy(current)
    new_bom = {"rootAssembly": samples.node("solo")}
    merged = merge_artifacts(
        current,
        {"bom": new_bom, "requirements": [samples.requirement("req-9")], "pendingClarificationId": None},
    )
    assert current == before  # not mutated
    assert merged["bom"] == validate_bom(new_bom)  # no node of the old tree survives
    assert [r["tempId"] for r in merged["requirements"]] == ["req-9"]
    assert "pendingClarificationId" not in merged
    assert merged["clarifications"] == current["clarifications"]
    assert merge_artifacts(current, {"bom": None})["bom"] is None


def test_merge_refuses_unknown_keys_and_dangling_references() -> None:
    with pytest.raises(ValidationError) as caught:
        merge_artifacts(samples.artifacts(), {"requirementz": []})
    assert caught.value.field == "artifacts.requirementz"
    with pytest.raises(ValidationError) as caught:
        merge_artifacts(samples.artifacts(), {"clarifications": []})  # q-1 is still pending
    assert caught.value.field == "artifacts.pendingClarificationId"


def test_bom_walk_is_depth_first_parents_first() -> None:
    bom = samples.bom()
    assert [n["tempId"] for n in bom_nodes(bom)] == ["asm-1", "frame", "tube", "motor"]
    assert list(bom_nodes(None)) == []
    found = find_bom_node(bom, "tube")
    assert found is not None
    assert found["quantity"] == 4
    assert find_bom_node(bom, "seat") is None  # proposed, not in the tree


def test_materialization_blocker() -> None:
    artifacts = samples.artifacts()
    assert materialization_blocker(artifacts) == "session already materialized"
    del artifacts["materializationResult"]
    assert materialization_blocker(artifacts) is None
    assert materialization_blocker(empty_artifacts("x")) == "no BOM artifacts to materialize"


@pytest.mark.parametrize(
    ("description", "title"),
    [
        ("Design an electric go-kart for children ages 8-12", "Electric Go-Kart"),
        ("Build a robotic arm with 6 DOF", "Robotic Arm"),
        ("I want to create a PCB enclosure that is waterproof", "PCB Enclosure"),
        ("Make the iPhone stand to hold phones", "iPhone Stand"),
        ("A solar-powered drone, lightweight and cheap", "Solar-Powered Drone"),
        ("Design: a quadcopter frame", "Quadcopter Frame"),
        ("please develop a pair of skis", "Pair of Skis"),
        ("Bicycle", "Bicycle"),
        ("design", UNTITLED),
        ("", UNTITLED),
        ("   ", UNTITLED),
        ("Design for kids", UNTITLED),
    ],
)
def test_title_from_description(description: str, title: str) -> None:
    assert title_from_description(description) == title


def test_title_is_cut_at_a_word_boundary() -> None:
    long = "Create a " + " ".join(["gear"] * 30)
    title = title_from_description(long)
    assert len(title) <= 60
    assert title.endswith("Gear")
    assert title.startswith("Gear Gear")
    assert title_from_description("x" * 100) == "X" + "x" * 59
