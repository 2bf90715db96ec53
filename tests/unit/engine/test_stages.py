"""The stage machine by value: the transition table, plan decisions, PATCH stage moves."""

from __future__ import annotations

from typing import Any

import pytest

from actors.core.errors import ValidationError
from actors.engine.artifacts import empty_artifacts
from actors.engine.stages import (
    CANCEL_REASON,
    DRAFTING_STAGES,
    LIFECYCLE,
    REVIEW_AFTER,
    Action,
    Decision,
    DecisionKind,
    EngineConflict,
    IllegalAction,
    IllegalMove,
    Stage,
    Status,
    furthest_stage,
    legal_actions,
    may_stream,
    missing_prerequisite,
    parse_action,
    plan,
    status_entering,
    validate_stage_patch,
)

from . import samples

S = Stage
DRAFTING = {S.REQUIREMENTS_DRAFTING, S.BOM_DRAFTING, S.CAD_GENERATION, S.ASSEMBLY_COMPOSITION}

# Written out independently of TRANSITIONS: the table must say exactly this.
LEGAL_IN: dict[Action, set[Stage]] = {
    Action.START_REQUIREMENTS: {S.IDLE, S.REQUIREMENTS_DRAFTING, S.REQUIREMENTS_REVIEW},
    Action.START_BOM: {S.BOM_DRAFTING, S.BOM_REVIEW},
    Action.START_CAD_GENERATION: {S.MATERIALIZATION, S.CAD_GENERATION, S.CAD_REVIEW},
    Action.START_ASSEMBLY_COMPOSITION: {S.ASSEMBLY_COMPOSITION, S.ASSEMBLY_REVIEW},
    Action.REGENERATE_PART: {S.CAD_GENERATION, S.CAD_REVIEW},
    Action.RESUME: DRAFTING,
    Action.RETRY: DRAFTING,
    Action.ANSWER_CLARIFICATION: DRAFTING,
    Action.SEND_MESSAGE: set(Stage),
    Action.CANCEL: DRAFTING,
    Action.CONFIRM_REQUIREMENTS: {S.REQUIREMENTS_REVIEW},
    Action.CONFIRM_BOM: {S.BOM_REVIEW},
    Action.CONFIRM_CAD: {S.CAD_REVIEW},
    Action.CONFIRM_ASSEMBLY: {S.ASSEMBLY_REVIEW},
}


def _decide(
    stage: Stage,
    action: Action,
    status: Status = Status.ACTIVE,
    *,
    running: bool = False,
    pending: bool = False,
) -> Decision:
    return plan(stage, status, action, has_pending_clarification=pending, running=running)


def test_stage_and_action_vocabulary() -> None:
    assert [s.value for s in LIFECYCLE] == [
        "idle",
        "requirements_drafting",
        "requirements_review",
        "bom_drafting",
        "bom_review",
        "materialization",
        "cad_generation",
        "cad_review",
        "assembly_composition",
        "assembly_review",
        "complete",
    ]
    assert {s.value for s in Status} == {"active", "paused", "completed", "failed"}
    assert set(LEGAL_IN) == set(Action)
    assert DRAFTING_STAGES == DRAFTING
    # Each drafting stage is followed by its review in the lifecycle.
    for drafting, review in REVIEW_AFTER.items():
        assert LIFECYCLE.index(review) == LIFECYCLE.index(drafting) + 1


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("stage", list(Stage))
def test_every_action_in_every_stage(stage: Stage, action: Action) -> None:
    # The state each action needs besides its stage: retry a failed run, cancel a live one.
    status = Status.FAILED if action is Action.RETRY else Status.ACTIVE
    running = action is Action.CANCEL and stage in DRAFTING
    if stage in LEGAL_IN[action]:
        decision = _decide(stage, action, status, running=running, pending=True)
        assert decision.action is action
        return
    with pytest.raises(IllegalAction) as caught:
        _decide(stage, action, status, running=running, pending=True)
    error = caught.value
    assert (error.stage, error.action, error.status) == (stage, action, status)
    assert f"'{action.value}'" in error.message
    assert f"'{stage.value}'" in error.message
    assert error.to_json() == {
        "error": error.message,
        "stage": stage.value,
        "action": action.value,
        "status": status.value,
    }
    assert isinstance(error, EngineConflict)


