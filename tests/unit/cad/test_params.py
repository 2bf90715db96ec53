"""Part specs by value: parsing, validation errors with fields, materials, closed-form volumes."""

from __future__ import annotations

import math
from typing import Any

import pytest

from actors.engine.artifacts import bom_nodes
from actors.engine.cad.params import (
    DEFAULT_DENSITY_G_CM3,
    MATERIALS,
    Boss,
    BoxDims,
    BracketDims,
    CadLimits,
    CadParameterError,
    CylinderDims,
    HolePattern,
    Material,
    PartSpec,
    PlateDims,
    Shape,
    TubeDims,
    expected_volume,
    lookup_material,
    parse_part,
)
from actors.engine.llm.offline_drafts import draft_bom

from .samples import BRACKET, HOLLOW_BOX, PLATE

PI = math.pi


def node(parameters: dict[str, Any] | None, material: str | None = "ABS", **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"tempId": "prt-1", "name": "Part", **extra}
    if parameters is not None:
        out["parameters"] = parameters
    if material is not None:
        out["material"] = material
    return out


# -- parsing ---------------------------------------------------------------------------------


def test_plate_with_four_holes() -> None:
    spec = parse_part(node(PLATE, "6061-T6 aluminium"))
    assert spec == PartSpec(
        temp_id="prt-1",
        name="Part",
        shape=Shape.PLATE,
        dimensions=PlateDims(120.0, 80.0, 6.0),
        # edge distance 1.5 d = 9 mm, two rows of two
        holes=HolePattern(4, 6.0, 9.0, ((9.0, 9.0), (111.0, 9.0), (9.0, 71.0), (111.0, 71.0))),
        material=Material("aluminium", 2.70, True, "6061-T6 aluminium"),
    )


def test_shapes_and_aliases() -> None:
    cases: list[tuple[dict[str, Any], Shape, object]] = [
        ({"shape": "Box", "length_mm": 60, "width_mm": 40, "height_mm": 30}, Shape.BOX, BoxDims(60, 40, 30)),
        (
            {"shape": "box", "length_mm": 60, "width_mm": 40, "height_mm": 30, "wall_mm": 3},
            Shape.BOX,
            BoxDims(60, 40, 30, 3),
        ),
        ({"shape": "cylinder", "diameter_mm": 20, "height_mm": 150}, Shape.CYLINDER, CylinderDims(20, 150)),
        ({"shape": "shaft", "diameter_mm": 20, "length_mm": 150}, Shape.CYLINDER, CylinderDims(20, 150)),
        (
            {"shape": "tube", "outer_diameter_mm": 30, "inner_diameter_mm": 20, "height_mm": 50},
            Shape.TUBE,
            TubeDims(30, 20, 50),
        ),
        (
            {"shape": "pipe", "diameter_mm": 30, "wall_mm": 2, "length_mm": 50},
            Shape.TUBE,
            TubeDims(30, 26, 50),
        ),
        (
            {"shape": "L-bracket", "length_mm": 50, "width_mm": 40, "height_mm": 30, "thickness_mm": 4},
            Shape.BRACKET,
            BracketDims(50, 40, 30, 4),
        ),
        (
            {
                "shape": "plate with boss",
                "length_mm": 100,
                "width_mm": 80,
                "thickness_mm": 5,
                "boss_diameter_mm": 30,
                "boss_height_mm": 12,
            },
            Shape.PLATE,
            PlateDims(100, 80, 5, Boss(30, 12)),
        ),
    ]
    for params, shape, dims in cases:
        spec = parse_part(node(params))
        assert (spec.shape, spec.dimensions, spec.holes) == (shape, dims, None), params


def test_every_offline_draft_part_parses() -> None:
    for brief in ("Design a small desk lamp", "Design an electric go-kart", "Design a garden shelf"):
        parsed = [parse_part(n) for n in bom_nodes(draft_bom(brief, [])) if "parameters" in n]
        assert [p.shape for p in parsed] == [Shape.PLATE, Shape.BOX, Shape.CYLINDER]
        materials = [(p.material.name, p.material.known) for p in parsed]
        assert materials == [("aluminium", True), ("steel", True), ("stainless steel", True)]


