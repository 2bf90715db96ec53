"""Reading Server-Sent Events from an aiohttp response, as a browser's EventSource would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

__all__ = ["SseEvent", "read_events"]


@dataclass(frozen=True, slots=True)
class SseEvent:
    event: str
    data: str
    id: str | None

    def json(self) -> Any:
        return orjson.loads(self.data)


async def read_events(response: aiohttp.ClientResponse) -> AsyncIterator[SseEvent]:
    """Each dispatched event in order (comments such as heartbeats are skipped)."""
    event, data, event_id = "message", [], None
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if not line:
            if data:
                yield SseEvent(event, "\n".join(data), event_id)
            event, data, event_id = "message", [], None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            event_id = value
