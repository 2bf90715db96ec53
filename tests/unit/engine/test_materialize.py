"""Materialization preview and plan, by value."""

from __future__ import annotations

from typing import Any

import pytest

from actors.core.errors import ValidationError
from actors.engine.materialize import materialization_plan, preview, reused_item_ids
from storage.engine import Design, Item, ItemKind, LifecycleState


def _node(
    temp_id: str,
    *,
    is_new: bool = True,
    quantity: int = 1,
    children: list[Any] | None = None,
    existing: str | None = None,
    reqs: list[str] | None = None,
) -> dict[str, Any]:
    node: dict[str, Any] = {
        "tempId": temp_id,
        "name": temp_id.title(),
        "isNew": is_new,
        "quantity": quantity,
        "children": children or [],
        "requirementTempIds": reqs or [],
        "partType": "Manufacture",
    }
    if existing:
        node["existingItemId"] = existing
    return node


ARTIFACTS: dict[str, Any] = {
    "requirements": [{"tempId": "req-1", "name": "Speed"}, {"tempId": "req-2", "name": "Mass"}],
    "bom": {
        "rootAssembly": _node(
            "root",
            children=[
                _node("frame", reqs=["req-1", "req-9"]),
                _node("bolt", is_new=False, existing="item-7", quantity=8),
            ],
        )
    },
}
BOLT = Item("item-7", "ada", "prog", ItemKind.PART, "P-1042", "Bolt", "", {}, "2025-01-01T00:00:00.000Z")


def _design(state: LifecycleState) -> Design:
    return Design("d1", "prog", "Kart", state, "2025-01-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z")


def test_preview_counts_new_reused_requirements_and_lines() -> None:
    result = preview(ARTIFACTS, {"item-7": BOLT}, _design(LifecycleState.RELEASED))
    assert (result["newPartsCount"], result["reusedPartsCount"], result["newRequirementsCount"]) == (2, 1, 2)
    assert result["bomRelationshipsCount"] == 3
    assert result["requiresEco"] is True
    assert result["targetDesignId"] == "d1"
    bolt = next(i for i in result["items"] if i["tempId"] == "bolt")
    assert bolt == {
        "tempId": "bolt",
        "name": "Bolt",
        "itemType": "Part",
        "isNew": False,
        "existingItemNumber": "P-1042",
    }
    assert preview(ARTIFACTS, {}, None)["requiresEco"] is False


def test_plan_lines_links_and_eco() -> None:
    plan = materialization_plan(
        owner_id="ada",
        program_id="prog",
        title="Kart",
        artifacts=ARTIFACTS,
        target=_design(LifecycleState.RELEASED),
        new_design=None,
    )
    assert plan.create_eco
    assert plan.design_id == "d1"
    assert [(line.parent_temp_id, line.child_temp_id, line.quantity, line.position) for line in plan.bom] == [
        (None, "root", 1, 0),
        ("root", "frame", 1, 0),
        ("root", "bolt", 8, 1),
    ]
    frame = next(p for p in plan.parts if p.temp_id == "frame")
    assert tuple(frame.requirement_temp_ids) == ("req-1",)  # an unknown requirement is not linked
    assert next(p for p in plan.parts if p.temp_id == "bolt").existing_item_id == "item-7"
    draft = materialization_plan(
        owner_id="ada",
        program_id="prog",
        title="Kart",
        artifacts=ARTIFACTS,
        target=_design(LifecycleState.DRAFT),
        new_design=None,
    )
    assert not draft.create_eco


def test_no_bom_and_unnamed_reuse_are_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        preview({"requirements": []}, {}, None)
    assert caught.value.field == "artifacts.bom"
    bad = {"bom": {"rootAssembly": _node("root", children=[_node("x", is_new=False)])}}
    with pytest.raises(ValidationError) as caught:
        reused_item_ids(bad)
    assert caught.value.field == "artifacts.bom.x.existingItemId"
