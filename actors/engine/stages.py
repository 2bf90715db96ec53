"""The design engine's stage machine: stages, statuses, actions and one transition table.

Lifecycle (the spec)::

    idle -> requirements_drafting -> requirements_review
         -> bom_drafting -> bom_review
         -> materialization
         -> cad_generation -> cad_review
         -> assembly_composition -> assembly_review
         -> complete

Drafting stages (``requirements_drafting``, ``bom_drafting``, ``cad_generation``,
``assembly_composition``) are where AI runs stream; a finished run moves its stage to the
review stage that follows it (``REVIEW_AFTER``). A run belongs to the session, not to a
request: while one is live the session's stage is that run's drafting stage.

What is legal where (``TRANSITIONS``; the spec names the actions, the stages are ours):

============================ ========================================== ==============================
action                       legal in                                   effect
============================ ========================================== ==============================
start_requirements           idle, requirements_drafting, _review       run requirements_drafting
start_bom                    bom_drafting, bom_review                   run bom_drafting
start_cad_generation         materialization, cad_generation, _review   run cad_generation
start_assembly_composition   assembly_composition, assembly_review      run assembly_composition
regenerate_part              cad_generation, cad_review                 run cad_generation (one part)
resume                       any drafting stage                         run (or join) that stage
retry                        any drafting stage, status failed          run that stage again
answer_clarification         any drafting stage, clarification pending  rerun that stage
send_message                 any drafting stage                         rerun that stage
send_message                 any other stage                            JSON {acknowledged: true}
cancel                       any drafting stage, a run live             stop it; status paused
confirm_requirements         requirements_review                        move to bom_drafting
confirm_bom                  bom_review                                 move to materialization
confirm_cad                  cad_review                                 move to assembly_composition
confirm_assembly             assembly_review                            move to complete
============================ ========================================== ==============================

Why these and not others:

* Every review is a gate: the next stage's ``start_*`` is legal only once the review was
  confirmed (``confirm_requirements`` moves the session to ``bom_drafting``, where
  ``start_bom`` runs it), so "human review at each stage" cannot be skipped by a client.
  ``start_requirements`` from ``idle`` and ``start_cad_generation`` from
  ``materialization`` are the exceptions because nothing confirms idle or
  materialization; materializing is optional before CAD generation.
* ``start_*`` in its own review stage is the spec's "restart". Going further back is a
  PATCH of ``stage`` (``validate_stage_patch``).
* While a run is live: ``start_*`` and ``resume`` join it (a double click or a second tab
  must not kill the AI's work); ``send_message`` and ``answer_clarification`` replace it
  (the new input must reach the AI, so the stage restarts); ``regenerate_part`` and
  ``retry`` are refused (cancel first: a one-part run must not replace a whole-BOM one).
* ``resume`` covers a stage paused by ``cancel``, a failed run and a run interrupted by a
  restart (status still active, no run live), and a drafting stage entered by a confirm or
  a PATCH and never started.
* Anything that is not a join or a restart is refused while a run is live (confirms and
  PATCH moves included): the run's events would land in a stage the session left.
* Materialization is not a stream action: ``POST .../materialize`` runs in the
  ``materialization`` stage, and "only once" is judged by
  ``artifacts.materialization_blocker`` from the stored result.
* Statuses: a new run sets ``active``; ``cancel`` sets ``paused``; the runner sets
  ``failed`` on error; reaching ``complete`` (``confirm_assembly``, or a PATCH) sets
  ``completed`` (``status_entering``). Other confirms and acknowledgements leave the
  status as it is, so a session marked ``completed`` by materialization stays so until
  its next run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from actors.core.errors import ValidationError

from .artifacts import bom_nodes

__all__ = [
    "CANCEL_REASON",
    "DRAFTING_STAGES",
    "LIFECYCLE",
    "REVIEW_AFTER",
    "REVIEW_STAGES",
    "TRANSITIONS",
    "Action",
    "Decision",
    "DecisionKind",
    "EngineConflict",
    "IllegalAction",
    "IllegalMove",
    "OnRunning",
    "Rule",
    "Stage",
    "Status",
    "furthest_stage",
    "legal_actions",
    "may_stream",
    "missing_prerequisite",
    "parse_action",
    "plan",
    "status_entering",
    "validate_stage_patch",
]


class Stage(StrEnum):
    IDLE = "idle"
    REQUIREMENTS_DRAFTING = "requirements_drafting"
    REQUIREMENTS_REVIEW = "requirements_review"
    BOM_DRAFTING = "bom_drafting"
    BOM_REVIEW = "bom_review"
    MATERIALIZATION = "materialization"
    CAD_GENERATION = "cad_generation"
    CAD_REVIEW = "cad_review"
    ASSEMBLY_COMPOSITION = "assembly_composition"
    ASSEMBLY_REVIEW = "assembly_review"
    COMPLETE = "complete"


class Status(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"


class Action(StrEnum):
    START_REQUIREMENTS = "start_requirements"
    START_BOM = "start_bom"
    START_CAD_GENERATION = "start_cad_generation"
    START_ASSEMBLY_COMPOSITION = "start_assembly_composition"
    RESUME = "resume"
    REGENERATE_PART = "regenerate_part"
    CONFIRM_REQUIREMENTS = "confirm_requirements"
    CONFIRM_BOM = "confirm_bom"
    CONFIRM_CAD = "confirm_cad"
    CONFIRM_ASSEMBLY = "confirm_assembly"
    ANSWER_CLARIFICATION = "answer_clarification"
    SEND_MESSAGE = "send_message"
    CANCEL = "cancel"
    RETRY = "retry"


LIFECYCLE: tuple[Stage, ...] = tuple(Stage)

REVIEW_AFTER: Mapping[Stage, Stage] = {
    Stage.REQUIREMENTS_DRAFTING: Stage.REQUIREMENTS_REVIEW,
    Stage.BOM_DRAFTING: Stage.BOM_REVIEW,
    Stage.CAD_GENERATION: Stage.CAD_REVIEW,
    Stage.ASSEMBLY_COMPOSITION: Stage.ASSEMBLY_REVIEW,
}
DRAFTING_STAGES: frozenset[Stage] = frozenset(REVIEW_AFTER)
REVIEW_STAGES: frozenset[Stage] = frozenset(REVIEW_AFTER.values())
_OTHER_STAGES: frozenset[Stage] = frozenset(Stage) - DRAFTING_STAGES


class DecisionKind(StrEnum):
    STREAM = "stream"  # answer with SSE
    JSON_CONFIRM = "json_confirm"  # answer {session, confirmed}
    JSON_ACK = "json_ack"  # answer {acknowledged: true} (cancel: {session, cancelled: true})


class OnRunning(StrEnum):
    """What an action does when a run of the current stage is live."""

    JOIN = "join"  # attach to the live run
    RESTART = "restart"  # stop the live run, start a new one
    STOP = "stop"  # stop the live run (cancel)
    REFUSE = "refuse"  # 409: wait for it or cancel it first


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the transition table.

    ``target`` is the stage a STREAM runs or a JSON_CONFIRM moves to; None means the
    session's current stage.
    """

    kind: DecisionKind
    stages: frozenset[Stage]
    target: Stage | None = None
    on_running: OnRunning = OnRunning.REFUSE
    statuses: frozenset[Status] = frozenset(Status)
    needs_running: bool = False
    needs_clarification: bool = False
    confirmed: str | None = None


