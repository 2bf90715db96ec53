"""The Bridge's operations inside a host: create, state, spec ops, versions, presence, delete.

The host finds the live session (``HostCore``) and hands it here; this module owns what a
Bridge session means, as ``actors/engine/service.py`` and ``actors/workspace/service.py``
do for theirs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from storage.bridge.records import SessionRecord
from storage.clock import utc_now_iso

from ..core.awareness import agent_client_id
from ..core.errors import ValidationError
from ..errors import SessionUnavailable
from ..store.client import StoreClient
from .agents import BridgeAgents
from .live import BridgeLive
from .session import Session
from .settings import BridgeHostSettings
from .theme import ThemeParams
from .webhooks import WebhookDeliverer

__all__ = ["BridgeService"]

log = logging.getLogger(__name__)


def _writable(live: BridgeLive) -> BridgeLive:
    if live.backlogged:
        raise SessionUnavailable("the store is behind on this session's changes; retry")
    return live


class BridgeService:
    """One per host: the Bridge's room (``load``) and its operations on a live session."""

    def __init__(
        self, settings: BridgeHostSettings, store: StoreClient, webhooks: WebhookDeliverer | None
    ) -> None:
        self._settings = settings
        self._store = store
        self.agents = BridgeAgents(settings, store, webhooks)

    async def stop(self) -> None:
        await self.agents.stop()

    def _live(self, core: Session) -> BridgeLive:
        return BridgeLive(core, self._store, self._settings, self.agents)

    async def load(self, session_id: str) -> BridgeLive | None:
        loaded = await self._store.load(session_id)
        if loaded is None:
            return None
        log.info(
            "session activated session=%s log_rows=%d snapshot=%s",
            session_id,
            len(loaded.updates),
            loaded.snapshot is not None,
        )
        return self._live(Session.restore(loaded))

    async def create(self, record: SessionRecord, spec: dict[str, Any], theme: ThemeParams) -> BridgeLive:
        """A new session from a validated spec and theme (the gateway validated them)."""
        core, initial = Session.create(record, spec, theme)
        await self._store.create_session(record, initial)
        self.agents.created(dict(record.to_json()))
        return self._live(core)

    async def delete(self, session_id: str, live: BridgeLive | None) -> bool:
        if live is not None:
            live.mark_deleted()
            live.close()
        deleted = await self._store.delete_session(session_id)
        if deleted:
            self.agents.deleted(session_id, live)
        return deleted

    @staticmethod
    def state(live: BridgeLive) -> dict[str, Any]:
        return live.core.state()

    async def apply_ops(
        self,
        live: BridgeLive,
        ops: list[object],
        agent_id: str | None = None,
        expected_revision: int | None = None,
        version_before: str | None = None,
    ) -> dict[str, Any]:
        """Apply an agent's ops as one change, named by ``changeId`` (undoable).

        ``expected_revision``: refused (Conflict, nothing applied) when the session moved on.
        ``version_before``: an automatic version of the state before, with this label.
        """
        _writable(live)
        if len(ops) > self._settings.max_ops_per_request:
            raise ValidationError("ops", f"at most {self._settings.max_ops_per_request} ops per request")
        agents = self.agents
        # From the revision check to the change, nothing awaits: no other change can slip in.
        agents.check_revision(live, expected_revision)
        author = f"agent:{agent_id}" if agent_id else "api"
        before, version = agents.capture_before_ops(live, version_before, author)
        result, change = live.core.apply_ops(
            ops, now_iso=utc_now_iso(), max_css_bytes=self._settings.max_theme_css_bytes, author=author
        )
        change_id: str | None = None
        if change is not None:
            change_id = agents.ops_applied(live, change, before)
            # Connected editors see the agent's change at once; the caller after commit.
            if change.update is not None:
                live.broadcast_update(change.update)
            saving = [agents.save(live, *version)] if version is not None else []
            await asyncio.gather(live.commit(change), *saving)
            revision = change.append.revision
        else:
            if version is not None:
                await agents.save(live, *version)
            revision = live.core.revision
        answer = {
            "revision": revision,
            "applied": result.applied,
            "errors": result.errors,
            "changeId": change_id,
        }
        if version is not None:
            answer["versionId"] = version[0].id
        return answer

    # -- versions, restore, undo ----------------------------------------------------------

    async def list_versions(self, live: BridgeLive) -> list[dict[str, Any]]:
        return await self.agents.list_versions(live)

    async def create_version(self, live: BridgeLive, label: str, agent_id: str | None) -> dict[str, Any]:
        return await self.agents.create_version(live, label, agent_id)

    async def version_state(self, live: BridgeLive, version_id: str) -> dict[str, Any]:
        return await self.agents.version_state(live, version_id)

    async def diff_versions(self, live: BridgeLive, a: str, b: str) -> dict[str, Any]:
        return await self.agents.diff(live, a, b)

    async def restore_version(
        self, live: BridgeLive, version_id: str, agent_id: str | None
    ) -> dict[str, Any]:
        return await self.agents.restore(_writable(live), version_id, agent_id)

    async def undo_change(self, live: BridgeLive, change_id: str, agent_id: str | None) -> dict[str, Any]:
        return await self.agents.undo(_writable(live), change_id, agent_id)

    # -- presence -------------------------------------------------------------------------

    def set_presence(
        self,
        live: BridgeLive,
        agent_id: str,
        name: str | None,
        cursor: dict[str, str] | None,
        status: str | None,
    ) -> dict[str, Any]:
        now = time.monotonic()
        entry = live.presence.upsert(agent_id, name, cursor, status, now_iso=utc_now_iso(), now=now)
        # Browsers see REST agents through awareness, under a stable synthetic client id.
        live.broadcast_awareness(
            live.awareness.set_state(agent_client_id(agent_id), entry.to_json(), now=now)
        )
        presence = live.presence_json(now)
        self.agents.presence(live, presence)
        return presence

    @staticmethod
    def get_presence(live: BridgeLive) -> dict[str, Any]:
        return live.presence_json(time.monotonic())
