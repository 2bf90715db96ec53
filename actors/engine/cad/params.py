"""CAD-ready part specifications parsed from BOM nodes: shapes, dimensions, holes, materials.

Pure: a BOM node's ``parameters`` and ``material`` in, a validated `PartSpec` out, no I/O and
no build123d. Everything a worker needs to build the solid is decided here (hole centres
included), so a spec that parses is one the geometry kernel can build, and the closed-form
`expected_volume` lets tests check the kernel's result by value.

Coordinates: millimetres; every part sits in the positive octant with its bounding box
starting at the origin; X is the length, Y the width, Z the height or thickness.

Shapes (``parameters.shape``, aliases in `SHAPE_ALIASES`):

- ``plate``: ``length_mm``, ``width_mm``, ``thickness_mm``; optional holes through Z and an
  optional centred boss on top (``boss_diameter_mm`` + ``boss_height_mm``;
  ``plate_with_boss`` requires them).
- ``box``: ``length_mm``, ``width_mm``, ``height_mm``; with ``wall_mm`` an open-top tray of
  that wall and floor thickness; holes go through Z (through the floor of a tray).
- ``cylinder``: ``diameter_mm`` and ``height_mm`` (or ``length_mm``), axis along Z.
- ``tube``: ``outer_diameter_mm`` (or ``diameter_mm``), ``inner_diameter_mm`` or
  ``wall_mm``, ``height_mm`` (or ``length_mm``), axis along Z.
- ``bracket`` (L-profile): ``length_mm`` along X, a base flange ``width_mm`` along Y, an
  upright leg ``height_mm`` along Z, both ``thickness_mm`` thick; holes go through the flange.

Holes: ``holes`` (a count) with ``hole_diameter_mm`` and optional ``hole_margin_mm`` (centre to
edge). One hole is centred; two or an odd count make one row along the longer side; an even
count of four or more makes two rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any, TypeAlias

from .materials import DEFAULT_DENSITY_G_CM3 as DEFAULT_DENSITY_G_CM3
from .materials import MATERIALS as MATERIALS
from .materials import Material as Material
from .materials import lookup_material as lookup_material

__all__ = [
    "DEFAULT_DENSITY_G_CM3",
    "MATERIALS",
    "SHAPE_ALIASES",
    "BoxDims",
    "BracketDims",
    "CadError",
    "CadLimitError",
    "CadLimits",
    "CadParameterError",
    "CylinderDims",
    "Dimensions",
    "HolePattern",
    "Material",
    "PartSpec",
    "PlateDims",
    "Shape",
    "TubeDims",
    "expected_volume",
    "lookup_material",
    "parse_part",
]


class CadError(Exception):
    """Base of the CAD errors that become a part's ``failed`` status."""


