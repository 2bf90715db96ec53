"""HostCalls: the session client's operations on session hosts, each sent as its typed op.

Both session clients inherit it and implement only ``call`` — over the host's link with
the one locate-and-retry policy (``ClusterSessionClient``) or in process through the same
op registry (``LocalSessionClient``) — so an operation is built in one place for both.
The Bridge's and the design engine's routes call ``call`` with their ops directly; the
workspace's still call these named methods, one line each over ``call``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ..core.ids import new_session_id
from ..core.ops import Op, Ping
from ..workspace import ops as work
from ..workspace.bodies import NewSessionBody, RunBody, SessionStatusBody, SessionTitleBody

__all__ = ["HostCalls"]

R = TypeVar("R")


class HostCalls:
    async def call(self, op: Op[R]) -> R:
        """The answer of the host that holds ``op.session_id`` (placing the session there)."""
        raise NotImplementedError

    def forget(self, session_id: str) -> None:
        """Drop what is cached of the session's place (nothing, by default)."""

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
