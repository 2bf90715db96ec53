"""Carrying out a materialization plan, as pure functions the backends run inside one
transaction.

A backend reads what the plan refers to (the session's revision, the target design, the
kinds of the reused items), allocates item numbers from the series, then ``build`` turns
plan and numbers into the rows to insert and the session record to save. Everything that
can be refused without the database is refused by ``check_plan`` before a transaction
starts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from .base import InvalidPlan
from .plan import (
    CreatedItem,
    MaterializationOutcome,
    MaterializationPlan,
    PlannedPart,
    PlannedRequirement,
)
from .records import BomLine, DesignSessionRecord, Eco, Item, ItemKind, RequirementLink

__all__ = [
    "COMPLETED",
    "RESULT_KEY",
    "Built",
    "Numbers",
    "Series",
    "build",
    "check_plan",
    "check_reused",
    "format_number",
]

# Where the result goes in the session's artifacts, and the status it leaves the session in.
RESULT_KEY = "materializationResult"
COMPLETED = "completed"


class Series(StrEnum):
    """A number series; its next value is a counter row (``number_sequences``) whose
    starting values (parts 1001, requirements 1, ECOs 1) are set by migration 3."""

    PART = "part"
    REQUIREMENT = "requirement"
    ECO = "eco"


_PREFIXES: Mapping[Series, str] = {Series.PART: "P", Series.REQUIREMENT: "REQ", Series.ECO: "ECO"}


def format_number(series: Series, value: int) -> str:
    """``P-1001``, ``REQ-0001``, ``ECO-0042``: at least four digits, more when they run out."""
    if value < 1:
        raise ValueError(f"{series} numbers start at 1, not {value}")
    return f"{_PREFIXES[series]}-{value:04d}"


@dataclass(frozen=True, slots=True)
class Numbers:
    """The first number of each block a backend allocated for one plan."""

    first_requirement: int
    first_part: int
    eco: int | None


@dataclass(frozen=True, slots=True)
class Built:
    """The rows to insert and the record to save, in that order."""

    items: list[Item]
    links: list[RequirementLink]
    lines: list[BomLine]
    eco: Eco | None
    created: dict[str, CreatedItem]
    result: dict[str, Any]
    record: DesignSessionRecord

    def outcome(self, plan: MaterializationPlan, saved: DesignSessionRecord) -> MaterializationOutcome:
        return MaterializationOutcome(
            session=saved,
            design_id=plan.design_id,
            design_created=plan.new_design is not None,
            created_items=self.created,
            bom_lines_created=len(self.lines),
            requirement_links_created=len(self.links),
            eco=self.eco,
            result=self.result,
        )


def _new_id() -> str:
    return str(uuid.uuid4())


def _key(part: PlannedPart) -> str:
    # The item a BOM node ends up as: reused nodes sharing an item are one item.
    return part.existing_item_id or f"new:{part.temp_id}"


def check_plan(plan: MaterializationPlan, session: DesignSessionRecord) -> None:
    """Refuses, before any I/O, a plan that does not hold together."""
    if not plan.design_id:
        raise InvalidPlan("the plan names no design")
    if (plan.owner_id, plan.program_id) != (session.user_id, session.program_id):
        raise InvalidPlan(
            f"plan is for user {plan.owner_id} in program {plan.program_id}, session {session.id} "
            f"is user {session.user_id}'s in program {session.program_id}"
        )
    if plan.new_design is not None and (plan.new_design.id, plan.new_design.program_id) != (
        plan.design_id,
        plan.program_id,
    ):
        raise InvalidPlan(
            f"new design {plan.new_design.id} is not design {plan.design_id} of the plan's program"
        )

    requirement_ids = [r.temp_id for r in plan.requirements]
    parts = {p.temp_id: p for p in plan.parts}
    seen: set[str] = set()
    for temp_id in [*requirement_ids, *(p.temp_id for p in plan.parts)]:
        if not temp_id or temp_id in seen:
            raise InvalidPlan(f"tempId {temp_id!r} is empty or not unique")
        seen.add(temp_id)
    known_requirements = set(requirement_ids)
    for part in plan.parts:
        if part.existing_item_id is not None and not part.existing_item_id:
            raise InvalidPlan(f"part {part.temp_id} reuses an empty item id")
        for ref in part.requirement_temp_ids:
            if ref not in known_requirements:
                raise InvalidPlan(f"part {part.temp_id} links unknown requirement {ref!r}")

    edges: dict[str, set[str]] = {}
    for line in plan.bom:
        for end in (line.parent_temp_id, line.child_temp_id):
            if end is not None and end not in parts:
                raise InvalidPlan(f"BOM line names unknown part {end!r}")
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) or line.quantity < 1:
            raise InvalidPlan(f"BOM line of {line.child_temp_id} has quantity {line.quantity!r}")
        if isinstance(line.position, bool) or not isinstance(line.position, int) or line.position < 0:
            raise InvalidPlan(f"BOM line of {line.child_temp_id} has position {line.position!r}")
        if line.parent_temp_id is not None:
            edges.setdefault(_key(parts[line.parent_temp_id]), set()).add(_key(parts[line.child_temp_id]))
    _check_acyclic(edges)


def _check_acyclic(edges: Mapping[str, set[str]]) -> None:
    # Iterative DFS: a plan's depth is the user's to choose, Python's recursion limit is not.
    done: set[str] = set()
    for start in edges:
        if start in done:
            continue
        path: set[str] = {start}
        stack: list[tuple[str, list[str]]] = [(start, sorted(edges.get(start, ())))]
        while stack:
            node, todo = stack[-1]
            if not todo:
                stack.pop()
                path.discard(node)
                done.add(node)
                continue
            child = todo.pop()
            if child in path:
                raise InvalidPlan(f"the BOM contains a cycle through {child.removeprefix('new:')}")
            if child not in done:
                path.add(child)
                stack.append((child, sorted(edges.get(child, ()))))


def check_reused(plan: MaterializationPlan, found: Mapping[str, ItemKind]) -> list[str]:
    """The reused item ids missing from ``found`` (their kinds, as read); a reused item that
    is not a part is refused."""
    missing: list[str] = []
    for item_id in plan.reused_item_ids:
        kind = found.get(item_id)
        if kind is None:
            missing.append(item_id)
        elif kind is not ItemKind.PART:
            raise InvalidPlan(f"item {item_id} is a {kind.value}, not a part: it cannot be in a BOM")
    return missing


def build(
    plan: MaterializationPlan,
    session: DesignSessionRecord,
    numbers: Numbers,
    created_at: str,
    new_id: Callable[[], str] = _new_id,
) -> Built:
    """The rows a checked plan creates with the allocated numbers, and the session to save."""
    items: list[Item] = []
    created: dict[str, CreatedItem] = {}
    resolved: dict[str, str] = {}

    def add(draft: PlannedRequirement | PlannedPart, kind: ItemKind, number: str) -> None:
        item = Item(
            id=new_id(),
            owner_id=plan.owner_id,
            program_id=plan.program_id,
            kind=kind,
            item_number=number,
            name=draft.name,
            description=draft.description,
            attributes=draft.attributes,
            created_at=created_at,
        )
        items.append(item)
        created[draft.temp_id] = CreatedItem(draft.temp_id, item.id, number, kind, item.name)
        resolved[draft.temp_id] = item.id

    for n, requirement in enumerate(plan.requirements):
        add(
            requirement,
            ItemKind.REQUIREMENT,
            format_number(Series.REQUIREMENT, numbers.first_requirement + n),
        )
    next_part = numbers.first_part
    for part in plan.parts:
        if part.existing_item_id is not None:
            resolved[part.temp_id] = part.existing_item_id
            continue
        add(part, ItemKind.PART, format_number(Series.PART, next_part))
        next_part += 1

    links = list(
        dict.fromkeys(
            RequirementLink(resolved[part.temp_id], resolved[ref])
            for part in plan.parts
            for ref in part.requirement_temp_ids
        )
    )
    lines = [
        BomLine(
            id=new_id(),
            design_id=plan.design_id,
            parent_item_id=None if line.parent_temp_id is None else resolved[line.parent_temp_id],
            child_item_id=resolved[line.child_temp_id],
            quantity=line.quantity,
            position=line.position,
        )
        for line in plan.bom
    ]
    eco = None
    if plan.create_eco:
        if numbers.eco is None:
            raise ValueError("the plan asks for an ECO but no ECO number was allocated")
        eco = Eco(
            id=new_id(),
            eco_number=format_number(Series.ECO, numbers.eco),
            design_id=plan.design_id,
            session_id=session.id,
            owner_id=plan.owner_id,
            title=plan.eco_title,
            changes=_changes(list(created.values()), plan.reused_item_ids, lines, links),
            created_at=created_at,
        )
    result = {
        "designId": plan.design_id,
        "ecoId": None if eco is None else eco.id,
        "ecoNumber": None if eco is None else eco.eco_number,
        "createdItems": [c.to_json() for c in created.values()],
        "bomRelationshipsCreated": len(lines),
    }
    record = replace(
        session,
        design_id=plan.design_id,
        status=COMPLETED,
        artifacts={**session.artifacts, RESULT_KEY: result},
    )
    return Built(items, links, lines, eco, created, result, record)


def _changes(
    created: Sequence[CreatedItem],
    reused: Sequence[str],
    lines: Sequence[BomLine],
    links: Sequence[RequirementLink],
) -> dict[str, Any]:
    return {
        "createdItems": [c.to_json() for c in created],
        "reusedItemIds": list(reused),
        "bomLinesAdded": [
            {
                "bomLineId": line.id,
                "parentItemId": line.parent_item_id,
                "childItemId": line.child_item_id,
                "quantity": line.quantity,
                "position": line.position,
            }
            for line in lines
        ],
        "requirementLinksAdded": [
            {"itemId": link.item_id, "requirementItemId": link.requirement_item_id} for link in links
        ],
    }
