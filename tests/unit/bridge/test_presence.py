"""REST presence bookkeeping by value."""

from __future__ import annotations

from actors.bridge.presence import Presence


def test_entries_merge_and_expire() -> None:
    presence = Presence(timeout=10)
    presence.upsert("a", "A", None, "working", now_iso="t0", now=0)
    presence.upsert("a", None, {"elementKey": "k"}, None, now_iso="t1", now=5)
    assert presence.to_json(now=6) == {
        "a": {
            "agentId": "a",
            "name": "A",
            "cursor": {"elementKey": "k"},
            "status": "working",
            "updatedAt": "t1",
        }
    }
    presence.upsert("b", None, None, None, now_iso="t2", now=9)
    assert presence.expire(now=15) == ["a"]
    assert list(presence.to_json(now=15)) == ["b"]
    assert presence.to_json(now=19) == {}
    # After expiry an agent starts afresh: nothing of the old entry comes back.
    presence.upsert("b", None, None, "idle", now_iso="t3", now=30)
    assert presence.to_json(now=30)["b"] == {"agentId": "b", "status": "idle", "updatedAt": "t3"}