class CadParameterError(CadError, ValueError):
    """A BOM node's CAD parameters are missing or cannot describe a buildable part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class CadLimitError(CadError):
    """A generated artefact exceeds one of the `CadLimits` (named by ``limit``)."""

    def __init__(self, limit: str, value: float, maximum: float) -> None:
        super().__init__(f"{limit} exceeded: {value:g} > {maximum:g}")
        self.limit = limit
        self.value = value
        self.maximum = maximum


@dataclass(frozen=True, slots=True)
class CadLimits:
    """Bounds on what one session may ask of the CAD workers."""

    max_dimension_mm: float = 5000.0
    # The smallest dimension, wall or ligament between holes that a part may have.
    min_feature_mm: float = 0.5
    max_holes: int = 64
    max_triangles: int = 200_000
    max_parts_per_session: int = 200
    max_assembly_instances: int = 1000
    job_timeout_s: float = 60.0
    mesh_tolerance_mm: float = 0.05
    mesh_angular_tolerance_rad: float = 0.2

    def to_json(self) -> dict[str, float | int]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> CadLimits:
        """Limits from a JSON object; missing keys keep their defaults, unknown keys are refused."""
        if not data:
            return cls()
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise ValueError(f"unknown CAD limit {key!r}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"CAD limit {key!r} must be a positive number, got {value!r}")
            values[key] = int(value) if known[key].type == "int" else float(value)
        return cls(**values)


class Shape(StrEnum):
    PLATE = "plate"
    BOX = "box"
    CYLINDER = "cylinder"
    TUBE = "tube"
    BRACKET = "bracket"


SHAPE_ALIASES: Mapping[str, Shape] = {
    **{shape.value: shape for shape in Shape},
    "plate_with_boss": Shape.PLATE,
    "boss_plate": Shape.PLATE,
    "sheet": Shape.PLATE,
    "flat_plate": Shape.PLATE,
    "block": Shape.BOX,
    "cuboid": Shape.BOX,
    "rectangular_block": Shape.BOX,
    "housing": Shape.BOX,
    "tray": Shape.BOX,
    "rod": Shape.CYLINDER,
    "shaft": Shape.CYLINDER,
    "pin": Shape.CYLINDER,
    "disc": Shape.CYLINDER,
    "disk": Shape.CYLINDER,
    "column": Shape.CYLINDER,
    "pipe": Shape.TUBE,
    "sleeve": Shape.TUBE,
    "bushing": Shape.TUBE,
    "spacer": Shape.TUBE,
    "l_bracket": Shape.BRACKET,
    "l_profile": Shape.BRACKET,
    "angle": Shape.BRACKET,
    "angle_bracket": Shape.BRACKET,
}
_BOSS_REQUIRED = frozenset({"plate_with_boss", "boss_plate"})


@dataclass(frozen=True, slots=True)
class Boss:
    diameter_mm: float
    height_mm: float


@dataclass(frozen=True, slots=True)
class PlateDims:
    length_mm: float
    width_mm: float
    thickness_mm: float
    boss: Boss | None = None


@dataclass(frozen=True, slots=True)
class BoxDims:
    length_mm: float
    width_mm: float
    height_mm: float
    # An open-top tray of this wall (and floor) thickness; None is a solid block.
    wall_mm: float | None = None


@dataclass(frozen=True, slots=True)
class CylinderDims:
    diameter_mm: float
    height_mm: float


@dataclass(frozen=True, slots=True)
class TubeDims:
    outer_diameter_mm: float
    inner_diameter_mm: float
    height_mm: float


@dataclass(frozen=True, slots=True)
class BracketDims:
    length_mm: float
    width_mm: float
    height_mm: float
    thickness_mm: float


Dimensions: TypeAlias = PlateDims | BoxDims | CylinderDims | TubeDims | BracketDims


@dataclass(frozen=True, slots=True)
class HolePattern:
    """Through holes along Z; ``centres`` are (x, y) in the part's coordinates."""

    count: int
    diameter_mm: float
    margin_mm: float
    centres: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class PartSpec:
    temp_id: str
    name: str
    shape: Shape
    dimensions: Dimensions
    holes: HolePattern | None
    material: Material

    def parameters(self) -> dict[str, str | float | int]:
        """The canonical ``parameters`` object: parsing it again gives this spec."""
        params: dict[str, str | float | int] = {"shape": self.shape.value}
        for key, value in asdict(self.dimensions).items():
            if key == "boss":
                if value is not None:
                    params["boss_diameter_mm"] = value["diameter_mm"]
                    params["boss_height_mm"] = value["height_mm"]
            elif value is not None:
                params[key] = value
        if self.holes is not None:
            params["holes"] = self.holes.count
            params["hole_diameter_mm"] = self.holes.diameter_mm
            params["hole_margin_mm"] = self.holes.margin_mm
        if lookup_material(self.material.source) != self.material:
            params["density_g_cm3"] = self.material.density_g_cm3
        return params

    def to_json(self) -> dict[str, Any]:
        """A BOM-node-shaped object (what crosses to a worker); `parse_part` reads it back."""
        node: dict[str, Any] = {"tempId": self.temp_id, "name": self.name, "parameters": self.parameters()}
        if self.material.source is not None:
            node["material"] = self.material.source
        return node

    @property
    def height_mm(self) -> float:
        """The part's extent along Z."""
        dims = self.dimensions
        if isinstance(dims, PlateDims):
            return dims.thickness_mm + (dims.boss.height_mm if dims.boss else 0.0)
        return dims.height_mm


_NON_WORD = re.compile(r"[^a-z0-9]+")


