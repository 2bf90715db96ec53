"""The shapes of the Bridge's spec, theme and spec operations as a client writes them (pure).

One definition serves three readers: the request bodies that carry them (``bodies.py``),
the OpenAPI document generated from those, and ``spec_ops.apply_ops``, which reads each
operation's required and optional fields from these types (``SPEC_OPS``) while it checks
every op against the document, reporting an invalid one rather than refusing the request.
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import UNSET, Meta, UnsetType

from ..core.bodies import SCHEMA_REF, Body
from ..core.values import MAX_SAFE_INTEGER
from .theme import MAX_FONT_CHARS

__all__ = [
    "SPEC_OPS",
    "AddElement",
    "Count",
    "ElementKey",
    "RemoveElement",
    "RemoveProp",
    "ReorderChildren",
    "ReplaceSpec",
    "SetProp",
    "SetRoot",
    "SetTheme",
    "SetThemeCss",
    "Spec",
    "SpecOp",
    "ThemePatch",
    "UIElement",
    "UpdateProps",
]

ElementKey = Annotated[str, Meta(min_length=1, description="An element's key.")]
Count = Annotated[int, Meta(ge=0, le=MAX_SAFE_INTEGER)]


class UIElement(Body, frozen=True):
    type: Annotated[str, Meta(min_length=1)]
    props: dict[str, Any]
    children: Annotated[list[ElementKey], Meta(description="Keys of child elements.")] | UnsetType | None = (
        UNSET
    )


_ELEMENT = {"$ref": SCHEMA_REF.format(name="UIElement")}


class Spec(Body, frozen=True):
    root: Annotated[str, Meta(description='The root element\'s key (`""`: none).')]
    # Each element is checked by ``validate_spec``, which names its key in an error
    # (``spec.elements.hero.type``); a decoder's path could only say ``elements[...]``.
    elements: Annotated[dict[str, Any], Meta(extra_json_schema={"additionalProperties": _ELEMENT})]
    state: dict[str, Any] | UnsetType | None = UNSET


# A theme number keeps the type it was given (an int hue stays an int), so the state read
# back is the JSON written.
Hue = Annotated[int, Meta(ge=0, le=360)] | Annotated[float, Meta(ge=0, le=360)]
Chroma = Annotated[int, Meta(ge=0, le=0)] | Annotated[float, Meta(ge=0, le=0.4)]
GrayChroma = Annotated[int, Meta(ge=0, le=0)] | Annotated[float, Meta(ge=0, le=0.03)]
Radius = Annotated[int, Meta(ge=0, le=8)] | Annotated[float, Meta(ge=0, le=8)]


class ThemePatch(Body, frozen=True):
    """A partial theme merged over the current one; `font: null` removes the font."""

    hue: Hue | UnsetType = UNSET
    chroma: Chroma | UnsetType = UNSET
    gray_chroma: GrayChroma | UnsetType = UNSET
    radius: Radius | UnsetType = UNSET
    font: Annotated[str, Meta(max_length=MAX_FONT_CHARS)] | UnsetType | None = UNSET


# -- spec operations: each op of ``POST .../ops`` (checked one by one by ``apply_ops``) ---------


class _SpecOp(Body, frozen=True, tag_field="op"):
    pass


class AddElement(_SpecOp, frozen=True, tag="add_element"):
    key: ElementKey
    element: UIElement
    parent_key: ElementKey
    index: Count | None = None


class RemoveElement(_SpecOp, frozen=True, tag="remove_element"):
    key: ElementKey


class UpdateProps(_SpecOp, frozen=True, tag="update_props"):
    key: ElementKey
    props: dict[str, Any]


class SetProp(_SpecOp, frozen=True, tag="set_prop"):
    key: ElementKey
    prop: str
    value: Any


class RemoveProp(_SpecOp, frozen=True, tag="remove_prop"):
    key: ElementKey
    prop: str


class ReorderChildren(_SpecOp, frozen=True, tag="reorder_children"):
    key: ElementKey
    children: list[ElementKey]


class SetRoot(_SpecOp, frozen=True, tag="set_root"):
    root: ElementKey


class ReplaceSpec(_SpecOp, frozen=True, tag="replace_spec"):
    spec: Spec


class SetTheme(_SpecOp, frozen=True, tag="set_theme"):
    theme: ThemePatch


class SetThemeCss(_SpecOp, frozen=True, tag="set_theme_css"):
    css: str


SpecOp = (
    AddElement
    | RemoveElement
    | UpdateProps
    | SetProp
    | RemoveProp
    | ReorderChildren
    | SetRoot
    | ReplaceSpec
    | SetTheme
    | SetThemeCss
)

#: Every spec operation's type, in the order the document lists them.
SPEC_OPS: tuple[type[Body], ...] = (
    AddElement,
    RemoveElement,
    UpdateProps,
    SetProp,
    RemoveProp,
    ReorderChildren,
    SetRoot,
    ReplaceSpec,
    SetTheme,
    SetThemeCss,
)
