"""CAD jobs: one part from its spec, and the assembly of a whole BOM, as Ray tasks.

The engine submits `generate_part` / `compose_assembly` with ``.remote`` and awaits the
ObjectRefs; tests call the plain `generate_part_sync` / `compose_assembly_sync`. Results are
JSON objects with ``status`` ``"done"`` or ``"failed"`` (with a ``reason``): bad parameters,
limits and kernel failures are a part's outcome, not an exception. The caller bounds each job
by ``CadLimits.job_timeout_s`` (``asyncio.wait_for`` on the ref, then ``ray.cancel(ref,
force=True)``), because a running OpenCascade call cannot be interrupted from inside.

build123d is imported lazily inside the worker, once per worker process (~2 s): this module
and the driver that submits the tasks never load it. The assembly layout is pure arithmetic
over bounding boxes (`layout`) and is tested by value.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ray

from .params import CadLimitError, CadLimits, CadParameterError, parse_part

if TYPE_CHECKING:
    from .geometry import Shape

__all__ = [
    "AssemblyNode",
    "Envelope",
    "Instance",
    "compose_assembly",
    "compose_assembly_sync",
    "generate_part",
    "generate_part_sync",
    "layout",
    "parse_assembly",
    "translation",
    "warm_up",
    "warm_up_sync",
]

log = logging.getLogger(__name__)

Vec3 = tuple[float, float, float]
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_MAX_DEPTH = 64


def warm_up_sync() -> float:
    """Load build123d in this worker; returns the seconds it took (0 when already loaded)."""
    start = time.perf_counter()
    from . import geometry  # noqa: F401  (loading it is the point)

    return time.perf_counter() - start


def _stem(temp_id: str) -> str:
    """A file name stem for a tempId: safe characters only, never hidden or empty."""
    stem = _UNSAFE.sub("_", temp_id).lstrip(".-")[:100]
    return stem or "part"


def _failed(temp_id: object, reason: str, **extra: Any) -> dict[str, Any]:
    return {"status": "failed", "tempId": temp_id, "reason": reason, **extra}


def generate_part_sync(
    spec_json: Mapping[str, Any], workdir: str | Path, limits: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Build, export and measure one part into ``workdir``.

    ``spec_json`` is a BOM node (``tempId``, ``name``, ``parameters``, ``material``) or a
    `PartSpec.to_json()`. Done: ``files`` (names relative to ``workdir``), ``measurements``
    (``boundingBox``, ``volumeMm3``, ``massG``, ``triangles``), ``material``, ``timings``.
    """
    temp_id = spec_json.get("tempId") if isinstance(spec_json, Mapping) else None
    try:
        cad_limits = CadLimits.from_json(limits)
    except ValueError as exc:
        return _failed(temp_id, f"limits: {exc}")
    try:
        spec = parse_part(spec_json, cad_limits)
    except CadParameterError as exc:
        return _failed(temp_id, str(exc), field=exc.field)
    start = time.perf_counter()
    # Imported here, not at module level, so only worker processes pay for OpenCascade;
    # sys.modules keeps it for the worker's next jobs.
    from . import geometry

    loaded = time.perf_counter()
    try:
        part = geometry.build_solid(spec)
        built = time.perf_counter()
        paths = geometry.export_part(part, workdir, _stem(spec.temp_id), cad_limits)
        measurements = geometry.measure(part, spec.material.density_g_cm3)
        measurements["triangles"] = geometry.stl_triangle_count(paths["stl"])
    except CadLimitError as exc:
        log.warning("cad part=%s over a limit: %s", spec.temp_id, exc)
        return _failed(spec.temp_id, str(exc), limit=exc.limit)
    except geometry.GEOMETRY_ERRORS as exc:
        log.warning("cad part=%s failed in the kernel: %s", spec.temp_id, exc)
        return _failed(spec.temp_id, f"geometry kernel: {exc}" if str(exc) else type(exc).__name__)
    done = time.perf_counter()
    log.info("cad part=%s %s built in %.3fs", spec.temp_id, spec.shape.value, done - start)
    return {
        "status": "done",
        "tempId": spec.temp_id,
        "files": {kind: path.name for kind, path in paths.items()},
        "measurements": measurements,
        "material": {
            "name": spec.material.name,
            "densityGCm3": spec.material.density_g_cm3,
            "known": spec.material.known,
        },
        "parameters": spec.parameters(),
        "timings": {
            "loadS": round(loaded - start, 4),
            "buildS": round(built - loaded, 4),
            "exportS": round(done - built, 4),
        },
    }


