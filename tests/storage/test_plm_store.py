"""PLM records and the materialization transaction, against both backends (and their pure core)."""

from __future__ import annotations

import asyncio
import itertools
import pickle
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import pytest

from storage.engine import (
    BomLine,
    Conflict,
    CreatedItem,
    Design,
    DesignSessionRecord,
    Eco,
    EngineStore,
    EngineStoreError,
    InvalidPlan,
    Item,
    ItemKind,
    LifecycleState,
    MaterializationOutcome,
    MaterializationPlan,
    NotFound,
    PlannedLine,
    PlannedPart,
    PlannedRequirement,
    RequirementLink,
    StaleRevision,
)
from storage.engine.materialize import Numbers, Series, build, check_plan, format_number

from .places import EnginePlace as Place
from .places import ts
from .test_engine_store import program, session

pytestmark = pytest.mark.integration

PLACE = Place

CREATED = ts(30)


def design(did: str = "d1", pid: str = "p1", state: LifecycleState = LifecycleState.DRAFT) -> Design:
    return Design(did, pid, f"design {did}", state, ts(1), ts(1))


REQUIREMENTS = (
    PlannedRequirement(
        "req-1",
        "Maximum speed",
        "Top speed shall not exceed 15 km/h",
        {"requirementType": "Performance", "priority": "high", "verificationMethod": "Test"},
    ),
    PlannedRequirement("req-2", "Seat height", "Seat adjustable for ages 8-12", {"priority": "medium"}),
)


def kart_plan(
    sid: str = "s1",
    *,
    design_id: str = "d1",
    new_design: bool = True,
    eco: bool = False,
    requirements: Sequence[PlannedRequirement] = REQUIREMENTS,
    extra_parts: Sequence[PlannedPart] = (),
    extra_lines: Sequence[PlannedLine] = (),
) -> MaterializationPlan:
    """A go-kart: asm-1 at the top, a motor mount and a frame in it (tempIds prefixed by
    the session, names too, so that plans of several sessions stay apart)."""
    asm, mount, frame = f"{sid}-asm-1", f"{sid}-part-1", f"{sid}-part-2"
    return MaterializationPlan(
        owner_id="alice",
        program_id="p1",
        design_id=design_id,
        new_design=design(design_id) if new_design else None,
        create_eco=eco,
        eco_title=f"Materialize {sid}",
        requirements=[replace(r, temp_id=f"{sid}-{r.temp_id}") for r in requirements],
        parts=[
            PlannedPart(asm, f"Go-Kart Assembly {sid}", "top-level assembly", {"partType": "Manufacture"}),
            PlannedPart(
                mount,
                f"Motor Mount {sid}",
                "holds the motor",
                {"partType": "Manufacture", "material": "6061-T6", "parameters": {"thickness": 4}},
                requirement_temp_ids=[f"{sid}-req-1", f"{sid}-req-2"][: len(requirements)],
            ),
            PlannedPart(frame, f"Frame {sid}", "welded steel frame", {"partType": "Manufacture"}),
            *extra_parts,
        ],
        bom=[
            PlannedLine(None, asm, 1, 0),
            PlannedLine(asm, mount, 2, 0),
            PlannedLine(asm, frame, 1, 1),
            *extra_lines,
        ],
        created_at=CREATED,
    )


def ready(sid: str, **changes: Any) -> DesignSessionRecord:
    """A session as the caller hands it over: reviewed BOM, moving on to CAD generation."""
    return session(sid, stage="cad_generation", updated_at=ts(20), **changes)


async def setup(store: EngineStore, *sids: str, with_design: bool = False) -> None:
    await store.create_program(program("p1", "alice"))
    if with_design:
        await store.create_design(design("d1"))
    for sid in sids:
        await store.create_session(session(sid))


async def count(place: Place, table: str) -> int:
    return int((await place.query(f"SELECT count(*) FROM {table}"))[0][0])


async def counts(place: Place) -> dict[str, int]:
    return {t: await count(place, t) for t in ("items", "bom_lines", "requirement_links", "ecos", "designs")}


