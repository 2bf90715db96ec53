"""The artifacts in a pycrdt document: round trips, diff writes, stage and draft text."""

from __future__ import annotations

import copy
from typing import Any

from pycrdt import Array, Doc, Map, Text

from actors.engine.artifacts import empty_artifacts, validate_artifacts
from actors.engine.doc import (
    ARTIFACTS,
    append_draft_text,
    apply_artifacts,
    artifacts_map,
    clear_draft,
    read_artifacts,
    read_draft,
    read_stage,
    set_stage,
)
from actors.engine.stages import Stage, Status

from ..doc_helpers import replica_of, updates_of
from . import samples


def test_round_trip_of_complete_artifacts() -> None:
    doc: Doc[Any] = Doc()
    artifacts = samples.artifacts()
    apply_artifacts(doc, artifacts)
    assert read_artifacts(doc) == artifacts
    assert read_artifacts(replica_of(doc)) == artifacts
    assert validate_artifacts(read_artifacts(doc)) == artifacts


def test_round_trip_of_new_session_artifacts() -> None:
    doc: Doc[Any] = Doc()
    assert read_artifacts(doc) == {}
    apply_artifacts(doc, empty_artifacts("a kart"))
    assert read_artifacts(replica_of(doc)) == empty_artifacts("a kart")


def test_objects_and_arrays_are_y_types_all_the_way_down() -> None:
    doc: Doc[Any] = Doc()
    apply_artifacts(doc, samples.artifacts())
    root = doc.get(ARTIFACTS, type=Map)
    requirements = root["requirements"]
    assert isinstance(requirements, Array)
    assert isinstance(requirements[0], Map)
    assert requirements[0]["priority"] == "high"
    bom = root["bom"]
    assert isinstance(bom, Map)
    assert isinstance(bom["rootAssembly"], Map)
    children = bom["rootAssembly"]["children"]
    assert isinstance(children, Array)
    assert isinstance(children[0]["children"][0], Map)
    assert isinstance(children[0]["requirementTempIds"], Array)
    assert isinstance(root["materializationResult"], Map)


def test_applying_the_same_artifacts_again_changes_nothing() -> None:
    doc: Doc[Any] = Doc()
    apply_artifacts(doc, samples.artifacts())
    updates = updates_of(doc, skip_empty=True)
    apply_artifacts(doc, samples.artifacts())
    assert updates == []


def test_a_small_change_is_a_small_update() -> None:
    doc: Doc[Any] = Doc()
    artifacts = samples.artifacts()
    apply_artifacts(doc, artifacts)
    full = len(doc.get_update())
    updates = updates_of(doc, skip_empty=True)
    artifacts["requirements"][1]["priority"] = "low"
    apply_artifacts(doc, artifacts)
    assert len(updates) == 1
    assert len(updates[0]) < full // 10
    assert read_artifacts(doc) == artifacts


def test_a_diff_write_keeps_a_peers_concurrent_edit() -> None:
    server: Doc[Any] = Doc()
    artifacts = samples.artifacts()
    apply_artifacts(server, artifacts)
    browser = replica_of(server)
    # The browser renames requirement 0 while the AI re-prioritises requirement 1 and
    # adds a BOM part: both survive because neither side rewrote the other's map.
    browser.get(ARTIFACTS, type=Map)["requirements"][0]["name"] = "Top speed"
    artifacts["requirements"][1]["priority"] = "low"
    artifacts["bom"]["rootAssembly"]["children"].append(samples.node("battery"))
    apply_artifacts(server, artifacts)
    server.apply_update(browser.get_update())
    browser.apply_update(server.get_update())
    expected = copy.deepcopy(artifacts)
    expected["requirements"][0]["name"] = "Top speed"
    assert read_artifacts(server) == expected == read_artifacts(browser)


