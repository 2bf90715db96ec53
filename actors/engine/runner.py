"""One stage run: the provider's stream becomes stage events, artifacts and document text.

The run belongs to the session (its task lives in the host), not to the request that
started it. It ends with exactly one terminal event: ``stage_complete`` (the stage moves
to its review), ``paused`` (cancelled, or waiting for a clarification's answer) or
``error`` (status ``failed``; artifacts stay as last committed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.clock import utc_now_iso
from storage.objects import ObjectStore

from ..core.errors import ValidationError
from .artifacts import validate_bom, validate_requirements
from .cad_runs import CadJobs, compose_assembly, generate_parts
from .doc import append_draft_text, clear_draft
from .events import (
    ArtifactUpdate,
    ClarificationNeeded,
    LlmText,
    Paused,
    StageChange,
    StageComplete,
    StageError,
    StageEvent,
    ToolCall,
    ToolResult,
    UserMessage,
)
from .live import EngineLive
from .llm import provider as llm
from .llm.prompts import load_prompt
from .llm.schema import PROPOSE_BOM, PROPOSE_REQUIREMENTS, DraftingStage
from .settings import EngineSettings
from .stages import CANCEL_REASON, REVIEW_AFTER, Stage, Status

__all__ = ["RunInput", "RunTools", "answered", "run_stage", "start_run"]

Emit = Callable[[StageEvent], None]

log = logging.getLogger(__name__)

_AWAITING_ANSWER = "awaiting the answer to a clarification"


@dataclass(frozen=True, slots=True)
class RunInput:
    """What started a run: the stage, the user's message or feedback, the one part to redo."""

    stage: Stage
    message_id: str | None = None
    message: str | None = None
    feedback: str | None = None
    part: str | None = None


@dataclass(frozen=True, slots=True)
class RunTools:
    """What runs work with: the model (made per run), the CAD workers, the object store."""

    provider: llm.LlmProvider
    cad: CadJobs
    objects: ObjectStore


def start_run(live: EngineLive, tools: RunTools, settings: EngineSettings, run: RunInput) -> str:
    """Start a run as the session's task; returns its id (events follow on the log)."""
    run_id = live.new_run_id()
    live.run_id = run_id
    live.update(
        stage=run.stage.value,
        status=Status.ACTIVE.value,
        pending_run={"runId": run_id, "stage": run.stage.value},
    )
    live.emit(run_id, StageChange(run.stage))
    if run.message is not None and run.message_id is not None:
        live.emit(run_id, UserMessage(run.message_id, run.message))
    live.run_task = asyncio.get_running_loop().create_task(
        run_stage(live, tools, settings, run_id, run), name=f"stage-run:{live.id}:{run_id}"
    )
    return run_id


async def run_stage(
    live: EngineLive, tools: RunTools, settings: EngineSettings, run_id: str, run: RunInput
) -> None:
    def emit(event: StageEvent) -> None:
        live.emit(run_id, event)

    try:
        if run.stage in (Stage.CAD_GENERATION, Stage.ASSEMBLY_COMPOSITION):
            async with asyncio.timeout(settings.run_timeout):
                summary = await _cad_run(live, tools, run, emit)
            _complete(live, run.stage, summary, emit)
            await _finish(live, run_id)
            return
        drafting = DraftingStage(run.stage.value)
        clear_draft(live.doc)
        request = _request(live, drafting, run)
        async with asyncio.timeout(settings.run_timeout):
            async for event in tools.provider.run(request):
                if isinstance(event, llm.TextDelta):
                    append_draft_text(live.doc, event.text, max_chars=settings.draft_max_chars)
                    emit(LlmText(event.text))
                elif isinstance(event, llm.ToolCall):
                    emit(ToolCall(event.name, event.args))
                elif isinstance(event, llm.ToolResult):
                    _tool_result(live, emit, event)
                elif isinstance(event, llm.Clarification):
                    _clarification(live, emit, event)
                    break
                elif isinstance(event, llm.Finished):
                    _complete(live, run.stage, event.summary, emit)
                    break
            else:
                raise llm.LlmError("the model stopped without finishing the stage")
    except asyncio.CancelledError:
        if live.deleted:
            raise
        live.update(status=Status.PAUSED.value)
        emit(Paused(CANCEL_REASON))
        await _finish(live, run_id)
        raise
    except (llm.LlmError, TimeoutError, ValidationError, ValueError) as exc:
        message = "the stage run timed out" if isinstance(exc, TimeoutError) else str(exc)
        log.warning("stage run failed session=%s run=%s: %s", live.id, run_id, message)
        live.update(status=Status.FAILED.value)
        emit(StageError(message))
    await _finish(live, run_id)