def numbers(outcome: MaterializationOutcome) -> list[str]:
    return [c.item_number for c in outcome.created_items.values()]


# --- the pure core ------------------------------------------------------------------------


def test_numbers_are_formatted_per_series() -> None:
    assert format_number(Series.PART, 1001) == "P-1001"
    assert format_number(Series.REQUIREMENT, 1) == "REQ-0001"
    assert format_number(Series.ECO, 42) == "ECO-0042"
    assert format_number(Series.REQUIREMENT, 12345) == "REQ-12345"
    with pytest.raises(ValueError, match="part numbers start at 1, not 0"):
        format_number(Series.PART, 0)


def test_records_plans_and_outcomes_pickle() -> None:
    plan = kart_plan(eco=True)
    built = build(plan, ready("s1"), Numbers(1, 1001, 7), CREATED, new_id=_ids())
    values: list[object] = [
        Item("i1", "alice", "p1", ItemKind.PART, "P-1001", "Mount", "", {"material": "steel"}, ts(1)),
        BomLine("b1", "d1", None, "i1", 2, 0),
        RequirementLink("i1", "i2"),
        Eco("e1", "ECO-0001", "d1", "s1", "alice", "title", {"createdItems": []}, ts(1)),
        plan,
        built.outcome(plan, built.record),
    ]
    for value in values:
        assert pickle.loads(pickle.dumps(value)) == value
    error = pickle.loads(pickle.dumps(InvalidPlan("unknown tempId")))
    assert isinstance(error, InvalidPlan)
    assert isinstance(error, EngineStoreError)
    assert str(error) == "unknown tempId"


def _ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"id-{next(counter)}"


def test_build_turns_a_plan_into_rows_and_the_result() -> None:
    plan = kart_plan(eco=True)
    built = build(plan, ready("s1"), Numbers(first_requirement=5, first_part=1010, eco=42), CREATED, _ids())
    assert [(i.id, i.kind, i.item_number, i.name) for i in built.items] == [
        ("id-1", ItemKind.REQUIREMENT, "REQ-0005", "Maximum speed"),
        ("id-2", ItemKind.REQUIREMENT, "REQ-0006", "Seat height"),
        ("id-3", ItemKind.PART, "P-1010", "Go-Kart Assembly s1"),
        ("id-4", ItemKind.PART, "P-1011", "Motor Mount s1"),
        ("id-5", ItemKind.PART, "P-1012", "Frame s1"),
    ]
    assert built.links == [RequirementLink("id-4", "id-1"), RequirementLink("id-4", "id-2")]
    assert built.lines == [
        BomLine("id-6", "d1", None, "id-3", 1, 0),
        BomLine("id-7", "d1", "id-3", "id-4", 2, 0),
        BomLine("id-8", "d1", "id-3", "id-5", 1, 1),
    ]
    assert built.eco is not None
    assert (built.eco.id, built.eco.eco_number) == ("id-9", "ECO-0042")
    assert built.eco.changes["reusedItemIds"] == []
    assert len(built.eco.changes["bomLinesAdded"]) == 3
    assert built.result["ecoNumber"] == "ECO-0042"
    assert built.result["bomRelationshipsCreated"] == 3
    assert built.record.status == "completed"
    assert built.record.design_id == "d1"
    assert built.record.stage == "cad_generation"  # the caller's, kept
    assert built.record.artifacts == {**ready("s1").artifacts, "materializationResult": built.result}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: replace(p, owner_id="bob"), "user bob"),
        (lambda p: replace(p, design_id=""), "no design"),
        (lambda p: replace(p, new_design=design("d9")), "new design d9"),
        (lambda p: replace(p, parts=[*p.parts, replace(p.parts[0], name="twin")]), "not unique"),
        (lambda p: replace(p, requirements=[replace(REQUIREMENTS[0], temp_id="s1-asm-1")]), "not unique"),
        (lambda p: replace(p, bom=[*p.bom, PlannedLine("s1-asm-1", "s1-part-9", 1, 2)]), "unknown part"),
        (lambda p: replace(p, bom=[*p.bom, PlannedLine("s1-req-1", "s1-part-1", 1, 2)]), "unknown part"),
        (lambda p: replace(p, bom=[PlannedLine(None, "s1-asm-1", 0, 0)]), "quantity"),
        (lambda p: replace(p, bom=[PlannedLine(None, "s1-asm-1", True, 0)]), "quantity"),
        (lambda p: replace(p, bom=[PlannedLine(None, "s1-asm-1", 1, -1)]), "position"),
        (lambda p: replace(p, bom=[*p.bom, PlannedLine("s1-part-2", "s1-asm-1", 1, 0)]), "cycle"),
        (lambda p: replace(p, bom=[*p.bom, PlannedLine("s1-part-2", "s1-part-2", 1, 0)]), "cycle"),
        (
            lambda p: replace(
                p, parts=[replace(p.parts[0], requirement_temp_ids=["s1-req-7"]), *p.parts[1:]]
            ),
            "unknown requirement",
        ),
        (
            # Two nodes reusing one item are one item: a -> x and x -> a is a cycle.
            lambda p: replace(
                p,
                parts=[
                    *p.parts,
                    PlannedPart("x1", "", "", existing_item_id="item-x"),
                    PlannedPart("x2", "", "", existing_item_id="item-x"),
                ],
                bom=[*p.bom, PlannedLine("s1-part-2", "x1", 1, 0), PlannedLine("x2", "s1-part-2", 1, 0)],
            ),
            "cycle",
        ),
    ],
)
def test_check_plan_refuses_what_does_not_hold_together(
    change: Callable[[MaterializationPlan], MaterializationPlan], message: str
) -> None:
    check_plan(kart_plan(), ready("s1"))
    with pytest.raises(InvalidPlan, match=message):
        check_plan(change(kart_plan()), ready("s1"))


