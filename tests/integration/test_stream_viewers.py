"""Many viewers of one run, through the real cluster client: none cuts another off.

Every stream rides its gateway's one link to the session's host, keyed there by its own
id: a design run watched by a POST stream, joiners, a viewer that leaves early and a
viewer on a second gateway, and a workspace run watched twice on one gateway and once
on another, each get every event exactly once and their end.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import pytest

from actors.client import StageEventStream, StreamEnd
from actors.llm.settings import LlmSettings
from actors.workspace.settings import AgentSettings, WorkspaceSettings

from ..harness import Gateway, bearer, wait_until
from ..sse import SseEvent, read_events
from .test_design_engine import create_session
from .test_workspace_api import _project, _session

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

MakeGateway = Callable[..., Awaitable[Gateway]]

# Seconds a viewer may take for a whole run before it counts as cut off (a bound, not a
# measurement: a run takes a few seconds here).
VIEWER_BOUND = 120.0
USER = "ada"


async def _two_gateways(make_gateway: MakeGateway, **overrides: Any) -> tuple[Gateway, Gateway]:
    """Two gateways of one cluster: the same namespace (placement, store, hosts) and data."""
    namespace = f"viewers-{uuid.uuid4().hex[:8]}"
    a = await make_gateway(namespace=namespace, **overrides)
    b = await make_gateway(namespace=namespace, **overrides)
    return a, b


async def _open(
    stack: AsyncExitStack, gw: Gateway, method: str, path: str, **kw: Any
) -> aiohttp.ClientResponse:
    assert gw.http is not None
    headers = {**bearer(USER), **kw.pop("headers", {})}
    response = await stack.enter_async_context(gw.http.request(method, path, headers=headers, **kw))
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return response


async def _start_design_run(
    stack: AsyncExitStack, gw: Gateway
) -> tuple[str, AsyncIterator[SseEvent], SseEvent]:
    """A new design session's requirements run, started by a POST stream read to its first event."""
    sid = await create_session(gw, USER, "A weighted desk lamp")
    path = f"/api/design-engine/sessions/{sid}/stream"
    events = read_events(await _open(stack, gw, "POST", path, json={"action": "start_requirements"}))
    first = await anext(events)
    assert first.event == "stage_event", first
    return path, events, first


async def _drain(events: AsyncIterator[SseEvent], seen: list[SseEvent]) -> list[SseEvent]:
    """The rest of an SSE stream after ``seen``, within the bound (a cut stream times out)."""

    async def rest() -> None:
        async for event in events:
            seen.append(event)

    try:
        await asyncio.wait_for(rest(), VIEWER_BOUND)
    except TimeoutError:
        seen.append(SseEvent("timed-out", "", None))
    return seen


def _ids(events: list[SseEvent], name: str) -> list[int]:
    return [int(e.id) for e in events if e.event == name and e.id is not None]


def _check_viewer(label: str, events: list[SseEvent], name: str, expected: list[int]) -> None:
    got = _ids(events, name)
    assert got == expected, f"{label}: got ids {got}, expected {expected}; last {events[-1:]}"
    assert events[-1].event == "done", f"{label} did not end with done: {events[-3:]}"


async def test_design_run_viewers_on_one_link_and_on_a_second_gateway(make_gateway: MakeGateway) -> None:
    # Paced so the run is still going when the joiners arrive.
    a, b = await _two_gateways(make_gateway, llm=LlmSettings(offline_delay=0.15))
    async with AsyncExitStack() as stack:
        path, starter_events, first = await _start_design_run(stack, a)
        # Joiners after the first event: two on the starter's gateway (its link to the
        # host), one more there that leaves after one event, one on the second gateway.
        joiners = [await _open(stack, gw, "GET", path) for gw in (a, a, a, b)]
        leaver = read_events(joiners[2])
        left_after = await anext(leaver)
        await joiners[2].release()
        streams = [_drain(starter_events, [first])] + [
            _drain(read_events(r), []) for i, r in enumerate(joiners) if i != 2
        ]
        starter_seen, a1, a2, b1 = await asyncio.gather(*streams)
    assert left_after.event == "stage_event"
    # Every event of the run, as the session's log holds them (the run is over now).
    async with AsyncExitStack() as stack:
        everything = [e async for e in read_events(await _open(stack, a, "GET", path))]
    expected = _ids(everything, "stage_event")
    assert expected == list(range(expected[0], expected[0] + len(expected))), expected
    assert everything[-1].event == "done"
    assert len(expected) > 2  # a real run, not an empty one
    for label, seen in [("POST starter", starter_seen), ("GET a#1", a1), ("GET a#2", a2), ("GET b", b1)]:
        _check_viewer(label, seen, "stage_event", expected)


