"""CAD generation and assembly composition as stage runs: Ray tasks, files in the object store.

Each ``Manufacture`` part of the BOM becomes one Ray task (a worker process with the CAD
kernel loaded, on any core of any node), never work on the host's event loop. Progress
arrives per part as ``tool_call`` / ``tool_result`` / ``artifact_update`` events and in
the node's ``cadGeneration``; a part that fails is ``failed`` with its reason while the
others finish. The files (STEP, STL, GLB) go to the object store under the session.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayError

from storage.objects import ObjectStore, content_type_for

from .artifacts import bom_nodes
from .cad.jobs import compose_assembly_sync, generate_part_sync
from .cad.params import CadLimits
from .events import ArtifactUpdate, StageEvent, ToolCall, ToolResult

__all__ = ["CadJobs", "apply_feedback", "compose_assembly", "generate_parts", "object_key"]

log = logging.getLogger(__name__)

Emit = Callable[[StageEvent], None]


def object_key(session_id: str, name: str) -> str:
    return f"design-sessions/{session_id}/{name}"


def _part_job(node: Mapping[str, Any], limits: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="atelier-cad-") as workdir:
        result = generate_part_sync(node, workdir, limits)
        if result.get("status") == "done":
            result["blobs"] = {
                kind: (Path(workdir) / name).read_bytes() for kind, name in result["files"].items()
            }
        return result


def _assembly_job(
    nodes: list[dict[str, Any]], steps: dict[str, bytes], limits: dict[str, Any]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="atelier-asm-") as workdir:
        files: dict[str, str] = {}
        for temp_id, data in steps.items():
            path = Path(workdir) / f"part-{len(files)}.step"
            path.write_bytes(data)
            files[temp_id] = str(path)
        result = compose_assembly_sync(nodes, files, workdir, limits)
        if result.get("status") == "done":
            result["blobs"] = {
                kind: (Path(workdir) / name).read_bytes() for kind, name in result["files"].items()
            }
        return result


class CadJobs:
    """Submits CAD work as Ray tasks; ``local=True`` runs it in a thread (no cluster)."""

    def __init__(self, limits: CadLimits, *, local: bool = False) -> None:
        self.limits = limits
        self._local = local
        self._part = ray.remote(num_cpus=1, max_retries=0)(_part_job)
        self._assembly = ray.remote(num_cpus=1, max_retries=0)(_assembly_job)

    async def part(self, node: Mapping[str, Any]) -> dict[str, Any]:
        limits = self.limits.to_json()
        if self._local:
            return await asyncio.wait_for(
                asyncio.to_thread(_part_job, node, limits), self.limits.job_timeout_s
            )
        ref = self._part.remote(dict(node), limits)
        return await self._await(ref)

    async def assembly(self, nodes: list[dict[str, Any]], steps: dict[str, bytes]) -> dict[str, Any]:
        limits = self.limits.to_json()
        if self._local:
            return await asyncio.wait_for(
                asyncio.to_thread(_assembly_job, nodes, steps, limits), self.limits.job_timeout_s
            )
        return await self._await(self._assembly.remote(nodes, steps, limits))

    async def _await(self, ref: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = await asyncio.wait_for(ref, self.limits.job_timeout_s)
        except TimeoutError:
            ray.cancel(ref, force=True)  # the CAD kernel cannot be interrupted from inside
            raise
        return result


_FEEDBACK = re.compile(r"([a-z_]+?)(?:_mm)?\s*(?:=|:|to|of)?\s*(\d+(?:\.\d+)?)\s*(?:mm)?", re.IGNORECASE)


def apply_feedback(parameters: Mapping[str, Any], feedback: str | None) -> dict[str, Any]:
    """Parameters with the feedback's ``<dimension> <number>`` pairs applied.

    "thickness 8", "length_mm=150" and "holes: 6" change the parameters they name; words
    that name no parameter are left for a model to interpret and change nothing here.
    """
    updated = dict(parameters)
    for name, value in _FEEDBACK.findall(feedback or ""):
        key = name.lower()
        target = f"{key}_mm" if f"{key}_mm" in updated else key if key in updated else None
        if target is not None:
            number = float(value)
            updated[target] = int(number) if number.is_integer() and target == "holes" else number
    return updated


def _manufactured(bom: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [
        node for node in bom_nodes(bom) if node.get("partType") == "Manufacture" and node.get("parameters")
    ]


async def generate_parts(
    session_id: str,
    bom: dict[str, Any],
    jobs: CadJobs,
    objects: ObjectStore,
    emit: Emit,
    update_bom: Callable[[dict[str, Any]], None],
    *,
    only: str | None = None,
    feedback: str | None = None,
) -> dict[str, Any]:
    """Generate every manufactured part (or ``only`` that one); returns the CAD state summary."""
    bom = copy.deepcopy(bom)
    parts = _manufactured(bom)
    if only is not None:
        parts = [node for node in parts if node["tempId"] == only]
    if len(parts) > jobs.limits.max_parts_per_session:
        raise ValueError(
            f"{len(parts)} parts exceed the limit of {jobs.limits.max_parts_per_session} per session"
        )
    for node in parts:
        if only is not None and feedback:
            node["parameters"] = apply_feedback(node["parameters"], feedback)
        node["cadGeneration"] = {"status": "pending", **({"feedback": feedback} if only and feedback else {})}
    update_bom(bom)

    async def one(node: dict[str, Any]) -> None:
        emit(ToolCall("generate_cad", {"tempId": node["tempId"], "parameters": node["parameters"]}))
        node["cadGeneration"] = {**node["cadGeneration"], "status": "running"}
        update_bom(bom)
        try:
            result = await jobs.part(node)
        except TimeoutError:
            result = {"status": "failed", "reason": f"timed out after {jobs.limits.job_timeout_s:g} s"}
        except RayError as exc:
            result = {"status": "failed", "reason": f"the CAD worker failed: {exc}"}
        state: dict[str, Any] = {"status": result.get("status", "failed")}
        if result.get("status") == "done":
            files: dict[str, str] = {}
            for kind, data in result["blobs"].items():
                key = object_key(session_id, f"parts/{node['tempId']}.{kind}")
                await objects.put(key, data, content_type_for(key))
                files[kind] = f"parts/{node['tempId']}.{kind}"
            measured = result["measurements"]
            state.update(
                files=files,
                boundingBox=measured["boundingBox"],
                volumeMm3=measured["volumeMm3"],
                massG=measured["massG"],
                triangles=measured.get("triangles"),
                material=result.get("material"),
            )
        else:
            state["reason"] = str(result.get("reason", "unknown failure"))
        node["cadGeneration"] = {**node["cadGeneration"], **state}
        update_bom(bom)
        emit(ToolResult("generate_cad", {"tempId": node["tempId"], **state}))
        emit(ArtifactUpdate({"bom": bom}))

    await asyncio.gather(*(one(node) for node in parts))
    every = _manufactured(bom)
    done = sum(1 for n in every if n.get("cadGeneration", {}).get("status") == "done")
    failed = sum(1 for n in every if n.get("cadGeneration", {}).get("status") == "failed")
    return {
        "status": "done" if failed == 0 else "partial",
        "parts": {"total": len(every), "done": done, "failed": failed},
    }


async def compose_assembly(
    session_id: str,
    bom: dict[str, Any],
    jobs: CadJobs,
    objects: ObjectStore,
    emit: Emit,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Place every part into one assembly; returns the BOM with ``assemblyComposition`` and the files."""
    bom = copy.deepcopy(bom)
    steps: dict[str, bytes] = {}
    for node in _manufactured(bom):
        made = node.get("cadGeneration", {}).get("files", {})
        if "step" in made:
            data = await objects.get(object_key(session_id, made["step"]))
            if data is not None:
                steps[node["tempId"]] = data
    emit(ToolCall("compose_assembly", {"parts": sorted(steps)}))
    try:
        result = await jobs.assembly([bom["rootAssembly"]], steps)
    except TimeoutError:
        result = {"status": "failed", "reason": f"timed out after {jobs.limits.job_timeout_s:g} s"}
    if result.get("status") != "done":
        emit(ToolResult("compose_assembly", {"status": "failed", "reason": result.get("reason")}))
        raise ValueError(f"assembly composition failed: {result.get('reason')}")
    files: dict[str, str] = {}
    for kind, data in result["blobs"].items():
        key = object_key(session_id, f"assembly.{kind}")
        await objects.put(key, data, content_type_for(key))
        files[kind] = f"assembly.{kind}"
    compositions = result.get("nodes", {})
    for node in bom_nodes(bom):
        if node["tempId"] in compositions:
            node["assemblyComposition"] = compositions[node["tempId"]]
    summary = {"status": "done", "files": files, "boundingBox": result.get("boundingBox")}
    emit(ToolResult("compose_assembly", summary))
    return bom, summary