# --- materialization ----------------------------------------------------------------------


async def test_materialize_creates_items_links_bom_and_result(store: EngineStore, place: Place) -> None:
    await setup(store, "s1")
    outcome = await store.materialize(kart_plan(), ready("s1"), expected_revision=0)

    created = outcome.created_items
    assert list(created) == ["s1-req-1", "s1-req-2", "s1-asm-1", "s1-part-1", "s1-part-2"]
    assert numbers(outcome) == ["REQ-0001", "REQ-0002", "P-1001", "P-1002", "P-1003"]
    assert created["s1-part-1"] == CreatedItem(
        "s1-part-1", created["s1-part-1"].item_id, "P-1002", ItemKind.PART, "Motor Mount s1"
    )
    assert (outcome.design_id, outcome.design_created) == ("d1", True)
    assert (outcome.bom_lines_created, outcome.requirement_links_created) == (3, 2)
    assert outcome.eco is None
    assert outcome.eco_id is None
    assert outcome.eco_number is None
    assert await store.get_design("d1") == design("d1")

    ids = {temp_id: c.item_id for temp_id, c in created.items()}
    result = {
        "designId": "d1",
        "ecoId": None,
        "ecoNumber": None,
        "createdItems": [
            {
                "tempId": "s1-req-1",
                "itemId": ids["s1-req-1"],
                "itemNumber": "REQ-0001",
                "itemType": "Requirement",
                "name": "Maximum speed",
            },
            {
                "tempId": "s1-req-2",
                "itemId": ids["s1-req-2"],
                "itemNumber": "REQ-0002",
                "itemType": "Requirement",
                "name": "Seat height",
            },
            {
                "tempId": "s1-asm-1",
                "itemId": ids["s1-asm-1"],
                "itemNumber": "P-1001",
                "itemType": "Part",
                "name": "Go-Kart Assembly s1",
            },
            {
                "tempId": "s1-part-1",
                "itemId": ids["s1-part-1"],
                "itemNumber": "P-1002",
                "itemType": "Part",
                "name": "Motor Mount s1",
            },
            {
                "tempId": "s1-part-2",
                "itemId": ids["s1-part-2"],
                "itemNumber": "P-1003",
                "itemType": "Part",
                "name": "Frame s1",
            },
        ],
        "bomRelationshipsCreated": 3,
    }
    assert outcome.result == result
    expected_session = replace(
        ready("s1"),
        design_id="d1",
        status="completed",
        artifacts={**ready("s1").artifacts, "materializationResult": result},
        revision=1,
    )
    assert outcome.session == expected_session
    assert await store.get_session("s1") == expected_session

    mount = await store.get_item(ids["s1-part-1"])
    assert mount == Item(
        ids["s1-part-1"],
        "alice",
        "p1",
        ItemKind.PART,
        "P-1002",
        "Motor Mount s1",
        "holds the motor",
        {"partType": "Manufacture", "material": "6061-T6", "parameters": {"thickness": 4}},
        CREATED,
    )
    speed = await store.get_item(ids["s1-req-1"])
    assert speed is not None
    assert speed.kind is ItemKind.REQUIREMENT
    assert speed.item_number == "REQ-0001"
    assert speed.attributes["verificationMethod"] == "Test"
    assert await store.get_item("missing") is None
    listed = await store.get_items([ids["s1-part-2"], "missing", ids["s1-req-1"], ids["s1-part-2"]])
    assert [i.item_number for i in listed] == ["P-1003", "REQ-0001"]
    assert await store.get_items([]) == []

    asm, mount_id, frame = ids["s1-asm-1"], ids["s1-part-1"], ids["s1-part-2"]
    bom = await store.design_bom("d1")
    assert [(b.design_id, b.parent_item_id, b.child_item_id, b.quantity, b.position) for b in bom] == [
        ("d1", None, asm, 1, 0),
        ("d1", asm, mount_id, 2, 0),
        ("d1", asm, frame, 1, 1),
    ]
    assert len({b.id for b in bom}) == 3
    assert await store.design_bom("other") == []
    assert [r.item_number for r in await store.item_requirements(mount_id)] == ["REQ-0001", "REQ-0002"]
    assert await store.item_requirements(frame) == []
    assert await counts(place) == {
        "items": 5,
        "bom_lines": 3,
        "requirement_links": 2,
        "ecos": 0,
        "designs": 1,
    }


