"""HostCalls: the session client's operations on session hosts, each sent as its typed op.

Both session clients inherit it and implement only ``call`` — over the host's link with
the one locate-and-retry policy (``ClusterSessionClient``) or in process through the same
op registry (``LocalSessionClient``) — so an operation is built in one place for both.
The Bridge's routes call ``call`` with its ops directly; the design engine's and the
workspace's still call these named methods, one line each over ``call``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ..core.ids import new_session_id
from ..core.ops import Op, Ping
from ..engine import ops as engine
from ..engine.bodies import CreateDesignSessionBody, PatchDesignSessionBody, StageActionBody
from ..errors import NotFound
from ..workspace import ops as work
from .base import DesignAction

__all__ = ["HostCalls"]

R = TypeVar("R")


class HostCalls:
    async def call(self, op: Op[R]) -> R:
        """The answer of the host that holds ``op.session_id`` (placing the session there)."""
        raise NotImplementedError

    def forget(self, session_id: str) -> None:
        """Drop what is cached of the session's place (nothing, by default)."""

    # -- design sessions ----------------------------------------------------------------

    async def create_design_session(self, user: str, body: CreateDesignSessionBody) -> dict[str, Any]:
        return dict(await self.call(engine.CreateDesign(new_session_id(), user, body)))

    async def get_design_session(self, user: str, session_id: str) -> dict[str, Any]:
        return dict(await self.call(engine.GetDesign(session_id, user)))

    async def patch_design_session(
        self, user: str, session_id: str, body: PatchDesignSessionBody
    ) -> dict[str, Any]:
        return dict(await self.call(engine.PatchDesign(session_id, user, body)))

    async def design_action(self, user: str, session_id: str, body: StageActionBody) -> DesignAction:
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

    async def create_workspace_session(self, user: str, project_id: str, body: object) -> dict[str, Any]:
        return dict(await self.call(work.CreateWork(new_session_id(), user, project_id, body)))

    async def get_workspace_session(self, user: str, session_id: str) -> dict[str, Any]:
        return dict(await self.call(work.GetWork(session_id, user)))

    async def set_workspace_session_status(self, user: str, session_id: str, body: object) -> dict[str, Any]:
        return dict(await self.call(work.SetWorkStatus(session_id, user, body)))

    async def set_workspace_session_title(self, user: str, session_id: str, body: object) -> dict[str, Any]:
        return dict(await self.call(work.SetWorkTitle(session_id, user, body)))

    async def delete_workspace_session(self, user: str, session_id: str) -> None:
        await self.call(work.DeleteWork(session_id, user))
        self.forget(session_id)

    async def workspace_history(self, user: str, session_id: str, limit: str | None) -> list[dict[str, Any]]:
        return list(await self.call(work.WorkHistory(session_id, user, limit)))

    async def start_run(self, user: str, session_id: str, body: object) -> str:
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