def test_canonical_json_parses_back_to_the_same_spec() -> None:
    specs = [
        parse_part(node(PLATE, "6061-T6 aluminium")),
        parse_part(node({"shape": "tube", "diameter_mm": 30, "wall_mm": 2, "length_mm": 50}, None)),
        parse_part(
            node({"shape": "cylinder", "diameter_mm": 10, "height_mm": 5, "density_g_cm3": 0.3}, "balsa")
        ),
        parse_part(
            node({"shape": "cylinder", "diameter_mm": 10, "height_mm": 5, "density_g_cm3": 1.5}, "PLA")
        ),
    ]
    for spec in specs:
        assert parse_part(spec.to_json()) == spec


def test_hole_layouts() -> None:
    def centres(count: int, **more: Any) -> tuple[tuple[float, float], ...]:
        params = {**PLATE, "holes": count, **more}
        holes = parse_part(node(params)).holes
        assert holes is not None
        return holes.centres

    assert centres(1) == ((60.0, 40.0),)
    assert centres(2) == ((9.0, 40.0), (111.0, 40.0))
    assert centres(3) == ((9.0, 40.0), (60.0, 40.0), (111.0, 40.0))
    assert centres(6, hole_margin_mm=10) == (
        (10.0, 10.0),
        (60.0, 10.0),
        (110.0, 10.0),
        (10.0, 70.0),
        (60.0, 70.0),
        (110.0, 70.0),
    )
    # The longer side is along Y here, so the row follows Y.
    tall = {
        "shape": "plate",
        "length_mm": 40,
        "width_mm": 100,
        "thickness_mm": 5,
        "holes": 2,
        "hole_diameter_mm": 4,
    }
    assert parse_part(node(tall)).holes == HolePattern(2, 4.0, 6.0, ((20.0, 6.0), (20.0, 94.0)))
    # Too tight for 1.5 d: the tightest legal margin (d/2 + 0.5 mm) is used instead.
    narrow = {**PLATE, "width_mm": 20}
    assert parse_part(node(narrow)).holes == HolePattern(
        4, 6.0, 3.5, ((3.5, 3.5), (116.5, 3.5), (3.5, 16.5), (116.5, 16.5))
    )
    # Holes of a tray go through its floor, inside the walls; a bracket's through its flange.
    tray = {
        "shape": "box",
        "length_mm": 60,
        "width_mm": 40,
        "height_mm": 30,
        "wall_mm": 3,
        "holes": 1,
        "hole_diameter_mm": 5,
    }
    assert parse_part(node(tray)).holes == HolePattern(1, 5.0, 7.5, ((30.0, 20.0),))
    assert parse_part(node(BRACKET)).holes == HolePattern(2, 5.0, 7.5, ((7.5, 22.0), (42.5, 22.0)))


