"""Domain errors raised by the pure cores, and how an error crosses a link.

Both domain errors carry text meant for the API caller: the gateway turns a
``ValidationError`` into a 400 body via ``to_json()``, and ``apply_ops`` turns either into
a per-op error entry.

An error a host answers a gateway with is a ``WireError``: each class is registered (by
its name, when it is defined) with its wire form — a message and a ``detail`` value the
link carries as it is (``wire_detail``) — and is rebuilt from them on the other side
(``from_wire``). Nothing else mirrors an error type by hand.

The stores' errors are defined below this layer (``storage`` imports nothing of
``actors``), so they cannot subclass ``WireError``: their link (to the store owner) has an
``ErrorForms`` table where each is registered once with the same three parts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Self, TypeVar

__all__ = [
    "ErrorForms",
    "OpError",
    "ValidationError",
    "WireError",
    "error_from_wire",
    "error_to_wire",
]


class WireError(Exception):
    """An error that crosses a link as ``(class name, message, detail)``.

    A subclass whose constructor does not take ``(message)`` overrides ``wire_detail`` and
    ``from_wire``; ``context`` is what the receiving side knows of the call (the session id).
    """

    registry: ClassVar[dict[str, type[WireError]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__.startswith("_"):
            return  # a shared wire form, never raised itself
        known = WireError.registry.get(cls.__name__)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise TypeError(f"two wire errors named {cls.__name__}: {known.__module__} and {cls.__module__}")
        WireError.registry[cls.__name__] = cls

    @property
    def wire_message(self) -> str:
        return str(self)

    def wire_detail(self) -> Any:
        """What ``from_wire`` needs besides the message (msgpack-able), None by default."""
        return None

    @classmethod
    def from_wire(cls, message: str, detail: Any, context: str) -> Self:
        return cls(message)


def error_to_wire(exc: Exception) -> tuple[str, str, Any]:
    """A failed request's answer: a wire error's own form, any other error's type and text
    (the other side answers those ``SessionUnavailable``)."""
    if isinstance(exc, WireError):
        return type(exc).__name__, exc.wire_message, exc.wire_detail()
    return type(exc).__name__, str(exc), None


def error_from_wire(kind: str, message: str, detail: Any, context: str) -> WireError | None:
    """The error a link's failure names, rebuilt; None when no registered class has that name."""
    cls = WireError.registry.get(kind)
    if cls is None:
        return None
    try:
        return cls.from_wire(message, detail, context)
    except (TypeError, KeyError, ValueError):  # a detail of the wrong shape: a bug on the other side
        return None


class ValidationError(WireError):
    """A request value has the wrong shape, type or range.

    ``field`` is a dotted path into the request (``"theme.hue"``,
    ``"ops[2].key"``, ``"spec.elements.heading.children"``) so a caller can
    point at the offending value without parsing the message.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def to_json(self) -> dict[str, str]:
        return {"error": self.message, "field": self.field}

    @property
    def wire_message(self) -> str:
        return self.message

    def wire_detail(self) -> Any:
        return self.field

    @classmethod
    def from_wire(cls, message: str, detail: Any, context: str) -> Self:
        return cls(str(detail or "body"), message)


class OpError(Exception):
    """A well-formed operation that conflicts with the document's current state.

    For example adding a key that already exists or removing the root; the
    message names the field and the key involved.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


E = TypeVar("E", bound=Exception)


def _no_detail(exc: Exception) -> Any:
    return None


@dataclass(frozen=True, slots=True)
class _Form(Generic[E]):
    kind: type[E]
    detail: Callable[[E], Any]
    rebuild: Callable[[str, Any], E]


class ErrorForms:
    """Errors of one link that are defined where they cannot subclass ``WireError``.

    Each class is registered once under a wire name (unique on this link, so two classes
    named alike in different stores stay apart) with what its ``detail`` carries and how
    it is rebuilt from message and detail; both sides of the link use the one table.
    """

    def __init__(self) -> None:
        self._by_name: dict[str, _Form[Any]] = {}
        self._by_type: dict[type[Exception], str] = {}

    def register(
        self,
        kind: type[E],
        name: str,
        detail: Callable[[E], Any] = _no_detail,
        rebuild: Callable[[str, Any], E] | None = None,
    ) -> None:
        if name in self._by_name or kind in self._by_type:
            raise ValueError(f"wire error {kind.__name__} / {name!r} is registered already")
        self._by_name[name] = _Form(kind, detail, rebuild if rebuild is not None else _by_message(kind))
        self._by_type[kind] = name

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def to_wire(self, exc: Exception) -> tuple[str, str, Any] | None:
        """The form of the nearest registered class of ``exc``; None when it has none."""
        for cls in type(exc).__mro__:
            name = self._by_type.get(cls)
            if name is not None:
                return name, str(exc), self._by_name[name].detail(exc)
        return None

    def from_wire(self, kind: str, message: str, detail: Any) -> Exception | None:
        """The error rebuilt; None for an unregistered name or a detail of the wrong shape."""
        form = self._by_name.get(kind)
        if form is None:
            return None
        try:
            error: Exception = form.rebuild(message, detail)
        except (TypeError, KeyError, ValueError):  # a detail of the wrong shape: a bug on the other side
            return None
        return error


def _by_message(kind: type[E]) -> Callable[[str, Any], E]:
    def rebuild(message: str, detail: Any) -> E:
        return kind(message)

    return rebuild