@pytest.mark.parametrize(
    ("action", "stage", "runs"),
    [
        (Action.START_REQUIREMENTS, S.IDLE, S.REQUIREMENTS_DRAFTING),
        (Action.START_REQUIREMENTS, S.REQUIREMENTS_REVIEW, S.REQUIREMENTS_DRAFTING),
        (Action.START_BOM, S.BOM_DRAFTING, S.BOM_DRAFTING),
        (Action.START_BOM, S.BOM_REVIEW, S.BOM_DRAFTING),
        (Action.START_CAD_GENERATION, S.MATERIALIZATION, S.CAD_GENERATION),
        (Action.START_ASSEMBLY_COMPOSITION, S.ASSEMBLY_REVIEW, S.ASSEMBLY_COMPOSITION),
        (Action.REGENERATE_PART, S.CAD_REVIEW, S.CAD_GENERATION),
        (Action.RESUME, S.BOM_DRAFTING, S.BOM_DRAFTING),
        (Action.SEND_MESSAGE, S.CAD_GENERATION, S.CAD_GENERATION),
    ],
)
def test_streaming_actions_start_a_run_of_their_stage(action: Action, stage: Stage, runs: Stage) -> None:
    assert _decide(stage, action) == Decision(
        action, DecisionKind.STREAM, runs, new_run=True, status=Status.ACTIVE
    )


@pytest.mark.parametrize(
    ("action", "review", "moves_to", "name"),
    [
        (Action.CONFIRM_REQUIREMENTS, S.REQUIREMENTS_REVIEW, S.BOM_DRAFTING, "requirements"),
        (Action.CONFIRM_BOM, S.BOM_REVIEW, S.MATERIALIZATION, "bom"),
        (Action.CONFIRM_CAD, S.CAD_REVIEW, S.ASSEMBLY_COMPOSITION, "cad"),
        (Action.CONFIRM_ASSEMBLY, S.ASSEMBLY_REVIEW, S.COMPLETE, "assembly"),
    ],
)
def test_confirmations_move_on_and_keep_the_status(
    action: Action, review: Stage, moves_to: Stage, name: str
) -> None:
    decision = _decide(review, action, Status.COMPLETED)
    assert decision == Decision(action, DecisionKind.JSON_CONFIRM, moves_to, confirmed=name)
    assert decision.status is None
    assert not decision.joins


@pytest.mark.parametrize("status", list(Status))
def test_a_session_that_reaches_complete_is_completed(status: Status) -> None:
    assert status_entering(S.COMPLETE, status) is Status.COMPLETED
    for stage in (s for s in Stage if s is not S.COMPLETE):
        assert status_entering(stage, status) is status


def test_start_joins_a_live_run_of_the_same_stage() -> None:
    decision = _decide(S.REQUIREMENTS_DRAFTING, Action.START_REQUIREMENTS, running=True)
    assert decision == Decision(Action.START_REQUIREMENTS, DecisionKind.STREAM, S.REQUIREMENTS_DRAFTING)
    assert decision.joins
    assert not decision.stop_running
    assert _decide(S.BOM_DRAFTING, Action.RESUME, running=True).joins


@pytest.mark.parametrize("action", [Action.SEND_MESSAGE, Action.ANSWER_CLARIFICATION])
def test_new_input_restarts_a_live_run(action: Action) -> None:
    decision = _decide(S.BOM_DRAFTING, action, running=True, pending=True)
    assert decision == Decision(
        action, DecisionKind.STREAM, S.BOM_DRAFTING, new_run=True, stop_running=True, status=Status.ACTIVE
    )


