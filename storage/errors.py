"""The error every store (Bridge, design engine, workspace) raises when it could not finish."""

from __future__ import annotations

__all__ = ["StoreError"]


class StoreError(RuntimeError):
    """The store could not complete an operation; nothing of it was committed."""
