"""Materialization over the in-process session client: preview, one transaction, once only."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from gateway.openapi import build_document

from ..engine_api import bom_nodes_of
from ..harness import bearer
from ..sse import read_events
from ..unit.engine.samples import impossible_plate
from .contract import fits

# The answers checked against the document generated from their types.
DOCUMENT = build_document(bridge_auth=False)


async def _at_bom_review(
    client: TestClient[Any, Any], user: str, *, released: bool = False
) -> tuple[str, str | None]:
    program = await (await client.post("/api/programs", json={"name": "P"}, headers=bearer(user))).json()
    program_id = program["data"]["program"]["id"]
    body: dict[str, Any] = {"description": "An electric go-kart", "programId": program_id}
    design_id = None
    if released:
        design = await client.post(
            f"/api/programs/{program_id}/designs",
            headers=bearer(user),
            json={"name": "Kart", "lifecycleState": "released"},
        )
        design_id = (await design.json())["data"]["design"]["id"]
        body["designId"] = design_id
    created = await client.post("/api/design-engine/sessions", json=body, headers=bearer(user))
    sid = (await created.json())["data"]["session"]["id"]
    url = f"/api/design-engine/sessions/{sid}/stream"
    for action in ("start_requirements", "confirm_requirements", "start_bom"):
        async with client.post(url, json={"action": action}, headers=bearer(user)) as response:
            assert response.status == 200, await response.text()
            if response.headers["Content-Type"].startswith("text/event-stream"):
                assert [e async for e in read_events(response)][-1].event == "done"
    return sid, design_id


async def test_preview_then_materialize_once(client: TestClient[Any, Any]) -> None:
    sid, _ = await _at_bom_review(client, "ada")
    url = f"/api/design-engine/sessions/{sid}/materialize"
    preview = (await (await client.get(url, headers=bearer("ada"))).json())["data"]["preview"]
    session = await (await client.get(f"/api/design-engine/sessions/{sid}", headers=bearer("ada"))).json()
    requirements = session["data"]["session"]["artifacts"]["requirements"]
    assert preview["newRequirementsCount"] == len(requirements)
    assert preview["requiresEco"] is False
    assert preview["targetDesignId"] is None
    assert preview["newPartsCount"] >= 3
    assert preview["bomRelationshipsCount"] == preview["newPartsCount"] + preview["reusedPartsCount"]

    first, second = await asyncio.gather(
        client.post(url, headers=bearer("ada")), client.post(url, headers=bearer("ada"))
    )
    statuses = sorted([first.status, second.status])
    assert statuses == [200, 422]
    winner = first if first.status == 200 else second
    result = (await winner.json())["data"]["result"]
    assert result["ecoId"] is None
    assert result["bomRelationshipsCreated"] == preview["bomRelationshipsCount"]
    numbers = [item["itemNumber"] for item in result["createdItems"]]
    assert len(set(numbers)) == len(numbers)
    assert any(n.startswith("P-") for n in numbers)
    assert any(n.startswith("REQ-") for n in numbers)
    again = await client.post(url, headers=bearer("ada"))
    assert again.status == 422

    session = (await (await client.get(f"/api/design-engine/sessions/{sid}", headers=bearer("ada"))).json())[
        "data"
    ]
    assert session["session"]["status"] == "completed"
    assert session["session"]["artifacts"]["materializationResult"] == result
    bom = await (await client.get(f"/api/designs/{result['designId']}/bom", headers=bearer("ada"))).json()
    tree = bom["data"]["bom"]
    assert len(tree) == 1
    assert tree[0]["children"]
    assert fits(DOCUMENT, "/api/designs/{id}/bom", "get", 200, bom) == []
    part = result["createdItems"][0]["itemId"]
    item = await client.get(f"/api/items/{part}", headers=bearer("ada"))
    assert item.status == 200
    assert fits(DOCUMENT, "/api/items/{id}", "get", 200, await item.json()) == []
    assert (await client.get(f"/api/items/{part}", headers=bearer("bob"))).status == 403
    assert (await client.get(f"/api/designs/{result['designId']}/bom", headers=bearer("bob"))).status == 403
    assert (await client.get(url, headers=bearer("bob"))).status == 403
    assert (await client.post(url, headers=bearer("bob"))).status == 403
    found = await client.get("/api/items", params={"query": numbers[0]}, headers=bearer("ada"))
    assert [i["itemNumber"] for i in (await found.json())["data"]["items"]][:1] == [numbers[0]]


async def test_a_released_design_gets_an_eco(client: TestClient[Any, Any]) -> None:
    sid, design_id = await _at_bom_review(client, "ada", released=True)
    url = f"/api/design-engine/sessions/{sid}/materialize"
    preview = (await (await client.get(url, headers=bearer("ada"))).json())["data"]["preview"]
    assert preview["requiresEco"] is True
    assert preview["targetDesignId"] == design_id
    result = (await (await client.post(url, headers=bearer("ada"))).json())["data"]["result"]
    assert result["designId"] == design_id
    assert result["ecoNumber"].startswith("ECO-")
    eco = await client.get(f"/api/ecos/{result['ecoId']}", headers=bearer("ada"))
    assert eco.status == 200
    assert (await eco.json())["data"]["eco"]["ecoNumber"] == result["ecoNumber"]
    assert fits(DOCUMENT, "/api/ecos/{id}", "get", 200, await eco.json()) == []
    assert (await client.get(f"/api/ecos/{result['ecoId']}", headers=bearer("bob"))).status == 403


async def test_no_bom_is_422(client: TestClient[Any, Any]) -> None:
    program = await (await client.post("/api/programs", json={"name": "P"}, headers=bearer("ada"))).json()
    created = await client.post(
        "/api/design-engine/sessions",
        headers=bearer("ada"),
        json={"description": "A lamp", "programId": program["data"]["program"]["id"]},
    )
    sid = (await created.json())["data"]["session"]["id"]
    response = await client.get(f"/api/design-engine/sessions/{sid}/materialize", headers=bearer("ada"))
    assert response.status == 422
    assert (await response.json())["field"] == "artifacts.bom"


async def _stream(client: TestClient[Any, Any], sid: str, body: dict[str, Any]) -> list[Any]:
    async with client.post(
        f"/api/design-engine/sessions/{sid}/stream", json=body, headers=bearer("ada")
    ) as r:
        assert r.status == 200, await r.text()
        if not r.headers["Content-Type"].startswith("text/event-stream"):
            return [await r.json()]
        return [e async for e in read_events(r)]


async def _session(client: TestClient[Any, Any], sid: str) -> dict[str, Any]:
    body = await (await client.get(f"/api/design-engine/sessions/{sid}", headers=bearer("ada"))).json()
    return dict(body["data"]["session"])


async def test_a_failing_part_leaves_the_others_done(client: TestClient[Any, Any]) -> None:
    sid, _ = await _at_bom_review(client, "ada")
    session = await _session(client, sid)
    bom = session["artifacts"]["bom"]
    bom["rootAssembly"]["children"].append(impossible_plate())
    patched = await client.patch(
        f"/api/design-engine/sessions/{sid}", json={"artifacts": {"bom": bom}}, headers=bearer("ada")
    )
    assert patched.status == 200, await patched.text()
    assert (
        await client.post(f"/api/design-engine/sessions/{sid}/materialize", headers=bearer("ada"))
    ).status == 200
    await _stream(client, sid, {"action": "start_cad_generation"})
    nodes = {n["tempId"]: n for n in bom_nodes_of(await _session(client, sid))}
    assert nodes["bad-plate"]["cadGeneration"]["status"] == "failed"
    assert nodes["bad-plate"]["cadGeneration"]["reason"]
    others = [n for n in nodes.values() if n.get("cadGeneration") and n["tempId"] != "bad-plate"]
    assert others
    assert all(n["cadGeneration"]["status"] == "done" for n in others)
    state = (await _session(client, sid))["artifacts"]["cadGenerationState"]
    assert state["status"] == "partial"
    assert state["parts"]["failed"] == 1


async def test_the_whole_lifecycle_with_real_cad_files(client: TestClient[Any, Any], tmp_path: Path) -> None:
    import trimesh
    from build123d import import_step

    sid, _ = await _at_bom_review(client, "ada")
    assert (
        await client.post(f"/api/design-engine/sessions/{sid}/materialize", headers=bearer("ada"))
    ).status == 200
    events = await _stream(client, sid, {"action": "start_cad_generation"})
    kinds = [e.json()["type"] for e in events if e.event == "stage_event"]
    assert "tool_call" in kinds
    assert "tool_result" in kinds
    assert kinds[-1] == "stage_complete"
    session = await _session(client, sid)
    assert session["stage"] == "cad_review"
    state = session["artifacts"]["cadGenerationState"]
    assert state["parts"]["done"] == state["parts"]["total"] >= 1
    assert state["parts"]["failed"] == 0
    made = [n for n in bom_nodes_of(session) if n.get("cadGeneration", {}).get("status") == "done"]
    assert made
    assert all(n["cadGeneration"]["volumeMm3"] > 0 and n["cadGeneration"]["massG"] > 0 for n in made)
    part = made[0]
    for kind, check in (("step", b"ISO-10303-21"), ("stl", None), ("glb", b"glTF")):
        response = await client.get(
            f"/api/design-engine/sessions/{sid}/files/{part['cadGeneration']['files'][kind]}",
            headers=bearer("ada"),
        )
        assert response.status == 200, await response.text()
        data = await response.read()
        path = tmp_path / f"part.{kind}"
        path.write_bytes(data)
        if kind == "step":
            assert data.startswith(check or b"")
            assert import_step(str(path)).volume > 0
        elif kind == "stl":
            assert response.content_type == "model/stl"
            assert trimesh.load(str(path)).is_watertight
        else:
            assert data[:4] == check
            assert trimesh.load(str(path), force="scene").geometry
    other = await client.get(
        f"/api/design-engine/sessions/{sid}/files/{part['cadGeneration']['files']['glb']}",
        headers=bearer("bob"),
    )
    assert other.status == 403

    # One part again, with feedback applied to its parameters.
    regenerated = await _stream(
        client, sid, {"action": "regenerate_part", "tempId": part["tempId"], "feedback": "thickness 9"}
    )
    assert [e.json()["type"] for e in regenerated if e.event == "stage_event"][-1] == "stage_complete"
    again = next(n for n in bom_nodes_of(await _session(client, sid)) if n["tempId"] == part["tempId"])
    assert again["cadGeneration"]["status"] == "done"
    assert again["cadGeneration"]["feedback"] == "thickness 9"
    if "thickness_mm" in part["parameters"]:
        assert again["parameters"]["thickness_mm"] == 9

    assert (await _stream(client, sid, {"action": "confirm_cad"}))[0]["data"]["confirmed"] == "cad"
    events = await _stream(client, sid, {"action": "start_assembly_composition"})
    assert [e.json()["type"] for e in events if e.event == "stage_event"][-1] == "stage_complete"
    session = await _session(client, sid)
    assembly = session["artifacts"]["cadGenerationState"]["assembly"]
    assert session["stage"] == "assembly_review"
    assert session["artifacts"]["bom"]["rootAssembly"]["assemblyComposition"]
    response = await client.get(
        f"/api/design-engine/sessions/{sid}/files/{assembly['files']['step']}", headers=bearer("ada")
    )
    path = tmp_path / "assembly.step"
    path.write_bytes(await response.read())
    assert import_step(str(path)).volume > 0
    done = await _stream(client, sid, {"action": "confirm_assembly"})
    assert done[0]["data"]["confirmed"] == "assembly"
    assert done[0]["data"]["session"]["stage"] == "complete"
    assert done[0]["data"]["session"]["status"] == "completed"  # a finished design reads as one
    assert (await _session(client, sid))["status"] == "completed"
