"""A real HTTP server speaking OpenAI's streamed chat-completions protocol, scripted per turn.

Each request to ``POST /v1/chat/completions`` consumes the next ``Turn``: text chunks and/or
tool calls (arguments split over several chunks), sent as ``data: {chat.completion.chunk}``
SSE lines ending with ``data: [DONE]`` — or a fault (hang, HTTP 500, garbage of several
kinds mid-stream, a stall mid-stream, dropped connection). Every request body is recorded
so tests can check what the client sent back.

    async with FakeOpenAI([Turn(text=["Hel", "lo"])]) as server:
        client = AsyncOpenAI(api_key="test", base_url=server.base_url, max_retries=0)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from types import TracebackType
from typing import Any

from aiohttp import web

from .loopback import serve_on_loopback

__all__ = ["FakeOpenAI", "Fault", "RecordedRequest", "ScriptedToolCall", "Turn"]

_CREATED = 1_700_000_000


class Fault(Enum):
    HANG = "hang"  # accept the request and never answer (until the server stops)
    HTTP_500 = "http_500"  # an OpenAI-style JSON error body with status 500
    GARBAGE = "garbage"  # after the text chunks, a `data:` line that is not JSON
    DROP = "drop"  # after the text chunks, close the connection without [DONE]
    STALL = "stall"  # after the text chunks, keep the connection open and send nothing
    BINARY = "binary"  # after the text chunks, a `data:` line of bytes that are not UTF-8
    WRONG_SHAPE = "wrong_shape"  # after the text chunks, valid JSON that is not a chunk
    ERROR_CHUNK = "error_chunk"  # after the text chunks, an OpenAI-style `{"error": …}` event


@dataclass(frozen=True)
class ScriptedToolCall:
    name: str
    # A mapping is sent as its JSON; a string is sent verbatim (e.g. deliberately broken JSON).
    arguments: str | Mapping[str, Any]
    call_id: str | None = None
    pieces: int = 3

    def argument_text(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass(frozen=True)
class Turn:
    text: Sequence[str] = ()
    tool_calls: Sequence[ScriptedToolCall] = ()
    fault: Fault | None = None


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: Mapping[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    @property
    def tools(self) -> list[dict[str, Any]]:
        return list(self.body.get("tools", []))

    def tool_messages(self) -> list[dict[str, Any]]:
        return [message for message in self.messages if message.get("role") == "tool"]


# What each junk fault sends after the text chunks, before ending the response.
_MID_STREAM_JUNK: dict[Fault, bytes] = {
    Fault.GARBAGE: b'data: {"id": "chatcmpl-broken", "choices": [{"delta": \n\n',
    Fault.BINARY: b"data: \xff\xfe\x00\x9c\x81garbage\xc3\x28\n\n",
    Fault.WRONG_SHAPE: b'data: {"id": "chatcmpl-odd", "object": "chat.completion.chunk", "choices": "none"}'
    b"\n\n",
    Fault.ERROR_CHUNK: b'data: {"error": {"message": "The model overloaded mid-stream",'
    b' "type": "server_error"}}\n\n',
}


def _split(text: str, pieces: int) -> list[str]:
    if not text:
        return [""]
    size = max(1, -(-len(text) // max(1, pieces)))
    return [text[i : i + size] for i in range(0, len(text), size)]


@dataclass
class FakeOpenAI:
    turns: Sequence[Turn]
    model: str = "gpt-4o-mini"
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._pending = list(self.turns)
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def remaining_turns(self) -> int:
        return len(self._pending)

    async def start(self) -> FakeOpenAI:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner, self._port = await serve_on_loopback(app)
        return self

    async def stop(self) -> None:
        self._stopping.set()  # releases hanging handlers first, so cleanup does not wait on them
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAI:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(RecordedRequest(request.path, dict(request.headers), body))
        if not self._pending:
            return self._error(400, "fake server: no scripted turn left for this request")
        turn = self._pending.pop(0)
        if not body.get("stream"):
            return self._error(400, "fake server: only stream=true is scripted")
        if turn.fault is Fault.HANG:
            await self._stopping.wait()
            return self._error(503, "fake server stopped")
        if turn.fault is Fault.HTTP_500:
            return self._error(500, "The server had an error while processing your request.")
        return await self._stream(request, body, turn, len(self.requests))

    def _error(self, status: int, message: str) -> web.Response:
        error = {"message": message, "type": "server_error" if status >= 500 else "invalid_request_error"}
        return web.json_response({"error": {**error, "param": None, "code": None}}, status=status)

    async def _stream(
        self, request: web.Request, body: dict[str, Any], turn: Turn, number: int
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        completion_id = f"chatcmpl-fake{number}"

        async def send(delta: dict[str, Any], finish: str | None = None) -> None:
            chunk = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": _CREATED,
                "model": self.model,
                "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            await response.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")

        await send({"role": "assistant", "content": "", "refusal": None})
        for piece in turn.text:
            await send({"content": piece})
        if turn.fault in _MID_STREAM_JUNK:
            await response.write(_MID_STREAM_JUNK[turn.fault])
            await response.write_eof()
            return response
        if turn.fault is Fault.DROP:
            assert request.transport is not None
            request.transport.close()
            return response
        if turn.fault is Fault.STALL:
            await self._stopping.wait()
            return response
        for index, call in enumerate(turn.tool_calls):
            call_id = call.call_id or f"call_fake{number}_{index}"
            first = {
                "index": index,
                "id": call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            await send({"tool_calls": [first]})
            for piece in _split(call.argument_text(), call.pieces):
                await send({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        await send({}, "tool_calls" if turn.tool_calls else "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
            chunk = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": _CREATED,
                "model": self.model,
                "choices": [],
                "usage": usage,
            }
            await response.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
