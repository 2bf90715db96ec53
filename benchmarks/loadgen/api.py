"""Users of the design-engine and workspace APIs, as a load worker runs them.

- ``StageUser`` drives design sessions through requirements and BOM, back to back: create the
  session, ``start_requirements`` (SSE), ``confirm_requirements``, ``start_bom`` (SSE),
  ``confirm_bom``. Per stage it records the time to the first event, each event's time from
  the request to the wire (the spec's events carry no server timestamp: with the offline
  provider the drafting itself is near-instant, so this is the server's own pipeline: the
  durable event log, the host, the gateway), the stage duration (request → ``done``) and the
  events. With ``drop_after`` it closes each stream after that many events, rejoins with
  ``GET .../stream`` and ``Last-Event-ID``, and then compares what it saw against a full
  replay of the run: events lost and events duplicated are counted (both must be 0).
- ``RunUser`` submits workspace runs to its session on a schedule (one in flight) and records
  the run latency (request → JSON answer), split by runs with and without an attached file;
  HTTP 429 is a quota refusal, counted apart from errors.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from .plan import ApiUserPlan, StepPlan
from .recorder import Recorder

__all__ = ["RunUser", "SseEvent", "StageUser", "iter_sse", "make_api_user"]

_ENGINE = "/api/design-engine/sessions"
_STAGES = (("start_requirements", "confirm_requirements"), ("start_bom", "confirm_bom"))


@dataclass(slots=True)
class SseEvent:
    event: str = "message"
    id: str | None = None
    data: list[str] = field(default_factory=list)


async def iter_sse(response: aiohttp.ClientResponse) -> Any:
    """Events of a text/event-stream response, as they arrive (comments skipped)."""
    current = SseEvent()
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if not line:
            if current.data or current.id is not None:
                yield current
            current = SseEvent()
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            current.event = value
        elif name == "id":
            current.id = value
        elif name == "data":
            current.data.append(value)


class _StageFailed(Exception):
    pass


class _ApiUser:
    paced = True  # runs follow the step's api_rate; design flows go back to back

    def __init__(
        self, plan: ApiUserPlan, http: aiohttp.ClientSession, recorder: Recorder, timeout: float
    ) -> None:
        self.plan = plan
        self.cid = plan.cid
        self._http = http
        self._recorder = recorder
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._headers = {"Content-Type": "application/json"}
        if plan.token:
            self._headers["Authorization"] = f"Bearer {plan.token}"

    def _url(self, path: str) -> str:
        return self.plan.base_url.rstrip("/") + path

    async def _json(self, method: str, path: str, body: Any | None = None) -> tuple[int, Any]:
        data = None if body is None else orjson.dumps(body)
        async with self._http.request(
            method, self._url(path), data=data, headers=self._headers, timeout=self._timeout
        ) as response:
            payload = await response.read()
            try:
                return response.status, orjson.loads(payload) if payload else None
            except orjson.JSONDecodeError:
                return response.status, payload[:200]

    async def loop(self, step: StepPlan, phase: float) -> None:
        end = step.start_ns + int(step.duration * 1e9)
        interval_ns = int(1e9 / step.api_rate) if step.api_rate > 0 and self.paced else 0
        due = step.start_ns + int(phase * (interval_ns or 1e8))
        done = 0
        while (done < step.api_count) if step.api_count else (due < end):
            now = time.monotonic_ns()
            if due > now:
                await asyncio.sleep((due - now) / 1e9)
            await self.once(step)
            done += 1
            due = due + interval_ns if interval_ns else time.monotonic_ns()

    async def once(self, step: StepPlan) -> None:
        raise NotImplementedError


class StageUser(_ApiUser):
    paced = False
    _program = ""  # the user's own program, created with its first flow

    async def _program_id(self) -> str:
        if not self._program:
            status, body = await self._json("POST", "/api/programs", {"name": f"bench program {self.cid}"})
            if status != 201:
                raise _StageFailed(f"create program: HTTP {status}: {body!r:.200}")
            self._program = str(body["data"]["program"]["id"])
        return self._program

    async def once(self, step: StepPlan) -> None:
        recorder = self._recorder
        try:
            status, body = await self._json(
                "POST",
                _ENGINE,
                {"description": f"Design a bench trolley #{self.cid}", "programId": await self._program_id()},
            )
            if status != 201:
                raise _StageFailed(f"create session: HTTP {status}: {body!r:.200}")
            session = str(body["data"]["session"]["id"])
            for start, confirm in _STAGES:
                await self._stage(session, start)
                status, body = await self._json("POST", f"{_ENGINE}/{session}/stream", {"action": confirm})
                if status != 200:
                    raise _StageFailed(f"{confirm}: HTTP {status}: {body!r:.200}")
            recorder.count("flows")
        except _StageFailed as exc:
            recorder.error(f"stage user {self.cid}: {exc}")
        except (TimeoutError, aiohttp.ClientError, KeyError, TypeError) as exc:
            recorder.error(f"stage user {self.cid}: request failed: {exc!r}")

    async def _stage(self, session: str, action: str) -> None:
        recorder = self._recorder
        path = f"{_ENGINE}/{session}/stream"
        headers = {**self._headers, "Accept": "text/event-stream"}
        began = time.monotonic_ns()
        seen: list[int] = []
        outcome: list[str] = []
        async with self._http.post(
            self._url(path), data=orjson.dumps({"action": action}), headers=headers, timeout=self._timeout
        ) as response:
            if response.status != 200 or "event-stream" not in response.headers.get("Content-Type", ""):
                raise _StageFailed(f"{action}: HTTP {response.status}: {(await response.read())[:200]!r}")
            finished = await self._read(response, began, seen, outcome, self.plan.drop_after)
            if not finished:
                response.close()  # the client drops: the run goes on in its session
        if not finished:  # dropped on purpose: rejoin after the last event seen
            recorder.count("rejoins")
            async with self._http.get(
                self._url(path),
                headers={**headers, "Last-Event-ID": str(seen[-1]) if seen else "0"},
                timeout=self._timeout,
            ) as response:
                if response.status != 200:
                    raise _StageFailed(f"rejoin: HTTP {response.status}")
                finished = await self._read(response, began, seen, outcome, 0)
        if not finished:
            raise _StageFailed(f"{action}: stream ended without done")
        recorder.observe("stage_duration", time.monotonic_ns() - began)
        recorder.count("stages")
        if outcome[-1:] != ["stage_complete"]:
            raise _StageFailed(f"{action}: run ended with {outcome[-1:] or 'no terminal event'}")
        if self.plan.drop_after:
            await self._check_replay(path, headers, seen)

    async def _read(
        self,
        response: aiohttp.ClientResponse,
        began: int,
        seen: list[int],
        outcome: list[str],
        drop_after: int,
    ) -> bool:
        """Read until ``done`` (True) or, with ``drop_after``, until that many events (False)."""
        recorder = self._recorder
        fresh = 0
        async for event in iter_sse(response):
            now = time.monotonic_ns()
            if event.event == "done":
                return True
            if event.event != "stage_event" or event.id is None:
                continue
            if not seen:
                recorder.observe("first_event", now - began)
            recorder.observe("event_latency", now - began)
            recorder.count("events")
            seen.append(int(event.id))
            kind = orjson.loads("\n".join(event.data)).get("type", "")
            if kind in ("stage_complete", "error", "paused"):
                outcome.append(str(kind))
            fresh += 1
            if drop_after and fresh >= drop_after:
                return False
        return False

    async def _check_replay(self, path: str, headers: dict[str, str], seen: list[int]) -> None:
        """Every event of the run once: the client's ids against a full replay of the run."""
        async with self._http.get(
            self._url(path), headers={**headers, "Last-Event-ID": str(min(seen) - 1)}, timeout=self._timeout
        ) as response:
            replay = [int(e.id) async for e in iter_sse(response) if e.event == "stage_event" and e.id]
        counts = Counter(seen)
        self._recorder.count("events_lost", len(set(replay) - set(counts)))
        self._recorder.count("events_duplicated", sum(n - 1 for n in counts.values() if n > 1))


