"""Store ops: every operation on the store owner is one typed message registered once; the
link carries its tag and fields, answers are rebuilt as the type each op names, and store
errors come back as themselves."""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

import msgpack
import pytest

from actors.core.errors import ValidationError
from actors.core.ops import encode
from actors.store.errors import STORE_ERRORS
from actors.store.handlers import STORE_OPS
from actors.store.ops import StoreOp, answer_from_wire, answer_to_wire, bridge, engine, workspace
from storage import Append, LoadedDoc, SessionRecord, StoreError, VersionRecord
from storage import engine as eng
from storage import workspace as work

# User JSON as a record may hold it: a "~" key (the old wire's record tag), nesting, bytes
# beside it in the record.
USER_JSON: dict[str, Any] = {"~": "Design", "v": {"~": ["a", 1]}, "n": None, "x": [1.5, True]}
RECORD = SessionRecord("s-1", "name", "desc", 3, "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.000Z")
VERSION = VersionRecord("s-1", "v-1", 3, 7, "t", "api", "first", "manual")
DESIGN_SESSION = eng.DesignSessionRecord(
    "d-1", "u-1", "p-1", None, None, "t", "requirements", "active", USER_JSON, None, "t", "t", 2, b"\x00\xff"
)
EVENT = eng.StoredEvent("d-1", 4, "r-1", b'{"type":"x"}', "t")
DESIGN = eng.Design("g-1", "p-1", "bracket", eng.LifecycleState.RELEASED, "t", "t")
PLAN = eng.MaterializationPlan(
    "u-1",
    "p-1",
    "g-1",
    DESIGN,
    True,
    "ECO",
    [eng.PlannedRequirement("r1", "req", "", USER_JSON)],
    [eng.PlannedPart("a", "part", "", {}, None, ["r1"])],
    [eng.PlannedLine(None, "a", 1, 0)],
    "t",
)
RUN = work.Run("r-1", "w-1", "u-1", work.RunStatus.QUEUED, "go", "chat", ("f-1", "f-2"), "t", USER_JSON)
PROJECT = work.Project("p-1", "u-1", "n", "2026", "", "active", "t", "t", {"~": "token"})


def _sent(value: Any) -> Any:
    """``value`` after a trip through msgpack, as the link packs every message."""
    return msgpack.unpackb(msgpack.packb(value, use_bin_type=True), raw=False, strict_map_key=False)


def _declared(*modules: ModuleType) -> list[type[StoreOp[Any]]]:
    return [
        value
        for module in modules
        for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, StoreOp) and value is not StoreOp
    ]


def test_every_declared_op_is_registered_with_a_handler() -> None:
    declared = _declared(bridge, engine, workspace)
    assert [kind.__name__ for kind in declared if kind not in STORE_OPS] == []
    assert set(STORE_OPS) == set(declared)


SAMPLES: list[StoreOp[Any]] = [
    bridge.CreateSession(RECORD, b"\x00\x00"),
    bridge.AppendRows([Append("s-1", 4, b"\x01\x02", 4, "t"), Append("s-2", 1, b"", 1, "t")]),
    bridge.Snapshot("s-1", 4, b"\xff"),
    bridge.SaveVersion(VERSION, b"\x00"),
    bridge.DeleteVersions("s-1", ["v-1", "v-2"]),
    engine.SaveSessionWithEvents(DESIGN_SESSION, 1, [EVENT]),
    engine.SetDesignState("g-1", eng.LifecycleState.DRAFT, None),
    engine.Materialize(PLAN, DESIGN_SESSION, 2),
    workspace.CreateRun(RUN),
    workspace.SetProjectGithub("p-1", USER_JSON, "t"),
    workspace.UpdateRun("r-1", work.RunStatus.SUCCEEDED, "t", USER_JSON, None),
    workspace.Reserve("u-1", "2026-12", 10, "r-1", "t", "t"),
]


@pytest.mark.parametrize("op", SAMPLES, ids=lambda op: type(op).__name__)
def test_an_op_crosses_the_link_unchanged(op: StoreOp[Any]) -> None:
    tag, fields = _sent(list(encode(op)))
    got = STORE_OPS.decode(tag, fields)
    assert got == op
    assert type(got) is type(op)


def test_user_json_and_bytes_cross_as_they_are() -> None:
    got = STORE_OPS.decode(*_sent(list(encode(engine.SaveSessionWithEvents(DESIGN_SESSION, 1, [EVENT])))))
    assert isinstance(got, engine.SaveSessionWithEvents)
    assert got.record.artifacts == USER_JSON
    assert type(got.record.doc) is bytes
    assert type(got.events[0].data) is bytes
    assert type(got.record) is eng.DesignSessionRecord


def test_an_enum_and_a_tuple_field_come_back_as_their_types() -> None:
    got = STORE_OPS.decode(*_sent(list(encode(workspace.CreateRun(RUN)))))
    assert isinstance(got, workspace.CreateRun)
    assert got.run.status is work.RunStatus.QUEUED
    assert got.run.selected_file_ids == ("f-1", "f-2")


def test_an_unknown_tag_is_refused_by_name() -> None:
    with pytest.raises(ValidationError) as caught:
        STORE_OPS.decode("e.drop_database", [])
    assert caught.value.field == "op"
    with pytest.raises(ValidationError) as caught:
        STORE_OPS.decode("load", "s-1")
    assert caught.value.field == "op"


