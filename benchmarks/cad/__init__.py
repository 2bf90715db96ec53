"""The cad benchmark: CAD jobs per minute for a fixed BOM, in process and on a local Ray.

- `bom` (pure): the 20 Manufacture parts.
- `options` (pure): sizes, worker counts (``1,all``), bounds and time budgets.
- `results` (pure): what a run measured, its summary and the speed-ups.
- `run`: Ray's lifecycle, the warm-up and the rounds (the only module that starts anything).
- `report`: results.json, report.md and cad_throughput.png.
- `command`: the ``python -m benchmarks cad`` flags.

Importing this package loads neither Ray nor build123d nor matplotlib.
"""

from __future__ import annotations

from .bom import PARTS as PARTS
from .bom import bom as bom
from .options import SMOKE_CAD as SMOKE_CAD
from .options import CadOptions as CadOptions
from .results import CadResults as CadResults
from .results import ModeResult as ModeResult
from .results import summarize as summarize
