"""Materials and their densities: a material text in, a `Material` with its density out.

Pure: the table of common engineering materials and the whole-word lookup that reads a BOM
node's free-text ``material`` (e.g. "304 stainless steel") against it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_DENSITY_G_CM3", "MATERIALS", "Material", "lookup_material"]


@dataclass(frozen=True, slots=True)
class Material:
    name: str
    density_g_cm3: float
    # False when the text named no material in `MATERIALS` and the default density was assumed.
    known: bool
    source: str | None = None


# Densities in g/cm³, keyed by the phrase matched in a material text (see `lookup_material`).
MATERIALS: Mapping[str, float] = {
    "steel": 7.85,
    "carbon steel": 7.85,
    "mild steel": 7.85,
    "structural steel": 7.85,
    "s235": 7.85,
    "s355": 7.85,
    "tool steel": 7.80,
    "stainless steel": 8.00,
    "stainless": 8.00,
    "cast iron": 7.20,
    "aluminium": 2.70,
    "aluminum": 2.70,
    "aluminium 6061": 2.70,
    "aluminum 6061": 2.70,
    "6061": 2.70,
    "aluminium 7075": 2.81,
    "aluminum 7075": 2.81,
    "7075": 2.81,
    "titanium": 4.43,
    "ti 6al 4v": 4.43,
    "brass": 8.50,
    "bronze": 8.80,
    "copper": 8.96,
    "abs": 1.04,
    "pla": 1.24,
    "petg": 1.27,
    "nylon": 1.14,
    "polyamide": 1.14,
    "pa6": 1.14,
    "pa12": 1.01,
    "polycarbonate": 1.20,
    "acetal": 1.41,
    "pom": 1.41,
    "delrin": 1.41,
    "acrylic": 1.18,
    "pmma": 1.18,
    "hdpe": 0.95,
    "polypropylene": 0.90,
    "ptfe": 2.20,
    "rubber": 1.20,
    "silicone": 1.10,
    "carbon fibre": 1.60,
    "carbon fiber": 1.60,
    "glass": 2.50,
    "wood": 0.60,
    "pine": 0.50,
    "oak": 0.75,
    "birch": 0.67,
    "beech": 0.72,
    "maple": 0.70,
    "walnut": 0.65,
    "plywood": 0.60,
    "mdf": 0.75,
}
# Unknown or missing material: steel's density, flagged `known=False`; of the common
# materials it gives the heaviest plausible estimate, which is the safe side for a mass budget.
DEFAULT_DENSITY_G_CM3 = 7.85
_DEFAULT_NAME = "unspecified (steel density assumed)"

_NON_WORD = re.compile(r"[^a-z0-9]+")
_PATTERNS = tuple(
    (name, re.compile(rf"\b{re.escape(_NON_WORD.sub(' ', name.lower()).strip())}\b"))
    for name in sorted(MATERIALS, key=len, reverse=True)
)


def lookup_material(text: str | None) -> Material:
    """The table entry named in ``text`` (case-insensitive, whole words; the longest phrase
    wins, so '304 stainless steel' is stainless, not steel), else the flagged default."""
    if text is not None:
        normal = " " + _NON_WORD.sub(" ", text.lower()) + " "
        best: tuple[int, int, str] | None = None
        for name, pattern in _PATTERNS:
            found = pattern.search(normal)
            if found is not None:
                rank = (-len(name), found.start(), name)
                if best is None or rank < best:
                    best = rank
        if best is not None:
            return Material(best[2], MATERIALS[best[2]], True, text)
    return Material(_DEFAULT_NAME, DEFAULT_DENSITY_G_CM3, False, text)
