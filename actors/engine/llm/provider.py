"""The provider contract: one drafting stage turn in (`StageRequest`), a stream of `LlmEvent` out.

A provider streams text, calls tools through the request's `ToolRegistry` and reports each call
and result; it ends after `Finished`, or right after a `Clarification` (the run then waits for
the user's answer and is started again with it). Failures raise `LlmError` / `LlmTimeout`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ...llm.errors import LlmError as LlmError
from ...llm.errors import LlmTimeout as LlmTimeout
from .events import Clarification as Clarification
from .events import Finished as Finished
from .events import LlmEvent as LlmEvent
from .events import TextDelta as TextDelta
from .events import ToolCall as ToolCall
from .events import ToolResult as ToolResult
from .schema import DraftingStage as DraftingStage
from .tools import ToolRegistry

__all__ = [
    "Clarification",
    "ClarificationAnswer",
    "DraftingStage",
    "Finished",
    "LlmError",
    "LlmEvent",
    "LlmProvider",
    "LlmTimeout",
    "StageRequest",
    "TextDelta",
    "ToolCall",
    "ToolResult",
]


@dataclass(frozen=True, slots=True)
class ClarificationAnswer:
    """A question the model asked earlier and the user's answer to it."""

    question_id: str
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class StageRequest:
    """Everything a provider needs for one drafting turn.

    `artifacts` are the session's current artifacts (the spec's DesignArtifacts); the BOM stage
    reads `artifacts["requirements"]`. `tools` is the registry to call; None means the
    provider's own (built by `make_provider` around the injected search).
    """

    stage: DraftingStage
    system_prompt: str
    description: str
    artifacts: Mapping[str, Any] = field(default_factory=dict)
    user_messages: tuple[str, ...] = ()
    clarification_answers: tuple[ClarificationAnswer, ...] = ()
    feedback: str | None = None
    tools: ToolRegistry | None = None

    @property
    def requirements(self) -> list[Mapping[str, Any]]:
        """The requirement drafts in the artifacts (malformed entries skipped)."""
        raw = self.artifacts.get("requirements")
        if not isinstance(raw, list):
            return []
        return [item for item in raw if isinstance(item, Mapping)]

    @property
    def requirement_ids(self) -> tuple[str, ...] | None:
        """The tempIds a BOM may link to; None outside the BOM stage (no link check applies)."""
        if self.stage is not DraftingStage.BOM:
            return None
        return tuple(str(item["tempId"]) for item in self.requirements if isinstance(item.get("tempId"), str))

    def answered(self, question_id: str) -> bool:
        return any(entry.question_id == question_id for entry in self.clarification_answers)


class LlmProvider(Protocol):
    """A source of drafting turns: the offline provider or a real model behind an API."""

    name: str
    offline: bool

    def run(self, request: StageRequest) -> AsyncIterator[LlmEvent]:
        """Stream one stage turn; raises `LlmError` (or `LlmTimeout`) when the model fails."""
        ...
