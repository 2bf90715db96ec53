"""Part parameters shared by the CAD tests (read only: tests copy them to change them)."""

from __future__ import annotations

from typing import Any

__all__ = ["BRACKET", "HOLLOW_BOX", "PLATE"]

# A 120 × 80 × 6 mm plate with four 6 mm holes: the CAD tests' usual part.
PLATE: dict[str, Any] = {
    "shape": "plate",
    "length_mm": 120,
    "width_mm": 80,
    "thickness_mm": 6,
    "holes": 4,
    "hole_diameter_mm": 6,
}
# A 60 × 40 × 30 mm box with 3 mm walls and two 4 mm holes.
HOLLOW_BOX: dict[str, Any] = {
    "shape": "box",
    "length_mm": 60,
    "width_mm": 40,
    "height_mm": 30,
    "wall_mm": 3,
    "holes": 2,
    "hole_diameter_mm": 4,
}
# A 50 × 40 × 30 mm angle bracket, 4 mm thick, with two 5 mm holes.
BRACKET: dict[str, Any] = {
    "shape": "bracket",
    "length_mm": 50,
    "width_mm": 40,
    "height_mm": 30,
    "thickness_mm": 4,
    "holes": 2,
    "hole_diameter_mm": 5,
}