ERRORS: list[tuple[dict[str, Any] | None, str, str]] = [
    (None, "parameters", "missing"),
    ({"length_mm": 5}, "parameters.shape", "missing"),
    ({"shape": "torus"}, "parameters.shape", "unknown shape 'torus'"),
    ({"shape": "plate", "width_mm": 80, "thickness_mm": 6}, "parameters.length_mm", "missing"),
    ({**PLATE, "length_mm": "120"}, "parameters.length_mm", "must be a number"),
    ({**PLATE, "length_mm": True}, "parameters.length_mm", "must be a number"),
    ({**PLATE, "width_mm": -3}, "parameters.width_mm", "positive"),
    ({**PLATE, "width_mm": float("nan")}, "parameters.width_mm", "positive finite"),
    ({**PLATE, "thickness_mm": 0.1}, "parameters.thickness_mm", "below the smallest feature"),
    ({**PLATE, "length_mm": 99999}, "parameters.length_mm", "max_dimension_mm"),
    ({**PLATE, "holes": 2.5}, "parameters.holes", "whole number"),
    ({**PLATE, "holes": 500}, "parameters.holes", "at most 64"),
    ({**PLATE, "hole_diameter_mm": None}, "parameters.hole_diameter_mm", "missing"),
    ({**PLATE, "hole_diameter_mm": 100}, "parameters.hole_diameter_mm", "do not fit"),
    ({**PLATE, "hole_margin_mm": 2}, "parameters.hole_margin_mm", "leaves less than"),
    ({**PLATE, "holes": 40}, "parameters.hole_diameter_mm", "do not fit"),
    ({"shape": "cylinder", "diameter_mm": 20}, "parameters.height_mm", "also accepted: length_mm"),
    (
        {"shape": "cylinder", "diameter_mm": 20, "height_mm": 9, "holes": 1, "hole_diameter_mm": 3},
        "parameters.holes",
        "takes no holes",
    ),
    ({"shape": "tube", "diameter_mm": 20, "height_mm": 9}, "parameters.inner_diameter_mm", "missing"),
    (
        {"shape": "tube", "diameter_mm": 20, "inner_diameter_mm": 20, "height_mm": 9},
        "parameters.inner_diameter_mm",
        "wall",
    ),
    ({"shape": "tube", "diameter_mm": 20, "wall_mm": 10, "height_mm": 9}, "parameters.wall_mm", "closes"),
    (
        {"shape": "box", "length_mm": 10, "width_mm": 10, "height_mm": 10, "wall_mm": 5},
        "parameters.wall_mm",
        "no inside",
    ),
    (
        {"shape": "bracket", "length_mm": 50, "width_mm": 40, "height_mm": 30, "thickness_mm": 30},
        "parameters.thickness_mm",
        "no flange",
    ),
    (
        {"shape": "plate_with_boss", "length_mm": 50, "width_mm": 40, "thickness_mm": 3},
        "parameters.boss_diameter_mm",
        "missing",
    ),
    (
        {"shape": "plate", "length_mm": 50, "width_mm": 40, "thickness_mm": 3, "boss_height_mm": 4},
        "parameters.boss_diameter_mm",
        "missing",
    ),
    (
        {
            "shape": "plate",
            "length_mm": 50,
            "width_mm": 40,
            "thickness_mm": 3,
            "boss_diameter_mm": 45,
            "boss_height_mm": 4,
        },
        "parameters.boss_diameter_mm",
        "does not fit",
    ),
    (
        {**PLATE, "holes": 1, "boss_diameter_mm": 30, "boss_height_mm": 4},
        "parameters.hole_diameter_mm",
        "boss",
    ),
    ({**PLATE, "density_g_cm3": 40}, "parameters.density_g_cm3", "between 0 and 25"),
]


@pytest.mark.parametrize(("params", "field", "words"), ERRORS)
def test_invalid_parameters_name_their_field(params: dict[str, Any] | None, field: str, words: str) -> None:
    with pytest.raises(CadParameterError) as caught:
        parse_part(node(params))
    assert caught.value.field == field
    assert words in caught.value.message
    assert str(caught.value).startswith(f"{field}: ")


def test_invalid_node_fields() -> None:
    with pytest.raises(CadParameterError) as caught:
        parse_part({"tempId": "", "parameters": PLATE})
    assert caught.value.field == "tempId"
    with pytest.raises(CadParameterError) as caught:
        parse_part({"tempId": "p", "material": 7, "parameters": PLATE})
    assert caught.value.field == "material"
    with pytest.raises(CadParameterError) as caught:
        parse_part({"tempId": "p", "parameters": [1, 2]})
    assert caught.value.field == "parameters"


def test_limits_bound_parsing() -> None:
    small = CadLimits(max_dimension_mm=100, max_holes=2)
    with pytest.raises(CadParameterError, match="exceeds max_dimension_mm"):
        parse_part(node(PLATE), small)
    with pytest.raises(CadParameterError, match="at most 2 holes"):
        parse_part(node({**PLATE, "length_mm": 90}), small)


