"""The store owner SIGKILLed under edits: Ray restarts it, every commit is retried until it is
acknowledged, and each session's commit loop logs the outage once, without a traceback."""

from __future__ import annotations

import os
import signal
from collections.abc import Awaitable, Callable

import pytest
import ray

from actors.store.service import STORE_ACTOR_NAME

from ..harness import Gateway, wait_until
from ..hocus_client import HocusClient
from ..ray_logs import log_text, ray_logs

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

MakeGateway = Callable[..., Awaitable[Gateway]]
SESSIONS = 2
EDITS_WHILE_AWAY = 3


async def test_a_killed_store_owner_is_one_warning_per_commit_loop_and_no_traceback(
    make_gateway: MakeGateway,
) -> None:
    gw = await make_gateway(hosts=1)
    sessions = [await gw.create() for _ in range(SESSIONS)]
    store = ray.get_actor(STORE_ACTOR_NAME, namespace=gw.settings.actors.namespace)
    store_pid = int((await store.stats.remote())["pid"])
    async with HocusClient(f"{gw.ws_url}/ws") as editor:
        for sid in sessions:
            await editor.open(sid)
            await editor.insert(sid, "before ")
            await editor.wait_statuses(sid, 2)
        hosts = {await gw.host_pid(sid) for sid in sessions}
        logs = ray_logs(hosts)
        assert logs, "no log files found for the host processes"
        offsets = {path: path.stat().st_size for path in logs}

        os.kill(store_pid, signal.SIGKILL)
        for n in range(EDITS_WHILE_AWAY):
            for sid in sessions:
                await editor.insert(sid, f"e{n} ")
        # Every edit made while the store owner was away is acknowledged once it is back.
        for sid in sessions:
            assert await editor.wait_statuses(sid, 2 + EDITS_WHILE_AWAY, timeout=90) == [1] * (
                2 + EDITS_WHILE_AWAY
            )
        # And each session's commit loop has said so (the warnings are written by now).
        await wait_until(
            lambda: "".join(log_text(logs, offsets).values()),
            lambda text: text.count("commit failed") >= 1,
            timeout=30,
        )
    assert int((await store.stats.remote())["pid"]) != store_pid  # it was restarted
    logged = "".join(log_text(logs, offsets).values())
    assert "Traceback" not in logged, logged
    # One warning per commit loop for the whole outage (never one per retry).
    warnings = [line for line in logged.splitlines() if "failed" in line]
    assert 1 <= len(warnings) <= SESSIONS, logged
    for sid in sessions:
        stored = await gw.load(sid)
        assert stored is not None, sid
        assert stored.updates, sid
