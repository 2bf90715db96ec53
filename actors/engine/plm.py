"""Programs and designs: the minimal PLM the design engine needs, scoped to their users.

A program belongs to its owner and is readable by its members; a design belongs to a
program. Unknown ids answer ``NotFound`` and other users' records ``AccessDenied``, each
naming the request field that held the id.
"""

from __future__ import annotations

import uuid
from typing import Any

from storage import utc_now_iso
from storage.engine import Design, LifecycleState, Program

from ..core.errors import ValidationError
from ..errors import AccessDenied, NotFound
from ..store.client import EngineStoreClient

__all__ = [
    "add_member",
    "create_design",
    "create_program",
    "design_json",
    "get_design",
    "get_program",
    "list_designs",
    "list_programs",
    "program_json",
    "readable_design",
    "readable_program",
]

_MAX_NAME = 200
_MAX_DESCRIPTION = 5000


def program_json(program: Program) -> dict[str, Any]:
    return {
        "id": program.id,
        "ownerId": program.owner_id,
        "name": program.name,
        "description": program.description,
        "createdAt": program.created_at,
    }


def design_json(design: Design) -> dict[str, Any]:
    return {
        "id": design.id,
        "programId": design.program_id,
        "name": design.name,
        "lifecycleState": design.lifecycle_state.value,
        "createdAt": design.created_at,
        "updatedAt": design.updated_at,
    }


def _text(body: dict[str, Any], key: str, limit: int, *, required: bool) -> str:
    value = body.get(key)
    if value is None:
        if required:
            raise ValidationError(key, "required")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValidationError(key, "must be a non-empty string" if required else "must be a string")
    if len(value) > limit:
        raise ValidationError(key, f"must be at most {limit} characters")
    return value


def _body(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError("body", "must be a JSON object")
    return body


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


async def create_program(store: EngineStoreClient, user: str, body: object) -> dict[str, Any]:
    data = _body(body)
    program = Program(
        id=str(uuid.uuid4()),
        owner_id=user,
        name=_text(data, "name", _MAX_NAME, required=True),
        description=_text(data, "description", _MAX_DESCRIPTION, required=False),
        created_at=utc_now_iso(),
    )
    await store.create_program(program)
    return program_json(program)


async def list_programs(store: EngineStoreClient, user: str) -> list[dict[str, Any]]:
    return [program_json(p) for p in await store.list_programs(user)]


async def get_program(store: EngineStoreClient, user: str, program_id: str) -> dict[str, Any]:
    return program_json(await readable_program(store, user, program_id, "id"))


async def add_member(store: EngineStoreClient, user: str, program_id: str, body: object) -> dict[str, Any]:
    """The program's owner lets another user read it and work in it."""
    data = _body(body)
    program = await readable_program(store, user, program_id, "programId")
    if program.owner_id != user:
        raise AccessDenied("program", "programId")
    member = _text(data, "userId", _MAX_NAME, required=True)
    role = data.get("role", "member")
    if role not in ("member", "viewer"):
        raise ValidationError("role", "must be member or viewer")
    await store.add_member(program_id, member, role)
    return {"programId": program_id, "userId": member, "role": role}


async def create_design(store: EngineStoreClient, user: str, program_id: str, body: object) -> dict[str, Any]:
    data = _body(body)
    await readable_program(store, user, program_id, "programId")
    raw_state = data.get("lifecycleState", LifecycleState.DRAFT.value)
    try:
        state = LifecycleState(raw_state)
    except ValueError:
        allowed = ", ".join(s.value for s in LifecycleState)
        raise ValidationError("lifecycleState", f"must be one of {allowed}") from None
    now = utc_now_iso()
    design = Design(
        id=str(uuid.uuid4()),
        program_id=program_id,
        name=_text(data, "name", _MAX_NAME, required=True),
        lifecycle_state=state,
        created_at=now,
        updated_at=now,
    )
    await store.create_design(design)
    return design_json(design)


async def list_designs(store: EngineStoreClient, user: str, program_id: str) -> list[dict[str, Any]]:
    await readable_program(store, user, program_id, "programId")
    return [design_json(d) for d in await store.list_designs(program_id)]


async def get_design(store: EngineStoreClient, user: str, design_id: str) -> dict[str, Any]:
    return design_json(await readable_design(store, user, design_id, "id"))
