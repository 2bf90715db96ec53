"""A host's links: gateways' requests and frames in, each gateway's events out.

Each gateway link is one ``Peer`` of the host's sessions. Requests run as tasks (kept,
so shutdown can await them); frames are applied at once, in the order they arrive on the
link, which is the order the gateway sent them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from enum import IntEnum
from typing import Any

import orjson

from storage import StoreError

from ..core.errors import ValidationError
from ..core.events import Delivery, StreamEnd
from ..core.theme import ThemeParams
from ..engine.live import WireEvent
from ..errors import AccessDenied, Conflict, NotFound, QuotaExhausted, SessionError, Unprocessable
from ..link import Kind, Link, LinkClosed
from ..store.wire import record_from_wire
from ..workspace.validation import FileSelectionError
from .core import HostCore

__all__ = ["HostLinkHandler", "HostMethod", "HostTopic", "LinkPeer", "error_to_wire"]

log = logging.getLogger(__name__)


class HostMethod(IntEnum):
    CREATE = 1
    STATE = 2
    APPLY_OPS = 3
    SET_PRESENCE = 4
    GET_PRESENCE = 5
    DELETE = 6
    SUBSCRIBE = 7
    CREATE_DESIGN = 8
    GET_DESIGN = 9
    PATCH_DESIGN = 10
    ACT_DESIGN = 11
    LISTEN_DESIGN = 12
    PING = 13
    PREVIEW_MATERIALIZATION = 14
    MATERIALIZE = 15
    DESIGN_FILE = 16
    WORK_CREATE = 20
    WORK_GET = 21
    WORK_STATUS = 22
    WORK_TITLE = 23
    WORK_DELETE = 24
    WORK_HISTORY = 25
    WORK_START_RUN = 26
    WORK_WAIT_RUN = 27
    WORK_LISTEN_RUN = 28
    WORK_GET_RUN = 29
    WORK_CANCEL_RUN = 30
    VERSIONS_LIST = 40
    VERSION_CREATE = 41
    VERSION_STATE = 42
    VERSION_DIFF = 43
    VERSION_RESTORE = 44
    CHANGE_UNDO = 45


class HostTopic(IntEnum):
    FRAMES = 1  # gateway -> host: [session, [[conn, kind, payload, writable], ...]]
    UNSUBSCRIBE = 2  # gateway -> host: [session]
    EVENTS = 3  # host -> gateway: [session, [[scope, kind, payload, conn], ...]]
    END = 4  # host -> gateway: [session, StreamEnd]
    STAGE_EVENTS = 5  # host -> gateway: [session, [[id, run id, json, terminal], ...]]
    UNLISTEN = 6  # gateway -> host: [session]


def error_to_wire(exc: Exception) -> tuple[str, str, str | None]:
    if isinstance(exc, FileSelectionError):  # before ValidationError: it is one, answered 422
        return "FileSelectionError", exc.message, orjson.dumps(exc.to_json()).decode()
    if isinstance(exc, ValidationError):
        return "ValidationError", exc.message, exc.field
    if isinstance(exc, (AccessDenied, NotFound)):
        return type(exc).__name__, exc.what, exc.field
    if isinstance(exc, Unprocessable):
        return "Unprocessable", str(exc), exc.field
    if isinstance(exc, QuotaExhausted):
        detail = {
            "limit": exc.limit,
            "used": exc.used,
            "resetsAt": exc.resets_at,
            "retryAfter": exc.retry_after,
        }
        return "QuotaExhausted", str(exc), orjson.dumps(detail).decode()

    if isinstance(exc, Conflict):
        return "Conflict", str(exc), orjson.dumps(exc.detail).decode()
    return type(exc).__name__, str(exc), None


class LinkPeer:
    """A gateway, as seen by the sessions it subscribed to over one link."""

    def __init__(self, link: Link) -> None:
        self._link = link

    @property
    def peer_id(self) -> int:
        return self._link.id

    def deliver(self, session_id: str, events: list[Delivery]) -> None:
        try:
            self._link.notify(HostTopic.EVENTS, [session_id, events])
        except LinkClosed as exc:  # its close callback unsubscribes this peer everywhere
            log.debug("events for a closed link session=%s: %s", session_id, exc)

    def stage_events(self, session_id: str, events: list[WireEvent]) -> None:
        try:
            self._link.notify(HostTopic.STAGE_EVENTS, [session_id, events])
        except LinkClosed as exc:  # its close callback stops this listener everywhere
            log.debug("stage events for a closed link session=%s: %s", session_id, exc)

    def end(self, session_id: str, reason: StreamEnd) -> None:
        try:
            self._link.notify(HostTopic.END, [session_id, int(reason)])
        except LinkClosed as exc:  # the gateway sees the link itself close
            log.debug("end for a closed link session=%s: %s", session_id, exc)


# Workspace sessions: [session id, user, ...]; WORK_CREATE: [new id, user, project id, body].
_WORK: dict[HostMethod, Callable[[HostCore, list[Any]], Awaitable[Any]]] = {
    HostMethod.WORK_CREATE: lambda core, a: core.create_work(a[0], a[1], a[2], a[3]),
    HostMethod.WORK_GET: lambda core, a: core.get_work(a[1], a[0]),
    HostMethod.WORK_STATUS: lambda core, a: core.work_status(a[1], a[0], a[2]),
    HostMethod.WORK_TITLE: lambda core, a: core.work_title(a[1], a[0], a[2]),
    HostMethod.WORK_DELETE: lambda core, a: core.delete_work(a[1], a[0]),
    HostMethod.WORK_HISTORY: lambda core, a: core.work_history(a[1], a[0], a[2]),
    HostMethod.WORK_START_RUN: lambda core, a: core.start_work_run(a[1], a[0], a[2]),
    HostMethod.WORK_WAIT_RUN: lambda core, a: core.wait_work_run(a[1], a[0], a[2]),
    HostMethod.WORK_GET_RUN: lambda core, a: core.get_work_run(a[1], a[0], a[2]),
    HostMethod.WORK_CANCEL_RUN: lambda core, a: core.cancel_work_run(a[1], a[0], a[2]),
}


# Bridge versions and undo: [session id, ...].
_BRIDGE: dict[HostMethod, Callable[[HostCore, list[Any]], Awaitable[Any]]] = {
    HostMethod.VERSIONS_LIST: lambda core, a: core.list_versions(a[0]),
    HostMethod.VERSION_CREATE: lambda core, a: core.create_version(a[0], a[1], a[2]),
    HostMethod.VERSION_STATE: lambda core, a: core.version_state(a[0], a[1]),
    HostMethod.VERSION_DIFF: lambda core, a: core.diff_versions(a[0], a[1], a[2]),
    HostMethod.VERSION_RESTORE: lambda core, a: core.restore_version(a[0], a[1], a[2]),
    HostMethod.CHANGE_UNDO: lambda core, a: core.undo_change(a[0], a[1], a[2]),
}


class HostLinkHandler:
    def __init__(self, core: HostCore) -> None:
        self._core = core
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self, link: Link) -> None:
        peer = LinkPeer(link)
        link.handler = lambda link, message: self._handle(link, peer, message)
        link.on_close(lambda _: self._core.peer_closed(peer))

    def _handle(self, link: Link, peer: LinkPeer, message: list[Any]) -> None:
        kind = message[0]
        if kind == Kind.NOTIFY:
            _, topic, args = message
            if topic == HostTopic.FRAMES:
                self._core.frames(args[0], peer, args[1])
            elif topic == HostTopic.UNSUBSCRIBE:
                self._core.unsubscribe(args[0], peer)
            elif topic == HostTopic.UNLISTEN:
                self._core.unlisten_design(args[0], peer.peer_id)
                self._core.unlisten_work(args[0], peer.peer_id)
            else:
                log.warning("host link: unknown topic=%s", topic)
        elif kind == Kind.REQUEST:
            _, request_id, method, args = message
            task = asyncio.get_running_loop().create_task(self._answer(link, peer, request_id, method, args))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer(
        self, link: Link, peer: LinkPeer, request_id: int, method: int, args: list[Any]
    ) -> None:
        try:
            value = await self._dispatch(peer, HostMethod(method), args)
        except (SessionError, ValidationError, StoreError) as exc:
            link.fail(request_id, *error_to_wire(exc))
            return
        except Exception as exc:  # a bug must cost its request, not the link
            log.exception("host request failed method=%s", method)
            link.fail(request_id, "InternalError", str(exc))
            return
        link.reply(request_id, value)

    async def _dispatch(self, peer: LinkPeer, method: HostMethod, args: list[Any]) -> Any:
        core = self._core
        if method is HostMethod.SUBSCRIBE:
            return await core.subscribe(args[0], peer)
        if method is HostMethod.STATE:
            return await core.state(args[0])
        if method is HostMethod.PING:
            return await core.ping(args[0])
        if method is HostMethod.APPLY_OPS:  # [session, ops, agent id?, expected revision?, version label?]
            return await core.apply_ops(*args[:5])
        if method in _BRIDGE:
            return await _BRIDGE[method](core, args)
        if method is HostMethod.SET_PRESENCE:
            return await core.set_presence(*args)
        if method is HostMethod.GET_PRESENCE:
            return await core.get_presence(args[0])
        if method is HostMethod.DELETE:
            return await core.delete(args[0])
        if method is HostMethod.CREATE:
            record, spec, theme = args
            return await core.create(record_from_wire(record), spec, ThemeParams(**theme))
        # Design sessions: [session id, user, ...]; CREATE_DESIGN: [new id, user, body].
        if method is HostMethod.CREATE_DESIGN:
            return await core.create_design(args[0], args[1], args[2])
        if method is HostMethod.GET_DESIGN:
            return await core.get_design(args[1], args[0])
        if method is HostMethod.PATCH_DESIGN:
            return await core.patch_design(args[1], args[0], args[2])
        if method is HostMethod.ACT_DESIGN:
            return await core.act_design(args[1], args[0], args[2])
        if method is HostMethod.PREVIEW_MATERIALIZATION:
            return await core.preview_materialization(args[1], args[0])
        if method in _WORK:
            return await _WORK[method](core, args)
        if method is HostMethod.DESIGN_FILE:
            return await core.design_file(args[1], args[0], args[2])
        if method is HostMethod.MATERIALIZE:
            return await core.materialize(args[1], args[0])
        if method is HostMethod.WORK_LISTEN_RUN:
            return await core.listen_work_run(args[1], args[0], peer, args[2])
        if method is HostMethod.LISTEN_DESIGN:
            replay, run = await core.listen_design(args[1], args[0], peer, args[2])
            return [replay, run]
        raise ValueError(f"unknown host method {method}")

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
