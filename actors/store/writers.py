"""Which process may write each Bridge session's log at the store owner (the fence).

The process (its link) that last loaded or created a session is the only one that may
write the session's log. A host declared dead may still have rows on the way; were they
committed after its successor loaded, both would write the same sequence numbers and the
successor's acknowledged rows would be the ones ignored. Keyed by the dialling process,
so a live host that redials keeps its sessions.
"""

from __future__ import annotations

from storage import StoreError

from ..link import Link

__all__ = ["Writers"]

_PRUNE_AT = 10_000  # writer entries before those of closed links are dropped


class Writers:
    def __init__(self) -> None:
        self._by_session: dict[str, Link] = {}
        self._prune_at = _PRUNE_AT

    def own(self, session_id: str, link: Link) -> None:
        """``link`` loaded or created the session: from now on it alone writes it."""
        self._by_session[session_id] = link
        if len(self._by_session) >= self._prune_at:
            # A closed link sends nothing more: its sessions' entries can go.
            self._by_session = {sid: owner for sid, owner in self._by_session.items() if not owner.closed}
            self._prune_at = max(_PRUNE_AT, 2 * len(self._by_session))

    def fence(self, link: Link, session_ids: set[str]) -> None:
        """Refuse (``StoreError``) a write from a link whose process no longer owns a session."""
        for session_id in session_ids:
            writer = self._by_session.setdefault(session_id, link)
            if writer is link:
                continue
            if not link.peer or writer.peer != link.peer:
                raise StoreError(
                    f"session {session_id} was loaded by another host: this one may not write it"
                )
            self._by_session[session_id] = link  # the same process, redialled

    def forget(self, session_id: str) -> None:
        self._by_session.pop(session_id, None)
