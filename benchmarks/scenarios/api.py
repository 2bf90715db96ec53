"""stages, runs and mixed: the design-engine and workspace APIs under load (atelier only).

- ``stages``: N users each drive design flows (requirements, then BOM, over SSE) back to back;
  ``stages-rejoin`` is the same with every stream dropped after a few events and rejoined with
  ``Last-Event-ID`` (events lost and duplicated are counted: both must be 0).
- ``runs``: M users submit workspace runs to their own session at a set rate, a share of them
  attaching a READY file uploaded beforehand (not measured); quota refusals are counted.
- ``mixed``: editors typing in rooms, agents posting ops, stage users and run users at once.

The users run in the load workers (``loadgen/api.py``) like editors, so ``--workers`` and
``--ray-address`` spread them the same way. Setup (projects, sessions, files) is done here.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import aiohttp
import orjson

from ..config import MixedOptions, RunsOptions, StagesOptions
from ..loadgen.plan import AGENT_BASE, AgentPlan, ApiUserPlan, StepPlan
from ..report.model import RunResult
from ..targets.servers import BENCH_ELEMENT
from .common import RunContext, SkipRun, editor_plans, measure_step, running_pool, step_start, worker_plans

__all__ = [
    "API_BASE",
    "mixed_budget",
    "run_mixed",
    "run_runs",
    "run_stages",
    "runs_budget",
    "stages_budget",
]

# API users' ids start here (editors count from 0, agents from AGENT_BASE).
API_BASE = 2_000_000
_FILE_TEXT = b"# Bench notes\nHypothesis: a lighter frame carries the same load.\n"
_READY_TIMEOUT = 60.0
# Seconds a design flow may take on a loaded 2-core machine (a hard bound, never hit when healthy).
_FLOW_ALLOWANCE = 30.0


def stages_budget(options: StagesOptions, drain: float, connect: float) -> float:
    per_user = options.flows * _FLOW_ALLOWANCE
    return connect + per_user * max(1.0, options.users / 4) + drain + 120.0


def runs_budget(options: RunsOptions, drain: float, connect: float) -> float:
    return connect + options.users * 5.0 + options.duration * 3 + drain + 120.0


def mixed_budget(options: MixedOptions, drain: float, connect: float) -> float:
    return connect + options.run_users * 5.0 + options.duration * 3 + _FLOW_ALLOWANCE + drain + 120.0


def _require_api(ctx: RunContext) -> None:
    info = ctx.server.target.info
    if not info.api:
        raise SkipRun(f"{info.title} has no design-engine or workspace API")


class _Setup:
    """Projects, sessions and READY files, created over REST before the measured step."""

    def __init__(self, ctx: RunContext) -> None:
        self._base = ctx.server.base_url.rstrip("/")
        self._ctx = ctx
        self._timeout = aiohttp.ClientTimeout(total=60)

    async def _call(self, http: aiohttp.ClientSession, method: str, path: str, token: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with http.request(
            method, self._base + path, headers=headers, timeout=self._timeout, **kw
        ) as response:
            body = await response.read()
            if response.status not in (200, 201):
                raise aiohttp.ClientResponseError(
                    response.request_info,
                    (),
                    status=response.status,
                    message=f"{method} {path}: {body[:200]!r}",
                )
            return orjson.loads(body)

    async def run_user(self, http: aiohttp.ClientSession, user: int, with_file: bool) -> tuple[str, str]:
        """(workspace session id, READY file id or "") for one run user."""
        token = self._ctx.server.token_for(user)
        project = await self._call(
            http, "POST", "/api/v1/projects", token, json={"name": f"bench {user}", "fiscalYear": "2025"}
        )
        project_id = str(project["project"]["id"])
        session = await self._call(
            http,
            "POST",
            f"/api/v1/projects/{project_id}/sessions",
            token,
            json={"type": "T661", "title": "bench"},
        )
        if not with_file:
            return str(session["session"]["id"]), ""
        form = aiohttp.FormData()
        form.add_field("file", _FILE_TEXT, filename="notes.md", content_type="text/markdown")
        uploaded = await self._call(http, "POST", f"/api/v1/projects/{project_id}/files", token, data=form)
        file_id = str(uploaded["file"]["id"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _READY_TIMEOUT
        while True:
            record = (await self._call(http, "GET", f"/api/v1/files/{file_id}", token))["file"]
            if record["status"] == "READY":
                return str(session["session"]["id"]), file_id
            if record["status"] == "FAILED" or loop.time() > deadline:
                raise aiohttp.ClientError(
                    f"file {file_id} never READY: {record.get('status')} {record.get('reason')}"
                )
            await asyncio.sleep(0.1)

    async def run_users(self, count: int, with_file: float, first_cid: int) -> list[ApiUserPlan]:
        files = round(count * with_file)
        plans: list[ApiUserPlan] = []
        async with aiohttp.ClientSession() as http:
            for index in range(count):
                cid = first_cid + index
                session, file_id = await self.run_user(http, cid, index < files)
                plans.append(
                    ApiUserPlan(cid, "runs", self._base, self._ctx.server.token_for(cid), session, file_id)
                )
        return plans


def stage_users(ctx: RunContext, count: int, first_cid: int, drop_after: int) -> list[ApiUserPlan]:
    base = ctx.server.base_url.rstrip("/")
    return [
        ApiUserPlan(first_cid + i, "stages", base, ctx.server.token_for(first_cid + i), drop_after=drop_after)
        for i in range(count)
    ]


async def _api_step(
    ctx: RunContext,
    result: RunResult,
    users: list[ApiUserPlan],
    step: StepPlan,
    budget: float,
    senders: int,
    offered: float,
) -> None:
    plans = worker_plans(
        ctx, [], api_users=users, lifetime=budget + 30.0, workers=min(ctx.run.workers, len(users))
    )
    async with running_pool(ctx, plans) as (pool, ready):
        result.sync = ready.sync
        await ctx.memory.mark("loaded")
        result.steps.append(
            await measure_step(
                ctx, pool, step, senders=senders, offered_rate=offered, drain=ctx.run.drain_timeout
            )
        )


async def run_stages(ctx: RunContext, options: StagesOptions, result: RunResult) -> None:
    _require_api(ctx)
    users = stage_users(ctx, options.users, API_BASE, options.drop_after)
    budget = stages_budget(options, ctx.run.drain_timeout, ctx.run.connect_timeout)
    step = StepPlan(step=0, start_ns=step_start(), duration=budget, client_rate=0.0, api_count=options.flows)
    await _api_step(ctx, result, users, step, budget, options.users, 0.0)
    result.params.update(users=options.users, flows=options.flows, drop_after=options.drop_after)


async def run_runs(ctx: RunContext, options: RunsOptions, result: RunResult) -> None:
    _require_api(ctx)
    ctx.progress.phase(f"creating {options.users} projects and sessions")
    users = await _Setup(ctx).run_users(options.users, options.with_file, API_BASE)
    budget = runs_budget(options, ctx.run.drain_timeout, ctx.run.connect_timeout)
    step = StepPlan(
        step=0, start_ns=step_start(), duration=options.duration, client_rate=0.0, api_rate=options.rate
    )
    await _api_step(ctx, result, users, step, budget, options.users, options.users * options.rate)
    result.params.update(
        users=options.users,
        rate=options.rate,
        duration=options.duration,
        with_file=options.with_file,
        file_users=sum(1 for u in users if u.file_id),
    )


async def run_mixed(ctx: RunContext, options: MixedOptions, result: RunResult) -> None:
    _require_api(ctx)
    budget = mixed_budget(options, ctx.run.drain_timeout, ctx.run.connect_timeout)
    rooms = math.ceil(options.editors / options.room_size)
    ctx.progress.phase(f"creating {rooms} documents, {options.run_users} workspace sessions")
    documents = await ctx.server.create_documents(rooms, with_element=True)
    clients = editor_plans(ctx, documents, options.room_size, options.editors)
    agents = [
        AgentPlan(
            cid=AGENT_BASE + i,
            room=i % rooms,
            ops_url=ctx.server.ops_url(documents[i % rooms]),
            element=BENCH_ELEMENT,
            token=ctx.server.token_for(0),
        )
        for i in range(options.agents)
    ]
    users = stage_users(ctx, options.stage_users, API_BASE, 0)
    users += await _Setup(ctx).run_users(options.run_users, 0.5, API_BASE + options.stage_users)
    plans = worker_plans(ctx, clients, agents, api_users=users, lifetime=budget + 30.0)
    # Stage users run flows back to back for the duration; run users submit at run_rate.
    step = StepPlan(
        step=0,
        start_ns=step_start(),
        duration=options.duration,
        client_rate=options.editor_rate,
        agent_rate=options.agent_rate,
        api_rate=options.run_rate,
        max_updates=math.ceil(options.total_updates() * 1.05) + options.editors + options.agents,
    )
    offered = options.editors * options.editor_rate + options.agents * options.agent_rate
    async with running_pool(ctx, plans) as (pool, ready):
        result.sync = ready.sync
        await ctx.memory.mark("loaded")
        result.steps.append(
            await measure_step(
                ctx,
                pool,
                step,
                senders=options.editors + options.agents + len(users),
                offered_rate=offered,
                drain=ctx.run.drain_timeout,
            )
        )
    result.params.update(
        duration=options.duration,
        editors=options.editors,
        room_size=options.room_size,
        editor_rate=options.editor_rate,
        agents=options.agents,
        agent_rate=options.agent_rate,
        stage_users=options.stage_users,
        run_users=options.run_users,
        run_rate=options.run_rate,
    )