@pytest.mark.parametrize("stage", [S.IDLE, S.REQUIREMENTS_REVIEW, S.MATERIALIZATION, S.COMPLETE])
def test_send_message_outside_drafting_is_acknowledged(stage: Stage) -> None:
    assert _decide(stage, Action.SEND_MESSAGE, Status.PAUSED) == Decision(
        Action.SEND_MESSAGE, DecisionKind.JSON_ACK, stage
    )


def test_answer_clarification_needs_a_pending_question() -> None:
    with pytest.raises(IllegalAction, match="no clarification is pending"):
        _decide(S.REQUIREMENTS_DRAFTING, Action.ANSWER_CLARIFICATION, Status.PAUSED)
    decision = _decide(S.REQUIREMENTS_DRAFTING, Action.ANSWER_CLARIFICATION, Status.PAUSED, pending=True)
    assert decision.kind is DecisionKind.STREAM
    assert decision.new_run
    assert decision.stage is S.REQUIREMENTS_DRAFTING


@pytest.mark.parametrize("status", list(Status))
def test_resume_continues_a_drafting_stage_whatever_stopped_it(status: Status) -> None:
    decision = _decide(S.CAD_GENERATION, Action.RESUME, status)
    assert (decision.stage, decision.new_run, decision.status) == (S.CAD_GENERATION, True, Status.ACTIVE)


def test_retry_only_after_a_failure() -> None:
    assert _decide(S.BOM_DRAFTING, Action.RETRY, Status.FAILED).new_run
    for status in (Status.ACTIVE, Status.PAUSED, Status.COMPLETED):
        with pytest.raises(IllegalAction, match="legal only with status failed"):
            _decide(S.BOM_DRAFTING, Action.RETRY, status)


def test_cancel_stops_a_live_run_and_pauses() -> None:
    decision = _decide(S.ASSEMBLY_COMPOSITION, Action.CANCEL, running=True)
    assert decision == Decision(
        Action.CANCEL,
        DecisionKind.JSON_ACK,
        S.ASSEMBLY_COMPOSITION,
        stop_running=True,
        status=Status.PAUSED,
        reason=CANCEL_REASON,
    )
    with pytest.raises(IllegalAction, match="no run is in progress"):
        _decide(S.ASSEMBLY_COMPOSITION, Action.CANCEL, Status.PAUSED)


@pytest.mark.parametrize("action", [Action.REGENERATE_PART, Action.RETRY])
def test_some_actions_refuse_a_live_run(action: Action) -> None:
    with pytest.raises(IllegalAction, match="a run of cad_generation is in progress; cancel it first"):
        _decide(S.CAD_GENERATION, action, Status.FAILED, running=True)


def test_legal_actions_lists_what_plan_accepts() -> None:
    idle = legal_actions(S.IDLE, Status.ACTIVE, has_pending_clarification=False, running=False)
    assert idle == [Action.START_REQUIREMENTS, Action.SEND_MESSAGE]
    live = legal_actions(S.BOM_DRAFTING, Status.ACTIVE, has_pending_clarification=True, running=True)
    assert live == [
        Action.START_BOM,
        Action.RESUME,
        Action.ANSWER_CLARIFICATION,
        Action.SEND_MESSAGE,
        Action.CANCEL,
    ]
    review = legal_actions(S.BOM_REVIEW, Status.ACTIVE, has_pending_clarification=False, running=False)
    assert review == [Action.START_BOM, Action.CONFIRM_BOM, Action.SEND_MESSAGE]


def test_parse_action() -> None:
    assert parse_action("confirm_bom") is Action.CONFIRM_BOM
    for bad in ("explode", None, 3):
        with pytest.raises(ValidationError) as caught:
            parse_action(bad)
        assert caught.value.field == "action"


# ---------------------------------------------------------------------------- PATCH stage


def _with(**changes: Any) -> dict[str, Any]:
    return {**empty_artifacts("a go-kart"), **changes}


REQS = [samples.requirement()]
WITH_BOM = _with(requirements=REQS, bom=samples.bom())
WITH_CAD = {**WITH_BOM, "cadGenerationState": {"status": "done"}}


