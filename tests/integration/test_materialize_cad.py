"""Materialization and CAD through the cluster: one transaction, Ray CAD workers, real files."""

from __future__ import annotations

import asyncio
import io

import pytest
import trimesh

from ..engine_api import bom_nodes_of, create_session, get_session, run_action, types
from ..harness import Gateway, bearer
from ..unit.engine.samples import impossible_plate

pytestmark = pytest.mark.integration


async def _to_bom_review(gw: Gateway, user: str) -> str:
    sid = await create_session(gw, user, "An electric go-kart for children")
    for action in ("start_requirements", "confirm_requirements", "start_bom"):
        if action.startswith("confirm"):
            status, body = await gw.request(
                "POST",
                f"/api/design-engine/sessions/{sid}/stream",
                json={"action": action},
                headers=bearer(user),
            )
            assert status == 200, body
        else:
            assert types(await run_action(gw, user, sid, {"action": action}))[-1] == "stage_complete"
    return sid


async def test_materialize_once_then_cad_on_ray_workers_to_complete(gateway: Gateway) -> None:
    sid = await _to_bom_review(gateway, "ada")
    url = f"/api/design-engine/sessions/{sid}/materialize"
    status, preview = await gateway.request("GET", url, headers=bearer("ada"))
    assert status == 200
    assert preview["data"]["preview"]["newPartsCount"] >= 3
    results = await asyncio.gather(*(gateway.request("POST", url, headers=bearer("ada")) for _ in range(2)))
    assert sorted(status for status, _ in results) == [200, 422]
    result = next(body for status, body in results if status == 200)["data"]["result"]
    _, bom = await gateway.request("GET", f"/api/designs/{result['designId']}/bom", headers=bearer("ada"))
    count = 0
    stack = list(bom["data"]["bom"])
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(node["children"])
    assert count == result["bomRelationshipsCreated"]  # one set of items, not two
    for path in (
        url,
        f"/api/designs/{result['designId']}/bom",
        f"/api/items/{result['createdItems'][0]['itemId']}",
    ):
        assert (await gateway.request("GET", path, headers=bearer("bob")))[0] == 403, path

    events = await run_action(gateway, "ada", sid, {"action": "start_cad_generation"})
    assert types(events)[-1] == "stage_complete"
    session = await get_session(gateway, "ada", sid)
    state = session["artifacts"]["cadGenerationState"]
    assert state["parts"]["failed"] == 0
    assert state["parts"]["done"] >= 1
    node = next(n for n in bom_nodes_of(session) if n.get("cadGeneration", {}).get("status") == "done")
    assert gateway.http is not None
    async with gateway.http.get(
        f"/api/design-engine/sessions/{sid}/files/{node['cadGeneration']['files']['stl']}",
        headers=bearer("ada"),
    ) as response:
        assert response.status == 200
        assert response.content_type == "model/stl"
        mesh = trimesh.load(io.BytesIO(await response.read()), file_type="stl")
    assert mesh.is_watertight
    assert abs(mesh.volume - node["cadGeneration"]["volumeMm3"]) / mesh.volume < 0.02

    await gateway.request(
        "POST",
        f"/api/design-engine/sessions/{sid}/stream",
        json={"action": "confirm_cad"},
        headers=bearer("ada"),
    )
    assert (
        types(await run_action(gateway, "ada", sid, {"action": "start_assembly_composition"}))[-1]
        == "stage_complete"
    )
    status, body = await gateway.request(
        "POST",
        f"/api/design-engine/sessions/{sid}/stream",
        json={"action": "confirm_assembly"},
        headers=bearer("ada"),
    )
    assert status == 200
    assert body["data"]["session"]["stage"] == "complete"
    assert body["data"]["session"]["status"] == "completed"


async def test_an_eco_for_a_released_design_and_a_failing_part_leaves_the_others_done(
    gateway: Gateway,
) -> None:
    status, body = await gateway.request("POST", "/api/programs", json={"name": "P"}, headers=bearer("ada"))
    program = body["data"]["program"]["id"]
    status, body = await gateway.request(
        "POST",
        f"/api/programs/{program}/designs",
        headers=bearer("ada"),
        json={"name": "Kart", "lifecycleState": "released"},
    )
    design = body["data"]["design"]["id"]
    status, body = await gateway.request(
        "POST",
        "/api/design-engine/sessions",
        headers=bearer("ada"),
        json={"description": "A kart chassis", "programId": program, "designId": design},
    )
    sid = body["data"]["session"]["id"]
    for action in ("start_requirements", "confirm_requirements", "start_bom"):
        if action.startswith("confirm"):
            await gateway.request(
                "POST",
                f"/api/design-engine/sessions/{sid}/stream",
                json={"action": action},
                headers=bearer("ada"),
            )
        else:
            assert types(await run_action(gateway, "ada", sid, {"action": action}))[-1] == "stage_complete"
    session = await get_session(gateway, "ada", sid)
    bom = session["artifacts"]["bom"]
    bom["rootAssembly"]["children"].append(impossible_plate())
    status, _ = await gateway.request(
        "PATCH", f"/api/design-engine/sessions/{sid}", json={"artifacts": {"bom": bom}}, headers=bearer("ada")
    )
    assert status == 200
    status, body = await gateway.request(
        "POST", f"/api/design-engine/sessions/{sid}/materialize", headers=bearer("ada")
    )
    result = body["data"]["result"]
    assert status == 200
    assert result["designId"] == design
    assert result["ecoNumber"].startswith("ECO-")
    status, eco = await gateway.request("GET", f"/api/ecos/{result['ecoId']}", headers=bearer("ada"))
    assert status == 200
    assert eco["data"]["eco"]["designId"] == design
    assert (await gateway.request("GET", f"/api/ecos/{result['ecoId']}", headers=bearer("bob")))[0] == 403

    await run_action(gateway, "ada", sid, {"action": "start_cad_generation"})
    nodes = {n["tempId"]: n for n in bom_nodes_of(await get_session(gateway, "ada", sid))}
    assert nodes["bad-plate"]["cadGeneration"]["status"] == "failed"
    assert nodes["bad-plate"]["cadGeneration"]["reason"]
    others = [n for n in nodes.values() if n.get("cadGeneration") and n["tempId"] != "bad-plate"]
    assert others
    assert all(n["cadGeneration"]["status"] == "done" for n in others)
