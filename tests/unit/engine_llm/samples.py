"""Valid tool arguments for the LLM-layer tests (fresh copies each call)."""

from __future__ import annotations

from typing import Any

from ..engine.samples import node as engine_node
from ..engine.samples import requirement


def requirements_args(count: int = 2) -> dict[str, Any]:
    return {"requirements": [requirement(f"req-{i}") for i in range(1, count + 1)]}


def node(temp_id: str, *children: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The engine's BOM node with the fields a model is asked to fill in as well."""
    filled: dict[str, Any] = {"material": "6061-T6 aluminium", "rationale": "needed", "confidence": 0.8}
    return engine_node(temp_id, *children, **{**filled, **changes})


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