# -- assembly layout (pure) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Envelope:
    """An axis-aligned box in mm."""

    min: Vec3
    max: Vec3

    @property
    def size(self) -> Vec3:
        return (self.max[0] - self.min[0], self.max[1] - self.min[1], self.max[2] - self.min[2])

    def moved(self, by: Vec3) -> Envelope:
        return Envelope(_add(self.min, by), _add(self.max, by))

    def union(self, other: Envelope) -> Envelope:
        return Envelope(
            (min(self.min[0], other.min[0]), min(self.min[1], other.min[1]), min(self.min[2], other.min[2])),
            (max(self.max[0], other.max[0]), max(self.max[1], other.max[1]), max(self.max[2], other.max[2])),
        )

    def overlaps(self, other: Envelope) -> bool:
        """True when the interiors intersect (touching faces do not overlap)."""
        return all(self.min[i] < other.max[i] and other.min[i] < self.max[i] for i in range(3))

    def to_json(self) -> dict[str, list[float]]:
        return {"min": _rounded(self.min), "max": _rounded(self.max), "size": _rounded(self.size)}

    @classmethod
    def from_json(cls, box: Mapping[str, Sequence[float]]) -> Envelope:
        lo, hi = box["min"], box["max"]
        return cls((lo[0], lo[1], lo[2]), (hi[0], hi[1], hi[2]))


@dataclass(frozen=True, slots=True)
class AssemblyNode:
    temp_id: str
    name: str
    quantity: int
    children: tuple[AssemblyNode, ...]


@dataclass(frozen=True, slots=True)
class Instance:
    """One placed occurrence of a BOM node.

    ``offset`` moves the node's own geometry (as its STEP file has it) into place;
    ``envelope`` is the room the instance takes, its children included.
    """

    temp_id: str
    name: str
    offset: Vec3
    envelope: Envelope
    placeholder: bool

    def moved(self, by: Vec3) -> Instance:
        return Instance(
            self.temp_id, self.name, _add(self.offset, by), self.envelope.moved(by), self.placeholder
        )


def _add(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _rounded(v: Vec3) -> list[float]:
    return [round(c, 6) + 0.0 for c in v]


def translation(offset: Vec3) -> list[list[float]]:
    """The 4x4 row-major homogeneous matrix of a translation."""
    x, y, z = _rounded(offset)
    return [[1.0, 0.0, 0.0, x], [0.0, 1.0, 0.0, y], [0.0, 0.0, 1.0, z], [0.0, 0.0, 0.0, 1.0]]


def parse_assembly(nodes: Sequence[Mapping[str, Any]], field: str = "nodes") -> tuple[AssemblyNode, ...]:
    """The BOM trees (``tempId``, ``name``, ``quantity``, ``children``) as `AssemblyNode`s."""
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Sequence):
        raise CadParameterError(field, "must be a list of BOM nodes")
    return tuple(_assembly_node(raw, f"{field}[{i}]", 0) for i, raw in enumerate(nodes))


