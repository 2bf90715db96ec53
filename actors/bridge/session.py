"""The pure session core: one Bridge document, its revision and its write-ahead records.

No I/O here. Every change the core makes or accepts comes back as an ``Append`` to be
committed by the caller; the caller acknowledges the change only after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, TransactionEvent

from storage.bridge.records import Append, LoadedDoc, SessionRecord

from ..core.sync import EMPTY_UPDATE
from .layout import init_session, read_state, write_meta
from .spec_ops import OpsResult, apply_ops
from .theme import ThemeParams
from .touched import TouchTracker

__all__ = ["Change", "Session"]


@dataclass(frozen=True, slots=True)
class Change:
    """A change to commit: its log record, and the update peers must see (None if none).

    ``touched`` names the parts of the document it changed (``actors.bridge.touched``);
    ``author`` says who made it (``agent:<agentId>``, ``connection:<conn>``, ``api``).
    """

    append: Append
    update: bytes | None
    touched: frozenset[str] = frozenset()
    author: str = ""


class Session:
    def __init__(self, record: SessionRecord, doc: Doc[Any], last_seq: int) -> None:
        self._record = record
        self.doc = doc
        self._last_seq = last_seq
        self._captured: list[bytes] = []
        # Tagging by capture (not by origin) keeps exactly one update per transaction.
        self._subscription = doc.observe(self._on_transaction)
        # Which keys changes touch costs an observer per transaction: kept only while a
        # named change can still be undone (REST ops and server edits turn it on).
        self._touches: TouchTracker | None = None

    def _on_transaction(self, event: TransactionEvent) -> None:
        self._captured.append(event.update)

    def _take_update(self) -> bytes | None:
        # A transaction that integrated nothing (e.g. an update still waiting for its
        # dependencies) reports the empty update: that is no change.
        captured = [update for update in self._captured if update != EMPTY_UPDATE]
        self._captured = []
        if not captured:
            return None
        if len(captured) == 1:
            return captured[0]
        from pycrdt import merge_updates

        return merge_updates(*captured)

    @classmethod
    def create(cls, record: SessionRecord, spec: dict[str, Any], theme: ThemeParams) -> tuple[Session, bytes]:
        """A brand-new session and its initial update (log sequence 1)."""
        doc: Doc[Any] = Doc()
        session = cls(record, doc, last_seq=1)
        init_session(doc, spec, theme, record.to_json())
        initial = session._take_update()
        assert initial is not None
        return session, initial

    @classmethod
    def restore(cls, loaded: LoadedDoc) -> Session:
        doc: Doc[Any] = Doc()
        if loaded.snapshot is not None:
            doc.apply_update(loaded.snapshot)
        for _, update in loaded.updates:
            doc.apply_update(update)
        return cls(loaded.record, doc, last_seq=loaded.last_seq)

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def tracking(self) -> bool:
        return self._touches is not None

    def track_touches(self, on: bool) -> None:
        if on and self._touches is None:
            self._touches = TouchTracker(self.doc)
        elif not on and self._touches is not None:
            self._touches.close()
            self._touches = None

    def _take_touched(self) -> frozenset[str]:
        return self._touches.take() if self._touches is not None else frozenset()

    @property
    def record(self) -> SessionRecord:
        return self._record

    @property
    def revision(self) -> int:
        return self._record.revision

    @property
    def last_seq(self) -> int:
        return self._last_seq

    def _change(
        self, logged: bytes, broadcast: bytes | None, revisions: int, now_iso: str, author: str = ""
    ) -> Change:
        self._last_seq += 1
        self._record = self._record.advanced(self._record.revision + revisions, now_iso)
        append = Append(
            session_id=self._record.id,
            seq=self._last_seq,
            data=logged,
            revision=self._record.revision,
            updated_at=now_iso,
        )
        return Change(append, broadcast, self._take_touched(), author)

    def apply_ops(
        self, ops: list[object], *, now_iso: str, max_css_bytes: int, author: str = ""
    ) -> tuple[OpsResult, Change | None]:
        """Apply REST spec ops as one transaction; meta moves with them in the same update."""
        self.track_touches(True)
        self._take_touched()
        with self.doc.transaction(origin="ops"):
            result = apply_ops(self.doc, ops, max_css_bytes=max_css_bytes)
            if result.changed:
                write_meta(
                    self.doc,
                    {"revision": self._record.revision + 1, "updatedAt": now_iso},
                )
        update = self._take_update()
        if update is None or not result.changed:
            return result, None
        return result, self._change(update, update, 1, now_iso, author)

    def edit(
        self, write: Callable[[Doc[Any]], bool], *, now_iso: str, author: str, origin: str
    ) -> Change | None:
        """A server-made edit (restore, undo) as one transaction and one revision.

        ``write`` returns whether it modified the document; None when it did not.
        """
        self.track_touches(True)
        self._take_touched()
        with self.doc.transaction(origin=origin):
            changed = write(self.doc)
            if changed:
                write_meta(self.doc, {"revision": self._record.revision + 1, "updatedAt": now_iso})
        update = self._take_update()
        if update is None or not changed:
            self._take_touched()
            return None
        return self._change(update, update, 1, now_iso, author)

    def apply_update(self, update: bytes, *, now_iso: str, author: str = "") -> Change | None:
        """Apply a peer's update; None only for the empty update.

        The received bytes are logged verbatim, not the integrated diff: an update whose
        dependencies have not arrived yet integrates nothing now, yet once acknowledged it
        must survive a crash. Replaying a known update is a no-op, so this is safe.
        Raises ValueError for bytes that are not a valid update.
        """
        if update == EMPTY_UPDATE:
            return None
        self._take_touched()
        self.doc.apply_update(update)
        applied = self._take_update()
        return self._change(update, applied, 1 if applied is not None else 0, now_iso, author)

    def full_update(self) -> bytes:
        return self.doc.get_update()

    def state(self) -> dict[str, Any]:
        state = read_state(self.doc)
        # The record is authoritative for revision: peers' edits do not rewrite meta.
        state["meta"] = {**state.get("meta", {}), **self._record.to_json()}
        return state

    def close(self) -> None:
        self.doc.unobserve(self._subscription)
        self.track_touches(False)