@pytest.mark.parametrize(
    ("artifacts", "furthest"),
    [
        (_with(description=" "), S.IDLE),
        (_with(), S.REQUIREMENTS_DRAFTING),
        (_with(requirements=REQS), S.BOM_DRAFTING),
        (_with(bom=samples.bom()), S.REQUIREMENTS_DRAFTING),  # a BOM without requirements
        (WITH_BOM, S.CAD_GENERATION),
        (WITH_CAD, S.ASSEMBLY_COMPOSITION),
        (samples.artifacts(), S.ASSEMBLY_COMPOSITION),
    ],
)
def test_furthest_stage_follows_the_artifacts(artifacts: dict[str, Any], furthest: Stage) -> None:
    assert furthest_stage(artifacts) is furthest


def test_assembly_review_needs_an_assembly_composition() -> None:
    bom = samples.bom()
    bom["rootAssembly"]["children"][0]["assemblyComposition"] = {"status": "done"}
    assert furthest_stage({**WITH_CAD, "bom": bom}) is S.COMPLETE


@pytest.mark.parametrize(
    ("current", "target", "artifacts"),
    [
        (S.BOM_REVIEW, "requirements_review", WITH_BOM),  # back
        (S.BOM_REVIEW, "idle", WITH_BOM),  # all the way back
        (S.REQUIREMENTS_REVIEW, "bom_drafting", _with(requirements=REQS)),  # forward one
        (S.IDLE, "materialization", WITH_BOM),  # forward to the furthest
        (S.MATERIALIZATION, "materialization", _with()),  # staying put
    ],
)
def test_stage_patch_allowed(current: Stage, target: str, artifacts: dict[str, Any]) -> None:
    assert validate_stage_patch(current, target, artifacts=artifacts) is Stage(target)


@pytest.mark.parametrize(
    ("target", "artifacts", "message"),
    [
        (
            "materialization",
            _with(requirements=REQS),
            "cannot move to 'materialization': the session has no BOM",
        ),
        ("bom_drafting", _with(), "cannot move to 'bom_drafting': the session has no requirements"),
        ("cad_review", WITH_BOM, "the session has no CAD generation state"),
        ("complete", WITH_CAD, "the session has no assembly composition on any BOM node"),
        ("bom_drafted", WITH_BOM, "unknown stage 'bom_drafted' (allowed: idle, requirements_drafting"),
        (7, WITH_BOM, "must be a string"),
    ],
)
def test_stage_patch_refused(target: object, artifacts: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_stage_patch(S.IDLE, target, artifacts=artifacts)
    assert caught.value.field == "stage"
    assert message in caught.value.message


def test_stage_patch_refused_while_a_run_is_live() -> None:
    with pytest.raises(IllegalMove) as caught:
        validate_stage_patch(S.BOM_DRAFTING, "requirements_review", artifacts=WITH_BOM, running=True)
    assert caught.value.to_json() == {
        "error": "cannot move from stage 'bom_drafting' to 'requirements_review': "
        "a run of bom_drafting is in progress; cancel it first",
        "stage": "bom_drafting",
        "target": "requirements_review",
    }
    # Staying put is not a move.
    assert validate_stage_patch(S.BOM_DRAFTING, "bom_drafting", artifacts=WITH_BOM, running=True)


def test_missing_prerequisite_names_the_first_gap() -> None:
    assert missing_prerequisite(S.IDLE, {}) is None
    assert missing_prerequisite(S.CAD_REVIEW, _with()) == "the session has no requirements"


@pytest.mark.parametrize(
    ("action", "streams"),
    [
        ("start_requirements", True),
        ("send_message", True),  # streams in a drafting stage, answers JSON in the others
        ("retry", True),
        ("cancel", False),
        ("confirm_bom", False),
        ("no_such_action", False),
        (None, False),
        (["start_bom"], False),
    ],
)
def test_may_stream(action: object, streams: bool) -> None:
    assert may_stream(action) is streams
