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
from actors.host.ops import HOST_OPS
from actors.workspace import ops as work
from actors.workspace.bodies import NewSessionBody, RunBody, SessionStatus, SessionStatusBody, SessionType
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
    engine.ActDesign("s-1", "user-1", {"action": "start_requirements", "message": "a bracket"}),
    work.CreateWork("s-1", "user-1", "p-1", NewSessionBody(type=SessionType.T661, title="t")),
    work.SetWorkStatus("s-1", "user-1", SessionStatusBody(status=SessionStatus.ARCHIVED)),
    work.StartRun(
        "s-1", "user-1", RunBody(type=SessionType.T661, input="x", selected_file_ids=["f-1"], history_limit=3)
    ),
    work.WorkHistory("s-1", "user-1", 500),
    work.ListenRun("s-1", "user-1", "r-1", stream=4),
]


@pytest.mark.parametrize("op", SAMPLES, ids=lambda op: type(op).__name__)
def test_an_op_crosses_the_link_unchanged(op: Op) -> None:
    tag, fields = encode(op)
    # The link packs a request as msgpack, as it does every message.
    tag, fields = msgpack.unpackb(msgpack.packb([tag, fields], use_bin_type=True), raw=False)
    assert HOST_OPS.decode(tag, fields) == op


def test_a_body_crosses_as_its_wire_json_and_is_checked_again() -> None:
    # A request body rides in its op as the JSON the client sent (spec names kept), and the
    # host decodes it with the same type: a body the gateway would refuse is refused there too.
    tag, fields = encode(work.StartRun("s-1", "u", RunBody(type=SessionType.T661, input="x")))
    assert fields[2] == {"type": "T661", "input": "x", "selected_file_ids": None, "history_limit": None}
    fields[2] = {"type": "T661", "input": "x", "selectedFileIds": ["f"]}
    with pytest.raises(ValidationError) as caught:
        HOST_OPS.decode(tag, fields)
    assert caught.value.field == "body"


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
