"""Logging a run of retried failures as one episode, not one traceback per attempt.

A Postgres restart makes every commit fail for a few seconds, and every commit loop retries
until it succeeds. Logging each attempt (let alone with its traceback) buries the one fact an
operator needs: the store was away for so long, and came back. An episode logs one warning
at its first failure, one line when it ends, and a traceback only when an attempt fails in a
way no outage explains (a bug), or when the caller gives up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from .errors import StoreError

__all__ = ["RetryEpisode", "quiet_pool_floor_warnings"]

# What an outage of the store or of the link to it looks like; anything else is a bug.
_OUTAGE = (StoreError, OSError, asyncio.TimeoutError, ConnectionError)


class RetryEpisode:
    """One warning when attempts start failing, one info line when they succeed again."""

    def __init__(
        self, logger: logging.Logger, what: str, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._log = logger
        self._what = what
        self._clock = clock
        self.failures = 0
        self._started = 0.0

    @property
    def active(self) -> bool:
        return self.failures > 0

    def failed(self, exc: BaseException, context: str = "") -> None:
        """An attempt failed and will be retried."""
        self.failures += 1
        unexpected = not isinstance(exc, _OUTAGE)
        if self.failures == 1:
            self._started = self._clock()
            self._log.warning(
                "%s failed %s(retrying until it succeeds): %s",
                self._what,
                f"{context} " if context else "",
                exc,
                exc_info=exc if unexpected else None,
            )
        elif unexpected:
            self._log.warning("%s failed again %s: %s", self._what, context, exc, exc_info=exc)
        else:
            self._log.debug("%s failed again attempt=%d %s: %s", self._what, self.failures, context, exc)

    def succeeded(self, context: str = "") -> None:
        """An attempt succeeded: ends the episode, if one was running."""
        if self.failures:
            self._log.info(
                "%s recovered %safter %d failed attempts in %.1fs",
                self._what,
                f"{context} " if context else "",
                self.failures,
                self._clock() - self._started,
            )
        self.failures = 0

    def gave_up(self, exc: BaseException, context: str = "") -> None:
        """The caller stops retrying: the one place a traceback belongs."""
        self._log.error(
            "%s gave up %safter %d failed attempts",
            self._what,
            f"{context} " if context else "",
            self.failures,
            exc_info=exc,
        )
        self.failures = 0


class _PoolFloorFilter(logging.Filter):
    """asyncpg (>= 0.32) logs each failed attempt to restore its pool's minimum size with a
    traceback. The commit loops already report the outage as an episode: keep these at DEBUG,
    without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "pool connection floor" in record.getMessage() and record.levelno == logging.WARNING:
            if record.exc_info and record.exc_info[1] is not None:
                record.msg = f"{record.getMessage()}: {record.exc_info[1]}"
                record.args = None
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


_POOL_FILTER = _PoolFloorFilter()


def quiet_pool_floor_warnings() -> None:
    """Install the filter on asyncpg's pool logger (idempotent)."""
    pool_logger = logging.getLogger("asyncpg.pool")
    if _POOL_FILTER not in pool_logger.filters:
        pool_logger.addFilter(_POOL_FILTER)
