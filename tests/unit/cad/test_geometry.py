"""Solids, exports and measurements by value, through the real OpenCascade kernel."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import build123d as bd
import pytest
import trimesh
from OCP.Standard import Standard_Failure

from actors.engine.artifacts import bom_nodes
from actors.engine.cad import geometry
from actors.engine.cad.jobs import generate_part_sync
from actors.engine.cad.params import CadLimitError, CadLimits, expected_volume, parse_part
from actors.engine.llm.offline_drafts import draft_bom

from .samples import BRACKET, HOLLOW_BOX, PLATE

PI = math.pi
REL = 1e-3

BOX = {"shape": "box", "length_mm": 100, "width_mm": 50, "height_mm": 10}
CYLINDER = {"shape": "cylinder", "diameter_mm": 40, "height_mm": 60}


def node(params: dict[str, Any], temp_id: str = "prt-1", material: str = "ABS") -> dict[str, Any]:
    return {"tempId": temp_id, "name": f"Part {temp_id}", "material": material, "parameters": params}


def done(result: dict[str, Any]) -> dict[str, Any]:
    assert result["status"] == "done", result
    return result


@pytest.mark.parametrize(
    ("params", "volume", "size"),
    [
        (BOX, 50_000.0, [100, 50, 10]),
        (CYLINDER, PI * 20**2 * 60, [40, 40, 60]),
        (PLATE, 120 * 80 * 6 - 4 * PI * 3**2 * 6, [120, 80, 6]),
    ],
)
def test_known_shapes_by_value(
    tmp_path: Path, params: dict[str, Any], volume: float, size: list[int]
) -> None:
    result = done(generate_part_sync(node(params), str(tmp_path)))
    measured = result["measurements"]
    assert measured["volumeMm3"] == pytest.approx(volume, rel=REL)
    assert measured["boundingBox"]["size"] == pytest.approx(size, rel=REL)
    assert measured["boundingBox"]["min"] == pytest.approx([0, 0, 0], abs=1e-6)
    assert measured["boundingBox"]["max"] == pytest.approx(size, rel=REL)
    # ABS: 1.04 g/cm³, and 1 cm³ = 1000 mm³
    assert measured["massG"] == pytest.approx(volume * 1.04 / 1000, rel=REL)
    assert result["files"] == {"step": "prt-1.step", "stl": "prt-1.stl", "glb": "prt-1.glb"}
    assert result["material"] == {"name": "abs", "densityGCm3": 1.04, "known": True}


def test_plate_is_the_box_minus_four_cylinders() -> None:
    plate = geometry.build_solid(parse_part(node(PLATE)))
    box = bd.Box(120, 80, 6)
    hole = bd.Cylinder(3, 6)
    assert plate.volume == pytest.approx(box.volume - 4 * hole.volume, rel=1e-9)
    assert len(plate.solids()) == 1
    # Each hole is a cylindrical face of the solid.
    assert len([f for f in plate.faces() if f.geom_type == bd.GeomType.CYLINDER]) == 4


EXTRA_SHAPES = [
    {**PLATE, "boss_diameter_mm": 30, "boss_height_mm": 20},
    HOLLOW_BOX,
    {"shape": "tube", "outer_diameter_mm": 30, "inner_diameter_mm": 20, "height_mm": 50},
    BRACKET,
    {**PLATE, "holes": 7},
]


@pytest.mark.parametrize("params", EXTRA_SHAPES, ids=lambda p: str(p["shape"]))
def test_every_shape_matches_its_closed_form(params: dict[str, Any]) -> None:
    spec = parse_part(node(params))
    part = geometry.build_solid(spec)
    assert part.is_valid
    assert len(part.solids()) == 1
    assert part.volume == pytest.approx(expected_volume(spec), rel=1e-6)
    box = geometry.bounding_box(part)
    assert box["min"] == pytest.approx([0, 0, 0], abs=1e-6)


def test_offline_provider_parts_build(tmp_path: Path) -> None:
    for n in bom_nodes(draft_bom("Design an electric go-kart", [])):
        if "parameters" in n:
            result = done(generate_part_sync(n, tmp_path))
            assert result["measurements"]["volumeMm3"] == pytest.approx(
                expected_volume(parse_part(n)), rel=REL
            )
            assert result["parameters"] == parse_part(n).parameters()


def test_exported_files_open_again(tmp_path: Path) -> None:
    result = done(generate_part_sync(node(PLATE), tmp_path))
    files = {kind: tmp_path / name for kind, name in result["files"].items()}
    volume = result["measurements"]["volumeMm3"]

    assert files["step"].read_bytes().startswith(b"ISO-10303-21")
    assert bd.import_step(files["step"]).volume == pytest.approx(volume, rel=REL)

    mesh = trimesh.load(files["stl"], force="mesh")
    assert isinstance(mesh, trimesh.Trimesh)
    assert mesh.is_watertight
    assert len(mesh.faces) == result["measurements"]["triangles"] == geometry.stl_triangle_count(files["stl"])
    assert mesh.volume == pytest.approx(volume, rel=1e-2)  # a mesh approximates the round holes
    assert mesh.bounds.flatten().tolist() == pytest.approx([0, 0, 0, 120, 80, 6], abs=1e-3)

    assert files["glb"].read_bytes()[:4] == b"glTF"
    scene = trimesh.load(files["glb"], force="scene")
    assert isinstance(scene, trimesh.Scene)
    assert len(scene.geometry) > 0
    assert sum(len(g.faces) for g in scene.geometry.values()) > 0


def test_a_hole_larger_than_the_plate_fails_with_a_reason(tmp_path: Path) -> None:
    result = generate_part_sync(node({**PLATE, "hole_diameter_mm": 200}), tmp_path)
    assert result["status"] == "failed"
    assert result["field"] == "parameters.hole_diameter_mm"
    assert "do not fit" in result["reason"]
    assert list(tmp_path.iterdir()) == []


def test_bad_input_never_raises(tmp_path: Path) -> None:
    assert (
        generate_part_sync({"tempId": "x"}, tmp_path)["reason"]
        == "parameters: missing: the part has no CAD parameters"
    )
    assert generate_part_sync({"parameters": BOX}, tmp_path)["field"] == "tempId"
    failed = generate_part_sync(node(BOX), tmp_path, {"max_bananas": 3})
    assert failed["status"] == "failed"
    assert "unknown CAD limit" in failed["reason"]


def test_kernel_failures_become_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(spec: object) -> None:
        raise Standard_Failure("BRepAlgoAPI_Cut failed")

    monkeypatch.setattr(geometry, "build_solid", broken)
    result = generate_part_sync(node(BOX), tmp_path)
    assert result == {
        "status": "failed",
        "tempId": "prt-1",
        "reason": "geometry kernel: BRepAlgoAPI_Cut failed",
    }


def test_triangle_limit(tmp_path: Path) -> None:
    result = generate_part_sync(node(PLATE), tmp_path, {"max_triangles": 100})
    assert result["status"] == "failed"
    assert result["limit"] == "max_triangles"
    assert "max_triangles exceeded" in result["reason"]
    assert list(tmp_path.iterdir()) == []  # nothing half-exported is left behind

    part = geometry.build_solid(parse_part(node(PLATE)))
    with pytest.raises(CadLimitError) as caught:
        geometry.export_part(part, tmp_path, "plate", CadLimits(max_triangles=100))
    assert (caught.value.limit, caught.value.maximum) == ("max_triangles", 100)
    assert caught.value.value > 100
    # A box is 12 triangles whatever the tolerance.
    assert (
        done(generate_part_sync(node(BOX), tmp_path, {"max_triangles": 12}))["measurements"]["triangles"]
        == 12
    )


def test_finer_meshes_have_more_triangles(tmp_path: Path) -> None:
    coarse = done(generate_part_sync(node(CYLINDER, "a"), tmp_path, {"mesh_angular_tolerance_rad": 0.5}))
    fine = done(generate_part_sync(node(CYLINDER, "b"), tmp_path, {"mesh_angular_tolerance_rad": 0.05}))
    assert fine["measurements"]["triangles"] > 2 * coarse["measurements"]["triangles"]


def test_export_refuses_unsafe_stems(tmp_path: Path) -> None:
    part = geometry.build_solid(parse_part(node(BOX)))
    for stem in ("../x", "a/b", ".hidden", ""):
        with pytest.raises(ValueError, match="unsafe file stem"):
            geometry.export_part(part, tmp_path, stem)


def test_temp_ids_become_safe_file_names(tmp_path: Path) -> None:
    result = done(generate_part_sync(node(BOX, temp_id="../../etc/prt 1"), tmp_path))
    assert result["files"]["step"] == "_.._etc_prt_1.step"
    assert (tmp_path / "_.._etc_prt_1.step").is_file()
    assert done(generate_part_sync(node(BOX, temp_id="-x"), tmp_path))["files"]["step"] == "x.step"
