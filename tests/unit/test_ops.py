"""Typed operations: every op a host answers is registered once, and the link carries it
as its tag and fields, checked field by field on arrival."""

from __future__ import annotations

import inspect
from typing import Any

import msgpack
import msgspec
import pytest

from actors.bridge import ops as bridge
from actors.bridge.answers import OpsOutcome, SessionState, Version
from actors.bridge.theme import DEFAULT_THEME
from actors.core.errors import ValidationError
from actors.core.ops import Op, OpRegistry, Ping, Subscribe, answer_from_wire, answer_to_wire, encode
from actors.engine import ops as engine
from actors.engine.bodies import CreateDesignSessionBody, PatchDesignSessionBody, StageActionBody
from actors.engine.stages import Action, Stage
from actors.host.ops import HOST_OPS
from actors.workspace import ops as work
from actors.workspace.bodies import NewSessionBody, RunBody, SessionStatus, SessionStatusBody, SessionType
from storage.bridge.records import SessionRecord


def _declared() -> list[type[Op[Any]]]:
    found: list[type[Op[Any]]] = [Subscribe, Ping]
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


SAMPLES: list[Op[Any]] = [
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
    work.CreateWork("s-1", "user-1", "p-1", NewSessionBody(type=SessionType.T661, title="t")),
    work.SetWorkStatus("s-1", "user-1", SessionStatusBody(status=SessionStatus.ARCHIVED)),
    work.StartRun(
        "s-1", "user-1", RunBody(type=SessionType.T661, input="x", selected_file_ids=["f-1"], history_limit=3)
    ),
    work.WorkHistory("s-1", "user-1", 500),
    work.ListenRun("s-1", "user-1", "r-1", stream=4),
]


@pytest.mark.parametrize("op", SAMPLES, ids=lambda op: type(op).__name__)
def test_an_op_crosses_the_link_unchanged(op: Op[Any]) -> None:
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
    registry: OpRegistry[object, Op[Any]] = OpRegistry()

    async def handler(host: object, op: Op[Any]) -> None:
        return None

    registry.register(Ping, handler)
    with pytest.raises(ValueError, match="taken"):
        registry.register(Ping, handler)
    with pytest.raises(ValueError, match="opens a stream"):
        registry.register(Subscribe, handler)


# -- typed answers ------------------------------------------------------------------------


def test_an_op_names_its_answer_type() -> None:
    assert bridge.GetState.answer is SessionState
    assert bridge.ListVersions.answer == list[Version]
    assert Ping.answer is int


def test_a_typed_answer_crosses_as_plain_values_and_is_rebuilt() -> None:
    meta = {"name": "n"}
    answer = SessionState(spec={"root": "", "elements": {}}, theme={"hue": 1}, theme_css="", meta=meta)
    wire = answer_to_wire(bridge.GetState, answer)
    assert wire == {"spec": {"root": "", "elements": {}}, "theme": {"hue": 1}, "themeCSS": "", "meta": meta}
    assert msgpack.unpackb(msgpack.packb(wire)) == wire
    assert answer_from_wire(bridge.GetState, wire) == answer
    # A host handler may still answer the plain shape: it is checked as the type all the same.
    outcome = answer_from_wire(bridge.ApplyOps, {"revision": 3, "applied": 1, "errors": [], "changeId": None})
    assert outcome == OpsOutcome(revision=3, applied=1, errors=[], change_id=None)
    assert msgspec.to_builtins(outcome) == {"revision": 3, "applied": 1, "errors": [], "changeId": None}


def test_an_answer_that_is_not_its_type_is_a_host_bug_not_bad_input() -> None:
    with pytest.raises(TypeError, match="GetState answered"):
        answer_from_wire(bridge.GetState, {"spec": {}})
    with pytest.raises(TypeError, match="Ping answered"):
        answer_from_wire(Ping, "not a pid")


class _Plain(Op[Any], tag="test.plain", frozen=True):
    pass


def test_an_op_that_names_no_answer_type_answers_plain_values() -> None:
    assert _Plain.answer is Any
    assert answer_to_wire(_Plain, {"a": b"x"}) == {"a": b"x"}
    assert answer_from_wire(_Plain, [1]) == [1]
