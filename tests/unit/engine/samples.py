"""Artifacts used across the engine tests (fresh copies each call)."""

from __future__ import annotations

import copy
from typing import Any

_REQUIREMENT: dict[str, Any] = {
    "tempId": "req-1",
    "name": "Maximum speed",
    "description": "Top speed shall not exceed 15 km/h",
    "requirementType": "Performance",
    "priority": "high",
    "verificationMethod": "Test",
    "rationale": "Safety standard for children's vehicles",
    "confidence": 0.9,
    "source": "ai",
}


def requirement(temp_id: str = "req-1", **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(_REQUIREMENT), "tempId": temp_id, **changes}


def load_requirement() -> dict[str, Any]:
    """A short medium-priority requirement (``Load``) that a scripted model proposes."""
    return requirement(
        "req-1", name="Load", description="Holds 20 kg", priority="medium", rationale="Use", confidence=0.8
    )


def node(temp_id: str, *children: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "tempId": temp_id,
        "name": temp_id.title(),
        "isNew": True,
        "quantity": 1,
        "children": list(children),
        "requirementTempIds": [],
        "partType": "Manufacture",
        **changes,
    }


def impossible_plate() -> dict[str, Any]:
    """A new BOM part ``bad-plate`` whose hole is wider than the plate: its CAD must fail."""
    return node(
        "bad-plate",
        name="Impossible plate",
        material="steel",
        parameters={
            "shape": "plate",
            "length_mm": 20,
            "width_mm": 20,
            "thickness_mm": 2,
            "holes": 1,
            "hole_diameter_mm": 40,
        },
    )


def bom() -> dict[str, Any]:
    return {
        "rootAssembly": node(
            "asm-1",
            node("frame", node("tube", quantity=4, material="Steel")),
            node("motor", partType="Purchase", isNew=False, existingItemId="item-9"),
            rationale="Top-level assembly",
            confidence=1.0,
        ),
        "proposedParts": [node("seat")],
        "requirementsCoverage": {"req-1": ["motor"]},
        "uncoveredRequirements": ["req-2"],
        "validationIssues": [{"severity": "warning", "message": "no brake"}],
    }


def artifacts() -> dict[str, Any]:
    """A complete, valid ``DesignArtifacts`` touching every key."""
    return {
        "description": "Design an electric go-kart for children ages 8-12",
        "requirements": [
            requirement("req-1"),
            requirement("req-2", name="Brakes", priority="critical", source="user"),
        ],
        "bom": bom(),
        "clarifications": [
            {"id": "q-1", "question": "Battery type?", "options": ["LiFePO4", "Li-ion"]},
            {
                "id": "q-0",
                "question": "Seat count?",
                "answer": "one",
                "answeredAt": "2025-03-15T10:00:00.000Z",
            },
        ],
        "userMessages": [{"id": "m-1", "text": "Keep it cheap", "createdAt": "2025-03-15T10:01:00Z"}],
        "pendingClarificationId": "q-1",
        "materializationResult": {
            "designId": "design-uuid",
            "ecoId": "eco-uuid",
            "ecoNumber": "ECO-0042",
            "createdItems": [
                {
                    "tempId": "frame",
                    "itemId": "item-uuid",
                    "itemNumber": "P-1050",
                    "itemType": "Part",
                    "name": "Frame",
                }
            ],
            "bomRelationshipsCreated": 10,
        },
        "cadGenerationState": {"status": "done", "parts": {"frame": {"file": "frame.step"}}},
    }
