"""What a design session's drafts become in the PLM: the plan handed to
``EngineStore.materialize`` and the outcome it returns (plain, picklable records)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .records import Design, DesignSessionRecord, Eco, ItemKind

__all__ = [
    "ITEM_TYPES",
    "CreatedItem",
    "MaterializationOutcome",
    "MaterializationPlan",
    "PlannedLine",
    "PlannedPart",
    "PlannedRequirement",
]

# The spec's ``itemType`` of each kind.
ITEM_TYPES: Mapping[ItemKind, str] = {ItemKind.PART: "Part", ItemKind.REQUIREMENT: "Requirement"}


@dataclass(frozen=True, slots=True)
class PlannedRequirement:
    """A requirement draft to create (``attributes``: requirementType, priority, ...)."""

    temp_id: str
    name: str
    description: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlannedPart:
    """A BOM node: a new part to create, or, with ``existing_item_id``, a part reused as it is
    (its name, description and attributes here are then ignored)."""

    temp_id: str
    name: str
    description: str
    attributes: dict[str, Any] = field(default_factory=dict)
    existing_item_id: str | None = None
    requirement_temp_ids: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class PlannedLine:
    """``quantity`` of part ``child_temp_id`` in part ``parent_temp_id`` (``None``: the
    design's top level), ``position`` among that parent's children."""

    parent_temp_id: str | None
    child_temp_id: str
    quantity: int
    position: int


@dataclass(frozen=True, slots=True)
class MaterializationPlan:
    """What a session's confirmed drafts become in the PLM, all or nothing.

    ``new_design`` (its id ``design_id``) is created first when given; otherwise
    ``design_id`` names an existing design of ``program_id``. Whether an ECO is needed (a
    released design) and whether the user may reuse an item are the caller's policy: the
    store checks only that what is referred to exists and fits. ``created_at`` stamps the
    created records (now when ``None``).
    """

    owner_id: str
    program_id: str
    design_id: str
    new_design: Design | None
    create_eco: bool
    eco_title: str
    requirements: Sequence[PlannedRequirement]
    parts: Sequence[PlannedPart]
    bom: Sequence[PlannedLine]
    created_at: str | None = None

    @property
    def reused_item_ids(self) -> list[str]:
        """The existing items the plan refers to, each once, in plan order."""
        return list(dict.fromkeys(p.existing_item_id for p in self.parts if p.existing_item_id))

    @property
    def new_part_count(self) -> int:
        return sum(1 for p in self.parts if p.existing_item_id is None)


@dataclass(frozen=True, slots=True)
class CreatedItem:
    temp_id: str
    item_id: str
    item_number: str
    kind: ItemKind
    name: str

    def to_json(self) -> dict[str, Any]:
        return {
            "tempId": self.temp_id,
            "itemId": self.item_id,
            "itemNumber": self.item_number,
            "itemType": ITEM_TYPES[self.kind],
            "name": self.name,
        }


@dataclass(frozen=True, slots=True)
class MaterializationOutcome:
    """What a committed materialization did.

    ``session`` is the record as saved (at the next revision, status ``completed``, the
    ``result`` in its artifacts under ``materializationResult``); ``created_items`` maps each
    created item's tempId to it, requirements first, in plan order (reused parts are not in
    it: nothing was created for them).
    """

    session: DesignSessionRecord
    design_id: str
    design_created: bool
    created_items: dict[str, CreatedItem]
    bom_lines_created: int
    requirement_links_created: int
    eco: Eco | None
    result: dict[str, Any]

    @property
    def eco_id(self) -> str | None:
        return None if self.eco is None else self.eco.id

    @property
    def eco_number(self) -> str | None:
        return None if self.eco is None else self.eco.eco_number
