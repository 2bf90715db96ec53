"""The quota ledger on Postgres: each function runs on the caller's connection (writes in
the caller's transaction).

The counter row ``workspace_quota_usage (user, period)`` is the ledger's lock. ``INSERT ...
ON CONFLICT DO UPDATE ... WHERE used < limit`` locks the row and evaluates the WHERE on its
newest committed version, so concurrent reservations queue on the row and each sees the
others' increments: at most ``limit`` pass, at any isolation level, and two first
reservations of a period cannot both insert the row (the second takes the update path).
"""

from __future__ import annotations

from typing import Any

from storage.clock import utc_now_iso

from .base import NotFound
from .records import QuotaExceeded, QuotaReservation, ReservationState
from .rows import RESERVATION_COLUMNS, released_reservation, reservation_from_row

__all__ = ["confirm", "get_reservation", "release", "release_runs", "reserve", "usage"]

# An asyncpg Connection: the writes' in a transaction, the reads' of their own.
Executor = Any

_RESERVE = """
INSERT INTO workspace_quota_usage (user_id, period_key, used) VALUES ($1, $2, 1)
ON CONFLICT (user_id, period_key) DO UPDATE SET used = workspace_quota_usage.used + 1
WHERE workspace_quota_usage.used < $3
RETURNING used
"""

# {runs} selects the run ids, with $2 as its parameter.
_RELEASE_RUNS = """
WITH released AS (
    UPDATE workspace_quota_reservations SET state = 'released', updated_at = $1
    WHERE state = 'reserved' AND run_id IN ({runs})
    RETURNING user_id, period_key
), counts AS (
    SELECT user_id, period_key, count(*) AS n FROM released GROUP BY user_id, period_key
)
UPDATE workspace_quota_usage AS u SET used = u.used - counts.n
FROM counts WHERE u.user_id = counts.user_id AND u.period_key = counts.period_key
"""

_USAGE = "SELECT used FROM workspace_quota_usage WHERE user_id = $1 AND period_key = $2"
_GET = f"SELECT {RESERVATION_COLUMNS} FROM workspace_quota_reservations WHERE run_id = $1"

_RESERVED = ReservationState.RESERVED.value
_CONFIRMED = ReservationState.CONFIRMED.value
_RELEASED = ReservationState.RELEASED.value


async def reserve(
    conn: Executor,
    user_id: str,
    period_key: str,
    limit: int,
    run_id: str,
    *,
    resets_at: str,
    created_at: str,
) -> QuotaReservation | QuotaExceeded:
    # A limit of 0 must not create the counter row at 1 on a first reservation.
    claimed = await conn.fetchval(_RESERVE, user_id, period_key, limit) if limit > 0 else None
    if claimed is None:
        return QuotaExceeded(limit, await usage(conn, user_id, period_key), resets_at)
    row = await conn.fetchrow(
        f"INSERT INTO workspace_quota_reservations ({RESERVATION_COLUMNS}) "
        f"VALUES ($1, $2, $3, $4, $5, $5) RETURNING {RESERVATION_COLUMNS}",
        run_id,
        user_id,
        period_key,
        _RESERVED,
        created_at,
    )
    return reservation_from_row(row)


async def confirm(conn: Executor, run_id: str, *, updated_at: str) -> QuotaReservation:
    row = await conn.fetchrow(
        "UPDATE workspace_quota_reservations SET state = $2, updated_at = $3 "
        f"WHERE run_id = $1 AND state = $4 RETURNING {RESERVATION_COLUMNS}",
        run_id,
        _CONFIRMED,
        updated_at,
        _RESERVED,
    )
    if row is None:
        row = await conn.fetchrow(_GET, run_id)
    if row is None:
        raise NotFound(f"run {run_id} has no quota reservation")
    reservation = reservation_from_row(row)
    if reservation.state is ReservationState.RELEASED:
        raise released_reservation(run_id)
    return reservation


async def release(conn: Executor, run_id: str, *, updated_at: str) -> bool:
    row = await conn.fetchrow(
        "UPDATE workspace_quota_reservations SET state = $2, updated_at = $3 "
        "WHERE run_id = $1 AND state = $4 RETURNING user_id, period_key",
        run_id,
        _RELEASED,
        updated_at,
        _RESERVED,
    )
    if row is None:
        return False
    await conn.execute(
        "UPDATE workspace_quota_usage SET used = used - 1 WHERE user_id = $1 AND period_key = $2",
        row[0],
        row[1],
    )
    return True


async def release_runs(conn: Executor, runs_sql: str, param: object) -> None:
    """Releases the still-reserved units of the runs ``runs_sql`` selects (runs about to be
    deleted), in one statement."""
    await conn.execute(_RELEASE_RUNS.format(runs=runs_sql), utc_now_iso(), param)


async def get_reservation(conn: Executor, run_id: str) -> QuotaReservation | None:
    row = await conn.fetchrow(_GET, run_id)
    return None if row is None else reservation_from_row(row)


async def usage(conn: Executor, user_id: str, period_key: str) -> int:
    used = await conn.fetchval(_USAGE, user_id, period_key)
    return 0 if used is None else int(used)
