"""Undo of one named change (pure): which changes may still be undone, and why not.

Every change of a session passes through ``observe`` with the keys it touched (see
``touched.py``). Named changes (REST ops, restores, undos) also leave an entry with the
values their touched keys had before them, so undoing one writes those values back. A
later change touching an entry's keys is a conflict of that entry: undoing it then would
silently drop the later work, so it is refused (409) with the conflicts listed.

The journal is bounded (the oldest entries fall out) and in memory: a change made before
the session was last loaded is no longer undoable.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .restore import theme_derived
from .touched import overlap

__all__ = ["UndoEntry", "UndoJournal", "conflicting_keys"]


def conflicting_keys(earlier: frozenset[str], later: frozenset[str]) -> set[str]:
    """Keys a later change shares with an earlier one.

    Theme CSS written as a consequence of theme parameters on both sides is no conflict by
    itself: undo recomputes it from the parameters as they are then.
    """
    common = overlap(earlier, later)
    if "themeCSS" in common and theme_derived(earlier) and theme_derived(later):
        common.discard("themeCSS")
    return common


@dataclass(slots=True)
class UndoEntry:
    change_id: str
    revision: int
    author: str
    touched: frozenset[str]
    before: dict[str, Any]
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    more_conflicts: int = 0
    undone_by: str | None = None

    def conflicts_json(self) -> list[dict[str, Any]]:
        return list(self.conflicts)


class UndoJournal:
    def __init__(self, limit: int, max_conflicts: int) -> None:
        self._limit = max(1, limit)
        self._max_conflicts = max(1, max_conflicts)
        self._entries: OrderedDict[str, UndoEntry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def observe(self, change_id: str | None, author: str, revision: int, touched: frozenset[str]) -> None:
        """A change happened: it conflicts with every earlier entry whose keys it touched."""
        if not touched:
            return
        for entry in self._entries.values():
            if entry.change_id == change_id:
                continue
            keys = conflicting_keys(entry.touched, touched)
            if not keys:
                continue
            if len(entry.conflicts) < self._max_conflicts:
                entry.conflicts.append(
                    {"changeId": change_id, "author": author, "revision": revision, "keys": sorted(keys)}
                )
            else:
                entry.more_conflicts += 1

    def add(self, entry: UndoEntry) -> None:
        self._entries[entry.change_id] = entry
        while len(self._entries) > self._limit:
            self._entries.popitem(last=False)

    def get(self, change_id: str) -> UndoEntry | None:
        return self._entries.get(change_id)

    def has_open(self) -> bool:
        """Whether some entry can still be undone (only then must changes be tracked)."""
        return any(not e.conflicts and e.undone_by is None for e in self._entries.values())
