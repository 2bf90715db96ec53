"""Workspace sessions in a host: recent history in memory, runs with quotas on the worker pool.

A run does the spec's ten steps in order: ownership, quota reserve, bounded history (from
memory, not the store), strict file validation, the user message persisted, signed
download URLs, project-scoped GitHub access, the envelope to a worker, the assistant
message persisted, the quota confirmed — or, when the worker fails, a structured failed
result with the reservation rolled back and the user message kept. One run at a time per
session; its output streams to listening gateways with event ids.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from storage.clock import utc_now_iso
from storage.workspace import (
    Message,
    MessageRole,
    QuotaExceeded,
    Run,
    RunStatus,
    WorkspaceSession,
    WorkspaceStore,
)

from ..core.fanout import Peer
from ..core.sync import Inbound
from ..errors import (
    AccessDenied,
    Conflict,
    NotFound,
    QuotaExhausted,
    SessionNotFound,
    SessionUnavailable,
    TooManyStreams,
)
from . import answers
from .agent.envelope import AttachedFile, GithubAccess, TaskEnvelope
from .agent.result import FailureCode, failure_payload
from .bodies import NewSessionBody, RunBody, SessionStatusBody, SessionTitleBody
from .history import history_dto, run_history
from .pool import RunPool
from .quota import format_instant, period_key, resets_at, retry_after_seconds
from .settings import WorkspaceSettings
from .signing import signed_url
from .validation import check_file_selection, check_new_session, check_run, check_session_title

__all__ = ["RunListener", "WorkspaceLive", "WorkspaceService"]

log = logging.getLogger(__name__)

RunEvent = tuple[int, str, bytes, bool]  # (event id, run id, JSON, ends the run)


class RunListener(Protocol):
    """One stream of a run's output (a gateway's, over its link or in process)."""

    @property
    def peer_id(self) -> int: ...

    def stage_events(self, session_id: str, events: list[RunEvent]) -> None: ...


def run_json(run: Run) -> dict[str, Any]:
    def ms(start: str | None, end: str | None) -> int | None:
        if start is None or end is None:
            return None
        return int((_parse(end) - _parse(start)).total_seconds() * 1000)

    return {
        "runId": run.id,
        "sessionId": run.session_id,
        "status": run.status.value,
        "type": run.type,
        "selectedFileIds": list(run.selected_file_ids),
        "createdAt": run.created_at,
        "startedAt": run.started_at,
        "finishedAt": run.finished_at,
        "durationMs": ms(run.started_at, run.finished_at),
        "error": run.error,
        "python": run.result,
    }


def _parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


class WorkspaceLive:
    """One live workspace session: its record, recent history and the run in progress.

    Implements the host's ``LiveSession`` interface; it has no document, so no realtime
    subscribers: its runs stream to listeners instead.
    """

    kind = "workspace"
    unflushed = 0  # history is written as it happens

    def __init__(self, record: WorkspaceSession, recent: list[Message], keep: int) -> None:
        self.record = record
        self.recent: deque[Message] = deque(recent, maxlen=keep)
        self.run_id: str | None = None
        self.run_task: asyncio.Task[dict[str, Any]] | None = None
        self.listeners: dict[int, RunListener] = {}
        self._events: deque[RunEvent] = deque(maxlen=4096)
        self._next_event = 0
        self.last_activity = time.monotonic()

    @property
    def id(self) -> str:
        return self.record.id

    def touch(self) -> None:
        self.last_activity = time.monotonic()

    @property
    def running(self) -> bool:
        return self.run_task is not None and not self.run_task.done()

    def is_idle(self, idle_timeout: float) -> bool:
        return (
            not self.running and not self.listeners and time.monotonic() - self.last_activity >= idle_timeout
        )

    async def checkpoint(self, *, force: bool) -> None:
        if force and self.run_task is not None and not self.run_task.done():
            self.run_task.cancel()  # an idle session has no run: only a forced unload stops one

    def close(self) -> None:
        """Nothing to end: run listeners are ended by their run."""

    def tick(self, now: float) -> None:
        """No presence or awareness to expire."""

    def subscribe(self, peer: Peer, max_streams: int) -> str | None:
        raise SessionNotFound(self.id)  # a workspace session has no document

    def frames(self, peer: Peer, items: Sequence[Inbound], now: float) -> bool:
        return False  # never subscribed: the gateway resubscribes, and is refused

    def peer_closed(self, peer_id: int) -> None:
        self.unlisten(peer_id)
        self.touch()

    def emit(self, run_id: str, payload: dict[str, Any], *, terminal: bool = False) -> None:
        self._next_event += 1
        event = (self._next_event, run_id, orjson.dumps(payload), terminal)
        self._events.append(event)
        for listener in list(self.listeners.values()):
            listener.stage_events(self.id, [event])

    def listen(self, listener: RunListener, run_id: str, *, max_listeners: int) -> list[RunEvent]:
        """Register ``listener`` (one stream, by its own id; at most ``max_listeners``);
        returns the run's events so far (then live ones follow)."""
        TooManyStreams.check(self.id, len(self.listeners), max_listeners)
        self.listeners[listener.peer_id] = listener
        return [e for e in self._events if e[1] == run_id]

    def unlisten(self, listener_id: int) -> None:
        self.listeners.pop(listener_id, None)


