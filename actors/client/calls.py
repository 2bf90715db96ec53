"""HostCalls: the session client's operations on session hosts, each sent as its typed op.

Both session clients inherit it and implement only ``call`` — over the host's link with
the one locate-and-retry policy (``ClusterSessionClient``) or in process through the same
op registry (``LocalSessionClient``) — so an operation is built in one place for both.
The gateway's routes call ``call`` with their API's ops directly; what is left here is
for operators (``host_pid``).
"""

from __future__ import annotations

from typing import TypeVar

from ..core.ops import Op, Ping

__all__ = ["HostCalls"]

R = TypeVar("R")


class HostCalls:
    async def call(self, op: Op[R]) -> R:
        """The answer of the host that holds ``op.session_id`` (placing the session there)."""
        raise NotImplementedError

    def forget(self, session_id: str) -> None:
        """Drop what is cached of the session's place (nothing, by default)."""

    # -- operators ----------------------------------------------------------------------

    async def host_pid(self, session_id: str) -> int:
        """Activate the session where it is placed; that host's process id."""
        return int(await self.call(Ping(session_id)))
