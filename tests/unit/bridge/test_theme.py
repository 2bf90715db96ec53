from __future__ import annotations

import math
import re

import pytest

from actors.bridge.theme import (
    CONTRAST_PAIRS,
    DEFAULT_THEME,
    ThemeParams,
    palette,
    parse_theme,
    theme_css,
)
from actors.core.errors import ValidationError

DEFAULT_CSS = """\
:root {
  --background: 99% 0.003 264;
  --foreground: 14.5% 0.01 264;
  --card: 100% 0 264;
  --card-foreground: 14.5% 0.01 264;
  --popover: 100% 0 264;
  --popover-foreground: 14.5% 0.01 264;
  --primary: 50% 0.24 264;
  --primary-foreground: 98.5% 0.002 264;
  --secondary: 96% 0.01 264;
  --secondary-foreground: 20.5% 0.01 264;
  --muted: 96% 0.01 264;
  --muted-foreground: 52% 0.015 264;
  --accent: 95% 0.024 264;
  --accent-foreground: 20.5% 0.072 264;
  --destructive: 57.7% 0.245 27.325;
  --destructive-foreground: 98.5% 0.002 264;
  --border: 91% 0.01 264;
  --input: 91% 0.01 264;
  --ring: 65% 0.192 264;
  --radius: 0.625rem;
}
"""

SHADCN_TOKENS = [
    "background",
    "foreground",
    "card",
    "card-foreground",
    "popover",
    "popover-foreground",
    "primary",
    "primary-foreground",
    "secondary",
    "secondary-foreground",
    "muted",
    "muted-foreground",
    "accent",
    "accent-foreground",
    "destructive",
    "destructive-foreground",
    "border",
    "input",
    "ring",
]

TOKEN_LINE = re.compile(r"^  --([a-z-]+): ([0-9.]+)% ([0-9.]+) ([0-9.]+);$")


FORBIDDEN = "must not contain any of ; { } < > \\ or control characters (newlines)"


def _parse_css(css: str) -> dict[str, tuple[float, float, float]]:
    out: dict[str, tuple[float, float, float]] = {}
    for line in css.splitlines():
        match = TOKEN_LINE.match(line)
        if match:
            name, lightness, chroma, hue = match.groups()
            out[name] = (float(lightness) / 100, float(chroma), float(hue))
    return out


def _error(obj: object, base: ThemeParams | None = DEFAULT_THEME) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        parse_theme(obj, base)
    return info.value.field, info.value.message


# --- defaults and CSS ----------------------------------------------------------------


def test_default_theme_values() -> None:
    assert DEFAULT_THEME.to_json() == {
        "hue": 264,
        "chroma": 0.24,
        "grayChroma": 0.01,
        "radius": 0.625,
    }
    assert DEFAULT_THEME.font is None


def test_default_css_exact() -> None:
    assert theme_css(DEFAULT_THEME) == DEFAULT_CSS


def test_css_is_deterministic() -> None:
    params = ThemeParams(hue=12.5, chroma=0.1, gray_chroma=0.02, radius=1, font="Inter")
    assert theme_css(params) == theme_css(
        ThemeParams(hue=12.5, chroma=0.1, gray_chroma=0.02, radius=1, font="Inter")
    )


def test_css_has_every_shadcn_token_once_in_order() -> None:
    names = re.findall(r"^  --([a-z-]+):", theme_css(DEFAULT_THEME), flags=re.M)
    assert names == [*SHADCN_TOKENS, "radius"]


def test_css_font_line() -> None:
    css = theme_css(ThemeParams(hue=0, chroma=0, gray_chroma=0, radius=0, font='"Inter Variable", Inter'))
    assert css.endswith(
        "  --radius: 0rem;\n"
        '  --font-sans: "Inter Variable", Inter, ui-sans-serif, system-ui, sans-serif;\n'
        "}\n"
    )


