"""Materialization: a session's draft requirements and BOM as PLM items (pure).

``preview`` counts what ``plan`` would create, from the artifacts and the PLM records they
name; ``plan`` is what the store carries out in one transaction. One BOM line per node of
the tree (the root on the design's top level), so the counts match what is created.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from storage.engine import (
    Design,
    Item,
    LifecycleState,
    MaterializationPlan,
    PlannedLine,
    PlannedPart,
    PlannedRequirement,
)

from ..core.errors import ValidationError

__all__ = ["materialization_plan", "preview", "reused_item_ids"]

_REQUIREMENT_ATTRIBUTES = (
    "requirementType",
    "priority",
    "verificationMethod",
    "rationale",
    "confidence",
    "source",
)
_PART_ATTRIBUTES = ("partType", "material", "parameters", "rationale", "confidence")


def _walk(
    node: Mapping[str, Any], parent: str | None, position: int
) -> Iterator[tuple[Mapping[str, Any], str | None, int]]:
    yield node, parent, position
    for index, child in enumerate(node.get("children", [])):
        yield from _walk(child, str(node["tempId"]), index)


def _nodes(artifacts: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], str | None, int]]:
    bom = artifacts.get("bom")
    if not isinstance(bom, Mapping) or not isinstance(bom.get("rootAssembly"), Mapping):
        raise ValidationError("artifacts.bom", "the session has no BOM to materialize")
    return list(_walk(bom["rootAssembly"], None, 0))


def reused_item_ids(artifacts: Mapping[str, Any]) -> list[str]:
    """The existing items the BOM reuses (``isNew: false`` with an ``existingItemId``)."""
    ids: list[str] = []
    for node, _, _ in _nodes(artifacts):
        if not node.get("isNew", True):
            item_id = node.get("existingItemId")
            if not isinstance(item_id, str) or not item_id:
                raise ValidationError(
                    f"artifacts.bom.{node.get('tempId')}.existingItemId", "a reused part must name its item"
                )
            ids.append(item_id)
    return ids


def preview(
    artifacts: Mapping[str, Any], existing: Mapping[str, Item], target: Design | None
) -> dict[str, Any]:
    """The spec's materialization preview: what would be created and reused."""
    nodes = _nodes(artifacts)
    requirements = [r for r in artifacts.get("requirements", []) if isinstance(r, Mapping)]
    items: list[dict[str, Any]] = []
    new_parts = reused = 0
    for node, _, _ in nodes:
        entry: dict[str, Any] = {"tempId": node["tempId"], "name": node["name"], "itemType": "Part"}
        item = existing.get(str(node.get("existingItemId"))) if not node.get("isNew", True) else None
        if item is None:
            new_parts += 1
            entry["isNew"] = True
        else:
            reused += 1
            entry["isNew"] = False
            entry["existingItemNumber"] = item.item_number
        items.append(entry)
    items.extend(
        {"tempId": r["tempId"], "name": r["name"], "itemType": "Requirement", "isNew": True}
        for r in requirements
    )
    return {
        "newPartsCount": new_parts,
        "reusedPartsCount": reused,
        "newRequirementsCount": len(requirements),
        "bomRelationshipsCount": len(nodes),
        "requiresEco": target is not None and target.lifecycle_state is LifecycleState.RELEASED,
        "targetDesignId": target.id if target is not None else None,
        "items": items,
    }


def materialization_plan(
    *,
    owner_id: str,
    program_id: str,
    title: str,
    artifacts: Mapping[str, Any],
    target: Design | None,
    new_design: Design | None,
) -> MaterializationPlan:
    """What the store creates: requirements, new parts, BOM lines, and an ECO for a released design."""
    nodes = _nodes(artifacts)
    requirements = [r for r in artifacts.get("requirements", []) if isinstance(r, Mapping)]
    known_requirements = {str(r["tempId"]) for r in requirements}
    parts = [
        PlannedPart(
            temp_id=str(node["tempId"]),
            name=str(node["name"]),
            description=str(node.get("rationale", "")),
            attributes={key: node[key] for key in _PART_ATTRIBUTES if key in node},
            existing_item_id=None if node.get("isNew", True) else str(node["existingItemId"]),
            requirement_temp_ids=tuple(
                t for t in node.get("requirementTempIds", []) if t in known_requirements
            ),
        )
        for node, _, _ in nodes
    ]
    design = new_design or target
    assert design is not None  # the caller passes the target or a new design
    return MaterializationPlan(
        owner_id=owner_id,
        program_id=program_id,
        design_id=design.id,
        new_design=new_design,
        create_eco=target is not None and target.lifecycle_state is LifecycleState.RELEASED,
        eco_title=f"Materialize {title}",
        requirements=[
            PlannedRequirement(
                temp_id=str(r["tempId"]),
                name=str(r["name"]),
                description=str(r.get("description", "")),
                attributes={key: r[key] for key in _REQUIREMENT_ATTRIBUTES if key in r},
            )
            for r in requirements
        ],
        parts=parts,
        bom=[
            PlannedLine(
                parent_temp_id=parent,
                child_temp_id=str(node["tempId"]),
                quantity=int(node.get("quantity", 1)),
                position=position,
            )
            for node, parent, position in nodes
        ],
    )
