"""The offline provider: deterministic, labelled, streaming, and its drafts validate."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from actors.engine.artifacts import validate_bom, validate_requirements
from actors.engine.llm.events import Clarification, Finished, LlmEvent, TextDelta, ToolCall, ToolResult
from actors.engine.llm.offline import OfflineProvider
from actors.engine.llm.offline_drafts import draft_requirements, subject_of
from actors.engine.llm.prompts import load_prompt
from actors.engine.llm.provider import ClarificationAnswer, StageRequest
from actors.engine.llm.schema import DraftingStage
from actors.engine.llm.tools import ToolRegistry
from actors.engine.llm.validation import validate_tool_args

KART = "Design an electric go-kart for children ages 8-12"
BRIEFS = [
    KART,
    "A wall-mounted shelf for heavy books",
    "Design a small quiet desk fan with Bluetooth app control",
    "Outdoor solar garden light, cheap",
    "widget",
]


def _request(
    stage: DraftingStage = DraftingStage.REQUIREMENTS, description: str = KART, **fields: Any
) -> StageRequest:
    return StageRequest(stage, load_prompt(stage.value), description, **fields)


async def _run(provider: OfflineProvider, request: StageRequest) -> list[LlmEvent]:
    return [event async for event in provider.run(request)]


def _results(events: list[LlmEvent]) -> Iterator[ToolResult]:
    return (event for event in events if isinstance(event, ToolResult))


def _proposal(events: list[LlmEvent]) -> dict[str, Any]:
    (result,) = [r for r in _results(events) if r.name.startswith("propose_")]
    assert result.error is None
    assert isinstance(result.result, dict)
    return result.result


def _text(events: list[LlmEvent]) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


async def _requirements(description: str = KART) -> list[dict[str, Any]]:
    requirements: list[dict[str, Any]] = _proposal(
        await _run(OfflineProvider(), _request(description=description))
    )["requirements"]
    return requirements


def _nodes(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield node
    for child in node["children"]:
        yield from _nodes(child)


async def test_requirements_turn_is_labelled_streamed_and_finished() -> None:
    events = await _run(OfflineProvider(), _request())
    deltas = [event for event in events if isinstance(event, TextDelta)]
    assert deltas[0].text.startswith("[offline provider]")
    assert len(deltas) >= 5
    kinds = [type(event) for event in events if not isinstance(event, TextDelta)]
    assert kinds == [ToolCall, ToolResult, Finished]
    assert isinstance(events[-1], Finished)
    assert events[-1].summary.startswith("Proposed ")


@pytest.mark.parametrize("description", BRIEFS)
async def test_requirements_are_sensible_and_valid(description: str) -> None:
    events = await _run(OfflineProvider(), _request(description=description))
    (call,) = [event for event in events if isinstance(event, ToolCall)]
    assert call.name == "propose_requirements"
    # What the provider proposed is exactly what validation accepts.
    assert validate_tool_args(call.name, call.args) == _proposal(events)
    requirements = _proposal(events)["requirements"]
    assert 4 <= len(requirements) <= 6
    assert [r["tempId"] for r in requirements] == [f"req-{i}" for i in range(1, len(requirements) + 1)]
    assert requirements[0]["requirementType"] == "Functional"
    assert {r["source"] for r in requirements} == {"ai"}
    assert all(r["rationale"] and 0 < r["confidence"] <= 1 for r in requirements)
    assert len({r["requirementType"] for r in requirements}) >= 2


async def test_keywords_drive_the_requirements() -> None:
    names = {r["name"] for r in await _requirements(KART)}
    assert {"User safety", "Maximum speed", "Operating endurance"} <= names
    names = {r["name"] for r in await _requirements("A wall-mounted shelf for heavy books")}
    assert {"Load capacity", "Mounting interface"} <= names
    assert subject_of(KART) == "electric go-kart"


@pytest.mark.parametrize("stage", list(DraftingStage))
async def test_same_input_same_output(stage: DraftingStage) -> None:
    artifacts = {"requirements": await _requirements()} if stage is DraftingStage.BOM else {}
    request = _request(stage, artifacts=artifacts, user_messages=("keep it cheap",), feedback="fewer parts")
    first = await _run(OfflineProvider(), request)
    second = await _run(OfflineProvider(), request)
    assert first == second


async def test_feedback_and_messages_are_reflected() -> None:
    plain = await _requirements()
    events = await _run(
        OfflineProvider(), _request(user_messages=("It must be quiet",), feedback="make it lighter")
    )
    revised = _proposal(events)["requirements"]
    assert "It must be quiet; make it lighter" in revised[0]["rationale"]
    assert "make it lighter" in _text(events)
    new_names = {r["name"] for r in revised} - {r["name"] for r in plain}
    assert new_names & {"Noise emission", "Mass budget"}


async def test_bom_turn_searches_once_then_proposes_a_covering_tree() -> None:
    requirements = await _requirements()
    events = await _run(
        OfflineProvider(), _request(DraftingStage.BOM, artifacts={"requirements": requirements})
    )
    assert _text(events).startswith("[offline provider]")
    calls = [event.name for event in events if isinstance(event, ToolCall)]
    assert calls == ["search_items", "propose_bom"]
    bom = _proposal(events)
    root = bom["rootAssembly"]
    assert 2 <= len(root["children"]) <= 4
    assert bom["uncoveredRequirements"] == []
    assert sorted(bom["requirementsCoverage"]) == sorted(r["tempId"] for r in requirements)
    nodes = list(_nodes(root))
    assert len({node["tempId"] for node in nodes}) == len(nodes)
    manufactured = [n for n in nodes if n["partType"] == "Manufacture" and not n["children"]]
    assert manufactured
    assert all(n["material"] and n["parameters"]["shape"] for n in manufactured)
    shapes = {n["parameters"]["shape"] for n in manufactured}
    assert {"plate", "cylinder"} <= shapes
    plate = next(n for n in manufactured if n["parameters"]["shape"] == "plate")
    assert {"length_mm", "width_mm", "thickness_mm", "holes", "hole_diameter_mm"} <= set(plate["parameters"])
    purchased = [n for n in nodes if n["partType"] == "Purchase"]
    assert purchased
    assert any(n["quantity"] > 1 for n in purchased)
    assert bom["validationIssues"] == []


async def test_bom_reuses_a_found_standard_part() -> None:
    queries: list[str] = []

    async def search(query: str) -> list[dict[str, Any]]:
        queries.append(query)
        return [{"id": "item-77", "itemNumber": "P-1042", "name": "Screw M6x16 ISO 4762"}]

    requirements = await _requirements()
    events = await _run(
        OfflineProvider(ToolRegistry(search)),
        _request(DraftingStage.BOM, artifacts={"requirements": requirements}),
    )
    assert len(queries) == 1
    reused = [n for n in _nodes(_proposal(events)["rootAssembly"]) if not n["isNew"]]
    assert [(n["existingItemId"], n["name"], n["quantity"]) for n in reused] == [
        ("item-77", "Screw M6x16 ISO 4762", 8)
    ]
    assert "P-1042" in _text(events)


async def test_request_registry_overrides_the_providers_own() -> None:
    async def search(query: str) -> list[dict[str, Any]]:
        return [{"id": "item-1", "name": "Screw"}]

    events = await _run(
        OfflineProvider(),
        _request(DraftingStage.BOM, tools=ToolRegistry(search), artifacts={"requirements": []}),
    )
    assert any(not node["isNew"] for node in _nodes(_proposal(events)["rootAssembly"]))


@pytest.mark.parametrize("stage", list(DraftingStage))
async def test_clarify_asks_one_question_instead_of_proposing(stage: DraftingStage) -> None:
    request = _request(stage, description="Design a lamp, please clarify the use first")
    events = await _run(OfflineProvider(), request)
    calls = [event for event in events if isinstance(event, ToolCall)]
    assert [call.name for call in calls] == ["ask_clarification"]
    assert not list(_results(events))
    question = events[-1]
    assert isinstance(question, Clarification)
    assert question.options
    assert len(question.options) >= 2
    again = (await _run(OfflineProvider(), request))[-1]
    assert isinstance(again, Clarification)
    assert again.question_id == question.question_id


async def test_clarify_in_a_user_message_and_the_answer_round_trip() -> None:
    asking = _request(user_messages=("Could you clarify where it is used?",))
    question = (await _run(OfflineProvider(), asking))[-1]
    assert isinstance(question, Clarification)
    answer = ClarificationAnswer(question.question_id, question.question, "Outdoors")
    answered = _request(user_messages=asking.user_messages, clarification_answers=(answer,))
    events = await _run(OfflineProvider(), answered)
    assert isinstance(events[-1], Finished)
    requirements = _proposal(events)["requirements"]
    assert "Clarified: Outdoors." in requirements[0]["rationale"]
    assert "Environmental protection" in {r["name"] for r in requirements}


def test_draft_requirements_bounds() -> None:
    everything = "fast electric outdoor kids toy heavy load quiet cheap bluetooth mount hot light"
    assert len(draft_requirements(everything)) == 6
    assert len(draft_requirements("")) == 4


async def test_delay_paces_the_deltas() -> None:
    started = time.monotonic()
    events = await _run(OfflineProvider(delay=0.01), _request())
    deltas = sum(isinstance(event, TextDelta) for event in events)
    assert time.monotonic() - started >= 0.01 * deltas * 0.9
    with pytest.raises(ValueError, match="delay"):
        OfflineProvider(delay=-1)


async def test_accepted_drafts_are_storable_artifacts() -> None:
    # What a provider reports as accepted must pass the engine's own artifact validation unchanged.
    requirements = await _requirements()
    assert validate_requirements(requirements) == requirements
    events = await _run(
        OfflineProvider(), _request(DraftingStage.BOM, artifacts={"requirements": requirements})
    )
    bom = _proposal(events)
    assert validate_bom(bom) == bom
