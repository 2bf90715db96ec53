"""The design engine inside a host: creating, reading, patching and driving design sessions.

Each operation checks the caller owns the session, asks the stage machine what the
action means in the session's state (``stages.plan``), changes the live session and
commits before answering. Stage runs are started here and live on in the host.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from msgspec import UNSET

from storage.clock import utc_now_iso
from storage.engine import Design, DesignSessionRecord, LifecycleState, StaleRevision
from storage.objects import ObjectStore, content_type_for

from ..core.errors import ValidationError
from ..errors import AccessDenied, Conflict, NotFound, Unprocessable
from ..store.client import EngineStoreClient
from .answers import DesignSessionSummary
from .artifacts import empty_artifacts, merge_artifacts, title_from_description, validate_description
from .bodies import CreateDesignSessionBody, PatchDesignSessionBody, StageActionBody
from .cad_runs import CadJobs, object_key
from .events import ArtifactUpdate, StageChange
from .live import EngineListener, EngineLive, WireEvent
from .llm.provider import LlmProvider
from .llm.tools import SearchFn
from .materialize import materialization_plan, preview, reused_item_ids
from .plm import readable_design, readable_program
from .requests import check_answer, check_part, check_stream_request
from .runner import RunInput, RunTools, answered, start_run
from .settings import EngineSettings
from .stages import (
    DRAFTING_STAGES,
    DecisionKind,
    EngineConflict,
    Stage,
    Status,
    plan,
    status_entering,
    validate_stage_patch,
)

__all__ = ["EngineService", "session_json", "summary_json"]

log = logging.getLogger(__name__)

_CONTROL_RUN = "control"  # the run id of events no stage run produced (confirmations, PATCH)


def workspace_url(session_id: str) -> str:
    return f"/designs/collaborative/{session_id}"


def summary_json(record: DesignSessionRecord) -> DesignSessionSummary:
    return DesignSessionSummary(
        id=record.id,
        title=record.title,
        stage=Stage(record.stage),
        status=Status(record.status),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def session_json(record: DesignSessionRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "userId": record.user_id,
        "title": record.title,
        "stage": record.stage,
        "status": record.status,
        "programId": record.program_id,
        "designId": record.design_id,
        "aiChatSessionId": record.ai_chat_session_id,
        "workspaceUrl": workspace_url(record.id),
        "artifacts": record.artifacts,
        "createdAt": record.created_at,
        "updatedAt": record.updated_at,
    }


def _conflict(exc: EngineConflict) -> Conflict:
    detail = exc.to_json() if hasattr(exc, "to_json") else {}
    return Conflict(str(exc), {k: str(v) for k, v in detail.items() if k != "error"})


class EngineService:
    def __init__(
        self,
        store: EngineStoreClient,
        settings: EngineSettings,
        provider: Callable[[SearchFn], LlmProvider],
        *,
        cad: CadJobs,
        objects: ObjectStore,
        presence_timeout: float,
    ) -> None:
        self._store = store
        self._cad = cad
        self._objects = objects
        self._settings = settings
        # Made per run: its item search is scoped to the session's owner.
        self._provider = provider
        self._presence_timeout = presence_timeout

    @property
    def store(self) -> EngineStoreClient:
        return self._store

    async def load(self, session_id: str) -> EngineLive | None:
        record = await self._store.get_session(session_id)
        if record is None:
            return None
        last_id = await self._store.last_event_id(session_id)
        first = max(0, last_id - self._settings.event_memory)
        tail = await self._store.read_events(session_id, first, self._settings.event_memory)
        live = self._live(record, tail, last_id)
        if live.status is Status.ACTIVE and live.stage in DRAFTING_STAGES and record.pending_run:
            # The host that ran it died: the run can be resumed (``resume``), not joined.
            log.info("stage run interrupted session=%s run=%s", session_id, record.pending_run.get("runId"))
        return live

    def _live(self, record: DesignSessionRecord, tail: Any, last_id: int) -> EngineLive:
        return EngineLive(
            record,
            tail,
            last_id,
            store=self._store,
            settings=self._settings,
            presence_timeout=self._presence_timeout,
        )

    @staticmethod
    def check_owner(live: EngineLive, user: str) -> None:
        if live.record.user_id != user:
            raise AccessDenied("session")

    # -- create / read / patch --------------------------------------------------------

    async def prepare(self, session_id: str, user: str, body: CreateDesignSessionBody) -> DesignSessionRecord:
        """A new session's record from a create request (checked, not yet stored)."""
        description = self._description(body.description)
        program = await readable_program(self._store, user, body.program_id, "programId")
        design_id = body.design_id
        if design_id is not None:
            design = await readable_design(self._store, user, design_id, "designId")
            if design.program_id != program.id:
                raise ValidationError("designId", "belongs to another program")
        now = utc_now_iso()
        return DesignSessionRecord(
            id=session_id,
            user_id=user,
            program_id=program.id,
            design_id=design_id,
            ai_chat_session_id=body.ai_chat_session_id,
            title=title_from_description(description),
            stage=Stage.IDLE.value,
            status=Status.ACTIVE.value,
            artifacts=empty_artifacts(description),
            pending_run=None,
            created_at=now,
            updated_at=now,
        )

    async def create(self, record: DesignSessionRecord) -> EngineLive:
        live = self._live(record, [], 0)
        live.record = replace(record, doc=live.doc.get_update())
        await self._store.create_session(live.record)
        return live

    def _description(self, value: str) -> str:
        """A design brief: not blank, and within the text limit (a setting)."""
        description = validate_description(value)
        if len(description) > self._settings.max_text_chars:
            raise ValidationError(
                "description", f"must be at most {self._settings.max_text_chars} characters"
            )
        return description

    async def patch(self, live: EngineLive, body: PatchDesignSessionBody) -> dict[str, Any]:
        # One change of the session's state at a time (materialization saves it elsewhere).
        async with live.lock:
            return await self._patch(live, body)

    async def _patch(self, live: EngineLive, body: PatchDesignSessionBody) -> dict[str, Any]:
        artifacts = dict(live.artifacts)
        if body.artifacts is not UNSET:
            artifacts = merge_artifacts(artifacts, body.artifacts)
        if body.description is not UNSET:
            artifacts["description"] = self._description(body.description)
        changes: dict[str, Any] = {}
        if artifacts != live.artifacts:
            changes["artifacts"] = artifacts
        if body.stage is not UNSET:
            try:
                stage = validate_stage_patch(
                    live.stage, body.stage, artifacts=artifacts, running=live.running
                )
            except EngineConflict as exc:
                raise _conflict(exc) from None
            if stage is not live.stage:
                changes.update(stage=stage.value, pending_run=None)
                status = Status.ACTIVE if live.status in (Status.PAUSED, Status.FAILED) else live.status
                if status_entering(stage, status) is not live.status:
                    changes["status"] = status_entering(stage, status).value
        if changes:
            live.update(**changes)
            if "stage" in changes:
                live.emit(_CONTROL_RUN, StageChange(live.stage))
            await live.commit()
        return session_json(live.record)

    # -- actions ----------------------------------------------------------------------

    async def act(self, live: EngineLive, body: StageActionBody) -> dict[str, Any]:
        async with live.lock:
            return await self._act(live, body)

    async def _act(self, live: EngineLive, request: StageActionBody) -> dict[str, Any]:
        """Carry out a ``POST .../stream`` action.

        Returns ``{"json": body}`` for confirmations and acknowledgements, or
        ``{"stream": {"runId", "after"}}``: the run to stream and the event id its
        stream starts after.
        """
        check_stream_request(request, max_text_chars=self._settings.max_text_chars)
        artifacts = live.artifacts
        try:
            decision = plan(
                live.stage,
                live.status,
                request.action,
                has_pending_clarification=artifacts.get("pendingClarificationId") is not None,
                running=live.running,
            )
        except EngineConflict as exc:
            raise _conflict(exc) from None
        if request.action.value == "answer_clarification":
            check_answer(request, artifacts)
        if request.action.value == "regenerate_part":
            check_part(request, artifacts)

        if decision.kind is DecisionKind.JSON_CONFIRM:
            status = status_entering(decision.stage, live.status)
            live.update(stage=decision.stage.value, status=status.value, pending_run=None)
            live.emit(_CONTROL_RUN, StageChange(decision.stage))
            await live.commit()
            return {"json": {"session": session_json(live.record), "confirmed": decision.confirmed}}
        if decision.kind is DecisionKind.JSON_ACK:
            if decision.stop_running:
                await live.stop_run()  # the run records its own ``paused`` event
                return {"json": {"session": session_json(live.record), "cancelled": True}}
            if request.message is not None:
                live.update(artifacts=_with_message(live.artifacts, request.message)[0])
                await live.commit()
            return {"json": {"acknowledged": True}}

        if decision.joins and live.run_id is not None:
            start = live.log.run_start(live.run_id)
            return {"stream": {"runId": live.run_id, "after": (start or 1) - 1}}
        if decision.stop_running:
            await live.stop_run()
        run = RunInput(decision.stage, feedback=request.feedback, part=request.temp_id)
        if request.action.value == "answer_clarification":
            assert request.question_id is not None
            assert request.answer is not None
            live.update(artifacts=answered(live.artifacts, request.question_id, request.answer))
        if request.message is not None:
            updated, message_id = _with_message(live.artifacts, request.message)
            live.update(artifacts=updated)
            run = RunInput(decision.stage, message_id=message_id, message=request.message)
        after = live.log.last_id
        tools = RunTools(self._provider(self._search_for(live.record.user_id)), self._cad, self._objects)
        run_id = start_run(live, tools, self._settings, run)
        return {"stream": {"runId": run_id, "after": after}}

    async def listen(
        self, live: EngineLive, listener: EngineListener, after_id: int | None, *, max_listeners: int
    ) -> tuple[list[WireEvent], str | None]:
        if after_id is not None and after_id > live.log.last_id:
            raise ValidationError("Last-Event-ID", f"event {after_id} is after the session's last event")
        return await live.listen(listener, after_id, max_listeners=max_listeners)

    async def events(
        self, live: EngineLive, after_id: int | None, limit: int
    ) -> tuple[list[WireEvent], bool, str | None]:
        """A page of the session's stage events after ``after_id``, whether more follow,
        and the live run's id: the JSON view of what ``GET .../stream`` streams."""
        if after_id is not None and after_id > live.log.last_id:
            raise ValidationError("after", f"event {after_id} is after the session's last event")
        if not 1 <= limit <= self._settings.replay_page:
            raise ValidationError("limit", f"must be between 1 and {self._settings.replay_page}")
        events, more = await live.events_after(after_id, limit)
        return events, more, live.run_id if live.running else None

    def _search_for(self, user: str) -> SearchFn:
        async def search(query: str) -> list[dict[str, Any]]:
            items = await self._store.search_items(user, query, 10)
            return [
                {
                    "itemId": i.id,
                    "itemNumber": i.item_number,
                    "name": i.name,
                    "kind": i.kind.value,
                    **i.attributes,
                }
                for i in items
            ]

        return search

    # -- materialization ----------------------------------------------------------------

    async def _target(self, live: EngineLive) -> Design | None:
        design_id = live.record.design_id
        return None if design_id is None else await self._store.get_design(design_id)

    async def preview(self, live: EngineLive) -> dict[str, Any]:
        try:
            reused = reused_item_ids(live.artifacts)
        except ValidationError as exc:
            raise Unprocessable(exc.message, exc.field) from None
        existing = {item.id: item for item in await self._store.get_items(reused)}
        return preview(live.artifacts, existing, await self._target(live))

    async def materialize(self, live: EngineLive) -> dict[str, Any]:
        """Create the PLM items in one transaction; only once per session."""
        async with live.lock:
            if "materializationResult" in live.artifacts:
                raise Unprocessable("this session was already materialized", "materializationResult")
            if live.running:
                raise Conflict(
                    "a stage run is in progress; cancel it first",
                    {"stage": live.stage.value, "action": "materialize"},
                )
            if live.stage not in (Stage.BOM_REVIEW, Stage.MATERIALIZATION):
                raise Conflict(
                    f"materialization is not possible in stage '{live.stage.value}'",
                    {"stage": live.stage.value, "action": "materialize"},
                )
            try:
                reused_item_ids(live.artifacts)
            except ValidationError as exc:
                raise Unprocessable(exc.message, exc.field) from None
            await live.commit()
            target = await self._target(live)
            new_design = None
            if target is None:
                now = utc_now_iso()
                new_design = Design(
                    str(uuid.uuid4()),
                    live.record.program_id,
                    live.record.title,
                    LifecycleState.DRAFT,
                    now,
                    now,
                )
            plan = materialization_plan(
                owner_id=live.record.user_id,
                program_id=live.record.program_id,
                title=live.record.title,
                artifacts=live.artifacts,
                target=target,
                new_design=new_design,
            )
            record = replace(
                live.record,
                stage=Stage.MATERIALIZATION.value,
                pending_run=None,
                updated_at=utc_now_iso(),
                doc=live.doc.get_update(),
            )
            try:
                outcome = await self._store.materialize(plan, record, live.record.revision)
            except StaleRevision:
                raise Unprocessable(
                    "this session was already materialized", "materializationResult"
                ) from None
            live.adopt(outcome.session)
            live.emit(_CONTROL_RUN, ArtifactUpdate({"materializationResult": outcome.result}))
            await live.commit()
            return dict(outcome.result)

    async def read_file(self, live: EngineLive, name: str) -> tuple[bytes, str] | None:
        """A file a CAD run wrote for this session (``parts/<tempId>.glb``, ``assembly.step``)."""
        key = object_key(live.id, name)
        data = await self._objects.get(key)
        return None if data is None else (data, content_type_for(key))

    async def delete(self, live: EngineLive) -> None:
        live.mark_deleted()
        if not await self._store.delete_session(live.id):
            raise NotFound("session")


def _with_message(artifacts: dict[str, Any], text: str) -> tuple[dict[str, Any], str]:
    message_id = f"msg-{uuid.uuid4().hex[:10]}"
    messages = [
        *artifacts.get("userMessages", []),
        {"id": message_id, "text": text, "createdAt": utc_now_iso()},
    ]
    return {**artifacts, "userMessages": messages}, message_id
