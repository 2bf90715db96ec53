"""ClusterSessionClient: sessions in Ray host actors, reached over direct links.

Ray is the control plane here: it starts (or joins) the placement directory and the
store owner and answers "which host holds this session, at which address". Everything
after that — REST requests, frames, events — rides one link per host process. Every Ray
or link failure becomes ``SessionUnavailable`` in this module and nowhere else.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
import ray
from ray.exceptions import RayError

from storage import StorageSettings, StoreError
from storage.objects import ObjectStore, make_object_store

from ..bridge.answers import SessionMeta
from ..bridge.ops import DeleteSession
from ..core.errors import error_from_wire
from ..core.ops import Op, Subscribe, answer_from_wire, encode
from ..engine import plm, plm_answers
from ..engine.answers import DesignSessionSummary
from ..engine.ops import ListenDesign
from ..engine.plm_bodies import AddMemberBody, CreateDesignBody, CreateProgramBody
from ..engine.service import summary_json
from ..errors import SessionNotFound, SessionUnavailable
from ..link import LinkAddress, LinkClosed, RemoteFailure, dial
from ..placement import PLACEMENT_ACTOR_NAME, HostInfo, Placement
from ..runtime import node_link_settings
from ..settings import ActorSettings
from ..singleflight import SingleFlight
from ..store.client import LinkStoreClient
from ..store.service import STORE_ACTOR_NAME, StoreService
from ..workspace.extract import ExtractLimits
from ..workspace.front import WorkspaceFront
from ..workspace.ops import ListenRun
from ..workspace.projects import run_extraction
from .base import RealtimeStream, StageEventItem, StageEventStream
from .calls import HostCalls
from .cluster_stats import cluster_stats
from .links import HostLink, LinkStageStream, LinkStream
from .stats import LayerStats
from .stream import StageQueue, StreamQueue
from .warmth import Warmth

__all__ = ["ClusterSessionClient"]

T = TypeVar("T")
R = TypeVar("R")


log = logging.getLogger(__name__)

_MAX_ATTEMPTS = 6
# Failures that mean "not here": locate the session again and resend.
_RELOCATE = frozenset({"SessionMoved", "HostExiting"})


def _raise_remote(session_id: str, failure: RemoteFailure) -> None:
    """The error the host answered with, rebuilt from its wire form; anything it could not
    name (a bug, the store) is ``SessionUnavailable``."""
    error = error_from_wire(failure.kind, failure.message, failure.detail, session_id)
    raise (error if error is not None else SessionUnavailable(failure.message)) from None


class ClusterSessionClient(HostCalls):
    def __init__(
        self,
        settings: ActorSettings,
        storage: StorageSettings,
        *,
        stream_queue_limit: int = 10_000,
        shutdown_on_stop: bool = False,
    ) -> None:
        self._settings = settings
        # A gateway that started its own local Ray owns the session layer: stopping it
        # checkpoints every session and closes the store's pool before Ray goes away.
        self._shutdown_on_stop = shutdown_on_stop
        self._storage = storage
        self._stream_queue_limit = stream_queue_limit
        self._placement: Any = None
        self._store_actor: Any = None
        self._store: LinkStoreClient | None = None
        self._located: dict[str, HostInfo] = {}
        self._links: dict[str, HostLink] = {}
        self._dialing: SingleFlight[str, HostLink] = SingleFlight()
        self._objects: ObjectStore | None = None
        self._front: WorkspaceFront | None = None
        self._link = settings.link
        self._warming: asyncio.Task[Warmth] | None = None

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> str:
        """Start (or join) the session layer without waiting for it: the store owner, the
        directory and its hosts, the run workers and a warm CAD worker come up in the
        background (``warmed``). A request arriving meanwhile waits on the same start —
        Ray holds calls to an actor until it is up, and the directory places a session
        only once its hosts are started — so nothing is ever started twice."""
        try:
            self._store_actor = (
                ray.remote(StoreService)
                .options(
                    name=STORE_ACTOR_NAME,
                    namespace=self._settings.namespace,
                    get_if_exists=True,
                    lifetime="detached",
                    num_cpus=0,
                    max_restarts=-1,
                    max_concurrency=100_000,
                )
                .remote(self._storage, self._settings.link)
            )
            self._placement = (
                ray.remote(Placement)
                .options(
                    name=PLACEMENT_ACTOR_NAME,
                    namespace=self._settings.namespace,
                    get_if_exists=True,
                    lifetime="detached",
                    num_cpus=0,
                    max_restarts=-1,
                    max_concurrency=100_000,
                )
                .remote(self._settings, self._storage, self._settings.link)
            )
        except RayError as exc:
            raise SessionUnavailable(f"cannot start the session layer: {exc}") from exc
        # Dialled as a process of this Ray node: same-node hosts over Unix sockets, others TCP.
        self._link = node_link_settings(self._settings.link)
        self._store = LinkStoreClient(self._store_address, self._link, "gateway")
        self._objects = make_object_store(
            self._storage.objects_url, self._storage.data_dir, s3=self._storage.objects
        )
        await self._objects.open()
        extract = ray.remote(num_cpus=1, max_retries=0)(run_extraction)

        async def extract_on_ray(
            data: bytes, name: str, content_type: str, limits: ExtractLimits
        ) -> list[str]:
            chunks: list[str] = await extract.remote(data, name, content_type, limits)
            return chunks

        self._front = WorkspaceFront(
            self._store.workspace, self._objects, self._settings.workspace, extract_on_ray
        )
        self._warming = asyncio.get_running_loop().create_task(self._warm_up(), name="session-layer-warm-up")
        kind = self._storage.store_kind
        log.info("session layer starting store=%s placement=%s", kind, self._settings.placement.value)
        return kind

    async def _warm_up(self) -> Warmth:
        started = time.monotonic()
        timeout = self._settings.warm_timeout
        try:
            async with asyncio.timeout(timeout):
                await self._store_actor.kind.remote()
                answer: dict[str, Any] = await self._placement.warm.remote()
        except TimeoutError:
            error = f"not warm within {timeout:g}s (ATELIER_WARM_TIMEOUT)"
            log.warning("session layer %s", error)
            return Warmth(time.monotonic() - started, error=error)
        except RayError as exc:
            first_line = "".join(str(exc).strip().splitlines()[:1])
            log.warning("session layer warm-up failed: %s", first_line)
            return Warmth(time.monotonic() - started, error=f"warm-up failed: {first_line}")
        warmth = Warmth.from_placement(time.monotonic() - started, answer)
        log.info("session layer ready in %.1fs: %s", warmth.seconds, warmth.describe())
        return warmth

    async def warmed(self) -> Warmth:
        """The warm-up's outcome, once it has one (bounded by ``ATELIER_WARM_TIMEOUT``)."""
        if self._warming is None:
            raise SessionUnavailable("session client not started")
        return await asyncio.shield(self._warming)

    def warmth(self) -> Warmth | None:
        """The warm-up's outcome, or None while it runs."""
        if self._warming is None or not self._warming.done() or self._warming.cancelled():
            return None
        return self._warming.result()

    async def _store_address(self) -> LinkAddress:
        try:
            address: LinkAddress = await self._store_actor.address.remote()
        except RayError as exc:
            raise StoreError(f"store owner unavailable: {exc}") from exc
        return address

    async def stop(self) -> None:
        if self._warming is not None and not self._warming.done():
            self._warming.cancel()
            await asyncio.gather(self._warming, return_exceptions=True)
        for host in list(self._links.values()):
            await host.link.close("gateway stopping")
            await asyncio.gather(host.reader, return_exceptions=True)
        self._links.clear()
        if self._front is not None:
            await self._front.stop()
        if self._store is not None:
            await self._store.close()
        if self._objects is not None:
            await self._objects.close()
        if self._shutdown_on_stop and self._placement is not None:
            try:
                await self._placement.shutdown.remote()
                await self._store_actor.shutdown.remote()
            except RayError as exc:
                log.warning("session layer shutdown incomplete: %s", exc)

    @property
    def store(self) -> LinkStoreClient:
        if self._store is None:
            raise SessionUnavailable("session client not started")
        return self._store

    # -- finding hosts ----------------------------------------------------------------

    async def _locate(self, session_id: str, suspect: str | None) -> HostInfo:
        cached = self._located.get(session_id)
        if cached is not None and suspect is None:
            return cached
        try:
            info: HostInfo = await self._placement.locate.remote(session_id, suspect)
        except RayError as exc:
            raise SessionUnavailable(f"placement directory unavailable: {exc}") from exc
        self._located[session_id] = info
        return info

    async def _host(self, info: HostInfo) -> HostLink:
        host = self._links.get(info.name)
        if host is not None and not host.link.closed and host.info.address == info.address:
            return host
        return await self._dialing.run(info.name, lambda: self._dial(info))

    async def _dial(self, info: HostInfo) -> HostLink:
        link, reader = await dial(info.address, f"gateway->{info.name}", self._link)
        host = HostLink(info, link, reader)
        self._links[info.name] = host
        link.on_close(lambda _: self._lost(info.name, host))
        return host

    def _lost(self, name: str, host: HostLink) -> None:
        if self._links.get(name) is host:
            del self._links[name]
        for session_id in [s for s, i in self._located.items() if i.name == name]:
            del self._located[session_id]

    def forget(self, session_id: str) -> None:
        self._located.pop(session_id, None)

    async def _on_host(
        self,
        session_id: str,
        send: Callable[[HostLink], Awaitable[T]],
        *,
        retry_unknown: bool,
        failing: str,
    ) -> T:
        """``send`` to the session's host: the one locate-and-retry policy of this client.

        The host is located (and its link dialed) afresh when it moved, is exiting or its
        link broke before the call was sent. A call whose link broke after it was sent has
        an unknown outcome: reads are sent again, mutations answer ``SessionUnavailable``
        (``retry_unknown=False``). Any other failure is the host's answer, raised as itself.
        """
        suspect: str | None = None
        last = "no attempt"
        for attempt in range(_MAX_ATTEMPTS):
            if attempt:
                await asyncio.sleep(min(0.01 * 2 ** (attempt - 1), 0.2))
            info = await self._locate(session_id, suspect)
            suspect = None
            try:
                host = await self._host(info)
            except LinkClosed as exc:  # nothing was sent
                last, suspect = str(exc), info.name
                continue
            try:
                return await send(host)
            except RemoteFailure as failure:
                if failure.kind not in _RELOCATE:
                    _raise_remote(session_id, failure)
                last = failure.message
                self.forget(session_id)
            except LinkClosed as exc:
                if not retry_unknown:
                    raise SessionUnavailable("the session's host failed during the call; retry") from exc
                last, suspect = str(exc), info.name
        raise SessionUnavailable(f"{failing}: {last}")

    async def call(self, op: Op[R]) -> R:
        """The op's answer from the session's host (``_on_host``): a read is sent again when
        its link broke, a mutation (``retry = False``) answers ``SessionUnavailable``."""
        tag, fields = encode(op)
        value = await self._on_host(
            op.session_id,
            lambda host: host.link.request(tag, fields),
            retry_unknown=type(op).retry,
            failing="session host unavailable",
        )
        return answer_from_wire(type(op), value)

    # -- sessions ---------------------------------------------------------------------

    async def list_sessions(self, limit: int, offset: int) -> list[SessionMeta]:
        try:
            records = await self.store.list_sessions(limit, offset)
        except StoreError as exc:
            raise SessionUnavailable(str(exc)) from exc
        return [SessionMeta.of(record) for record in records]

    async def get_session(self, session_id: str) -> SessionMeta:
        try:
            record = await self.store.get_session(session_id)
        except StoreError as exc:
            raise SessionUnavailable(str(exc)) from exc
        if record is None:
            raise SessionNotFound(session_id)
        return SessionMeta.of(record)

    async def delete_session(self, session_id: str) -> None:
        await self.get_session(session_id)  # an unknown id is a 404 without placing it
        await self.call(DeleteSession(session_id))
        self.forget(session_id)

    async def open_stream(self, session_id: str) -> RealtimeStream:
        queue = StreamQueue(session_id, self._stream_queue_limit)
        host, stream_id, owner = await self._open_stream(Subscribe(session_id), queue)
        return LinkStream(host, stream_id, queue, owner)

    async def _open_stream(self, op: Op[Any], queue: StreamQueue | StageQueue) -> tuple[HostLink, int, Any]:
        """Open a stream of the session under an id of its own on its host's link.

        Returns the link, the stream's id and the host's answer. The queue is registered
        before the request (events may follow the answer at once) and taken out again if
        the stream did not open; a stream is never keyed by its session, so opening one
        leaves every other stream of the session alone.
        """

        session_id = op.session_id

        async def send(host: HostLink) -> tuple[HostLink, int, Any]:
            stream_id = host.open_stream(queue)
            tag, fields = encode(msgspec.structs.replace(op, stream=stream_id))
            try:
                answer = await host.link.request(tag, fields)
            except (RemoteFailure, LinkClosed):
                host.not_opened(stream_id)
                raise
            except BaseException:
                # Cancelled (a caller's timeout): the host may open it yet; it is closed there too.
                host.close_stream(stream_id, session_id)
                raise
            return host, stream_id, answer

        # Nothing is opened when the link broke: the stream's request is sent again.
        return await self._on_host(
            session_id, send, retry_unknown=True, failing="cannot open a stream of the session"
        )

    # -- programs and designs ---------------------------------------------------------

    async def _plm(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except StoreError as exc:
            raise SessionUnavailable(str(exc)) from exc

    async def create_program(self, user: str, body: CreateProgramBody) -> plm_answers.Program:
        return await self._plm(plm.create_program(self.store.engine, user, body))

    async def list_programs(self, user: str) -> list[plm_answers.Program]:
        return await self._plm(plm.list_programs(self.store.engine, user))

    async def get_program(self, user: str, program_id: str) -> plm_answers.Program:
        return await self._plm(plm.get_program(self.store.engine, user, program_id))

    async def add_program_member(
        self, user: str, program_id: str, body: AddMemberBody
    ) -> plm_answers.ProgramMember:
        return await self._plm(plm.add_member(self.store.engine, user, program_id, body))

    async def create_design(self, user: str, program_id: str, body: CreateDesignBody) -> plm_answers.Design:
        return await self._plm(plm.create_design(self.store.engine, user, program_id, body))

    async def list_designs(self, user: str, program_id: str) -> list[plm_answers.Design]:
        return await self._plm(plm.list_designs(self.store.engine, user, program_id))

    async def get_design(self, user: str, design_id: str) -> plm_answers.Design:
        return await self._plm(plm.get_design(self.store.engine, user, design_id))

    # -- design sessions ----------------------------------------------------------------

    async def list_design_sessions(self, user: str, limit: int, offset: int) -> list[DesignSessionSummary]:
        records = await self._plm(self.store.engine.list_sessions(user, limit, offset))
        return [summary_json(record) for record in records]

    async def design_events(self, user: str, session_id: str, after: int | None) -> StageEventStream:
        queue = StageQueue(session_id, self._stream_queue_limit)
        host, stream_id, (replay, run) = await self._open_stream(ListenDesign(session_id, user, after), queue)
        queue.live_run = run
        queue.replay = [StageEventItem(*item) for item in replay]
        return LinkStageStream(host, stream_id, queue)

    async def design_bom(self, user: str, design_id: str) -> list[plm_answers.BomNode]:
        return await self._plm(plm.design_bom(self.store.engine, user, design_id))

    async def get_item(self, user: str, item_id: str) -> plm_answers.ItemWithRequirements:
        return await self._plm(plm.get_item(self.store.engine, user, item_id))

    async def search_items(self, user: str, query: str, limit: int) -> list[plm_answers.Item]:
        return await self._plm(plm.search_items(self.store.engine, user, query, limit))

    async def get_eco(self, user: str, eco_id: str) -> plm_answers.Eco:
        return await self._plm(plm.get_eco(self.store.engine, user, eco_id))

    # -- workspace ----------------------------------------------------------------------

    @property
    def workspace(self) -> WorkspaceFront:
        if self._front is None:
            raise SessionUnavailable("session client not started")
        return self._front

    async def run_events(self, user: str, session_id: str, run_id: str) -> StageEventStream:
        queue = StageQueue(session_id, self._stream_queue_limit)
        host, stream_id, replay = await self._open_stream(ListenRun(session_id, user, run_id), queue)
        queue.live_run = run_id
        queue.replay = [StageEventItem(*item) for item in replay]
        return LinkStageStream(host, stream_id, queue)

    async def stats(self, timeout: float) -> LayerStats:  # noqa: ASYNC109 (a bound per part: late parts are reported missing)
        queued = self._store.queued if self._store is not None else 0
        return await cluster_stats(self._store_actor, self._placement, self._links.values(), queued, timeout)