def test_limits_json() -> None:
    limits = CadLimits.from_json({"max_triangles": 10, "job_timeout_s": 5})
    assert (limits.max_triangles, limits.job_timeout_s, limits.max_holes) == (10, 5.0, 64)
    assert isinstance(limits.max_triangles, int)
    assert CadLimits.from_json(limits.to_json()) == limits
    assert CadLimits.from_json(None) == CadLimits()
    with pytest.raises(ValueError, match="unknown CAD limit"):
        CadLimits.from_json({"max_bananas": 1})
    with pytest.raises(ValueError, match="positive number"):
        CadLimits.from_json({"max_triangles": 0})


# -- materials -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "density"),
    [
        ("steel", "steel", 7.85),
        ("S235 steel, zinc plated", "steel", 7.85),
        ("304 Stainless Steel", "stainless steel", 8.00),
        ("6061-T6 aluminium", "aluminium", 2.70),
        ("Aluminum 6061", "aluminum 6061", 2.70),
        ("aluminium 7075-T6", "aluminium 7075", 2.81),
        ("ABS", "abs", 1.04),
        ("PLA+ filament", "pla", 1.24),
        ("PA12 (SLS)", "pa12", 1.01),
        ("nylon", "nylon", 1.14),
        ("brass CW614N", "brass", 8.50),
        ("Titanium grade 5", "titanium", 4.43),
        ("Ti-6Al-4V", "ti 6al 4v", 4.43),
        ("wood", "wood", 0.60),
        ("Pine", "pine", 0.50),
        ("European oak", "oak", 0.75),
        ("birch plywood", "plywood", 0.60),
    ],
)
def test_material_lookup(text: str, name: str, density: float) -> None:
    assert lookup_material(text) == Material(name, density, True, text)


def test_unknown_material_uses_the_flagged_default() -> None:
    for text in (None, "", "unobtainium", "tablet"):  # 'tablet' must not match 'abs' or 'pla'
        material = lookup_material(text)
        assert (material.density_g_cm3, material.known) == (DEFAULT_DENSITY_G_CM3, False)
    assert all(0 < density < 25 for density in MATERIALS.values())


def test_density_parameter_overrides_the_table() -> None:
    spec = parse_part(
        node({"shape": "cylinder", "diameter_mm": 10, "height_mm": 5, "density_g_cm3": 0.16}, "balsa")
    )
    assert spec.material == Material("as specified", 0.16, True, "balsa")
    spec = parse_part(
        node({"shape": "cylinder", "diameter_mm": 10, "height_mm": 5, "density_g_cm3": 1.3}, "PLA")
    )
    assert spec.material == Material("pla", 1.3, True, "PLA")


# -- volumes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "volume"),
    [
        ({"shape": "box", "length_mm": 100, "width_mm": 50, "height_mm": 10}, 50_000.0),
        ({"shape": "cylinder", "diameter_mm": 40, "height_mm": 60}, PI * 20**2 * 60),
        (PLATE, 120 * 80 * 6 - 4 * PI * 3**2 * 6),
        (
            {**PLATE, "boss_diameter_mm": 30, "boss_height_mm": 20},
            120 * 80 * 6 - 4 * PI * 3**2 * 6 + PI * 15**2 * 20,
        ),
        (
            {"shape": "box", "length_mm": 60, "width_mm": 40, "height_mm": 30, "wall_mm": 3},
            60 * 40 * 30 - 54 * 34 * 27,
        ),
        (
            HOLLOW_BOX,
            60 * 40 * 30 - 54 * 34 * 27 - 2 * PI * 2**2 * 3,
        ),
        (
            {"shape": "tube", "diameter_mm": 30, "inner_diameter_mm": 20, "height_mm": 50},
            PI * (15**2 - 10**2) * 50,
        ),
        (
            {"shape": "bracket", "length_mm": 50, "width_mm": 40, "height_mm": 30, "thickness_mm": 4},
            50 * (40 * 4 + 26 * 4),
        ),
    ],
)
def test_expected_volume(params: dict[str, Any], volume: float) -> None:
    assert expected_volume(parse_part(node(params))) == pytest.approx(volume, rel=1e-12)
