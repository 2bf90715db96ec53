"""Item search over the PLM tables, on both stores: by name and number, scoped to the owner."""

from __future__ import annotations

from dataclasses import replace

import pytest

from storage.engine import EngineStore, PlannedLine, PlannedPart

from .places import EnginePlace as Place
from .test_engine_store import program, session
from .test_plm_store import design, kart_plan, ready, setup

pytestmark = pytest.mark.integration

PLACE = Place


async def test_search_items_by_name_and_number(store: EngineStore) -> None:
    await setup(store, "s1", "s2", with_design=True)
    await store.create_program(program("pb", "bob"))
    await store.create_session(session("b1", user="bob", program_id="pb"))
    special = [
        PlannedPart("s1-bolt", "Straßen-Schraube M8", "", {"partType": "Purchase"}),
        PlannedPart("s1-bracket", "Bracket per REQ-0002", "", {"partType": "Manufacture"}),
    ]
    lines = [PlannedLine("s1-asm-1", "s1-bolt", 8, 2), PlannedLine("s1-asm-1", "s1-bracket", 1, 3)]
    await store.materialize(
        kart_plan("s1", new_design=False, extra_parts=special, extra_lines=lines), ready("s1"), 0
    )
    bob_plan = replace(
        kart_plan("b1", design_id="db"), owner_id="bob", program_id="pb", new_design=design("db", "pb")
    )
    await store.materialize(bob_plan, ready("b1", user_id="bob", program_id="pb"), 0)

    async def search(query: str, limit: int = 50, owner: str = "alice") -> list[str]:
        return [i.item_number for i in await store.search_items(owner, query, limit)]

    assert await search("motor mount") == ["P-1002"]
    assert await search("MOUNT") == ["P-1002"]
    assert await search("STRASSEN") == ["P-1004"]  # folded beyond ASCII: ß is ss
    assert await search("schraube") == ["P-1004"]
    assert await search("p-1003") == ["P-1003"]
    assert await search("  seat height ") == ["REQ-0002"]
    assert await search("s1") == ["P-1001", "P-1002", "P-1003"]  # the names carry the session
    assert await search("1001") == ["P-1001"]
    # Parts before requirements, each by number; but an exact item number comes first.
    assert await search("REQ-000") == ["P-1005", "REQ-0001", "REQ-0002"]
    assert await search("req-0002") == ["REQ-0002", "P-1005"]
    assert await search("") == ["P-1001", "P-1002", "P-1003", "P-1004", "P-1005", "REQ-0001", "REQ-0002"]
    assert await search("", limit=2) == ["P-1001", "P-1002"]
    # No wildcards: a query is a plain substring.
    assert await search("%") == []
    assert await search("_") == []
    # Bob's kart is his alone.
    assert await search("b1") == []
    assert await search("b1", owner="bob") == ["P-1006", "P-1007", "P-1008"]
    assert await search("", owner="carol") == []
    with pytest.raises(ValueError, match=r"limit and offset must not be negative \(limit=-1, offset=0\)"):
        await store.search_items("alice", "x", -1)
