"""The benchmark's BOM (pure): a fixed, varied set of Manufacture parts at realistic sizes.

Twenty parts of a small machine frame: plates with hole patterns, plates with a boss, L
brackets, shafts and pins, tubes and bushings, trays and blocks, in the materials a design
session names. Every one parses with `actors.engine.cad.params.parse_part` (the smoke test
checks), so a failed part in a run is the kernel's or the cluster's doing, never the BOM's.
The order mixes heavy and light parts, so the first few (``--parts 2``) are still varied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["PARTS", "bom", "shape_of"]


def _node(temp_id: str, name: str, material: str, **parameters: Any) -> dict[str, Any]:
    return {
        "tempId": temp_id,
        "name": name,
        "partType": "Manufacture",
        "quantity": 1,
        "material": material,
        "parameters": parameters,
    }


PARTS: tuple[dict[str, Any], ...] = (
    _node(
        "base-plate",
        "Base plate",
        "S235 steel",
        shape="plate",
        length_mm=300,
        width_mm=200,
        thickness_mm=10,
        holes=4,
        hole_diameter_mm=9,
    ),
    _node("drive-shaft", "Drive shaft", "C45 steel", shape="shaft", diameter_mm=20, length_mm=200),
    _node(
        "motor-bracket",
        "Motor bracket",
        "S235 steel",
        shape="l_bracket",
        length_mm=150,
        width_mm=80,
        height_mm=100,
        thickness_mm=10,
        holes=4,
        hole_diameter_mm=11,
    ),
    _node(
        "bearing-bushing",
        "Bearing bushing",
        "bronze",
        shape="bushing",
        outer_diameter_mm=30,
        inner_diameter_mm=20,
        height_mm=30,
    ),
    _node(
        "enclosure",
        "Electronics enclosure",
        "ABS",
        shape="tray",
        length_mm=200,
        width_mm=150,
        height_mm=80,
        wall_mm=3,
        holes=4,
        hole_diameter_mm=4,
    ),
    _node(
        "motor-flange",
        "Motor flange",
        "aluminium 6061",
        shape="plate_with_boss",
        length_mm=90,
        width_mm=90,
        thickness_mm=10,
        boss_diameter_mm=30,
        boss_height_mm=12,
        holes=4,
        hole_diameter_mm=5.5,
    ),
    _node(
        "cover-plate",
        "Cover plate",
        "aluminium 6061",
        shape="plate",
        length_mm=250,
        width_mm=150,
        thickness_mm=3,
        holes=6,
        hole_diameter_mm=5.5,
    ),
    _node(
        "frame-tube",
        "Frame tube",
        "aluminium 6061",
        shape="tube",
        outer_diameter_mm=60,
        wall_mm=3,
        length_mm=300,
    ),
    _node(
        "corner-bracket",
        "Corner bracket",
        "aluminium 6061",
        shape="l_bracket",
        length_mm=80,
        width_mm=50,
        height_mm=60,
        thickness_mm=5,
        holes=2,
        hole_diameter_mm=6.6,
    ),
    _node("locating-pin", "Locating pin", "stainless steel", shape="pin", diameter_mm=8, length_mm=40),
    _node(
        "mounting-plate",
        "Mounting plate with boss",
        "S235 steel",
        shape="plate_with_boss",
        length_mm=120,
        width_mm=120,
        thickness_mm=8,
        boss_diameter_mm=40,
        boss_height_mm=15,
        holes=4,
        hole_diameter_mm=6.6,
    ),
    _node(
        "sensor-housing",
        "Sensor housing",
        "aluminium 6061",
        shape="housing",
        length_mm=120,
        width_mm=80,
        height_mm=40,
        wall_mm=2.5,
    ),
    _node(
        "guide-rail",
        "Guide rail plate",
        "tool steel",
        shape="plate",
        length_mm=500,
        width_mm=40,
        thickness_mm=8,
        holes=8,
        hole_diameter_mm=6.6,
    ),
    _node(
        "spacer",
        "Spacer",
        "S235 steel",
        shape="spacer",
        outer_diameter_mm=20,
        inner_diameter_mm=10.5,
        height_mm=25,
    ),
    _node("handwheel-disc", "Handwheel disc", "aluminium 6061", shape="disc", diameter_mm=120, height_mm=12),
    _node(
        "clamp-block",
        "Clamp block",
        "S235 steel",
        shape="block",
        length_mm=60,
        width_mm=40,
        height_mm=30,
        holes=2,
        hole_diameter_mm=8.5,
    ),
    _node(
        "cable-clip",
        "Cable clip bracket",
        "aluminium 6061",
        shape="l_bracket",
        length_mm=40,
        width_mm=25,
        height_mm=25,
        thickness_mm=3,
        holes=1,
        hole_diameter_mm=4.5,
    ),
    _node(
        "gusset",
        "Gusset plate",
        "S235 steel",
        shape="plate",
        length_mm=100,
        width_mm=100,
        thickness_mm=6,
        holes=2,
        hole_diameter_mm=8.5,
    ),
    _node("end-cap", "End cap", "POM", shape="disc", diameter_mm=50, height_mm=5),
    _node(
        "sensor-mount",
        "Sensor mount",
        "PETG",
        shape="plate_with_boss",
        length_mm=60,
        width_mm=40,
        thickness_mm=5,
        boss_diameter_mm=20,
        boss_height_mm=10,
    ),
)


def bom(count: int) -> list[dict[str, Any]]:
    """The first ``count`` parts; past the 20 the set repeats under new tempIds (``-2``, ``-3``…)."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    nodes: list[dict[str, Any]] = []
    for index in range(count):
        base = PARTS[index % len(PARTS)]
        copy = index // len(PARTS)
        node = {**base, "parameters": dict(base["parameters"])}
        if copy:
            node["tempId"] = f"{base['tempId']}-{copy + 1}"
        nodes.append(node)
    return nodes


def shape_of(node: Mapping[str, Any]) -> str:
    """The shape as the BOM names it (``l_bracket``, ``tray``…), for the per-shape table."""
    return str(node.get("parameters", {}).get("shape", "?"))
