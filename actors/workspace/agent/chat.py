"""One streamed chat completion against an OpenAI-compatible server, text out as it comes.

No tools here (a workspace run is one answer); the chunks are read with the engine's pure
parser (``read_chunk``) and every failure of the client or server becomes ``LlmError`` /
``LlmTimeout``, as in the engine's provider.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import openai

from ...llm.errors import LlmError, LlmTimeout
from ...llm.openai_stream import StreamProtocolError, read_chunk
from ...llm.settings import LlmSettings

__all__ = ["DEFAULT_BASE_URL", "ChatAnswer", "make_client", "stream_chat", "translate"]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"

TextFn = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ChatAnswer:
    text: str
    model: str
    usage: dict[str, int] | None
    finish_reason: str | None
    # The answer outgrew the bound: the stream was closed early and the text cut.
    truncated: bool = False


def make_client(settings: LlmSettings) -> openai.AsyncOpenAI:
    if not settings.api_key:
        raise ValueError("the OpenAI client needs an API key (OPENAI_API_KEY)")
    return openai.AsyncOpenAI(
        api_key=settings.api_key,
        base_url=settings.base_url or DEFAULT_BASE_URL,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
    )


def _field(obj: object, key: str) -> object:
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _usage(chunk: object) -> dict[str, int] | None:
    raw = _field(chunk, "usage")
    if raw is None:
        return None
    usage: dict[str, int] = {}
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = _field(raw, key)
        if isinstance(value, int) and not isinstance(value, bool):
            usage[key] = value
    return usage or None


def _status_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            return str(error["message"])
    return exc.message


def translate(exc: Exception, settings: LlmSettings, phase: str) -> LlmError:
    """Errors of the OpenAI client (and of the server behind it) as the run reports them."""
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
    log.warning("unexpected LLM client error phase=%s", phase, exc_info=exc)
    return LlmError(f"the LLM {phase} failed: {type(exc).__name__}: {exc}")


async def stream_chat(
    client: openai.AsyncOpenAI,
    settings: LlmSettings,
    messages: list[dict[str, str]],
    on_text: TextFn,
    *,
    max_output_chars: int,
) -> ChatAnswer:
    """Streams one answer, calling ``on_text`` for each piece; raises ``LlmError``."""
    try:
        stream = await client.chat.completions.create(
            model=settings.model,
            messages=cast(Any, messages),
            stream=True,
            stream_options={"include_usage": True},
        )
    except Exception as exc:
        raise translate(exc, settings, "request") from exc
    pieces: list[str] = []
    size = 0
    model = settings.model
    usage: dict[str, int] | None = None
    finish: str | None = None
    truncated = False
    try:
        while True:
            try:
                # The HTTP client's timeout bounds each read; this also bounds a server that
                # keeps the connection alive with comments but sends no chunk.
                async with asyncio.timeout(settings.timeout):
                    chunk = await stream.__anext__()
            except StopAsyncIteration:
                break
            except Exception as exc:
                raise translate(exc, settings, "stream") from exc
            try:
                parts = read_chunk(chunk)
            except StreamProtocolError as exc:
                raise LlmError(f"malformed chunk in the LLM stream: {exc}") from None
            served = _field(chunk, "model")
            if isinstance(served, str) and served:
                model = served
            usage = _usage(chunk) or usage
            finish = parts.finish_reason or finish
            if parts.finish_reason == "content_filter":
                raise LlmError("the model's answer was blocked by the provider's content filter")
            if parts.text:
                text = parts.text[: max_output_chars - size]
                if text:
                    pieces.append(text)
                    size += len(text)
                    await on_text(text)
                if len(text) < len(parts.text):
                    truncated = True
                    break
    finally:
        # Leaving early (cut, failed, cancelled) closes the HTTP stream now.
        await stream.close()
    return ChatAnswer("".join(pieces), model, usage, finish, truncated)
