"""The pure session core: changes, revisions and the log records they make."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Map

from actors.bridge.session import Session
from actors.bridge.theme import DEFAULT_THEME
from actors.core.sync import EMPTY_UPDATE
from storage.bridge.records import LoadedDoc, SessionRecord

SPEC: dict[str, Any] = {"root": "r", "elements": {"r": {"type": "Card", "props": {}, "children": []}}}


def _new() -> tuple[Session, bytes]:
    record = SessionRecord("s", "n", "d", 0, "t0", "t0")
    return Session.create(record, SPEC, DEFAULT_THEME)


def test_create_makes_one_initial_update() -> None:
    session, initial = _new()
    peer: Doc[Any] = Doc()
    peer.apply_update(initial)
    restored = Session.restore(LoadedDoc(session.record, None, 0, [(1, initial)]))
    assert restored.state() == session.state()
    assert session.last_seq == 1
    assert session.revision == 0


def test_ops_make_one_change_with_the_next_seq_and_revision() -> None:
    session, _ = _new()
    result, change = session.apply_ops(
        [
            {"op": "set_prop", "key": "r", "prop": "x", "value": 1},
            {"op": "set_prop", "key": "r", "prop": "y", "value": 2},
        ],
        now_iso="t1",
        max_css_bytes=1000,
    )
    assert result.applied == 2
    assert change is not None
    assert (change.append.seq, change.append.revision, change.append.updated_at) == (2, 1, "t1")
    assert change.update == change.append.data
    assert session.state()["meta"]["revision"] == 1
    # An ops call that changes nothing makes no change record.
    result, change = session.apply_ops(
        [{"op": "remove_prop", "key": "r", "prop": "zzz"}], now_iso="t2", max_css_bytes=1000
    )
    assert change is None
    assert session.revision == 1


def test_peer_updates_are_logged_verbatim_even_before_they_integrate() -> None:
    session, initial = _new()
    peer: Doc[Any] = Doc()
    peer.apply_update(initial)
    updates: list[bytes] = []
    peer.observe(lambda event: updates.append(event.update))
    meta = peer.get("meta", type=Map)
    meta["a"] = 1
    meta["b"] = 2
    # The second update arrives first: it cannot integrate yet, but it is logged.
    late = session.apply_update(updates[1], now_iso="t1")
    assert late is not None
    assert late.append.data == updates[1]
    assert late.update is None
    assert late.append.revision == 0
    early = session.apply_update(updates[0], now_iso="t2")
    assert early is not None
    assert early.update is not None
    assert early.append.revision == 1
    assert session.state()["meta"]["b"] == 2
    assert session.apply_update(EMPTY_UPDATE, now_iso="t3") is None
    # Replaying the log rebuilds the same document.
    log = [(1, initial), (2, late.append.data), (3, early.append.data)]
    restored = Session.restore(LoadedDoc(session.record, None, 0, log))
    assert restored.state() == session.state()