def test_css_number_formatting() -> None:
    css = theme_css(ThemeParams(hue=27.32549, chroma=0.1234, gray_chroma=0.03, radius=0.5))
    assert "  --primary: 50% 0.123 27.325;\n" in css
    assert "  --ring: 65% 0.099 27.325;\n" in css  # 0.1234 * 0.8 = 0.09872
    assert "  --foreground: 14.5% 0.03 27.325;\n" in css
    assert "  --muted-foreground: 52% 0.045 27.325;\n" in css
    assert "  --radius: 0.5rem;\n" in css


def test_primary_uses_hue_and_chroma_neutrals_use_gray_chroma() -> None:
    colors = palette(ThemeParams(hue=120, chroma=0.1, gray_chroma=0.02, radius=0.5))
    assert colors["primary"] == (0.5, 0.1, 120)
    assert colors["foreground"] == (0.145, 0.02, 120)
    assert colors["border"] == (0.91, 0.02, 120)
    # destructive stays red whatever the brand hue
    assert colors["destructive"] == (0.577, 0.245, 27.325)


@pytest.mark.parametrize(
    "params",
    [
        DEFAULT_THEME,
        ThemeParams(hue=0, chroma=0, gray_chroma=0, radius=0),
        ThemeParams(hue=360, chroma=0.4, gray_chroma=0.03, radius=8),
        ThemeParams(hue=90, chroma=0.37, gray_chroma=0.005, radius=0.25, font="Inter"),
    ],
)
def test_foregrounds_contrast_with_backgrounds(params: ThemeParams) -> None:
    expected_pairs = [
        ("background", "foreground"),
        ("card", "card-foreground"),
        ("popover", "popover-foreground"),
        ("primary", "primary-foreground"),
        ("secondary", "secondary-foreground"),
        ("muted", "muted-foreground"),
        ("accent", "accent-foreground"),
        ("destructive", "destructive-foreground"),
    ]
    assert list(CONTRAST_PAIRS) == expected_pairs
    from_css = _parse_css(theme_css(params))
    assert set(from_css) == set(SHADCN_TOKENS)
    for surface, text in expected_pairs:
        assert abs(from_css[surface][0] - from_css[text][0]) >= 0.4, (surface, text)


def test_palette_matches_emitted_css() -> None:
    params = ThemeParams(hue=200, chroma=0.2, gray_chroma=0.02, radius=1)
    from_css = _parse_css(theme_css(params))
    for name, (lightness, chroma, hue) in palette(params).items():
        assert from_css[name] == pytest.approx((lightness, chroma, hue), abs=1e-3)


# --- parse_theme -----------------------------------------------------------------------


def test_parse_full_theme_without_base() -> None:
    params = parse_theme({"hue": 30, "chroma": 0.1, "grayChroma": 0.02, "radius": 0.5, "font": "Inter"}, None)
    assert params == ThemeParams(hue=30, chroma=0.1, gray_chroma=0.02, radius=0.5, font="Inter")
    # the int stays an int so JSON round-trips exactly
    assert type(params.hue) is int


def test_parse_partial_merges_over_base() -> None:
    base = ThemeParams(hue=10, chroma=0.1, gray_chroma=0.02, radius=1, font="Inter")
    assert parse_theme({"hue": 200.5}, base) == ThemeParams(
        hue=200.5, chroma=0.1, gray_chroma=0.02, radius=1, font="Inter"
    )
    assert parse_theme({}, base) == base


def test_parse_font_null_removes_font() -> None:
    base = ThemeParams(hue=10, chroma=0.1, gray_chroma=0.02, radius=1, font="Inter")
    assert parse_theme({"font": None}, base).font is None


def test_parse_without_base_requires_numbers() -> None:
    assert _error({"hue": 1, "grayChroma": 0, "radius": 0}, None) == (
        "theme.chroma",
        "required number",
    )