async def test_numbers_run_on_per_series_and_an_eco_only_when_asked(store: EngineStore) -> None:
    await setup(store, "s1", "s2", "s3", "s4", with_design=True)
    first = await store.materialize(kart_plan("s1", new_design=False), ready("s1"), 0)
    second = await store.materialize(kart_plan("s2", new_design=False, eco=True), ready("s2"), 0)
    third = await store.materialize(
        kart_plan("s3", new_design=False, eco=True, requirements=()), ready("s3"), 0
    )
    fourth = await store.materialize(kart_plan("s4", new_design=False), ready("s4"), 0)

    assert numbers(first) == ["REQ-0001", "REQ-0002", "P-1001", "P-1002", "P-1003"]
    assert numbers(second) == ["REQ-0003", "REQ-0004", "P-1004", "P-1005", "P-1006"]
    assert numbers(third) == ["P-1007", "P-1008", "P-1009"]
    assert numbers(fourth) == ["REQ-0005", "REQ-0006", "P-1010", "P-1011", "P-1012"]
    assert (first.eco, fourth.eco) == (None, None)
    assert (second.eco_number, third.eco_number) == ("ECO-0001", "ECO-0002")
    assert second.result["ecoId"] == second.eco_id
    assert second.result["ecoNumber"] == "ECO-0001"

    eco = await store.get_eco(second.eco_id or "")
    assert eco == second.eco
    assert eco is not None
    assert (eco.design_id, eco.session_id, eco.owner_id, eco.title) == ("d1", "s2", "alice", "Materialize s2")
    assert eco.created_at == CREATED
    assert [c["itemNumber"] for c in eco.changes["createdItems"]] == numbers(second)
    added = {line["bomLineId"] for line in eco.changes["bomLinesAdded"]}
    assert len(added) == 3
    assert added <= {b.id for b in await store.design_bom("d1")}
    mount = second.created_items["s2-part-1"].item_id
    assert eco.changes["requirementLinksAdded"] == [
        {"itemId": mount, "requirementItemId": second.created_items[f"s2-req-{n}"].item_id} for n in (1, 2)
    ]
    assert await store.get_eco("missing") is None

    # Every materialization added its lines to the one design, which was touched each time.
    assert len(await store.design_bom("d1")) == 12
    touched = await store.get_design("d1")
    assert touched is not None
    assert touched.updated_at == CREATED


