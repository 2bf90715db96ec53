"""The advertised JSON schemas are valid and agree with validate_tool_args on real drafts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from actors.engine.llm.offline_drafts import draft_bom, draft_requirements
from actors.engine.llm.schema import TOOL_NAMES, tool_definition
from actors.engine.llm.validation import validate_tool_args
from actors.llm.errors import ToolArgumentError

from . import samples

jsonschema = pytest.importorskip("jsonschema")

KART = "Design an electric go-kart for children ages 8-12"


def _validator(name: str) -> Any:
    schema = tool_definition(name)["function"]["parameters"]
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_schemas_are_valid_json_schema(name: str) -> None:
    definition = tool_definition(name)
    assert definition["type"] == "function"
    assert definition["function"]["name"] == name
    _validator(name)


def test_drafts_accepted_by_both() -> None:
    requirements = {"requirements": draft_requirements(KART)}
    bom = draft_bom(KART, requirements["requirements"])
    for name, args in [("propose_requirements", requirements), ("propose_bom", bom)]:
        _validator(name).validate(args)
        validate_tool_args(name, args)


@pytest.mark.parametrize(
    ("name", "args", "field"),
    [
        (
            "propose_requirements",
            {"requirements": [samples.requirement(priority="urgent")]},
            "requirements[0].priority",
        ),
        (
            "propose_requirements",
            {"requirements": [samples.requirement(confidence=2)]},
            "requirements[0].confidence",
        ),
        (
            "propose_requirements",
            {"requirements": [{**samples.requirement(), "extra": 1}]},
            "requirements[0].extra",
        ),
        (
            "propose_bom",
            {"rootAssembly": samples.node("a", samples.node("b", quantity=0))},
            "rootAssembly.children[0].quantity",
        ),
        (
            "propose_bom",
            {"rootAssembly": samples.node("a", samples.node("b", partType="Buy"))},
            "rootAssembly.children[0].partType",
        ),
        ("ask_clarification", {"options": ["a"]}, "question"),
        ("search_items", {"query": ""}, "query"),
    ],
)
def test_invalid_arguments_refused_by_both(name: str, args: dict[str, Any], field: str) -> None:
    assert not _validator(name).is_valid(args)
    with pytest.raises(ToolArgumentError, match=f"^{re.escape(name)}: {re.escape(field)}: "):
        validate_tool_args(name, args)
