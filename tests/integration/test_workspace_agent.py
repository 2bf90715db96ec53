"""The workspace agent over real HTTP: a local file server checking signed URLs, and the
scripted OpenAI-protocol server (tests/fakes) for the model path."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from actors.llm.settings import LlmSettings
from actors.workspace.agent import (
    AttachedFile,
    FailureCode,
    GithubAccess,
    TaskEnvelope,
    WorkspaceAgent,
    load_prompt,
)
from actors.workspace.extract import ExtractLimits
from actors.workspace.history import HistoryTurn
from actors.workspace.settings import AgentSettings
from actors.workspace.signing import SignatureError, signed_url, verify
from tests.fakes.loopback import serve_on_loopback
from tests.fakes.openai_server import FakeOpenAI, Fault, Turn
from tests.unit.workspace.samples import make_pdf

pytestmark = pytest.mark.timeout(60)

SECRET = b"test-signing-secret-of-32-bytes!"
TOKEN = "ghp_TOPSECRET0123456789"
# Every wait in these tests is bounded by this, far above what any step needs.
BOUND = 20.0

NOTES = b"# Experiment log\nHypothesis: batching cuts p99 latency\nResult: 38% lower p99\nMore lines\n"
CSV = b"date,activity\n2025-01-03,Prototype rev A\n"
PDF = make_pdf([["Technological uncertainty: cache coherence", "under partition"], ["Page two"]])


@dataclass
class Stored:
    data: bytes
    content_type: str


@dataclass
class FileServer:
    """Serves stored files at ``/files/{id}`` only through a valid signed URL (else 403)."""

    files: dict[str, Stored] = field(default_factory=dict)
    served: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    hang: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when a verified request starts hanging.
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    _runner: web.AppRunner | None = None

    async def start(self) -> FileServer:
        app = web.Application()
        app.router.add_get("/files/{file_id}", self._serve)
        self._runner, self.port = await serve_on_loopback(app)
        return self

    async def stop(self) -> None:
        self.stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, file_id: str, *, expires_in: float = 300, secret: bytes = SECRET) -> str:
        return signed_url(
            f"http://127.0.0.1:{self.port}", f"/files/{file_id}", int(time.time() + expires_in), secret
        )

    def attach(self, file_id: str, name: str, data: bytes, content_type: str, **url: Any) -> AttachedFile:
        self.files[file_id] = Stored(data, content_type)
        return AttachedFile(file_id, name, content_type, len(data), self.url(file_id, **url))

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        try:
            verify(request.path, request.query, time.time(), SECRET)
        except SignatureError as exc:
            self.refused.append(f"{file_id}: {type(exc).__name__}")
            return web.json_response({"error": str(exc)}, status=403)
        if self.hang.is_set():
            self.arrived.set()
            await self.stopping.wait()
        stored = self.files.get(file_id)
        if stored is None:
            return web.json_response({"error": "no such file"}, status=404)
        self.served.append(file_id)
        return web.Response(body=stored.data, content_type=stored.content_type)


@pytest.fixture
async def files() -> AsyncIterator[FileServer]:
    server = await FileServer().start()
    try:
        yield server
    finally:
        await server.stop()


def envelope(*attached: AttachedFile, **changes: Any) -> TaskEnvelope:
    values: dict[str, Any] = {
        "run_id": "r1",
        "session_id": "s1",
        "project_id": "p1",
        "user_id": "alice",
        "session_type": "T661",
        "input": "Draft line 242 from my notes.",
        "history": (HistoryTurn("USER", "What is line 242?"), HistoryTurn("ASSISTANT", "The uncertainties.")),
        "files": attached,
        "github": GithubAccess("acme/widget", TOKEN),
    }
    values.update(changes)
    return TaskEnvelope(**values)


class Sink:
    """The run's output as the caller receives it."""

    def __init__(self) -> None:
        self.pieces: list[str] = []

    async def __call__(self, text: str) -> None:
        self.pieces.append(text)

    @property
    def text(self) -> str:
        return "".join(self.pieces)