async def test_reused_parts_are_referenced_not_duplicated(store: EngineStore, place: Place) -> None:
    await setup(store, "s1", "s2", with_design=True)
    first = await store.materialize(kart_plan("s1", new_design=False), ready("s1"), 0)
    frame = first.created_items["s1-part-2"]

    # Two nodes reuse the existing frame: one item, two lines; the new requirement links it.
    plan = kart_plan(
        "s2",
        design_id="d2",
        eco=True,
        requirements=REQUIREMENTS[:1],
        extra_parts=[
            PlannedPart(
                "s2-frame-a", "ignored", "", existing_item_id=frame.item_id, requirement_temp_ids=["s2-req-1"]
            ),
            PlannedPart("s2-frame-b", "ignored", "", existing_item_id=frame.item_id),
        ],
        extra_lines=[
            PlannedLine("s2-asm-1", "s2-frame-a", 1, 2),
            PlannedLine("s2-part-1", "s2-frame-b", 3, 0),
        ],
    )
    before = await count(place, "items")
    second = await store.materialize(plan, ready("s2"), 0)

    assert "s2-frame-a" not in second.created_items
    assert "s2-frame-b" not in second.created_items
    assert numbers(second) == ["REQ-0003", "P-1004", "P-1005", "P-1006"]
    assert await count(place, "items") == before + 4
    reused = await store.get_item(frame.item_id)
    assert reused is not None
    assert (reused.name, reused.item_number) == ("Frame s1", "P-1003")

    lines = await store.design_bom("d2")
    asm, mount = second.created_items["s2-asm-1"].item_id, second.created_items["s2-part-1"].item_id
    uses = sorted((b.quantity, b.parent_item_id) for b in lines if b.child_item_id == frame.item_id)
    assert uses == [(1, asm), (3, mount)]
    assert second.bom_lines_created == 5
    assert second.result["bomRelationshipsCreated"] == 5
    assert [r.item_number for r in await store.item_requirements(frame.item_id)] == ["REQ-0003"]
    assert second.eco is not None
    assert second.eco.changes["reusedItemIds"] == [frame.item_id]
    # The first design's BOM is its own.
    assert len(await store.design_bom("d1")) == 3


async def test_concurrent_materializations_draw_distinct_gapless_numbers(place: Place) -> None:
    sids = [f"s{n}" for n in range(10)]
    # Two stores on the same database: two gateways, each with its own connections.
    async with place.store() as one, place.store() as two:
        await setup(one, *sids, with_design=True)
        outcomes = await asyncio.gather(
            *(
                (one if n % 2 else two).materialize(kart_plan(sid, new_design=False, eco=True), ready(sid), 0)
                for n, sid in enumerate(sids)
            )
        )
        drawn = [number for outcome in outcomes for number in numbers(outcome)]
        assert len(drawn) == len(set(drawn)) == 50
        assert sorted(n for n in drawn if n.startswith("P-")) == [f"P-{v}" for v in range(1001, 1031)]
        assert sorted(n for n in drawn if n.startswith("REQ-")) == [f"REQ-{v:04d}" for v in range(1, 21)]
        # Each materialization's numbers are one consecutive block.
        for outcome in outcomes:
            parts = [int(n[2:]) for n in numbers(outcome) if n.startswith("P-")]
            assert parts == list(range(parts[0], parts[0] + 3))
        ecos = sorted(o.eco_number or "" for o in outcomes)
        assert ecos == [f"ECO-{v:04d}" for v in range(1, 11)]
        assert len(await two.design_bom("d1")) == 30
        for sid, outcome in zip(sids, outcomes, strict=True):
            assert await one.get_session(sid) == outcome.session


