"""The tool registry both providers call: validate, then act (store nothing; return the outcome).

`propose_*` return the validated payload (or an error, and then nothing may be stored),
`ask_clarification` returns a `Clarification` signal, `search_items` awaits the injected
reuse search (the PLM layer plugs in there; by default nothing is found).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeAlias

from ...llm.errors import ToolArgumentError as ToolArgumentError
from .events import Clarification, ToolCall, ToolResult
from .schema import (
    ASK_CLARIFICATION,
    DEFAULT_LIMITS,
    PROPOSE_BOM,
    PROPOSE_REQUIREMENTS,
    SEARCH_ITEMS,
    STAGE_TOOLS,
    TOOL_NAMES,
    DraftingStage,
    ToolLimits,
    tool_definitions,
)
from .validation import validate_tool_args as validate_tool_args

__all__ = [
    "SearchFn",
    "ToolArgumentError",
    "ToolRegistry",
    "describe_result",
    "no_search",
    "question_id",
    "validate_tool_args",
]

logger = logging.getLogger(__name__)

SearchFn: TypeAlias = Callable[[str], Awaitable[list[dict[str, Any]]]]


async def no_search(query: str) -> list[dict[str, Any]]:
    """The reuse search until the PLM layer exists: nothing to reuse."""
    return []


def question_id(question: str, options: Sequence[str] | None) -> str:
    """A stable id for a clarification: the same question gets the same id on every run."""
    digest = hashlib.sha256(json.dumps([question, list(options or ())]).encode()).hexdigest()
    return f"q-{digest[:12]}"


def _count_nodes(node: Mapping[str, Any]) -> int:
    return 1 + sum(_count_nodes(child) for child in node.get("children", ()))


def describe_result(result: ToolResult) -> str:
    """A one-line human summary of a tool outcome (used for `Finished.summary` and logs)."""
    if result.error is not None:
        return f"{result.name} was refused: {result.error}"
    payload = result.result
    if isinstance(payload, Clarification):
        return f"asked: {payload.question}"
    if not isinstance(payload, Mapping):
        return f"{result.name} done"
    if result.name == PROPOSE_REQUIREMENTS:
        return f"Proposed {len(payload['requirements'])} requirements."
    if result.name == PROPOSE_BOM:
        root = payload["rootAssembly"]
        uncovered = len(payload["uncoveredRequirements"])
        tail = f", {uncovered} requirement(s) uncovered" if uncovered else ", all requirements covered"
        return f"Proposed a BOM of {_count_nodes(root)} nodes under {root['name']!r}{tail}."
    if result.name == SEARCH_ITEMS:
        return f"Found {len(payload['items'])} reusable item(s) for {payload['query']!r}."
    return f"{result.name} done"


class ToolRegistry:
    """Executes tool calls for a provider. Stateless apart from the injected search."""

    def __init__(self, search: SearchFn | None = None, *, limits: ToolLimits = DEFAULT_LIMITS) -> None:
        self._search = search if search is not None else no_search
        self.limits = limits

    def definitions(self, stage: DraftingStage) -> list[dict[str, Any]]:
        """The OpenAI function-tool definitions offered in `stage`."""
        return tool_definitions(stage, self.limits)

    async def execute(
        self,
        call: ToolCall,
        *,
        stage: DraftingStage | None = None,
        requirement_ids: Sequence[str] | None = None,
    ) -> ToolResult:
        """Run one call. Refusals come back as a `ToolResult` with `error`, never as exceptions.

        `stage` restricts the call to the tools offered in that stage; `requirement_ids` are the
        requirement tempIds a BOM may link to.
        """
        offered = STAGE_TOOLS[stage] if stage is not None else TOOL_NAMES
        if call.name not in offered:
            where = f" in stage {stage.value}" if stage is not None else ""
            message = f"unknown tool {call.name!r}{where}; available tools: {', '.join(offered)}"
            return ToolResult(call.call_id, call.name, None, message)
        try:
            payload = validate_tool_args(
                call.name, call.args, limits=self.limits, requirement_ids=requirement_ids
            )
        except ToolArgumentError as exc:
            logger.info("tool call refused tool=%s call=%s error=%s", call.name, call.call_id, exc)
            return ToolResult(call.call_id, call.name, None, str(exc))
        if call.name == ASK_CLARIFICATION:
            options = payload["options"]
            signal = Clarification(question_id(payload["question"], options), payload["question"], options)
            return ToolResult(call.call_id, call.name, signal)
        if call.name == SEARCH_ITEMS:
            return await self._run_search(call, payload["query"])
        return ToolResult(call.call_id, call.name, payload)

    async def _run_search(self, call: ToolCall, query: str) -> ToolResult:
        try:
            found = await self._search(query)
        except Exception as exc:
            # The injected search is a boundary: its failure is the tool's answer to the model,
            # which can draft a new part instead; the stage itself carries on.
            logger.warning("search_items failed call=%s query=%r", call.call_id, query, exc_info=True)
            return ToolResult(call.call_id, call.name, None, f"search failed: {type(exc).__name__}: {exc}")
        if not isinstance(found, list):
            return ToolResult(call.call_id, call.name, None, "search failed: the search returned no list")
        items = [dict(item) for item in found[: self.limits.max_search_results] if isinstance(item, Mapping)]
        return ToolResult(call.call_id, call.name, {"query": query, "items": items})
