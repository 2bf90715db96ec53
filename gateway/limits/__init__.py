"""Abuse limits (rates, concurrent sockets and streams, sessions per user) and
``Idempotency-Key`` retries. Import from the submodules: :mod:`.settings` is imported by
the gateway's settings, so this package's ``__init__`` imports nothing."""

from __future__ import annotations

__all__: list[str] = []