def test_parse_bounds_inclusive() -> None:
    assert parse_theme({"hue": 0, "chroma": 0, "grayChroma": 0, "radius": 0}, None).hue == 0
    high = parse_theme({"hue": 360, "chroma": 0.4, "grayChroma": 0.03, "radius": 8}, None)
    assert high.to_json() == {"hue": 360, "chroma": 0.4, "grayChroma": 0.03, "radius": 8}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("hue", -1, "must be a number between 0 and 360"),
        ("hue", 360.01, "must be a number between 0 and 360"),
        ("hue", True, "must be a number between 0 and 360"),
        ("hue", "264", "must be a number between 0 and 360"),
        ("hue", None, "must be a number between 0 and 360"),
        ("hue", math.nan, "must be a number between 0 and 360"),
        ("hue", math.inf, "must be a number between 0 and 360"),
        ("hue", 10**400, "must be a number between 0 and 360"),
        ("chroma", 0.41, "must be a number between 0 and 0.4"),
        ("chroma", False, "must be a number between 0 and 0.4"),
        ("grayChroma", 0.031, "must be a number between 0 and 0.03"),
        ("grayChroma", -0.0001, "must be a number between 0 and 0.03"),
        ("radius", -0.5, "must be a number between 0 and 8"),
        ("radius", 8.5, "must be a number between 0 and 8"),
        ("radius", -math.inf, "must be a number between 0 and 8"),
    ],
)
def test_parse_rejects_bad_numbers(key: str, value: object, message: str) -> None:
    assert _error({key: value}) == (f"theme.{key}", message)


@pytest.mark.parametrize(
    ("font", "message"),
    [
        (12, "must be a string or null"),
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("x" * 201, "must be at most 200 characters"),
        ("Inter; color: red", FORBIDDEN),
        ("Inter}", FORBIDDEN),
        ("{Inter", FORBIDDEN),
        ("</style>", FORBIDDEN),
        ("In\\ter", FORBIDDEN),
        ("Inter\nx", FORBIDDEN),
        ("Inter\r", FORBIDDEN),
        ("Inter /* x", "must not contain a CSS comment (/*)"),
        ('"Inter', "must have balanced quotes"),
        ("Inter'", "must have balanced quotes"),
        ("Inter\ud800", "must be valid Unicode (no lone surrogates)"),
    ],
)
def test_parse_rejects_bad_fonts(font: object, message: str) -> None:
    assert _error({"font": font}) == ("theme.font", message)


def test_parse_accepts_reasonable_fonts() -> None:
    for font in ["Inter", "'Source Sans 3', Inter", "x" * 200, "ヒラギノ角ゴ"]:
        assert parse_theme({"font": font}, DEFAULT_THEME).font == font


def test_parse_rejects_unknown_key_and_non_object() -> None:
    assert _error({"hue": 1, "colour": "red"}) == (
        "theme.colour",
        "unknown key (allowed: hue, chroma, grayChroma, radius, font)",
    )
    assert _error([1, 2]) == ("theme", "must be an object")
    assert _error(None) == ("theme", "must be an object")


def test_parse_field_prefix() -> None:
    with pytest.raises(ValidationError) as info:
        parse_theme({"hue": 400}, DEFAULT_THEME, field="ops[3].theme")
    assert info.value.field == "ops[3].theme.hue"
    assert str(info.value) == "ops[3].theme.hue: must be a number between 0 and 360"
    assert info.value.to_json() == {
        "error": "must be a number between 0 and 360",
        "field": "ops[3].theme.hue",
    }


def test_direct_construction_is_validated() -> None:
    with pytest.raises(ValidationError) as info:
        ThemeParams(hue=400, chroma=0.1, gray_chroma=0.01, radius=1)
    assert info.value.field == "ThemeParams.hue"
    with pytest.raises(ValidationError):
        ThemeParams(hue=1, chroma=0.1, gray_chroma=0.01, radius=1, font="a;b")