def test_a_field_of_the_wrong_type_is_refused_by_name() -> None:
    with pytest.raises(ValidationError) as caught:
        STORE_OPS.decode("snapshot", ["s-1", "four", b""])
    assert caught.value.field == "seq"
    with pytest.raises(ValidationError) as caught:
        STORE_OPS.decode("e.set_design_state", ["g-1", "archived", None])
    assert caught.value.field == "state"


def test_a_missing_field_is_refused() -> None:
    with pytest.raises(ValidationError):
        STORE_OPS.decode("load_version", ["s-1"])


ANSWERS: list[tuple[type[StoreOp[Any]], Any]] = [
    (bridge.Load, LoadedDoc(RECORD, b"\x02" * 8, 3, [(4, b"\x01"), (5, b"")])),
    (bridge.Load, LoadedDoc(RECORD, None, 0, [])),
    (bridge.Load, None),
    (bridge.ListSessions, [RECORD, RECORD]),
    (bridge.LoadVersion, (VERSION, b"\x00\x01")),
    (bridge.DeleteVersions, 2),
    (bridge.CreateSession, None),
    (engine.GetSession, DESIGN_SESSION),
    (engine.ReadEvents, [EVENT]),
    (engine.MemberRole, "owner"),
    (engine.GetDesign, DESIGN),
    (
        engine.Materialize,
        eng.MaterializationOutcome(
            DESIGN_SESSION,
            "g-1",
            True,
            {"a": eng.CreatedItem("a", "i-1", "P-1", eng.ItemKind.PART, "part")},
            1,
            0,
            eng.Eco("e-1", "ECO-1", "g-1", "d-1", "u-1", "t", USER_JSON, "t"),
            USER_JSON,
        ),
    ),
    (workspace.GetRun, RUN),
    (workspace.GetProject, PROJECT),
    (workspace.DeleteProject, ["k-1"]),
    (workspace.Reserve, workspace.Reserved(exceeded=work.QuotaExceeded(10, 10, "t"))),
    (
        workspace.Reserve,
        workspace.Reserved(
            reservation=work.QuotaReservation(
                "r-1", "u-1", "2026-12", work.ReservationState.RESERVED, "t", "t"
            )
        ),
    ),
]


@pytest.mark.parametrize(("kind", "value"), ANSWERS, ids=lambda v: getattr(v, "__name__", ""))
def test_an_answer_comes_back_as_the_type_its_op_names(kind: type[StoreOp[Any]], value: Any) -> None:
    got = answer_from_wire(kind, _sent(answer_to_wire(value)))
    assert got == value
    assert type(got) is type(value)


def test_a_reservation_answer_gives_its_outcome() -> None:
    exceeded = work.QuotaExceeded(10, 10, "t")
    assert workspace.Reserved(exceeded=exceeded).outcome == exceeded
    with pytest.raises(ValueError, match="neither"):
        _ = workspace.Reserved().outcome


STORE_ERROR_SAMPLES: list[Exception] = [
    StoreError("disk full"),
    eng.EngineStoreError("engine store failed"),
    eng.NotFound("program p-1"),
    eng.Conflict("design g-1 exists"),
    eng.InvalidPlan("unknown tempId x"),
    eng.StaleRevision("d-1", 2, 5),
    work.WorkspaceStoreError("workspace store failed"),
    work.NotFound("project p-1"),
    work.Conflict("run r-1 exists"),
    work.RunInProgress("w-1", "r-1"),
    work.IllegalTransition("run", "r-1", "cancelled", "succeeded"),
]


@pytest.mark.parametrize("sent", STORE_ERROR_SAMPLES, ids=lambda e: type(e).__module__ + type(e).__name__)
def test_a_store_error_comes_back_as_itself(sent: Exception) -> None:
    form = STORE_ERRORS.to_wire(sent)
    assert form is not None
    kind, message, detail = _sent(list(form))
    got = STORE_ERRORS.from_wire(kind, message, detail)
    assert type(got) is type(sent)
    assert str(got) == str(sent)
    assert vars(got) == vars(sent)


def test_engine_and_workspace_errors_named_alike_stay_apart() -> None:
    engine_form = STORE_ERRORS.to_wire(eng.NotFound("x"))
    workspace_form = STORE_ERRORS.to_wire(work.NotFound("x"))
    assert engine_form is not None
    assert workspace_form is not None
    assert engine_form[0] != workspace_form[0]


def test_an_unregistered_error_has_no_form_and_an_unknown_name_is_not_rebuilt() -> None:
    assert STORE_ERRORS.to_wire(KeyError("k")) is None
    assert STORE_ERRORS.from_wire("ValueError", "bad", None) is None
    assert STORE_ERRORS.from_wire("StaleRevision", "bad", "not a triple") is None


def test_an_unregistered_store_error_crosses_as_its_nearest_registered_class() -> None:
    class PoolLost(eng.EngineStoreError):
        pass

    form = STORE_ERRORS.to_wire(PoolLost("pool lost"))
    assert form == ("EngineStoreError", "pool lost", None)


def test_update_rows_cross_as_arrays() -> None:
    # APPEND carries every Bridge update: a row is an array of its fields, not a map.
    tag, fields = encode(bridge.AppendRows([Append("s-1", 4, b"\x01", 4, "t")]))
    assert tag == "append"
    assert fields == [[["s-1", 4, b"\x01", 4, "t"]]]