AGENT = AgentSettings(run_timeout=BOUND, fetch_timeout=5.0)


async def run(agent: WorkspaceAgent, env: TaskEnvelope, sink: Sink | None = None) -> dict[str, Any]:
    return await asyncio.wait_for(agent.run(env, sink or Sink()), BOUND)


# --- offline path and file fetching -------------------------------------------------------


async def test_offline_run_reads_every_attached_file(files: FileServer) -> None:
    attached = (
        files.attach("f1", "notes.md", NOTES, "text/markdown"),
        files.attach("f2", "claim.pdf", PDF, "application/pdf"),
        files.attach("f3", "log.csv", CSV, "text/csv"),
    )
    sink = Sink()
    async with WorkspaceAgent(AGENT, LlmSettings()) as agent:
        assert agent.offline
        result = await run(agent, envelope(*attached), sink)
    assert result["status"] == "succeeded"
    assert result["error"] is None
    assert (result["model"], result["offline"], result["usage"]) == ("offline", True, None)
    output = result["output"]
    assert output.startswith("[offline] T661 answer")
    # The first lines of each file, so the file was fetched and read (a PDF too).
    assert "> # Experiment log" in output
    assert "> Hypothesis: batching cuts p99 latency" in output
    assert "> Technological uncertainty: cache coherence" in output
    assert "> row 1: date: 2025-01-03; activity: Prototype rev A" in output
    assert "More lines" not in output  # three lines quoted, no more
    assert sink.text == output
    assert len(sink.pieces) > 1
    assert [f["id"] for f in result["files_read"]] == ["f1", "f2", "f3"]
    assert result["files_read"][0] == {
        "id": "f1",
        "name": "notes.md",
        "bytes": len(NOTES),
        "chars": len(NOTES.decode().strip()),
        "truncated": False,
    }
    assert sorted(files.served) == ["f1", "f2", "f3"]
    assert files.refused == []
    assert TOKEN not in str(result)


async def test_a_run_without_files_fetches_nothing(files: FileServer) -> None:
    async with WorkspaceAgent(AGENT, LlmSettings()) as agent:
        result = await run(agent, envelope(session_type="LOGBOOK"))
    assert result["status"] == "succeeded"
    assert result["files_read"] == []
    assert "No files were attached." in result["output"]
    assert result["session_type"] == "LOGBOOK"
    assert files.served == []


@pytest.mark.parametrize(
    ("url", "refusal"),
    [({"expires_in": -5}, "SignatureExpired"), ({"secret": b"x" * 32}, "SignatureInvalid")],
)
async def test_an_expired_or_forged_url_fails_the_run_cleanly(
    files: FileServer, url: dict[str, Any], refusal: str
) -> None:
    good = files.attach("f1", "notes.md", NOTES, "text/markdown")
    bad = files.attach("f2", "secret.md", b"never served", "text/markdown", **url)
    sink = Sink()
    async with WorkspaceAgent(AGENT, LlmSettings()) as agent:
        result = await run(agent, envelope(good, bad), sink)
    assert result["status"] == "failed"
    assert result["error"]["code"] == FailureCode.FILE_UNAVAILABLE
    message = result["error"]["message"]
    assert "secret.md (f2)" in message
    assert "refused" in message
    assert "signature" not in message.split("(expired or invalid)")[0]  # the URL is never echoed
    assert files.refused == [f"f2: {refusal}"]
    assert "f2" not in files.served
    assert result["output"] == ""
    assert sink.pieces == []