class _Reader:
    """Reads and checks the values of one ``parameters`` object, naming fields in errors."""

    def __init__(self, params: Mapping[str, Any], limits: CadLimits) -> None:
        self.params = params
        self.limits = limits

    def field(self, key: str) -> str:
        return f"parameters.{key}"

    def _pick(self, keys: tuple[str, ...]) -> tuple[str, Any] | None:
        for key in keys:
            if self.params.get(key) is not None:
                return key, self.params[key]
        return None

    def length(self, *keys: str, required: bool = True) -> float | None:
        found = self._pick(keys)
        if found is None:
            if not required:
                return None
            also = f" (also accepted: {', '.join(keys[1:])})" if len(keys) > 1 else ""
            raise CadParameterError(self.field(keys[0]), f"missing{also}")
        key, value = found
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CadParameterError(self.field(key), f"must be a number of millimetres, got {value!r}")
        number = float(value)
        if not math.isfinite(number) or number <= 0:
            raise CadParameterError(self.field(key), f"must be a positive finite number, got {value!r}")
        if number < self.limits.min_feature_mm:
            raise CadParameterError(
                self.field(key),
                f"{number:g} mm is below the smallest feature ({self.limits.min_feature_mm:g} mm)",
            )
        if number > self.limits.max_dimension_mm:
            raise CadParameterError(
                self.field(key),
                f"{number:g} mm exceeds max_dimension_mm ({self.limits.max_dimension_mm:g} mm)",
            )
        return number

    def need(self, *keys: str) -> float:
        value = self.length(*keys)
        assert value is not None  # required=True raises instead of returning None
        return value

    def density(self, key: str) -> float | None:
        value = self.params.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CadParameterError(self.field(key), f"must be a number of g/cm³, got {value!r}")
        if not math.isfinite(value) or not 0 < value <= 25:
            raise CadParameterError(self.field(key), f"must be between 0 and 25 g/cm³, got {value!r}")
        return float(value)

    def count(self, key: str) -> int:
        value = self.params.get(key)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 0:
            raise CadParameterError(self.field(key), f"must be a whole number >= 0, got {value!r}")
        if value > self.limits.max_holes:
            raise CadParameterError(
                self.field(key), f"at most {self.limits.max_holes} holes, got {int(value)}"
            )
        return int(value)


def parse_part(node: Mapping[str, Any], limits: CadLimits | None = None) -> PartSpec:
    """The `PartSpec` for a BOM node (``tempId``, ``name``, ``parameters``, ``material``).

    Raises `CadParameterError` naming the offending field (``parameters.length_mm``, ...).
    Unknown parameter keys are ignored: models add descriptive ones (``finish``, ...).
    """
    limits = limits or CadLimits()
    if not isinstance(node, Mapping):
        raise CadParameterError("node", f"must be an object, got {type(node).__name__}")
    temp_id = node.get("tempId")
    if not isinstance(temp_id, str) or not temp_id.strip():
        raise CadParameterError("tempId", "must be a non-empty string")
    name = node.get("name")
    if name is not None and not isinstance(name, str):
        raise CadParameterError("name", "must be a string")
    material_text = node.get("material")
    if material_text is not None and not isinstance(material_text, str):
        raise CadParameterError("material", "must be a string")
    params = node.get("parameters")
    if params is None:
        raise CadParameterError("parameters", "missing: the part has no CAD parameters")
    if not isinstance(params, Mapping):
        raise CadParameterError("parameters", f"must be an object, got {type(params).__name__}")
    raw_shape = params.get("shape")
    if not isinstance(raw_shape, str) or not raw_shape.strip():
        raise CadParameterError("parameters.shape", "missing: name a shape, e.g. 'plate'")
    shape_key = _NON_WORD.sub("_", raw_shape.strip().lower()).strip("_")
    shape = SHAPE_ALIASES.get(shape_key)
    if shape is None:
        known = ", ".join(s.value for s in Shape)
        raise CadParameterError("parameters.shape", f"unknown shape {raw_shape!r}; known shapes: {known}")
    read = _Reader(params, limits)
    dims = _dimensions(read, shape, boss_required=shape_key in _BOSS_REQUIRED)
    holes = _holes(read, shape, dims)
    material = lookup_material(material_text)
    density = read.density("density_g_cm3")
    if density is not None:
        material = Material(material.name if material.known else "as specified", density, True, material_text)
    return PartSpec(temp_id, name or temp_id, shape, dims, holes, material)


