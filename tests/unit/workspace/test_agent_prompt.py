"""The agent's pure parts: envelope JSON, prompts per session type, messages, offline answer."""

from __future__ import annotations

import pickle

import pytest

from actors.workspace.agent.envelope import AttachedFile, GithubAccess, TaskEnvelope
from actors.workspace.agent.prompt import (
    FileText,
    bound_file_texts,
    build_messages,
    load_prompt,
    offline_answer,
)
from actors.workspace.agent.result import FailureCode, FileRead, failure_payload, success_payload
from actors.workspace.bodies import SessionType
from actors.workspace.history import HistoryTurn

TOKEN = "ghp_TOPSECRET0123456789"


def envelope(**changes: object) -> TaskEnvelope:
    values: dict[str, object] = {
        "run_id": "r1",
        "session_id": "s1",
        "project_id": "p1",
        "user_id": "alice",
        "session_type": "T661",
        "input": "Draft line 242 from the notes.",
        "history": (HistoryTurn("USER", "earlier question"), HistoryTurn("ASSISTANT", "earlier answer")),
        "files": (AttachedFile("f1", "notes.md", "text/markdown", 42, "http://h/files/f1?signature=abc"),),
        "github": GithubAccess("acme/widget", TOKEN, "main"),
    }
    values.update(changes)
    return TaskEnvelope(**values)  # type: ignore[arg-type]


def test_envelope_round_trips_and_hides_secrets() -> None:
    env = envelope()
    assert pickle.loads(pickle.dumps(env)) == env
    assert TaskEnvelope.from_json(env.to_json(include_secrets=True)) == env
    public = env.to_json()
    assert TOKEN not in str(public)
    assert "signature=abc" not in str(public)
    assert public["github"] == {"repository": "acme/widget", "ref": "main"}
    assert TOKEN not in repr(env)
    assert "signature=abc" not in repr(env)
    assert (
        TaskEnvelope.from_json(envelope(github=None, files=()).to_json(include_secrets=True)).github is None
    )


@pytest.mark.parametrize("session_type", [t.value for t in SessionType])
def test_one_prompt_file_per_session_type(session_type: str) -> None:
    prompt = load_prompt(session_type)
    assert len(prompt) > 200
    assert "SR&ED" in prompt


def test_prompts_differ_and_unknown_types_are_named() -> None:
    assert len({load_prompt(t.value) for t in SessionType}) == len(SessionType)
    with pytest.raises(KeyError, match="T999"):
        load_prompt("T999")


def test_messages_carry_history_files_and_input_but_never_the_token() -> None:
    files = [FileText("f1", "notes.md", "# Notes\nLatency p99 was 400 ms.")]
    messages = build_messages("SYSTEM PROMPT", envelope(), files)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[0]["content"] == "SYSTEM PROMPT"
    assert messages[1]["content"] == "earlier question"
    last = messages[-1]["content"]
    assert '<file name="notes.md" id="f1">' in last
    assert "Latency p99 was 400 ms." in last
    assert "acme/widget (ref main)" in last
    assert last.endswith("Request:\nDraft line 242 from the notes.")
    assert TOKEN not in str(messages)
    plain = build_messages("S", envelope(files=(), github=None, history=()), [])
    assert plain == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "Draft line 242 from the notes."},
    ]


def test_file_texts_are_bounded_per_file_and_in_total() -> None:
    texts = [FileText("a", "a", "a" * 50), FileText("b", "b", "b" * 50), FileText("c", "c", "c" * 50)]
    bounded = bound_file_texts(texts, max_file_chars=40, max_context_chars=70)
    assert [(f.text, f.truncated) for f in bounded] == [("a" * 40, True), ("b" * 30, True), ("", True)]
    assert bound_file_texts(texts[:1], 100, 100) == texts[:1]
    assert "[… truncated]" in build_messages("S", envelope(), bounded)[-1]["content"]


def test_offline_answer_is_labelled_and_quotes_first_lines() -> None:
    files = [
        FileText("f1", "notes.md", "\n# Notes\nfirst fact\nsecond fact\nfourth line"),
        FileText("f2", "e.txt", ""),
    ]
    answer = offline_answer(envelope(), files, quote_lines=3)
    assert answer.startswith("[offline] T661 answer")
    assert "  > # Notes\n  > first fact\n  > second fact\n" in answer
    assert "fourth line" not in answer
    assert "- e.txt\n  > (no text)" in answer
    assert "Earlier messages considered: 2." in answer
    assert answer == offline_answer(envelope(), files, quote_lines=3)  # deterministic
    assert "No files were attached." in offline_answer(envelope(files=()), [], 3)
    assert TOKEN not in answer


def test_payload_shapes() -> None:
    read = [FileRead("f1", "notes.md", 42, 40, False)]
    ok = success_payload("r1", "T661", output="x", model="m", offline=False, usage=None, files_read=read)
    failed = failure_payload("r1", "T661", FailureCode.WORKER_DIED, "the worker process exited")
    assert set(ok) == set(failed)
    assert {"status", "output", "model", "usage", "files_read"} <= set(ok)
    assert ok["status"] == "succeeded"
    assert ok["error"] is None
    assert ok["files_read"] == [
        {"id": "f1", "name": "notes.md", "bytes": 42, "chars": 40, "truncated": False}
    ]
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "worker_died", "message": "the worker process exited"}