def test_lists_edited_in_the_middle_front_and_back() -> None:
    doc: Doc[Any] = Doc()
    artifacts = samples.artifacts()
    apply_artifacts(doc, artifacts)
    reqs = [samples.requirement(f"req-{i}") for i in range(6)]
    for variant in (
        reqs,
        [samples.requirement("req-new"), *reqs],
        reqs[:2] + reqs[3:],
        [*reqs[:2], samples.requirement("x"), samples.requirement("y"), *reqs[4:]],
        [*reqs[1:], samples.requirement("z")],
        [],
        reqs[::-1],
    ):
        artifacts["requirements"] = variant
        apply_artifacts(doc, artifacts)
        assert read_artifacts(doc)["requirements"] == variant
        assert read_artifacts(replica_of(doc))["requirements"] == variant


def test_removed_keys_and_null_bom_are_written() -> None:
    doc: Doc[Any] = Doc()
    artifacts = samples.artifacts()
    apply_artifacts(doc, artifacts)
    del artifacts["pendingClarificationId"]
    artifacts["bom"] = None
    apply_artifacts(doc, artifacts)
    assert read_artifacts(doc) == artifacts
    assert "pendingClarificationId" not in read_artifacts(doc)


def test_true_is_not_one() -> None:
    doc: Doc[Any] = Doc()
    artifacts = samples.artifacts()
    artifacts["cadGenerationState"] = {"done": 1, "parts": [0, 1.5]}
    apply_artifacts(doc, artifacts)
    artifacts["cadGenerationState"] = {"done": True, "parts": [False, 1.5]}
    apply_artifacts(doc, artifacts)
    assert read_artifacts(doc)["cadGenerationState"] == {"done": True, "parts": [False, 1.5]}
    assert read_artifacts(doc)["cadGenerationState"]["done"] is True


def test_plain_json_a_peer_stored_is_rewritten_as_y_types() -> None:
    doc: Doc[Any] = Doc()
    artifacts = samples.artifacts()
    apply_artifacts(doc, artifacts)
    artifacts_map(doc)["bom"] = copy.deepcopy(artifacts["bom"])  # a plain JSON value
    artifacts["bom"]["rootAssembly"]["name"] = "Kart"
    apply_artifacts(doc, artifacts)
    assert isinstance(artifacts_map(doc)["bom"], Map)
    assert read_artifacts(doc) == artifacts


def test_stage_status_and_draft_live_beside_the_artifacts() -> None:
    doc: Doc[Any] = Doc()
    assert read_stage(doc) is None
    assert read_draft(doc) == ""
    set_stage(doc, Stage.BOM_DRAFTING, Status.ACTIVE)
    append_draft_text(doc, "Based on ")
    append_draft_text(doc, "the requirements")
    apply_artifacts(doc, samples.artifacts())  # does not remove the engine's keys
    replica = replica_of(doc)
    assert read_stage(replica) == (Stage.BOM_DRAFTING, Status.ACTIVE)
    assert read_draft(replica) == "Based on the requirements"
    assert isinstance(artifacts_map(doc)["draft"], Text)
    assert read_artifacts(replica) == samples.artifacts()
    updates = updates_of(doc, skip_empty=True)
    set_stage(doc, Stage.BOM_DRAFTING, Status.ACTIVE)
    assert updates == []
    clear_draft(doc)
    assert read_draft(doc) == ""


def test_read_stage_tolerates_what_a_peer_wrote() -> None:
    doc: Doc[Any] = Doc()
    artifacts_map(doc)["stage"] = "nowhere"
    artifacts_map(doc)["status"] = "active"
    assert read_stage(doc) is None


def test_draft_is_bounded_by_dropping_the_oldest_text() -> None:
    doc: Doc[Any] = Doc()
    append_draft_text(doc, "héllo 😀 ", max_chars=10)
    append_draft_text(doc, "wörld", max_chars=10)
    assert read_draft(doc) == "llo 😀 wörld"[-10:]
    append_draft_text(doc, "0123456789ABC", max_chars=10)
    assert read_draft(doc) == "3456789ABC"
    append_draft_text(doc, "ü", max_chars=10)
    assert read_draft(replica_of(doc)) == "456789ABCü"
