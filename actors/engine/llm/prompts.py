"""System prompts live as Markdown package data in `actors/engine/prompts/<stage>.md`."""

from __future__ import annotations

from functools import cache
from importlib import resources

from .schema import DraftingStage

__all__ = ["load_prompt"]

# The engine package that owns the `prompts/` data directory (this module is `<engine>.llm.prompts`).
_ENGINE_PACKAGE = __name__.rsplit(".", 2)[0]


@cache
def load_prompt(stage: str) -> str:
    """The system prompt of a drafting stage; unknown stages raise `KeyError`."""
    try:
        known = DraftingStage(stage)
    except ValueError:
        stages = ", ".join(member.value for member in DraftingStage)
        raise KeyError(f"no system prompt for stage {stage!r}; prompts exist for: {stages}") from None
    resource = resources.files(_ENGINE_PACKAGE) / "prompts" / f"{known.value}.md"
    return resource.read_text(encoding="utf-8")
