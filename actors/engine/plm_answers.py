"""What the PLM routes answer: programs, members, designs, items, BOM trees and ECOs (pure).

Typed once, as the session operations' answers are (``answers.py``): ``plm.py`` builds
them from the store's records, the gateway writes them out under ``data`` and the OpenAPI
document's schemas are generated from them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta

from storage.engine import LifecycleState

from .answers import Answer

__all__ = ["BomNode", "Design", "Eco", "Item", "ItemWithRequirements", "Program", "ProgramMember"]


class Program(Answer, frozen=True):
    id: str
    owner_id: str
    name: str
    description: str
    created_at: str


class ProgramMember(Answer, frozen=True):
    program_id: str
    user_id: str
    role: Literal["member", "viewer"]


class Design(Answer, frozen=True):
    id: str
    program_id: str
    name: str
    lifecycle_state: LifecycleState
    created_at: str
    updated_at: str


class Item(Answer, frozen=True):
    id: str
    item_number: str
    item_type: Literal["Part", "Requirement"]
    name: str
    description: str
    program_id: str
    attributes: dict[str, Any]
    created_at: str


class ItemWithRequirements(Item, frozen=True):
    """An item with the requirements linked to it."""

    requirements: list[Item]


class BomNode(Item, frozen=True):
    """An item in the design's BOM tree, with its quantity in its parent."""

    quantity: float
    position: int
    children: list[BomNode]


class Eco(Answer, frozen=True):
    id: str
    eco_number: str
    design_id: str
    session_id: str | None
    title: str
    changes: Annotated[
        dict[str, Any], Meta(description="The items created, the BOM lines and requirement links added.")
    ]
    created_at: str