class WorkspaceService:
    def __init__(
        self,
        store: WorkspaceStore,
        settings: WorkspaceSettings,
        pool: Callable[[], RunPool],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._settings = settings
        self._pool_factory = pool
        self._pool: RunPool | None = None
        self._clock = clock

    @property
    def pool(self) -> RunPool:
        if self._pool is None:
            self._pool = self._pool_factory()
        return self._pool

    async def load(self, session_id: str) -> WorkspaceLive | None:
        record = await self._store.get_session(session_id)
        if record is None:
            return None
        orphan = await self._store.running_run(session_id)
        if orphan is not None:
            # The session was live nowhere, so no worker answers for this run any more.
            await self._store.update_run(
                orphan.id, RunStatus.FAILED, at=utc_now_iso(), error="the run's host went away"
            )
            await self._store.release(orphan.id, updated_at=utc_now_iso())
            log.warning("orphaned run failed session=%s run=%s", session_id, orphan.id)
        keep = self._settings.run_history_limit.high
        return WorkspaceLive(record, await self._store.history(session_id, keep), keep)

    @staticmethod
    def check_owner(live: WorkspaceLive, user: str) -> None:
        if live.record.owner_id != user:
            raise AccessDenied("session")

    async def owned_project(self, user: str, project_id: str) -> Any:
        project = await self._store.get_project(project_id)
        if project is None:
            raise NotFound("project", "projectId")
        if project.owner_id != user:
            raise AccessDenied("project", "projectId")
        return project

    # -- sessions ---------------------------------------------------------------------

    async def create(
        self, session_id: str, user: str, project_id: str, body: NewSessionBody
    ) -> WorkspaceLive:
        await self.owned_project(user, project_id)
        new = check_new_session(body)
        now = utc_now_iso()
        record = WorkspaceSession(session_id, project_id, user, new.type.value, new.title, "ACTIVE", now, now)
        await self._store.create_session(record)
        return WorkspaceLive(record, [], self._settings.run_history_limit.high)

    async def set_status(self, live: WorkspaceLive, body: SessionStatusBody) -> answers.WorkspaceSession:
        live.record = await self._update(live, status=body.status.value)
        return answers.WorkspaceSession.of(live.record)

    async def set_title(self, live: WorkspaceLive, body: SessionTitleBody) -> answers.WorkspaceSession:
        title = check_session_title(body)
        live.record = await self._update(live, title=title)
        return answers.WorkspaceSession.of(live.record)

    async def _update(self, live: WorkspaceLive, **changes: Any) -> WorkspaceSession:
        return await self._store.update_session(live.id, updated_at=utc_now_iso(), **changes)

    async def history(self, live: WorkspaceLive, limit: int | None) -> list[dict[str, Any]]:
        limit = self._settings.history_limit.clamp(limit)
        return history_dto(await self._store.history(live.id, limit))

    async def delete(self, live: WorkspaceLive) -> None:
        if live.run_task is not None and not live.run_task.done():
            live.run_task.cancel()
        await self._store.delete_session(live.id)

    # -- runs -------------------------------------------------------------------------

    async def start_run(self, live: WorkspaceLive, user: str, body: RunBody) -> str:
        """Steps 1–7 here (what can be refused is refused before anything runs); the rest in a task."""
        request = check_run(body, self._settings.requests, self._settings.run_history_limit)
        if live.run_task is not None and not live.run_task.done() and live.run_id is not None:
            raise Conflict(f"run {live.run_id} is in progress in this session", {"runId": live.run_id})
        project = await self.owned_project(user, live.record.project_id)
        # Checked before anything is reserved or written: attaching files needs both.
        base, secret = (self._public_url(), self._secret()) if request.selected_file_ids else ("", b"")
        run_id = str(uuid.uuid4())
        now = self._clock()
        quota = self._settings.quota
        outcome = await self._store.reserve(
            user,
            period_key(now, quota.period),
            quota.limit,
            run_id,
            resets_at=format_instant(resets_at(now, quota.period)),
            created_at=utc_now_iso(),
        )
        if isinstance(outcome, QuotaExceeded):
            raise QuotaExhausted(
                outcome.limit,
                outcome.used,
                outcome.resets_at,
                retry_after_seconds(now, _parse(outcome.resets_at)),
            )
        try:
            history = run_history(live.recent, request.history_limit)
            found = await self._store.get_files(list(request.selected_file_ids))
            files = check_file_selection(request.selected_file_ids, found, project.id)
            await self._store.create_run(
                Run(
                    run_id,
                    live.id,
                    user,
                    RunStatus.QUEUED,
                    request.input,
                    request.type.value,
                    request.selected_file_ids,
                    utc_now_iso(),
                )
            )
        except BaseException:
            await self._store.release(run_id, updated_at=utc_now_iso())
            raise
        user_message = await self._store.append_message(
            Message(str(uuid.uuid4()), live.id, MessageRole.USER, request.input, run_id, utc_now_iso())
        )
        live.recent.append(user_message)
        expires = int(now.timestamp()) + self._settings.download_ttl
        attached = tuple(
            AttachedFile(
                f.id,
                f.name,
                f.content_type,
                f.size,
                signed_url(base, f"/api/v1/files/{f.id}/download", expires, secret),
            )
            for f in files
        )
        github = None
        if project.github and project.github.get("repository") and project.github.get("token"):
            github = GithubAccess(
                str(project.github["repository"]), str(project.github["token"]), project.github.get("ref")
            )
        envelope = TaskEnvelope(
            run_id, live.id, project.id, user, request.type.value, request.input, history, attached, github
        )
        live.run_id = run_id
        live.run_task = asyncio.get_running_loop().create_task(
            self._execute(live, envelope, user_message), name=f"workspace-run:{run_id}"
        )
        return run_id

    def _public_url(self) -> str:
        if not self._settings.public_base_url:
            raise SessionUnavailable("ATELIER_WORKSPACE_PUBLIC_URL is not set: files cannot be attached")
        return self._settings.public_base_url

    def _secret(self) -> bytes:
        if self._settings.signing_secret is None:
            raise SessionUnavailable("no signing secret for file downloads")
        return self._settings.signing_secret

    async def _execute(
        self, live: WorkspaceLive, envelope: TaskEnvelope, user_message: Message
    ) -> dict[str, Any]:
        run_id = envelope.run_id
        await self._store.update_run(run_id, RunStatus.RUNNING, at=utc_now_iso())

        async def output(chunk: str) -> None:
            live.emit(run_id, {"type": "output", "text": chunk})

        try:
            result = await self.pool.run(envelope, output)
        except asyncio.CancelledError:
            result = failure_payload(
                run_id, envelope.session_type, FailureCode.CANCELLED, "the run was cancelled"
            )
        succeeded = result.get("status") == "succeeded"
        if succeeded:
            assistant = await self._store.append_message(
                Message(
                    str(uuid.uuid4()),
                    live.id,
                    MessageRole.ASSISTANT,
                    str(result.get("output", "")),
                    run_id,
                    utc_now_iso(),
                )
            )
            live.recent.append(assistant)
            await self._store.confirm(run_id, updated_at=utc_now_iso())
        else:
            # The failure is recorded for operators; it never shows in the history DTO.
            error = result.get("error") or {}
            assistant = await self._store.append_message(
                Message(
                    str(uuid.uuid4()),
                    live.id,
                    MessageRole.SYSTEM,
                    f"run failed: {error.get('message', '')}",
                    run_id,
                    utc_now_iso(),
                )
            )
            await self._store.release(run_id, updated_at=utc_now_iso())
        status = (
            RunStatus.SUCCEEDED
            if succeeded
            else (
                RunStatus.CANCELLED
                if (result.get("error") or {}).get("code") == FailureCode.CANCELLED.value
                else RunStatus.FAILED
            )
        )
        await self._store.update_run(
            run_id,
            status,
            at=utc_now_iso(),
            result=result,
            error=None if succeeded else str((result.get("error") or {}).get("message")),
        )
        response = {
            "runId": run_id,
            "python": result,
            "messages": {
                "userMessageId": user_message.id,
                "assistantMessageId": assistant.id if succeeded else None,
            },
            "selectedFileIds": [f.id for f in envelope.files],
        }
        live.emit(run_id, {"type": "result", **response}, terminal=True)
        live.run_id = None
        live.touch()
        return response

    async def wait(self, live: WorkspaceLive, run_id: str) -> dict[str, Any]:
        task = live.run_task
        if task is None or live.run_id not in (run_id, None):
            raise NotFound("run", "runId")
        return await asyncio.shield(task)

    async def get_run(self, live: WorkspaceLive, run_id: str) -> dict[str, Any]:
        run = await self._store.get_run(run_id)
        if run is None or run.session_id != live.id:
            raise NotFound("run", "runId")
        return run_json(run)

    async def cancel(self, live: WorkspaceLive, run_id: str) -> dict[str, Any]:
        if live.run_id != run_id or live.run_task is None:
            raise Conflict(f"run {run_id} is not running", {"runId": run_id})
        live.run_task.cancel()
        await asyncio.gather(live.run_task, return_exceptions=True)
        return await self.get_run(live, run_id)