async def _follow_run(stream: StageEventStream, run_id: str) -> tuple[list[int], str]:
    """A client-level viewer of a run: ids of its events, and how it ended."""
    ids: list[int] = []
    try:
        for event in stream.replay:
            ids.append(event.id)
            if event.terminal and event.run_id == run_id:
                return ids, "terminal"

        async def live() -> str:
            async for item in stream.events():
                if isinstance(item, StreamEnd):
                    return f"cut: {item.name}"
                for event in item:
                    ids.append(event.id)
                    if event.terminal and event.run_id == run_id:
                        return "terminal"
            return "ended without a reason"

        try:
            return ids, await asyncio.wait_for(live(), VIEWER_BOUND)
        except TimeoutError:
            return ids, "timed out"
    finally:
        await stream.close()


async def test_workspace_run_viewers_on_one_link_and_on_a_second_gateway(make_gateway: MakeGateway) -> None:
    paced = WorkspaceSettings(agent=AgentSettings(offline_delay=0.2))
    a, b = await _two_gateways(make_gateway, workspace=paced)
    session = await _session(a, USER, await _project(a, USER))
    async with AsyncExitStack() as stack:
        runner = await _open(
            stack,
            a,
            "POST",
            f"/api/v1/sessions/{session}/runs",
            headers={"Accept": "text/event-stream"},
            json={"type": "T661", "input": "a long answer please"},
        )
        runner_events = read_events(runner)
        first = await anext(runner_events)
        assert first.event == "run_event", first
        # The live run's id, as a second run refused while it goes on names it.
        status, busy = await a.request(
            "POST",
            f"/api/v1/sessions/{session}/runs",
            headers=bearer(USER),
            json={"type": "T661", "input": "x"},
        )
        assert status == 409, busy
        run_id = str(busy["runId"])
        # A second viewer of the run on the same gateway (its link), one on the other.
        viewers = [await gw.sessions.run_events(USER, session, run_id) for gw in (a, b)]
        draining = asyncio.ensure_future(_drain(runner_events, [first]))
        (a_ids, a_end), (b_ids, b_end) = await asyncio.gather(*(_follow_run(v, run_id) for v in viewers))
        runner_seen = await draining
    expected = _ids(runner_seen, "run_event")
    assert runner_seen[-1].event == "done", f"POST runner did not end with done: {runner_seen[-3:]}"
    assert len(expected) > 2, expected
    assert expected == list(range(expected[0], expected[0] + len(expected))), expected
    assert runner_seen[-2].json()["type"] == "result", runner_seen[-3:]
    assert (a_end, a_ids) == ("terminal", expected), "second viewer on gateway a"
    assert (b_end, b_ids) == ("terminal", expected), "viewer on gateway b"


async def test_a_stream_past_the_sessions_limit_is_refused_and_the_others_go_on(
    make_gateway: MakeGateway,
) -> None:
    gw = await make_gateway(llm=LlmSettings(offline_delay=0.15), max_streams_per_session=2)
    async with AsyncExitStack() as stack:
        path, starter_events, first = await _start_design_run(stack, gw)
        joiner = await _open(stack, gw, "GET", path)
        status, refused = await gw.request("GET", path, headers=bearer(USER))
        assert status == 429, refused
        assert refused["code"] == "limit_exceeded"
        assert refused["limit"] == {"setting": "ATELIER_MAX_STREAMS_PER_SESSION", "value": 2}
        starter_seen, joined = await asyncio.gather(
            _drain(starter_events, [first]), _drain(read_events(joiner), [])
        )
    expected = _ids(starter_seen, "stage_event")
    _check_viewer("POST starter", starter_seen, "stage_event", expected)
    _check_viewer("GET joiner", joined, "stage_event", list(range(1, expected[-1] + 1)))

    async def rejoin() -> tuple[int, list[SseEvent]]:
        assert gw.http is not None
        async with gw.http.get(path, headers=bearer(USER)) as response:
            if response.status != 200:
                return response.status, []
            return 200, [e async for e in read_events(response)]

    # The two streams' slots come back once the host has heard they closed.
    def rejoined(got: tuple[int, list[SseEvent]]) -> bool:
        return got[0] == 200

    _, events = await wait_until(rejoin, rejoined)
    assert events[-1].event == "done"
