"""CAD for the design engine: part specs from BOM parameters, solids, exports, assemblies.

- `params` (pure): `parse_part` turns a BOM node into a validated `PartSpec`; materials,
  limits, closed-form volumes.
- `geometry` (build123d): solids, STEP/STL/GLB export, measurements. Worker processes only.
- `jobs`: the Ray tasks `generate_part` / `compose_assembly` (and their ``*_sync`` bodies).

Only `params` is re-exported here, so importing this package loads neither Ray nor build123d.
"""

from __future__ import annotations

from .params import MATERIALS as MATERIALS
from .params import CadError as CadError
from .params import CadLimitError as CadLimitError
from .params import CadLimits as CadLimits
from .params import CadParameterError as CadParameterError
from .params import Material as Material
from .params import PartSpec as PartSpec
from .params import Shape as Shape
from .params import expected_volume as expected_volume
from .params import lookup_material as lookup_material
from .params import parse_part as parse_part
