"""HostCalls: the session client's operations on session hosts, each sent as its typed op.

Both session clients inherit it and implement only ``call`` — over the host's link with
the one locate-and-retry policy (``ClusterSessionClient``) or in process through the same
op registry (``LocalSessionClient``) — so an operation is built in one place for both.
The gateway still calls these named methods; they are one line each over ``call``.
"""

from __future__ import annotations

from typing import Any

from storage.bridge.records import SessionRecord
from storage.clock import utc_now_iso

from ..bridge import ops as bridge
from ..bridge.theme import ThemeParams
from ..core.ids import new_session_id
from ..core.ops import Op, Ping
from ..engine import ops as engine
from ..errors import NotFound
from ..workspace import ops as work
from ..workspace.bodies import NewSessionBody, RunBody, SessionStatusBody, SessionTitleBody
from .base import DesignAction

__all__ = ["HostCalls"]


class HostCalls:
    async def call(self, op: Op) -> Any:
        """The answer of the host that holds ``op.session_id`` (placing the session there)."""
        raise NotImplementedError

    def forget(self, session_id: str) -> None:
        """Drop what is cached of the session's place (nothing, by default)."""

    # -- Bridge -------------------------------------------------------------------------

    async def create_session(
        self, name: str, description: str, spec: dict[str, Any], theme: ThemeParams
    ) -> dict[str, Any]:
        now = utc_now_iso()
        record = SessionRecord(new_session_id(), name, description, 0, now, now)
        return dict(await self.call(bridge.CreateSession(record.id, record, spec, theme)))

    async def state(self, session_id: str) -> dict[str, Any]:
        return dict(await self.call(bridge.GetState(session_id)))

    async def apply_ops(
        self,
        session_id: str,
        ops: list[object],
        *,
        agent_id: str | None = None,
        expected_revision: int | None = None,
        version_before: str | None = None,
    ) -> dict[str, Any]:
        op = bridge.ApplyOps(session_id, ops, agent_id, expected_revision, version_before)
        return dict(await self.call(op))

    async def list_versions(self, session_id: str) -> list[dict[str, Any]]:
        return list(await self.call(bridge.ListVersions(session_id)))

    async def create_version(self, session_id: str, label: str, agent_id: str | None) -> dict[str, Any]:
        return dict(await self.call(bridge.CreateVersion(session_id, label, agent_id)))

    async def version_state(self, session_id: str, version_id: str) -> dict[str, Any]:
        return dict(await self.call(bridge.VersionState(session_id, version_id)))

    async def diff_versions(self, session_id: str, a: str, b: str) -> dict[str, Any]:
        return dict(await self.call(bridge.DiffVersions(session_id, a, b)))

    async def restore_version(self, session_id: str, version_id: str, agent_id: str | None) -> dict[str, Any]:
        return dict(await self.call(bridge.RestoreVersion(session_id, version_id, agent_id)))

    async def undo_change(self, session_id: str, change_id: str, agent_id: str | None) -> dict[str, Any]:
        return dict(await self.call(bridge.UndoChange(session_id, change_id, agent_id)))

    async def set_presence(
        self,
        session_id: str,
        agent_id: str,
        name: str | None,
        cursor: dict[str, str] | None,
        status: str | None,
    ) -> dict[str, Any]:
        return dict(await self.call(bridge.SetPresence(session_id, agent_id, name, cursor, status)))

    async def get_presence(self, session_id: str) -> dict[str, Any]:
        return dict(await self.call(bridge.GetPresence(session_id)))

    # -- design sessions ----------------------------------------------------------------

    async def create_design_session(self, user: str, body: object) -> dict[str, Any]:
        return dict(await self.call(engine.CreateDesign(new_session_id(), user, body)))

    async def get_design_session(self, user: str, session_id: str) -> dict[str, Any]:
        return dict(await self.call(engine.GetDesign(session_id, user)))

    async def patch_design_session(self, user: str, session_id: str, body: object) -> dict[str, Any]:
        return dict(await self.call(engine.PatchDesign(session_id, user, body)))

    async def design_action(self, user: str, session_id: str, body: object) -> DesignAction:
        return DesignAction.from_result(dict(await self.call(engine.ActDesign(session_id, user, body))))

    async def preview_materialization(self, user: str, session_id: str) -> dict[str, Any]:
        return dict(await self.call(engine.PreviewMaterialization(session_id, user)))

    async def materialize(self, user: str, session_id: str) -> dict[str, Any]:
        return dict(await self.call(engine.Materialize(session_id, user)))

    async def design_file(self, user: str, session_id: str, name: str) -> tuple[bytes, str]:
        found = await self.call(engine.DesignFile(session_id, user, name))
        if found is None:
            raise NotFound("file", "name")
        return bytes(found[0]), str(found[1])

    # -- workspace sessions -------------------------------------------------------------

    async def create_workspace_session(
        self, user: str, project_id: str, body: NewSessionBody
    ) -> dict[str, Any]:
        return dict(await self.call(work.CreateWork(new_session_id(), user, project_id, body)))

    async def get_workspace_session(self, user: str, session_id: str) -> dict[str, Any]:
        return dict(await self.call(work.GetWork(session_id, user)))

    async def set_workspace_session_status(
        self, user: str, session_id: str, body: SessionStatusBody
    ) -> dict[str, Any]:
        return dict(await self.call(work.SetWorkStatus(session_id, user, body)))

    async def set_workspace_session_title(
        self, user: str, session_id: str, body: SessionTitleBody
    ) -> dict[str, Any]:
        return dict(await self.call(work.SetWorkTitle(session_id, user, body)))

    async def delete_workspace_session(self, user: str, session_id: str) -> None:
        await self.call(work.DeleteWork(session_id, user))
        self.forget(session_id)

    async def workspace_history(self, user: str, session_id: str, limit: int | None) -> list[dict[str, Any]]:
        return list(await self.call(work.WorkHistory(session_id, user, limit)))

    async def start_run(self, user: str, session_id: str, body: RunBody) -> str:
        return str(await self.call(work.StartRun(session_id, user, body)))

    async def wait_run(self, user: str, session_id: str, run_id: str) -> dict[str, Any]:
        return dict(await self.call(work.WaitRun(session_id, user, run_id)))

    async def get_run(self, user: str, session_id: str, run_id: str) -> dict[str, Any]:
        return dict(await self.call(work.GetRun(session_id, user, run_id)))

    async def cancel_run(self, user: str, session_id: str, run_id: str) -> dict[str, Any]:
        return dict(await self.call(work.CancelRun(session_id, user, run_id)))

    # -- operators ----------------------------------------------------------------------

    async def host_pid(self, session_id: str) -> int:
        """Activate the session where it is placed; that host's process id."""
        return int(await self.call(Ping(session_id)))
