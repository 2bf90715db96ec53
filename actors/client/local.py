"""LocalSessionClient: the same host logic in this process, with no Ray cluster.

For gateway tests (``aiohttp_client``) and for embedding: one ``HostCore`` over the
store opened here. Streams are in-process peers of the host's sessions.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from typing import TypeVar

from storage import StorageSettings
from storage.objects import make_object_store

from ..bridge.answers import SessionMeta
from ..bridge.ops import DeleteSession
from ..bridge.webhooks import WebhookDeliverer
from ..core.events import Delivery, StreamEnd
from ..core.ops import Op, Subscribe, answer_from_wire, answer_to_wire, encode
from ..core.sync import Inbound
from ..engine import plm, plm_answers
from ..engine.answers import DesignSessionSummary
from ..engine.cad_runs import CadJobs
from ..engine.live import WireEvent
from ..engine.llm.factory import make_provider
from ..engine.ops import ListenDesign
from ..engine.plm_bodies import AddMemberBody, CreateDesignBody, CreateProgramBody
from ..engine.service import EngineService, summary_json
from ..errors import SessionNotFound, SessionUnavailable
from ..host.core import HostCore
from ..host.ops import HOST_OPS
from ..settings import ActorSettings
from ..store.client import StoreCore
from ..workspace.extract import ExtractLimits
from ..workspace.front import WorkspaceFront
from ..workspace.ops import ListenRun
from ..workspace.pool import LocalRunPool
from ..workspace.projects import run_extraction
from ..workspace.service import WorkspaceService
from .base import RealtimeStream, StageEventItem, StageEventStream, StageStreamItem, StreamItem
from .calls import HostCalls
from .stats import LayerStats, StoreStats, host_stats_from_wire
from .stream import StageQueue, StreamQueue
from .warmth import Warmth

__all__ = ["LocalSessionClient"]

R = TypeVar("R")

_peer_ids = itertools.count(1)


class _LocalStream:
    """A stream and, to the host, the peer it delivers to."""

    def __init__(self, core: HostCore, session_id: str, limit: int) -> None:
        self._core = core
        self._queue = StreamQueue(session_id, limit)
        self._peer_id = -next(_peer_ids)  # never equal to a link stream's
        self.owner: str | None = None

    @property
    def peer_id(self) -> int:
        return self._peer_id

    @property
    def session_id(self) -> str:
        return self._queue.session_id

    def deliver(self, session_id: str, events: list[Delivery]) -> None:
        self._queue.push(events)

    def end(self, session_id: str, reason: StreamEnd) -> None:
        self._queue.end(reason)

    def send(self, batch: Sequence[Inbound]) -> None:
        if self._queue.ended is None:
            self._core.frames(self.session_id, self, batch)

    def events(self) -> AsyncIterator[StreamItem]:
        return self._queue.items()

    async def close(self) -> None:
        self._core.peer_closed(self._peer_id)


class _LocalStageStream:
    """A stage-event stream and, to the session, the listener it delivers to."""

    def __init__(self, core: HostCore, session_id: str, limit: int) -> None:
        self._core = core
        self._queue = StageQueue(session_id, limit)
        self._peer_id = -next(_peer_ids)

    @property
    def peer_id(self) -> int:
        return self._peer_id

    @property
    def live_run(self) -> str | None:
        return self._queue.live_run

    @property
    def replay(self) -> list[StageEventItem]:
        return self._queue.replay

    def stage_events(self, session_id: str, events: list[WireEvent]) -> None:
        self._queue.push([StageEventItem(*event) for event in events])

    def events(self) -> AsyncIterator[StageStreamItem]:
        return self._queue.items()

    def follow(self, run_id: str, replay: list[WireEvent]) -> None:
        self._queue.live_run = run_id
        self._queue.replay = [StageEventItem(*event) for event in replay]

    async def start(self, user: str, after: int | None) -> None:
        op = ListenDesign(self._queue.session_id, user, after)
        replay, run = await HOST_OPS.run(self._core, op, self)
        self._queue.live_run = run
        self._queue.replay = [StageEventItem(*event) for event in replay]

    async def close(self) -> None:
        self._core.peer_closed(self._peer_id)


class LocalSessionClient(HostCalls):
    def __init__(
        self, settings: ActorSettings, storage: StorageSettings, *, stream_queue_limit: int = 10_000
    ) -> None:
        self._store = StoreCore(storage)
        self._objects = make_object_store(storage.objects_url, storage.data_dir, s3=storage.objects)
        engine = EngineService(
            self._store.engine,
            settings.engine,
            lambda search: make_provider(settings.engine.llm, search),
            cad=CadJobs(settings.engine.cad, local=True),
            objects=self._objects,
            presence_timeout=settings.presence_timeout,
        )
        work = settings.workspace
        workspace = WorkspaceService(self._store.workspace, work, lambda: LocalRunPool(work.agent, work.llm))
        self._core = HostCore(
            settings,
            self._store,
            engine=engine,
            workspace=workspace,
            webhooks=WebhookDeliverer(settings.webhooks),
        )

        async def extract_in_thread(
            data: bytes, name: str, content_type: str, limits: ExtractLimits
        ) -> list[str]:
            return await asyncio.to_thread(run_extraction, data, name, content_type, limits)

        self._front = WorkspaceFront(self._store.workspace, self._objects, work, extract_in_thread)
        self._stream_queue_limit = stream_queue_limit
        self._warmth: Warmth | None = None

    async def start(self) -> str:
        await self._store.open()
        await self._objects.open()
        self._core.start()
        self._warmth = Warmth(0.0, store_owner=True)
        return self._store.kind

    async def warmed(self) -> Warmth:
        if self._warmth is None:
            raise SessionUnavailable("session client not started")
        return self._warmth

    def warmth(self) -> Warmth | None:
        return self._warmth

    async def stop(self) -> None:
        await self._front.stop()
        await self._core.stop()
        await self._store.close()
        await self._objects.close()

    async def call(self, op: Op[R]) -> R:
        # Through the link's encoding and the host's registry, as over a link: a gateway
        # test meets what a host would refuse (a value the link cannot carry, a wrong type).
        kind = type(op)
        value = await HOST_OPS.run(self._core, HOST_OPS.decode(*encode(op)))
        return answer_from_wire(kind, answer_to_wire(kind, value))

    async def list_sessions(self, limit: int, offset: int) -> list[SessionMeta]:
        return [SessionMeta.of(r) for r in await self._store.list_sessions(limit, offset)]

    async def get_session(self, session_id: str) -> SessionMeta:
        record = await self._store.get_session(session_id)
        if record is None:
            raise SessionNotFound(session_id)
        return SessionMeta.of(record)

    async def delete_session(self, session_id: str) -> None:
        await self.get_session(session_id)
        await self.call(DeleteSession(session_id))

    async def open_stream(self, session_id: str) -> RealtimeStream:
        stream = _LocalStream(self._core, session_id, self._stream_queue_limit)
        stream.owner = await HOST_OPS.run(self._core, Subscribe(session_id), stream)
        return stream

    async def create_program(self, user: str, body: CreateProgramBody) -> plm_answers.Program:
        return await plm.create_program(self._store.engine, user, body)

    async def list_programs(self, user: str) -> list[plm_answers.Program]:
        return await plm.list_programs(self._store.engine, user)

    async def get_program(self, user: str, program_id: str) -> plm_answers.Program:
        return await plm.get_program(self._store.engine, user, program_id)

    async def add_program_member(
        self, user: str, program_id: str, body: AddMemberBody
    ) -> plm_answers.ProgramMember:
        return await plm.add_member(self._store.engine, user, program_id, body)

    async def create_design(self, user: str, program_id: str, body: CreateDesignBody) -> plm_answers.Design:
        return await plm.create_design(self._store.engine, user, program_id, body)

    async def list_designs(self, user: str, program_id: str) -> list[plm_answers.Design]:
        return await plm.list_designs(self._store.engine, user, program_id)

    async def get_design(self, user: str, design_id: str) -> plm_answers.Design:
        return await plm.get_design(self._store.engine, user, design_id)

    async def list_design_sessions(self, user: str, limit: int, offset: int) -> list[DesignSessionSummary]:
        return [summary_json(r) for r in await self._store.engine.list_sessions(user, limit, offset)]

    async def design_events(self, user: str, session_id: str, after: int | None) -> StageEventStream:
        stream = _LocalStageStream(self._core, session_id, self._stream_queue_limit)
        await stream.start(user, after)
        return stream

    async def design_bom(self, user: str, design_id: str) -> list[plm_answers.BomNode]:
        return await plm.design_bom(self._store.engine, user, design_id)

    async def get_item(self, user: str, item_id: str) -> plm_answers.ItemWithRequirements:
        return await plm.get_item(self._store.engine, user, item_id)

    async def search_items(self, user: str, query: str, limit: int) -> list[plm_answers.Item]:
        return await plm.search_items(self._store.engine, user, query, limit)

    async def get_eco(self, user: str, eco_id: str) -> plm_answers.Eco:
        return await plm.get_eco(self._store.engine, user, eco_id)

    @property
    def workspace(self) -> WorkspaceFront:
        return self._front

    async def run_events(self, user: str, session_id: str, run_id: str) -> StageEventStream:
        stream = _LocalStageStream(self._core, session_id, self._stream_queue_limit)
        replay = await HOST_OPS.run(self._core, ListenRun(session_id, user, run_id), stream)
        stream.follow(run_id, replay)
        return stream

    async def stats(self, timeout: float) -> LayerStats:  # noqa: ASYNC109 (a bound per part: late parts are reported missing)
        """All in this process, so nothing to wait for; no links, so no link queues."""
        core = self._core.stats()
        host = host_stats_from_wire({"name": "local", **core, "linkQueue": 0})
        committer = self._store.committer
        store = StoreStats(
            self._store.kind,
            committer.transactions,
            committer.rows,
            committer.queued_rows,
            0,
            committer.latency.snapshot(),
        )
        return LayerStats(store=store, hosts=(host,), link_queue=0, stream_queue=0)