def _dimensions(read: _Reader, shape: Shape, *, boss_required: bool) -> Dimensions:
    lig = read.limits.min_feature_mm
    if shape is Shape.PLATE:
        plate = PlateDims(
            read.need("length_mm"), read.need("width_mm"), read.need("thickness_mm", "height_mm")
        )
        diameter = read.length("boss_diameter_mm", required=boss_required)
        height = read.length("boss_height_mm", required=boss_required or diameter is not None)
        if height is not None and diameter is None:
            raise CadParameterError("parameters.boss_diameter_mm", "missing (boss_height_mm is given)")
        if diameter is None or height is None:
            return plate
        if diameter > min(plate.length_mm, plate.width_mm):
            raise CadParameterError(
                "parameters.boss_diameter_mm",
                f"a Ø{diameter:g} mm boss does not fit the {plate.length_mm:g} x {plate.width_mm:g} mm plate",
            )
        return PlateDims(plate.length_mm, plate.width_mm, plate.thickness_mm, Boss(diameter, height))
    if shape is Shape.BOX:
        box = BoxDims(read.need("length_mm"), read.need("width_mm"), read.need("height_mm"))
        wall = read.length("wall_mm", "wall_thickness_mm", required=False)
        if wall is None:
            return box
        if 2 * wall + lig > min(box.length_mm, box.width_mm) or wall + lig > box.height_mm:
            raise CadParameterError(
                "parameters.wall_mm",
                f"a {wall:g} mm wall leaves no inside in a {box.length_mm:g} x {box.width_mm:g} x "
                f"{box.height_mm:g} mm box",
            )
        return BoxDims(box.length_mm, box.width_mm, box.height_mm, wall)
    if shape is Shape.CYLINDER:
        return CylinderDims(
            read.need("diameter_mm", "outer_diameter_mm"), read.need("height_mm", "length_mm")
        )
    if shape is Shape.TUBE:
        outer = read.need("outer_diameter_mm", "diameter_mm")
        height = read.need("height_mm", "length_mm")
        inner = read.length("inner_diameter_mm", "bore_diameter_mm", required=False)
        if inner is None:
            wall = read.length("wall_mm", "wall_thickness_mm", required=False)
            if wall is None:
                raise CadParameterError("parameters.inner_diameter_mm", "missing (or give wall_mm)")
            if outer - 2 * wall < lig:
                raise CadParameterError(
                    "parameters.wall_mm", f"a {wall:g} mm wall closes a Ø{outer:g} mm tube"
                )
            inner = outer - 2 * wall
        if inner > outer - 2 * lig:
            raise CadParameterError(
                "parameters.inner_diameter_mm",
                f"Ø{inner:g} mm leaves less than a {lig:g} mm wall in a Ø{outer:g} mm tube",
            )
        return TubeDims(outer, inner, height)
    bracket = BracketDims(
        read.need("length_mm"),
        read.need("width_mm"),
        read.need("height_mm"),
        read.need("thickness_mm", "wall_mm"),
    )
    if bracket.thickness_mm + lig > min(bracket.width_mm, bracket.height_mm):
        raise CadParameterError(
            "parameters.thickness_mm",
            f"{bracket.thickness_mm:g} mm leaves no flange on a {bracket.width_mm:g} x "
            f"{bracket.height_mm:g} mm L-profile",
        )
    return bracket


def _hole_region(dims: Dimensions) -> tuple[float, float, float, float]:
    """The (x0, y0, x1, y1) rectangle that through holes may use."""
    if isinstance(dims, PlateDims):
        return 0.0, 0.0, dims.length_mm, dims.width_mm
    if isinstance(dims, BoxDims):
        wall = dims.wall_mm or 0.0
        return wall, wall, dims.length_mm - wall, dims.width_mm - wall
    if isinstance(dims, BracketDims):
        return 0.0, dims.thickness_mm, dims.length_mm, dims.width_mm
    raise AssertionError(f"no hole region for {type(dims).__name__}")


