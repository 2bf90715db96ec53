"""Versions by value: the diff of two states, when automatic versions are due, what is kept."""

from __future__ import annotations

from typing import Any

import pytest

from actors.bridge.diff import diff_states, is_empty
from actors.bridge.versions import VersionClock, check_label, select_pruned, valid_ref
from actors.core.errors import ValidationError
from storage.bridge.records import VersionRecord


def _state(
    elements: dict[str, Any], root: str = "r", theme: dict[str, Any] | None = None, css: str = "c"
) -> dict[str, Any]:
    return {
        "spec": {"root": root, "elements": elements},
        "theme": theme or {"hue": 1},
        "themeCSS": css,
        "meta": {"revision": 3},
    }


def _el(kind: str, children: list[str] | None = None, **props: Any) -> dict[str, Any]:
    return {"type": kind, "props": props, "children": children or []}


def test_diff_of_equal_states_is_empty() -> None:
    a = _state({"r": _el("Card", ["h"]), "h": _el("Heading", level=2)})
    diff = diff_states(a, a)
    assert is_empty(diff)
    assert diff == {
        "elements": {"added": [], "removed": [], "changed": []},
        "root": None,
        "state": None,
        "theme": {},
        "themeCSS": {"changed": False},
    }


def test_diff_names_added_removed_and_changed_props() -> None:
    a = _state(
        {
            "r": _el("Card", ["h", "old"]),
            "h": _el("Heading", level=2, text="Hi", gone=True),
            "old": _el("Text"),
        }
    )
    b = _state(
        {
            "r": _el("Card", ["h", "new"]),
            "h": _el("Title", level=3, text="Hi", extra=[1]),
            "new": _el("Button"),
        },
        root="r",
        theme={"hue": 2, "font": "Inter"},
        css="d",
    )
    diff = diff_states(a, b)
    assert diff["elements"]["added"] == ["new"]
    assert diff["elements"]["removed"] == ["old"]
    assert diff["elements"]["changed"] == [
        {
            "key": "h",
            "type": {"from": "Heading", "to": "Title"},
            "props": {
                "added": {"extra": [1]},
                "removed": {"gone": True},
                "changed": {"level": {"from": 2, "to": 3}},
            },
        },
        {"key": "r", "children": {"from": ["h", "old"], "to": ["h", "new"]}},
    ]
    assert diff["theme"] == {"font": {"from": None, "to": "Inter"}, "hue": {"from": 1, "to": 2}}
    assert diff["themeCSS"] == {"changed": True}
    assert diff["root"] is None
    assert not is_empty(diff)


def test_diff_reports_root_and_state_and_is_directional() -> None:
    a = _state({"r": _el("Card"), "s": _el("Card")}, root="r")
    b = _state({"r": _el("Card"), "s": _el("Card")}, root="s")
    b["spec"]["state"] = {"x": 1}
    forward, backward = diff_states(a, b), diff_states(b, a)
    assert forward["root"] == {"from": "r", "to": "s"}
    assert backward["root"] == {"from": "s", "to": "r"}
    assert forward["state"] == {"from": None, "to": {"x": 1}}


def _v(vid: str, kind: str, seq: int) -> VersionRecord:
    return VersionRecord("s", vid, seq, seq, f"t{seq}", "api", "", kind)


def test_retention_drops_the_oldest_of_each_kind_past_its_limit() -> None:
    versions = [
        _v("a1", "auto", 1),
        _v("m1", "manual", 2),
        _v("a2", "auto", 3),
        _v("a3", "auto", 4),
        _v("m2", "manual", 5),
        _v("a4", "auto", 6),
    ]
    assert select_pruned(versions, keep_auto=2, keep_manual=5) == ["a1", "a2"]
    assert select_pruned(versions, keep_auto=10, keep_manual=1) == ["m1"]
    assert select_pruned(versions, keep_auto=4, keep_manual=2) == []


def test_clock_is_due_after_n_revisions() -> None:
    clock = VersionClock(every_revisions=3, every_seconds=0)
    assert not clock.due(0.0)
    clock.changed(1, 0.0)
    clock.changed(1, 1.0)
    assert not clock.due(1000.0)
    clock.changed(1, 2.0)
    assert clock.due(2.0)
    clock.taken()
    assert not clock.due(3.0)
    assert clock.revisions == 0


def test_clock_is_due_t_seconds_after_the_first_change_since_the_last_version() -> None:
    clock = VersionClock(every_revisions=0, every_seconds=60)
    assert not clock.due(1e6)  # an idle session takes no versions
    clock.changed(1, 100.0)
    clock.changed(1, 150.0)
    assert not clock.due(159.0)
    assert clock.due(160.0)
    clock.taken()
    clock.changed(0, 200.0)  # a change of nothing starts nothing
    assert not clock.due(1000.0)


def test_labels_and_refs() -> None:
    assert check_label(None, 10) == ""
    assert check_label("ok", 10) == "ok"
    with pytest.raises(ValidationError) as too_long:
        check_label("x" * 11, 10)
    assert too_long.value.field == "label"
    with pytest.raises(ValidationError):
        check_label(3, 10)
    assert valid_ref("0123abcd")
    assert valid_ref("current")
    assert not valid_ref("")
    assert not valid_ref("a/b")
    assert not valid_ref("x" * 65)
