"""Restore and undo by value: a document made equal to a state, the keys a change touched,
and which undos the journal allows."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Map

from actors.bridge.layout import read_state
from actors.bridge.restore import extract_parts, make_equal, read_parts
from actors.bridge.session import Change, Session
from actors.bridge.theme import DEFAULT_THEME
from actors.bridge.touched import overlap, touched_by_spec_event
from actors.bridge.undo import UndoEntry, UndoJournal, conflicting_keys
from storage.bridge.records import SessionRecord

SPEC: dict[str, Any] = {
    "root": "r",
    "elements": {
        "r": {"type": "Card", "props": {"className": "p-6"}, "children": ["a", "b"]},
        "a": {"type": "Heading", "props": {"level": 2, "children": "Hi"}, "children": []},
        "b": {"type": "Text", "props": {"children": "body"}, "children": []},
    },
}


def _session() -> Session:
    session, _ = Session.create(SessionRecord("s", "n", "d", 0, "t0", "t0"), SPEC, DEFAULT_THEME)
    return session


def _ops(session: Session, ops: list[dict[str, Any]], author: str = "agent:x") -> Change:
    result, change = session.apply_ops(ops, now_iso="t", max_css_bytes=65536, author=author)
    assert not result.errors
    assert change is not None
    return change


def _parts(state: dict[str, Any]) -> dict[str, Any]:
    return {k: state[k] for k in ("spec", "theme", "themeCSS")}


def test_touched_keys_of_ops() -> None:
    session = _session()
    added = _ops(
        session,
        [{"op": "add_element", "key": "c", "parentKey": "r", "element": {"type": "Button", "props": {}}}],
    )
    assert added.touched == {"element:c", "element:r"}
    assert added.author == "agent:x"
    prop = _ops(session, [{"op": "set_prop", "key": "a", "prop": "level", "value": 3}])
    assert prop.touched == {"element:a"}
    theme = _ops(session, [{"op": "set_theme", "theme": {"hue": 120}}])
    assert "theme:hue" in theme.touched
    assert "themeCSS" in theme.touched
    replaced = _ops(session, [{"op": "replace_spec", "spec": SPEC}])
    assert "element:*" in replaced.touched


def test_spec_event_keys_and_overlap() -> None:
    assert touched_by_spec_event([], ["root", "elements", "odd"]) == {"root", "element:*", "spec:odd"}
    assert touched_by_spec_event(["elements"], ["x", "y"]) == {"element:x", "element:y"}
    assert touched_by_spec_event(["elements", "x", "props"], ["p"]) == {"element:x"}
    assert touched_by_spec_event(["state", "k"], ["v"]) == {"state"}
    assert overlap({"element:a", "theme:hue"}, {"element:*"}) == {"element:a"}
    assert overlap({"element:a"}, {"element:b", "root"}) == set()
    # CSS derived from theme keys on both sides is no conflict by itself.
    assert (
        conflicting_keys(frozenset({"theme:hue", "themeCSS"}), frozenset({"theme:radius", "themeCSS"}))
        == set()
    )
    assert conflicting_keys(frozenset({"theme:hue", "themeCSS"}), frozenset({"themeCSS"})) == {"themeCSS"}


def test_make_equal_restores_every_part_and_peers_follow() -> None:
    session = _session()
    target = _parts(session.state())
    peer: Doc[Any] = Doc()
    peer.apply_update(session.full_update())
    changes = [
        _ops(session, [{"op": "remove_element", "key": "b"}]),
        _ops(
            session,
            [
                {
                    "op": "add_element",
                    "key": "z",
                    "parentKey": "r",
                    "element": {"type": "Button", "props": {"x": {"deep": [1, 2]}}},
                }
            ],
        ),
        _ops(session, [{"op": "set_prop", "key": "a", "prop": "level", "value": 5}]),
        _ops(session, [{"op": "set_theme", "theme": {"hue": 10, "font": "Inter"}}]),
    ]
    for change in changes:
        assert change.update is not None
        peer.apply_update(change.update)
    assert _parts(session.state()) != target
    restore = session.edit(lambda doc: make_equal(doc, target), now_iso="t9", author="api", origin="restore")
    assert restore is not None
    assert restore.append.revision == 5
    assert _parts(session.state()) == target
    assert restore.update is not None
    peer.apply_update(restore.update)
    assert _parts(read_state(peer)) == target
    # Restoring what already is makes no change and no revision.
    again = session.edit(lambda doc: make_equal(doc, target), now_iso="t10", author="api", origin="restore")
    assert again is None
    assert session.revision == 5


def _journal_entry(session: Session, ops: list[dict[str, Any]], journal: UndoJournal, cid: str) -> Change:
    before = read_state(session.doc)
    change = _ops(session, ops, author=f"agent:{cid}")
    journal.observe(cid, change.author, change.append.revision, change.touched)
    journal.add(
        UndoEntry(
            cid, change.append.revision, change.author, change.touched, extract_parts(before, change.touched)
        )
    )
    return change


def test_undo_reverts_one_change_and_keeps_later_disjoint_ones() -> None:
    session = _session()
    journal = UndoJournal(limit=10, max_conflicts=5)
    _journal_entry(
        session,
        [
            {"op": "set_prop", "key": "a", "prop": "level", "value": 4},
            {"op": "remove_prop", "key": "a", "prop": "children"},
        ],
        journal,
        "one",
    )
    _journal_entry(
        session, [{"op": "set_prop", "key": "b", "prop": "children", "value": "later"}], journal, "two"
    )
    entry = journal.get("one")
    assert entry is not None
    assert entry.conflicts == []
    undo = session.edit(
        lambda doc: make_equal(doc, entry.before, entry.touched), now_iso="t", author="api", origin="undo"
    )
    assert undo is not None
    assert undo.touched == {"element:a"}
    spec = session.state()["spec"]
    assert spec["elements"]["a"]["props"] == {"level": 2, "children": "Hi"}
    assert spec["elements"]["b"]["props"] == {"children": "later"}


def test_a_later_change_to_the_same_element_is_a_conflict() -> None:
    session = _session()
    journal = UndoJournal(limit=10, max_conflicts=5)
    _journal_entry(
        session,
        [{"op": "add_element", "key": "c", "parentKey": "r", "element": {"type": "Button", "props": {}}}],
        journal,
        "one",
    )
    later = _ops(
        session, [{"op": "set_prop", "key": "r", "prop": "className", "value": "p-2"}], author="agent:y"
    )
    journal.observe(None, later.author, later.append.revision, later.touched)
    entry = journal.get("one")
    assert entry is not None
    assert entry.conflicts == [{"changeId": None, "author": "agent:y", "revision": 2, "keys": ["element:r"]}]


def test_undo_of_a_theme_key_recomputes_css_from_the_theme_as_it_is() -> None:
    session = _session()
    journal = UndoJournal(limit=10, max_conflicts=5)
    start_css = session.state()["themeCSS"]
    _journal_entry(session, [{"op": "set_theme", "theme": {"hue": 10}}], journal, "hue")
    _journal_entry(session, [{"op": "set_theme", "theme": {"radius": 1.5}}], journal, "radius")
    hue = journal.get("hue")
    assert hue is not None
    assert hue.touched == {"theme:hue", "themeCSS"}
    # Another theme key (and the CSS both derive) is no conflict.
    assert hue.conflicts == []
    radius = journal.get("radius")
    assert radius is not None
    assert radius.conflicts == []
    session.edit(
        lambda doc: make_equal(doc, radius.before, radius.touched), now_iso="t", author="api", origin="undo"
    )
    state = session.state()
    assert state["theme"]["radius"] == DEFAULT_THEME.radius
    assert state["theme"]["hue"] == 10
    assert state["themeCSS"] != start_css  # hue 10 is still there, and the CSS says so


def test_journal_is_bounded() -> None:
    journal = UndoJournal(limit=2, max_conflicts=1)
    for cid in ("a", "b", "c"):
        journal.add(UndoEntry(cid, 1, "api", frozenset({"root"}), {}))
    assert journal.get("a") is None
    assert journal.get("c") is not None
    assert len(journal) == 2
    journal.observe("x", "api", 2, frozenset({"root"}))
    journal.observe("y", "api", 3, frozenset({"root"}))
    entry = journal.get("c")
    assert entry is not None
    assert len(entry.conflicts) == 1
    assert entry.more_conflicts == 1


def test_read_parts_reads_what_extract_parts_takes_from_the_whole_state() -> None:
    session = _session()
    _ops(session, [{"op": "set_theme", "theme": {"hue": 30, "font": "Inter"}}])
    session.doc.get("spec", type=Map)["state"] = Map({"count": 2})
    for keys in (
        {"element:a"},
        {"element:a", "element:missing", "root"},
        {"element:*", "state"},
        {"theme:hue", "theme:font", "themeCSS"},
        set(),
    ):
        assert read_parts(session.doc, keys) == extract_parts(read_state(session.doc), keys), keys
