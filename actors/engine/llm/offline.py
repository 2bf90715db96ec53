"""The offline provider: deterministic drafts streamed like a model's, no network, no key.

It narrates in small text deltas (labelled "[offline provider]"), then calls the same tools
through the same registry as a real model, so everything downstream of the provider — event
mapping, validation, storing, the clarification round trip — is exercised for real.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

from ...llm.errors import LlmError
from .events import Clarification, Finished, LlmEvent, TextDelta, ToolCall
from .offline_drafts import (
    STANDARD_PART_QUERY,
    clarification_for,
    draft_bom,
    draft_requirements,
    matched_keywords,
    subject_of,
    wants_clarification,
)
from .provider import StageRequest
from .schema import ASK_CLARIFICATION, PROPOSE_TOOL, SEARCH_ITEMS, DraftingStage
from .tools import ToolRegistry, describe_result

__all__ = ["OfflineProvider"]

LABEL = "[offline provider]"
_TOKEN = re.compile(r"\S+\s*")
_WORDS_PER_DELTA = 3


def _deltas(text: str) -> list[str]:
    tokens = _TOKEN.findall(text)
    return ["".join(tokens[i : i + _WORDS_PER_DELTA]) for i in range(0, len(tokens), _WORDS_PER_DELTA)]


class OfflineProvider:
    """Deterministic provider used when no API key is configured (and in tests).

    `delay` seconds pass between two text deltas so a client can watch the stream arrive.
    """

    name = "offline"
    offline = True

    def __init__(self, tools: ToolRegistry | None = None, *, delay: float = 0.0) -> None:
        if delay < 0:
            raise ValueError(f"delay must be >= 0, got {delay!r}")
        self._tools = tools if tools is not None else ToolRegistry()
        self._delay = delay

    async def run(self, request: StageRequest) -> AsyncIterator[LlmEvent]:
        turn = _Turn(request, request.tools if request.tools is not None else self._tools)
        if not request.clarification_answers and wants_clarification(
            [request.description, *request.user_messages]
        ):
            steps = self._clarify(turn)
        elif request.stage is DraftingStage.REQUIREMENTS:
            steps = self._requirements(turn)
        else:
            steps = self._bom(turn)
        async for event in steps:
            yield event

    async def _clarify(self, turn: _Turn) -> AsyncIterator[LlmEvent]:
        request = turn.request
        question, options = clarification_for(request.stage)
        async for event in self._say(
            f"{LABEL} The brief for the {turn.subject} asks me to clarify something first, "
            "so I ask one question before drafting."
        ):
            yield event
        ask = turn.call(ASK_CLARIFICATION, {"question": question, "options": options})
        yield ask
        outcome = await turn.tools.execute(ask, stage=request.stage)
        if not isinstance(outcome.result, Clarification):
            raise LlmError(f"offline provider could not ask its question: {outcome.error}")
        yield outcome.result

    async def _requirements(self, turn: _Turn) -> AsyncIterator[LlmEvent]:
        request = turn.request
        answers = [entry.answer for entry in request.clarification_answers]
        drafts = draft_requirements(request.description, notes=turn.notes, answers=answers)
        keywords = matched_keywords(" ".join([request.description, *turn.notes, *answers]))
        kinds = sorted({item["requirementType"] for item in drafts})
        async for event in self._say(
            f"{LABEL} Drafting requirements for the {turn.subject}. "
            f"Keywords in the brief: {', '.join(keywords) if keywords else 'none specific'}. "
            f"I propose {len(drafts)} requirements ({', '.join(kinds)}).{turn.echo}"
        ):
            yield event
        async for event in self._propose(turn, {"requirements": drafts}):
            yield event

    async def _bom(self, turn: _Turn) -> AsyncIterator[LlmEvent]:
        request = turn.request
        requirements = request.requirements
        async for event in self._say(
            f"{LABEL} Drafting a bill of materials for the {turn.subject} from "
            f"{len(requirements)} requirement(s). First I look for a reusable standard fastener."
        ):
            yield event
        search = turn.call(SEARCH_ITEMS, {"query": STANDARD_PART_QUERY})
        yield search
        found = await turn.tools.execute(search, stage=request.stage)
        yield found
        reuse = _first_item(found.result)
        if reuse is not None:
            reused = f"Reusing existing item {reuse.get('itemNumber') or reuse.get('id')} for the fasteners."
        else:
            reused = "No reusable fastener found, so it becomes a new purchased part."
        async for event in self._say(
            f" {reused} The frame carries the loads, a turned part takes the main load path, "
            f"standard parts are bought in.{turn.echo}"
        ):
            yield event
        args = draft_bom(request.description, requirements, reuse=reuse, notes=turn.notes)
        async for event in self._propose(turn, args):
            yield event

    async def _propose(self, turn: _Turn, args: dict[str, Any]) -> AsyncIterator[LlmEvent]:
        request = turn.request
        propose = turn.call(PROPOSE_TOOL[request.stage], args)
        yield propose
        result = await turn.tools.execute(
            propose, stage=request.stage, requirement_ids=request.requirement_ids
        )
        yield result
        if result.error is not None:
            raise LlmError(f"offline provider produced an invalid draft: {result.error}")
        summary = describe_result(result)
        async for event in self._say(f" {summary} Please review, edit and confirm."):
            yield event
        yield Finished(summary)

    async def _say(self, text: str) -> AsyncIterator[LlmEvent]:
        for piece in _deltas(text):
            yield TextDelta(piece)
            # Even without a delay, yield to the loop so other sessions' streams interleave.
            await asyncio.sleep(self._delay)


class _Turn:
    """Per-run state: deterministic call ids and the user's notes (feedback, messages)."""

    def __init__(self, request: StageRequest, tools: ToolRegistry) -> None:
        self.request = request
        self.tools = tools
        self.subject = subject_of(request.description)
        self.notes = [*request.user_messages, *([request.feedback] if request.feedback else [])]
        cleaned = "; ".join(" ".join(note.split()) for note in self.notes if note.strip())
        self.echo = f" Your input is reflected: {cleaned}." if cleaned else ""
        self._ids = itertools.count(1)

    def call(self, name: str, args: dict[str, Any]) -> ToolCall:
        return ToolCall(f"offline-{next(self._ids)}", name, args)


def _first_item(result: object) -> Mapping[str, Any] | None:
    if isinstance(result, Mapping):
        items = result.get("items")
        if isinstance(items, list) and items and isinstance(items[0], Mapping):
            return items[0]
    return None
