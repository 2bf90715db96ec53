"""Valid tool arguments for the LLM-layer tests (fresh copies each call)."""

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


def requirements_args(count: int = 2) -> dict[str, Any]:
    return {"requirements": [requirement(f"req-{i}") for i in range(1, count + 1)]}


def node(temp_id: str, *children: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "tempId": temp_id,
        "name": temp_id.title(),
        "isNew": True,
        "quantity": 1,
        "children": list(children),
        "requirementTempIds": [],
        "partType": "Manufacture",
        "material": "6061-T6 aluminium",
        "rationale": "needed",
        "confidence": 0.8,
        **changes,
    }


def bom_args() -> dict[str, Any]:
    plate = node(
        "prt-1",
        requirementTempIds=["req-1"],
        parameters={"shape": "plate", "length_mm": 120, "width_mm": 80, "thickness_mm": 6},
    )
    screw = node("prt-2", partType="Purchase", quantity=8)
    del screw["material"]
    root = node("asm-1", plate, screw, requirementTempIds=["req-2"])
    del root["material"]
    return {"rootAssembly": root}
