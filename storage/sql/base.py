"""What every SQL store shares: the error classes it raises, its migrations, ``async with``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from types import TracebackType
from typing import ClassVar, Generic, NamedTuple, Protocol, Self, TypeVar

from .migrations import Migration, MigrationRunner

__all__ = ["Database", "Lifecycle", "StoreErrors"]

Handle = TypeVar("Handle")


class StoreErrors(NamedTuple):
    """``error`` for any failure; ``conflict`` for a key that exists already; ``not_found`` for
    a record (or one it refers to) that does not exist. Each takes one message."""

    error: type[Exception]
    conflict: type[Exception]
    not_found: type[Exception]


class Lifecycle(Protocol):
    """A store's opening and closing, by hand or with ``async with``."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Database(Generic[Handle]):
    """The base of the SQLite and Postgres plumbing; each store sets the three class attributes.

    ``_runner`` applies its migrations on open (its label names the store in errors and log
    lines), ``_errors`` are the classes the plumbing raises for it, ``_log`` takes its log lines.
    ``migrations`` default to the runner's. The handle is the open connection (or pool).
    """

    _runner: ClassVar[MigrationRunner]
    _errors: ClassVar[StoreErrors]
    _log: ClassVar[logging.Logger]

    def __init__(self, migrations: Sequence[Migration] | None) -> None:
        self._migrations = tuple(self._runner.migrations if migrations is None else migrations)
        self._handle: Handle | None = None
        # Serialises opening (on SQLite, every use of the one connection too).
        self._lock = asyncio.Lock()

    @property
    def _label(self) -> str:
        return self._runner.label

    @property
    def _conn(self) -> Handle:
        if self._handle is None:
            raise self._errors.error(f"{self._label} store is not open")
        return self._handle

    async def open(self) -> None:
        async with self._lock:
            if self._handle is None:
                self._handle = await self._connect()

    async def _connect(self) -> Handle:
        """A new handle, its schema migrated."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