def _holes(read: _Reader, shape: Shape, dims: Dimensions) -> HolePattern | None:
    count = read.count("holes")
    if count == 0:
        return None
    if shape in (Shape.CYLINDER, Shape.TUBE):
        raise CadParameterError("parameters.holes", f"a {shape.value} takes no holes (use a tube for a bore)")
    diameter = read.need("hole_diameter_mm")
    lig = read.limits.min_feature_mm
    explicit = read.length("hole_margin_mm", required=False)
    # Edge distance 1.5 d is the usual rule; tighter only when that would not fit.
    margins = [explicit] if explicit is not None else [1.5 * diameter, diameter / 2 + lig]
    region = _hole_region(dims)
    problem = ""
    for margin in margins:
        centres, problem = _layout_holes(count, diameter, margin, region, lig)
        if not problem:
            if isinstance(dims, PlateDims) and dims.boss is not None:
                boss = dims.boss
                cx, cy = dims.length_mm / 2, dims.width_mm / 2
                clear = boss.diameter_mm / 2 + diameter / 2 + lig
                if any(math.hypot(x - cx, y - cy) < clear for x, y in centres):
                    problem = f"the holes cut into the Ø{boss.diameter_mm:g} mm boss"
                    continue
            return HolePattern(count, diameter, margin, centres)
    field = "parameters.hole_margin_mm" if explicit is not None else "parameters.hole_diameter_mm"
    raise CadParameterError(field, problem)


def _layout_holes(
    count: int, diameter: float, margin: float, region: tuple[float, float, float, float], lig: float
) -> tuple[tuple[tuple[float, float], ...], str]:
    """Hole centres on a grid in ``region``, or an explanation of why they do not fit."""
    x0, y0, x1, y1 = region
    long_x = (x1 - x0) >= (y1 - y0)
    along, across = (x1 - x0, y1 - y0) if long_x else (y1 - y0, x1 - x0)
    what = (
        f"{count} holes of Ø{diameter:g} mm (margin {margin:g} mm) "
        f"do not fit a {along:g} x {across:g} mm face"
    )
    if margin < diameter / 2 + lig:
        return (), f"a margin of {margin:g} mm leaves less than {lig:g} mm outside a Ø{diameter:g} mm hole"
    rows = 2 if count >= 4 and count % 2 == 0 else 1
    cols = count // rows
    if cols == 1:
        along_at = [along / 2]
        fits_along = along >= diameter + 2 * lig
    else:
        pitch = (along - 2 * margin) / (cols - 1)
        along_at = [margin + i * pitch for i in range(cols)]
        fits_along = pitch >= diameter + lig
    if rows == 1:
        across_at = [across / 2]
        fits_across = across >= diameter + 2 * lig
    else:
        across_at = [margin, across - margin]
        fits_across = across - 2 * margin >= diameter + lig
    if not (fits_along and fits_across):
        return (), what
    points = [(a, c) for c in across_at for a in along_at]
    centres = tuple(
        (round(x0 + a, 9), round(y0 + c, 9)) if long_x else (round(x0 + c, 9), round(y0 + a, 9))
        for a, c in points
    )
    return centres, ""


def expected_volume(spec: PartSpec) -> float:
    """The part's volume in mm³, in closed form (the geometry kernel must agree)."""
    dims = spec.dimensions
    holes = spec.holes
    hole_area = holes.count * math.pi * (holes.diameter_mm / 2) ** 2 if holes else 0.0
    if isinstance(dims, PlateDims):
        volume = (dims.length_mm * dims.width_mm - hole_area) * dims.thickness_mm
        if dims.boss is not None:
            volume += math.pi * (dims.boss.diameter_mm / 2) ** 2 * dims.boss.height_mm
        return volume
    if isinstance(dims, BoxDims):
        outer = dims.length_mm * dims.width_mm * dims.height_mm
        if dims.wall_mm is None:
            return outer - hole_area * dims.height_mm
        w = dims.wall_mm
        inside = (dims.length_mm - 2 * w) * (dims.width_mm - 2 * w) * (dims.height_mm - w)
        return outer - inside - hole_area * w
    if isinstance(dims, CylinderDims):
        return math.pi * (dims.diameter_mm / 2) ** 2 * dims.height_mm
    if isinstance(dims, TubeDims):
        return math.pi / 4 * (dims.outer_diameter_mm**2 - dims.inner_diameter_mm**2) * dims.height_mm
    t = dims.thickness_mm
    section = dims.width_mm * t + (dims.height_mm - t) * t
    return section * dims.length_mm - hole_area * t
