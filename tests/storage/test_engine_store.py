"""The engine store contract, run against both backends (real SQLite file, real Postgres):
programs, designs, sessions and their event logs. Pickling, migrations and opening/closing:
``test_engine_store_migrations.py``; both use the places and helpers defined here."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from storage.engine import (
    Conflict,
    Design,
    DesignSessionRecord,
    EngineStore,
    EngineStoreError,
    LifecycleState,
    NotFound,
    Program,
    ProgramMember,
    StaleRevision,
    StoredEvent,
)
from storage.engine.migrations import MIGRATIONS_TABLE

from .places import EnginePlace as Place
from .places import ts

pytestmark = pytest.mark.integration

PLACE = Place

ENGINE_TABLES = {
    MIGRATIONS_TABLE,
    "programs",
    "program_members",
    "designs",
    "design_sessions",
    "design_session_events",
    "items",
    "bom_lines",
    "requirement_links",
    "ecos",
    "number_sequences",
}


def program(pid: str, owner: str, created: int = 0) -> Program:
    return Program(pid, owner, f"program {pid}", "desc", ts(created))


def session(
    sid: str, user: str = "alice", program_id: str = "p1", created: int = 0, **changes: Any
) -> DesignSessionRecord:
    record = DesignSessionRecord(
        id=sid,
        user_id=user,
        program_id=program_id,
        design_id=None,
        ai_chat_session_id=None,
        title=f"title {sid}",
        stage="idle",
        status="active",
        artifacts={"description": "Design an electric go-kart", "requirements": [], "bom": None},
        pending_run=None,
        created_at=ts(created),
        updated_at=ts(created),
        revision=0,
    )
    return replace(record, **changes)


# Every byte value, NUL and invalid UTF-8 included: the document is opaque binary.
DOC = bytes(range(256)) * 64


def event(sid: str, event_id: int, run_id: str = "run-1") -> StoredEvent:
    data = b'{"type":"llm_text","text":"part %d \xc3\xa9"}' % event_id
    return StoredEvent(sid, event_id, run_id, data, ts(event_id))


async def with_program(store: EngineStore, pid: str = "p1", owner: str = "alice") -> Program:
    created = program(pid, owner)
    await store.create_program(created)
    return created


# --- programs and designs -----------------------------------------------------------------


async def test_programs_are_scoped_to_owner_and_members(store: EngineStore) -> None:
    await store.create_program(program("pa", "alice", created=1))
    await store.create_program(program("pb", "bob", created=2))
    await store.create_program(program("pa2", "alice", created=3))
    assert [p.id for p in await store.list_programs("alice")] == ["pa2", "pa"]
    assert [p.id for p in await store.list_programs("bob")] == ["pb"]
    assert await store.list_programs("carol") == []

    await store.add_member("pa", "bob", "viewer")
    await store.add_member("pa", "bob", "editor")  # a second add changes the role
    assert [p.id for p in await store.list_programs("bob")] == ["pb", "pa"]
    assert [p.id for p in await store.list_programs("alice")] == ["pa2", "pa"]
    assert await store.list_members("pa") == [ProgramMember("pa", "bob", "editor")]
    assert await store.member_role("pa", "alice") == "owner"
    assert await store.member_role("pa", "bob") == "editor"
    assert await store.member_role("pa", "carol") is None
    assert await store.member_role("missing", "alice") is None

    assert await store.get_program("pb") == program("pb", "bob", created=2)
    assert await store.get_program("missing") is None
    with pytest.raises(Conflict):
        await store.create_program(program("pa", "carol"))
    with pytest.raises(NotFound):
        await store.add_member("missing", "bob")


async def test_designs_and_their_lifecycle(store: EngineStore) -> None:
    await with_program(store)
    older = Design("d1", "p1", "Kart", LifecycleState.DRAFT, ts(1), ts(1))
    newer = Design("d2", "p1", "Trailer", LifecycleState.DRAFT, ts(2), ts(2))
    await store.create_design(older)
    await store.create_design(newer)
    assert await store.get_design("d1") == older
    assert await store.list_designs("p1") == [newer, older]
    assert await store.list_designs("other") == []

    released = await store.set_design_state("d1", LifecycleState.RELEASED, updated_at=ts(9))
    assert released == replace(older, lifecycle_state=LifecycleState.RELEASED, updated_at=ts(9))
    assert await store.get_design("d1") == released
    assert released.lifecycle_state == "released"

    with pytest.raises(NotFound):
        await store.set_design_state("missing", LifecycleState.RELEASED)
    with pytest.raises(ValueError, match="'obsolete' is not a valid LifecycleState"):
        await store.set_design_state("d1", "obsolete")  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await store.create_design(Design("d3", "missing", "x", LifecycleState.DRAFT, ts(0), ts(0)))
    with pytest.raises(Conflict):
        await store.create_design(older)


# --- design sessions ----------------------------------------------------------------------


async def test_session_round_trip(store: EngineStore) -> None:
    await with_program(store)
    await store.create_design(Design("d1", "p1", "Kart", LifecycleState.DRAFT, ts(0), ts(0)))
    record = session(
        "s1",
        design_id="d1",
        ai_chat_session_id="chat-1",
        artifacts={
            "description": "Go-kart für Kinder ✓",
            "requirements": [{"tempId": "req-1", "confidence": 0.9, "priority": "high"}],
            "bom": {"rootAssembly": {"tempId": "asm-1", "children": [], "quantity": 1}},
            "clarifications": [],
        },
        pending_run={"runId": "r1", "action": "start_requirements", "lastEventId": 12},
    )
    await store.create_session(record)
    assert await store.get_session("s1") == record
    assert await store.get_session("missing") is None
    with pytest.raises(Conflict):
        await store.create_session(record)
    with pytest.raises(NotFound):
        await store.create_session(session("s2", program_id="missing"))


async def test_unserialisable_artifacts_are_refused(store: EngineStore) -> None:
    await with_program(store)
    with pytest.raises(EngineStoreError):
        await store.create_session(session("s1", artifacts={"bad": {1, 2}}))
    assert await store.get_session("s1") is None
    await store.create_session(session("s1"))
    with pytest.raises(EngineStoreError):
        await store.save_session(session("s1", artifacts={"bad": object()}), 0)
    assert await store.get_session("s1") == session("s1")


async def test_sessions_are_listed_per_user_newest_first(store: EngineStore) -> None:
    await with_program(store)
    # s3 and s4 share a timestamp: id breaks the tie, so pages never overlap.
    for sid, created in [("s1", 1), ("s2", 2), ("s4", 3), ("s3", 3), ("s5", 5)]:
        await store.create_session(session(sid, user="alice", created=created))
    await store.create_session(session("b1", user="bob", created=4))

    listed = await store.list_sessions("alice", limit=10)
    assert [s.id for s in listed] == ["s5", "s3", "s4", "s2", "s1"]
    pages = [await store.list_sessions("alice", limit=2, offset=o) for o in (0, 2, 4, 6)]
    assert [[s.id for s in page] for page in pages] == [["s5", "s3"], ["s4", "s2"], ["s1"], []]
    assert [s.id for s in await store.list_sessions("bob", limit=10)] == ["b1"]
    assert await store.list_sessions("carol", limit=10) == []
    with pytest.raises(ValueError, match=r"limit and offset must not be negative \(limit=-1, offset=0\)"):
        await store.list_sessions("alice", limit=-1)


async def test_save_session_is_optimistic(store: EngineStore) -> None:
    await with_program(store)
    await store.create_session(session("s1"))
    edited = session(
        "s1",
        title="Electric Go-Kart",
        stage="requirements_drafting",
        artifacts={"description": "kart", "requirements": [{"tempId": "req-1"}]},
        pending_run={"runId": "r1"},
        updated_at=ts(10),
        # Immutable fields are not the caller's to change.
        user_id="mallory",
        created_at=ts(59),
    )
    saved = await store.save_session(edited, expected_revision=0)
    assert saved == replace(edited, user_id="alice", created_at=ts(0), revision=1)
    assert await store.get_session("s1") == saved

    again = await store.save_session(replace(saved, status="paused", pending_run=None), 1)
    assert (again.revision, again.status, again.pending_run) == (2, "paused", None)

    with pytest.raises(StaleRevision) as stale:
        await store.save_session(replace(saved, title="lost"), expected_revision=1)
    assert (stale.value.expected, stale.value.actual) == (1, 2)
    assert await store.get_session("s1") == again
    with pytest.raises(NotFound):
        await store.save_session(session("missing"), 0)


async def test_session_doc_round_trips(store: EngineStore, place: Place) -> None:
    await with_program(store)
    with_doc = session("s1", created=1, doc=DOC)
    without = session("s2", created=2)
    empty = session("s3", created=3, doc=b"")
    for record in (with_doc, without, empty):
        await store.create_session(record)

    read = await store.get_session("s1")
    assert read == with_doc
    assert read is not None
    assert type(read.doc) is bytes
    assert read.doc == DOC
    assert await store.get_session("s2") == without
    # An empty document is not a missing one.
    assert await store.get_session("s3") == empty
    assert await store.list_sessions("alice", limit=10) == [empty, without, with_doc]
    stored = await place.query("SELECT id, doc IS NULL FROM design_sessions ORDER BY id")
    assert [(sid, bool(null)) for sid, null in stored] == [("s1", False), ("s2", True), ("s3", False)]
    assert "doc=" not in repr(with_doc)  # kilobytes of binary would drown the log line

    # A save writes the doc like any other mutable field, None included.
    changed = DOC[::-1]
    saved = await store.save_session(replace(with_doc, doc=changed), expected_revision=0)
    assert saved.doc == changed
    assert await store.get_session("s1") == saved
    cleared = await store.save_session(replace(saved, doc=None), expected_revision=1)
    assert cleared.doc is None
    assert await store.get_session("s1") == cleared
    assert await place.query("SELECT doc IS NULL FROM design_sessions WHERE id = ?", "s1") == [(1,)]
    given = await store.save_session(replace(without, doc=DOC), expected_revision=0)
    assert given.doc == DOC
    assert await store.get_session("s2") == given

    # With events: the doc is kept only with them, and a lost save keeps neither.
    with_events = await store.save_session_with_events(replace(cleared, doc=DOC), 2, [event("s1", 1)])
    assert with_events.doc == DOC
    assert await store.get_session("s1") == with_events
    with pytest.raises(Conflict):
        await store.save_session_with_events(
            replace(with_events, doc=changed), 3, [event("s1", 2), event("s1", 1)]
        )
    with pytest.raises(StaleRevision):
        await store.save_session(replace(with_events, doc=changed), expected_revision=2)
    assert await store.get_session("s1") == with_events
    assert await store.list_sessions("alice", limit=10) == [empty, given, with_events]


async def test_concurrent_saves_exactly_one_wins(store: EngineStore) -> None:
    await with_program(store)
    await store.create_session(session("s1"))
    writers = [session("s1", title=f"writer {n}", updated_at=ts(n)) for n in range(6)]
    results = await asyncio.gather(
        *(store.save_session(w, expected_revision=0) for w in writers), return_exceptions=True
    )
    won = [r for r in results if isinstance(r, DesignSessionRecord)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1
    assert len(lost) == len(writers) - 1
    assert all(isinstance(e, StaleRevision) and e.actual == 1 for e in lost)
    assert await store.get_session("s1") == won[0]
    assert won[0].revision == 1


# --- event log ----------------------------------------------------------------------------


async def test_events_append_and_read_after_an_id(store: EngineStore) -> None:
    await with_program(store)
    await store.create_session(session("s1"))
    await store.create_session(session("s2"))
    assert await store.last_event_id("s1") == 0
    assert await store.read_events("s1", 0, 100) == []

    await store.append_events("s1", [event("s1", n) for n in (1, 2, 3)])
    await store.append_events("s1", [event("s1", n, run_id="run-2") for n in (4, 5)])
    await store.append_events("s2", [event("s2", 1)])
    await store.append_events("s1", [])

    assert await store.read_events("s1", 0, 100) == [event("s1", n) for n in (1, 2, 3)] + [
        event("s1", n, run_id="run-2") for n in (4, 5)
    ]
    assert [e.event_id for e in await store.read_events("s1", 2, 2)] == [3, 4]
    assert await store.read_events("s1", 5, 100) == []
    assert await store.last_event_id("s1") == 5
    assert await store.last_event_id("s2") == 1
    assert await store.last_event_id("missing") == 0


async def test_a_batch_with_a_duplicate_event_commits_nothing(store: EngineStore) -> None:
    await with_program(store)
    await store.create_session(session("s1"))
    await store.append_events("s1", [event("s1", 1)])
    with pytest.raises(Conflict):
        await store.append_events("s1", [event("s1", 2), event("s1", 1)])
    assert [e.event_id for e in await store.read_events("s1", 0, 10)] == [1]
    with pytest.raises(NotFound):
        await store.append_events("missing", [event("missing", 1)])
    with pytest.raises(ValueError, match="event 9 belongs to session s2, not s1"):
        await store.append_events("s1", [event("s2", 9)])


async def test_save_with_events_commits_both_or_neither(store: EngineStore) -> None:
    await with_program(store)
    await store.create_session(session("s1"))
    update = session("s1", stage="requirements_review", artifacts={"requirements": [1]})
    saved = await store.save_session_with_events(update, 0, [event("s1", 1), event("s1", 2)])
    assert saved.revision == 1
    assert await store.get_session("s1") == saved
    assert await store.last_event_id("s1") == 2

    # A duplicate event id: neither the record nor the other event is kept.
    failing = replace(saved, stage="bom_drafting")
    with pytest.raises(Conflict):
        await store.save_session_with_events(failing, 1, [event("s1", 3), event("s1", 2)])
    assert await store.get_session("s1") == saved
    assert await store.last_event_id("s1") == 2

    # A stale revision: the events announcing the lost change are not kept either.
    with pytest.raises(StaleRevision):
        await store.save_session_with_events(failing, 0, [event("s1", 3)])
    assert await store.last_event_id("s1") == 2

    final = await store.save_session_with_events(failing, 1, [event("s1", 3)])
    assert final.revision == 2
    assert final.stage == "bom_drafting"
    assert [e.event_id for e in await store.read_events("s1", 0, 10)] == [1, 2, 3]


async def test_delete_session_takes_its_events(store: EngineStore) -> None:
    await with_program(store)
    await store.create_session(session("s1"))
    await store.create_session(session("s2"))
    await store.append_events("s1", [event("s1", n) for n in (1, 2)])
    await store.append_events("s2", [event("s2", 1)])

    assert await store.delete_session("s1") is True
    assert await store.delete_session("s1") is False
    assert await store.get_session("s1") is None
    assert await store.read_events("s1", 0, 10) == []
    assert await store.last_event_id("s1") == 0
    assert await store.last_event_id("s2") == 1
    # A session recreated under the same id starts with an empty log, not the old one.
    await store.create_session(session("s1"))
    await store.append_events("s1", [event("s1", 1)])
    assert await store.read_events("s1", 0, 10) == [event("s1", 1)]
