"""Programs and designs: the minimal PLM the design engine needs, scoped to their users.

A program belongs to its owner and is readable by its members; a design belongs to a
program. Unknown ids answer ``NotFound`` and other users' records ``AccessDenied``, each
naming the request field that held the id.
"""

from __future__ import annotations

import uuid
from typing import Any

from storage.clock import utc_now_iso
from storage.engine import ITEM_TYPES, BomLine, Design, Eco, Item, Program

from ..core.errors import ValidationError
from ..errors import AccessDenied, NotFound
from ..store.client import EngineStoreClient
from . import plm_answers as answers
from .plm_bodies import AddMemberBody, CreateDesignBody, CreateProgramBody

__all__ = [
    "add_member",
    "create_design",
    "create_program",
    "design_bom",
    "design_json",
    "get_design",
    "get_eco",
    "get_item",
    "get_program",
    "item_json",
    "list_designs",
    "list_programs",
    "program_json",
    "readable_design",
    "readable_program",
    "search_items",
]


def program_json(program: Program) -> answers.Program:
    return answers.Program(
        id=program.id,
        owner_id=program.owner_id,
        name=program.name,
        description=program.description,
        created_at=program.created_at,
    )


def design_json(design: Design) -> answers.Design:
    return answers.Design(
        id=design.id,
        program_id=design.program_id,
        name=design.name,
        lifecycle_state=design.lifecycle_state,
        created_at=design.created_at,
        updated_at=design.updated_at,
    )


def _not_blank(value: str, field: str) -> str:
    # A name of spaces shows as nothing in every list (the type bounds its length).
    if not value.strip():
        raise ValidationError(field, "must be a non-empty string")
    return value


async def readable_program(store: EngineStoreClient, user: str, program_id: object, field: str) -> Program:
    if not isinstance(program_id, str) or not program_id:
        raise ValidationError(field, "must be a program id")
    program = await store.get_program(program_id)
    if program is None:
        raise NotFound("program", field)
    if program.owner_id != user and await store.member_role(program_id, user) is None:
        raise AccessDenied("program", field)
    return program


async def readable_design(store: EngineStoreClient, user: str, design_id: object, field: str) -> Design:
    if not isinstance(design_id, str) or not design_id:
        raise ValidationError(field, "must be a design id")
    design = await store.get_design(design_id)
    if design is None:
        raise NotFound("design", field)
    await readable_program(store, user, design.program_id, field)
    return design


async def create_program(store: EngineStoreClient, user: str, body: CreateProgramBody) -> answers.Program:
    program = Program(
        id=str(uuid.uuid4()),
        owner_id=user,
        name=_not_blank(body.name, "name"),
        description=body.description or "",
        created_at=utc_now_iso(),
    )
    await store.create_program(program)
    return program_json(program)


async def list_programs(store: EngineStoreClient, user: str) -> list[answers.Program]:
    return [program_json(p) for p in await store.list_programs(user)]


async def get_program(store: EngineStoreClient, user: str, program_id: str) -> answers.Program:
    return program_json(await readable_program(store, user, program_id, "id"))


async def add_member(
    store: EngineStoreClient, user: str, program_id: str, body: AddMemberBody
) -> answers.ProgramMember:
    """The program's owner lets another user read it and work in it."""
    program = await readable_program(store, user, program_id, "programId")
    if program.owner_id != user:
        raise AccessDenied("program", "programId")
    member = _not_blank(body.user_id, "userId")
    await store.add_member(program_id, member, body.role)
    return answers.ProgramMember(program_id=program_id, user_id=member, role=body.role)


async def create_design(
    store: EngineStoreClient, user: str, program_id: str, body: CreateDesignBody
) -> answers.Design:
    await readable_program(store, user, program_id, "programId")
    now = utc_now_iso()
    design = Design(
        id=str(uuid.uuid4()),
        program_id=program_id,
        name=_not_blank(body.name, "name"),
        lifecycle_state=body.lifecycle_state,
        created_at=now,
        updated_at=now,
    )
    await store.create_design(design)
    return design_json(design)


async def list_designs(store: EngineStoreClient, user: str, program_id: str) -> list[answers.Design]:
    await readable_program(store, user, program_id, "programId")
    return [design_json(d) for d in await store.list_designs(program_id)]


async def get_design(store: EngineStoreClient, user: str, design_id: str) -> answers.Design:
    return design_json(await readable_design(store, user, design_id, "id"))


def _item_fields(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "item_number": item.item_number,
        "item_type": ITEM_TYPES[item.kind],
        "name": item.name,
        "description": item.description,
        "program_id": item.program_id,
        "attributes": item.attributes,
        "created_at": item.created_at,
    }


def item_json(item: Item) -> answers.Item:
    return answers.Item(**_item_fields(item))


async def _readable_item(store: EngineStoreClient, user: str, item_id: str) -> Item:
    item = await store.get_item(item_id)
    if item is None:
        raise NotFound("item", "id")
    if item.owner_id != user:
        await readable_program(store, user, item.program_id, "id")
    return item


async def get_item(store: EngineStoreClient, user: str, item_id: str) -> answers.ItemWithRequirements:
    item = await _readable_item(store, user, item_id)
    requirements = await store.item_requirements(item.id)
    return answers.ItemWithRequirements(
        **_item_fields(item), requirements=[item_json(r) for r in requirements]
    )


async def search_items(store: EngineStoreClient, user: str, query: str, limit: int) -> list[answers.Item]:
    return [item_json(item) for item in await store.search_items(user, query, limit)]


async def get_eco(store: EngineStoreClient, user: str, eco_id: str) -> answers.Eco:
    eco = await store.get_eco(eco_id)
    if eco is None:
        raise NotFound("ECO", "id")
    if eco.owner_id != user:
        await readable_design(store, user, eco.design_id, "id")
    return _eco_json(eco)


def _eco_json(eco: Eco) -> answers.Eco:
    return answers.Eco(
        id=eco.id,
        eco_number=eco.eco_number,
        design_id=eco.design_id,
        session_id=eco.session_id,
        title=eco.title,
        changes=eco.changes,
        created_at=eco.created_at,
    )


async def design_bom(store: EngineStoreClient, user: str, design_id: str) -> list[answers.BomNode]:
    """The design's BOM as a tree: top-level lines with their children, quantities included."""
    await readable_design(store, user, design_id, "id")
    lines = await store.design_bom(design_id)
    items = {item.id: item for item in await store.get_items(list({line.child_item_id for line in lines}))}
    by_parent: dict[str | None, list[BomLine]] = {}
    for line in lines:
        by_parent.setdefault(line.parent_item_id, []).append(line)

    def tree(line: BomLine, depth: int) -> answers.BomNode:
        item = items[line.child_item_id]
        children = by_parent.get(item.id, []) if depth < 64 else []
        return answers.BomNode(
            **_item_fields(item),
            quantity=line.quantity,
            position=line.position,
            children=[tree(child, depth + 1) for child in sorted(children, key=lambda c: c.position)],
        )

    return [tree(line, 0) for line in sorted(by_parent.get(None, []), key=lambda c: c.position)]
