"""Solids from `PartSpec`s with build123d (OpenCascade), their export and measurement.

Imported only inside CAD worker processes: build123d takes ~2 s to import and ~1 GB of
OpenCascade comes with it, so the driver (gateway, engine actor) never loads this module;
`jobs` imports it lazily, once per worker process.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeAlias

import build123d as bd
from OCP.Standard import Standard_Failure

from .params import (
    BoxDims,
    BracketDims,
    CadError,
    CadLimitError,
    CadLimits,
    CylinderDims,
    PartSpec,
    PlateDims,
    TubeDims,
)

__all__ = [
    "GEOMETRY_ERRORS",
    "CadGeometryError",
    "Shape",
    "bounding_box",
    "build_solid",
    "export_assembly",
    "export_part",
    "import_step",
    "measure",
    "stl_triangle_count",
]

Shape: TypeAlias = "bd.Shape[Any]"

# Cutters overshoot the faces they pierce so no boolean meets a coplanar face.
_OVERSHOOT_MM = 1.0
_MIN = (bd.Align.MIN, bd.Align.MIN, bd.Align.MIN)
_CENTRED_ON_Z0 = (bd.Align.CENTER, bd.Align.CENTER, bd.Align.MIN)
_STEM = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")


class CadGeometryError(CadError):
    """The kernel built something other than one valid solid, or could not write a file."""


# What the kernel raises on geometry it cannot build (OCC's own failures cross as
# Standard_Failure); `jobs` turns these into a part's ``failed`` status.
GEOMETRY_ERRORS: tuple[type[Exception], ...] = (CadGeometryError, Standard_Failure, ValueError, RuntimeError)


def _box(length: float, width: float, height: float, at: tuple[float, float, float] = (0, 0, 0)) -> Shape:
    return bd.Pos(*at) * bd.Box(length, width, height, align=_MIN)


def _cylinder(diameter: float, height: float, at: tuple[float, float, float]) -> Shape:
    return bd.Pos(*at) * bd.Cylinder(diameter / 2, height, align=_CENTRED_ON_Z0)


def _body(spec: PartSpec) -> Shape:
    dims = spec.dimensions
    o = _OVERSHOOT_MM
    if isinstance(dims, PlateDims):
        body = _box(dims.length_mm, dims.width_mm, dims.thickness_mm)
        if dims.boss is not None:
            centre = (dims.length_mm / 2, dims.width_mm / 2, dims.thickness_mm)
            # Sunk into the plate by the overshoot so the fuse shares volume, not just a face.
            sunk = (centre[0], centre[1], centre[2] - o / 2)
            body = body + _cylinder(dims.boss.diameter_mm, dims.boss.height_mm + o / 2, sunk)
        return body
    if isinstance(dims, BoxDims):
        body = _box(dims.length_mm, dims.width_mm, dims.height_mm)
        if dims.wall_mm is not None:
            w = dims.wall_mm
            body = body - _box(
                dims.length_mm - 2 * w, dims.width_mm - 2 * w, dims.height_mm - w + o, (w, w, w)
            )
        return body
    if isinstance(dims, CylinderDims):
        r = dims.diameter_mm / 2
        return _cylinder(dims.diameter_mm, dims.height_mm, (r, r, 0))
    if isinstance(dims, TubeDims):
        r = dims.outer_diameter_mm / 2
        outer = _cylinder(dims.outer_diameter_mm, dims.height_mm, (r, r, 0))
        return outer - _cylinder(dims.inner_diameter_mm, dims.height_mm + 2 * o, (r, r, -o))
    assert isinstance(dims, BracketDims)
    t = dims.thickness_mm
    return _box(dims.length_mm, dims.width_mm, t) + _box(dims.length_mm, t, dims.height_mm)


def build_solid(spec: PartSpec) -> bd.Part:
    """The part as one valid solid, its bounding box starting at the origin."""
    body = _body(spec)
    if spec.holes is not None:
        depth = spec.height_mm + 2 * _OVERSHOOT_MM
        cutters = [
            _cylinder(spec.holes.diameter_mm, depth, (x, y, -_OVERSHOOT_MM)) for x, y in spec.holes.centres
        ]
        body = body - cutters
    solids = body.solids()
    if len(solids) != 1 or not body.is_valid:
        raise CadGeometryError(f"{spec.shape.value} {spec.temp_id!r} gave {len(solids)} solids, expected one")
    # The operators return Part at run time but are annotated as Compound.
    part = body if isinstance(body, bd.Part) else bd.Part(solids)
    part.label = spec.name
    return part


def bounding_box(shape: Shape) -> dict[str, list[float]]:
    """``{"min": [x, y, z], "max": [...], "size": [...]}`` in mm (exact, not the loose box)."""
    box = shape.bounding_box(optimal=True)
    return {
        "min": [_r(box.min.X), _r(box.min.Y), _r(box.min.Z)],
        "max": [_r(box.max.X), _r(box.max.Y), _r(box.max.Z)],
        "size": [_r(box.size.X), _r(box.size.Y), _r(box.size.Z)],
    }


def _r(value: float) -> float:
    # Kernel noise (1e-12) is not information; it only makes JSON diffs noisy.
    return round(value, 6) + 0.0


def measure(part: Shape, density_g_cm3: float) -> dict[str, Any]:
    """Bounding box, volume (mm³) and mass (g) of ``part`` at ``density_g_cm3``."""
    volume = float(part.volume)
    return {
        "boundingBox": bounding_box(part),
        "volumeMm3": _r(volume),
        # mm³ -> cm³ is /1000
        "massG": _r(volume * density_g_cm3 / 1000.0),
    }


def stl_triangle_count(path: Path) -> int:
    """The triangle count of a binary STL, from its header, checked against the file size."""
    with path.open("rb") as stream:
        header = stream.read(84)
    if len(header) < 84:
        raise CadGeometryError(f"{path.name} is not a binary STL (too short)")
    (count,) = struct.unpack_from("<I", header, 80)
    if path.stat().st_size != 84 + 50 * count:
        raise CadGeometryError(f"{path.name} is not a binary STL ({count} triangles do not match its size)")
    return int(count)


def export_part(
    part: Shape, directory: Path | str, stem: str, limits: CadLimits | None = None
) -> dict[str, Path]:
    """Write ``<stem>.step``, ``<stem>.stl`` and ``<stem>.glb`` into ``directory``.

    The STL is written first and its triangle count checked against ``max_triangles``: an
    over-detailed part raises `CadLimitError` and leaves no files behind.
    """
    limits = limits or CadLimits()
    if not _STEM.match(stem):
        raise ValueError(f"unsafe file stem {stem!r}")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / f"{stem}.{kind}" for kind in ("step", "stl", "glb")}
    tolerance, angular = limits.mesh_tolerance_mm, limits.mesh_angular_tolerance_rad
    try:
        _check(
            bd.export_stl(part, paths["stl"], tolerance=tolerance, angular_tolerance=angular), paths["stl"]
        )
        triangles = stl_triangle_count(paths["stl"])
        if triangles > limits.max_triangles:
            raise CadLimitError("max_triangles", triangles, limits.max_triangles)
        _check(bd.export_step(part, paths["step"]), paths["step"])
        _check(
            bd.export_gltf(
                part, paths["glb"], binary=True, linear_deflection=tolerance, angular_deflection=angular
            ),
            paths["glb"],
        )
    except BaseException:
        for path in paths.values():
            path.unlink(missing_ok=True)
        raise
    return paths


def _check(written: bool, path: Path) -> None:
    if not written or not path.exists() or path.stat().st_size == 0:
        raise CadGeometryError(f"the kernel could not write {path.name}")


def import_step(path: Path | str) -> Shape:
    """A STEP file's shape (the assembly composer's input)."""
    if not Path(path).is_file():
        raise CadGeometryError(f"{Path(path).name} does not exist")
    shape = bd.import_step(str(path))
    if not shape.solids():
        raise CadGeometryError(f"{Path(path).name} holds no solid")
    return shape


def export_assembly(
    copies: Sequence[tuple[Shape, tuple[float, float, float], str]],
    directory: Path | str,
    stem: str,
    limits: CadLimits | None = None,
) -> dict[str, Path]:
    """Write ``<stem>.step`` and ``<stem>.glb``: each (shape, offset, label) moved into place."""
    limits = limits or CadLimits()
    if not _STEM.match(stem):
        raise ValueError(f"unsafe file stem {stem!r}")
    if not copies:
        raise CadGeometryError("no node of the BOM has CAD geometry to assemble")
    children: list[Shape] = []
    for shape, offset, label in copies:
        # Moved solid by solid: moving an imported compound copies its children's tree links,
        # and the STEP writer then emits every copy's solids once per copy. `moved` shares
        # the underlying B-rep, so quantity copies add no geometry of their own.
        location = bd.Location(offset)
        solids = [solid.moved(location) for solid in shape.solids()]
        copy: Shape = solids[0] if len(solids) == 1 else bd.Compound(solids)
        copy.label = label
        children.append(copy)
    assembly = bd.Compound(children=children, label=stem)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"step": folder / f"{stem}.step", "glb": folder / f"{stem}.glb"}
    tolerance, angular = limits.mesh_tolerance_mm, limits.mesh_angular_tolerance_rad
    try:
        _check(bd.export_step(assembly, paths["step"]), paths["step"])
        _check(
            bd.export_gltf(
                assembly, paths["glb"], binary=True, linear_deflection=tolerance, angular_deflection=angular
            ),
            paths["glb"],
        )
    except BaseException:
        for path in paths.values():
            path.unlink(missing_ok=True)
        raise
    return paths
