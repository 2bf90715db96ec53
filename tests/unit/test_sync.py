"""Frame processing by value: replies, broadcasts, changes and acks for each message type."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Text

from actors.bridge.session import Session
from actors.bridge.theme import DEFAULT_THEME
from actors.core.awareness import AwarenessRegistry
from actors.core.sync import NO_ORIGIN, Control, Scope, process_frames
from actors.protocol.lib0 import write_var_bytes, write_var_string, write_var_uint
from actors.protocol.messages import MessageType, SyncType, decode_sync, sync_step1, sync_step2, sync_update
from storage.bridge.records import SessionRecord


def _session() -> Session:
    session, _ = Session.create(
        SessionRecord("s", "n", "", 0, "t", "t"), {"root": "", "elements": {}}, DEFAULT_THEME
    )
    return session


def _edit(text: str) -> bytes:
    doc: Doc[Any] = Doc()
    updates: list[bytes] = []
    doc.observe(lambda e: updates.append(e.update))
    doc.get("t", type=Text).insert(0, text)
    return updates[0]


def _run(session: Session, *items: tuple[int, int, bytes, bool]) -> Any:
    return process_frames(session, AwarenessRegistry(30), list(items), now=0, now_iso="t1")


def test_open_sends_the_server_state_vector() -> None:
    session = _session()
    out = _run(session, (1, Control.OPEN, b"", True))
    assert out.direct == [(1, MessageType.SYNC, sync_step1(session.doc.get_state()))]
    assert out.broadcast == []
    assert out.changes == []
    assert out.acks == []


def test_step1_is_answered_with_the_missing_state() -> None:
    session = _session()
    out = _run(session, (1, MessageType.SYNC, sync_step1(b"\x00"), True))
    [(conn, kind, payload)] = out.direct
    assert (conn, kind) == (1, MessageType.SYNC)
    sync_kind, update = decode_sync(payload)
    assert sync_kind == SyncType.STEP2
    peer: Doc[Any] = Doc()
    peer.apply_update(update)
    assert peer.get_state() == session.doc.get_state()


def test_updates_change_broadcast_and_wait_for_acks() -> None:
    session = _session()
    edit = _edit("hi")
    out = _run(
        session,
        (4, MessageType.SYNC, sync_update(edit), True),
        (5, MessageType.SYNC, sync_step2(b"\x00\x00"), True),
    )
    assert [c.append.data for c in out.changes] == [edit]
    assert out.broadcast == [(Scope.TO_OTHERS, MessageType.SYNC, sync_update(edit), 4)]
    assert out.acks == [4, 5]  # the empty SyncStep2 is acknowledged too
    assert str(session.doc.get("t", type=Text)) == "hi"


def test_an_update_that_completes_a_waiting_one_is_broadcast_to_its_sender_too() -> None:
    # After a host restart the log lacks an edit of B's that the old host had already
    # broadcast to A. B's next edit arrives first and waits for it; A's SyncStep2 then
    # supplies it, and the document integrates both. A never had B's second edit (its
    # handshake's SyncStep2 left the waiting one out): skipping A would leave it behind
    # for good, since every later edit of B's builds on that one.
    b: Doc[Any] = Doc()
    edits: list[bytes] = []
    b.observe(lambda e: edits.append(e.update))
    b_text = b.get("b", type=Text)
    b_text += "b0;"
    b_text += "b1;"
    first, second = edits
    a: Doc[Any] = Doc()
    a.apply_update(first)
    session = _session()

    out = _run(session, (2, MessageType.SYNC, sync_update(second), True))
    assert out.broadcast == []  # waiting for its dependency: nothing integrated
    [(_conn, kind, payload)] = _run(session, (1, MessageType.SYNC, sync_step1(a.get_state()), True)).direct
    a.apply_update(decode_sync(payload)[1])  # A's handshake: the waiting edit is not in it
    assert str(a.get("b", type=Text)) == "b0;"

    reply = a.get_update(session.doc.get_state())
    out = _run(session, (1, MessageType.SYNC, sync_step2(reply), True))
    [(scope, kind, update, origin)] = out.broadcast
    assert (scope, kind, origin) == (Scope.TO_OTHERS, MessageType.SYNC, NO_ORIGIN)
    a.apply_update(decode_sync(update)[1])
    assert str(a.get("b", type=Text)) == "b0;b1;" == str(session.doc.get("b", type=Text))
    assert out.acks == [1]


def test_readonly_edits_are_refused_and_noop_step2_accepted() -> None:
    session = _session()
    out = _run(
        session,
        (2, MessageType.SYNC, sync_update(_edit("x")), False),
        (2, MessageType.SYNC, sync_step2(session.full_update()), False),
        (2, MessageType.SYNC, sync_step2(_edit("y")), False),
    )
    assert out.direct == [
        (2, MessageType.SYNC_STATUS, write_var_uint(0)),
        (2, MessageType.SYNC_STATUS, write_var_uint(1)),
        (2, MessageType.SYNC_STATUS, write_var_uint(0)),
    ]
    assert out.changes == []
    assert out.acks == []
    assert str(session.doc.get("t", type=Text)) == ""


def test_bad_frames_are_refused_one_by_one() -> None:
    session = _session()
    edit = _edit("ok")
    out = _run(
        session,
        (1, MessageType.SYNC, b"\x02\x10\x01", True),  # truncated
        (1, MessageType.SYNC, sync_update(b"\x05\x00garbage"), True),  # not an update
        (1, MessageType.AWARENESS, b"\x05\x01", True),  # truncated awareness
        (1, MessageType.SYNC_REPLY, b"", True),  # not a client message
        (3, MessageType.SYNC, sync_update(edit), True),
    )
    assert out.refused == 4
    assert out.direct == [(1, MessageType.SYNC_STATUS, write_var_uint(0))] * 2
    assert out.acks == [3]
    assert len(out.changes) == 1


def test_awareness_stateless_and_leave() -> None:
    session = _session()
    registry = AwarenessRegistry(30)
    state = write_var_uint(1) + write_var_uint(9) + write_var_uint(1) + write_var_string('{"n":1}')
    out = process_frames(
        session,
        registry,
        [
            (1, MessageType.AWARENESS, write_var_bytes(state), True),
            (2, MessageType.QUERY_AWARENESS, b"", False),
            (1, MessageType.STATELESS, write_var_string("ping"), True),
            (1, Control.LEAVE, b"", True),
        ],
        now=0,
        now_iso="t",
    )
    removal = write_var_uint(1) + write_var_uint(9) + write_var_uint(2) + write_var_string("null")
    assert out.broadcast == [
        (Scope.TO_ALL, MessageType.AWARENESS, write_var_bytes(state), 1),
        (Scope.TO_OTHERS, MessageType.STATELESS, write_var_string("ping"), 1),
        (Scope.TO_ALL, MessageType.AWARENESS, write_var_bytes(removal), 1),
    ]
    assert out.direct == [(2, MessageType.AWARENESS, write_var_bytes(state))]