def _stream(target: Stage | None, *stages: Stage, on_running: OnRunning = OnRunning.JOIN) -> Rule:
    return Rule(DecisionKind.STREAM, frozenset(stages), target, on_running)


def _confirm(review: Stage, target: Stage, name: str) -> Rule:
    return Rule(DecisionKind.JSON_CONFIRM, frozenset({review}), target, confirmed=name)


_DRAFTING = tuple(sorted(DRAFTING_STAGES, key=LIFECYCLE.index))

# action -> its rules; the first rule listing the current stage applies. A stage no rule
# lists makes the action illegal there.
TRANSITIONS: Mapping[Action, tuple[Rule, ...]] = {
    Action.START_REQUIREMENTS: (
        _stream(
            Stage.REQUIREMENTS_DRAFTING,
            Stage.IDLE,
            Stage.REQUIREMENTS_DRAFTING,
            Stage.REQUIREMENTS_REVIEW,
        ),
    ),
    Action.START_BOM: (_stream(Stage.BOM_DRAFTING, Stage.BOM_DRAFTING, Stage.BOM_REVIEW),),
    Action.START_CAD_GENERATION: (
        _stream(Stage.CAD_GENERATION, Stage.MATERIALIZATION, Stage.CAD_GENERATION, Stage.CAD_REVIEW),
    ),
    Action.START_ASSEMBLY_COMPOSITION: (
        _stream(Stage.ASSEMBLY_COMPOSITION, Stage.ASSEMBLY_COMPOSITION, Stage.ASSEMBLY_REVIEW),
    ),
    Action.REGENERATE_PART: (
        _stream(Stage.CAD_GENERATION, Stage.CAD_GENERATION, Stage.CAD_REVIEW, on_running=OnRunning.REFUSE),
    ),
    Action.RESUME: (_stream(None, *_DRAFTING),),
    Action.RETRY: (
        Rule(
            DecisionKind.STREAM,
            DRAFTING_STAGES,
            statuses=frozenset({Status.FAILED}),
            on_running=OnRunning.REFUSE,
        ),
    ),
    Action.ANSWER_CLARIFICATION: (
        Rule(
            DecisionKind.STREAM,
            DRAFTING_STAGES,
            on_running=OnRunning.RESTART,
            needs_clarification=True,
        ),
    ),
    Action.SEND_MESSAGE: (
        _stream(None, *_DRAFTING, on_running=OnRunning.RESTART),
        Rule(DecisionKind.JSON_ACK, _OTHER_STAGES),
    ),
    Action.CANCEL: (
        Rule(DecisionKind.JSON_ACK, DRAFTING_STAGES, on_running=OnRunning.STOP, needs_running=True),
    ),
    Action.CONFIRM_REQUIREMENTS: (_confirm(Stage.REQUIREMENTS_REVIEW, Stage.BOM_DRAFTING, "requirements"),),
    Action.CONFIRM_BOM: (_confirm(Stage.BOM_REVIEW, Stage.MATERIALIZATION, "bom"),),
    Action.CONFIRM_CAD: (_confirm(Stage.CAD_REVIEW, Stage.ASSEMBLY_COMPOSITION, "cad"),),
    Action.CONFIRM_ASSEMBLY: (_confirm(Stage.ASSEMBLY_REVIEW, Stage.COMPLETE, "assembly"),),
}


