"""The worker-side agent: one run in (a ``TaskEnvelope``), streamed text and a result out.

``WorkspaceAgent`` is meant to be hosted by a pool of Ray actors (the shell wraps it in
``ray.remote``; nothing here imports ray). For each run it fetches the attached files
through their signed URLs, extracts their text, builds the prompt from the session type's
prompt file, and answers with the configured OpenAI-compatible model, or, without an API
key, with a deterministic offline answer that quotes each file's first lines.

Every expected failure (a file refused or unreadable, the model failing, the run's time
running out) is returned as a structured failure payload, never raised: the session then
rolls the quota back and keeps the user's message. Cancellation of the calling task is not
a failure: it propagates, with the HTTP streams closed on the way out. Errors raised by
``on_output`` (the caller's own sink) propagate too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

import aiohttp

from ...llm.errors import LlmError
from ...llm.settings import LlmSettings
from ..extract import ExtractionError, extract_text
from ..settings import AgentSettings
from .envelope import TaskEnvelope
from .fetch import FileFetchError, fetch_files
from .prompt import FileText, bound_file_texts, build_messages, load_prompt, offline_answer
from .result import FailureCode, FileRead, failure_payload, success_payload

if TYPE_CHECKING:
    import openai

__all__ = ["OFFLINE_MODEL", "OutputFn", "WorkspaceAgent"]

log = logging.getLogger(__name__)

OFFLINE_MODEL = "offline"

OutputFn = Callable[[str], Awaitable[None]]


class _Failed(Exception):
    """A run's expected failure, carried to ``run`` to become the failure payload."""

    def __init__(self, code: FailureCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Progress:
    """What a run has done so far: a failure payload reports it too."""

    output: list[str] = field(default_factory=list)
    files_read: list[FileRead] = field(default_factory=list)
    model: str = OFFLINE_MODEL
    usage: dict[str, int] | None = None


class WorkspaceAgent:
    """Runs workspace tasks; one instance serves many runs (its HTTP pools are shared).

    ``client`` (the OpenAI client) and ``http`` (the aiohttp session fetching files) may be
    injected; otherwise they are made on first use and closed by ``aclose``.
    """

    def __init__(
        self,
        settings: AgentSettings,
        llm: LlmSettings,
        *,
        client: openai.AsyncOpenAI | None = None,
        http: aiohttp.ClientSession | None = None,
    ) -> None:
        self._settings = settings
        self._llm = llm
        self._client = client
        self._own_client = client is None
        self._http = http
        self._own_http = http is None

    @property
    def offline(self) -> bool:
        return self._client is None and not self._llm.online

    async def __aenter__(self) -> WorkspaceAgent:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        http, self._http = self._http, None
        if http is not None and self._own_http:
            await http.close()
        client, self._client = self._client, None
        if client is not None and self._own_client:
            await client.close()

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession()
            self._own_http = True
        return self._http

    def _openai(self) -> openai.AsyncOpenAI:
        if self._client is None:
            # Imported on first online use: an offline worker never loads openai (~24 MiB).
            from .chat import make_client

            self._client = make_client(self._llm)
            self._own_client = True
        return self._client

    async def run(self, envelope: TaskEnvelope, on_output: OutputFn) -> dict[str, Any]:
        """Runs one task; returns the result payload (``result.py``), succeeded or failed."""
        started = time.monotonic()
        progress = _Progress(model=OFFLINE_MODEL if self.offline else self._llm.model)
        deadline = asyncio.timeout(self._settings.run_timeout)
        try:
            async with deadline:
                payload = await self._run(envelope, on_output, progress)
        except TimeoutError:
            if not deadline.expired():
                raise
            failure = _Failed(
                FailureCode.TIMEOUT, f"the run did not finish within {self._settings.run_timeout:g} s"
            )
            return self._failure(envelope, failure, progress, started)
        except _Failed as failure:
            return self._failure(envelope, failure, progress, started)
        payload["duration_ms"] = _elapsed_ms(started)
        log.info(
            "workspace run done run=%s session=%s type=%s model=%s files=%s ms=%s",
            envelope.run_id,
            envelope.session_id,
            envelope.session_type,
            payload["model"],
            len(progress.files_read),
            payload["duration_ms"],
        )
        return payload

    def _failure(
        self, envelope: TaskEnvelope, failure: _Failed, progress: _Progress, started: float
    ) -> dict[str, Any]:
        log.info(
            "workspace run failed run=%s session=%s code=%s: %s",
            envelope.run_id,
            envelope.session_id,
            failure.code.value,
            failure.message,
        )
        return failure_payload(
            envelope.run_id,
            envelope.session_type,
            failure.code,
            failure.message,
            output="".join(progress.output),
            model=progress.model,
            offline=self.offline,
            usage=progress.usage,
            files_read=progress.files_read,
            duration_ms=_elapsed_ms(started),
        )

    async def _run(self, envelope: TaskEnvelope, on_output: OutputFn, progress: _Progress) -> dict[str, Any]:
        try:
            system_prompt = load_prompt(envelope.session_type)
        except KeyError as exc:
            raise _Failed(FailureCode.UNKNOWN_TYPE, str(exc.args[0])) from None
        texts = await self._read_files(envelope, progress)

        async def emit(text: str) -> None:
            progress.output.append(text)
            await on_output(text)

        if self.offline:
            answer = offline_answer(envelope, texts, self._settings.offline_quote_lines)
            truncated = await self._stream_offline(answer, emit)
            return success_payload(
                envelope.run_id,
                envelope.session_type,
                output="".join(progress.output),
                model=OFFLINE_MODEL,
                offline=True,
                usage=None,
                files_read=progress.files_read,
                truncated=truncated,
            )
        messages = build_messages(system_prompt, envelope, texts)
        from .chat import stream_chat

        try:
            chat = await stream_chat(
                self._openai(), self._llm, messages, emit, max_output_chars=self._settings.max_output_chars
            )
        except LlmError as exc:
            raise _Failed(FailureCode.LLM_ERROR, exc.message) from None
        progress.model, progress.usage = chat.model, chat.usage
        if not chat.text.strip():
            raise _Failed(FailureCode.LLM_ERROR, "the model returned an empty answer")
        return success_payload(
            envelope.run_id,
            envelope.session_type,
            output=chat.text,
            model=chat.model,
            offline=False,
            usage=chat.usage,
            files_read=progress.files_read,
            truncated=chat.truncated,
        )

    async def _read_files(self, envelope: TaskEnvelope, progress: _Progress) -> list[FileText]:
        settings = self._settings
        if not envelope.files:
            return []
        try:
            bodies = await fetch_files(
                self._session(),
                envelope.files,
                timeout=settings.fetch_timeout,
                max_bytes=settings.max_file_bytes,
                concurrency=settings.fetch_concurrency,
            )
        except FileFetchError as exc:
            raise _Failed(FailureCode.FILE_UNAVAILABLE, str(exc)) from None
        texts: list[FileText] = []
        for file, body in zip(envelope.files, bodies, strict=True):
            try:
                # PDF parsing is CPU work: off the event loop, which also serves the stream.
                text = await asyncio.to_thread(
                    extract_text, body, file.name, file.content_type, settings.extract
                )
            except ExtractionError as exc:
                raise _Failed(FailureCode.FILE_UNREADABLE, f"file {file.name} ({file.id}): {exc}") from None
            texts.append(FileText(file.id, file.name, text))
        bounded = bound_file_texts(texts, settings.max_file_chars, settings.max_context_chars)
        for file, body, full, kept in zip(envelope.files, bodies, texts, bounded, strict=True):
            progress.files_read.append(
                FileRead(file.id, file.name, len(body), len(full.text), kept.truncated)
            )
        return bounded

    async def _stream_offline(self, answer: str, emit: OutputFn) -> bool:
        """Sends the offline answer line by line; returns whether it was cut at the bound."""
        room = self._settings.max_output_chars
        for line in answer.splitlines(keepends=True):
            piece = line[:room]
            if piece:
                await emit(piece)
                room -= len(piece)
            if len(piece) < len(line):
                return True
            if self._settings.offline_delay > 0:
                # Pacing, so a watcher sees the offline answer arrive as a model's would.
                await asyncio.sleep(self._settings.offline_delay)
        return False


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
