"""A real model behind the OpenAI chat-completions API (or any server speaking it).

One drafting turn is a short conversation: stream the model's answer (text deltas out at once),
assemble its tool calls, run them through the registry, send the results back, and go again —
until the stage's proposal is accepted, the model stops calling tools, or it asks the user a
question (the turn then ends and resumes with the answer). Refused tool calls go back to the
model with the validation error; after `max_tool_attempts` refusals the turn fails.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any, cast

import openai

from ...llm.errors import LlmError, LlmTimeout, ToolArgumentError
from ...llm.openai_stream import AssembledCall, ChunkParts, StreamProtocolError, ToolCallAssembler, read_chunk
from ...llm.settings import LlmSettings
from .conversation import assistant_message, initial_messages, tool_message
from .events import Clarification, Finished, LlmEvent, TextDelta, ToolCall, ToolResult
from .provider import StageRequest
from .schema import PROPOSE_TOOL
from .tools import ToolRegistry, describe_result
from .validation import parse_tool_arguments

__all__ = ["OpenAIProvider"]

logger = logging.getLogger(__name__)

_MAX_SUMMARY_CHARS = 500
DEFAULT_BASE_URL = "https://api.openai.com/v1"


def _status_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            return str(error["message"])
    return exc.message


class OpenAIProvider:
    """Drafts with an OpenAI-compatible model; `client` may be injected (tests, shared pools)."""

    name = "openai"
    offline = False

    def __init__(
        self,
        settings: LlmSettings,
        tools: ToolRegistry | None = None,
        *,
        client: openai.AsyncOpenAI | None = None,
    ) -> None:
        if client is None:
            if not settings.api_key:
                raise ValueError("OpenAIProvider needs an API key (OPENAI_API_KEY)")
            client = openai.AsyncOpenAI(
                api_key=settings.api_key,
                base_url=settings.base_url or DEFAULT_BASE_URL,
                timeout=settings.timeout,
                max_retries=settings.max_retries,
            )
        self._client = client
        self._settings = settings
        self._tools = tools if tools is not None else ToolRegistry()

    @property
    def model(self) -> str:
        return self._settings.model

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()

    async def run(self, request: StageRequest) -> AsyncIterator[LlmEvent]:
        settings = self._settings
        tools = request.tools if request.tools is not None else self._tools
        definitions = tools.definitions(request.stage)
        proposal_tool = PROPOSE_TOOL[request.stage]
        messages = initial_messages(request)
        refused = 0
        for round_no in range(1, settings.max_rounds + 1):
            text: list[str] = []
            assembler = ToolCallAssembler(
                max_calls=settings.max_tool_calls_per_round,
                max_argument_chars=settings.max_tool_argument_chars,
            )
            # aclosing: leaving early (an error, or our consumer stopping) closes the HTTP stream now.
            async with aclosing(self._complete(messages, definitions)) as chunks:
                async for parts in chunks:
                    if parts.text:
                        text.append(parts.text)
                        yield TextDelta(parts.text)
                    try:
                        for piece in parts.tool_calls:
                            assembler.feed(piece)
                    except StreamProtocolError as exc:
                        raise LlmError(f"malformed tool call in the LLM stream: {exc}") from None
                    if parts.finish_reason == "content_filter":
                        raise LlmError("the model's answer was blocked by the provider's content filter")
            try:
                calls = assembler.finish(fallback_id_prefix=f"call_{round_no}_")
            except StreamProtocolError as exc:
                raise LlmError(f"malformed tool call in the LLM stream: {exc}") from None
            said = "".join(text).strip()
            if not calls:
                yield Finished(said[:_MAX_SUMMARY_CHARS] or "The model finished without a proposal.")
                return
            messages.append(assistant_message(said, calls))
            accepted: ToolResult | None = None
            for assembled in calls:
                call, refusal = self._parse(assembled)
                yield call  # before running it, so a slow tool (the search) shows as under way
                result = refusal or await tools.execute(
                    call, stage=request.stage, requirement_ids=request.requirement_ids
                )
                if isinstance(result.result, Clarification):
                    yield result.result
                    return
                yield result
                messages.append(tool_message(result))
                if result.error is not None:
                    refused += 1
                    logger.info(
                        "tool call refused stage=%s tool=%s attempt=%s/%s",
                        request.stage.value,
                        result.name,
                        refused,
                        settings.max_tool_attempts,
                    )
                    if refused >= settings.max_tool_attempts:
                        raise LlmError(
                            f"the model made {refused} invalid tool calls; last error: {result.error}"
                        )
                elif result.name == proposal_tool:
                    accepted = result
            if accepted is not None:
                yield Finished(describe_result(accepted))
                return
        raise LlmError(
            f"the model did not complete {request.stage.value} within {settings.max_rounds} rounds"
        )

    def _parse(self, assembled: AssembledCall) -> tuple[ToolCall, ToolResult | None]:
        """The call with its parsed arguments, and the refusal if they are not a JSON object."""
        limit = self._settings.max_tool_argument_chars
        try:
            if assembled.overflow:
                raise ToolArgumentError(
                    assembled.name, "", f"arguments are too long (more than {limit} characters)"
                )
            args = parse_tool_arguments(assembled.name, assembled.arguments, max_chars=limit)
        except ToolArgumentError as exc:
            refusal = ToolResult(assembled.call_id, assembled.name, None, str(exc))
            return ToolCall(assembled.call_id, assembled.name, {}), refusal
        return ToolCall(assembled.call_id, assembled.name, args), None

    async def _complete(
        self, messages: list[dict[str, Any]], definitions: list[dict[str, Any]]
    ) -> AsyncGenerator[ChunkParts, None]:
        """One streamed completion, with every failure translated to `LlmError` / `LlmTimeout`."""
        timeout = self._settings.timeout
        try:
            stream = await self._client.chat.completions.create(
                model=self._settings.model,
                messages=cast(Any, messages),
                tools=cast(Any, definitions),
                tool_choice="auto",
                stream=True,
            )
        except Exception as exc:
            raise self._translate(exc, "request") from exc
        try:
            while True:
                try:
                    # The HTTP client's timeout bounds each read; this also bounds a server that
                    # keeps the connection alive with comments but sends no chunk.
                    async with asyncio.timeout(timeout):
                        chunk = await stream.__anext__()
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    raise self._translate(exc, "stream") from exc
                try:
                    parts = read_chunk(chunk)
                except StreamProtocolError as exc:
                    raise LlmError(f"malformed chunk in the LLM stream: {exc}") from None
                yield parts
        finally:
            await stream.close()

    def _translate(self, exc: Exception, phase: str) -> LlmError:
        """Errors of the OpenAI client (and of the server behind it) as the engine sees them."""
        settings = self._settings
        where = settings.base_url or "the OpenAI API"
        if isinstance(exc, (TimeoutError, openai.APITimeoutError)):
            return LlmTimeout(f"the LLM at {where} did not answer within {settings.timeout:g} s")
        if isinstance(exc, openai.APIStatusError):
            return LlmError(f"the LLM at {where} answered HTTP {exc.status_code}: {_status_message(exc)}")
        if isinstance(exc, openai.APIConnectionError):
            return LlmError(f"the connection to the LLM at {where} failed during the {phase}: {exc}")
        if isinstance(exc, openai.APIError):
            return LlmError(f"the LLM at {where} reported an error: {exc.message}")
        if isinstance(exc, ValueError):
            # The SDK decodes each SSE `data:` line as JSON; garbage surfaces as ValueError.
            return LlmError(f"malformed data in the LLM {phase} from {where}: {exc}")
        # Older SDKs let transport errors escape un-wrapped; they still end only this turn.
        logger.warning("unexpected LLM client error phase=%s", phase, exc_info=exc)
        return LlmError(f"the LLM {phase} failed: {type(exc).__name__}: {exc}")
