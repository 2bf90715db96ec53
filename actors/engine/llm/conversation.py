"""The chat transcript of one drafting turn, as OpenAI chat-completion messages (pure).

The first user message gives the model everything the session knows (brief, current drafts,
clarifications, messages, feedback); tool results go back as `tool` messages, refusals with the
validation error so the model can correct the named field.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ...llm.openai_stream import AssembledCall
from .events import Clarification, ToolResult
from .provider import StageRequest
from .schema import PROPOSE_BOM, PROPOSE_TOOL, DraftingStage
from .tools import describe_result

__all__ = ["assistant_message", "initial_messages", "tool_message"]

Message = dict[str, Any]

_TASK = {
    DraftingStage.REQUIREMENTS: "Draft the requirements now and submit them with `{tool}`.",
    DraftingStage.BOM: "Draft the bill of materials now and submit it with `{tool}`.",
}


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


def _context(request: StageRequest) -> str:
    sections = [f"## Product description\n{request.description.strip() or '(none given)'}"]
    requirements = request.requirements
    if requirements:
        title = (
            "Confirmed requirements" if request.stage is DraftingStage.BOM else "Current requirements draft"
        )
        sections.append(f"## {title}\n```json\n{_json(requirements)}\n```")
    elif request.stage is DraftingStage.BOM:
        sections.append("## Confirmed requirements\n(none: leave requirementTempIds empty)")
    bom = request.artifacts.get("bom")
    if request.stage is DraftingStage.BOM and isinstance(bom, dict) and bom.get("rootAssembly"):
        sections.append(f"## Current BOM draft\n```json\n{_json(bom['rootAssembly'])}\n```")
    if request.clarification_answers:
        answered = "\n".join(
            f"- Q ({entry.question_id}): {entry.question}\n  A: {entry.answer}"
            for entry in request.clarification_answers
        )
        sections.append(f"## Clarifications (answered by the user)\n{answered}")
    if request.user_messages:
        sections.append(
            "## Messages from the user\n" + "\n".join(f"- {text}" for text in request.user_messages)
        )
    if request.feedback:
        sections.append(f"## Feedback on the previous draft (takes precedence)\n{request.feedback}")
    sections.append("## Task\n" + _TASK[request.stage].format(tool=PROPOSE_TOOL[request.stage]))
    return "\n\n".join(sections)


def initial_messages(request: StageRequest) -> list[Message]:
    return [
        {"role": "system", "content": request.system_prompt},
        {"role": "user", "content": _context(request)},
    ]


def assistant_message(text: str, calls: Sequence[AssembledCall]) -> Message:
    """The model's own turn, replayed so the tool messages that follow have their calls."""
    return {
        "role": "assistant",
        "content": text or None,
        "tool_calls": [
            {
                "id": call.call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": "{}" if call.overflow else call.arguments},
            }
            for call in calls
        ],
    }


def tool_message(result: ToolResult) -> Message:
    """What the model learns from a tool: a short acknowledgement, the data, or the refusal."""
    body: dict[str, Any]
    if result.error is not None:
        body = {
            "ok": False,
            "error": result.error,
            "hint": (
                "Nothing was stored. Fix the named field and call the tool again with the complete arguments."
            ),
        }
    elif isinstance(result.result, Clarification):
        body = {
            "ok": True,
            "questionId": result.result.question_id,
            "status": "waiting for the user's answer",
        }
    elif result.name in PROPOSE_TOOL.values():
        body = {"ok": True, "accepted": describe_result(result)}
        if result.name == PROPOSE_BOM and isinstance(result.result, dict):
            body["validationIssues"] = result.result.get("validationIssues", [])
    else:
        body = {"ok": True, "result": result.result}
    return {"role": "tool", "tool_call_id": result.call_id, "content": _json(body)}