def _complete(live: EngineLive, stage: Stage, summary: str, emit: Emit) -> None:
    # The move to review comes first: the run's terminal event is its last.
    review = REVIEW_AFTER[stage]
    live.update(stage=review.value, pending_run=None)
    emit(StageChange(review))
    emit(StageComplete(stage, summary))


async def _cad_run(live: EngineLive, tools: RunTools, run: RunInput, emit: Emit) -> str:
    bom = live.artifacts.get("bom")
    if not isinstance(bom, dict):
        raise ValueError("the session has no BOM to build")

    def update_bom(updated: dict[str, Any]) -> None:
        live.update(artifacts={**live.artifacts, "bom": updated})

    if run.stage is Stage.CAD_GENERATION:
        state = await generate_parts(
            live.id, bom, tools.cad, tools.objects, emit, update_bom, only=run.part, feedback=run.feedback
        )
        previous = live.artifacts.get("cadGenerationState") or {}
        state = {**previous, **state}
        live.update(artifacts={**live.artifacts, "cadGenerationState": state})
        emit(ArtifactUpdate({"cadGenerationState": state}))
        parts = state["parts"]
        return f"{parts['done']} of {parts['total']} parts generated, {parts['failed']} failed"
    composed, assembly = await compose_assembly(live.id, bom, tools.cad, tools.objects, emit)
    state = {**(live.artifacts.get("cadGenerationState") or {}), "assembly": assembly}
    live.update(artifacts={**live.artifacts, "bom": composed, "cadGenerationState": state})
    emit(ArtifactUpdate({"bom": composed, "cadGenerationState": state}))
    return "assembly composed"


async def _finish(live: EngineLive, run_id: str) -> None:
    """Commit the run's last events; only then is the run over for rejoining clients."""
    try:
        await live.commit()
    finally:
        if live.run_id == run_id:
            live.run_id = None


def _request(live: EngineLive, stage: DraftingStage, run: RunInput) -> llm.StageRequest:
    artifacts = live.artifacts
    answers = tuple(
        llm.ClarificationAnswer(str(c["id"]), str(c["question"]), str(c["answer"]))
        for c in artifacts.get("clarifications", [])
        if isinstance(c, dict) and c.get("answer") is not None
    )
    messages = tuple(str(m["text"]) for m in artifacts.get("userMessages", []) if isinstance(m, dict))
    return llm.StageRequest(
        stage=stage,
        system_prompt=load_prompt(stage.value),
        description=str(artifacts.get("description", "")),
        artifacts=artifacts,
        user_messages=messages,
        clarification_answers=answers,
        feedback=run.feedback,
    )


def _tool_result(live: EngineLive, emit: Emit, event: llm.ToolResult) -> None:
    if event.error is not None:
        # Refused arguments are reported (and the model may retry); nothing is stored.
        emit(ToolResult(event.name, {"error": event.error}))
        return
    result = event.result
    emit(ToolResult(event.name, result))
    if event.name == PROPOSE_REQUIREMENTS and isinstance(result, dict):
        requirements = validate_requirements(result.get("requirements"), "requirements")
        live.update(artifacts={**live.artifacts, "requirements": requirements})
        emit(ArtifactUpdate({"requirements": requirements}))
    elif event.name == PROPOSE_BOM and isinstance(result, dict):
        bom = validate_bom(result, "bom")
        live.update(artifacts={**live.artifacts, "bom": bom})
        emit(ArtifactUpdate({"bom": bom}))


def _clarification(live: EngineLive, emit: Emit, event: llm.Clarification) -> None:
    entry: dict[str, Any] = {"id": event.question_id, "question": event.question}
    if event.options:
        entry["options"] = list(event.options)
    clarifications = [c for c in live.artifacts.get("clarifications", []) if c.get("id") != event.question_id]
    artifacts = {
        **live.artifacts,
        "clarifications": [*clarifications, entry],
        "pendingClarificationId": event.question_id,
    }
    live.update(artifacts=artifacts, status=Status.PAUSED.value)
    emit(
        ClarificationNeeded(
            event.question_id, event.question, tuple(event.options) if event.options else None
        )
    )
    emit(
        ArtifactUpdate(
            {"clarifications": artifacts["clarifications"], "pendingClarificationId": event.question_id}
        )
    )
    emit(Paused(_AWAITING_ANSWER))


def answered(artifacts: dict[str, Any], question_id: str, answer: str) -> dict[str, Any]:
    """The artifacts with ``question_id`` answered and no clarification pending."""
    clarifications = [
        {**c, "answer": answer, "answeredAt": utc_now_iso()} if c.get("id") == question_id else c
        for c in artifacts.get("clarifications", [])
    ]
    out = {**artifacts, "clarifications": clarifications}
    out.pop("pendingClarificationId", None)
    return out
