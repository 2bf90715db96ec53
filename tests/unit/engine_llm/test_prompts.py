"""System prompts are package data, loaded per stage."""

from __future__ import annotations

import pytest

from actors.engine.llm.prompts import load_prompt
from actors.engine.llm.schema import DraftingStage, tool_definitions


@pytest.mark.parametrize("stage", list(DraftingStage))
def test_each_drafting_stage_has_a_prompt_naming_its_tools(stage: DraftingStage) -> None:
    prompt = load_prompt(stage.value)
    assert len(prompt) > 500
    for tool in tool_definitions(stage):
        assert f"`{tool['function']['name']}" in prompt


def test_prompt_accepts_the_enum() -> None:
    assert load_prompt(DraftingStage.BOM) == load_prompt("bom_drafting")
    assert "rootAssembly" in load_prompt("bom_drafting")
    assert "verificationMethod" in load_prompt("requirements_drafting")


@pytest.mark.parametrize("stage", ["cad_generation", "", "../requirements_drafting"])
def test_unknown_stage_is_a_key_error(stage: str) -> None:
    with pytest.raises(KeyError, match="no system prompt for stage") as caught:
        load_prompt(stage)
    assert "requirements_drafting, bom_drafting" in str(caught.value)