def _assembly_node(raw: object, field: str, depth: int) -> AssemblyNode:
    if depth > _MAX_DEPTH:
        raise CadParameterError(field, f"nested deeper than {_MAX_DEPTH} levels")
    if not isinstance(raw, Mapping):
        raise CadParameterError(field, "must be a BOM node object")
    temp_id = raw.get("tempId")
    if not isinstance(temp_id, str) or not temp_id:
        raise CadParameterError(f"{field}.tempId", "must be a non-empty string")
    quantity = raw.get("quantity", 1)
    if isinstance(quantity, float) and quantity.is_integer():
        quantity = int(quantity)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise CadParameterError(f"{field}.quantity", f"must be a positive integer, got {quantity!r}")
    children = raw.get("children") or []
    if not isinstance(children, Sequence) or isinstance(children, (str, bytes)):
        raise CadParameterError(f"{field}.children", "must be a list")
    name = raw.get("name")
    return AssemblyNode(
        temp_id,
        name if isinstance(name, str) and name else temp_id,
        quantity,
        tuple(_assembly_node(c, f"{field}.children[{i}]", depth + 1) for i, c in enumerate(children)),
    )


def instance_count(nodes: Sequence[AssemblyNode]) -> int:
    """How many instances `layout` will place (every node, every quantity, nested)."""
    return sum(node.quantity * (1 + instance_count(node.children)) for node in nodes)


def layout(
    nodes: Sequence[AssemblyNode],
    parts: Mapping[str, Envelope],
    *,
    gap_mm: float = 20.0,
    placeholder_mm: float = 20.0,
) -> list[Instance]:
    """Place every instance of every node; ``parts`` holds the envelopes of nodes with geometry.

    Siblings, and the copies of a node with quantity > 1, stand side by side along X with
    ``gap_mm`` between them, so no two of them overlap. A node's children stand on top of its
    own geometry (or make up the whole envelope of a pure assembly). A leaf without geometry
    (a purchased part) is a ``placeholder_mm`` cube, so it still takes its room.
    """
    return _row(nodes, parts, gap_mm, placeholder_mm, (0.0, 0.0, 0.0))[1]


def _row(
    nodes: Sequence[AssemblyNode], parts: Mapping[str, Envelope], gap: float, cube: float, origin: Vec3
) -> tuple[Envelope | None, list[Instance]]:
    envelope: Envelope | None = None
    placed: list[Instance] = []
    x = origin[0]
    for node in nodes:
        block, items = _block(node, parts, gap, cube)
        for _ in range(node.quantity):
            at = (x, origin[1], origin[2])
            placed.extend(item.moved(at) for item in items)
            room = block.moved(at)
            envelope = room if envelope is None else envelope.union(room)
            x += block.size[0] + gap
    return envelope, placed


def _block(
    node: AssemblyNode, parts: Mapping[str, Envelope], gap: float, cube: float
) -> tuple[Envelope, list[Instance]]:
    """One instance of ``node`` in local coordinates, its envelope starting at the origin."""
    own = parts.get(node.temp_id)
    placeholder = own is None and not node.children
    if placeholder:
        own = Envelope((0.0, 0.0, 0.0), (cube, cube, cube))
    offset: Vec3 = (0.0, 0.0, 0.0)
    envelope: Envelope | None = None
    if own is not None:
        offset = (-own.min[0], -own.min[1], -own.min[2])
        envelope = own.moved(offset)
    top = envelope.max[2] if envelope is not None else 0.0
    children_room, items = _row(node.children, parts, gap, cube, (0.0, 0.0, top))
    if children_room is not None:
        envelope = children_room if envelope is None else envelope.union(children_room)
    assert envelope is not None  # a node has geometry, a placeholder, or children
    return envelope, [Instance(node.temp_id, node.name, offset, envelope, placeholder), *items]


# -- assembly job -------------------------------------------------------------------------


