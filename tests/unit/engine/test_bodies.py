"""The design-engine and PLM request bodies and query parameters, decoded by value."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from msgspec import UNSET

from actors.core.bodies import convert_body, convert_query
from actors.core.errors import ValidationError
from actors.engine.bodies import (
    CreateDesignSessionBody,
    EventsQuery,
    PatchDesignSessionBody,
    RejoinQuery,
    SessionsQuery,
    StageActionBody,
)
from actors.engine.plm_bodies import AddMemberBody, CreateDesignBody, CreateProgramBody, ItemsQuery
from actors.engine.stages import Action, Stage
from storage.engine import LifecycleState


def _refused(value: object, kind: type[msgspec.Struct]) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        convert_body(value, kind)
    return info.value.field, info.value.message


def _query_refused(value: dict[str, str], kind: type[msgspec.Struct]) -> str:
    with pytest.raises(ValidationError) as info:
        convert_query(value, kind)
    return info.value.field


# -- design sessions ---------------------------------------------------------------------


def test_create_session_body() -> None:
    body = convert_body(
        {"description": "A kart", "programId": "p-1", "designId": None}, CreateDesignSessionBody
    )
    assert body == CreateDesignSessionBody(description="A kart", program_id="p-1")
    full = convert_body(
        {"description": "A kart", "programId": "p-1", "designId": "d-1", "aiChatSessionId": "c-1"},
        CreateDesignSessionBody,
    )
    assert (full.design_id, full.ai_chat_session_id) == ("d-1", "c-1")


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ([], "body", "must be an object"),
        ({"programId": "p"}, "description", "required"),
        ({"description": "x"}, "programId", "required"),
        ({"description": "x", "programId": None}, "programId", "must be a string"),
        ({"description": "", "programId": "p"}, "description", "must be at least 1 characters"),
        ({"description": "x", "programId": ""}, "programId", "must be at least 1 characters"),
        ({"description": "x", "programId": "p" * 129}, "programId", "must be at most 128 characters"),
        ({"description": "x", "programId": "p", "designId": 7}, "designId", "must be a string or null"),
        ({"description": "x", "programId": "p", "program": "p"}, "program", "unknown field"),
    ],
)
def test_create_session_body_refused(body: object, field: str, message: str) -> None:
    assert _refused(body, CreateDesignSessionBody) == (field, message)


def test_patch_body_keeps_absent_apart_from_given() -> None:
    assert convert_body({}, PatchDesignSessionBody) == PatchDesignSessionBody()
    body = convert_body({"stage": "bom_review", "artifacts": {"bom": None}}, PatchDesignSessionBody)
    assert body.stage is Stage.BOM_REVIEW
    assert body.artifacts == {"bom": None}
    assert body.description is UNSET


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"stage": "flying"},
            "stage",
            "unknown value 'flying' (one of idle, requirements_drafting, requirements_review, bom_drafting, "
            "bom_review, materialization, cad_generation, cad_review, assembly_composition, assembly_review, "
            "complete)",
        ),
        ({"stage": None}, "stage", None),
        ({"description": None}, "description", "must be a string"),
        ({"description": ""}, "description", "must be at least 1 characters"),
        ({"artifacts": []}, "artifacts", "must be an object"),
        ({"artifacts": None}, "artifacts", "must be an object"),
        ({"title": "x"}, "title", "unknown field"),
    ],
)
def test_patch_body_refused(body: object, field: str, message: str | None) -> None:
    got_field, got_message = _refused(body, PatchDesignSessionBody)
    assert got_field == field
    if message is not None:
        assert got_message == message


def test_stage_action_body() -> None:
    body = convert_body(
        {"action": "answer_clarification", "questionId": "q-1", "answer": "LiFePO4", "message": None},
        StageActionBody,
    )
    assert body == StageActionBody(action=Action.ANSWER_CLARIFICATION, question_id="q-1", answer="LiFePO4")
    # The type says shapes only: which fields an action needs is ``check_stream_request``'s.
    assert convert_body({"action": "send_message"}, StageActionBody).message is None


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ([], "body", "must be an object"),
        ({}, "action", "required"),
        ({"action": 3}, "action", "must be a string"),
        (
            {"action": "fly"},
            "action",
            "unknown value 'fly' (one of start_requirements, start_bom, start_cad_generation, "
            "start_assembly_composition, resume, regenerate_part, confirm_requirements, confirm_bom, "
            "confirm_cad, confirm_assembly, answer_clarification, send_message, cancel, retry)",
        ),
        ({"action": "regenerate_part", "tempId": 3}, "tempId", "must be a string or null"),
        ({"action": "start_bom", "mesage": "hi"}, "mesage", "unknown field"),
    ],
)
def test_stage_action_body_refused(body: object, field: str, message: str) -> None:
    assert _refused(body, StageActionBody) == (field, message)


def test_session_queries() -> None:
    assert convert_query({}, SessionsQuery) == SessionsQuery(limit=None, offset=0)
    assert convert_query({"limit": "5", "offset": "10", "_": "x"}, SessionsQuery) == SessionsQuery(
        limit=5, offset=10
    )
    assert convert_query({"after": "12", "limit": "4"}, EventsQuery) == EventsQuery(after=12, limit=4)
    assert convert_query({}, EventsQuery) == EventsQuery(after=None, limit=None)
    assert convert_query({"lastEventId": ""}, RejoinQuery).last_event_id == ""
    for raw in ("0", "-1", "x", "²", str(2**53)):
        assert _query_refused({"limit": raw}, SessionsQuery) == "limit"
    for raw in ("-1", "x", " 5", str(2**53)):
        assert _query_refused({"after": raw}, EventsQuery) == "after"
    assert _query_refused({"offset": "-1"}, SessionsQuery) == "offset"
    assert _query_refused({"lastEventId": "1" * 17}, RejoinQuery) == "lastEventId"


# -- PLM -----------------------------------------------------------------------------------


def test_plm_bodies() -> None:
    assert convert_body({"name": "Kart"}, CreateProgramBody) == CreateProgramBody(name="Kart")
    assert convert_body({"name": "Kart", "description": None}, CreateProgramBody).description is None
    assert convert_body({"userId": "bob"}, AddMemberBody).role == "member"
    assert convert_body({"userId": "bob", "role": "viewer"}, AddMemberBody).role == "viewer"
    assert convert_body({"name": "Kart"}, CreateDesignBody).lifecycle_state is LifecycleState.DRAFT
    released = convert_body({"name": "Kart", "lifecycleState": "released"}, CreateDesignBody)
    assert released.lifecycle_state is LifecycleState.RELEASED


@pytest.mark.parametrize(
    ("body", "kind", "field"),
    [
        ({}, CreateProgramBody, "name"),
        ({"name": ""}, CreateProgramBody, "name"),
        ({"name": "x" * 201}, CreateProgramBody, "name"),
        ({"name": "x", "description": "d" * 5001}, CreateProgramBody, "description"),
        ({"name": "x", "owner": "me"}, CreateProgramBody, "owner"),
        ({}, AddMemberBody, "userId"),
        ({"userId": 5}, AddMemberBody, "userId"),
        ({"userId": "bob", "role": "owner"}, AddMemberBody, "role"),
        ({"name": "X", "lifecycleState": "gone"}, CreateDesignBody, "lifecycleState"),
        ({"name": None}, CreateDesignBody, "name"),
    ],
)
def test_plm_bodies_name_the_field(body: Any, kind: type[msgspec.Struct], field: str) -> None:
    assert _refused(body, kind)[0] == field


def test_items_query() -> None:
    assert convert_query({}, ItemsQuery) == ItemsQuery(query="", limit=20)
    assert convert_query({"query": "bolt", "limit": "200"}, ItemsQuery) == ItemsQuery(query="bolt", limit=200)
    for raw in ("0", "201", "x", "²"):
        assert _query_refused({"limit": raw}, ItemsQuery) == "limit"