async def test_a_tampered_url_is_refused(files: FileServer) -> None:
    real = files.attach("f1", "notes.md", NOTES, "text/markdown")
    files.attach("f2", "other.md", b"other project's file", "text/markdown")
    # Re-pointed at another file with the first file's signature.
    forged = AttachedFile("f2", "other.md", "text/markdown", 10, real.url.replace("/files/f1", "/files/f2"))
    async with WorkspaceAgent(AGENT, LlmSettings()) as agent:
        result = await run(agent, envelope(forged))
    assert result["error"]["code"] == FailureCode.FILE_UNAVAILABLE
    assert files.refused == ["f2: SignatureInvalid"]


async def test_an_unreadable_file_fails_with_its_reason(files: FileServer) -> None:
    broken = files.attach("f1", "scan.pdf", b"%PDF-1.4 this is not really a pdf", "application/pdf")
    async with WorkspaceAgent(AGENT, LlmSettings()) as agent:
        result = await run(agent, envelope(broken))
    assert result["status"] == "failed"
    assert result["error"]["code"] == FailureCode.FILE_UNREADABLE
    assert "scan.pdf (f1): corrupt:" in result["error"]["message"]


async def test_an_oversized_file_is_cut_off(files: FileServer) -> None:
    big = files.attach("f1", "big.txt", b"x" * 5000, "text/plain")
    settings = AgentSettings(run_timeout=BOUND, fetch_timeout=5.0, max_file_bytes=1000)
    async with WorkspaceAgent(settings, LlmSettings()) as agent:
        result = await run(agent, envelope(big))
    assert result["error"]["code"] == FailureCode.FILE_UNAVAILABLE
    assert "larger than 1000 bytes" in result["error"]["message"]


async def test_a_run_that_outlives_its_timeout_fails_structured(files: FileServer) -> None:
    slow = files.attach("f1", "notes.md", NOTES, "text/markdown")
    files.hang.set()
    settings = AgentSettings(run_timeout=0.5, fetch_timeout=30.0)
    async with WorkspaceAgent(settings, LlmSettings()) as agent:
        started = time.monotonic()
        result = await run(agent, envelope(slow))
    assert time.monotonic() - started < 5
    assert result["status"] == "failed"
    assert result["error"] == {"code": "timeout", "message": "the run did not finish within 0.5 s"}


async def test_an_unknown_session_type_fails_structured(files: FileServer) -> None:
    async with WorkspaceAgent(AGENT, LlmSettings()) as agent:
        result = await run(agent, envelope(session_type="T999"))
    assert result["error"]["code"] == FailureCode.UNKNOWN_TYPE
    assert "T999" in result["error"]["message"]


async def test_cancelling_a_run_propagates(files: FileServer) -> None:
    slow = files.attach("f1", "notes.md", NOTES, "text/markdown")
    files.hang.set()
    async with WorkspaceAgent(AGENT, LlmSettings()) as agent:
        task = asyncio.create_task(agent.run(envelope(slow), Sink()))
        await asyncio.wait_for(files.arrived.wait(), BOUND)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, BOUND)


async def test_offline_output_is_bounded(files: FileServer) -> None:
    settings = AgentSettings(run_timeout=BOUND, max_output_chars=40)
    sink = Sink()
    async with WorkspaceAgent(settings, LlmSettings()) as agent:
        result = await run(agent, envelope(), sink)
    assert result["status"] == "succeeded"
    assert result["truncated"] is True
    assert len(result["output"]) == 40
    assert sink.text == result["output"]


# --- the OpenAI-compatible path -----------------------------------------------------------


def llm(server: FakeOpenAI, **changes: Any) -> LlmSettings:
    values: dict[str, Any] = {
        "api_key": "sk-test",
        "base_url": server.base_url,
        "timeout": 5.0,
        "max_retries": 0,
    }
    values.update(changes)
    return LlmSettings(**values)


