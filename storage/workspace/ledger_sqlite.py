"""The quota ledger on SQLite: each function runs inside the caller's write transaction.

The counter row ``workspace_quota_usage (user, period)`` is the ledger's lock: a unit is
claimed by one upsert that increments only below the limit, and every write transaction
is ``BEGIN IMMEDIATE``, which serialises all connections to the file (other processes
included) on it. So however many callers reserve at once, at most ``limit`` pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite

from storage.clock import utc_now_iso

from .base import NotFound
from .records import QuotaExceeded, QuotaReservation, ReservationState
from .rows import RESERVATION_COLUMNS, released_reservation, reservation_from_row

__all__ = ["confirm", "get_reservation", "release", "release_runs", "reserve", "usage"]

_RESERVE = """
INSERT INTO workspace_quota_usage (user_id, period_key, used) VALUES (?, ?, 1)
ON CONFLICT (user_id, period_key) DO UPDATE SET used = used + 1 WHERE used < ?
RETURNING used
"""

_USAGE = "SELECT used FROM workspace_quota_usage WHERE user_id = ? AND period_key = ?"
_GIVE_BACK = "UPDATE workspace_quota_usage SET used = used - 1 WHERE user_id = ? AND period_key = ?"
_GET = f"SELECT {RESERVATION_COLUMNS} FROM workspace_quota_reservations WHERE run_id = ?"

_RESERVED = ReservationState.RESERVED.value
_CONFIRMED = ReservationState.CONFIRMED.value
_RELEASED = ReservationState.RELEASED.value


async def _rows(db: aiosqlite.Connection, sql: str, params: Sequence[object]) -> list[Any]:
    return list(await db.execute_fetchall(sql, params))


async def reserve(
    db: aiosqlite.Connection,
    user_id: str,
    period_key: str,
    limit: int,
    run_id: str,
    *,
    resets_at: str,
    created_at: str,
) -> QuotaReservation | QuotaExceeded:
    # A limit of 0 must not create the counter row at 1 on a first reservation.
    claimed = await _rows(db, _RESERVE, (user_id, period_key, limit)) if limit > 0 else []
    if not claimed:
        return QuotaExceeded(limit, await usage(db, user_id, period_key), resets_at)
    rows = await _rows(
        db,
        f"INSERT INTO workspace_quota_reservations ({RESERVATION_COLUMNS}) "
        f"VALUES (?, ?, ?, ?, ?, ?) RETURNING {RESERVATION_COLUMNS}",
        (run_id, user_id, period_key, _RESERVED, created_at, created_at),
    )
    return reservation_from_row(rows[0])


async def confirm(db: aiosqlite.Connection, run_id: str, *, updated_at: str) -> QuotaReservation:
    rows = await _rows(
        db,
        "UPDATE workspace_quota_reservations SET state = ?, updated_at = ? "
        f"WHERE run_id = ? AND state = ? RETURNING {RESERVATION_COLUMNS}",
        (_CONFIRMED, updated_at, run_id, _RESERVED),
    )
    if not rows:
        rows = await _rows(db, _GET, (run_id,))
    if not rows:
        raise NotFound(f"run {run_id} has no quota reservation")
    reservation = reservation_from_row(rows[0])
    if reservation.state is ReservationState.RELEASED:
        raise released_reservation(run_id)
    return reservation


async def release(db: aiosqlite.Connection, run_id: str, *, updated_at: str) -> bool:
    rows = await _rows(
        db,
        "UPDATE workspace_quota_reservations SET state = ?, updated_at = ? "
        "WHERE run_id = ? AND state = ? RETURNING user_id, period_key",
        (_RELEASED, updated_at, run_id, _RESERVED),
    )
    for user_id, period_key in rows:
        await db.execute(_GIVE_BACK, (user_id, period_key))
    return bool(rows)


async def release_runs(db: aiosqlite.Connection, runs_sql: str, params: Sequence[object]) -> int:
    """Releases the still-reserved units of the runs ``runs_sql`` selects (runs about to be
    deleted); returns how many."""
    released = await _rows(
        db,
        "UPDATE workspace_quota_reservations SET state = ?, updated_at = ? "
        f"WHERE state = ? AND run_id IN ({runs_sql}) RETURNING user_id, period_key",
        (_RELEASED, utc_now_iso(), _RESERVED, *params),
    )
    for user_id, period_key in released:
        await db.execute(_GIVE_BACK, (user_id, period_key))
    return len(released)


async def get_reservation(db: aiosqlite.Connection, run_id: str) -> QuotaReservation | None:
    rows = await _rows(db, _GET, (run_id,))
    return reservation_from_row(rows[0]) if rows else None


async def usage(db: aiosqlite.Connection, user_id: str, period_key: str) -> int:
    rows = await _rows(db, _USAGE, (user_id, period_key))
    return int(rows[0][0]) if rows else 0