def status_entering(stage: Stage, status: Status) -> Status:
    """The status of a session as it enters ``stage``: a finished design is ``completed``."""
    return Status.COMPLETED if stage is Stage.COMPLETE else status


def may_stream(action: object) -> bool:
    """Whether ``action`` (a request's raw ``action`` field) can be answered with a stream in
    some stage; unknown names cannot (the session refuses them)."""
    if not isinstance(action, str):
        return False
    try:
        rules = TRANSITIONS[Action(action)]
    except ValueError:
        return False
    return any(rule.kind is DecisionKind.STREAM for rule in rules)


CANCEL_REASON = "cancelled by user"


class EngineConflict(Exception):
    """A well-formed request the session's current state does not allow (HTTP 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IllegalAction(EngineConflict):
    """``action`` is not allowed in ``stage`` with ``status`` (and the live-run state)."""

    def __init__(self, stage: Stage, action: Action, status: Status, reason: str) -> None:
        super().__init__(
            f"action '{action.value}' is not allowed in stage '{stage.value}' "
            f"(status '{status.value}'): {reason}"
        )
        self.stage = stage
        self.action = action
        self.status = status
        self.reason = reason

    def to_json(self) -> dict[str, str]:
        return {
            "error": self.message,
            "stage": self.stage.value,
            "action": self.action.value,
            "status": self.status.value,
        }


class IllegalMove(EngineConflict):
    """A PATCH of ``stage`` from ``stage`` to ``target`` that the session's state forbids."""

    def __init__(self, stage: Stage, target: Stage, reason: str) -> None:
        super().__init__(f"cannot move from stage '{stage.value}' to '{target.value}': {reason}")
        self.stage = stage
        self.target = target
        self.reason = reason

    def to_json(self) -> dict[str, str]:
        return {"error": self.message, "stage": self.stage.value, "target": self.target.value}


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do for one action, decided from the session's state alone.

    ``stage``: the stage a STREAM runs, the stage a JSON_CONFIRM moves to, or the current
    stage for a JSON_ACK. ``new_run``: a STREAM starts a run (False: it joins the live
    one). ``stop_running``: the live run is stopped first. ``status``: the status to set,
    None to leave it.
    """

    action: Action
    kind: DecisionKind
    stage: Stage
    new_run: bool = False
    stop_running: bool = False
    status: Status | None = None
    confirmed: str | None = None
    reason: str | None = None

    @property
    def joins(self) -> bool:
        return self.kind is DecisionKind.STREAM and not self.new_run


def parse_action(value: object, field: str = "action") -> Action:
    if not isinstance(value, str):
        raise ValidationError(field, "required string")
    try:
        return Action(value)
    except ValueError:
        allowed = ", ".join(a.value for a in Action)
        raise ValidationError(field, f"unknown action '{value}' (allowed: {allowed})") from None


def plan(
    stage: Stage,
    status: Status,
    action: Action,
    *,
    has_pending_clarification: bool,
    running: bool,
) -> Decision:
    """The decision for ``action`` in the given state, or ``IllegalAction``.

    ``running`` says a run of the current stage is live. What ``plan`` cannot see is the
    caller's: the request's fields (``requests.check_stream_request``), that ``questionId``
    is the pending one (``requests.check_answer``) and ``tempId`` a BOM part
    (``requests.check_part``). For ``send_message`` / ``answer_clarification`` the caller
    records the message (``userMessages``) or the answer (the clarification's ``answer`` and
    ``answeredAt``, ``pendingClarificationId`` removed) before the new run starts, and the
    run's first event echoes a message as ``user_message``.
    """

    def refuse(reason: str) -> IllegalAction:
        return IllegalAction(stage, action, status, reason)

    rule = next((r for r in TRANSITIONS[action] if stage in r.stages), None)
    if rule is None:
        legal = sorted({s for r in TRANSITIONS[action] for s in r.stages}, key=LIFECYCLE.index)
        raise refuse("legal only in " + ", ".join(s.value for s in legal))
    if status not in rule.statuses:
        allowed = ", ".join(s.value for s in Status if s in rule.statuses)
        raise refuse(f"legal only with status {allowed}")
    if rule.needs_running and not running:
        raise refuse("no run is in progress")
    if rule.needs_clarification and not has_pending_clarification:
        raise refuse("no clarification is pending")
    target = rule.target or stage
    if running and (rule.on_running is OnRunning.REFUSE or target is not stage):
        raise refuse(f"a run of {stage.value} is in progress; cancel it first")

    if rule.kind is DecisionKind.JSON_CONFIRM:
        return Decision(action, rule.kind, target, confirmed=rule.confirmed)
    if rule.on_running is OnRunning.STOP:
        return Decision(
            action, rule.kind, stage, stop_running=True, status=Status.PAUSED, reason=CANCEL_REASON
        )
    if rule.kind is DecisionKind.JSON_ACK:
        return Decision(action, rule.kind, stage)
    if running and rule.on_running is OnRunning.JOIN:
        return Decision(action, rule.kind, target)
    # Not running, or RESTART: the live run (if any) is replaced by a new one.
    return Decision(action, rule.kind, target, new_run=True, stop_running=running, status=Status.ACTIVE)


def legal_actions(
    stage: Stage, status: Status, *, has_pending_clarification: bool, running: bool
) -> list[Action]:
    """The actions ``plan`` accepts in this state (what a client may offer), in enum order."""
    legal: list[Action] = []
    for action in Action:
        try:
            plan(
                stage,
                status,
                action,
                has_pending_clarification=has_pending_clarification,
                running=running,
            )
        except IllegalAction:
            continue
        legal.append(action)
    return legal


# ---------------------------------------------------------------------------- PATCH stage


class _Need(StrEnum):
    """What the artifacts must hold before a stage makes sense, in lifecycle order."""

    DESCRIPTION = "description"
    REQUIREMENTS = "requirements"
    BOM = "BOM"
    CAD = "CAD generation state"
    ASSEMBLY = "assembly composition on any BOM node"


_NEEDS: tuple[_Need, ...] = tuple(_Need)

# stage -> the last need it has; it has every need before that one as well.
_STAGE_NEEDS: Mapping[Stage, _Need | None] = {
    Stage.IDLE: None,
    Stage.REQUIREMENTS_DRAFTING: _Need.DESCRIPTION,
    Stage.REQUIREMENTS_REVIEW: _Need.REQUIREMENTS,
    Stage.BOM_DRAFTING: _Need.REQUIREMENTS,
    Stage.BOM_REVIEW: _Need.BOM,
    Stage.MATERIALIZATION: _Need.BOM,
    Stage.CAD_GENERATION: _Need.BOM,
    Stage.CAD_REVIEW: _Need.CAD,
    Stage.ASSEMBLY_COMPOSITION: _Need.CAD,
    Stage.ASSEMBLY_REVIEW: _Need.ASSEMBLY,
    Stage.COMPLETE: _Need.ASSEMBLY,
}


def _has(need: _Need, artifacts: Mapping[str, Any]) -> bool:
    if need is _Need.DESCRIPTION:
        description = artifacts.get("description")
        return isinstance(description, str) and bool(description.strip())
    if need is _Need.REQUIREMENTS:
        return bool(artifacts.get("requirements"))
    if need is _Need.BOM:
        return artifacts.get("bom") is not None
    if need is _Need.CAD:
        return artifacts.get("cadGenerationState") is not None
    return any(node.get("assemblyComposition") is not None for node in bom_nodes(artifacts.get("bom")))


def missing_prerequisite(stage: Stage, artifacts: Mapping[str, Any]) -> str | None:
    """What ``stage`` needs that ``artifacts`` lack (the first such thing), or None."""
    last = _STAGE_NEEDS[stage]
    if last is None:
        return None
    for need in _NEEDS[: _NEEDS.index(last) + 1]:
        if not _has(need, artifacts):
            return f"the session has no {need.value}"
    return None


def furthest_stage(artifacts: Mapping[str, Any]) -> Stage:
    """The latest stage of the lifecycle whose prerequisites ``artifacts`` meet."""
    reachable = Stage.IDLE
    for stage in LIFECYCLE:
        if missing_prerequisite(stage, artifacts) is not None:
            break
        reachable = stage
    return reachable


def validate_stage_patch(
    current: Stage,
    target: object,
    *,
    artifacts: Mapping[str, Any],
    running: bool = False,
    field: str = "stage",
) -> Stage:
    """The stage a PATCH's ``stage`` field moves the session to.

    Rule: a session may move to any stage whose prerequisites its artifacts meet, i.e.
    back to any earlier stage and forward up to ``furthest_stage(artifacts)``. What the
    artifacts hold is the durable record of how far the session got, so no separate
    "furthest reached" is stored (and a BOM written by PATCH counts as reached). Staying
    put is always allowed. While a run is live the stage may not change (cancel first),
    since the run's events would land in a stage the session left.

    Raises ``ValidationError(field)`` for an unknown stage or a missing prerequisite
    (``materialization`` without a BOM), ``IllegalMove`` while a run is live. The caller
    validates against the artifacts as merged with the same PATCH, and usually sets the
    status back to ``active`` when a move leaves a paused or failed stage.
    """
    if not isinstance(target, str):
        raise ValidationError(field, "must be a string")
    try:
        stage = Stage(target)
    except ValueError:
        allowed = ", ".join(s.value for s in Stage)
        raise ValidationError(field, f"unknown stage '{target}' (allowed: {allowed})") from None
    if stage is current:
        return stage
    if running:
        raise IllegalMove(current, stage, f"a run of {current.value} is in progress; cancel it first")
    missing = missing_prerequisite(stage, artifacts)
    if missing is not None:
        raise ValidationError(field, f"cannot move to '{stage.value}': {missing}")
    return stage