async def test_openai_run_streams_the_answer_with_the_files_in_the_prompt(files: FileServer) -> None:
    attached = (
        files.attach("f1", "notes.md", NOTES, "text/markdown"),
        files.attach("f2", "claim.pdf", PDF, "application/pdf"),
    )
    sink = Sink()
    async with (
        FakeOpenAI([Turn(text=["Line 242: ", "cache coherence ", "under partition."])]) as server,
        WorkspaceAgent(AGENT, llm(server)) as agent,
    ):
        assert not agent.offline
        result = await run(agent, envelope(*attached, session_type="T661_GEN"), sink)
    assert result["status"] == "succeeded", result["error"]
    assert result["output"] == "Line 242: cache coherence under partition."
    assert sink.pieces == ["Line 242: ", "cache coherence ", "under partition."]
    assert (result["model"], result["offline"]) == ("gpt-4o-mini", False)
    assert result["usage"] == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    assert [f["id"] for f in result["files_read"]] == ["f1", "f2"]

    (request,) = server.requests
    assert request.body["stream"] is True
    assert request.body["model"] == "gpt-4o-mini"
    messages = request.messages
    assert messages[0] == {"role": "system", "content": load_prompt("T661_GEN")}
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    last = messages[-1]["content"]
    assert "Hypothesis: batching cuts p99 latency" in last
    assert "Technological uncertainty: cache coherence" in last
    assert last.endswith("Draft line 242 from my notes.")
    assert "acme/widget" in last
    assert TOKEN not in str(request.body)
    assert TOKEN not in str(result)


@pytest.mark.parametrize(
    ("turn", "expected"),
    [
        (Turn(fault=Fault.HTTP_500), "answered HTTP 500"),
        (Turn(text=["partial "], fault=Fault.GARBAGE), "malformed"),
        (Turn(text=["partial "], fault=Fault.DROP), "failed"),
        (Turn(text=[]), "empty answer"),
    ],
)
async def test_openai_failures_become_structured_results(
    files: FileServer, turn: Turn, expected: str
) -> None:
    sink = Sink()
    async with FakeOpenAI([turn]) as server, WorkspaceAgent(AGENT, llm(server)) as agent:
        result = await run(agent, envelope(), sink)
    assert result["status"] == "failed"
    assert result["error"]["code"] == FailureCode.LLM_ERROR
    assert expected in result["error"]["message"]
    # What was streamed before the failure is reported with it.
    assert result["output"] == sink.text


async def test_a_stalled_model_times_out(files: FileServer) -> None:
    async with (
        FakeOpenAI([Turn(text=["start "], fault=Fault.STALL)]) as server,
        WorkspaceAgent(AGENT, llm(server, timeout=0.5)) as agent,
    ):
        result = await run(agent, envelope())
    assert result["status"] == "failed"
    assert result["error"]["code"] == FailureCode.LLM_ERROR
    assert "did not answer within 0.5 s" in result["error"]["message"]
    assert result["output"] == "start "


async def test_a_long_model_answer_is_cut_at_the_bound(files: FileServer) -> None:
    settings = AgentSettings(run_timeout=BOUND, max_output_chars=12)
    async with (
        FakeOpenAI([Turn(text=["0123456789", "abcdefghij", "more"])]) as server,
        WorkspaceAgent(settings, llm(server)) as agent,
    ):
        sink = Sink()
        result = await run(agent, envelope(), sink)
    assert result["status"] == "succeeded"
    assert result["truncated"] is True
    assert result["output"] == "0123456789ab"
    assert sink.text == result["output"]


async def test_one_agent_serves_runs_in_parallel(files: FileServer) -> None:
    attached = files.attach("f1", "notes.md", NOTES, "text/markdown")
    async with WorkspaceAgent(AGENT, LlmSettings()) as agent:
        results = await asyncio.wait_for(
            asyncio.gather(*(agent.run(envelope(attached, run_id=f"r{n}"), Sink()) for n in range(8))), BOUND
        )
    assert [r["run_id"] for r in results] == [f"r{n}" for n in range(8)]
    assert all(r["status"] == "succeeded" for r in results)
    assert files.served == ["f1"] * 8


def test_extract_limits_reach_the_agent() -> None:
    assert AgentSettings().extract == ExtractLimits()
