"""Retry episodes log once per outage, a traceback only for a bug or when giving up (storage/retries.py)."""

from __future__ import annotations

import logging

import pytest

from storage import StoreError
from storage.retries import RetryEpisode, quiet_pool_floor_warnings


def _records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "test.retries" and r.levelno == level]


def test_an_outage_is_one_warning_and_one_recovery_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="test.retries")
    clock = iter([10.0, 13.5])
    episode = RetryEpisode(logging.getLogger("test.retries"), "commit", clock=lambda: next(clock))
    for _ in range(9):
        episode.failed(StoreError("append failed: connection refused"), "session=s1 rows=3")
    assert episode.active
    assert episode.failures == 9
    episode.succeeded("session=s1")
    warnings = _records(caplog, logging.WARNING)
    assert [r.getMessage() for r in warnings] == [
        "commit failed session=s1 rows=3 (retrying until it succeeds): append failed: connection refused"
    ]
    assert all(r.exc_info is None for r in caplog.records)
    assert len(_records(caplog, logging.DEBUG)) == 8
    assert [r.getMessage() for r in _records(caplog, logging.INFO)] == [
        "commit recovered session=s1 after 9 failed attempts in 3.5s"
    ]
    assert not episode.active


def test_a_new_outage_after_recovery_warns_again(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="test.retries")
    episode = RetryEpisode(logging.getLogger("test.retries"), "group commit")
    episode.succeeded()  # no episode: nothing logged
    episode.failed(OSError("reset"))
    episode.succeeded()
    episode.failed(TimeoutError())
    assert len(_records(caplog, logging.WARNING)) == 2
    assert len(_records(caplog, logging.INFO)) == 1


def test_a_bug_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="test.retries")
    episode = RetryEpisode(logging.getLogger("test.retries"), "commit")
    episode.failed(StoreError("away"))
    episode.failed(TypeError("bad row"))
    traced = [r for r in caplog.records if r.exc_info is not None]
    assert [type(r.exc_info[1]).__name__ for r in traced if r.exc_info] == ["TypeError"]


def test_giving_up_logs_the_traceback(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="test.retries")
    episode = RetryEpisode(logging.getLogger("test.retries"), "commit")
    episode.failed(StoreError("away"))
    episode.gave_up(StoreError("still away"), "session=s1")
    errors = _records(caplog, logging.ERROR)
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert errors[0].getMessage() == "commit gave up session=s1 after 1 failed attempts"
    assert not episode.active


def test_asyncpg_pool_floor_warnings_lose_their_traceback(caplog: pytest.LogCaptureFixture) -> None:
    quiet_pool_floor_warnings()
    quiet_pool_floor_warnings()  # idempotent
    pool_logger = logging.getLogger("asyncpg.pool")
    assert len([f for f in pool_logger.filters if type(f).__name__ == "_PoolFloorFilter"]) == 1
    caplog.set_level(logging.WARNING, logger="asyncpg.pool")
    try:
        raise ConnectionRefusedError(111, "Connect call failed")
    except ConnectionRefusedError:
        pool_logger.warning("Failed to restore the pool connection floor; retrying", exc_info=True)
    pool_logger.warning("an unrelated warning")
    assert [r.getMessage() for r in caplog.records if r.name == "asyncpg.pool"] == ["an unrelated warning"]
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger="asyncpg.pool")
    try:
        raise ConnectionRefusedError(111, "Connect call failed")
    except ConnectionRefusedError:
        pool_logger.warning("Failed to restore the pool connection floor; retrying", exc_info=True)
    (record,) = [r for r in caplog.records if r.name == "asyncpg.pool"]
    assert record.levelno == logging.DEBUG
    assert record.exc_info is None
    assert record.getMessage().endswith("retrying: [Errno 111] Connect call failed")