def compose_assembly_sync(
    nodes: Sequence[Mapping[str, Any]],
    part_files: Mapping[str, str],
    workdir: str | Path,
    limits: Mapping[str, Any] | None = None,
    *,
    gap_mm: float = 20.0,
    placeholder_mm: float = 20.0,
    stem: str = "assembly",
) -> dict[str, Any]:
    """Place every BOM node of ``nodes`` (the top-level nodes, usually ``[rootAssembly]``) and
    write ``<stem>.step`` and ``<stem>.glb`` into ``workdir``.

    ``part_files`` maps tempId to a STEP file (relative to ``workdir`` or absolute). Done:
    ``files``, ``boundingBox`` and ``nodes``: per tempId the node's ``assemblyComposition``
    (``status``, ``instances`` with a 4x4 row-major ``transform`` and ``boundingBox``;
    ``placeholder`` for nodes without geometry, which are laid out but not drawn).
    """
    try:
        cad_limits = CadLimits.from_json(limits)
    except ValueError as exc:
        return {"status": "failed", "reason": f"limits: {exc}"}
    try:
        tree = parse_assembly(nodes)
    except CadParameterError as exc:
        return {"status": "failed", "reason": str(exc), "field": exc.field}
    count = instance_count(tree)
    if count > cad_limits.max_assembly_instances:
        error = CadLimitError("max_assembly_instances", count, cad_limits.max_assembly_instances)
        return {"status": "failed", "reason": str(error), "limit": error.limit}
    start = time.perf_counter()
    from . import geometry

    folder = Path(workdir)
    wanted = {n.temp_id for n in _walk(tree)}
    shapes: dict[str, Shape] = {}
    boxes: dict[str, Envelope] = {}
    errors: dict[str, str] = {}
    for temp_id, path in part_files.items():
        if temp_id not in wanted:
            continue
        try:
            shape = geometry.import_step(folder / path)
        except geometry.GEOMETRY_ERRORS as exc:
            errors[temp_id] = f"cannot read {Path(path).name}: {exc}"
            continue
        shapes[temp_id] = shape
        boxes[temp_id] = Envelope.from_json(geometry.bounding_box(shape))
    instances = layout(tree, boxes, gap_mm=gap_mm, placeholder_mm=placeholder_mm)
    try:
        paths = geometry.export_assembly(_copies(instances, shapes), folder, stem, cad_limits)
    except geometry.GEOMETRY_ERRORS as exc:
        log.warning("cad assembly failed: %s", exc)
        return {"status": "failed", "reason": str(exc) or type(exc).__name__}
    result_nodes: dict[str, dict[str, Any]] = {}
    for item in instances:
        entry = result_nodes.setdefault(item.temp_id, _node_entry(item, errors.get(item.temp_id)))
        entry["instances"].append(
            {"transform": translation(item.offset), "boundingBox": item.envelope.to_json()}
        )
    overall = instances[0].envelope
    for item in instances:
        overall = overall.union(item.envelope)
    log.info("cad assembly of %d instances in %.3fs", len(instances), time.perf_counter() - start)
    return {
        "status": "done",
        "files": {kind: path.name for kind, path in paths.items()},
        "boundingBox": overall.to_json(),
        "nodes": result_nodes,
    }


def _walk(nodes: Sequence[AssemblyNode]) -> list[AssemblyNode]:
    out: list[AssemblyNode] = []
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out


def _node_entry(item: Instance, error: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"status": "failed" if error else "done", "instances": []}
    if error:
        entry["reason"] = error
    if item.placeholder:
        entry["placeholder"] = True
    return entry


def _copies(instances: Sequence[Instance], shapes: Mapping[str, Shape]) -> list[tuple[Shape, Vec3, str]]:
    # Labelled by the part's name alone: in STEP the copies are instances of one product.
    return [(shapes[item.temp_id], item.offset, item.name) for item in instances if item.temp_id in shapes]


# -- Ray tasks ----------------------------------------------------------------------------

# One CPU each: OpenCascade is single-threaded here. A worker crash (not a failed part,
# which is a result) is retried once.
generate_part = ray.remote(num_cpus=1, max_retries=1)(generate_part_sync)
compose_assembly = ray.remote(num_cpus=1, max_retries=1)(compose_assembly_sync)
warm_up = ray.remote(num_cpus=1)(warm_up_sync)
