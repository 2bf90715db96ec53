"""Bridge sessions for agents, inside the host: versions, restore, undo, webhook events.

``HostCore`` delegates here. Every change of a live Bridge session (REST ops, peers'
updates, restores, undos) passes through ``changed``: it feeds the undo journal, the
automatic-version clock and the debounced ``session.changed`` webhook. Named changes are
committed through the same durable path as REST ops: applied, broadcast, acked after commit.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Coroutine
from typing import Any

from pycrdt import Doc

from storage.bridge.records import VersionRecord
from storage.clock import utc_now_iso

from ..errors import Conflict, NotFound
from ..store.client import StoreClient
from .diff import diff_states
from .layout import read_state
from .live import BridgeLive
from .restore import make_equal, read_parts
from .session import Change
from .settings import BridgeHostSettings
from .undo import UndoEntry
from .versions import VersionKind, new_version_id, select_pruned
from .webhooks import WebhookDeliverer, make_event

__all__ = ["CURRENT", "BridgeAgents"]

log = logging.getLogger(__name__)

# The live state, where a version id is expected (diff against the document as it is now).
CURRENT = "current"


def _author(agent_id: str | None) -> str:
    return f"agent:{agent_id}" if agent_id else "api"


def _parts_before(before: bytes, touched: frozenset[str]) -> dict[str, Any]:
    """The values ``touched`` had in the document ``before`` (its full update).

    Copying the update before a change costs far less than reading the whole state; only
    the touched parts are read back, from a scratch document, once the change is known.
    """
    doc: Doc[Any] = Doc()
    doc.apply_update(before)
    return read_parts(doc, touched)


class BridgeAgents:
    def __init__(
        self, settings: BridgeHostSettings, store: StoreClient, webhooks: WebhookDeliverer | None
    ) -> None:
        self._settings = settings
        self._versions = settings.versions
        self._store = store
        self._webhooks = webhooks
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def webhooks_enabled(self) -> bool:
        return self._webhooks is not None and self._webhooks.enabled

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Cancels automatic-version saves still waiting (they are best effort)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- every change -------------------------------------------------------------------

    def changed(
        self, live: BridgeLive, change: Change, change_id: str | None, before: dict[str, Any] | None
    ) -> None:
        """Book a change applied to ``live`` (called in the step that applied it)."""
        revision = change.append.revision
        author = change.author or "api"
        live.journal.observe(change_id, author, revision, change.touched)
        if change_id is not None and before is not None:
            live.journal.add(UndoEntry(change_id, revision, author, change.touched, before))
        if live.core.tracking and not live.journal.has_open():
            live.core.track_touches(False)
        if change.update is None:
            return
        live.last_author = author
        live.version_clock.changed(1, time.monotonic())
        self._maybe_auto_version(live)
        if self.webhooks_enabled:
            live.hook_authors.add(author)
            live.hook_changes += 1
            if live.hook_timer is None:
                loop = asyncio.get_running_loop()
                live.hook_timer = loop.call_later(self._settings.webhooks.debounce, self._flush_changed, live)

    def changes(self, live: BridgeLive, changes: list[Change]) -> None:
        for change in changes:
            self.changed(live, change, None, None)

    def tick(self, live: BridgeLive) -> None:
        self._maybe_auto_version(live)

    def _maybe_auto_version(self, live: BridgeLive) -> None:
        if live.deleted or not live.version_clock.due(time.monotonic()):
            return
        live.version_clock.taken()
        version, data = self._capture(live, VersionKind.AUTO, "", live.last_author)
        self._spawn(self._save_logged(live, version, data))

    # -- webhooks -----------------------------------------------------------------------

    def _emit(self, kind: str, session_id: str, data: dict[str, Any]) -> None:
        if self._webhooks is not None:
            self._webhooks.emit(make_event(kind, session_id, data))

    def _flush_changed(self, live: BridgeLive) -> None:
        live.hook_timer = None
        authors, live.hook_authors = live.hook_authors, set()
        changes, live.hook_changes = live.hook_changes, 0
        if live.deleted or not authors:
            return
        self._emit(
            "session.changed",
            live.id,
            {"revision": live.core.revision, "authors": sorted(authors), "changes": changes},
        )

    def created(self, record: dict[str, Any]) -> None:
        self._emit("session.created", str(record["id"]), {"session": record})

    def deleted(self, session_id: str, live: BridgeLive | None) -> None:
        if live is not None and live.hook_timer is not None:
            live.hook_timer.cancel()
            live.hook_timer = None
        self._emit("session.deleted", session_id, {})

    def presence(self, live: BridgeLive, current: dict[str, Any]) -> None:
        """Announce who joined or left since the last look (REST agents and editors)."""
        if not self.webhooks_enabled:
            return
        keys = set(current)
        for key in sorted(keys - live.announced):
            self._emit("presence.joined", live.id, {"key": key, "presence": current[key]})
        for key in sorted(live.announced - keys):
            self._emit("presence.left", live.id, {"key": key})
        live.announced = keys

    # -- REST ops -------------------------------------------------------------------------

    def check_revision(self, live: BridgeLive, expected: int | None) -> None:
        if expected is not None and expected != live.core.revision:
            raise Conflict(
                "the session has moved on since the expected revision; nothing was applied",
                {"revision": live.core.revision, "expectedRevision": expected},
            )

    def capture_before_ops(
        self, live: BridgeLive, label: str | None, author: str
    ) -> tuple[bytes, tuple[VersionRecord, bytes] | None]:
        """What an ops request keeps of the state before it: the document (for undo values),
        and an automatic version when the request asked for one."""
        if label is not None:
            version = self._capture(
                live, VersionKind.AUTO, label or f"before ops by {author}", live.last_author
            )
            return version[1], version
        return live.core.full_update(), None

    def ops_applied(self, live: BridgeLive, change: Change, before: bytes) -> str:
        change_id = uuid.uuid4().hex
        self.changed(live, change, change_id, _parts_before(before, change.touched))
        return change_id

    # -- versions -------------------------------------------------------------------------

    def _capture(
        self, live: BridgeLive, kind: VersionKind, label: str, author: str
    ) -> tuple[VersionRecord, bytes]:
        core = live.core
        version = VersionRecord(
            session_id=core.id,
            id=new_version_id(),
            revision=core.revision,
            seq=core.last_seq,
            created_at=utc_now_iso(),
            author=author,
            label=label,
            kind=kind.value,
        )
        return version, core.full_update()

    async def save(self, live: BridgeLive, version: VersionRecord, data: bytes) -> None:
        """Store a captured version once what it shows is durable; then apply retention."""
        await live.wait_committed(version.seq)
        if not await self._store.save_version(version, data):
            raise NotFound("session", None)
        versions = await self._store.list_versions(live.id)
        doomed = select_pruned(versions, self._versions.keep_auto, self._versions.keep_manual)
        if doomed:
            await self._store.delete_versions(live.id, doomed)

    async def _save_logged(self, live: BridgeLive, version: VersionRecord, data: bytes) -> None:
        try:
            await self.save(live, version, data)
        except Exception as exc:  # an automatic version is best effort: the log has everything
            log.warning("automatic version failed session=%s: %s", live.id, exc)

    async def create_version(self, live: BridgeLive, label: str, agent_id: str | None) -> dict[str, Any]:
        version, data = self._capture(live, VersionKind.MANUAL, label, _author(agent_id))
        await self.save(live, version, data)
        return version.to_json()

    async def list_versions(self, live: BridgeLive) -> list[dict[str, Any]]:
        return [v.to_json() for v in await self._store.list_versions(live.id)]

    async def _version(self, live: BridgeLive, version_id: str) -> tuple[VersionRecord, dict[str, Any]]:
        found = await self._store.load_version(live.id, version_id)
        if found is None:
            raise NotFound("version", "versionId")
        version, data = found
        doc: Doc[Any] = Doc()
        doc.apply_update(data)
        state = read_state(doc)
        # As of the version: its own meta and revision, over the session's record.
        state["meta"] = {**live.core.record.to_json(), **state.get("meta", {}), "revision": version.revision}
        return version, state

    async def version_state(self, live: BridgeLive, version_id: str) -> dict[str, Any]:
        version, state = await self._version(live, version_id)
        return {**state, "version": version.to_json()}

    async def _state_of(self, live: BridgeLive, ref: str) -> dict[str, Any]:
        if ref == CURRENT:
            return live.core.state()
        return (await self._version(live, ref))[1]

    async def diff(self, live: BridgeLive, a: str, b: str) -> dict[str, Any]:
        state_a = await self._state_of(live, a)
        state_b = await self._state_of(live, b)
        return {"from": a, "to": b, "diff": diff_states(state_a, state_b)}

    # -- restore and undo ---------------------------------------------------------------

    async def _commit_named(
        self, live: BridgeLive, change: Change | None, before: bytes, change_id: str
    ) -> dict[str, Any]:
        if change is None:
            return {"revision": live.core.revision, "changeId": None}
        self.changed(live, change, change_id, _parts_before(before, change.touched))
        if change.update is not None:
            live.broadcast_update(change.update)
        await live.commit(change)
        return {"revision": change.append.revision, "changeId": change_id}

    async def restore(self, live: BridgeLive, version_id: str, agent_id: str | None) -> dict[str, Any]:
        _, target = await self._version(live, version_id)
        # What the restore replaces is kept as an automatic version: a restore is restorable.
        kept, before = self._capture(
            live, VersionKind.AUTO, f"before restoring {version_id}", live.last_author
        )
        change = live.core.edit(
            lambda doc: make_equal(doc, target),
            now_iso=utc_now_iso(),
            author=_author(agent_id),
            origin="restore",
        )
        if change is None:
            return {
                "revision": live.core.revision,
                "changeId": None,
                "restoredFrom": version_id,
                "versionId": None,
            }
        result, _ = await asyncio.gather(
            self._commit_named(live, change, before, uuid.uuid4().hex), self.save(live, kept, before)
        )
        return {**result, "restoredFrom": version_id, "versionId": kept.id}

    async def undo(self, live: BridgeLive, change_id: str, agent_id: str | None) -> dict[str, Any]:
        entry = live.journal.get(change_id)
        if entry is None:
            raise NotFound("change", "changeId")
        if entry.undone_by is not None:
            raise Conflict("this change was already undone", {"undoneBy": entry.undone_by, "conflicts": []})
        if entry.conflicts:
            raise Conflict(
                "later changes touched the same elements or theme keys; nothing was undone",
                {
                    "revision": live.core.revision,
                    "conflicts": entry.conflicts_json(),
                    "more": entry.more_conflicts,
                },
            )
        before = live.core.full_update()
        change = live.core.edit(
            lambda doc: make_equal(doc, entry.before, entry.touched),
            now_iso=utc_now_iso(),
            author=_author(agent_id),
            origin="undo",
        )
        undo_id = uuid.uuid4().hex
        if change is not None:
            entry.undone_by = undo_id  # before the commit is awaited: a second undo is refused
        result = await self._commit_named(live, change, before, undo_id)
        return {**result, "undid": change_id}