async def test_a_double_materialize_commits_exactly_once(store: EngineStore, place: Place) -> None:
    await setup(store, "s1")
    plan = kart_plan("s1", eco=True)
    results = await asyncio.gather(
        store.materialize(plan, ready("s1", title="first"), 0),
        store.materialize(plan, ready("s1", title="second"), 0),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, MaterializationOutcome)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1, results
    assert len(lost) == 1, results
    assert isinstance(lost[0], StaleRevision)
    assert (lost[0].expected, lost[0].actual) == (0, 1)
    assert await counts(place) == {
        "items": 5,
        "bom_lines": 3,
        "requirement_links": 2,
        "ecos": 1,
        "designs": 1,
    }
    assert await store.get_session("s1") == won[0].session
    assert won[0].session.revision == 1

    # A retry with the stale revision is refused whatever it would create (refusing a completed
    # session read back at its new revision is the caller's policy).
    with pytest.raises(StaleRevision):
        await store.materialize(replace(plan, new_design=None), ready("s1"), 0)
    assert await count(place, "items") == 5


async def test_a_failed_materialization_leaves_nothing_behind(store: EngineStore, place: Place) -> None:
    await setup(store, "s1", with_design=True)
    await store.create_program(program("p2", "bob"))
    await store.create_design(design("dx", "p2"))
    before_session = await store.get_session("s1")
    before_design = await store.get_design("d1")
    nothing = await counts(place)
    existing = kart_plan("s1", new_design=False)

    failing: list[tuple[MaterializationPlan, DesignSessionRecord, type[Exception]]] = [
        # Refused before the transaction: a BOM line naming an unknown tempId.
        (
            replace(existing, bom=[*existing.bom, PlannedLine("s1-asm-1", "nope", 1, 9)]),
            ready("s1"),
            InvalidPlan,
        ),
        # After the design was touched: a reused item that does not exist.
        (
            kart_plan(
                "s1", new_design=False, extra_parts=[PlannedPart("gone", "", "", existing_item_id="gone")]
            ),
            ready("s1"),
            NotFound,
        ),
        # The target design is missing, or another program's.
        (kart_plan("s1", design_id="d-missing", new_design=False), ready("s1"), NotFound),
        (kart_plan("s1", design_id="dx", new_design=False), ready("s1"), InvalidPlan),
        # A new design whose id is taken.
        (kart_plan("s1", design_id="dx"), ready("s1"), Conflict),
        # At the very end, with everything inserted: the session cannot be saved.
        (
            kart_plan("s1", design_id="d-new", eco=True),
            ready("s1", artifacts={"bad": {1, 2}}),
            EngineStoreError,
        ),
        # A session that is not there.
        (kart_plan("s1", new_design=False), ready("s1", id="s-missing"), NotFound),
    ]
    for plan, record, error in failing:
        with pytest.raises(error):
            await store.materialize(plan, record, expected_revision=0)
        assert await counts(place) == nothing, (plan, error)
        assert await store.get_session("s1") == before_session
        assert await store.get_design("d1") == before_design
        assert await store.get_design("d-new") is None

    # No number was drawn by the failures: the series start where they started.
    first = await store.materialize(kart_plan("s1", new_design=False), ready("s1"), 0)
    assert numbers(first) == ["REQ-0001", "REQ-0002", "P-1001", "P-1002", "P-1003"]

    # A reused requirement is no part: refused once the kinds are read, nothing kept.
    await store.create_session(session("s2"))
    requirement = first.created_items["s1-req-1"].item_id
    with pytest.raises(InvalidPlan, match="not a part"):
        await store.materialize(
            kart_plan(
                "s2", new_design=False, extra_parts=[PlannedPart("r", "", "", existing_item_id=requirement)]
            ),
            ready("s2"),
            0,
        )
    assert await count(place, "items") == 5
    after = await store.materialize(kart_plan("s2", new_design=False, eco=True), ready("s2"), 0)
    assert numbers(after)[0] == "REQ-0003"
    assert after.eco_number == "ECO-0001"
