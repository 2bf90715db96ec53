"""Operations a gateway asks of a session's host: one typed, immutable message each.

Each operation is a ``msgspec.Struct`` defined in its API's own module
(``actors/bridge/ops.py``, ``actors/engine/ops.py``, ``actors/workspace/ops.py``; the two
every API shares are here). It names its session first, says whether it is safe to send
again when the outcome of a call is unknown (``retry``: reads and idempotent writes) and
whether it opens a stream (``opens_stream``: its ``stream`` field carries the id its
gateway gave that stream). On the link it travels as its tag and its fields
(``encode``); the host rebuilds and checks it (``OpRegistry.decode``) and runs the handler
registered for its type. ``python -m benchmarks link-codec`` measured the library choice.

An op names the type of its answer as its parameter (``class GetState(Op[SessionState])``):
the host sends the answer as plain values (``answer_to_wire``) and the client rebuilds and
checks it as that type (``answer_from_wire``), so ``call(op)`` is typed end to end. An op
that names none answers plain values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any, ClassVar, Generic, TypeVar, cast, get_args

import msgspec

from .errors import ValidationError

__all__ = ["BaseOp", "Op", "OpRegistry", "Ping", "Subscribe", "answer_from_wire", "answer_to_wire", "encode"]

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

# What the link carries as it is (msgpack knows bytes; msgspec would make them base64).
_WIRE_BUILTINS = (bytes, bytearray)


class BaseOp(msgspec.Struct, Generic[R_co], frozen=True, array_like=True, tag=True):
    """One operation sent over a link: its tag, then its fields; answered with an ``R_co``.

    Host ops are about one session (``Op``); the store owner's are not all (listing
    programs, reserving quota), so what every registry needs lives here.
    """

    #: Safe to send again when the link broke after sending: its outcome is unknown.
    retry: ClassVar[bool] = True
    #: Opens a stream of the session under the id in its ``stream`` field.
    opens_stream: ClassVar[bool] = False
    #: The answer's type (``R_co``), ``Any`` when the op names none.
    answer: ClassVar[Any] = Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in cls.__dict__.get("__orig_bases__", ()):
            args = get_args(base)
            if args and not isinstance(args[0], TypeVar):
                cls.answer = args[0]


class Op(BaseOp[R_co], frozen=True):
    """One operation on one session (``session_id``), answered with an ``R_co``."""

    session_id: str


def answer_to_wire(kind: type[BaseOp[Any]], value: object) -> object:
    """An answer as the link carries it: a typed one as plain values, bytes as bytes."""
    if kind.answer is Any:
        return value
    return msgspec.to_builtins(value, builtin_types=_WIRE_BUILTINS)


def answer_from_wire(kind: type[BaseOp[R]], value: object) -> R:
    """The answer to an op of ``kind`` rebuilt as its type.

    A service whose answer does not fit is a bug on its side, not bad input: it raises
    ``TypeError`` (a 500 at the gateway, logged) rather than a ``ValidationError`` (a 400).
    """
    if kind.answer is Any:
        return value  # type: ignore[return-value]  # an op that names no type answers plain values
    try:
        answer: R = msgspec.convert(value, kind.answer, builtin_types=_WIRE_BUILTINS)
    except msgspec.ValidationError as exc:
        raise TypeError(f"{kind.__name__} answered a value that is not its type: {exc}") from None
    return answer


class Subscribe(Op[str | None], tag="subscribe", frozen=True):
    """Send the session's realtime events (document, awareness) to a new stream.

    Answers the owner whose connections alone may open the document (a design
    session's), None when any caller the gateway let in may.
    """

    stream: int = 0
    opens_stream: ClassVar[bool] = True


class Ping(Op[int], tag="ping", frozen=True):
    """Activate the session where it is placed; answers that host's process id."""


def encode(op: BaseOp[Any]) -> tuple[str, list[Any]]:
    """The op as the link carries it: its tag, then its fields in order."""
    raw = msgspec.to_builtins(op, builtin_types=(bytes, bytearray))
    return raw[0], raw[1:]


OpT = TypeVar("OpT", bound=BaseOp[Any])
H = TypeVar("H")
B = TypeVar("B", bound=BaseOp[Any])

# A handler takes the host's state and the op; one of an ``opens_stream`` op takes the
# stream too (the host's own peer object, so typed by each handler, not here).
Handler = Callable[..., Awaitable[Any]]


class OpRegistry(Generic[H, B]):
    """Every operation a service answers (of base ``B``), each with its handler (taking ``H``)."""

    def __init__(self) -> None:
        self._handlers: dict[type[BaseOp[Any]], Handler] = {}
        self._by_tag: dict[str, type[BaseOp[Any]]] = {}

    def register(self, kind: type[OpT], handler: Callable[[H, OpT], Awaitable[Any]]) -> None:
        if kind.opens_stream:
            raise ValueError(f"op {kind.__name__} opens a stream: register_stream it")
        self._add(kind, handler)

    def register_stream(self, kind: type[OpT], handler: Callable[[H, OpT, Any], Awaitable[Any]]) -> None:
        if not kind.opens_stream:
            raise ValueError(f"op {kind.__name__} opens no stream: register it")
        self._add(kind, handler)

    def _add(self, kind: type[BaseOp[Any]], handler: Handler) -> None:
        tag = kind.__struct_config__.tag
        if not isinstance(tag, str) or tag in self._by_tag:
            raise ValueError(f"op {kind.__name__}: its tag {tag!r} is missing or taken")
        self._handlers[kind] = handler
        self._by_tag[tag] = kind

    def __contains__(self, kind: type[BaseOp[Any]]) -> bool:
        return kind in self._handlers

    def __iter__(self) -> Iterator[type[BaseOp[Any]]]:
        return iter(self._handlers)

    def decode(self, tag: object, fields: object) -> B:
        """The op a link request carries, checked field by field (``ValidationError``)."""
        kind = self._by_tag.get(tag) if isinstance(tag, str) else None
        if kind is None:
            raise ValidationError("op", f"unknown operation {tag!r}")
        if not isinstance(fields, list):
            raise ValidationError("op", "fields must be an array")
        try:
            # Converted to the tag's own type, not to a union of them all: msgspec builds
            # its plan for a union on each call (about 1 µs more per op, measured).
            op = msgspec.convert([tag, *fields], kind)
        except msgspec.ValidationError as exc:
            raise ValidationError(_field_of(kind, str(exc)), str(exc)) from None
        return cast(B, op)

    async def run(self, host: H, op: BaseOp[Any], stream: Any = None) -> Any:
        """The op's answer; ``stream`` is the peer an ``opens_stream`` op opens."""
        handler = self._handlers.get(type(op))
        if handler is None:
            raise ValidationError("op", f"unknown operation {type(op).__name__}")
        if type(op).opens_stream:
            if stream is None:
                raise ValueError(f"op {type(op).__name__} needs the stream it opens")
            return await handler(host, op, stream)
        return await handler(host, op)


def _field_of(kind: type[BaseOp[Any]], message: str) -> str:
    """The field a msgspec error points at (``... - at `$[2]` ``: the tag is ``$[0]``)."""
    at = message.rsplit("`$[", 1)
    if len(at) == 2:
        index = at[1].split("]", 1)[0]
        if index.isdigit() and 0 < int(index) <= len(kind.__struct_fields__):
            return kind.__struct_fields__[int(index) - 1]
    return "op"