class RunUser(_ApiUser):
    async def once(self, step: StepPlan) -> None:
        recorder = self._recorder
        files = [self.plan.file_id] if self.plan.file_id else []
        body = {"type": "T661", "input": f"bench run by user {self.cid}", "selected_file_ids": files}
        began = time.monotonic_ns()
        try:
            status, payload = await self._json("POST", f"/api/v1/sessions/{self.plan.session_id}/runs", body)
        except (TimeoutError, aiohttp.ClientError) as exc:
            recorder.error(f"run user {self.cid}: request failed: {exc!r}")
            return
        took = time.monotonic_ns() - began
        recorder.count("runs_submitted")
        if status == 429:
            recorder.count("quota_refusals")
            return
        ok = (
            status == 200
            and isinstance(payload, dict)
            and payload.get("python", {}).get("status") == "succeeded"
        )
        if not ok:
            recorder.error(f"run user {self.cid}: HTTP {status}: {payload!r:.200}")
            return
        recorder.count("runs_ok")
        recorder.observe("run_latency", took)
        recorder.observe("run_latency_file" if files else "run_latency_plain", took)


def make_api_user(
    plan: ApiUserPlan, http: aiohttp.ClientSession, recorder: Recorder, timeout: float
) -> _ApiUser:
    if plan.kind == "stages":
        return StageUser(plan, http, recorder, timeout)
    if plan.kind == "runs":
        return RunUser(plan, http, recorder, timeout)
    raise ValueError(f"unknown API user kind {plan.kind!r}")
