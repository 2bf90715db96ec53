"""Reading OpenAI chat-completion chunks: a pure push-parser, chunks in, text and tool calls out.

A streamed tool call arrives in pieces keyed by `index`: the first piece carries the call `id`
and the function `name`, the following ones carry fragments of the JSON `arguments`. The
assembler glues them back together; it never sees a socket, so it is tested by value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "AssembledCall",
    "ChunkParts",
    "StreamProtocolError",
    "ToolCallAssembler",
    "ToolCallDelta",
    "read_chunk",
]


class StreamProtocolError(ValueError):
    """A chunk does not have the shape of a chat.completion.chunk."""


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    index: int
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None


@dataclass(frozen=True, slots=True)
class ChunkParts:
    text: str = ""
    tool_calls: tuple[ToolCallDelta, ...] = ()
    finish_reason: str | None = None


@dataclass(frozen=True, slots=True)
class AssembledCall:
    call_id: str
    name: str
    arguments: str
    # The arguments outgrew the bound and were cut; they are refused, never parsed.
    overflow: bool = False


def _get(obj: object, key: str) -> object:
    # The SDK builds chunks without validation, so a malformed chunk may hold plain dicts.
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _optional_str(value: object, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise StreamProtocolError(f"{what} must be a string, got {type(value).__name__}")


def read_chunk(chunk: object) -> ChunkParts:
    """The text, tool-call pieces and finish reason of one chunk (only choice 0 is used: n=1)."""
    choices = _get(chunk, "choices")
    if not isinstance(choices, list):
        raise StreamProtocolError("chunk has no 'choices' list")
    if not choices:
        return ChunkParts()  # the usage chunk at the end of a stream
    choice = choices[0]
    finish = _optional_str(_get(choice, "finish_reason"), "finish_reason")
    delta = _get(choice, "delta")
    if delta is None:
        return ChunkParts(finish_reason=finish)
    text = _optional_str(_get(delta, "content"), "delta.content") or ""
    raw_calls = _get(delta, "tool_calls")
    if raw_calls is None:
        return ChunkParts(text, (), finish)
    if not isinstance(raw_calls, list):
        raise StreamProtocolError("delta.tool_calls must be a list")
    pieces: list[ToolCallDelta] = []
    for raw in raw_calls:
        index = _get(raw, "index")
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise StreamProtocolError("a tool call delta has no valid 'index'")
        function = _get(raw, "function")
        pieces.append(
            ToolCallDelta(
                index,
                _optional_str(_get(raw, "id"), "tool_calls.id"),
                _optional_str(_get(function, "name"), "function.name") if function is not None else None,
                _optional_str(_get(function, "arguments"), "function.arguments")
                if function is not None
                else None,
            )
        )
    return ChunkParts(text, tuple(pieces), finish)


@dataclass(slots=True)
class _Partial:
    call_id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)
    size: int = 0
    overflow: bool = False


class ToolCallAssembler:
    """Accumulates the tool-call pieces of one model response, bounded in calls and size."""

    def __init__(self, *, max_calls: int, max_argument_chars: int) -> None:
        self._max_calls = max_calls
        self._max_chars = max_argument_chars
        self._calls: dict[int, _Partial] = {}

    def feed(self, delta: ToolCallDelta) -> None:
        partial = self._calls.get(delta.index)
        if partial is None:
            if len(self._calls) >= self._max_calls:
                raise StreamProtocolError(
                    f"the model made more than {self._max_calls} tool calls in one response"
                )
            partial = self._calls[delta.index] = _Partial()
        if delta.call_id and not partial.call_id:
            partial.call_id = delta.call_id
        if delta.name:
            # Fragments concatenate, as in the SDK's own accumulator.
            partial.name += delta.name
        if delta.arguments and not partial.overflow:
            partial.size += len(delta.arguments)
            if partial.size > self._max_chars:
                partial.overflow = True
                partial.arguments.clear()
            else:
                partial.arguments.append(delta.arguments)

    def __bool__(self) -> bool:
        return bool(self._calls)

    def finish(self, *, fallback_id_prefix: str) -> list[AssembledCall]:
        """The complete calls in index order; ids the server left out get stable fallbacks."""
        calls: list[AssembledCall] = []
        for index in sorted(self._calls):
            partial = self._calls[index]
            if not partial.name:
                raise StreamProtocolError(f"tool call {index} has no function name")
            calls.append(
                AssembledCall(
                    partial.call_id or f"{fallback_id_prefix}{index}",
                    partial.name,
                    "".join(partial.arguments),
                    partial.overflow,
                )
            )
        return calls
