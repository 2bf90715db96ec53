"""ToolRegistry.execute: validated payloads, refusals as results, clarification, injected search."""

from __future__ import annotations

from typing import Any

from actors.engine.llm.events import Clarification, ToolCall, ToolResult
from actors.engine.llm.schema import DraftingStage, ToolLimits
from actors.engine.llm.tools import ToolRegistry, describe_result, question_id

from . import samples


async def test_proposal_returns_the_validated_payload() -> None:
    result = await ToolRegistry().execute(
        ToolCall("c1", "propose_requirements", samples.requirements_args(2))
    )
    assert result.ok
    assert result.error is None
    assert result.result == samples.requirements_args(2)
    assert describe_result(result) == "Proposed 2 requirements."


async def test_invalid_proposal_is_an_error_result_without_payload() -> None:
    args = samples.requirements_args(1)
    args["requirements"][0]["priority"] = "urgent"
    result = await ToolRegistry().execute(ToolCall("c1", "propose_requirements", args))
    assert result == ToolResult(
        "c1",
        "propose_requirements",
        None,
        "propose_requirements: requirements[0].priority: "
        "must be one of low, medium, high, critical; got 'urgent'",
    )


async def test_bom_links_are_checked_against_the_requirements() -> None:
    registry = ToolRegistry()
    call = ToolCall("c1", "propose_bom", samples.bom_args())
    refused = await registry.execute(call, stage=DraftingStage.BOM, requirement_ids=["req-1"])
    assert refused.error is not None
    assert "unknown requirement 'req-2'" in refused.error
    accepted = await registry.execute(call, stage=DraftingStage.BOM, requirement_ids=["req-1", "req-2"])
    assert accepted.ok
    assert describe_result(accepted) == "Proposed a BOM of 3 nodes under 'Asm-1', all requirements covered."


async def test_tools_outside_the_stage_are_refused() -> None:
    result = await ToolRegistry().execute(
        ToolCall("c1", "propose_bom", samples.bom_args()), stage=DraftingStage.REQUIREMENTS
    )
    assert result.error == (
        "unknown tool 'propose_bom' in stage requirements_drafting; "
        "available tools: propose_requirements, ask_clarification"
    )
    unknown = await ToolRegistry().execute(ToolCall("c2", "rm_rf", {}))
    assert unknown.error is not None
    assert unknown.error.startswith("unknown tool 'rm_rf'; available tools:")


async def test_clarification_is_a_signal_with_a_stable_id() -> None:
    call = ToolCall("c1", "ask_clarification", {"question": "Indoors?", "options": ["Yes", "No"]})
    first = await ToolRegistry().execute(call)
    again = await ToolRegistry().execute(ToolCall("c9", "ask_clarification", dict(call.args)))
    assert first.result == Clarification(question_id("Indoors?", ["Yes", "No"]), "Indoors?", ["Yes", "No"])
    assert isinstance(again.result, Clarification)
    assert isinstance(first.result, Clarification)
    assert again.result.question_id == first.result.question_id
    assert first.result.question_id.startswith("q-")
    assert question_id("Indoors?", None) != first.result.question_id


async def test_search_defaults_to_nothing() -> None:
    result = await ToolRegistry().execute(ToolCall("c1", "search_items", {"query": "bearing"}))
    assert result.result == {"query": "bearing", "items": []}


async def test_search_is_injected_and_bounded() -> None:
    seen: list[str] = []

    async def search(query: str) -> list[dict[str, Any]]:
        seen.append(query)
        return [{"id": f"item-{i}", "name": f"Bearing {i}"} for i in range(30)]

    registry = ToolRegistry(search, limits=ToolLimits(max_search_results=3))
    result = await registry.execute(ToolCall("c1", "search_items", {"query": " 6001 bearing "}))
    assert seen == ["6001 bearing"]
    assert result.result == {
        "query": "6001 bearing",
        "items": [{"id": f"item-{i}", "name": f"Bearing {i}"} for i in range(3)],
    }
    assert describe_result(result) == "Found 3 reusable item(s) for '6001 bearing'."


async def test_failing_search_is_an_error_result() -> None:
    async def search(query: str) -> list[dict[str, Any]]:
        raise ConnectionError("PLM down")

    result = await ToolRegistry(search).execute(ToolCall("c1", "search_items", {"query": "x"}))
    assert result.result is None
    assert result.error == "search failed: ConnectionError: PLM down"


async def test_refused_search_arguments_do_not_reach_the_search() -> None:
    seen: list[str] = []

    async def search(query: str) -> list[dict[str, Any]]:
        seen.append(query)
        return []

    result = await ToolRegistry(search).execute(ToolCall("c1", "search_items", {"q": "x"}))
    assert result.error is not None
    assert "search_items: q: unknown field" in result.error
    assert seen == []
