"""Theme parameters and the OKLCH design tokens derived from them (pure).

A session's look is five numbers and an optional font (``ThemeParams``); browsers render
from the ``themeCSS`` text the server derives with ``theme_css``. Colours are emitted as
raw OKLCH triples (``--primary: 50% 0.24 264;``) in the shadcn token vocabulary so a
stylesheet can write ``oklch(var(--primary))`` and alpha variants of the same token.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..core.errors import ValidationError

__all__ = [
    "CONTRAST_PAIRS",
    "DEFAULT_THEME",
    "MAX_FONT_CHARS",
    "ThemeParams",
    "palette",
    "parse_theme",
    "theme_css",
]

MAX_FONT_CHARS = 200

# JSON name -> (inclusive lower bound, inclusive upper bound). Radius is in rem, like the
# spec's example 0.625; 8rem is already far past any sensible corner radius.
_RANGES: dict[str, tuple[float, float]] = {
    "hue": (0.0, 360.0),
    "chroma": (0.0, 0.4),
    "grayChroma": (0.0, 0.03),
    "radius": (0.0, 8.0),
}
_KEYS = (*_RANGES, "font")

# Characters that would let a font value end the declaration or the rule it is
# interpolated into, or smuggle markup when the CSS is inlined into a <style> element.
_FONT_FORBIDDEN = frozenset(";{}<>\\")


@dataclass(frozen=True, slots=True)
class ThemeParams:
    """Validated theme parameters; attribute names are snake_case, JSON names camelCase.

    Numbers keep the type they were given (an int hue stays an int) so that
    ``to_json`` round-trips the caller's JSON exactly.
    """

    hue: float
    chroma: float
    gray_chroma: float
    radius: float
    font: str | None = None

    def __post_init__(self) -> None:
        # Direct construction is checked too, so no invalid ThemeParams can exist.
        for name, value in self.to_json().items():
            _check_value(f"ThemeParams.{name}", name, value)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "hue": self.hue,
            "chroma": self.chroma,
            "grayChroma": self.gray_chroma,
            "radius": self.radius,
        }
        if self.font is not None:
            out["font"] = self.font
        return out


def parse_theme(obj: object, base: ThemeParams | None, *, field: str = "theme") -> ThemeParams:
    """Validate a theme object from a request.

    With ``base`` the object is a ``Partial<ThemeParams>`` merged over it; without,
    every numeric key is required. ``font: null`` removes the font. Unknown keys,
    bools, NaN/inf and out-of-range numbers raise ``ValidationError`` naming
    ``<field>.<key>``.
    """
    if not isinstance(obj, Mapping):
        raise ValidationError(field, "must be an object")
    merged: dict[str, Any] = base.to_json() if base is not None else {}
    for key, value in obj.items():
        if key not in _KEYS:
            raise ValidationError(f"{field}.{key}", f"unknown key (allowed: {', '.join(_KEYS)})")
        _check_value(f"{field}.{key}", key, value)
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    for key in _RANGES:
        if key not in merged:
            raise ValidationError(f"{field}.{key}", "required number")
    return ThemeParams(
        hue=merged["hue"],
        chroma=merged["chroma"],
        gray_chroma=merged["grayChroma"],
        radius=merged["radius"],
        font=merged.get("font"),
    )


def _check_value(field: str, key: str, value: object) -> None:
    if key == "font":
        _check_font(field, value)
        return
    lo, hi = _RANGES[key]
    message = f"must be a number between {lo:g} and {hi:g}"
    # bool is an int subclass, and True must not silently mean hue 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(field, message)
    # Compare ints exactly: float(10**400) would overflow before the range check.
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(field, message)
    if not lo <= value <= hi:
        raise ValidationError(field, message)


def _check_font(field: str, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string or null")
    if not value.strip():
        raise ValidationError(field, "must not be empty")
    if len(value) > MAX_FONT_CHARS:
        raise ValidationError(field, f"must be at most {MAX_FONT_CHARS} characters")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        # pycrdt panics (not raises) on strings it cannot encode as UTF-8.
        raise ValidationError(field, "must be valid Unicode (no lone surrogates)")
    if any(ch in _FONT_FORBIDDEN or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ValidationError(field, "must not contain any of ; { } < > \\ or control characters (newlines)")
    # An open comment or string would swallow the rest of the :root block.
    if "/*" in value:
        raise ValidationError(field, "must not contain a CSS comment (/*)")
    if value.count('"') % 2 or value.count("'") % 2:
        raise ValidationError(field, "must have balanced quotes")


# Defined after the checks it runs through ThemeParams.__post_init__.
DEFAULT_THEME = ThemeParams(hue=264, chroma=0.24, gray_chroma=0.01, radius=0.625)


class _Source(Enum):
    """Where a token takes its chroma from."""

    PRIMARY = "primary"  # params.chroma, params.hue
    GRAY = "gray"  # params.gray_chroma, params.hue: neutrals tinted toward the brand hue
    RED = "red"  # fixed: destructive must read as danger whatever the brand hue


_RED_CHROMA = 0.245
_RED_HUE = 27.325

# (token, OKLCH lightness 0..1, chroma source, chroma factor). Light surfaces sit at
# L >= 0.91 and text at L <= 0.52 so every foreground clears its surface by >= 0.4.
# Out-of-gamut chroma is left to the browser, which gamut-maps oklch() per CSS Color 4.
_TOKENS: tuple[tuple[str, float, _Source, float], ...] = (
    ("background", 0.99, _Source.GRAY, 0.3),
    ("foreground", 0.145, _Source.GRAY, 1.0),
    ("card", 1.0, _Source.GRAY, 0.0),
    ("card-foreground", 0.145, _Source.GRAY, 1.0),
    ("popover", 1.0, _Source.GRAY, 0.0),
    ("popover-foreground", 0.145, _Source.GRAY, 1.0),
    ("primary", 0.5, _Source.PRIMARY, 1.0),
    ("primary-foreground", 0.985, _Source.GRAY, 0.2),
    ("secondary", 0.96, _Source.GRAY, 1.0),
    ("secondary-foreground", 0.205, _Source.GRAY, 1.0),
    ("muted", 0.96, _Source.GRAY, 1.0),
    ("muted-foreground", 0.52, _Source.GRAY, 1.5),
    ("accent", 0.95, _Source.PRIMARY, 0.1),
    ("accent-foreground", 0.205, _Source.PRIMARY, 0.3),
    ("destructive", 0.577, _Source.RED, 1.0),
    ("destructive-foreground", 0.985, _Source.GRAY, 0.2),
    ("border", 0.91, _Source.GRAY, 1.0),
    ("input", 0.91, _Source.GRAY, 1.0),
    ("ring", 0.65, _Source.PRIMARY, 0.8),
)

# (surface, text-on-surface) pairs whose lightness must differ by at least 0.4.
CONTRAST_PAIRS: tuple[tuple[str, str], ...] = (
    ("background", "foreground"),
    ("card", "card-foreground"),
    ("popover", "popover-foreground"),
    ("primary", "primary-foreground"),
    ("secondary", "secondary-foreground"),
    ("muted", "muted-foreground"),
    ("accent", "accent-foreground"),
    ("destructive", "destructive-foreground"),
)


def palette(params: ThemeParams) -> dict[str, tuple[float, float, float]]:
    """Token name -> (lightness 0..1, chroma, hue), in emission order."""
    out: dict[str, tuple[float, float, float]] = {}
    for name, lightness, source, factor in _TOKENS:
        if source is _Source.RED:
            out[name] = (lightness, _RED_CHROMA * factor, _RED_HUE)
        elif source is _Source.PRIMARY:
            out[name] = (lightness, params.chroma * factor, float(params.hue))
        else:
            out[name] = (lightness, params.gray_chroma * factor, float(params.hue))
    return out


def theme_css(params: ThemeParams) -> str:
    """The ``:root`` block of design tokens for ``params``; deterministic."""
    lines = [":root {"]
    for name, (lightness, chroma, hue) in palette(params).items():
        lines.append(f"  --{name}: {_fixed(lightness * 100, 2)}% {_fixed(chroma, 3)} {_fixed(hue, 3)};")
    lines.append(f"  --radius: {_fixed(params.radius, 3)}rem;")
    if params.font is not None:
        lines.append(f"  --font-sans: {params.font}, ui-sans-serif, system-ui, sans-serif;")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _fixed(value: float, decimals: int) -> str:
    """Round to ``decimals`` places and drop trailing zeros: 0.0720 -> "0.072", 264.0 -> "264"."""
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
