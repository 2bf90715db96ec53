"""One REST agent: posts ``set_prop`` ops carrying a timestamp marker at a set rate.

Each op's value is a marker, so the editors connected to the session measure how long an
agent's op takes to reach them; the agent itself measures the HTTP round trip (atelier
answers only after the change is committed). Requests are closed-loop per agent (one in
flight), paced by the same open-loop schedule as editors: lateness shows up as send lag.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import orjson

from ..markers import encode_marker
from .client import SendBudget
from .plan import AgentPlan, StepPlan
from .recorder import Recorder

__all__ = ["RestAgent", "ops_body"]

_HEADERS = {"Content-Type": "application/json"}


def ops_body(element: str, prop: str, value: str, agent_id: str) -> bytes:
    ops: list[dict[str, Any]] = [{"op": "set_prop", "key": element, "prop": prop, "value": value}]
    return orjson.dumps({"ops": ops, "agentId": agent_id})


class RestAgent:
    def __init__(
        self, plan: AgentPlan, http: aiohttp.ClientSession, recorder: Recorder, timeout: float
    ) -> None:
        self.plan = plan
        self.cid = plan.cid
        self._http = http
        self._recorder = recorder
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.seq = 0
        self._headers = dict(_HEADERS)
        if plan.token:
            self._headers["Authorization"] = f"Bearer {plan.token}"

    async def send_loop(self, step: StepPlan, budget: SendBudget, phase: float) -> None:
        if step.agent_rate <= 0:
            return
        interval_ns = int(1e9 / step.agent_rate)
        due = step.start_ns + int(phase * interval_ns)
        end = step.start_ns + int(step.duration * 1e9)
        recorder = self._recorder
        prop = f"a{self.cid}"
        agent_id = f"bench-agent-{self.cid}"
        while due < end:
            now = time.monotonic_ns()
            if due > now:
                await asyncio.sleep((due - now) / 1e9)
                now = time.monotonic_ns()
            if not budget.take():
                break
            marker = encode_marker(step.step, self.cid, self.seq, now)
            self.seq += 1
            body = ops_body(self.plan.element, prop, marker, agent_id)
            try:
                async with self._http.post(
                    self.plan.ops_url, data=body, headers=self._headers, timeout=self._timeout
                ) as response:
                    payload = await response.read()
                    status = response.status
            except (TimeoutError, aiohttp.ClientError) as exc:
                recorder.error(f"agent {self.cid}: request failed: {exc!r}")
                due += interval_ns
                continue
            recorder.http(time.monotonic_ns() - now)
            problem = _problem(status, payload)
            if problem is None:
                recorder.sent(self.cid, now, now - due)
            else:
                recorder.error(f"agent {self.cid}: {problem}")
            due += interval_ns


def _problem(status: int, payload: bytes) -> str | None:
    """Why an ops response is not a full success, or None."""
    if status != 200:
        return f"HTTP {status}: {payload[:200]!r}"
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return f"response is not JSON: {payload[:200]!r}"
    if not isinstance(data, dict) or data.get("ok") is not True:
        return f"response not ok: {payload[:200]!r}"
    if data.get("errors"):
        return f"ops rejected: {data['errors']!r}"[:300]
    return None
