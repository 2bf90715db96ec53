"""Taking a connection from an asyncpg pool so that a lost connection fails only unfinished work.

asyncpg's ``pool.acquire()`` context (and the pool's ``fetch``/``execute`` shortcuts built on
it) resets the connection on release and raises if the reset fails. When Postgres ends a
backend (``pg_terminate_backend``, a restart, an idle timeout) just after a transaction
committed, that reset finds the server's FATAL message half read and raises ``cannot switch
to state 15; another operation (2) is in progress``: the committed write is reported as
failed, and a caller that retries a non-idempotent write gets a conflict for its own row.

Here the work's outcome is the operation's outcome. The release still terminates a connection
it cannot reset (asyncpg does this before raising), so the pool never hands it out again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

__all__ = ["acquired"]

log = logging.getLogger(__name__)

# What releasing a connection the server has ended raises (asyncpg has terminated it then).
_RELEASE_ERRORS = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


@asynccontextmanager
async def acquired(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection of ``pool`` for one operation; only the operation's own errors are raised."""
    conn: asyncpg.Connection = await pool.acquire()
    try:
        yield conn
    except BaseException:
        await _release(pool, conn, completed=False)
        raise
    await _release(pool, conn, completed=True)


async def _release(pool: asyncpg.Pool, conn: asyncpg.Connection, *, completed: bool) -> None:
    try:
        await pool.release(conn)
    except _RELEASE_ERRORS as exc:
        # The connection is terminated and will be replaced; what ran on it stands as it is.
        log.info(
            "postgres connection lost on release (work %s), the pool replaces it: %s",
            "completed" if completed else "failed",
            exc,
        )
