"""Assembly composition: the pure layout by value, then real STEP/GLB assemblies."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import build123d as bd
import pytest
import trimesh

from actors.engine.artifacts import bom_nodes
from actors.engine.cad.jobs import (
    AssemblyNode,
    Envelope,
    compose_assembly_sync,
    generate_part_sync,
    instance_count,
    layout,
    parse_assembly,
    translation,
)
from actors.engine.cad.params import CadParameterError
from actors.engine.llm.offline_drafts import draft_bom

from .samples import PLATE

PI = math.pi
PIN = {"shape": "cylinder", "diameter_mm": 10, "height_mm": 40}
PLATE_VOLUME = 120 * 80 * 6 - 4 * PI * 3**2 * 6
PIN_VOLUME = PI * 5**2 * 40


def bom_node(
    temp_id: str,
    quantity: int = 1,
    children: list[dict[str, Any]] | None = None,
    parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tempId": temp_id,
        "name": temp_id.title(),
        "quantity": quantity,
        "children": children or [],
        "partType": "Manufacture",
        "material": "steel",
    }
    if parameters is not None:
        out["parameters"] = parameters
    return out


def small_bom() -> dict[str, Any]:
    """A root with two children: a plate, and a pin used three times."""
    return bom_node(
        "root", children=[bom_node("plate", parameters=PLATE), bom_node("pin", 3, parameters=PIN)]
    )


def generate(root: dict[str, Any], workdir: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    for n in bom_nodes({"rootAssembly": root}):
        if "parameters" in n:
            result = generate_part_sync(n, workdir)
            assert result["status"] == "done", result
            files[n["tempId"]] = result["files"]["step"]
    return files


def envelopes(result: dict[str, Any], temp_id: str) -> list[Envelope]:
    return [Envelope.from_json(i["boundingBox"]) for i in result["nodes"][temp_id]["instances"]]


# -- layout (pure) --------------------------------------------------------------------------


def leaf(temp_id: str, quantity: int = 1) -> AssemblyNode:
    return AssemblyNode(temp_id, temp_id, quantity, ())


def test_siblings_stand_side_by_side_with_a_gap() -> None:
    tree = (AssemblyNode("root", "root", 1, (leaf("a"), leaf("b", 2))),)
    parts = {
        "a": Envelope((-10.0, -5.0, 0.0), (10.0, 5.0, 4.0)),  # not at the origin: gets shifted
        "b": Envelope((0.0, 0.0, 0.0), (30.0, 20.0, 10.0)),
    }
    placed = layout(tree, parts, gap_mm=5.0)
    assert [(i.temp_id, i.offset, i.envelope) for i in placed] == [
        ("root", (0.0, 0.0, 0.0), Envelope((0.0, 0.0, 0.0), (90.0, 20.0, 10.0))),
        ("a", (10.0, 5.0, 0.0), Envelope((0.0, 0.0, 0.0), (20.0, 10.0, 4.0))),
        ("b", (25.0, 0.0, 0.0), Envelope((25.0, 0.0, 0.0), (55.0, 20.0, 10.0))),
        ("b", (60.0, 0.0, 0.0), Envelope((60.0, 0.0, 0.0), (90.0, 20.0, 10.0))),
    ]


def test_children_stand_on_their_parents_geometry_and_quantities_multiply() -> None:
    tree = (AssemblyNode("base", "base", 2, (leaf("peg", 3),)),)
    parts = {
        "base": Envelope((0.0, 0.0, 0.0), (100.0, 50.0, 5.0)),
        "peg": Envelope((0.0, 0.0, 0.0), (10.0, 10.0, 20.0)),
    }
    placed = layout(tree, parts, gap_mm=10.0)
    assert instance_count(tree) == len(placed) == 2 + 6
    pegs = [i for i in placed if i.temp_id == "peg"]
    assert [p.offset for p in pegs[:3]] == [(0.0, 0.0, 5.0), (20.0, 0.0, 5.0), (40.0, 0.0, 5.0)]
    # The second base starts after the first one's envelope and the gap.
    bases = [i for i in placed if i.temp_id == "base"]
    assert [b.envelope for b in bases] == [
        Envelope((0.0, 0.0, 0.0), (100.0, 50.0, 25.0)),
        Envelope((110.0, 0.0, 0.0), (210.0, 50.0, 25.0)),
    ]
    assert all(not i.placeholder for i in placed)


def test_leaves_without_geometry_are_placeholders() -> None:
    placed = layout((leaf("screw", 2),), {}, placeholder_mm=8.0, gap_mm=1.0)
    assert [(i.placeholder, i.envelope) for i in placed] == [
        (True, Envelope((0.0, 0.0, 0.0), (8.0, 8.0, 8.0))),
        (True, Envelope((9.0, 0.0, 0.0), (17.0, 8.0, 8.0))),
    ]


def test_translation_is_row_major() -> None:
    assert translation((1.0, 2.0, 3.0)) == [[1, 0, 0, 1], [0, 1, 0, 2], [0, 0, 1, 3], [0, 0, 0, 1]]


def test_parse_assembly_names_bad_fields() -> None:
    tree = parse_assembly([{"tempId": "r", "children": [{"tempId": "c", "quantity": 2.0}]}])
    assert tree == (AssemblyNode("r", "r", 1, (AssemblyNode("c", "c", 2, ()),)),)
    cases: list[tuple[Any, str]] = [
        ([{"tempId": "r", "children": [{"tempId": "c", "quantity": 0}]}], "nodes[0].children[0].quantity"),
        ([{"tempId": "r", "quantity": True}], "nodes[0].quantity"),
        ([{"name": "r"}], "nodes[0].tempId"),
        ([{"tempId": "r", "children": "x"}], "nodes[0].children"),
        ([7], "nodes[0]"),
    ]
    for bad, field in cases:
        with pytest.raises(CadParameterError) as caught:
            parse_assembly(bad)
        assert caught.value.field == field


# -- composition (real kernel) ----------------------------------------------------------------


def test_small_bom_composes(tmp_path: Path) -> None:
    root = small_bom()
    result = compose_assembly_sync([root], generate(root, tmp_path), str(tmp_path))
    assert result["status"] == "done", result
    assert result["files"] == {"step": "assembly.step", "glb": "assembly.glb"}

    nodes = result["nodes"]
    assert {k: len(v["instances"]) for k, v in nodes.items()} == {"root": 1, "plate": 1, "pin": 3}
    assert sum(len(nodes[k]["instances"]) for k in ("plate", "pin")) == 4
    assert all(v["status"] == "done" and "placeholder" not in v for v in nodes.values())

    siblings = envelopes(result, "plate") + envelopes(result, "pin")
    for a, b in itertools.combinations(siblings, 2):
        assert not a.overlaps(b), (a, b)
    # Children lie inside their parent's envelope, which is the whole assembly's.
    outer = envelopes(result, "root")[0]
    assert all(outer.union(e) == outer for e in siblings)
    assert result["boundingBox"] == outer.to_json()
    pin_sizes = {tuple(i["boundingBox"]["size"]) for i in nodes["pin"]["instances"]}
    assert pin_sizes == {(10.0, 10.0, 40.0)}
    transforms = [i["transform"] for i in nodes["pin"]["instances"]]
    assert len({t[0][3] for t in transforms}) == 3  # each copy has its own place along X

    step = tmp_path / "assembly.step"
    assert step.read_bytes().startswith(b"ISO-10303-21")
    again = bd.import_step(step)
    assert again.volume == pytest.approx(PLATE_VOLUME + 3 * PIN_VOLUME, rel=1e-3)
    box = again.bounding_box()
    assert pytest.approx(result["boundingBox"]["min"] + result["boundingBox"]["max"], abs=1e-3) == [
        box.min.X,
        box.min.Y,
        box.min.Z,
        box.max.X,
        box.max.Y,
        box.max.Z,
    ]

    glb = tmp_path / "assembly.glb"
    assert glb.read_bytes()[:4] == b"glTF"
    scene = trimesh.load(glb, force="scene")
    assert isinstance(scene, trimesh.Scene)
    assert len(scene.geometry) > 0
    assert sum(len(g.faces) for g in scene.geometry.values()) > 0


def test_offline_bom_composes_with_placeholders(tmp_path: Path) -> None:
    bom = draft_bom("Design an electric go-kart", [])
    root = bom["rootAssembly"]
    result = compose_assembly_sync([root], generate(root, tmp_path), tmp_path)
    assert result["status"] == "done", result
    nodes = result["nodes"]
    every = list(bom_nodes(bom))
    assert set(nodes) == {n["tempId"] for n in every}
    assert len(nodes["prt-2"]["instances"]) == 2
    assert len(nodes["prt-3"]["instances"]) == 8
    purchased = {n["tempId"] for n in every if n["partType"] == "Purchase"}
    assert {k for k, v in nodes.items() if v.get("placeholder")} == purchased
    frame = next(n for n in every if n["tempId"] == "asm-2")
    children = [e for c in frame["children"] for e in envelopes(result, c["tempId"])]
    for a, b in itertools.combinations(children, 2):
        assert not a.overlaps(b)


def test_unreadable_part_files_fail_only_their_node(tmp_path: Path) -> None:
    root = small_bom()
    files = generate(root, tmp_path)
    files["pin"] = "missing.step"
    result = compose_assembly_sync([root], files, tmp_path)
    assert result["status"] == "done"
    assert result["nodes"]["pin"]["status"] == "failed"
    assert "missing.step" in result["nodes"]["pin"]["reason"]
    assert result["nodes"]["plate"]["status"] == "done"


def test_nothing_to_draw_fails(tmp_path: Path) -> None:
    result = compose_assembly_sync([small_bom()], {}, tmp_path)
    assert result["status"] == "failed"
    assert "no node of the BOM has CAD geometry" in result["reason"]


def test_instance_limit(tmp_path: Path) -> None:
    root = bom_node("root", children=[bom_node("screw", 600), bom_node("nut", 600)])
    result = compose_assembly_sync([root], {}, tmp_path, {"max_assembly_instances": 1000})
    assert result == {
        "status": "failed",
        "reason": "max_assembly_instances exceeded: 1201 > 1000",
        "limit": "max_assembly_instances",
    }


def test_bad_nodes_fail_with_the_field(tmp_path: Path) -> None:
    result = compose_assembly_sync([{"tempId": "r", "quantity": -1}], {}, tmp_path)
    assert (result["status"], result["field"]) == ("failed", "nodes[0].quantity")
