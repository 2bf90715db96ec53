"""What an LLM provider streams to the stage runner: small named event types.

The engine maps each to one StageEvent of the spec: `TextDelta` -> `llm_text`, `ToolCall` ->
`tool_call`, `ToolResult` -> `tool_result`, `Clarification` -> `clarification_needed`, and
`Finished` -> the end of the drafting turn (the engine decides on `stage_complete`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

__all__ = ["Clarification", "Finished", "LlmEvent", "TextDelta", "ToolCall", "ToolResult"]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of streamed model text; consecutive deltas concatenate."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """The model invoked a tool. `args` is the parsed JSON object (empty if it was not JSON)."""

    call_id: str
    name: str
    args: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolResult:
    """A tool's outcome. With `error` set the call was refused and nothing may be stored."""

    call_id: str
    name: str
    result: object
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class Clarification:
    """The model needs the user's answer; the run stops here and resumes with the answer."""

    question_id: str
    question: str
    options: list[str] | None = None


@dataclass(frozen=True, slots=True)
class Finished:
    """The provider is done with this stage turn."""

    summary: str


LlmEvent: TypeAlias = TextDelta | ToolCall | ToolResult | Clarification | Finished
