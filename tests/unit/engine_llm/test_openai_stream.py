"""Chunk reading and tool-call assembly by value (no sockets)."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.chat import ChatCompletionChunk

from actors.llm.openai_stream import (
    AssembledCall,
    ChunkParts,
    StreamProtocolError,
    ToolCallAssembler,
    ToolCallDelta,
    read_chunk,
)


def _chunk(delta: dict[str, Any] | None, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def test_reads_sdk_chunks_and_plain_dicts_alike() -> None:
    raw = _chunk(
        {
            "content": "Hi",
            "tool_calls": [
                {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}
            ],
        }
    )
    expected = ChunkParts("Hi", (ToolCallDelta(0, "call_1", "f", ""),), None)
    assert read_chunk(raw) == expected
    assert read_chunk(ChatCompletionChunk.model_validate(raw)) == expected
    assert read_chunk(_chunk({}, "stop")) == ChunkParts(finish_reason="stop")
    assert read_chunk(_chunk(None, "stop")) == ChunkParts(finish_reason="stop")
    assert read_chunk({"choices": [], "usage": {"total_tokens": 3}}) == ChunkParts()


@pytest.mark.parametrize(
    ("chunk", "message"),
    [
        ({"id": "x"}, "no 'choices' list"),
        (_chunk({"content": 5}), "delta.content must be a string"),
        (_chunk({"tool_calls": {"index": 0}}), "must be a list"),
        (_chunk({"tool_calls": [{"function": {"name": "f"}}]}), "no valid 'index'"),
        (_chunk({"tool_calls": [{"index": 0, "function": {"arguments": 3}}]}), "function.arguments"),
    ],
)
def test_malformed_chunks(chunk: dict[str, Any], message: str) -> None:
    with pytest.raises(StreamProtocolError, match=message):
        read_chunk(chunk)


def test_assembles_interleaved_calls_in_index_order() -> None:
    assembler = ToolCallAssembler(max_calls=4, max_argument_chars=1000)
    for delta in [
        ToolCallDelta(1, "call_b", "search_items", ""),
        ToolCallDelta(0, "call_a", "propose_", None),
        ToolCallDelta(0, None, "bom", '{"root'),
        ToolCallDelta(1, None, None, '{"query": "M6"}'),
        ToolCallDelta(0, None, None, 'Assembly": {}}'),
    ]:
        assembler.feed(delta)
    assert bool(assembler)
    assert assembler.finish(fallback_id_prefix="x_") == [
        AssembledCall("call_a", "propose_bom", '{"rootAssembly": {}}'),
        AssembledCall("call_b", "search_items", '{"query": "M6"}'),
    ]


def test_missing_ids_get_fallbacks_and_missing_names_fail() -> None:
    assembler = ToolCallAssembler(max_calls=2, max_argument_chars=100)
    assembler.feed(ToolCallDelta(0, None, "f", "{}"))
    assert assembler.finish(fallback_id_prefix="call_3_") == [AssembledCall("call_3_0", "f", "{}")]
    nameless = ToolCallAssembler(max_calls=2, max_argument_chars=100)
    nameless.feed(ToolCallDelta(0, "c", None, "{}"))
    with pytest.raises(StreamProtocolError, match="no function name"):
        nameless.finish(fallback_id_prefix="x")
    assert not ToolCallAssembler(max_calls=1, max_argument_chars=1).finish(fallback_id_prefix="x")


def test_bounds() -> None:
    assembler = ToolCallAssembler(max_calls=1, max_argument_chars=5)
    assembler.feed(ToolCallDelta(0, "c", "f", '{"a"'))
    assembler.feed(ToolCallDelta(0, None, None, ": 1}"))
    assert assembler.finish(fallback_id_prefix="x") == [AssembledCall("c", "f", "", overflow=True)]
    with pytest.raises(StreamProtocolError, match="more than 1 tool calls"):
        assembler.feed(ToolCallDelta(1, "d", "g", "{}"))
