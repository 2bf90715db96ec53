"""Watching and copying pycrdt documents, for the tests of what is written into them."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, TransactionEvent

from actors.core.sync import EMPTY_UPDATE

__all__ = ["replica_of", "updates_of"]


def updates_of(doc: Doc[Any], *, skip_empty: bool = False) -> list[bytes]:
    """The updates ``doc`` emits from now on (without empty ones if ``skip_empty``)."""
    seen: list[bytes] = []

    def on_update(event: TransactionEvent) -> None:
        if not (skip_empty and event.update == EMPTY_UPDATE):
            seen.append(event.update)

    doc.observe(on_update)
    return seen


def replica_of(doc: Doc[Any]) -> Doc[Any]:
    """A second document holding ``doc``'s state, as a peer would after syncing."""
    other: Doc[Any] = Doc()
    other.apply_update(doc.get_update())
    return other
