"""What a typed message costs on the link: encode + decode µs per message, per library.

The link carried positional msgpack arrays (``actors/link/codec.py``): untyped and
unchecked. A typed message per operation needs a library that encodes, decodes and
validates; this measures the candidates on messages shaped like the link's busiest ones:

- ``msgpack lists`` — the codec before typed operations: no types, no validation (the floor);
- ``msgspec`` — ``msgspec.Struct`` (frozen, tagged, array-like) with its msgpack encoder
  and a decoder for the tagged union, which validates while it decodes;
- ``pydantic`` — v2 models (frozen) in a discriminated union, dumped to a dict and packed
  with msgpack, then unpacked and validated with a ``TypeAdapter``.

``python -m benchmarks link-codec`` prints the table; each figure is the median of
``repeats`` timings of ``iterations`` round trips.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgpack
import msgspec
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from actors.bridge.ops import ApplyOps as ShippedApplyOps
from actors.core.ops import Op, OpRegistry, encode

__all__ = ["CANDIDATES", "SAMPLES", "Candidate", "measure", "render"]

# -- the messages ---------------------------------------------------------------------------

_PAYLOAD = bytes(range(32))  # a typical one-character Yjs update frame
_OPS = [{"op": "update_props", "key": f"card-{i}", "props": {"title": "Hello", "count": i}} for i in range(3)]


class Frames(msgspec.Struct, tag="frames", array_like=True, frozen=True):
    session_id: str
    peer_id: int
    items: list[tuple[int, int, bytes, bool]]


class ApplyOps(msgspec.Struct, tag="apply_ops", array_like=True, frozen=True):
    request_id: int
    session_id: str
    ops: list[dict[str, Any]]
    agent_id: str | None
    expected_revision: int | None
    version_before: str | None


class OpsAnswer(msgspec.Struct, tag="ops_answer", array_like=True, frozen=True):
    request_id: int
    revision: int
    applied: int
    errors: list[dict[str, Any]]
    change_id: str | None


_Message = Frames | ApplyOps | OpsAnswer


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class PFrames(_Model):
    kind: Literal["frames"] = "frames"
    session_id: str
    peer_id: int
    items: list[tuple[int, int, bytes, bool]]


class PApplyOps(_Model):
    kind: Literal["apply_ops"] = "apply_ops"
    request_id: int
    session_id: str
    ops: list[dict[str, Any]]
    agent_id: str | None
    expected_revision: int | None
    version_before: str | None


class POpsAnswer(_Model):
    kind: Literal["ops_answer"] = "ops_answer"
    request_id: int
    revision: int
    applied: int
    errors: list[dict[str, Any]]
    change_id: str | None


_PMessage = Annotated[PFrames | PApplyOps | POpsAnswer, Field(discriminator="kind")]


@dataclass(frozen=True, slots=True)
class Sample:
    """One message in each shape: a positional list, a msgspec struct, a pydantic model and,
    for an operation, the op the link carries now."""

    name: str
    listed: list[Any]
    struct: _Message
    model: BaseModel
    shipped: Op[Any] | None = None  # the operation as the link carries it now (None: positional)


_SESSION = "s-0123456789"
_ITEMS = [(conn, 0, _PAYLOAD, True) for conn in range(4)]

SAMPLES: tuple[Sample, ...] = (
    Sample(
        "frames (4 updates)",
        [3, "frames", [_SESSION, 7, [list(item) for item in _ITEMS]]],
        Frames(session_id=_SESSION, peer_id=7, items=_ITEMS),
        PFrames(session_id=_SESSION, peer_id=7, items=_ITEMS),
    ),
    Sample(
        "apply_ops request (3 ops)",
        [0, 17, 4, [_SESSION, _OPS, "agent-1", 12, None]],
        ApplyOps(
            request_id=17,
            session_id=_SESSION,
            ops=_OPS,
            agent_id="agent-1",
            expected_revision=12,
            version_before=None,
        ),
        PApplyOps(
            request_id=17,
            session_id=_SESSION,
            ops=_OPS,
            agent_id="agent-1",
            expected_revision=12,
            version_before=None,
        ),
        ShippedApplyOps(_SESSION, _OPS, "agent-1", 12, None),
    ),
    Sample(
        "ops answer",
        [1, 17, {"revision": 13, "applied": 3, "errors": [], "changeId": "c-abc123"}],
        OpsAnswer(request_id=17, revision=13, applied=3, errors=[], change_id="c-abc123"),
        POpsAnswer(request_id=17, revision=13, applied=3, errors=[], change_id="c-abc123"),
    ),
)

# -- the candidates -------------------------------------------------------------------------

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(_Message)
_adapter: TypeAdapter[Any] = TypeAdapter(_PMessage)


def _lists(sample: Sample) -> Any:
    return msgpack.unpackb(msgpack.packb(sample.listed, use_bin_type=True), raw=False)


def _msgspec(sample: Sample) -> Any:
    return _decoder.decode(_encoder.encode(sample.struct))


_shipped_ops: OpRegistry[None, Op[Any]] = OpRegistry()


async def _never(host: None, op: ShippedApplyOps) -> None:  # decoding is what is measured
    return None


_shipped_ops.register(ShippedApplyOps, _never)


def _shipped(sample: Sample) -> Any:
    if sample.shipped is None:
        return _lists(sample)
    tag, fields = encode(sample.shipped)
    message = msgpack.unpackb(msgpack.packb([0, 17, tag, fields], use_bin_type=True), raw=False)
    return _shipped_ops.decode(message[2], message[3])


def _pydantic(sample: Sample) -> Any:
    packed = msgpack.packb(sample.model.model_dump(), use_bin_type=True)
    return _adapter.validate_python(msgpack.unpackb(packed, raw=False))


@dataclass(frozen=True, slots=True)
class Candidate:
    name: str
    round_trip: Callable[[Sample], Any]  # encode then decode one message
    expected: Callable[[Sample], Any]  # what the round trip must give back
    typed: str  # which messages decoding checks field by field


CANDIDATES: tuple[Candidate, ...] = (
    Candidate("msgpack lists (before)", _lists, lambda s: s.listed, "none"),
    Candidate("msgspec Struct", _msgspec, lambda s: s.struct, "all"),
    Candidate("pydantic v2", _pydantic, lambda s: s.model, "all"),
    Candidate(
        "as shipped",
        _shipped,
        lambda s: s.shipped if s.shipped is not None else s.listed,
        "operations",
    ),
)


def measure(iterations: int = 20_000, repeats: int = 5) -> dict[str, dict[str, float]]:
    """µs per encode + decode, by candidate then message; checks each round trip first."""
    results: dict[str, dict[str, float]] = {}
    for candidate in CANDIDATES:
        row: dict[str, float] = {}
        for sample in SAMPLES:
            got = candidate.round_trip(sample)
            want = candidate.expected(sample)
            if got != want:
                raise AssertionError(f"{candidate.name}: {sample.name} came back as {got!r}, not {want!r}")
            timings = []
            for _ in range(repeats):
                started = time.perf_counter()
                for _ in range(iterations):
                    candidate.round_trip(sample)
                timings.append((time.perf_counter() - started) / iterations * 1e6)
            row[sample.name] = statistics.median(timings)
        results[candidate.name] = row
    return results


def render(results: dict[str, dict[str, float]]) -> str:
    """A Markdown table: µs per message and the ratio to the positional lists."""
    names = [s.name for s in SAMPLES]
    base = results[CANDIDATES[0].name]
    lines = [
        "| codec | typed | " + " | ".join(f"{n} µs" for n in names) + " |",
        "|---|---|" + "---:|" * len(names),
    ]
    for candidate in CANDIDATES:
        row = results[candidate.name]
        cells = [f"{row[n]:.2f} ({row[n] / base[n]:.1f}×)" for n in names]
        lines.append(f"| {candidate.name} | {candidate.typed} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
