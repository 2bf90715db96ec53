"""What every operation on the store owner is, and how its answer crosses the link (pure).

An op names the answer it expects (``answer``, a type): the store owner sends the
handler's value as msgpack-able builtins (``answer_to_wire``: records become maps of
their fields, enums their values, bytes stay bytes) and the client rebuilds that type
from them (``answer_from_wire``), so a record is described once, by its annotations.
"""

from __future__ import annotations

import types
from typing import Any, Protocol, TypeVar, Union, get_args, get_origin

import msgspec

from ...core.ops import BaseOp

__all__ = ["StoreCalls", "StoreOp", "answer_from_wire", "answer_to_wire"]

_BUILTIN = (bytes, bytearray)
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class StoreOp(BaseOp[R_co], frozen=True):
    """One operation on the store owner: its tag, then its fields; ``StoreOp[None]``
    answers nothing."""


class StoreCalls(Protocol):
    """The one path every op takes to the store owner (``LinkStoreClient.call``): what
    the engine and workspace clients are built on."""

    async def call(self, op: StoreOp[R]) -> R: ...


def answer_to_wire(value: Any) -> Any:
    if value is None or type(value) in (bool, int, str):
        return value
    return msgspec.to_builtins(value, builtin_types=_BUILTIN)


# Per op type: the answer type without its ``| None``, and whether it has one. msgspec
# builds its plan for a union on every call (about 1 µs, measured), so None is
# answered here and the rest converted to its plain type.
_PLANS: dict[type[StoreOp[Any]], tuple[Any, bool]] = {}


def answer_from_wire(kind: type[StoreOp[R]], value: Any) -> R:
    """The answer of an op of type ``kind`` rebuilt (``msgspec.ValidationError`` if malformed)."""
    plan = _PLANS.get(kind)
    if plan is None:
        plan = _PLANS[kind] = _plan(kind.answer)
    target, optional = plan
    if value is None and optional:
        return None  # type: ignore[return-value]  # R admits None: the plan says so
    answer: R = msgspec.convert(value, target)
    return answer


def _plan(answer: Any) -> tuple[Any, bool]:
    if answer is None or answer is type(None):
        return None, True
    if get_origin(answer) is Union or isinstance(answer, types.UnionType):
        rest = tuple(arg for arg in get_args(answer) if arg is not type(None))
        if len(rest) < len(get_args(answer)):
            return (rest[0] if len(rest) == 1 else Union[rest]), True  # noqa: UP007 (built at run time)
    return answer, False
