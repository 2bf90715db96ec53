"""Typed operations: every op a host answers is registered once, and the link carries it
as its tag and fields, checked field by field on arrival."""

from __future__ import annotations

import inspect

import msgpack
import pytest

from actors.bridge import ops as bridge
from actors.bridge.theme import DEFAULT_THEME
from actors.core.errors import ValidationError
from actors.core.ops import Op, OpRegistry, Ping, Subscribe, encode
from actors.engine import ops as engine
from actors.engine.bodies import CreateDesignSessionBody, PatchDesignSessionBody, StageActionBody
from actors.engine.stages import Action, Stage
from actors.host.ops import HOST_OPS
from actors.workspace import ops as work
from storage.bridge.records import SessionRecord


def _declared() -> list[type[Op]]:
    found: list[type[Op]] = [Subscribe, Ping]
    for module in (bridge, engine, work):
        found += [
            value
            for value in vars(module).values()
            if inspect.isclass(value) and issubclass(value, Op) and value is not Op
        ]
    return found


def test_every_declared_op_is_registered_with_a_handler() -> None:
    missing = [kind.__name__ for kind in _declared() if kind not in HOST_OPS]
    assert missing == []


SAMPLES: list[Op] = [
    Subscribe("s-1", stream=7),
    Ping("s-1"),
    bridge.CreateSession(
        "s-1", SessionRecord("s-1", "n", "d", 0, "t", "t"), {"root": "a", "elements": {}}, DEFAULT_THEME
    ),
    bridge.ApplyOps("s-1", [{"op": "set_root", "root": "a"}], "agent-1", 3, None),
    bridge.SetPresence("s-1", "agent-1", "Agent", {"elementKey": "a"}, "editing"),
    engine.ListenDesign("s-1", "user-1", 12, stream=3),
    engine.ActDesign("s-1", "user-1", StageActionBody(action=Action.START_REQUIREMENTS, message="a bracket")),
    engine.CreateDesign("s-1", "user-1", CreateDesignSessionBody(description="A kart", program_id="p-1")),
    engine.PatchDesign(
        "s-1", "user-1", PatchDesignSessionBody(artifacts={"bom": None}, stage=Stage.BOM_REVIEW)
    ),
    work.CreateWork("s-1", "user-1", "p-1", {"title": "t"}),
    work.ListenRun("s-1", "user-1", "r-1", stream=4),
]


@pytest.mark.parametrize("op", SAMPLES, ids=lambda op: type(op).__name__)
def test_an_op_crosses_the_link_unchanged(op: Op) -> None:
    tag, fields = encode(op)
    # The link packs a request as msgpack, as it does every message.
    tag, fields = msgpack.unpackb(msgpack.packb([tag, fields], use_bin_type=True), raw=False)
    assert HOST_OPS.decode(tag, fields) == op


def test_a_field_of_the_wrong_type_is_refused_by_name() -> None:
    tag, fields = encode(bridge.ApplyOps("s-1", [], None, None, None))
    fields[3] = "three"  # expected_revision
    with pytest.raises(ValidationError) as caught:
        HOST_OPS.decode(tag, fields)
    assert caught.value.field == "expected_revision"
    assert "Expected `int | null`, got `str`" in caught.value.message


def test_an_unknown_operation_or_a_malformed_request_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"unknown operation 'bridge\.nope'"):
        HOST_OPS.decode("bridge.nope", ["s-1"])
    with pytest.raises(ValidationError, match="fields must be an array"):
        HOST_OPS.decode("bridge.state", {"session_id": "s-1"})
    with pytest.raises(ValidationError) as caught:
        HOST_OPS.decode("bridge.state", [])
    assert caught.value.field == "op"


def test_retry_and_streams_are_declared_per_op() -> None:
    assert bridge.GetState.retry
    assert not bridge.ApplyOps.retry
    assert not work.StartRun.retry
    assert [k.__name__ for k in _declared() if k.opens_stream] == ["Subscribe", "ListenDesign", "ListenRun"]


def test_a_registry_refuses_a_taken_tag_and_a_stream_op_registered_as_plain() -> None:
    registry: OpRegistry[object] = OpRegistry()

    async def handler(host: object, op: Op) -> None:
        return None

    registry.register(Ping, handler)
    with pytest.raises(ValueError, match="taken"):
        registry.register(Ping, handler)
    with pytest.raises(ValueError, match="opens a stream"):
        registry.register(Subscribe, handler)
